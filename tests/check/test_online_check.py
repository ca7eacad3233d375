"""The online check against the real simulator: what only the server can tell, read-only."""

from __future__ import annotations

import dataclasses
import json
import os
import ssl
from pathlib import Path
from unittest import mock

import pytest

from tests.fixtures.simulator import (
    Simulator,
    acknowledged_or_reset,
    start_simulator,
    wait_until,
    write_config,
)
from wincc_ingest.config import Config, load
from wincc_ingest.online_check import PROBLEM, SiteReport, check_site, check_sites, exit_code

# Every test talks to a simulator; one starts its own.
pytestmark = pytest.mark.process


def configured(sim: Simulator, tmp_path: Path, change=None) -> Config:
    """The three test sites on `sim`; `change(data)` edits the file's sites first."""
    path = write_config(sim, tmp_path / "wincc.json")
    if change is not None:
        data = json.loads(path.read_text())
        change(data)
        path.write_text(json.dumps(data))
    with mock.patch.dict(os.environ, sim.env):
        return load(path)


def run(config: Config, *sites: str, env: dict[str, str]) -> list[SiteReport]:
    with mock.patch.dict(os.environ, env):
        return check_sites(config, sites)


def texts(report: SiteReport, check: str) -> list[str]:
    return [f.text for f in report.findings if f.check == check]


def test_all_good_on_every_dialect_and_nothing_written(sim: Simulator, tmp_path):
    raised = sim.raise_alarm("Tank_Level_H")[-1]
    config = configured(sim, tmp_path)
    reports = run(config, env=sim.env)
    assert [r.site for r in reports] == ["oven-unified", "line-classic", "utilities-restv1"]
    for report in reports:
        assert report.ok, "\n".join(report.lines())
        checks = {f.check for f in report.findings}
        assert {"reachable", "tls", "login", "dialect", "tag", "alarms", "acknowledge",
                "browse", "history", "round_trip"} <= checks, report.site
        assert report.summary() == f"all good ({len(report.findings)} findings)"
        assert texts(report, "dialect") == [f"the server answers as {report.dialect}"]
        assert any(t.startswith("certificate as pinned in ") for t in texts(report, "tls"))
        assert any("is readable (" in t for t in texts(report, "alarms"))
    assert exit_code(reports) == 0
    unified, classic, rest_v1 = reports
    assert "Oven_Zone1_Temp exists, data type LReal, quality good" in texts(unified, "tag")
    assert "Tank_Level exists, data type float, quality good" in texts(rest_v1, "tag")
    assert texts(rest_v1, "login") == ["the token (the read-only user) is accepted"]
    assert texts(classic, "login") == [
        f"user {sim.users.ro.username} (the read-only user) is accepted"
    ]
    ack_tags = len(config.known_site("line-classic").ack_tags)
    assert texts(classic, "ack_tag") == [f"{ack_tags} acknowledge tag(s) exist"]
    # Read-only: no write, acknowledgement or reset reached the server, by any face.
    assert sim.requests_log() == []
    assert acknowledged_or_reset(sim) == []
    assert any(a["instance_id"] == raised["instance_id"] and a["state"] == raised["state"]
               for a in sim.alarms())


def test_a_missing_tag_is_named_and_fails_the_check(sim: Simulator, tmp_path):
    def add_missing(data):
        data["sites"][2]["tags"].append({"name": "Tank_Levle"})
        data["sites"][1]["ack_tags"]["Conveyor_Fault"] = {"tag": "Ack_No_Such_Tag"}

    config = configured(sim, tmp_path, add_missing)
    classic, rest_v1 = run(config, "line-classic", "utilities-restv1", env=sim.env)
    missing = rest_v1.problems
    assert [(f.check, f.subject) for f in missing] == [("tag", "Tank_Levle")]
    assert missing[0].text.startswith("Tank_Levle: missing or not readable on the server (")
    assert rest_v1.summary() == "1 problem(s): tag Tank_Levle"
    assert [(f.check, f.subject) for f in classic.problems] == [("ack_tag", "Ack_No_Such_Tag")]
    assert classic.problems[0].text.endswith("; it acknowledges alarm Conveyor_Fault")
    assert exit_code([classic, rest_v1]) == 1
    assert sim.requests_log() == []


def test_a_wrong_password_is_login_refused(sim: Simulator, tmp_path):
    config = configured(sim, tmp_path)
    wrong = {**sim.env, "WINCC_SIM_RO_PASSWORD": "not-the-password",
             "WINCC_SIM_RO_TOKEN": "not-the-token"}
    reports = run(config, env=wrong)
    for report in reports:
        assert [f.check for f in report.problems] == ["login"], report.lines()
        assert report.problems[0].text.startswith("login refused for ")
        assert texts(report, "reachable")[0].endswith(" answers")
    assert exit_code(reports) == 1


def test_a_server_that_is_down_is_not_reachable(sim: Simulator, tmp_path):
    config = configured(sim, tmp_path)
    sim.stop_listener()
    reports = run(config, env=sim.env)
    for report in reports:
        assert [f.check for f in report.findings] == ["reachable"], report.lines()
        assert report.problems[0].text.startswith(f"not reachable: cannot connect to {sim.url}")
    assert exit_code(reports) == 1


