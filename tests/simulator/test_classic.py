"""Face 1, Classic WinCC REST, over HTTPS with the pinned certificate."""

from __future__ import annotations

import base64

import pytest

from tests.fixtures.simulator import wait_until
from tests.simulator.conftest import basic, bearer

BASE = "/WinCCRestService"


def test_values_are_a_top_level_array_with_the_reference_fields(sim, client):
    response = client.post(f"{BASE}/tagManagement/Values", auth=basic(sim),
                           json={"variableNames": ["Oven_Zone1_Temp", "Conveyor_Running", "X"]})
    assert response.status_code == 200
    assert response.headers["content-type"] == "application/json"
    items = response.json()
    assert isinstance(items, list) and len(items) == 3
    temp, running, unknown = items
    assert set(temp) == {"variableName", "dataType", "value", "timestamp", "qualityCode"}
    assert temp["variableName"] == "Oven_Zone1_Temp" and temp["dataType"] == 8
    assert isinstance(temp["value"], float) and temp["qualityCode"] == 192
    assert temp["timestamp"].endswith("Z") and len(temp["timestamp"]) == 24
    assert running["value"] is True and running["dataType"] == 1
    assert unknown["variableName"] == "X" and "unknown tag" in unknown["error"]


@pytest.mark.parametrize("path", ["/WinCCRestService/tagManagement/Value/Tank_Level",
                                  "/winccrestservice/TagManagement/value/Tank_Level",
                                  "/WINCCRESTSERVICE/TAGMANAGEMENT/VALUE/Tank_Level"])
def test_paths_match_case_insensitively(sim, client, path):
    response = client.get(path, auth=basic(sim))
    assert response.status_code == 200
    assert response.json()["variableName"] == "Tank_Level"


def test_missing_or_wrong_basic_auth_is_refused(sim, client):
    body = {"variableNames": ["Tank_Level"]}
    missing = client.post(f"{BASE}/tagManagement/Values", json=body)
    assert missing.status_code == 401
    assert missing.headers["www-authenticate"].startswith("Basic")
    assert "error" in missing.json()
    wrong = client.post(f"{BASE}/tagManagement/Values", json=body,
                        auth=(sim.users.ro.username, "wrong-password"))
    assert wrong.status_code == 401
    garbage = client.post(f"{BASE}/tagManagement/Values", json=body,
                          headers={"Authorization": "Basic !!notbase64"})
    assert garbage.status_code == 401
    no_colon = base64.b64encode(b"api_ro").decode()
    assert client.post(f"{BASE}/tagManagement/Values", json=body,
                       headers={"Authorization": f"Basic {no_colon}"}).status_code == 401


def test_bearer_pass_through_with_a_static_token(sim, client):
    response = client.get(f"{BASE}/tagManagement/Value/Tank_Level", headers=bearer(sim))
    assert response.status_code == 200


def test_single_write_answers_errorcode_and_moves_the_plant(sim, client):
    response = client.put(f"{BASE}/tagManagement/Value/Oven_Zone2_Setpoint", auth=basic(sim, "rw"),
                          json={"value": 260})
    assert response.json() == {"variableName": "Oven_Zone2_Setpoint", "errorcode": 0}
    wait_until(lambda: sim.value("Oven_Zone2_Temp") > 205)
    refused = client.put(f"{BASE}/tagManagement/Value/Oven_Zone2_Temp", auth=basic(sim, "rw"),
                         json={"value": 1})
    assert refused.status_code == 200
    assert refused.json()["errorcode"] != 0 and "process value" in refused.json()["error"]


def test_many_writes_take_a_bare_array_and_answer_per_item(sim, client):
    response = client.put(f"{BASE}/tagManagement/Values", auth=basic(sim, "rw"), json=[
        {"variableName": "Conveyor_Speed_Setpoint", "value": 30},
        {"variableName": "Conveyor_Speed_Setpoint", "value": 99},
        {"variableName": "Nope", "value": 1},
        {"value": 1},
    ])
    ok, out_of_range, unknown, nameless = response.json()
    assert ok == {"variableName": "Conveyor_Speed_Setpoint"}
    assert "outside" in out_of_range["error"]
    assert "unknown tag" in unknown["error"]
    assert "variableName" in nameless["error"]
    assert sim.value("Conveyor_Speed_Setpoint") == 30


