"""`wincc-sim` started as a user would: options, users from the environment, TLS, plain HTTP."""

from __future__ import annotations

import json
import os
import signal
import socket
import ssl
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest
from cryptography import x509

from tests.fixtures.simulator import start_simulator, wait_until
from tests.simulator.conftest import LOGIN, gql, login

SCRIPT = Path(sys.executable).with_name("wincc-sim")

pytestmark = pytest.mark.process  # every test runs the simulator's command


@pytest.fixture(scope="module")
def plain(tmp_path_factory):
    """Plain HTTP, 20,000 tags, one-second tokens, a request log line per request."""
    sim = start_simulator(tmp_path_factory.mktemp("plain"), http=True, tags=20_000,
                          token_ttl=1, seed=5, log_level="debug")
    yield sim
    sim.stop()


def run_script(tmp_path, *args, env=None, timeout=20):
    return subprocess.run([str(SCRIPT), *args], cwd=tmp_path, capture_output=True, text=True,
                          timeout=timeout, env=env)


def test_help_lists_the_options(tmp_path):
    result = run_script(tmp_path, "--help")
    assert result.returncode == 0
    for option in ("--host", "--port", "--http", "--cert-dir", "--seed", "--tags",
                   "--admin-port", "--token-ttl", "--error-rate", "--stopped"):
        assert option in result.stdout


@pytest.mark.parametrize(("args", "words"), [
    (["--tags", "0"], "--tags must be from 1 to 20000"),
    (["--tags", "20001"], "--tags must be from 1 to 20000"),
    (["--bad-quality", "Nope"], "unknown tag 'Nope'"),
    (["--error-rate", "3"], "error_rate"),
    (["--token-ttl", "0"], "--token-ttl must be positive"),
])
def test_bad_options_end_with_a_clear_message(tmp_path, args, words):
    result = run_script(tmp_path, "--http", "--port", "0", "--admin-port", "0", *args)
    assert result.returncode == 2
    assert words in result.stderr


def test_a_port_in_use_ends_with_a_clear_message(tmp_path):
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        result = run_script(tmp_path, "--http", "--port", str(port), "--admin-port", "0")
    assert result.returncode == 1
    assert "cannot listen" in result.stderr and "in use" in result.stderr


def test_the_console_script_serves_with_demo_defaults_and_stops_on_sigterm(tmp_path):
    ready = tmp_path / "ready.json"
    env = {k: v for k, v in os.environ.items() if not k.startswith("WINCC_SIM_")}
    process = subprocess.Popen(
        [str(SCRIPT), "--port", "0", "--admin-port", "0", "--cert-dir", "certs",
         "--ready-file", str(ready)], cwd=tmp_path, env=env, stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT, text=True)
    try:
        wait_until(ready.exists, timeout=20)
        info = json.loads(ready.read_text())
        assert info["ca_file"] == str(tmp_path / "certs" / "wincc-sim.pem")
        verify = ssl.create_default_context(cafile=info["ca_file"])
        with httpx.Client(base_url=info["url"], verify=verify) as client:
            ok = client.get("/WinCCRestService/tagManagement/Value/Tank_Level",
                            auth=("api_ro", "demo-ro-password-simulator-only"))
            assert ok.status_code == 200
    finally:
        process.send_signal(signal.SIGTERM)
        output, _ = process.communicate(timeout=15)
    assert process.returncode == 0
    assert "demo-only defaults in use" in output


def test_the_certificate_is_pinnable_and_nothing_else_trusts_it(simulator):
    pem = Path(simulator.ca_file).read_bytes()
    assert b"PRIVATE KEY" not in pem
    cert = x509.load_pem_x509_certificate(pem)
    names = cert.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    assert "localhost" in names.get_values_for_type(x509.DNSName)
    assert "127.0.0.1" in [str(ip) for ip in names.get_values_for_type(x509.IPAddress)]
    with httpx.Client(base_url=simulator.url) as untrusting, pytest.raises(httpx.ConnectError):
        untrusting.get("/api/v1/tags?names=Tank_Level")
    port = simulator.url.rsplit(":", 1)[1]
    localhost = f"https://localhost:{port}"
    verify = ssl.create_default_context(cafile=simulator.ca_file)
    with httpx.Client(base_url=localhost, verify=verify) as pinned:
        response = pinned.get("/api/v1/tags?names=Tank_Level",
                              headers={"Authorization": f"Bearer {simulator.users.ro.token}"})
        assert response.status_code == 200


def test_a_second_start_reuses_the_certificate(tmp_path):
    first = start_simulator(tmp_path, tags=30)
    first.stop()
    before = Path(first.ca_file).read_bytes()
    second = start_simulator(tmp_path, tags=30)
    try:
        assert Path(second.ca_file).read_bytes() == before
    finally:
        second.stop()


def test_plain_http_with_users_from_the_environment(plain):
    assert plain.url.startswith("http://") and plain.ca_file is None
    with plain.client() as client:
        ok = client.get("/WinCCRestService/tagManagement/Value/Tank_Level",
                        auth=(plain.users.rw.username, plain.users.rw.password))
        assert ok.status_code == 200
        demo = client.get("/WinCCRestService/tagManagement/Value/Tank_Level",
                          auth=("api_rw", "demo-rw-password-simulator-only"))
        assert demo.status_code == 401
    assert "demo-only defaults" not in plain.log()