def test_a_ca_file_that_is_not_pem_is_said_before_connecting(sim: Simulator, tmp_path):
    der = tmp_path / "wincc.der"
    der.write_bytes(ssl.PEM_cert_to_DER_cert(Path(sim.ca_file).read_text()))
    site = dataclasses.replace(configured(sim, tmp_path).known_site("oven-unified"),
                               ca_file=str(der))
    report = check_site(site, sim.env)
    assert [f.line() for f in report.findings] == [
        f"PROBLEM tls         certificate file {der} is not a PEM certificate (no BEGIN "
        "CERTIFICATE) (it looks like DER: convert it with openssl x509 -inform der -in FILE "
        "-out FILE.pem); the server was not contacted"
    ]


def test_an_untrusted_certificate_is_a_tls_problem(sim: Simulator, tmp_path):
    site = dataclasses.replace(configured(sim, tmp_path).known_site("oven-unified"),
                               ca_file=None)
    report = check_site(site, sim.env)
    assert [(f.check, f.status) for f in report.findings] == [("reachable", "ok"),
                                                              ("tls", PROBLEM)]
    text = report.problems[0].text
    assert text.startswith(f"certificate of {sim.url} is not trusted: the server showed CN=")
    assert "no certificate is pinned" in text and "pin the certificate with" in text


@pytest.fixture(scope="module", params=["classic", "unified", "rest-v1"])
def one_face(request, tmp_path_factory):
    """A simulator that speaks one dialect alone, as a real WinCC server does."""
    sim = start_simulator(tmp_path_factory.mktemp(request.param), face=[request.param],
                          log_level="debug")
    yield request.param, sim
    sim.stop()


def test_a_wrong_dialect_says_what_the_server_speaks(one_face, tmp_path):
    spoken, sim = one_face
    reports = run(configured(sim, tmp_path), env=sim.env)
    for report in reports:
        if report.dialect == spoken:
            assert report.ok, report.lines()
        else:
            assert [f.text for f in report.problems] == [
                f"this server speaks {spoken}, the configuration says {report.dialect}"
            ]
    assert sim.requests_log() == []


# The requests a read may make: every GET, and the POSTs that read (Classic reads values and
# pages its variable list by POST; every Unified call is a POST, its writes and
# acknowledgements are in the simulator's request log).
READ_POSTS = ("/WinCCRestService/tagManagement/Values", "/WinCCRestService/tagManagement/variables",
              "/graphql")


def test_the_full_check_only_reads(one_face, tmp_path):
    spoken, sim = one_face
    config = configured(sim, tmp_path)
    sim.raise_alarm("Tank_Level_H")
    site = next(site for site in config.sites if site.dialect == spoken)
    before = sim.log().count("wincc_sim.request")
    report = check_site(site, sim.env)
    assert report.ok, report.lines()
    wait_until(lambda: sim.log().count("wincc_sim.request") > before)
    requests = [line.split("wincc_sim.request: ", 1)[1].split()[:3]
                for line in sim.log().splitlines() if "wincc_sim.request: " in line]
    methods = {method for _, method, _ in requests}
    assert methods <= {"GET", "POST"}, methods
    assert all(path in READ_POSTS for _, method, path in requests if method == "POST"), requests
    assert sim.requests_log() == []
    assert acknowledged_or_reset(sim) == []


def test_a_unified_path_that_is_not_the_servers_is_said(sim: Simulator, tmp_path):
    def elsewhere(data):
        data["sites"][0]["graphql_path"] = "/wincc/graphql"

    (unified,) = run(configured(sim, tmp_path, elsewhere), "oven-unified", env=sim.env)
    assert [f.text for f in unified.problems] == [
        "this server speaks unified at /graphql, not at the configured graphql_path "
        "/wincc/graphql"
    ]


@pytest.mark.parametrize("site", ["line-classic", "oven-unified", "utilities-restv1"])
def test_many_tags_get_their_data_types_from_one_browse(sim: Simulator, tmp_path, site):
    names = [f"Aux_Sensor_{n:04d}" for n in range(1, 31)]

    def many(data):
        for entry in data["sites"]:
            if entry["id"] == site:
                entry["tags"] += [{"name": name} for name in names]

    (report,) = run(configured(sim, tmp_path, many), site, env=sim.env)
    assert report.ok, report.lines()
    typed = [f.data.get("data_type") for f in report.findings if f.check == "tag"]
    assert len(typed) > len(names) and all(typed), report.lines()


@pytest.mark.parametrize("site", ["oven-unified", "utilities-restv1"])
def test_a_server_without_alarm_list_is_said_and_is_no_problem(sim: Simulator, tmp_path, site):
    """The product shows such a site's tags and says it has no alarms: nothing is missing
    that the configuration asked for, so the check passes."""
    face = "unified" if site == "oven-unified" else "rest-v1"
    sim.set_faults(no_alarm_list=[face])
    try:
        (report,) = run(configured(sim, tmp_path), site, env=sim.env)
    finally:
        sim.set_faults(no_alarm_list=[])
    assert report.ok, report.lines()
    (said,) = texts(report, "alarms")
    assert said.startswith("no alarm list (https://127.0.0.1:")
    assert said.endswith("): the site shows its tags, no alarms (\"alarms\": false in the "
                         "configuration says so and skips asking)")
    assert exit_code([report]) == 0


def test_a_classic_alarm_filter_the_server_lacks_is_a_problem(sim: Simulator, tmp_path):
    sim.set_faults(no_alarm_list=["classic"])
    try:
        (report,) = run(configured(sim, tmp_path), "line-classic", env=sim.env)
    finally:
        sim.set_faults(no_alarm_list=[])
    assert [f.check for f in report.problems] == ["alarms"]
