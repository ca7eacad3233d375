"""WinCC Unified GraphQL: sessions, two levels of errors, quality, alarms (respx)."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import httpx
import pytest
import respx

from wincc_bridge.client import AuthError, ConnectionSettings, ProtocolError, open_client
from wincc_bridge.dialects import unified as unified_module
from wincc_bridge.models import AlarmState, Quality

URL = "http://unified.test"
GRAPHQL = URL + "/graphql"


def client(**changes):
    fields = {"username": "api_rw", "password": "pw", "site": "plant", **changes}
    return open_client(ConnectionSettings(dialect="unified", url=URL, **fields))


def later(seconds: float) -> str:
    return (datetime.now(UTC) + timedelta(seconds=seconds)).isoformat().replace("+00:00", "Z")


class Unified:
    """A scripted GraphQL endpoint: answers per top-level field, records each request."""

    def __init__(self) -> None:
        self.answers: dict[str, list] = {}
        self.requests: list[tuple[str, dict, str | None]] = []
        self.tokens = 0

    def on(self, field: str, *bodies) -> None:
        self.answers[field] = list(bodies)

    def __call__(self, request: httpx.Request) -> httpx.Response:
        body = json.loads(request.content)
        query = body["query"]
        field = query.split("{", 2)[1].split("(")[0].split("{")[0].strip()
        self.requests.append(
            (field, body.get("variables") or {}, request.headers.get("authorization"))
        )
        if field == "login" and "login" not in self.answers:
            self.tokens += 1
            return httpx.Response(
                200,
                json={
                    "data": {
                        "login": {
                            "token": f"tok{self.tokens}",
                            "expires": later(3600),
                            "error": None,
                        }
                    }
                },
            )
        answers = self.answers[field]
        answer = answers.pop(0) if len(answers) > 1 else answers[0]
        if isinstance(answer, httpx.Response):
            return answer
        return httpx.Response(200, json=answer)

    def fields(self) -> list[str]:
        return [field for field, _, _ in self.requests]


class Clock:
    """The client's monotonic clock, moved forward by the test instead of by waiting."""

    def __init__(self) -> None:
        self.offset = 0.0

    def advance(self, seconds: float) -> None:
        self.offset += seconds


@pytest.fixture
def clock(monkeypatch):
    moved = Clock()
    real = unified_module.monotonic
    monkeypatch.setattr(unified_module, "monotonic", lambda: real() + moved.offset)
    return moved


@pytest.fixture
def unified():
    server = Unified()
    with respx.mock(assert_all_called=False) as mock:
        mock.post(GRAPHQL).mock(side_effect=server)
        yield server


def test_login_once_then_bearer_on_every_query(unified) -> None:
    unified.on(
        "tagValues",
        {
            "data": {
                "tagValues": [
                    {
                        "name": "T1",
                        "value": {
                            "value": 3.5,
                            "timestamp": "2022-04-27T01:30:32.506Z",
                            "quality": {"quality": "GOOD_CASCADE"},
                        },
                        "error": None,
                    }
                ]
            }
        },
    )
    with client() as c:
        c.read_tags(["T1"])
        [value] = c.read_tags(["T1"])
    assert unified.fields() == ["login", "tagValues", "tagValues"]
    assert unified.requests[0][1] == {"u": "api_rw", "p": "pw"}
    assert unified.requests[1][2] == "Bearer tok1"
    assert value.to_json() == {
        "name": "T1",
        "value": 3.5,
        "quality": "good",
        "quality_code": None,
        "timestamp": "2022-04-27T01:30:32.506000Z",
        "error": None,
    }


def test_refused_login_sentence(unified) -> None:
    unified.on(
        "login",
        {
            "data": {
                "login": {
                    "token": None,
                    "expires": None,
                    "error": {"code": "101", "description": "bad"},
                }
            }
        },
    )
    with client() as c, pytest.raises(AuthError) as caught:
        c.read_tags(["T1"])
    assert str(caught.value) == (
        f"login refused for user api_rw at {URL} (check the user name and the password variable)"
    )


def test_refused_login_as_graphql_error(unified) -> None:
    unified.on(
        "login",
        {
            "data": None,
            "errors": [{"message": "Unauthorized", "extensions": {"code": "UNAUTHENTICATED"}}],
        },
    )
    with client() as c, pytest.raises(AuthError):
        c.ping()


