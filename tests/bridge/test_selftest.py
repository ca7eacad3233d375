"""`wincc-bridge ... selftest` against the simulator: every read check, a report that names
what happened, and nothing written or acknowledged (the simulator's request log is empty)."""

from __future__ import annotations

import json

import pytest

from wincc_bridge import cli


def selftest(sim, capsys, dialect: str, *extra: str, user=None):
    user = user or sim.users.ro
    env = {"WINCC_USER": user.username, "WINCC_PASSWORD": user.password,
           "WINCC_TOKEN": user.token}
    code = cli.main(["--dialect", dialect, "--url", sim.url, "--ca-file", sim.ca_file,
                     "selftest", *extra], environ=env)
    captured = capsys.readouterr()
    return code, [json.loads(line) for line in captured.out.splitlines()], captured.err


@pytest.mark.parametrize("dialect", ["classic", "unified", "rest-v1"])
def test_selftest_reads_everything_and_changes_nothing(sim, capsys, dialect) -> None:
    sim.raise_alarm("Tank_Level_LL")
    # The read-write user, so that a write or an acknowledgement would have gone through.
    code, lines, err = selftest(sim, capsys, dialect, user=sim.users.rw)
    assert (code, err) == (0, "")
    start, *checks, done = lines
    assert (start["selftest"], start["dialect"], start["tls"]) == ("start", dialect, "pinned")
    assert [c["check"] for c in checks] == ["ping", "browse", "read", "alarms"]
    assert all(c["ok"] for c in checks), checks
    browse, read, alarms = checks[1:]
    assert browse["count"] > 0 and browse["sample"]
    assert read["count"] == min(10, browse["count"]) and read["errors"] == 0
    assert read["qualities"] == {"good": read["count"]}
    assert alarms["count"] >= 1 and "Tank_Level_LL" in [a["name"] for a in alarms["sample"]]
    assert all(c["http"] and " -> 200" in c["http"][-1] for c in checks)
    assert done == {"selftest": "done", "ok": True, "failed": []}
    assert sim.requests_log() == []
    assert all(a["state"] == "RAISED" for a in sim.alarms() if a["name"] == "Tank_Level_LL")
    user = sim.users.rw
    assert user.password not in json.dumps(lines) and user.token not in json.dumps(lines)


def test_selftest_with_named_tags_reports_failed_items(sim, capsys) -> None:
    code, lines, _ = selftest(sim, capsys, "unified", "--tag", "Tank_Level", "--tag", "Nope")
    read = next(line for line in lines if line.get("check") == "read")
    assert (read["ok"], read["count"], read["errors"]) == (True, 2, 1)
    assert code == 0


def test_a_refused_login_skips_the_other_checks(sim, capsys) -> None:
    env_user = type("U", (), {"username": sim.users.ro.username, "password": "wrong",
                              "token": ""})()
    code, lines, _ = selftest(sim, capsys, "unified", user=env_user)
    ping = lines[1]
    assert (ping["check"], ping["ok"], ping["error_class"]) == ("ping", False, "AuthError")
    assert [line.get("skipped") for line in lines[2:5]] == ["the ping failed"] * 3
    assert lines[-1]["ok"] is False and code == cli.ITEMS_FAILED


def test_classic_selftest_reports_what_the_server_did(sim, capsys) -> None:
    sim.set_faults(classic_no_connections=True, classic_refuse_empty_names=True,
                   classic_page_limit=25)
    code, lines, _ = selftest(sim, capsys, "classic")
    checks = {line["check"]: line for line in lines if "check" in line}
    assert code == 0, checks
    # The report shows what the server did: no Connections list, an empty request refused.
    assert any(" -> 404" in h for h in checks["ping"]["http"])
    assert any(" -> 400" in h for h in checks["ping"]["http"])
    assert len(checks["browse"]["http"]) > 2


@pytest.mark.parametrize("dialect", ["classic", "unified", "rest-v1"])
def test_a_server_without_alarm_list_passes_and_says_so(sim, capsys, dialect) -> None:
    sim.set_faults(no_alarm_list=[dialect])
    code, lines, err = selftest(sim, capsys, dialect, "--alarm-filter", "ActiveAlarms")
    alarms = next(line for line in lines if line.get("check") == "alarms")
    assert alarms["ok"] is None and "alarm" in alarms["not_offered"].lower()
    assert "error" not in alarms
    read = next(line for line in lines if line.get("check") == "read")
    assert read["ok"] is True and read["count"] > 0
    assert lines[-1] == {"selftest": "done", "ok": True, "failed": []}
    assert (code, err) == (cli.OK, "")
