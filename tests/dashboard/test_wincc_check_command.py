"""`manage.py wincc_check`: one line per finding, a summary per site, honest exit codes."""

from __future__ import annotations

import json
import os
import ssl
import subprocess
import sys
from pathlib import Path

import pytest

from tests.fixtures.simulator import Simulator, write_config
from tests.harness.processes import REPO

pytestmark = pytest.mark.process


def wincc_check(sim: Simulator, config: Path, *args: str,
                **secrets: str) -> subprocess.CompletedProcess:
    """The command's run with the simulator's secrets, or `secrets` in their place."""
    env = {**os.environ, **sim.env, **secrets, "WINCC_CONFIG": str(config),
           "DJANGO_SETTINGS_MODULE": "tests.settings"}
    return subprocess.run([sys.executable, "manage.py", "wincc_check", *args], cwd=REPO,
                          env=env, capture_output=True, text=True, timeout=120, check=False)


def test_all_good_is_exit_zero_with_a_summary_per_site(sim: Simulator, tmp_path):
    result = wincc_check(sim, write_config(sim, tmp_path / "wincc.json"))
    assert result.returncode == 0, result.stdout + result.stderr
    lines = result.stdout.splitlines()
    for site, dialect in (("oven-unified", "unified"), ("line-classic", "classic"),
                          ("utilities-restv1", "rest-v1")):
        assert f"site {site} ({dialect}, {sim.url})" in lines
    summaries = [line for line in lines if line.startswith("  summary: ")]
    assert len(summaries) == 3 and all("all good" in line for line in summaries)
    assert "  ok      tag         Tank_Level exists, data type float, quality good" in lines
    assert sim.requests_log() == []


def test_a_missing_tag_is_named_and_the_exit_code_is_one(sim: Simulator, tmp_path):
    path = write_config(sim, tmp_path / "wincc.json")
    data = json.loads(path.read_text())
    data["sites"][1]["tags"].append({"name": "Conveyor_Sped"})
    path.write_text(json.dumps(data))
    result = wincc_check(sim, path, "--site", "line-classic")
    assert result.returncode == 1, result.stdout + result.stderr
    lines = result.stdout.splitlines()
    assert lines[0] == f"site line-classic (classic, {sim.url})"
    assert any(line.startswith("  PROBLEM tag         Conveyor_Sped: missing or not readable "
                               "on the server (") for line in lines), lines
    assert lines[-1] == "  summary: 1 problem(s): tag Conveyor_Sped"
    report = json.loads(wincc_check(sim, path, "--site", "line-classic", "--json").stdout)
    assert report["ok"] is False
    assert [s["site"] for s in report["sites"]] == ["line-classic"]
    problems = [f for f in report["sites"][0]["findings"] if f["status"] == "problem"]
    assert [(f["check"], f["subject"]) for f in problems] == [("tag", "Conveyor_Sped")]


def test_a_server_that_is_down_and_a_wrong_password(sim: Simulator, tmp_path):
    path = write_config(sim, tmp_path / "wincc.json")
    sim.stop_listener()
    result = wincc_check(sim, path, "--site", "oven-unified")
    assert result.returncode == 1
    assert f"  PROBLEM reachable   not reachable: cannot connect to {sim.url}" in result.stdout
    sim.start_listener()
    result = wincc_check(sim, path, "--site", "line-classic", WINCC_SIM_RO_PASSWORD="wrong")
    assert result.returncode == 1
    assert "  PROBLEM login       login refused for user " in result.stdout


def test_a_ca_file_that_is_not_pem_stops_before_connecting(sim: Simulator, tmp_path):
    der = tmp_path / "wincc.der"
    der.write_bytes(ssl.PEM_cert_to_DER_cert(Path(sim.ca_file).read_text()))
    path = write_config(sim, tmp_path / "wincc.json")
    data = json.loads(path.read_text())
    data["sites"][0]["tls"]["ca_file"] = "wincc.der"
    path.write_text(json.dumps(data))
    result = wincc_check(sim, path)
    assert result.returncode == 2
    assert (f"$.sites[0].tls.ca_file: certificate file {der} is not a PEM certificate"
            in result.stderr)


def test_an_unknown_site_is_a_usage_error(sim: Simulator, tmp_path):
    result = wincc_check(sim, write_config(sim, tmp_path / "wincc.json"), "--site", "nowhere")
    assert result.returncode == 2
    assert "no site nowhere in the configuration; known sites: oven-unified, line-classic, " \
           "utilities-restv1" in result.stderr