@pytest.mark.parametrize(
    ("method", "path", "body", "status"),
    [
        ("POST", "/tagManagement/Values", "not json", 400),
        ("POST", "/tagManagement/Values", {"names": ["A"]}, 400),
        ("POST", "/tagManagement/Values", {"variableNames": "A"}, 400),
        ("PUT", "/tagManagement/Values", {"variableName": "A", "value": 1}, 400),
        ("PUT", "/tagManagement/Value/Tank_Level", {"val": 1}, 400),
        ("DELETE", "/tagManagement/Values", None, 405),
        ("GET", "/alarmLogging/acknowledge", None, 404),
        ("POST", "/alarmLogging/MessageList/ActiveAlarms/acknowledge", {}, 404),
    ],
)
def test_bad_requests_get_a_clear_error(sim, client, method, path, body, status):
    kwargs = {"content": body} if isinstance(body, str) else {"json": body}
    response = client.request(method, BASE + path, auth=basic(sim, "rw"), **kwargs)
    assert response.status_code == status
    assert response.json()["error"]
    assert sim.requests_log() == []


def test_configuration_lists_page_with_item_limit_and_continuation_point(sim, client):
    everything = client.get(f"{BASE}/tagManagement/variables", auth=basic(sim)).json()
    assert len(everything) == sim.state()["tag_count"]
    first = client.get(f"{BASE}/tagManagement/variables", auth=basic(sim),
                       params={"itemLimit": 10}).json()
    second = client.get(f"{BASE}/tagManagement/variables", auth=basic(sim),
                        params={"itemLimit": 10, "continuationPoint": 10}).json()
    assert first + second == everything[:20]
    assert {"variableName", "dataType", "connection", "group"} <= set(first[0])
    oven = client.get(f"{BASE}/tagManagement/variables", auth=basic(sim),
                      params={"variableName": "Oven_*_Setpoint"}).json()
    assert [v["variableName"] for v in oven] == [f"Oven_Zone{z}_Setpoint" for z in (1, 2, 3)]
    connections = client.get(f"{BASE}/tagManagement/Connections", auth=basic(sim)).json()
    assert "PLC_Oven" in {c["name"] for c in connections}
    groups = client.get(f"{BASE}/tagManagement/Groups", auth=basic(sim)).json()
    assert {"name": "Oven", "connection": "PLC_Oven"} in groups
    assert client.get(f"{BASE}/tagManagement/Group/Tank", auth=basic(sim)).status_code == 200
    assert client.get(f"{BASE}/tagManagement/variables", auth=basic(sim),
                      params={"itemLimit": "ten"}).status_code == 400


def test_tag_logging_returns_history_in_both_forms(sim, client):
    wait_until(lambda: len(client.post(f"{BASE}/tagLogging/Values", auth=basic(sim),
                                       json={"variableNames": ["Tank_Level"]}).json()[0]
                           ["values"]) >= 2)
    by_archive = client.post(
        f"{BASE}/TagLogging/Archive/ProcessValueArchive/values", auth=basic(sim),
        params={"maxValues": 1}, json={"variableNames": ["Tank_Level", "Nope"]},
    ).json()
    assert len(by_archive[0]["values"]) == 1
    assert set(by_archive[0]["values"][0]) == {"value", "timestamp", "qualityCode"}
    assert by_archive[1]["error"]
    nested = client.post(f"{BASE}/tagLogging/Values", auth=basic(sim), json={"archives": [
        {"name": "ProcessValueArchive",
         "variables": [{"name": "Oven_Zone1_Temp", "maxValues": 5}]}]}).json()
    assert nested[0]["variableName"] == "Oven_Zone1_Temp" and nested[0]["values"]
    unknown = client.post(f"{BASE}/tagLogging/Archive/Other/values", auth=basic(sim),
                          json={"variableNames": ["Tank_Level"]})
    assert unknown.status_code == 404


def test_message_list_shows_alarms_and_acknowledge_works_only_through_the_ack_tag(sim, client):
    sim.set_tag("Tank_Level", 8.0)
    messages = client.get(f"{BASE}/alarmLogging/MessageList/ActiveAlarms", auth=basic(sim))
    low = next(m for m in messages.json() if m["Name"] == "Tank_Level_L")
    assert (low["State"], low["StateText"], low["Class"], low["AckRequired"]) == (
        1, "+", "Warning", True)
    assert {"MsgNr", "InstanceID", "Priority", "DateTime", "Text1", "InfoText"} <= set(low)
    written = client.put(f"{BASE}/tagManagement/Value/Ack_Tank_Level_L", auth=basic(sim, "rw"),
                         json={"value": 1})
    assert written.json()["errorcode"] == 0
    messages = client.get(f"{BASE}/alarmLogging/MessageList/ActiveAlarms", auth=basic(sim))
    low = next(m for m in messages.json() if m["Name"] == "Tank_Level_L")
    assert (low["State"], low["User"]) == (3, sim.users.rw.username)
    assert client.get(f"{BASE}/alarmLogging/MessageList/Other",
                      auth=basic(sim)).status_code == 404
