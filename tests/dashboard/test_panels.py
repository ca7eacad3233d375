"""The pure parts of the panels: limits, value text, trend samples, sparklines, freshness."""

import re
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from itertools import pairwise

import pytest

from dashboard.panels.alarm_list import alarm_counts, filter_alarms, holding_sites, strip_alarm
from dashboard.panels.drawing import TIME_STEP_SECONDS, limit_band, sparkline
from dashboard.panels.fragments import Fragment, SiteEvent
from dashboard.panels.renderers import format_value, limit_state
from dashboard.panels.state import SiteState
from tests.dashboard.livedata import alarm
from wincc_bridge.models import AlarmState
from wincc_ingest import codec
from wincc_ingest.config import ApiUser, Limits, SiteConfig, TagConfig

TEMP = TagConfig("T", "Temperature", "°C", Limits(ll=10, l=20, h=80, hh=90), 0, 100, decimals=2)
NOW = datetime(2026, 11, 26, 12, 0, tzinfo=UTC)


def test_limit_state_names_the_breached_limit():
    assert [limit_state(v, TEMP) for v in (5, 10, 15, 50, 85, 90, 95)] == [
        "ll", "ll", "l", "", "h", "hh", "hh"]
    assert limit_state(True, TEMP) == ""  # a boolean is not a number here
    assert limit_state("text", TEMP) == ""


def test_value_text():
    assert format_value(12.3456, TEMP) == "12.35"
    assert format_value(7, TEMP) == "7"
    assert format_value(True, TEMP) == "ON"
    assert format_value(None, TEMP) == "***"  # ISA-101's placeholder, never a blank


def test_sparkline_keeps_to_its_window_and_draws_the_limits():
    now = NOW.timestamp()
    samples = [(now - 900, 50.0), (now - 60, 40.0), (now - 30, 60.0)]
    svg = sparkline(samples, TEMP, NOW, minutes=5)
    # the 15-minute-old sample held until the first change inside the window: it starts
    # the line at the window's edge, then one step per change (along, then up or down)
    # scale: the limits 10..90 with a quarter margin, -10..110 over 26 units of height
    assert 'd="M0 15H80V17H90V13"' in svg  # to half a unit
    assert svg.count('class="lim ') == 4
    assert "empty" in sparkline(samples[-1:], TEMP, NOW, minutes=5)


def polyline(svg: str) -> list[tuple[float, float]]:
    """The corners of the step line's path (M x y, then H x and V y)."""
    corners: list[tuple[float, float]] = []
    for command, a, b in re.findall(r"([MHV])(-?[\d.]+)(?: (-?[\d.]+))?", svg.split(' d="')[1]):
        x, y = corners[-1] if corners else (0.0, 0.0)
        corners.append((float(a), float(b)) if command == "M" else
                       (float(a), y) if command == "H" else (x, float(a)))
    return corners


def test_changes_within_a_pixel_are_drawn_as_one_stroke_of_the_same_extent():
    # Values every second over 5 minutes: a column (a viewBox unit, 3 s) holds the lowest,
    # the highest and the last value of its changes, not each change.
    now = NOW.timestamp()
    values = [50.0 + (i % 7) * 3 - (i % 3) * 5 for i in range(300)]
    samples = [(now - 300 + i, v) for i, v in enumerate(values)]
    line = polyline(sparkline(samples, TEMP, NOW, minutes=5, held_until=NOW))
    ys = [y for _, y in line]
    drawn = sparkline(samples, TEMP, NOW, minutes=5, held_until=NOW)
    assert len(drawn) < 1500  # against some 7,000 bytes as a polyline of each change
    # the same vertical extent as every change drawn: 26 units over -10..110
    assert min(ys) == round((28 - (max(values) + 10) / 120 * 26) * 2) / 2
    assert max(ys) == round((28 - (min(values) + 10) / 120 * 26) * 2) / 2
    assert line[-1][0] == 100.0
    assert all(b[0] >= a[0] for a, b in pairwise(line))


def test_a_constant_value_is_drawn_flat_up_to_now_while_it_is_confirmed():
    now = NOW.timestamp()
    samples = [(now - 3600, 50.0)]  # read once an hour ago, unchanged since
    line = polyline(sparkline(samples, TEMP, NOW, minutes=5, held_until=NOW))
    assert [x for x, _ in line] == [0.0, 100.0]
    assert line[0][1] == line[1][1]
    # not confirmed (stale site or bad value): nothing is drawn past the last change
    assert "empty" in sparkline(samples, TEMP, NOW, minutes=5)