def test_one_relogin_when_the_session_is_gone(unified) -> None:
    gone = {
        "data": None,
        "errors": [{"message": "Unauthorized", "extensions": {"code": "UNAUTHENTICATED"}}],
    }
    fine = {"data": {"tagValues": [{"name": "T1", "value": {"value": 1}}]}}
    unified.on("tagValues", gone, fine)
    with client() as c:
        assert c.read_tags(["T1"])[0].value == 1
    assert unified.fields() == ["login", "tagValues", "login", "tagValues"]
    assert unified.requests[3][2] == "Bearer tok2"


def test_only_one_relogin(unified) -> None:
    unified.on("tagValues", httpx.Response(401))
    with client() as c, pytest.raises(AuthError):
        c.read_tags(["T1"])
    assert unified.fields() == ["login", "tagValues", "login", "tagValues"]


def test_session_is_extended_before_it_expires(unified, clock) -> None:
    unified.on("login", {"data": {"login": {"token": "old", "expires": later(600)}}})
    unified.on(
        "extendSession", {"data": {"extendSession": {"token": "new", "expires": later(3600)}}}
    )
    unified.on("tagValues", {"data": {"tagValues": []}})
    with client() as c:
        c.read_tags(["T1"])
        clock.advance(530)  # still 70 s left: not yet
        c.read_tags(["T1"])
        clock.advance(15)  # 55 s left: within the minute before expiry
        c.read_tags(["T1"])
    assert unified.fields() == ["login", "tagValues", "tagValues", "extendSession", "tagValues"]
    assert unified.requests[-1][2] == "Bearer new"


def test_failed_extension_falls_back_to_login(unified, clock) -> None:
    unified.on("login", {"data": {"login": {"token": "t", "expires": later(100)}}})
    unified.on("extendSession", {"data": None, "errors": [{"message": "no session"}]})
    unified.on("tagValues", {"data": {"tagValues": []}})
    with client() as c:
        c.read_tags(["T1"])
        clock.advance(90)  # a fifth of a short lifetime before expiry
        c.read_tags(["T1"])
    assert unified.fields() == ["login", "tagValues", "extendSession", "login", "tagValues"]


def test_token_only_never_logs_in(unified) -> None:
    unified.on("tagValues", {"data": {"tagValues": []}})
    with client(username="", token="static") as c:
        c.read_tags(["T1"])
    assert unified.fields() == ["tagValues"]
    assert unified.requests[0][2] == "Bearer static"


@pytest.mark.parametrize(
    ("word", "quality"),
    [
        ("GOOD_CASCADE", Quality.GOOD),
        ("GOOD_NON_CASCADE", Quality.GOOD),
        ("UNCERTAIN", Quality.UNCERTAIN),
        ("BAD", Quality.BAD),
        ("SOMETHING_NEW", Quality.BAD),
    ],
)
def test_main_quality(unified, word, quality) -> None:
    unified.on(
        "tagValues",
        {
            "data": {
                "tagValues": [{"name": "T1", "value": {"value": 1, "quality": {"quality": word}}}]
            }
        },
    )
    with client() as c:
        assert c.read_tags(["T1"])[0].quality is quality


def test_item_errors_missing_times_and_value_types(unified) -> None:
    unified.on(
        "tagValues",
        {
            "data": {
                "tagValues": [
                    {"name": "B", "value": {"value": True, "timestamp": None}},
                    {"name": "Nope", "value": None, "error": {"code": "2", "description": ""}},
                    {
                        "name": "S",
                        "value": {"value": "text", "timestamp": "1970-01-01T00:00:00.000Z"},
                        "error": {"code": "0", "description": "Success"},
                        "newField": 1,
                    },
                    {
                        "name": "Struct",
                        "value": None,
                        "error": {"code": "202", "description": "leaf only"},
                    },
                ]
            }
        },
    )
    with client() as c:
        values = {v.name: v for v in c.read_tags(["B", "Nope", "S", "Struct", "Gone"])}
    assert (values["B"].value, values["B"].quality, values["B"].timestamp) == (
        True,
        Quality.GOOD,
        None,
    )
    assert values["Nope"].error == "cannot resolve the name (code 2)"
    assert values["S"].error is None and values["S"].timestamp is None
    assert values["Struct"].error == "leaf only (code 202)"
    assert values["Gone"].error == "the server did not return this tag"


