"""Every fault switch, as the reliability tests of the other parts use them."""

from __future__ import annotations

import socket
import time

import httpx
import pytest

from tests.fixtures.simulator import wait_until
from tests.simulator.conftest import basic, bearer, gql, login

VALUES = "/WinCCRestService/tagManagement/Values"


def read(sim, client):
    return client.post(VALUES, auth=basic(sim), json={"variableNames": ["Tank_Level"]})


def test_added_latency(sim, client):
    sim.set_faults(latency_ms=300)
    started = time.monotonic()
    assert read(sim, client).status_code == 200
    assert time.monotonic() - started >= 0.3  # a lower bound the fault guarantees


@pytest.mark.parametrize("status", [500, 503])
def test_error_rate_answers_the_chosen_status(sim, client, status):
    sim.set_faults(error_rate=1, error_status=status)
    response = read(sim, client)
    assert response.status_code == status and response.json()["error"]
    sim.set_faults(error_rate=0)
    assert read(sim, client).status_code == 200


def test_a_partial_error_rate_fails_some_requests_and_not_others(sim, client):
    sim.set_faults(error_rate=0.5)
    statuses = {read(sim, client).status_code for _ in range(30)}
    assert statuses == {200, 500}


def test_dropped_connections(sim, client):
    sim.set_faults(drop_rate=1)
    with pytest.raises(httpx.RemoteProtocolError):
        read(sim, client)
    sim.clear_faults()
    assert read(sim, client).status_code == 200


def test_malformed_and_truncated_json(sim, client):
    sim.set_faults(malformed_rate=1)
    malformed = read(sim, client)
    assert malformed.status_code == 200
    with pytest.raises(ValueError):
        malformed.json()
    sim.set_faults(malformed_rate=0, truncated_rate=1)
    truncated = read(sim, client)
    assert truncated.status_code == 200
    assert truncated.text.startswith('[{"variableName":"Tank_Level"')
    with pytest.raises(ValueError):
        truncated.json()


def test_faults_can_be_limited_to_one_face(sim, client):
    sim.set_faults(error_rate=1, faces=["rest-v1"])
    assert read(sim, client).status_code == 200
    assert client.get("/api/v1/tags?names=Tank_Level", headers=bearer(sim)).status_code == 500


