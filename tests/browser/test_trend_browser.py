"""A plant manager reads a trend: from a tile's value to its chart, presets, zoom by dragging,
back to live, compare with yesterday, export exactly the window shown, the live edge fed by
the page's stream, and "not live" when it is not. Screenshots at desktop, tablet and phone.

History comes from the site's archive where the simulator's dialect has one, else from the
dashboard's store; the test writes an hour of stored minutes now and a day ago into the live
server's own database, so the chart has history whichever source answers."""

from __future__ import annotations

import re
import sqlite3
import time
from datetime import UTC, datetime
from urllib.parse import parse_qs, urlsplit

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import POLL_INTERVAL, new_page, sign_in
from tests.fixtures.browser import PHONE, TABLET, screenshot

pytestmark = pytest.mark.browser

TANK = "utilities-restv1:Tank_Level"
ZONE1 = "oven-unified:Oven_Zone1_Temp"
CHART = ".trend-chart[data-trend]"
LAPTOP = {"width": 1366, "height": 768}
# Of the plot, at least this much is on the first screen (it is 220 px high at least).
PLOT_SEEN = 150


@pytest.fixture(scope="module")
def stored_history(live_stack):
    """Stored minutes of the tank and zone 1: the last hour but the newest minutes (the
    poller's own), with an empty minute (a gap) and an uncertain one, and the same hour a
    day earlier, lower (for the comparison). Written once; INSERT OR IGNORE leaves the poller's."""
    now = int(time.time() // 60) * 60
    rows = []
    for pen in (TANK, ZONE1):
        site, tag = pen.split(":", 1)
        for back in range(3, 61):
            for minute, base in ((now - back * 60, 40.0), (now - back * 60 - 86400, 25.0)):
                value = None if back == 30 else base + (back % 12)
                quality = "u" if back == 20 else "g"
                rows.append((site, tag, datetime.fromtimestamp(minute, UTC).strftime(
                    "%Y-%m-%d %H:%M:%S"), value, value, value, value, 0 if value is None else 60,
                    quality))
    database = urlsplit(live_stack.server.database_url).path
    with sqlite3.connect(database, timeout=20) as db:
        db.executemany(
            "INSERT OR IGNORE INTO dashboard_tagminute (site_id, tag, minute, minimum, maximum,"
            " average, last, count, quality) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)", rows)


@pytest.fixture
def trend_page(browser, stack, stored_history):
    """A viewer's page, signed in; closed after the test."""
    page = new_page(browser)
    sign_in(page, stack.url, "viewer")
    yield page
    page.context.close()


def query_of(url: str) -> dict[str, list[str]]:
    return parse_qs(urlsplit(url).query)


def expect_drawn(chart, series: int = 1) -> None:
    expect(chart).to_have_attribute("data-state", "drawn")
    expect(chart).to_have_attribute("data-series", re.compile(r"[1-9]\d*"))
    assert int(chart.get_attribute("data-series")) >= series


def test_a_tiles_value_opens_its_trend_and_esc_closes_it(trend_page, stack):
    page = trend_page
    page.goto(f"{stack.url}/d/overview/")
    # Keyboard: the value is a link; Enter opens the overlay. A frame of the stream that
    # re-renders the tile between the focus and the key takes the focus with the old tile:
    # then the key falls on the page, and a person presses it again.
    dialog = page.locator("dialog.trend-dialog")
    for _ in range(5):
        page.locator(f'[data-tag="{TANK}"] a.tile-trend').press("Enter")
        try:
            expect(dialog).to_be_visible(timeout=2_000)
            break
        except AssertionError:
            continue
    expect(dialog).to_be_visible()
    chart = dialog.locator(".trend-chart")
    expect_drawn(chart)
    expect(dialog.locator(".trend-span[aria-pressed=true]")).to_have_text("1 h")
    expect(dialog.locator(".trend-source")).to_contain_text("Tank level")
    open_link = dialog.locator("a.trend-open")
    assert query_of(open_link.get_attribute("href"))["pen"] == [TANK]
    screenshot(page, "trend-overlay-desktop")
    page.keyboard.press("Escape")
    expect(dialog).to_have_count(0)
    # The tile, re-rendered by the stream meanwhile, still opens it on a tap of its sparkline.
    page.locator(f'[data-tag="{TANK}"] a.tile-spark').click()
    expect_drawn(page.locator("dialog.trend-dialog .trend-chart"))
    page.locator("dialog.trend-dialog .trend-close").click()
    expect(page.locator("dialog.trend-dialog")).to_have_count(0)


def test_presets_zoom_back_to_live_compare_and_export(trend_page, stack):
    page = trend_page
    page.goto(f"{stack.url}/trend/?pen={TANK}&pen={ZONE1}&start=now-1h&end=now")
    chart = page.locator(CHART)
    expect_drawn(chart, series=2)
    expect(chart).to_have_attribute("data-live", "true")
    expect(page.locator(".trend-status")).to_contain_text("Live")
    sources = page.locator(".trend-source")
    expect(sources).to_have_count(2)
    expect(sources.first).to_contain_text(re.compile("WinCC archive|dashboard store"))

    page.locator(".trend-span", has_text="8 h").click()
    expect(page).to_have_url(re.compile(r"start=now-8h&end=now"))
    expect_drawn(chart, series=2)

    page.locator(".trend-span", has_text="1 h").click()
    expect(page).to_have_url(re.compile(r"start=now-1h&end=now"))
    expect_drawn(chart, series=2)
    # Zoom: drag across the middle of the plot; the window leaves now and the URL holds it.
    box = page.locator(".u-over").bounding_box()
    page.mouse.move(box["x"] + box["width"] * 0.3, box["y"] + box["height"] / 2)
    page.mouse.down()
    page.mouse.move(box["x"] + box["width"] * 0.6, box["y"] + box["height"] / 2, steps=6)
    page.mouse.up()
    expect(page).to_have_url(re.compile(r"start=\d{4}-\d\d-\d\dT[\d%A:]+Z&end=\d{4}"))
    expect(chart).to_have_attribute("data-live", "false")
    expect(page.locator(".trend-status")).to_contain_text("not live")
    expect_drawn(chart)
    shown = query_of(page.url)
    span = (datetime.fromisoformat(shown["end"][0]) -
            datetime.fromisoformat(shown["start"][0])).total_seconds()
    assert 900 <= span <= 1500, span  # about 30 % of the hour

    # Export: exactly the window shown, the same pens.
    export = page.locator("a.trend-export")
    exported = query_of(export.get_attribute("href"))
    assert exported["pen"] == [TANK, ZONE1]
    assert (exported["start"], exported["end"]) == (shown["start"], shown["end"])
    answer = page.request.get(stack.url + export.get_attribute("href"))
    assert answer.status == 200 and answer.headers["content-type"].startswith("text/csv")
    lines = answer.text().splitlines()
    assert lines[0].startswith("time,site,tag,label,unit,value,quality,source")
    start, end = (datetime.fromisoformat(shown[k][0]) for k in ("start", "end"))
    times = [datetime.fromisoformat(line.split(",")[0]) for line in lines[1:]]
    # Stored minutes are stamped with their start: the first may begin before the window.
    first = start.replace(second=0, microsecond=0)
    assert times and all(first <= t <= end for t in times), (start, end, times[:3], times[-3:])

    # Compare with a day earlier: one dashed series per pen more.
    before = int(chart.get_attribute("data-series"))
    page.select_option(".trend-compare select", "1d")
    expect(page).to_have_url(re.compile(r"compare=1d"))
    expect(chart).to_have_attribute("data-compare-series", "2")
    expect(chart).to_have_attribute("data-series", re.compile(r"\d+"))
    expect(chart).not_to_have_attribute("data-series", str(before))
    assert int(chart.get_attribute("data-series")) > before
    screenshot(page, "trend-page-compare-desktop")

    page.locator(".trend-live").click()
    expect(chart).to_have_attribute("data-live", "true")
    expect(page).to_have_url(re.compile(r"start=now-\d+s?(min|h)?&end=now&compare=1d"))
    expect(page.locator(".trend-live")).to_be_hidden()


def test_live_edge_follows_the_stream_and_says_when_it_is_not_live(trend_page, stack):
    page = trend_page
    page.goto(f"{stack.url}/trend/?pen={TANK}&start=now-15min&end=now")
    chart = page.locator(CHART)
    expect_drawn(chart)
    calls = []
    page.on("request", lambda r: calls.append(r.url) if "/trend/data/" in r.url else None)
    stack.sim.set_tag("Tank_Level", 42.5)
    expect(page.locator(f'[data-tag="{TANK}"] .value')).to_have_text("42.5")
    expect(chart).to_have_attribute("data-live-points", re.compile(r"[1-9]"))
    assert calls == []  # appended from the stream's frame, not fetched again
    stack.sim.stop_listener()
    try:
        expect(page.locator(".trend-status")).to_contain_text(
            "NOT LIVE", timeout=(3 * POLL_INTERVAL + 3) * 1000)
        expect(chart).to_have_attribute("data-not-live", "true")
        screenshot(page, "trend-page-not-live")
    finally:
        stack.sim.start_listener()
    expect(page.locator(".trend-status")).to_contain_text("Live:", timeout=15_000)


# An inverted range, and one far beyond any history (never drawn as a live chart).
@pytest.mark.parametrize(("window", "sentence"), [
    ("start=now&end=now-1h", "start must be before its end"),
    ("start=now-9999d", "at most 31 days"),
])
def test_bad_range_is_a_sentence_not_a_chart(trend_page, stack, window, sentence):
    page = trend_page
    response = page.goto(f"{stack.url}/trend/?pen={TANK}&{window}")
    assert response.status == 400
    expect(page.locator(".trend-errors")).to_contain_text(sentence)
    expect(page.locator(CHART)).to_have_count(0)


@pytest.mark.parametrize(("name", "viewport"), [("tablet", TABLET), ("phone", PHONE)])
def test_trend_reads_on_a_tablet_and_a_phone(browser, stack, stored_history, name, viewport):
    page = new_page(browser, viewport=viewport, has_touch=True)
    sign_in(page, stack.url, "viewer")
    page.goto(f"{stack.url}/trend/?pen={TANK}&pen={ZONE1}&start=now-1h&end=now")
    chart = page.locator(CHART)
    expect_drawn(chart, series=2)
    # The plot fits the screen: no sideways scrolling.
    assert page.evaluate("document.documentElement.scrollWidth") <= viewport["width"]
    screenshot(page, f"trend-page-{name}")
    if name == "tablet":
        pinch_apart(page)
        expect(chart).to_have_attribute("data-live", "false")
        expect(page).to_have_url(re.compile(r"start=\d{4}-\d\d-\d\dT[\d%A:]+Z&end=\d{4}"))
        shown = query_of(page.url)
        span = (datetime.fromisoformat(shown["end"][0]) -
                datetime.fromisoformat(shown["start"][0])).total_seconds()
        assert span < 3600 * 0.7, span  # the fingers moved apart: a narrower window
        expect_drawn(chart)
    page.goto(f"{stack.url}/d/overview/")
    page.locator(f'[data-tag="{TANK}"] a.tile-trend').tap()
    expect_drawn(page.locator("dialog.trend-dialog .trend-chart"))
    screenshot(page, f"trend-overlay-{name}")
    page.context.close()


def pinch_apart(page) -> None:
    """Two fingers on the plot moving apart, as real touch events (Chromium's DevTools
    protocol: Playwright taps but does not pinch)."""
    box = page.locator(".u-over").bounding_box()
    y = box["y"] + box["height"] / 2
    middle = box["x"] + box["width"] * 0.45
    cdp = page.context.new_cdp_session(page)

    def touch(kind: str, spread: float) -> None:
        points = [] if kind == "touchEnd" else [
            {"x": middle - spread, "y": y, "id": 1}, {"x": middle + spread, "y": y, "id": 2}]
        cdp.send("Input.dispatchTouchEvent", {"type": kind, "touchPoints": points})

    touch("touchStart", 40)
    for spread in (60, 90, 120, 150):
        touch("touchMove", spread)
    touch("touchEnd", 0)
    cdp.detach()


@pytest.mark.parametrize(("name", "viewport"),
                         [("laptop", LAPTOP), ("tablet", TABLET), ("phone", PHONE)])
def test_the_chart_is_on_the_first_screen_with_one_compare_control(
        browser, stack, stored_history, name, viewport):
    page = new_page(browser, viewport=viewport)
    sign_in(page, stack.url, "viewer")
    page.goto(f"{stack.url}/trend/?pen={TANK}&pen={ZONE1}&start=now-1h&end=now")
    chart = page.locator(CHART)
    expect_drawn(chart, series=2)
    screenshot(page, f"trend-first-screen-{name}", full_page=False)
    plot = page.locator(f"{CHART} .trend-plot").bounding_box()
    assert plot is not None
    assert 0 <= plot["y"] <= viewport["height"] - PLOT_SEEN, (name, plot)
    # One compare control: the form's, which the chart follows.
    expect(page.get_by_label("Compare")).to_have_count(1)
    expect(page.locator("select")).to_have_count(1)
    page.get_by_label("Compare").select_option("1d")
    expect(chart).to_have_attribute("data-compare-series", "2")
    expect(page).to_have_url(re.compile(r"compare=1d"))
    # The folded window opens on a tap and names the zone.
    page.locator(".trend-window summary").click()
    expect(page.locator("#time-hint")).to_contain_text("UTC")
    # A live window leaves the boxes empty; a range typed in them is drawn fixed.
    expect(page.get_by_label("From (UTC)")).to_have_value("")
    start = datetime.fromtimestamp(time.time() - 1800, UTC).strftime("%Y-%m-%dT%H:%M")
    end = datetime.fromtimestamp(time.time() - 600, UTC).strftime("%Y-%m-%dT%H:%M")
    page.get_by_label("From (UTC)").fill(start)
    page.get_by_label("To (UTC)").fill(end)
    page.get_by_role("button", name="Show").click()
    expect(chart).to_have_attribute("data-live", "false")
    expect(page).to_have_url(re.compile(rf"start={start.replace(':', '%3A')}%3A00Z&end="))
    expect_drawn(chart, series=2)
    page.context.close()


def test_in_german_the_chart_reads_german_with_a_decimal_comma(browser, stack, stored_history):
    """A German browser: the chart's buttons and status from the page's words, a value with
    a decimal comma, the day before the month (docs/languages.md)."""
    page = new_page(browser, locale="de-DE")
    sign_in(page, stack.url, "viewer")
    page.goto(f"{stack.url}/trend/?pen={TANK}&start=now-1h&end=now")
    chart = page.locator(CHART)
    expect_drawn(chart)
    expect(page.locator(".trend-earlier")).to_have_text("◀ Früher")
    expect(page.locator(".trend-export")).to_have_text("CSV exportieren")
    expect(page.locator(".trend-status")).to_contain_text("Live: die letzten 1h, mitlaufend.")
    expect(page.locator(".trend-source").first).to_contain_text(
        re.compile("WinCC-Archiv|Dashboard-Speicher"))
    over = page.locator(".u-over")
    box = over.bounding_box()
    assert box is not None
    over.hover(position={"x": box["width"] * 0.5, "y": box["height"] / 2})
    values = chart.locator(".u-legend .u-series .u-value")
    expect(values.nth(1)).to_have_text(re.compile(r"^\d+,\d %$"))  # 1 decimal, in %
    expect(values.first).to_have_text(re.compile(r"^\d\d\.\d\d\. \d\d:\d\d UTC$"))
    page.context.close()
