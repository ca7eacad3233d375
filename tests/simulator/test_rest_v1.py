"""Face 3, REST v1, with the exact shapes of docs/protocols.md."""

from __future__ import annotations

import pytest

from tests.fixtures.simulator import wait_until
from tests.simulator.conftest import bearer


def test_the_seeds_example_request(sim, client):
    response = client.get("/api/v1/tags", params={"names": "Oven_Zone1_Temp,Nope"},
                          headers=bearer(sim))
    assert response.status_code == 200
    temp, nope = response.json()["tags"]
    assert set(temp) == {"name", "value", "quality", "timestamp"}
    assert temp["quality"] == "good" and isinstance(temp["value"], float)
    assert nope == {"name": "Nope", "value": None, "quality": "bad", "timestamp": None,
                    "error": "unknown tag"}


def test_browse_active_alarms_and_acknowledge(sim, client):
    items = client.get("/api/v1/browse", params={"pattern": "Tank*"},
                       headers=bearer(sim)).json()["items"]
    assert {"name": "Tank_Level", "display_name": "Tank level", "data_type": "float"} in items
    sim.set_tag("Oven_Zone2_Temp", 222.0)
    alarms = client.get("/api/v1/alarms/active", headers=bearer(sim)).json()["alarms"]
    high = next(a for a in alarms if a["name"] == "Oven_Zone2_Temp_H")
    assert set(high) == {"name", "instance_id", "state", "priority", "alarm_class", "event_text",
                         "info_text", "area", "raise_time", "ack_time", "clear_time",
                         "acknowledgeable", "acknowledged_by"}
    assert (high["state"], high["acknowledgeable"]) == ("active_unacked", True)
    result = client.post("/api/v1/alarms/acknowledge", headers=bearer(sim, "rw"), json={
        "alarms": [{"name": "Oven_Zone2_Temp_H", "instance_id": high["instance_id"]},
                   {"name": "Oven_Zone2_Temp_H", "instance_id": high["instance_id"]},
                   {"name": "Nope", "instance_id": 1}]}).json()["results"]
    assert result[0] == {"name": "Oven_Zone2_Temp_H", "instance_id": high["instance_id"],
                         "ok": True, "error": None}
    assert result[1]["ok"] is False and "state" in result[1]["error"]
    assert result[2]["ok"] is False and result[2]["error"] == "unknown alarm"
    after = client.get("/api/v1/alarms/active", headers=bearer(sim)).json()["alarms"]
    high = next(a for a in after if a["name"] == "Oven_Zone2_Temp_H")
    assert (high["state"], high["acknowledged_by"]) == ("active_acked", sim.users.rw.username)


def test_states_for_returned_and_latched_alarms(sim, client):
    sim.raise_alarm("Tank_Level_L")
    sim.clear_alarm("Tank_Level_L")
    sim.raise_alarm("Pump_Fault")
    sim.clear_alarm("Pump_Fault")
    alarms = {a["name"]: a for a in
              client.get("/api/v1/alarms/active", headers=bearer(sim)).json()["alarms"]}
    assert alarms["Tank_Level_L"]["state"] == "cleared_unacked"
    assert alarms["Pump_Fault"]["state"] == "latched_unacked"


def test_write_moves_the_plant_and_reports_per_item(sim, client):
    response = client.put("/api/v1/tags", headers=bearer(sim, "rw"), json={"tags": [
        {"name": "Tank_InletPump_On", "value": True}, {"name": "Tank_Level", "value": 3}]})
    assert response.json()["results"] == [
        {"name": "Tank_InletPump_On", "ok": True, "error": None},
        {"name": "Tank_Level", "ok": False,
         "error": "tag 'Tank_Level' is a process value and cannot be written"}]
    start = sim.value("Tank_Level")
    wait_until(lambda: sim.value("Tank_Level") > start)


@pytest.mark.parametrize(
    ("method", "path", "kwargs", "status"),
    [
        ("GET", "/api/v1/tags", {}, 400),
        ("PUT", "/api/v1/tags", {"content": b"{"}, 400),
        ("PUT", "/api/v1/tags", {"json": {"tags": [{"value": 1}]}}, 400),
        ("POST", "/api/v1/alarms/acknowledge", {"json": {"alarms": "all"}}, 400),
        ("POST", "/api/v1/alarms/acknowledge",
         {"json": {"alarms": [{"name": "A", "instance_id": "1"}]}}, 400),
        ("GET", "/api/v1/nothing", {}, 404),
    ],
)
def test_bad_requests_get_a_clear_error_and_change_nothing(sim, client, method, path, kwargs,
                                                           status):
    response = client.request(method, path, headers=bearer(sim, "rw"), **kwargs)
    assert response.status_code == status
    assert response.json()["error"]
    assert sim.requests_log() == []


def test_missing_or_wrong_token_is_401(sim, client):
    assert client.get("/api/v1/alarms/active").status_code == 401
    wrong = client.get("/api/v1/alarms/active", headers={"Authorization": "Bearer nope"})
    assert wrong.status_code == 401 and wrong.json()["error"]
    basic = client.get("/api/v1/alarms/active", auth=(sim.users.ro.username, sim.users.ro.password))
    assert basic.status_code == 401