def test_one_debug_line_per_request(plain):
    with plain.client() as client:
        client.get("/api/v1/tags?names=Probe_For_The_Log",
                   headers={"Authorization": f"Bearer {plain.users.ro.token}"})
    wait_until(lambda: "rest-v1 GET /api/v1/tags 200" in plain.log())


def test_twenty_thousand_tags_are_served_and_paged(plain):
    with plain.client() as client:
        auth = (plain.users.ro.username, plain.users.ro.password)
        last = client.post("/WinCCRestService/tagManagement/Values", auth=auth,
                           json={"variableNames": ["Aux_Sensor_19980", "Aux_Sensor_19981"]})
        assert isinstance(last.json()[0]["value"], float) and last.json()[1]["error"]
        page = client.get("/WinCCRestService/tagManagement/variables", auth=auth,
                          params={"itemLimit": 500, "continuationPoint": 19_500}).json()
        assert len(page) == 500


def test_unified_tokens_expire_after_the_configured_lifetime(plain):
    with plain.client() as client:
        token = login(client, plain.users.ro.username, plain.users.ro.password)
        assert "errors" not in gql(client, "query{session{expires}}", None, token)
        time.sleep(1.2)
        expired = gql(client, "query{session{expires}}", None, token)
        assert expired["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"
        fresh = gql(client, LOGIN, {"u": plain.users.ro.username, "p": plain.users.ro.password})
        assert fresh["data"]["login"]["token"] != token


def test_fault_and_scenario_flags_at_start(tmp_path):
    sim = start_simulator(tmp_path, http=True, tags=60, stopped=True, bad_quality=["Tank_Level"],
                          latency_ms=20, freeze=True, chatter=True, no_classic_alarms=True,
                          no_alarm_list=["rest-v1", "unified"])
    try:
        faults = sim.state("Tank_Level")["faults"]
        assert faults["listener"] == "stopped" and faults["bad_quality"] == ["Tank_Level"]
        assert faults["latency_ms"] == 20 and faults["freeze"] is True
        assert faults["no_alarm_list"] == ["rest-v1", "unified"]
        assert "chatter" in sim.state("Tank_Level")["scenarios"]
        with sim.client() as client, pytest.raises(httpx.ConnectError):
            client.get("/api/v1/tags?names=Tank_Level")
        sim.start_listener()
        with sim.client() as client:
            answer = client.get("/api/v1/tags?names=Tank_Level",
                                headers={"Authorization": f"Bearer {sim.users.ro.token}"})
            assert answer.json()["tags"][0]["quality"] == "bad"
            # A V7.5/V8.0 server: no alarmLogging endpoints.
            messages = client.get("/WinCCRestService/alarmLogging/MessageList/ActiveAlarms",
                                  auth=(sim.users.ro.username, sim.users.ro.password))
            assert messages.status_code == 404
    finally:
        sim.stop()


def test_face_serves_one_dialect_as_a_real_server_does(tmp_path):
    sim = start_simulator(tmp_path, http=True, tags=20, face=["rest-v1"],
                          no_alarm_list=["rest-v1"])
    try:
        # Its start line names what it serves, and nothing else.
        assert f"WinCC simulator: {sim.url} (REST v1 /api/v1 without alarm list), admin " in (
            sim.log())
        with sim.client() as client:
            token = {"Authorization": f"Bearer {sim.users.ro.token}"}
            assert client.get("/api/v1/tags?names=Tank_Level", headers=token).status_code == 200
            assert client.post("/graphql", json={"query": "{__typename}"}).status_code == 404
            answer = client.get("/WinCCRestService/tagManagement/Connections",
                                auth=(sim.users.ro.username, sim.users.ro.password))
            assert answer.status_code == 404
    finally:
        sim.stop()
    result = run_script(tmp_path, "--http", "--port", "0", "--admin-port", "0", "--face", "opc")
    assert result.returncode == 2 and "invalid choice: 'opc'" in result.stderr


def test_parent_pid_stops_the_simulator_when_its_parent_ends(tmp_path):
    ready = tmp_path / "ready.json"
    # A parent that starts the simulator and ends at once, leaving it an orphan.
    parent = subprocess.run(
        [sys.executable, "-c",
         "import os, subprocess, sys\n"
         "p = subprocess.Popen(sys.argv[1:] + ['--parent-pid', str(os.getpid())])\n"
         "print(p.pid)",
         str(SCRIPT), "--http", "--port", "0", "--admin-port", "0", "--ready-file", str(ready)],
        cwd=tmp_path, capture_output=True, text=True, timeout=20, check=True)
    orphan = int(parent.stdout)

    def gone() -> bool:
        try:
            state = Path(f"/proc/{orphan}/stat").read_text().split()[2]
        except FileNotFoundError:
            return True
        return state == "Z"  # ended; only its entry waits for the reaper

    try:
        wait_until(ready.exists, timeout=20)  # it did start and listen
        wait_until(gone, timeout=15)
    finally:
        if not gone():
            os.kill(orphan, signal.SIGTERM)


def test_the_simulator_collects_cycles_less_often_and_leaves_its_start_alone():
    """An archive answer builds hundreds of thousands of objects (wincc_sim.__main__)."""
    import gc

    from wincc_sim import __main__ as sim_main

    before = gc.get_threshold()
    try:
        sim_main.tune_gc()
        assert gc.get_threshold() == sim_main.GC_THRESHOLD
        assert gc.get_threshold()[0] > before[0]
        assert gc.get_freeze_count() > 0
    finally:
        gc.unfreeze()
        gc.set_threshold(*before)
