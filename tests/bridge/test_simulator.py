"""Every dialect against the simulator over HTTPS with its pinned certificate.

The read-only user reads and is refused writes; the read-write user writes and
acknowledges. The simulator's own records (state, request log) are the witness.
"""

from __future__ import annotations

import json
import subprocess
import sys
from datetime import UTC

import pytest

from wincc_bridge.client import (
    AckTag,
    AuthError,
    ConnectionSettings,
    NotSupportedError,
    ProtocolError,
    TLSError,
    open_client,
)
from wincc_bridge.models import AlarmState, Quality

DIALECTS = ["classic", "unified", "rest-v1"]
TAGS = ["Oven_Zone1_Temp", "Conveyor_Running", "Line_Produced_Count", "Tank_Level"]


def settings(sim, dialect: str, *, write: bool = False, **changes) -> ConnectionSettings:
    user = sim.users.rw if write else sim.users.ro
    fields = {
        "dialect": dialect,
        "url": sim.url,
        "username": user.username,
        "password": user.password,
        "token": user.token,
        "ca_file": sim.ca_file,
        "timeout": 5.0,
        "alarm_filter": "ActiveAlarms",
        "site": "sim",
        **changes,
    }
    return ConnectionSettings(**fields)


def ack_tags(sim) -> dict[str, AckTag]:
    return {
        d["name"]: AckTag(d["ack_tag"], 1) for d in sim.alarm_definitions() if d["ack_required"]
    }


@pytest.mark.parametrize("dialect", DIALECTS)
def test_read_only_user_reads(sim, dialect) -> None:
    sim.set_tag("Tank_Level", 42.5)
    with open_client(settings(sim, dialect)) as client:
        client.ping()
        values = client.read_tags([*TAGS, "No_Such_Tag"])
    by_name = {v.name: v for v in values}
    assert [v.name for v in values] == [*TAGS, "No_Such_Tag"]
    assert by_name["Tank_Level"].value == 42.5
    assert isinstance(by_name["Conveyor_Running"].value, bool)
    assert isinstance(by_name["Line_Produced_Count"].value, int)
    for name in TAGS:
        assert by_name[name].quality is Quality.GOOD
        assert by_name[name].error is None
        assert by_name[name].timestamp.tzinfo is UTC
    assert by_name["No_Such_Tag"].error
    assert by_name["No_Such_Tag"].quality is Quality.BAD


@pytest.mark.parametrize("dialect", DIALECTS)
def test_read_only_user_cannot_write(sim, dialect) -> None:
    before = sim.value("Oven_Zone1_Setpoint")
    with open_client(settings(sim, dialect)) as client, pytest.raises(AuthError) as caught:
        client.write_tags({"Oven_Zone1_Setpoint": before + 5})
    assert sim.url in str(caught.value)
    assert sim.value("Oven_Zone1_Setpoint") == before
    refused = [r for r in sim.requests_log() if r["face"] == dialect]
    assert refused and not any(r["allowed"] for r in refused)
    assert len(refused) == 1  # a missing right is not retried


@pytest.mark.parametrize("dialect", DIALECTS)
def test_read_write_user_writes(sim, dialect) -> None:
    with open_client(settings(sim, dialect, write=True)) as client:
        results = client.write_tags({"Oven_Zone2_Setpoint": 205.5, "No_Such_Tag": 1})
    assert [(r.name, r.ok) for r in results] == [
        ("Oven_Zone2_Setpoint", True),
        ("No_Such_Tag", False),
    ]
    assert results[1].error
    assert sim.value("Oven_Zone2_Setpoint") == 205.5


@pytest.mark.parametrize("dialect", DIALECTS)
def test_alarms_and_acknowledge(sim, dialect) -> None:
    sim.raise_alarm("Conveyor_Fault")
    config = settings(sim, dialect, write=True, ack_tags=ack_tags(sim))
    with open_client(config) as client:
        alarms = {a.name: a for a in client.active_alarms()}
        # The plant keeps running, so other alarms may come and go; each must be the plant's.
        assert set(alarms) <= {d["name"] for d in sim.alarm_definitions()}
        fault = alarms["Conveyor_Fault"]
        assert fault.state is AlarmState.UNACKNOWLEDGED
        assert fault.can_acknowledge
        assert fault.event_text and fault.alarm_class and 0 < fault.priority <= 16
        assert fault.raise_time is not None and fault.raise_time.tzinfo is UTC
        [result] = client.acknowledge([(fault.name, fault.instance_id)])
        assert (result.name, result.ok, result.error) == ("Conveyor_Fault", True, None)
        after = {a.name: a for a in client.active_alarms()}["Conveyor_Fault"]
    assert after.state is AlarmState.ACKNOWLEDGED
    assert after.ack_time is not None
    [instance] = [a for a in sim.alarms() if a["name"] == "Conveyor_Fault"]
    assert instance["state"] == "RAISED_ACKNOWLEDGED"


