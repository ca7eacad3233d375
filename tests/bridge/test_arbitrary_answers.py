"""Whatever JSON a server sends, the client returns results or raises a documented error."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import httpx
import respx
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from wincc_bridge.client import AckTag, ConnectionSettings, WinCCError, open_client
from wincc_bridge.models import Alarm, ItemResult, TagHistory, TagValue

URL = "http://any.test"

scalars = st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=12)
keys = st.sampled_from(
    [
        "name",
        "value",
        "error",
        "quality",
        "timestamp",
        "State",
        "variableName",
        "qualityCode",
        "instanceID",
        "state",
        "priority",
        "data",
        "errors",
        "tagValues",
        "activeAlarms",
        "login",
        "token",
        "expires",
        "code",
        "message",
        "path",
        "tags",
        "alarms",
        "results",
        "ok",
        "raiseTime",
        "eventText",
        "userResponse",
        "suppressionState",
        "instance_id",
        "loggedTagValues",
        "loggingTagName",
        "values",
        "flags",
        "history",
        "points",
        "truncated",
        "bounding",
        "t",
        "v",
        "q",
        "x",
    ]
)
json_bodies = st.recursive(
    scalars,
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(keys | st.text(max_size=5), inner, max_size=5)
    ),
    max_leaves=25,
)
OPERATIONS = ["read", "write", "browse", "alarms", "ack", "ping", "history"]
END = datetime(2026, 3, 1, tzinfo=UTC)


def run(dialect: str, operation: str) -> list:
    settings = ConnectionSettings(
        dialect=dialect,
        url=URL,
        username="u",
        password="p",
        token="t",
        alarm_filter="F",
        ack_tags={"A": AckTag("Ack_A")},
        read_retries=0,
    )
    with open_client(settings) as client:
        if operation == "read":
            return client.read_tags(["A", "B"])
        if operation == "write":
            return client.write_tags({"A": 1, "B": "x"})
        if operation == "browse":
            return client.browse("*")
        if operation == "alarms":
            return client.active_alarms()
        if operation == "ack":
            return client.acknowledge([("A", 0), ("B", 2)])
        if operation == "history":
            return client.history(["A", "B"], END - timedelta(hours=1), END, 10)
        client.ping()
        return []


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    dialect=st.sampled_from(["classic", "unified", "rest-v1"]),
    operation=st.sampled_from(OPERATIONS),
    body=json_bodies,
    graphql=st.booleans(),
    status=st.sampled_from([200, 200, 200, 400, 401, 403, 404, 500, 503]),
)
def test_any_json_answer_gives_results_or_a_documented_error(
    dialect, operation, body, graphql, status
) -> None:
    # Half the Unified answers wrap the body as GraphQL data, to reach deeper code.
    def answer(request: httpx.Request) -> httpx.Response:
        if graphql and dialect == "unified":
            query = json.loads(request.content)["query"]
            field = query.split("{", 2)[1].split("(")[0].split("{")[0].strip()
            return httpx.Response(status, content=json.dumps({"data": {field: body}}))
        return httpx.Response(status, content=json.dumps(body))

    with respx.mock(assert_all_called=False) as mock:
        mock.route().mock(side_effect=answer)
        try:
            results = run(dialect, operation)
        except WinCCError as exc:
            assert str(exc)
            return
    expected = {
        "read": TagValue,
        "write": ItemResult,
        "ack": ItemResult,
        "alarms": Alarm,
        "history": TagHistory,
    }
    for result in results:
        assert isinstance(result, expected.get(operation, object))
    if operation == "read":
        assert [r.name for r in results] == ["A", "B"]
        for result in results:
            json.dumps(result.to_json(), allow_nan=True)
    if operation == "history":
        assert [r.name for r in results] == ["A", "B"]
        for history in results:
            assert all(p.timestamp.tzinfo is UTC for p in history.points)
            assert history.error is None or not history.points
    if operation == "alarms":
        for alarm in results:
            json.dumps(alarm.to_json(), allow_nan=True, default=str)
            assert 0 <= alarm.priority <= 16


@settings(max_examples=100, deadline=None)
@given(raw=st.binary(max_size=60))
def test_any_bytes_answer_gives_results_or_a_documented_error(raw) -> None:
    with respx.mock(assert_all_called=False) as mock:
        mock.route().respond(200, content=raw)
        for dialect in ("classic", "unified", "rest-v1"):
            try:
                values = run(dialect, "read")
            except WinCCError as exc:
                assert str(exc)
            else:
                assert [v.name for v in values] == ["A", "B"]
