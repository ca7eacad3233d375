"""Classic WinCC REST: what real servers send, including the odd answers (respx)."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import httpx
import pytest
import respx

from wincc_bridge.client import (
    AckTag,
    ConnectionSettings,
    NotSupportedError,
    ProtocolError,
    capabilities_of,
    open_client,
)
from wincc_bridge.models import AlarmState, Quality

URL = "http://wincc.test:34568"
BASE = URL + "/WinCCRestService"


def client(**changes):
    settings = ConnectionSettings(
        dialect="classic", url=URL, username="api_rw", password="pw", site="plant", **changes
    )
    return open_client(settings)


@pytest.fixture
def wincc():
    with respx.mock(base_url=BASE, assert_all_called=False) as mock:
        yield mock


def asked(route) -> list:
    return [json.loads(call.request.content) for call in route.calls]


def test_read_sends_basic_auth_and_variable_names(wincc) -> None:
    route = wincc.post("/tagManagement/Values").respond(
        json=[
            {
                "variableName": "T1",
                "dataType": 8,
                "value": 12.5,
                "timestamp": "2024-05-01T10:00:00.000Z",
                "qualityCode": 192,
            }
        ]
    )
    with client() as c:
        [value] = c.read_tags(["T1"])
    assert asked(route) == [{"variableNames": ["T1"]}]
    assert route.calls[0].request.headers["Authorization"] == "Basic YXBpX3J3OnB3"
    assert value.to_json() == {
        "name": "T1",
        "value": 12.5,
        "quality": "good",
        "quality_code": 192,
        "timestamp": "2024-05-01T10:00:00Z",
        "error": None,
    }


@pytest.mark.parametrize(
    ("code", "quality"),
    [
        (192, Quality.GOOD),
        (0xD8, Quality.GOOD),
        (0x40, Quality.UNCERTAIN),
        (0x54, Quality.UNCERTAIN),
        (0x00, Quality.BAD),
        (0x18, Quality.BAD),
        (0x80, Quality.GOOD),
        ("192", Quality.GOOD),
        ("0x48", Quality.UNCERTAIN),
        (192.0, Quality.GOOD),
    ],
)
def test_quality_is_the_opc_byte(wincc, code, quality) -> None:
    wincc.post("/tagManagement/Values").respond(
        json=[{"variableName": "T1", "value": 1, "qualityCode": code}]
    )
    with client() as c:
        [value] = c.read_tags(["T1"])
    assert value.quality is quality
    assert value.quality_code == (int(code, 0) if isinstance(code, str) else int(code))


def test_case_insensitive_keys_and_all_value_types(wincc) -> None:
    wincc.post("/tagManagement/Values").respond(
        json=[
            {"VariableName": "B", "Value": True, "QualityCode": 192},
            {"Tagname": "I", "value": 7, "qualitycode": 192, "TimeStamp": "2024-05-01T12:00:00"},
            {"variablename": "F", "value": 0.25, "timestamp": "2024-05-01T12:00:00+02:00"},
            {"variableName": "S", "value": "Batch 42", "timestamp": None},
        ]
    )
    with client() as c:
        values = {v.name: v for v in c.read_tags(["B", "I", "F", "S"])}
    assert values["B"].value is True
    assert values["I"].value == 7
    assert values["I"].timestamp == datetime(2024, 5, 1, 12, tzinfo=UTC)  # unmarked: UTC
    assert values["F"].timestamp == datetime(2024, 5, 1, 10, tzinfo=UTC)
    assert values["F"].quality is Quality.GOOD  # no code, a value, no error
    assert values["S"].value == "Batch 42"
    assert values["S"].timestamp is None


def test_per_item_error_and_missing_items(wincc) -> None:
    wincc.post("/tagManagement/Values").respond(
        json=[
            {"variableName": "T1", "value": 1, "qualityCode": 192},
            {"variableName": "Nope", "error": "Variable not found"},
        ]
    )
    with client() as c:
        values = c.read_tags(["T1", "Nope", "Gone"])
    assert [v.name for v in values] == ["T1", "Nope", "Gone"]
    assert values[0].error is None
    assert values[1].error == "Variable not found"
    assert values[1].quality is Quality.BAD
    assert values[2].error == "the server did not return this tag"


@pytest.mark.parametrize("body", [b"", b"[]", b"  \n", b"null"])
def test_empty_answer_loses_no_tag(wincc, body) -> None:
    wincc.post("/tagManagement/Values").respond(content=body)
    with client() as c:
        values = c.read_tags(["A", "B"])
    assert [(v.name, v.quality, v.error) for v in values] == [
        ("A", Quality.BAD, "the server did not return this tag"),
        ("B", Quality.BAD, "the server did not return this tag"),
    ]


def test_names_answered_in_other_case_or_without_names(wincc) -> None:
    wincc.post("/tagManagement/Values").mock(
        side_effect=[
            httpx.Response(200, json=[{"variableName": "TANK_LEVEL", "value": 3}]),
            httpx.Response(200, json=[{"value": 1}, {"value": 2}]),
        ]
    )
    with client() as c:
        assert c.read_tags(["Tank_Level"])[0].value == 3
        assert [v.value for v in c.read_tags(["X", "Y"])] == [1, 2]


def test_large_lists_go_in_batches(wincc) -> None:
    route = wincc.post("/tagManagement/Values").mock(
        side_effect=lambda request: httpx.Response(
            200,
            json=[
                {"variableName": n, "value": 0}
                for n in json.loads(request.content)["variableNames"]
            ],
        )
    )
    names = [f"T{i}" for i in range(7)]
    with client(batch_size=3) as c:
        values = c.read_tags(names)
    assert [len(body["variableNames"]) for body in asked(route)] == [3, 3, 1]
    assert [v.name for v in values] == names


@pytest.mark.parametrize(
    "body",
    [{"variableName": "T1", "value": 5}, {"Values": [{"variableName": "T1", "value": 5}]}],
)
def test_single_object_or_wrapped_answers(wincc, body) -> None:
    wincc.post("/tagManagement/Values").respond(json=body)
    with client() as c:
        assert c.read_tags(["T1"])[0].value == 5


@pytest.mark.parametrize(
    ("body", "snippet"),
    [({"error": "license missing"}, "license missing"), (42, "42"), ("text", "text")],
)
def test_answer_that_is_not_a_value_list(wincc, body, snippet) -> None:
    wincc.post("/tagManagement/Values").respond(json=body)
    with client() as c, pytest.raises(ProtocolError) as caught:
        c.read_tags(["T1"])
    assert snippet in caught.value.snippet
    assert snippet in str(caught.value)


def test_write_sends_a_bare_array_and_reads_per_item_errors(wincc) -> None:
    route = wincc.put("/tagManagement/Values").respond(
        json=[
            {"variableName": "A"},
            {"variableName": "B", "error": "read only"},
            {"variableName": "C", "errorcode": 5},
        ]
    )
    with client() as c:
        results = c.write_tags({"A": 1, "B": True, "C": "x", "D": 2.5})
    assert asked(route) == [
        [
            {"variableName": "A", "value": 1},
            {"variableName": "B", "value": True},
            {"variableName": "C", "value": "x"},
            {"variableName": "D", "value": 2.5},
        ]
    ]
    assert [(r.name, r.ok, r.error) for r in results] == [
        ("A", True, None),
        ("B", False, "read only"),
        ("C", False, "error code 5"),
        ("D", False, "the server did not confirm this item"),
    ]


def test_write_with_an_empty_answer_is_confirmed_by_its_status(wincc) -> None:
    wincc.put("/tagManagement/Values").respond(204)
    with client() as c:
        assert [r.ok for r in c.write_tags({"A": 1, "B": 2})] == [True, True]


def test_browse_filters_without_regard_to_case(wincc) -> None:
    wincc.get("/tagManagement/variables").respond(
        json=[
            {"variableName": "Oven_Zone1_Temp", "dataType": 8},
            {"name": "Tank_Level"},
            "OVEN_ZONE2_TEMP",
            17,
        ]
    )
    with client() as c:
        found = c.browse("oven*")
    assert [(b.name, b.data_type) for b in found] == [
        ("Oven_Zone1_Temp", "8"),
        ("OVEN_ZONE2_TEMP", ""),
    ]


def test_active_alarms_need_a_rest_filter() -> None:
    with client() as c:
        assert c.capabilities().active_alarms is False
        with pytest.raises(NotSupportedError) as caught:
            c.active_alarms()
    assert "REST filter" in str(caught.value)
    assert URL in str(caught.value)


def test_unknown_rest_filter_is_not_supported(wincc) -> None:
    wincc.get("/alarmLogging/MessageList/Nope").respond(404)
    with client(alarm_filter="Nope") as c, pytest.raises(NotSupportedError) as caught:
        c.active_alarms()
    assert "'Nope'" in str(caught.value)


MESSAGE = {
    "MsgNr": 1001,
    "InstanceID": 1,
    "Name": "Oven_Zone1_Temp_HH",
    "State": 1,
    "StateText": "+",
    "Class": "Alarm",
    "Type": "Alarm high",
    "Priority": 12,
    "AckRequired": True,
    "DateTime": "2026-11-26T10:00:00.000Z",
    "AckTime": None,
    "ClearTime": None,
    "Text1": "Zone 1 too hot",
    "Text2": "Oven",
    "InfoText": "Open vent",
    "User": "",
}


def test_message_list_becomes_alarms(wincc) -> None:
    route = wincc.get("/alarmLogging/MessageList/ActiveAlarms").respond(
        json=[
            MESSAGE,
            {
                **MESSAGE,
                "InstanceID": 2,
                "State": "3",
                "User": "op1",
                "AckTime": "2026-11-26T10:01:00Z",
            },
        ]
    )
    settings = {
        "alarm_filter": "ActiveAlarms",
        "ack_tags": {"Oven_Zone1_Temp_HH": AckTag("Ack_Oven_Zone1_Temp_HH")},
    }
    with client(**settings) as c:
        first, second = c.active_alarms()
    assert route.calls[0].request.headers["Accept-Language"] == "en-US"
    assert (first.name, first.instance_id, first.state) == (
        "Oven_Zone1_Temp_HH",
        1,
        AlarmState.UNACKNOWLEDGED,
    )
    assert (first.priority, first.alarm_class, first.event_text, first.info_text, first.area) == (
        12,
        "Alarm",
        "Zone 1 too hot",
        "Open vent",
        "Oven",
    )
    assert first.raise_time == datetime(2026, 11, 26, 10, tzinfo=UTC)
    assert first.can_acknowledge is True
    assert first.site == "plant"
    assert second.state is AlarmState.ACKNOWLEDGED
    assert second.acknowledged_by == "op1"
    assert second.can_acknowledge is False


def test_odd_messages_are_kept(wincc) -> None:
    wincc.get("/alarmLogging/MessageList/F").respond(
        json=[
            {"msgnr": 7, "state": "went out", "priority": 40},
            {"MsgNr": 8, "State": 99, "Flavour": "x"},
            "junk",
        ]
    )
    with client(alarm_filter="F") as c:
        alarms = c.active_alarms()
    assert [(a.name, a.state, a.priority) for a in alarms] == [
        ("7", AlarmState.RETURNED_UNACKNOWLEDGED, 16),
        ("8", AlarmState.UNACKNOWLEDGED, 0),
    ]
    assert alarms[1].source_state == "99"
    assert all(not a.can_acknowledge for a in alarms)


def test_acknowledge_without_ack_tags_is_not_supported() -> None:
    with client() as c:
        assert c.capabilities().acknowledge is False
        with pytest.raises(NotSupportedError, match="no acknowledge endpoint"):
            c.acknowledge([("Conveyor_Fault", 1)])


def test_acknowledge_writes_the_mapped_tag(wincc) -> None:
    route = wincc.put("/tagManagement/Values").respond(json=[{"variableName": "Ack_Conv"}])
    with client(ack_tags={"Conveyor_Fault": AckTag("Ack_Conv", 1)}) as c:
        assert c.capabilities().acknowledge is True
        results = c.acknowledge([("Conveyor_Fault", 3), ("Pump_Fault", 1)])
    assert asked(route) == [[{"variableName": "Ack_Conv", "value": 1}]]
    assert [(r.name, r.ok, r.error, r.instance_id) for r in results] == [
        ("Conveyor_Fault", True, None, 3),
        ("Pump_Fault", False, "no acknowledge tag is configured for alarm Pump_Fault", 1),
    ]


def test_ping_falls_back_to_a_value_read(wincc) -> None:
    wincc.get("/tagManagement/Connections").respond(404)
    values = wincc.post("/tagManagement/Values").respond(json=[])
    with client() as c:
        c.ping()
    assert values.called


def test_server_without_a_tag_list(wincc) -> None:
    wincc.get("/tagManagement/variables").respond(404)
    wincc.post("/tagManagement/variables").respond(404)
    with client() as c, pytest.raises(NotSupportedError, match="does not list its tags"):
        c.browse()


def test_capabilities_are_known_without_connecting() -> None:
    tags = {"Conveyor_Fault": AckTag("Ack_Conv", 1)}
    settings = ConnectionSettings(dialect="classic", url="https://nowhere.invalid:1", ack_tags=tags)
    capabilities = capabilities_of(settings)
    assert capabilities.can_acknowledge("Conveyor_Fault")
    assert not capabilities.can_acknowledge("Pump_Fault")
    assert "Pump_Fault has none" in capabilities.why_not_acknowledge("Pump_Fault")
    unified = capabilities_of(ConnectionSettings(dialect="unified", url="https://x"))
    assert unified.can_acknowledge("anything")
    with pytest.raises(NotSupportedError, match="unknown dialect 'opc'"):
        capabilities_of(ConnectionSettings(dialect="opc", url="https://x"))


def test_browse_pages_with_item_limit_and_continuation_point(wincc) -> None:
    names = [f"Tag_{n:03d}" for n in range(7)]

    def page(request: httpx.Request) -> httpx.Response:
        start = int(request.url.params["continuationPoint"])
        limit = int(request.url.params["itemLimit"])
        return httpx.Response(200, json=[{"variableName": n} for n in names[start : start + limit]])

    route = wincc.get("/tagManagement/variables").mock(side_effect=page)
    with client(browse_page_size=3) as c:
        found = c.browse()
    assert [b.name for b in found] == names
    # Only the empty page after the last ends the list (a server may cap pages).
    assert [call.request.url.params["continuationPoint"] for call in route.calls] == [
        "0",
        "3",
        "6",
        "7",
    ]


def test_browse_follows_a_continuation_point_the_server_names(wincc) -> None:
    pages = {
        "0": {"variables": [{"variableName": "A"}, {"variableName": "B"}], "continuationPoint": 10},
        "10": {"variables": [{"variableName": "C"}], "continuationPoint": None},
    }
    wincc.get("/tagManagement/variables").mock(
        side_effect=lambda r: httpx.Response(200, json=pages[r.url.params["continuationPoint"]])
    )
    with client(browse_page_size=2) as c:
        assert [b.name for b in c.browse()] == ["A", "B", "C"]


def test_browse_stops_when_the_server_ignores_the_continuation_point(wincc) -> None:
    route = wincc.get("/tagManagement/variables").respond(
        json=[{"variableName": "A"}, {"variableName": "B"}]
    )
    with client(browse_page_size=2) as c:
        assert [b.name for b in c.browse()] == ["A", "B"]
    assert route.call_count == 2


def test_browse_falls_back_to_post(wincc) -> None:
    wincc.get("/tagManagement/variables").respond(405)
    post = wincc.post("/tagManagement/variables").respond(json=[{"variableName": "A"}])
    with client() as c:
        assert [b.name for b in c.browse()] == ["A"]
    assert post.calls[0].request.url.params["itemLimit"] == "1000"


@pytest.mark.parametrize(
    "stamp",
    ["/Date(1714557600000)/", "/Date(1714557600000+0200)/", "/Date(1714557600000-0500)/"],
)
def test_dotnet_dates(wincc, stamp) -> None:
    wincc.post("/tagManagement/Values").respond(
        json=[{"variableName": "T1", "value": 1, "timestamp": stamp, "qualityCode": 192}]
    )
    with client() as c:
        [value] = c.read_tags(["T1"])
    assert value.timestamp == datetime(2024, 5, 1, 10, 0, tzinfo=UTC)


def test_ping_reads_one_tag_when_an_empty_list_is_refused(wincc) -> None:
    wincc.get("/tagManagement/Connections").respond(404)
    asked_for = []

    def values(request: httpx.Request) -> httpx.Response:
        names = json.loads(request.content)["variableNames"]
        asked_for.append(names)
        if not names:
            return httpx.Response(400, json={"error": "variableNames must not be empty"})
        return httpx.Response(200, json=[{"variableName": names[0], "value": 1}])

    wincc.post("/tagManagement/Values").mock(side_effect=values)
    wincc.get("/tagManagement/variables").respond(json=[{"variableName": "First_Tag"}])
    with client() as c:
        c.ping()
    with client(ping_tag="Known_Tag") as c:
        c.ping()
    assert asked_for == [[], ["First_Tag"], [], ["Known_Tag"]]
