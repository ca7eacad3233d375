"""REST v1 (docs/protocols.md): Bearer token, quality words, URL-bounded batches (respx)."""

from __future__ import annotations

import json

import httpx
import pytest
import respx

from wincc_bridge.client import (
    AuthError,
    ConnectionSettings,
    NotSupportedError,
    ProtocolError,
    open_client,
)
from wincc_bridge.dialects.rest_v1 import MAX_QUERY_CHARS
from wincc_bridge.models import AlarmState, Quality

URL = "http://seed.test:8080"
BASE = URL + "/api/v1"


def client(**changes):
    fields = {"token": "secret-token", "site": "plant", **changes}
    return open_client(ConnectionSettings(dialect="rest-v1", url=URL, **fields))


@pytest.fixture
def seed():
    with respx.mock(base_url=BASE, assert_all_called=False) as mock:
        yield mock


def test_read_with_bearer_and_quality_words(seed) -> None:
    route = seed.get("/tags").respond(
        json={
            "tags": [
                {"name": "A", "value": 1.5, "quality": "good", "timestamp": "2026-11-26T10:00:00Z"},
                {"name": "B", "value": False, "quality": "UNCERTAIN", "timestamp": None},
                {"name": "C", "value": 3, "quality": "bad"},
                {
                    "name": "X",
                    "value": None,
                    "quality": "bad",
                    "timestamp": None,
                    "error": "unknown tag",
                },
                {"name": "W", "value": 1, "quality": "weird"},
            ]
        }
    )
    with client() as c:
        values = c.read_tags(["A", "B", "C", "X", "W", "Gone"])
    request = route.calls[0].request
    assert request.headers["Authorization"] == "Bearer secret-token"
    assert request.url.params["names"] == "A,B,C,X,W,Gone"
    assert [(v.quality, v.error) for v in values] == [
        (Quality.GOOD, None),
        (Quality.UNCERTAIN, None),
        (Quality.BAD, None),
        (Quality.BAD, "unknown tag"),
        (Quality.BAD, None),
        (Quality.BAD, "the server did not return this tag"),
    ]
    assert values[0].to_json()["timestamp"] == "2026-11-26T10:00:00Z"
    assert values[1].value is False and values[1].timestamp is None


def test_batches_bounded_by_count_and_url_length(seed) -> None:
    route = seed.get("/tags").respond(json={"tags": []})
    long_names = [f"Area{i:03d}_" + "x" * 200 for i in range(60)]
    with client(batch_size=25) as c:
        c.read_tags(long_names)
        c.read_tags([f"T{i}" for i in range(60)])
    batches = [call.request.url.params["names"].split(",") for call in route.calls]
    assert all(len(",".join(b)) <= MAX_QUERY_CHARS for b in batches)
    assert sum(len(b) for b in batches) == 120
    assert [len(b) for b in batches[-3:]] == [25, 25, 10]


def test_missing_token_sentence(seed) -> None:
    seed.get("/tags").respond(401, json={"error": "missing token"})
    with client(token="") as c, pytest.raises(AuthError) as caught:
        c.ping()
    assert str(caught.value) == (
        f"login refused for a request without a token at {URL} "
        "(check the token variable: it is empty or unset)"
    )


def test_write_and_forbidden_write(seed) -> None:
    route = seed.put("/tags").mock(
        side_effect=[
            httpx.Response(
                200,
                json={
                    "results": [
                        {"name": "A", "ok": True, "error": None},
                        {"name": "B", "ok": False, "error": "range"},
                        {"name": "C", "ok": False},
                    ]
                },
            ),
            httpx.Response(403, json={"error": "read-only token"}),
        ]
    )
    with client() as c:
        results = c.write_tags({"A": 1, "B": 999, "C": "x"})
        with pytest.raises(AuthError, match="lacks the right"):
            c.write_tags({"A": 2})
    assert json.loads(route.calls[0].request.content) == {
        "tags": [
            {"name": "A", "value": 1},
            {"name": "B", "value": 999},
            {"name": "C", "value": "x"},
        ]
    }
    assert [(r.ok, r.error) for r in results] == [
        (True, None),
        (False, "range"),
        (False, "the server reported a failure without a reason"),
    ]