def test_a_stale_line_ends_at_its_last_change():
    now = NOW.timestamp()
    samples = [(now - 240, 40.0), (now - 120, 60.0)]
    assert polyline(sparkline(samples, TEMP, NOW, minutes=5))[-1][0] == 60.0
    held = polyline(sparkline(samples, TEMP, NOW, minutes=5, held_until=NOW))
    assert held[-1][0] == 100.0


def test_a_trend_drawn_a_moment_later_within_its_step_is_the_same_bytes():
    # The page and the live hub draw a tile a moment apart: the same samples give the same
    # bytes while the time axis has not moved on a step, so the stream need not resend it.
    now = NOW.timestamp()
    samples = [(now - 200, 40.0), (now - 90, 60.0)]
    moments = [NOW + timedelta(seconds=s) for s in (0, 1.5, TIME_STEP_SECONDS - 0.1)]
    drawn = {sparkline(samples, TEMP, m, minutes=5, held_until=m) for m in moments}
    assert len(drawn) == 1
    later = NOW + timedelta(seconds=TIME_STEP_SECONDS)
    assert sparkline(samples, TEMP, later, minutes=5, held_until=later) not in drawn


def test_a_change_within_the_last_step_ends_the_line_at_the_right_edge():
    now = NOW + timedelta(seconds=TIME_STEP_SECONDS - 1)
    samples = [(NOW.timestamp() - 120, 40.0), (now.timestamp() - 0.5, 60.0)]
    line = polyline(sparkline(samples, TEMP, now, minutes=5, held_until=now))
    # the new value is shown, at the window's end (now rounded down to the step)
    assert line[-2][0] == line[-1][0] == 100.0
    assert line[-1][1] < line[-2][1]  # 60 is drawn above 40


def test_a_held_line_never_reaches_past_its_confirmation():
    now = NOW.timestamp()
    samples = [(now - 240, 40.0)]
    confirmed = NOW - timedelta(seconds=7)
    line = polyline(sparkline(samples, TEMP, NOW, minutes=5, held_until=confirmed))
    # rounded down to the step, like the window's end: 10 s before the end of 300 s
    assert line[-1][0] == round(290 / 300 * 100 * 2) / 2


def test_limit_band_marks_the_value():
    svg = limit_band(50.0, TEMP)
    assert 'points="50.0,9' in svg and "zone-hh" in svg
    assert limit_band(50.0, TagConfig("X", "X")) == ""  # no limits, no band
    # no display range configured: the limits with a margin, the value in the middle here
    current = TagConfig("I", "Current", "A", Limits(h=30, hh=35))
    assert 'points="50.0,9' in limit_band(32.5, current)


def site_state(**health) -> SiteState:
    site = SiteConfig("s", "Site", "rest-v1", "https://x", ApiUser())
    values = {"site": "s", "interval": "1.0", "last_success": codec.iso(NOW),
              "failures": "0", **health}
    return SiteState(config=site, health=codec.decode_health(values))


def test_freshness_in_plain_words():
    assert site_state().freshness(NOW + timedelta(seconds=2)).stale is False
    old = site_state().freshness(NOW + timedelta(seconds=3.5))
    assert old.stale and old.status == "stale" and "more than 3 s" in old.reason
    failing = site_state(failures="2", last_error="timed out").freshness(NOW)
    assert failing.status == "failing" and failing.reason == "2 failed polls: timed out"
    never = SiteState(config=site_state().config).freshness(NOW)
    assert never.status == "never"
    lost = site_state().freshness(NOW, redis_ok=False)
    assert lost.stale and "Redis" in lost.reason


def test_the_short_reason_is_the_failing_sites_own():
    assert site_state().freshness(NOW).short == ""
    refused = site_state(failures="1", last_error="login refused for the token at https://x",
                         reason="login refused").freshness(NOW)
    assert (refused.status, refused.short) == ("failing", "login refused")
    # Health written before short reasons were recorded.
    assert site_state(failures="1", last_error="x").freshness(NOW).short == "WinCC not answering"
    assert site_state().freshness(NOW + timedelta(seconds=9)).short == "no recent poll"
    assert SiteState(config=site_state().config).freshness(NOW).short == "not polled yet"


def test_a_site_never_polled_on_its_own_queue_asks_for_that_queues_worker():
    queued = SiteState(config=replace(site_state().config, queue="hall-b")).freshness(NOW)
    assert queued.reason == ("never polled yet: no poller has reported on this site (is a "
                             "worker consuming its queue hall-b?)")
    assert SiteState(config=site_state().config).freshness(NOW).reason == (
        "never polled yet: no poller has reported on this site")


