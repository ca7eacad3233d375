"""Matching a server's answer to the tags asked, by name and by position: the shared helper
and the Classic and REST v1 reads and histories built on it (respx), for the answers the
other tests do not send: entries that are not objects, names given twice, tags left out."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import httpx
import respx

from wincc_bridge.client import ConnectionSettings, open_client
from wincc_bridge.dialects._wire import answered_tags
from wincc_bridge.models import Quality

URL = "http://wincc.test"
CLASSIC_VALUES = URL + "/WinCCRestService/tagManagement/Values"
CLASSIC_ARCHIVE = URL + "/WinCCRestService/tagLogging/Archive/PV/values"
REST_TAGS = URL + "/api/v1/tags"
REST_HISTORY = URL + "/api/v1/history"
END = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)
START = END - timedelta(minutes=1)
NOT_RETURNED = "the server did not return this tag"


def client(dialect: str, **changes):
    fields = {"username": "api", "password": "pw", "token": "tok", **changes}
    return open_client(ConnectionSettings(dialect=dialect, url=URL, **fields))


def named(item: dict) -> object:
    return item.get("n")


def test_entries_that_are_not_objects_are_passed_over_but_keep_their_place() -> None:
    items = [{"n": "C"}, "junk", None, {"v": 4}]
    matched = list(answered_tags(["A", "B", "C", "D"], items, named))
    assert matched == [("C", {"n": "C"}), ("D", {"v": 4})]


def test_a_name_that_is_not_a_string_counts_as_none() -> None:
    matched = list(answered_tags(["A", "B"], [{"n": 7}, {"n": "B"}], named))
    assert matched == [("A", {"n": 7}), ("B", {"n": "B"})]


def test_nameless_objects_of_an_answer_of_another_length_cannot_be_placed() -> None:
    matched = list(answered_tags(["A", "B", "C"], [{"v": 1}, {"n": "C", "v": 3}], named))
    assert matched == [("C", {"n": "C", "v": 3})]


def test_a_name_given_twice_comes_twice_in_the_answers_order() -> None:
    matched = list(answered_tags(["A"], [{"n": "A", "v": 1}, {"n": "A", "v": 2}], named))
    assert [item["v"] for _, item in matched] == [1, 2]


def read(dialect: str, url: str, method: str, body, names: list[str]):
    with respx.mock(assert_all_called=False) as mock:
        mock.route(method=method, url__startswith=url).mock(
            return_value=httpx.Response(200, json=body)
        )
        with client(dialect) as c:
            return c.read_tags(names)


def test_classic_read_skips_a_null_entry_and_places_the_nameless_one_after_it() -> None:
    values = read("classic", CLASSIC_VALUES, "POST", [None, {"value": 2}], ["A", "B"])
    assert [(v.name, v.value, v.quality, v.error) for v in values] == [
        ("A", None, Quality.BAD, NOT_RETURNED),
        ("B", 2, Quality.GOOD, None),
    ]


def test_classic_read_takes_the_last_of_a_name_given_twice_and_the_exact_case_first() -> None:
    body = [
        {"variableName": "A", "value": 1},
        {"variableName": "a", "value": 2},
        {"variableName": "A", "value": 3},
        {"variableName": "b", "value": 4},
    ]
    values = read("classic", CLASSIC_VALUES, "POST", body, ["A", "a", "B", "C"])
    assert [(v.name, v.value, v.error) for v in values] == [
        ("A", 3, None),
        ("a", 2, None),
        ("B", 4, None),
        ("C", None, NOT_RETURNED),
    ]


def test_rest_v1_read_takes_the_last_of_a_name_given_twice() -> None:
    body = {"tags": [{"name": "A", "value": 1}, {"name": "A", "value": 2}]}
    values = read("rest-v1", REST_TAGS, "GET", body, ["A", "B"])
    assert [(v.name, v.value, v.error) for v in values] == [
        ("A", 2, None),
        ("B", None, NOT_RETURNED),
    ]


def point(seconds: int, v) -> dict:
    return {"value": v, "timestamp": f"2026-03-01T11:59:{seconds:02d}Z"}


def history(dialect: str, url: str, body, names: list[str]):
    with respx.mock(assert_all_called=False) as mock:
        mock.route(url__startswith=url).mock(return_value=httpx.Response(200, json=body))
        with client(dialect, tag_archive="PV") as c:
            return c.history(names, START, END)


def test_classic_history_skips_a_null_entry_and_takes_the_last_of_a_name_given_twice() -> None:
    body = [None, {"values": [point(1, 1.0)]}, {"variableName": "t3", "values": [point(2, 2.0)]},
            {"variableName": "T3", "values": [point(3, 3.0)]}]
    found = history("classic", CLASSIC_ARCHIVE, body, ["T1", "T2", "T3", "T4"])
    assert [(h.name, [p.value for p in h.points], h.error) for h in found] == [
        ("T1", [], NOT_RETURNED),
        ("T2", [1.0], None),
        ("T3", [3.0], None),
        ("T4", [], NOT_RETURNED),
    ]


def test_rest_v1_history_takes_the_first_of_a_name_given_twice() -> None:
    first = {"name": "T1", "points": [{"t": "2026-03-01T11:59:01Z", "v": 1, "q": "good"}]}
    body = {"history": [first, {"name": "T1", "points": []}]}
    found = history("rest-v1", REST_HISTORY, body, ["T1", "T2"])
    assert [(h.name, [p.value for p in h.points], h.error) for h in found] == [
        ("T1", [1], None),
        ("T2", [], NOT_RETURNED),
    ]