def test_expired_tokens(sim, client):
    token = login(client, sim.users.ro.username, sim.users.ro.password)
    sim.set_faults(expired_tokens=True)
    body = gql(client, "query{session{expires}}", None, token)
    assert body["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"
    assert client.get("/api/v1/tags?names=Tank_Level", headers=bearer(sim)).status_code == 401
    assert read(sim, client).status_code == 200  # Basic auth has no token to expire
    sim.set_faults(expired_tokens=False)
    assert "errors" not in gql(client, "query{session{expires}}", None, token)


def test_expire_sessions_forces_a_new_login(sim, client):
    token = login(client, sim.users.ro.username, sim.users.ro.password)
    assert sim.expire_sessions() >= 1
    assert gql(client, "query{session{expires}}", None, token)["data"] is None
    fresh = login(client, sim.users.ro.username, sim.users.ro.password)
    assert "errors" not in gql(client, "query{session{expires}}", None, fresh)


def test_a_tag_with_bad_quality_on_every_face(sim, client):
    sim.set_faults(bad_quality=["Tank_Level"])
    assert read(sim, client).json()[0]["qualityCode"] == 0x18
    v1 = client.get("/api/v1/tags?names=Tank_Level,Tank_Outflow", headers=bearer(sim)).json()
    assert [t["quality"] for t in v1["tags"]] == ["bad", "good"]
    token = login(client, sim.users.ro.username, sim.users.ro.password)
    body = gql(client, 'query{tagValues(names:["Tank_Level"]){value{quality{quality}}}}', None,
               token)
    assert body["data"]["tagValues"][0]["value"]["quality"]["quality"] == "BAD"


def test_all_values_frozen(sim, client):
    sim.set_faults(freeze=True)
    first = read(sim, client).json()
    time.sleep(0.6)  # more than two plant ticks
    assert read(sim, client).json() == first
    sim.set_faults(freeze=False)
    wait_until(lambda: read(sim, client).json() != first)


def test_stopped_listener_refuses_connections_and_comes_back(sim, client):
    sim.stop_listener()
    with pytest.raises(httpx.ConnectError):
        read(sim, client)
    assert sim.state("Tank_Level")["faults"]["listener"] == "stopped"
    sim.start_listener()
    assert read(sim, client).status_code == 200


def test_a_listener_whose_port_was_taken_says_so(sim, client):
    sim.stop_listener()
    port = int(sim.url.rsplit(":", 1)[1])
    with socket.socket() as squatter:
        # Connections the stopped listener closed linger in TIME_WAIT on its port.
        squatter.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        squatter.bind(("127.0.0.1", port))
        squatter.listen()
        with pytest.raises(AssertionError, match=r"-> 409: .*cannot listen"):
            sim.start_listener()
    sim.start_listener()
    assert read(sim, client).status_code == 200


def test_scenarios_through_the_admin_listener(sim, client):
    sim.start_scenario("flood", count=15, duration=30, spacing=0.05)
    wait_until(lambda: len([a for a in sim.alarms() if a["name"].startswith("Aux_")]) == 15)
    sim.start_scenario("chatter", period=0.5)
    wait_until(lambda: len([h for h in sim.alarm_history() if h["alarm"] == "Conveyor_Fault"
                            and h["event"] == "raised"]) >= 3)
    sim.start_scenario("stuck", tag="Oven_Zone1_Temp")
    stuck = sim.state("Oven_Zone1_Temp")["tags"]["Oven_Zone1_Temp"]
    time.sleep(0.6)
    assert sim.state("Oven_Zone1_Temp")["tags"]["Oven_Zone1_Temp"] == stuck
    sim.stop_scenario("stuck")
    wait_until(lambda: sim.value("Oven_Zone1_Temp") != stuck["value"])


def test_force_and_release_a_value(sim, client):
    sim.set_tag("Aux_Sensor_0004", 42.5)
    assert read(sim, client).status_code == 200
    body = client.post(VALUES, auth=basic(sim), json={"variableNames": ["Aux_Sensor_0004"]})
    assert body.json()[0]["value"] == 42.5
    sim.release_tag("Aux_Sensor_0004")
    assert sim.value("Aux_Sensor_0004") != 42.5


def test_faces_without_an_alarm_list(sim, client):
    token = {"Authorization": f"Bearer {sim.users.ro.token}"}
    assert sim.set_faults(no_alarm_list=["rest-v1", "classic"])["no_alarm_list"] == [
        "rest-v1", "classic"]
    missing = client.get("/api/v1/alarms/active", headers=token)
    assert missing.status_code == 404 and "no such resource" in missing.json()["error"]
    assert client.get("/api/v1/tags?names=Tank_Level", headers=token).status_code == 200
    messages = client.get("/WinCCRestService/alarmLogging/MessageList/ActiveAlarms",
                          auth=basic(sim))
    assert messages.status_code == 404
    assert read(sim, client).status_code == 200
    session = login(client, sim.users.ro.username, sim.users.ro.password)
    # Unified is not in the list: its alarm list still answers.
    assert isinstance(gql(client, "query{activeAlarms{name}}", None, session)["data"][
        "activeAlarms"], list)
    counts = sim.state("Tank_Level")["request_counts"]
    assert [counts[f"{face} alarm list"] for face in ("rest-v1", "classic", "unified")] == [
        1, 1, 1]
    sim.set_faults(no_alarm_list=["unified"])
    refused = gql(client, "query{activeAlarms{name}}", None, session)
    assert refused == {"errors": [{"message": "Cannot query field 'activeAlarms' on type "
                                              "'Query'.", "locations": [{"line": 1, "column": 7}]}]}
    assert client.get("/api/v1/alarms/active", headers=token).status_code == 200


@pytest.mark.parametrize(
    ("method", "path", "body"),
    [
        ("PUT", "/admin/faults", {"error_rate": 2}),
        ("PUT", "/admin/faults", {"error_status": 418}),
        ("PUT", "/admin/faults", {"latency_ms": "slow"}),
        ("PUT", "/admin/faults", {"gremlins": True}),
        ("PUT", "/admin/faults", {"bad_quality": ["Nope"]}),
        ("PUT", "/admin/faults", {"freeze": "yes"}),
        ("PUT", "/admin/faults", {"faces": ["opc-ua"]}),
        ("PUT", "/admin/faults", {"no_alarm_list": ["opc-ua"]}),
        ("PUT", "/admin/faults", {"no_alarm_list": "rest-v1"}),
        ("PUT", "/admin/tags/Nope", {"value": 1}),
        ("PUT", "/admin/tags/Tank_Level", {"hold": True}),
        ("PUT", "/admin/tags/Tank_Level", {"value": "full"}),
        ("POST", "/admin/alarms/Nope/raise", None),
        ("POST", "/admin/alarms/Tank_Level_L/explode", None),
        ("POST", "/admin/scenarios/earthquake", None),
        ("POST", "/admin/scenarios/stuck", {"tag": "Nope"}),
        ("POST", "/admin/scenarios/flood", {"count": "many"}),
    ],
)
def test_bad_admin_input_is_refused_and_changes_nothing(sim, method, path, body):
    before = sim.state()
    with pytest.raises(AssertionError, match=r"-> 40[04]: .*error"):
        sim.admin(method, path, body)
    after = sim.state()
    assert after["faults"] == before["faults"]
    assert after["alarms"] == before["alarms"] and after["scenarios"] == before["scenarios"]


def test_the_admin_listener_needs_its_own_token(sim):
    with httpx.Client(base_url=sim.admin_url) as admin:
        assert admin.get("/admin/health").status_code == 200
        assert admin.post("/admin/reset").status_code == 401
        wrong = admin.put("/admin/faults", json={"error_rate": 1},
                          headers={"Authorization": f"Bearer {sim.users.rw.token}"})
        assert wrong.status_code == 401
    assert sim.state()["faults"]["error_rate"] == 0