def test_errors_beside_partial_data(unified) -> None:
    unified.on(
        "tagValues",
        {
            "data": {"tagValues": [{"name": "A", "value": {"value": 1}}, None]},
            "errors": [{"message": "resolver failed", "path": ["tagValues", 1]}],
        },
    )
    with client() as c:
        a, b = c.read_tags(["A", "B"])
    assert (a.value, a.error) == (1, None)
    assert b.error == "resolver failed"


def test_graphql_errors_without_data(unified) -> None:
    unified.on("tagValues", {"data": None, "errors": [{"message": "Cannot query field"}]})
    with client() as c, pytest.raises(ProtocolError, match="Cannot query field"):
        c.read_tags(["T1"])


@pytest.mark.parametrize("body", [[], {"tagValues": []}, {"data": [1]}, "x"])
def test_answers_that_are_not_graphql(unified, body) -> None:
    unified.on("tagValues", body)
    with client() as c, pytest.raises(ProtocolError):
        c.read_tags(["T1"])


def test_batches(unified) -> None:
    unified.on("tagValues", {"data": {"tagValues": []}})
    with client(batch_size=2) as c:
        c.read_tags(["A", "B", "C"])
    assert [v["n"] for f, v, _ in unified.requests if f == "tagValues"] == [["A", "B"], ["C"]]


ALARM = {
    "name": "Oven_Zone1_Temp_HH",
    "instanceID": 4,
    "path": "HMI::Oven_Zone1_Temp:HH",
    "state": "RAISED",
    "stateMachine": "RAISE_CLEAR_REQUIRES_ACKNOWLEDGMENT",
    "userResponse": "SINGLE_ACKNOWLEDGEMENT",
    "suppressionState": "UNSUPPRESSED",
    "priority": 12,
    "alarmClassName": "Alarm",
    "eventText": ["Zone 1 too hot"],
    "infoText": ["Open the vent"],
    "area": "Oven",
    "raiseTime": "2026-11-26T10:00:00.000Z",
    "acknowledgmentTime": "1970-01-01T00:00:00.000Z",
    "clearTime": None,
    "userName": "",
}


@pytest.mark.parametrize(
    ("changes", "state", "can_ack"),
    [
        ({}, AlarmState.UNACKNOWLEDGED, True),
        ({"state": "RAISED_CLEARED"}, AlarmState.RETURNED_UNACKNOWLEDGED, True),
        (
            {
                "state": "RAISED_CLEARED",
                "stateMachine": "RAISE_CLEAR_REQUIRES_ACKNOWLEDGMENT_AND_RESET",
            },
            AlarmState.LATCHED_UNACKNOWLEDGED,
            True,
        ),
        (
            {"state": "RAISED_CLEARED_ACKNOWLEDGED", "userResponse": "RESET"},
            AlarmState.LATCHED_ACKNOWLEDGED,
            False,
        ),
        ({"suppressionState": "SHELVED"}, AlarmState.SHELVED, False),
        ({"suppressionState": "SUPPRESSED"}, AlarmState.SUPPRESSED, False),
        ({"userResponse": "NONE"}, AlarmState.UNACKNOWLEDGED, False),
        ({"state": "SOMETHING_NEW"}, AlarmState.UNACKNOWLEDGED, True),
    ],
)
def test_alarm_state_and_acknowledgeability(unified, changes, state, can_ack) -> None:
    unified.on("activeAlarms", {"data": {"activeAlarms": [{**ALARM, **changes}]}})
    with client() as c:
        [alarm] = c.active_alarms()
    assert (alarm.state, alarm.can_acknowledge) == (state, can_ack)
    assert alarm.source_state == {**ALARM, **changes}["state"]