def test_unified_shelves_and_unshelves_by_name_for_a_time(sim) -> None:
    sim.raise_alarm("Conveyor_Fault")
    config = settings(sim, "unified", write=True)
    with open_client(config) as client:
        assert client.capabilities().shelve
        [shelved] = client.shelve(["Conveyor_Fault"], 60)
        assert (shelved.name, shelved.ok) == ("Conveyor_Fault", True)
        fault = {a.name: a for a in client.active_alarms()}["Conveyor_Fault"]
        assert fault.state is AlarmState.SHELVED
        [unknown] = client.shelve(["No_Such_Alarm"], 60)
        assert not unknown.ok and unknown.error
        [unshelved] = client.unshelve(["Conveyor_Fault"])
        assert unshelved.ok
        fault = {a.name: a for a in client.active_alarms()}["Conveyor_Fault"]
        assert fault.state is AlarmState.UNACKNOWLEDGED
    assert [(r["action"], r["allowed"]) for r in sim.requests_log()] == [
        ("shelve", True), ("shelve", True), ("unshelve", True)]


@pytest.mark.parametrize("dialect", ["classic", "rest-v1"])
def test_dialects_without_shelving_say_so_and_send_nothing(sim, dialect) -> None:
    with open_client(settings(sim, dialect, write=True)) as client:
        assert not client.capabilities().shelve
        with pytest.raises(NotSupportedError, match="no shelve call"):
            client.shelve(["Conveyor_Fault"], 60)
        with pytest.raises(NotSupportedError, match="no unshelve call"):
            client.unshelve(["Conveyor_Fault"])
    assert sim.requests_log() == []


@pytest.mark.parametrize("dialect", DIALECTS)
def test_read_only_user_cannot_acknowledge(sim, dialect) -> None:
    sim.raise_alarm("Conveyor_Fault")
    config = settings(sim, dialect, ack_tags=ack_tags(sim))
    with open_client(config) as client, pytest.raises(AuthError):
        client.acknowledge([("Conveyor_Fault", 1)])
    [instance] = [a for a in sim.alarms() if a["name"] == "Conveyor_Fault"]
    assert instance["state"] == "RAISED"


@pytest.mark.parametrize("dialect", DIALECTS)
def test_wrong_password_or_token_is_refused(sim, dialect) -> None:
    config = settings(sim, dialect, password="wrong", token="wrong")
    with open_client(config) as client, pytest.raises(AuthError) as caught:
        client.read_tags(TAGS)
    assert "login refused" in str(caught.value)


@pytest.mark.parametrize("dialect", DIALECTS)
def test_unpinned_certificate_is_refused(sim, dialect) -> None:
    with open_client(settings(sim, dialect, ca_file=None)) as client, pytest.raises(TLSError):
        client.ping()


@pytest.mark.parametrize("dialect", DIALECTS)
def test_bad_quality_reaches_the_value(sim, dialect) -> None:
    sim.set_faults(bad_quality=["Tank_Level"])
    with open_client(settings(sim, dialect)) as client:
        tank, oven = client.read_tags(["Tank_Level", "Oven_Zone1_Temp"])
    assert tank.quality is Quality.BAD
    assert oven.quality is Quality.GOOD
    if dialect == "classic":
        assert tank.quality_code is not None and tank.quality_code & 0xC0 == 0


@pytest.mark.parametrize("dialect", DIALECTS)
def test_malformed_answers_are_protocol_errors(sim, dialect) -> None:
    sim.set_faults(malformed_rate=1.0)
    with open_client(settings(sim, dialect)) as client, pytest.raises(ProtocolError):
        client.read_tags(TAGS)


def test_unified_logs_in_again_when_the_session_expires(sim) -> None:
    with open_client(settings(sim, "unified")) as client:
        client.read_tags(TAGS)
        assert sim.expire_sessions() >= 1
        assert client.read_tags(TAGS)[0].error is None


def test_browse_each_dialect(sim) -> None:
    for dialect in DIALECTS:
        with open_client(settings(sim, dialect)) as client:
            names = [item.name for item in client.browse("*Oven_Zone1*")]
        assert any(name.endswith("Oven_Zone1_Temp") for name in names), dialect


def test_cli_against_the_simulator(sim) -> None:
    env = {"WINCC_USER": sim.users.ro.username, "SIM_PW": sim.users.ro.password, "PATH": ""}
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "wincc_bridge",
            "--dialect",
            "classic",
            "--url",
            sim.url,
            "--password-env",
            "SIM_PW",
            "--ca-file",
            sim.ca_file,
            "read",
            "Tank_Level",
            "Nope",
        ],
        capture_output=True,
        text=True,
        timeout=60,
        env=env,
    )
    assert done.returncode == 1
    good, bad = (json.loads(line) for line in done.stdout.splitlines())
    assert list(good) == ["name", "value", "quality", "quality_code", "timestamp", "error"]
    assert (good["quality"], good["quality_code"], good["error"]) == ("good", 192, None)
    assert good["timestamp"].endswith("Z")
    assert bad["name"] == "Nope" and bad["error"]
