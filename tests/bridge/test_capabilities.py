"""What a server does not offer, and a certificate the client refuses, against the simulator.

A server without an alarm list still serves its tags; the client says "not supported"
(`wincc-bridge` exit 6), never "protocol error". A refused certificate names the one the
server showed and, when one is pinned, the pinned one.
"""

from __future__ import annotations

import json

import pytest

from tests.bridge.conftest import fingerprint
from tests.bridge.test_simulator import DIALECTS, settings
from wincc_bridge import cli
from wincc_bridge.client import NotSupportedError, TLSError, open_client

NO_LIST = {
    "classic": "has no REST filter named 'ActiveAlarms' or no alarm logging over REST",
    "unified": "has no activeAlarms query in its GraphQL schema",
    "rest-v1": "publishes no alarm list (/api/v1/alarms/active)",
}


def bridge(capsys, sim, dialect: str, *argv: str, ca_file: str | None = "sim") -> tuple:
    user = sim.users.ro
    env = {"WINCC_USER": user.username, "WINCC_PASSWORD": user.password,
           "WINCC_TOKEN": user.token}
    pin = ["--ca-file", sim.ca_file if ca_file == "sim" else ca_file] if ca_file else []
    code = cli.main(["--dialect", dialect, "--url", sim.url, *pin, *argv], environ=env)
    captured = capsys.readouterr()
    return code, [json.loads(line) for line in captured.out.splitlines()], captured.err


def alarm_list_requests(sim, dialect: str) -> int:
    return sim.state("Tank_Level")["request_counts"].get(f"{dialect} alarm list", 0)


@pytest.mark.parametrize("dialect", DIALECTS)
def test_a_server_without_alarm_list_still_serves_its_tags(sim, dialect) -> None:
    sim.set_faults(no_alarm_list=[dialect])
    with open_client(settings(sim, dialect)) as client:
        assert client.read_tags(["Tank_Level"])[0].error is None
        with pytest.raises(NotSupportedError) as caught:
            client.active_alarms()
    assert NO_LIST[dialect] in str(caught.value)
    assert caught.value.reason == "no such endpoint"
    assert alarm_list_requests(sim, dialect) == (0 if dialect == "unified" else 1)


@pytest.mark.parametrize("dialect", DIALECTS)
def test_cli_alarms_without_alarm_list_exit_6(sim, dialect, capsys) -> None:
    sim.set_faults(no_alarm_list=[dialect])
    code, lines, err = bridge(capsys, sim, dialect, "alarms", "--alarm-filter", "ActiveAlarms")
    assert (code, lines) == (cli.NOT_SUPPORTED, [])
    assert err.startswith(f"wincc-bridge: {sim.url}") and NO_LIST[dialect] in err
    assert err.count("\n") == 1
    code, lines, _ = bridge(capsys, sim, dialect, "read", "Tank_Level")
    assert code == cli.OK and lines[0]["name"] == "Tank_Level"


@pytest.mark.parametrize("dialect", DIALECTS)
def test_cli_alarms_with_an_alarm_list_exit_0(sim, dialect, capsys) -> None:
    sim.raise_alarm("Tank_Level_HH")
    code, lines, err = bridge(capsys, sim, dialect, "alarms", "--alarm-filter", "ActiveAlarms")
    assert (code, err) == (cli.OK, "")
    assert "Tank_Level_HH" in {line["name"] for line in lines}


# --- certificates: no pin, a wrong pin, the right pin ------------------------------------


def test_no_pin_names_the_certificate_the_server_showed(sim, capsys) -> None:
    code, lines, err = bridge(capsys, sim, "rest-v1", "ping", ca_file=None)
    assert (code, lines) == (cli.CONNECTION, [])
    assert err == (
        f"wincc-bridge: certificate of {sim.url} is not trusted: the server showed "
        f"CN=WinCC simulator (SHA-256 {fingerprint(sim.ca_file)}), and no certificate is "
        "pinned (check the fingerprint with the server's administrator, then pin the "
        "certificate with --ca-file or ca_file)\n"
    )


def test_a_wrong_pin_says_it_does_not_match_and_does_not_suggest_pinning(
    sim, certificates, capsys
) -> None:
    wrong = certificates["wincc"].cert_file
    code, lines, err = bridge(capsys, sim, "classic", "ping", ca_file=wrong)
    assert (code, lines) == (cli.CONNECTION, [])
    assert err.startswith(
        f"wincc-bridge: certificate of {sim.url} does not match the pinned one: {wrong} holds "
        f"CN=wincc (SHA-256 {fingerprint(wrong)}), the server showed CN=WinCC simulator "
        f"(SHA-256 {fingerprint(sim.ca_file)})"
    )
    assert "pin it" not in err and "--ca-file" not in err
    with open_client(settings(sim, "classic", ca_file=wrong)) as client, \
            pytest.raises(TLSError) as caught:
        client.ping()
    assert caught.value.reason == "certificate not trusted"


def test_the_right_pin_connects(sim, capsys) -> None:
    code, lines, err = bridge(capsys, sim, "unified", "ping")
    assert (code, err) == (cli.OK, "")
    assert lines == [{"ok": True, "server": sim.url, "dialect": "unified"}]