def test_alarm_fields(unified) -> None:
    acked = {
        **ALARM,
        "state": "RAISED_ACKNOWLEDGED",
        "userName": "op1",
        "acknowledgmentTime": "2026-11-26T10:01:00.000Z",
        "eventText": "plain string",
    }
    unified.on("activeAlarms", {"data": {"activeAlarms": [ALARM, acked]}})
    with client() as c:
        raised, acknowledged = c.active_alarms()
    assert unified.requests[1][1] == {"l": ["en-US"]}
    assert (raised.name, raised.instance_id, raised.priority, raised.alarm_class) == (
        "Oven_Zone1_Temp_HH",
        4,
        12,
        "Alarm",
    )
    assert (raised.event_text, raised.info_text, raised.area) == (
        "Zone 1 too hot",
        "Open the vent",
        "Oven",
    )
    assert raised.raise_time == datetime(2026, 11, 26, 10, tzinfo=UTC)
    assert raised.ack_time is None and raised.acknowledged_by is None
    assert acknowledged.acknowledged_by == "op1"
    assert acknowledged.ack_time == datetime(2026, 11, 26, 10, 1, tzinfo=UTC)
    assert acknowledged.event_text == "plain string"


def test_acknowledge_one_request_per_alarm_with_item_results(unified) -> None:
    unified.on(
        "acknowledgeAlarms",
        {
            "data": {
                "acknowledgeAlarms": [
                    {"alarmName": "A", "alarmInstanceID": 4, "error": {"code": "0"}}
                ]
            }
        },
        {
            "data": {
                "acknowledgeAlarms": [
                    {
                        "alarmName": "B",
                        "alarmInstanceID": 1,
                        "error": {"code": "305", "description": ""},
                    }
                ]
            }
        },
        {"data": None, "errors": [{"message": "instance 9 does not exist"}]},
    )
    with client() as c:
        results = c.acknowledge([("A", 4), ("B", 1), ("C", 9)])
    sent = [v["i"] for f, v, _ in unified.requests if f == "acknowledgeAlarms"]
    assert sent == [
        [{"name": "A", "instanceID": 4}],
        [{"name": "B", "instanceID": 1}],
        [{"name": "C", "instanceID": 9}],
    ]
    assert [(r.name, r.ok, r.instance_id) for r in results] == [
        ("A", True, 4),
        ("B", False, 1),
        ("C", False, 9),
    ]
    assert results[1].error == "the alarm cannot be acknowledged in its current state (code 305)"
    assert "instance 9 does not exist" in results[2].error


def test_acknowledge_many_is_one_request_and_a_refused_item_is_tried_alone(unified) -> None:
    refused = {"alarmName": "B", "alarmInstanceID": 1, "error": {"code": "305"}}
    unified.on(
        "acknowledgeAlarms",
        {"data": {"acknowledgeAlarms": [
            {"alarmName": "A", "alarmInstanceID": 4, "error": {"code": "0"}}, refused,
            {"alarmName": "C", "alarmInstanceID": 9, "error": None},
        ]}},
        {"data": {"acknowledgeAlarms": [refused]}},
    )
    with client() as c:
        results = c.acknowledge_many([("A", 4), ("B", 1), ("C", 9)])
    sent = [v["i"] for f, v, _ in unified.requests if f == "acknowledgeAlarms"]
    assert sent == [
        [{"name": "A", "instanceID": 4}, {"name": "B", "instanceID": 1},
         {"name": "C", "instanceID": 9}],
        [{"name": "B", "instanceID": 1}],
    ]
    assert [(r.name, r.ok, r.instance_id) for r in results] == [
        ("A", True, 4), ("B", False, 1), ("C", True, 9)]


def test_acknowledge_by_a_user_without_the_right(unified) -> None:
    unified.on(
        "acknowledgeAlarms",
        {
            "data": None,
            "errors": [
                {"message": "Forbidden: missing rights", "extensions": {"code": "FORBIDDEN"}}
            ],
        },
    )
    with client() as c, pytest.raises(AuthError, match="lacks the right"):
        c.acknowledge([("A", 1)])


def test_write_with_item_errors(unified) -> None:
    unified.on(
        "writeTagValues",
        {
            "data": {
                "writeTagValues": [
                    {"name": "A", "error": None},
                    {"name": "B", "error": {"code": "201", "description": "Cannot convert"}},
                ]
            }
        },
    )
    with client() as c:
        results = c.write_tags({"A": 1, "B": "x"})
    assert unified.requests[1][1] == {"i": [{"name": "A", "value": 1}, {"name": "B", "value": "x"}]}
    assert [(r.ok, r.error) for r in results] == [
        (True, None),
        (False, "Cannot convert (code 201)"),
    ]