ALARM = {
    "name": "Tank_Level_LL",
    "instance_id": 2,
    "state": "active_unacked",
    "priority": 14,
    "alarm_class": "Alarm",
    "event_text": "Tank almost empty",
    "info_text": "Start pump",
    "area": "Tank",
    "raise_time": "2026-11-26T10:00:00Z",
    "ack_time": None,
    "clear_time": None,
    "acknowledgeable": True,
    "acknowledged_by": None,
}


def test_active_alarms(seed) -> None:
    seed.get("/alarms/active").respond(
        json={
            "alarms": [
                ALARM,
                {
                    **ALARM,
                    "instance_id": 3,
                    "state": "latched_acked",
                    "acknowledgeable": False,
                    "acknowledged_by": "op1",
                    "priority": "3",
                },
                {"name": "Odd", "state": 5},
            ]
        }
    )
    with client() as c:
        first, second, odd = c.active_alarms()
    assert first.to_json()["state"] == "unacknowledged"
    assert (first.event_text, first.info_text, first.area, first.can_acknowledge) == (
        "Tank almost empty",
        "Start pump",
        "Tank",
        True,
    )
    assert (second.state, second.acknowledged_by, second.priority) == (
        AlarmState.LATCHED_ACKNOWLEDGED,
        "op1",
        3,
    )
    assert (odd.state, odd.instance_id, odd.can_acknowledge) == (AlarmState.UNACKNOWLEDGED, 0, True)


def test_acknowledge_with_and_without_instance(seed) -> None:
    seed.get("/alarms/active").respond(
        json={
            "alarms": [
                ALARM,
                {**ALARM, "instance_id": 5},
                {**ALARM, "name": "Other", "instance_id": 1},
            ]
        }
    )
    ack = seed.post("/alarms/acknowledge").respond(
        json={
            "results": [
                {"name": "Tank_Level_LL", "instance_id": 2, "ok": True, "error": None},
                {
                    "name": "Tank_Level_LL",
                    "instance_id": 5,
                    "ok": False,
                    "error": "already acknowledged",
                },
                {"name": "Other", "instance_id": 1, "ok": True, "error": None},
            ]
        }
    )
    with client() as c:
        results = c.acknowledge([("Tank_Level_LL", 0), ("Other", 1), ("Quiet", 0)])
    assert json.loads(ack.calls[0].request.content) == {
        "alarms": [
            {"name": "Tank_Level_LL", "instance_id": 2},
            {"name": "Tank_Level_LL", "instance_id": 5},
            {"name": "Other", "instance_id": 1},
        ]
    }
    assert [(r.name, r.instance_id, r.ok, r.error) for r in results] == [
        ("Tank_Level_LL", 2, True, None),
        ("Tank_Level_LL", 5, False, "already acknowledged"),
        ("Other", 1, True, None),
        ("Quiet", 0, False, "alarm Quiet is not active"),
    ]


@pytest.mark.parametrize("body", [{"tags": {"A": 1}}, {"tags": [1, 2]}, ["x"], "tags"])
def test_odd_tag_answers(seed, body) -> None:
    seed.get("/tags").respond(json=body)
    with client() as c, pytest.raises(ProtocolError):
        c.read_tags(["A"])


def test_browse(seed) -> None:
    route = seed.get("/browse").respond(
        json={
            "items": [
                {"name": "Oven_Zone1_Temp", "display_name": "Zone 1", "data_type": "float"},
                {"x": 1},
            ]
        }
    )
    with client() as c:
        [item] = c.browse("Oven*")
    assert route.calls[0].request.url.params["pattern"] == "Oven*"
    assert (item.name, item.display_name, item.data_type) == ("Oven_Zone1_Temp", "Zone 1", "float")


@pytest.mark.parametrize("status", [404, 405, 501])
def test_server_without_acknowledge_endpoint(seed, status) -> None:
    seed.post("/alarms/acknowledge").respond(status)
    with client() as c, pytest.raises(NotSupportedError, match="no acknowledge endpoint"):
        c.acknowledge([("A", 1)])