def test_what_a_site_without_alarm_list_says():
    assert site_state().alarm_list_note() == ""
    assert site_state(alarm_list="offered").alarm_list_note() == ""
    assert site_state(alarm_list="missing").alarm_list_note() == (
        "this server publishes no alarm list")
    off = SiteState(config=replace(site_state().config, alarms=False))
    assert off.alarm_list_note() == (
        "alarms are switched off in this site's configuration (alarms: false)")
    classic = SiteState(config=replace(site_state().config, dialect="classic"))
    assert classic.alarm_list_note() == "no alarm list is configured for this site (alarm_filter)"
    missing = site_state(alarm_list="missing")
    filtered = SiteState(config=replace(missing.config, dialect="classic", alarm_filter="Active"),
                         health=missing.health)
    assert filtered.alarm_list_note() == (
        "this server publishes no alarm list under the REST filter 'Active' (WinCC V7.5 and "
        "V8.0 have none; on V8.1, check the filter's name in alarm_filter)")


def test_counts_leave_shelved_alarms_off_the_main_list():
    alarms = [alarm(name="A", priority=12),
              alarm(name="B", priority=12, state=AlarmState.ACKNOWLEDGED),
              alarm(name="C", priority=2, state=AlarmState.SHELVED),
              alarm(name="D", priority=16)]
    here = {(alarms[3].site, alarms[3].key)}  # D is shelved by the dashboard itself
    counted = alarm_counts(alarms, here)
    counts = {c["band"]: (c["total"], c["unack"]) for c in counted.bands}
    assert counts["high"] == (2, 1)
    assert counts["low"] == (0, 0)
    assert counts["highest"] == (0, 0)
    assert (counted.active, counted.unack, counted.shelved) == (2, 1, 2)
    assert [a.name for a in filter_alarms(alarms, {"state": "shelved"}, here)] == ["D", "C"]
    # The wall strip and its hold follow the same rule: D is not the plant's most pressing.
    assert strip_alarm(alarms, here).name == "A"
    assert holding_sites(alarms, here) == []
    assert strip_alarm(alarms).name == "D" and holding_sites(alarms) == [alarms[0].site]


def test_each_fragment_kind_says_what_makes_it_render_again():
    tile = Fragment("tile", ("s",), ("T",))
    alarms = Fragment("alarms", ("s",))
    status = Fragment("status", ("s",))
    assert tile.reacts_to("s", SiteEvent(tags=frozenset({"T"})))
    assert not tile.reacts_to("s", SiteEvent(tags=frozenset({"U"})))  # another tag
    assert not tile.reacts_to("other", SiteEvent(tags=frozenset({"T"})))  # another site
    assert not tile.reacts_to("s", SiteEvent(alarms=True, health=True))
    assert tile.reacts_to("s", SiteEvent(freshness=True))  # turned stale: greyed at once
    assert alarms.reacts_to("s", SiteEvent(alarms=True))
    assert not alarms.reacts_to("s", SiteEvent(health=True))
    assert status.reacts_to("s", SiteEvent(health=True))
    assert not status.reacts_to("s", SiteEvent(alarms=True, tags=frozenset({"T"})))


def test_a_fragment_of_an_unknown_kind_is_refused():
    with pytest.raises(ValueError, match="unknown fragment kind"):
        Fragment("gauge", ("s",))


def test_an_alarm_row_shows_the_date_of_an_alarm_raised_on_an_earlier_day():
    from django.template.loader import render_to_string
    from django.utils import timezone

    from dashboard.templatetags.plant_time import moment

    old = alarm(raise_time=datetime(2026, 11, 23, 6, 15, 2, tzinfo=UTC))
    row = render_to_string("partials/alarm_row.html", {"alarm": old, "site_name": "Oven"})
    assert "raised <time" in row and ">2026-11-23 06:15</time>" in row
    fresh = alarm(raise_time=timezone.now())
    row = render_to_string("partials/alarm_row.html", {"alarm": fresh, "site_name": "Oven"})
    assert f">{timezone.now().astimezone(UTC):%Y-%m-%d}" not in row.split("raised")[1]
    assert moment(NOW - timedelta(hours=3), NOW) == "09:00:00"
    assert moment(NOW - timedelta(hours=13), NOW) == "2026-11-25 23:00"
    assert moment(None) == ""