def test_browse(unified) -> None:
    unified.on(
        "browse",
        {
            "data": {
                "browse": [
                    {
                        "name": "HMI::Oven_Zone1_Temp",
                        "displayName": "Zone 1",
                        "objectType": "SIMPLETAG",
                        "dataType": "Float",
                    }
                ]
            }
        },
    )
    with client() as c:
        [item] = c.browse("Oven*")
    assert unified.requests[1][1] == {"f": ["Oven*"], "t": ["TAG"]}
    assert (item.name, item.display_name, item.object_type, item.data_type) == (
        "HMI::Oven_Zone1_Temp",
        "Zone 1",
        "SIMPLETAG",
        "Float",
    )


@pytest.mark.parametrize(
    "refusal",
    [
        httpx.Response(403, json={"error": "no rights"}),
        httpx.Response(200, json={"data": None, "errors": [{"message": "Permission denied"}]}),
    ],
)
def test_missing_right_is_not_retried_with_a_new_login(unified, refusal) -> None:
    unified.on("writeTagValues", refusal)
    with client() as c, pytest.raises(AuthError, match="lacks the right"):
        c.write_tags({"A": 1})
    assert unified.fields() == ["login", "writeTagValues"]


def test_refused_login_in_other_words(unified) -> None:
    unified.on("login", {"data": {"login": None}, "errors": [{"message": "Login failed"}]})
    with client() as c, pytest.raises(AuthError) as caught:
        c.ping()
    assert str(caught.value) == (
        f"login refused for user api_rw at {URL}: Login failed "
        "(check the user name and the password variable)"
    )


def test_umc_error_keeps_wincc_words(unified) -> None:
    unified.on(
        "login",
        {
            "data": {
                "login": {
                    "token": None,
                    "error": {"code": "102", "description": "UMC server not reachable"},
                }
            }
        },
    )
    with client() as c, pytest.raises(AuthError, match="UMC server not reachable"):
        c.ping()


def test_login_query_the_server_does_not_know_is_a_protocol_error(unified) -> None:
    unified.on("login", {"errors": [{"message": 'Cannot query field "login" on type "Mutation".'}]})
    with client() as c, pytest.raises(ProtocolError):
        c.ping()


def test_expiry_already_past_by_our_clock_is_not_chased(unified) -> None:
    unified.on("login", {"data": {"login": {"token": "t", "expires": "2000-01-01T00:00:00Z"}}})
    unified.on("tagValues", {"data": {"tagValues": []}})
    with client() as c:
        c.read_tags(["T1"])
        c.read_tags(["T1"])
    assert unified.fields() == ["login", "tagValues", "tagValues"]


def test_browse_asks_for_the_configured_object_types(unified) -> None:
    unified.on("browse", {"data": {"browse": []}})
    with client(browse_object_types=("TAG", "LOGGINGTAG")) as c:
        c.browse()
    assert unified.requests[1][1] == {"f": ["*"], "t": ["TAG", "LOGGINGTAG"]}


@pytest.mark.parametrize(
    ("asked", "answered"),
    [("Tank_Level", "HMI_RT_1::Tank_Level"), ("HMI_RT_1::Tank_Level", "Tank_Level")],
)
def test_names_with_or_without_the_system_prefix(unified, asked, answered) -> None:
    unified.on(
        "tagValues",
        {
            "data": {
                "tagValues": [
                    {"name": answered, "value": {"value": 3}, "error": None},
                    {"name": "Other", "value": {"value": 4}, "error": None},
                ]
            }
        },
    )
    with client() as c:
        values = c.read_tags([asked, "Missing"])
    assert [(v.name, v.value, v.error) for v in values] == [
        (asked, 3, None),
        ("Missing", None, "the server did not return this tag"),
    ]


def test_missing_alarm_instance_is_named(unified) -> None:
    unified.on(
        "acknowledgeAlarms",
        {
            "data": {
                "acknowledgeAlarms": [
                    {
                        "alarmName": "Tank_Level_L",
                        "alarmInstanceID": 7,
                        "error": {"code": "7", "description": ""},
                    }
                ]
            }
        },
    )
    with client() as c:
        [result] = c.acknowledge([("Tank_Level_L", 7)])
    assert not result.ok
    assert result.error == "alarm Tank_Level_L has no active instance 7 (code 7)"
