"""`history` meets answers the simulator never sends: other spellings, missing fields and
malformed bodies (respx; the real exchange is in test_history.py)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import httpx
import pytest
import respx

from wincc_bridge.client import ConnectionSettings, ProtocolError, open_client
from wincc_bridge.models import Quality

URL = "http://wincc.test"
END = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)
START = END - timedelta(minutes=1)


def client(dialect: str, **changes):
    fields = {"username": "api", "password": "pw", "token": "tok", **changes}
    return open_client(ConnectionSettings(dialect=dialect, url=URL, **fields))


def graphql(answer):
    def reply(request: httpx.Request) -> httpx.Response:
        if b"login" in request.content:
            login = {"token": "t", "expires": None, "error": None}
            return httpx.Response(200, json={"data": {"login": login}})
        return httpx.Response(200, json=answer)

    return reply


def logged(values, name="T1", error=None):
    return {"data": {"loggedTagValues": [
        {"loggingTagName": name, "error": error, "values": values}]}}


def value(ts: str, v, quality="GOOD_CASCADE", flags=()):
    return {"value": {"value": v, "timestamp": ts, "quality": {"quality": quality}},
            "flags": list(flags)}


def test_unified_flags_bounding_no_data_and_quality() -> None:
    answer = logged([
        value("2026-03-01T11:58:59.000Z", 1.0, flags=["BOUNDING"]),
        value("2026-03-01T11:59:00.000Z", 2.0, "UNCERTAIN"),
        value("2026-03-01T11:59:01.000Z", None, "BAD", flags=["NO_DATA"]),
        value("2026-03-01T11:59:02.000Z", 3.0, "BAD"),
        value("2026-03-01T12:00:01.000Z", 4.0, flags=["BOUNDING"]),
    ])
    with respx.mock(assert_all_called=False) as mock:
        route = mock.post(URL + "/graphql").mock(side_effect=graphql(answer))
        with client("unified") as c:
            [history] = c.history(["T1"], START, END, max_points=4)
    sent = route.calls[-1].request.content
    assert b"LEFTRIGHT_BOUNDING_VALUES" in sent and b"2026-03-01T11:59:00.000Z" in sent
    assert [(p.value, p.quality, p.bounding) for p in history.points] == [
        (1.0, Quality.GOOD, True),
        (2.0, Quality.UNCERTAIN, False),
        (3.0, Quality.BAD, False),
        (4.0, Quality.GOOD, True),
    ]
    # Three values in the window, the gap among them, reach the four asked for.
    assert history.truncated is False
    with respx.mock(assert_all_called=False) as mock:
        mock.post(URL + "/graphql").mock(side_effect=graphql(answer))
        with client("unified") as c:
            [history] = c.history(["T1"], START, END, max_points=3)
    assert history.truncated is True


def test_unified_per_tag_error_and_a_tag_left_out() -> None:
    answer = {"data": {"loggedTagValues": [
        {"loggingTagName": "T1", "error": {"code": "2", "description": ""}, "values": None}]}}
    with respx.mock(assert_all_called=False) as mock:
        mock.post(URL + "/graphql").mock(side_effect=graphql(answer))
        with client("unified") as c:
            first, second = c.history(["T1", "T2"], START, END)
    assert first.error == "cannot resolve the name (code 2)" and first.points == []
    assert second.error == "the server did not return this tag"


@pytest.mark.parametrize("values", ["many", {"value": 1}, [1, 2]])
def test_unified_values_that_are_not_a_list_of_objects(values) -> None:
    with respx.mock(assert_all_called=False) as mock:
        mock.post(URL + "/graphql").mock(side_effect=graphql(logged(values)))
        with client("unified") as c, pytest.raises(ProtocolError) as caught:
            c.history(["T1"], START, END)
    assert URL in str(caught.value)


CLASSIC_VALUES = URL + "/WinCCRestService/tagLogging/Archive/PV/values"


def test_classic_reads_the_plausible_spellings_of_time_and_quality() -> None:
    body = [{"VariableName": "T1", "Values": [
        {"Value": 1.5, "TimeStamp": "2026-03-01T11:59:00Z", "QualityCode": 0x48},
        {"value": 2.5, "time": "/Date(1772366341000)/", "quality": "bad"},
        {"value": 3.5, "dateTime": "2026-03-01T11:59:02"},
        {"value": 4.5},  # no time: cannot be placed, left out
    ], "error": ""}]
    with respx.mock(assert_all_called=False) as mock:
        route = mock.post(CLASSIC_VALUES).mock(return_value=httpx.Response(200, json=body))
        with client("classic", tag_archive="PV") as c:
            [history] = c.history(["T1"], START, END, max_points=4)
    request = route.calls[0].request
    assert request.url.params["begin"] == "2026-03-01T11:59:00.000Z"
    assert request.url.params["maxValues"] == "4"
    assert [(p.value, p.quality) for p in history.points] == [
        (1.5, Quality.UNCERTAIN), (2.5, Quality.BAD), (3.5, Quality.GOOD)]
    assert history.points[1].timestamp == datetime(2026, 3, 1, 11, 59, 1, tzinfo=UTC)
    assert history.truncated  # four values came back, four were asked for


def test_classic_looks_the_archive_up_once() -> None:
    base = URL + "/WinCCRestService/tagLogging"
    with respx.mock(assert_all_called=False) as mock:
        archives = mock.get(base + "/Archives").mock(
            return_value=httpx.Response(200, json=[{"name": "PV"}, {"archiveName": "Fast"}]))
        mock.get(base + "/Archive/PV/Variables").mock(side_effect=[
            httpx.Response(200, json=[{"variableName": "T1"}]), httpx.Response(200, json=[])])
        mock.get(base + "/Archive/Fast/Variables").mock(side_effect=[
            httpx.Response(200, json=["T2"]), httpx.Response(200, json=[])])
        mock.post(CLASSIC_VALUES).mock(return_value=httpx.Response(200, json=[
            {"variableName": "T1", "values": [], "error": ""}]))
        fast = mock.post(base + "/Archive/Fast/values").mock(return_value=httpx.Response(
            200, json=[{"variableName": "T2", "values": [], "error": "archive offline"}]))
        with client("classic") as c:
            t1, t2, t3 = c.history(["T1", "T2", "T3"], START, END)
            # The list is paged: a second page that repeats the first ends it.
            assert archives.call_count == 2
            c.history(["T1"], START, END)
    assert archives.call_count == 2
    assert fast.calls[0].request.content == b'{"variableNames":["T2"]}'
    assert (t1.error, t1.points, t2.error) == (None, [], "archive offline")
    assert t3.error == f"T3 is not logged in any tag logging archive of {URL}"


@pytest.mark.parametrize("body", [{"oops": 1}, [{"variableName": "T1", "values": "x"}], "text"])
def test_classic_answers_that_are_not_archived_values(body) -> None:
    with respx.mock(assert_all_called=False) as mock:
        mock.post(CLASSIC_VALUES).mock(return_value=httpx.Response(200, json=body))
        with client("classic", tag_archive="PV") as c, pytest.raises(ProtocolError):
            c.history(["T1"], START, END)


REST_HISTORY = URL + "/api/v1/history"


def test_rest_v1_takes_the_servers_truncated_word_and_quality_words() -> None:
    body = {"history": [{"name": "T1", "truncated": True, "error": None, "points": [
        {"t": "2026-03-01T11:58:59.000Z", "v": 1, "q": "good", "bounding": True},
        {"t": "2026-03-01T11:59:00.000Z", "v": 2, "q": "uncertain"},
        {"t": None, "v": 3, "q": "good"},
    ]}]}
    with respx.mock(assert_all_called=False) as mock:
        route = mock.get(REST_HISTORY).mock(return_value=httpx.Response(200, json=body))
        with client("rest-v1") as c:
            [history] = c.history(["T1"], START, END, max_points=50)
    params = route.calls[0].request.url.params
    assert (params["tags"], params["max"]) == ("T1", "50")
    assert params["start"] == "2026-03-01T11:59:00.000Z"
    assert [(p.value, p.quality, p.bounding) for p in history.points] == [
        (1, Quality.GOOD, True), (2, Quality.UNCERTAIN, False)]
    assert history.truncated


@pytest.mark.parametrize("body", [{"history": "no"}, {"history": [{"name": "T1", "points": 5}]}])
def test_rest_v1_answers_that_are_not_a_history(body) -> None:
    with respx.mock(assert_all_called=False) as mock:
        mock.get(REST_HISTORY).mock(return_value=httpx.Response(200, json=body))
        with client("rest-v1") as c, pytest.raises(ProtocolError):
            c.history(["T1"], START, END)
