"""Times without a zone read in the site's zone, across both daylight-saving changes.

Europe/Berlin: on 2026-03-29 the clocks jump from 02:00 to 03:00 (01:00 UTC); on 2026-10-25
they go back from 03:00 to 02:00 (01:00 UTC), so 02:00-02:59 happens twice.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from tests.bridge.conftest import Reply
from tests.bridge.test_cli import VALUES, bridge
from wincc_bridge.client import ConnectionSettings, open_client
from wincc_bridge.dialects._wire import wire_time
from wincc_bridge.dialects.classic import message_alarm, tag_item
from wincc_bridge.localtime import InOrder, LocalTimes, Repeated, in_zone, zone_named

BERLIN = ZoneInfo("Europe/Berlin")


def utc(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=UTC)


def clock_at(text: str) -> LocalTimes:
    return LocalTimes(BERLIN, clock=lambda: utc(text))


def test_an_ordinary_local_time_names_one_instant() -> None:
    assert in_zone(datetime(2026, 7, 1, 12, 0), BERLIN) == utc("2026-07-01T10:00")
    assert in_zone(datetime(2026, 12, 1, 12, 0), BERLIN) == utc("2026-12-01T11:00")
    assert in_zone(datetime(2026, 7, 1, 12, 0), UTC) == utc("2026-07-01T12:00")


def test_the_hour_skipped_in_spring_is_read_as_the_moment_of_the_change() -> None:
    before = in_zone(datetime(2026, 3, 29, 1, 59, 59), BERLIN)
    skipped = [in_zone(datetime(2026, 3, 29, 2, minute), BERLIN) for minute in (0, 30, 59)]
    after = in_zone(datetime(2026, 3, 29, 3, 0), BERLIN)
    assert skipped == [utc("2026-03-29T01:00")] * 3
    assert before == utc("2026-03-29T00:59:59")
    assert after == utc("2026-03-29T01:00")
    assert before < skipped[0] <= after


def test_the_hour_repeated_in_autumn_has_two_instants() -> None:
    assert in_zone(datetime(2026, 10, 25, 2, 30), BERLIN) == Repeated(
        utc("2026-10-25T00:30"), utc("2026-10-25T01:30")
    )


def test_a_repeated_reading_is_the_later_instant_only_once_that_has_happened() -> None:
    text = "2026-10-25T02:30:00.000"
    assert wire_time(text, clock_at("2026-10-25T00:30:01")) == utc("2026-10-25T00:30")
    assert wire_time(text, clock_at("2026-10-25T01:30:01")) == utc("2026-10-25T01:30")
    # A server clock a little ahead of the client's still counts as the second pass.
    assert wire_time(text, clock_at("2026-10-25T01:28:00")) == utc("2026-10-25T01:30")


def test_a_reading_keeps_the_instant_it_was_first_read_as() -> None:
    now = [utc("2026-10-25T00:30:02")]
    times = LocalTimes(BERLIN, clock=lambda: now[0])
    raised = "2026-10-25T02:30:00.000"
    assert wire_time(raised, times) == utc("2026-10-25T00:30")
    now[0] = utc("2026-10-25T01:45")  # the alarm is still listed in the second pass
    assert wire_time(raised, times) == utc("2026-10-25T00:30")
    assert wire_time("2026-10-25T02:44:00.000", times) == utc("2026-10-25T01:44")


def test_live_readings_across_the_autumn_change_keep_their_order() -> None:
    """A server read every 7 minutes from 01:30 to 04:00 local: every reading is the instant
    it was taken, so nothing read later sorts before something read earlier."""
    now = [utc("2026-10-24T23:30")]
    times = LocalTimes(BERLIN, clock=lambda: now[0])
    read = []
    while now[0] < utc("2026-10-25T03:00"):
        local = now[0].astimezone(BERLIN).replace(tzinfo=None)
        read.append(wire_time(local.isoformat(timespec="milliseconds"), times))
        now[0] += timedelta(minutes=7)
    taken = [utc("2026-10-24T23:30") + timedelta(minutes=7 * i) for i in range(len(read))]
    assert read == taken


def test_an_archive_listed_oldest_first_is_settled_by_its_order() -> None:
    start = utc("2026-10-24T23:50")
    instants = [start + timedelta(minutes=10 * i) for i in range(14)]
    in_order = InOrder(BERLIN)
    texts = [t.astimezone(BERLIN).replace(tzinfo=None).isoformat() for t in instants]
    assert texts.count("2026-10-25T02:10:00") == 2
    assert [wire_time(text, in_order) for text in texts] == instants


def test_times_with_an_offset_or_without_a_zone_setting_are_as_before() -> None:
    times = clock_at("2026-10-25T01:00")
    assert wire_time("2026-10-25T02:30:00+02:00", times) == utc("2026-10-25T00:30")
    assert wire_time("2026-10-25T02:30:00Z", times) == utc("2026-10-25T02:30")
    assert wire_time("2026-10-25T02:30:00") == utc("2026-10-25T02:30")
    assert wire_time("/Date(1792891800000)/", times) == utc("2026-10-25T01:30")


def test_pushed_items_are_read_in_the_zone_given() -> None:
    times = clock_at("2026-07-01T12:00")
    value = tag_item({"VariableName": "T", "Value": 1, "TimeStamp": "2026-07-01T13:00:00"}, times)
    alarm = message_alarm(
        {"Name": "A", "State": 1, "DateTime": "2026-07-01T13:59:00.000"}, "s", {}, times
    )
    assert value.timestamp == utc("2026-07-01T11:00")
    assert alarm.raise_time == utc("2026-07-01T11:59")


def test_a_zone_name_that_does_not_exist_is_a_plain_sentence() -> None:
    assert zone_named("Europe/Berlin") is BERLIN
    with pytest.raises(ValueError, match="'Europe/Berlinn' is not an IANA time zone name"):
        zone_named("Europe/Berlinn")
    with pytest.raises(ValueError, match="not an IANA time zone name"):
        zone_named("../../etc/passwd")


def test_the_classic_client_reads_values_in_its_timezone(plain_server) -> None:
    plain_server.route(
        "POST",
        VALUES,
        Reply(body=[{"variableName": "T", "value": 1, "timestamp": "2026-12-01T08:00:00.000"}]),
    )
    settings = ConnectionSettings(
        dialect="classic", url=plain_server.url, username="u", password="p", timezone=BERLIN
    )
    with open_client(settings) as client:
        (value,) = client.read_tags(["T"])
    assert value.timestamp == utc("2026-12-01T07:00")


def test_the_cli_takes_a_timezone_and_prints_utc(plain_server, capsys) -> None:
    plain_server.route(
        "POST",
        VALUES,
        Reply(body=[{"variableName": "T", "value": 1, "timestamp": "2026-12-01T08:00:00.000"}]),
    )
    url = plain_server.url
    code, lines, _ = bridge(
        capsys, "--dialect", "classic", "--url", url, "--timezone", "Europe/Berlin", "read", "T"
    )
    assert code == 0
    assert lines[0]["timestamp"] == "2026-12-01T07:00:00.000Z", json.dumps(lines)


def test_the_cli_refuses_an_unknown_zone(capsys) -> None:
    with pytest.raises(SystemExit) as caught:
        bridge(capsys, "--dialect", "classic", "--url", "http://x", "--timezone", "Mars/Base",
               "read", "T")
    assert caught.value.code == 2
    assert "'Mars/Base' is not an IANA time zone name" in capsys.readouterr().err
