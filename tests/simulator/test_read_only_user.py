"""The read-only API user is refused every write and every acknowledgement, on every face,
and the plant does not change; the refusal is logged for the tests that check it."""

from __future__ import annotations

import httpx
import pytest

from tests.fixtures.simulator import Simulator
from tests.simulator.conftest import LOGIN, basic, bearer, gql, login

BASE = "/WinCCRestService/tagManagement"
SETPOINT = "Oven_Zone1_Setpoint"
ALARM = "Tank_Level_L"


def classic_put_value(sim, client):
    r = client.put(f"{BASE}/Value/{SETPOINT}", auth=basic(sim), json={"value": 300})
    return r.status_code == 403 and r.json()["error"]


def classic_put_values(sim, client):
    r = client.put(f"{BASE}/Values", auth=basic(sim), json=[{"variableName": SETPOINT,
                                                              "value": 300}])
    return r.status_code == 403 and r.json()["error"]


def classic_ack_tag(sim, client):
    r = client.put(f"{BASE}/Value/Ack_{ALARM}", auth=basic(sim), json={"value": 1})
    return r.status_code == 403 and r.json()["error"]


def _unified(sim, client, query, variables):
    token = login(client, sim.users.ro.username, sim.users.ro.password)
    body = gql(client, query, variables, token)
    return body["data"] is None and body["errors"][0]["extensions"]["code"] == "FORBIDDEN"


def unified_write(sim, client):
    return _unified(sim, client, "mutation($i:[TagValueInput]!){writeTagValues(input:$i)"
                                 "{name error{code}}}", {"i": [{"name": SETPOINT, "value": 300}]})


def unified_acknowledge(sim, client):
    return _unified(sim, client, "mutation($i:[AlarmIdentifierInput]!){acknowledgeAlarms("
                                 "input:$i){alarmName error{code}}}", {"i": [{"name": ALARM}]})


def unified_reset(sim, client):
    return _unified(sim, client, "mutation($i:[AlarmIdentifierInput]!){resetAlarms("
                                 "input:$i){alarmName error{code}}}", {"i": [{"name": ALARM}]})


def rest_v1_write(sim, client):
    r = client.put("/api/v1/tags", headers=bearer(sim), json={"tags": [{"name": SETPOINT,
                                                                         "value": 300}]})
    return r.status_code == 403 and r.json()["error"]


def rest_v1_acknowledge(sim, client):
    r = client.post("/api/v1/alarms/acknowledge", headers=bearer(sim),
                    json={"alarms": [{"name": ALARM, "instance_id": 1}]})
    return r.status_code == 403 and r.json()["error"]


def snapshot(sim: Simulator):
    state = sim.state(SETPOINT, "Oven_Zone2_Setpoint")
    return ({name: tag["value"] for name, tag in state["tags"].items()},
            [(a["name"], a["state"], a["acknowledged_by"]) for a in state["alarms"]])


@pytest.mark.parametrize("attempt", [
    classic_put_value, classic_put_values, classic_ack_tag, unified_write, unified_acknowledge,
    unified_reset, rest_v1_write, rest_v1_acknowledge,
], ids=lambda f: f.__name__)
def test_read_only_user_is_refused_and_the_plant_does_not_change(sim, client, attempt):
    sim.raise_alarm(ALARM)
    before = snapshot(sim)
    assert before[1] == [(ALARM, "RAISED", None)]
    assert attempt(sim, client)
    assert snapshot(sim) == before
    [logged] = sim.requests_log()
    assert (logged["user"], logged["allowed"]) == (sim.users.ro.username, False)
    assert logged["action"] in ("write", "acknowledge", "reset")
    assert logged["items"][0]["name"] in (SETPOINT, ALARM, f"Ack_{ALARM}")


def test_the_read_write_user_passes_the_same_checks(sim, client):
    """The refusals above are about the user, not the request: the same calls succeed."""
    sim.raise_alarm(ALARM)
    r = client.put(f"{BASE}/Value/Ack_{ALARM}", auth=basic(sim, "rw"), json={"value": 1})
    assert r.json()["errorcode"] == 0
    token = login(client, sim.users.rw.username, sim.users.rw.password)
    body = gql(client, "mutation($i:[TagValueInput]!){writeTagValues(input:$i){name error{code}}}",
               {"i": [{"name": SETPOINT, "value": 300}]}, token)
    assert body["data"]["writeTagValues"][0]["error"] is None
    assert sim.value(SETPOINT) == 300
    assert [e["allowed"] for e in sim.requests_log()] == [True, True]


@pytest.mark.parametrize("face", ["classic", "unified", "rest-v1"])
def test_a_wrong_password_or_token_is_refused(sim, client: httpx.Client, face):
    if face == "classic":
        r = client.get(f"{BASE}/Value/Tank_Level", auth=(sim.users.rw.username, "nope"))
        assert r.status_code == 401
    elif face == "unified":
        body = gql(client, LOGIN, {"u": sim.users.rw.username, "p": "nope"})
        assert body["data"]["login"]["error"]["code"] == "101"
    else:
        r = client.get("/api/v1/tags?names=Tank_Level", headers={"Authorization": "Bearer nope"})
        assert r.status_code == 401
