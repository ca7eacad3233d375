"""A viewer watches the plant: live values without reload, stale when WinCC goes away,
the stream indicator when the dashboard server goes away and comes back."""

import re

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import POLL_INTERVAL, new_page, sign_in
from tests.fixtures.browser import screenshot

pytestmark = pytest.mark.browser

TANK = '[data-tag="utilities-restv1:Tank_Level"]'



def overview_as_viewer(browser, stack):
    """A new page signed in as a viewer, on the plant overview dashboard."""
    page = new_page(browser)
    sign_in(page, stack.url, "viewer")
    page.goto(f"{stack.url}/d/overview/")
    return page

def test_viewer_sees_a_tile_change_without_reloading(browser, stack):
    page = overview_as_viewer(browser, stack)
    expect(page.locator("[data-stream]")).to_have_attribute("data-stream", "connected")
    page.evaluate("window.notReloaded = true")
    stack.sim.set_tag("Tank_Level", 42.5)
    expect(page.locator(f"{TANK} .value")).to_have_text("42.5")
    expect(page.locator(TANK)).to_have_attribute("data-stale", "false")
    expect(page.locator(TANK)).to_have_attribute("data-quality", "good")
    assert page.evaluate("window.notReloaded") is True
    screenshot(page, "dashboard-overview-desktop")
    page.context.close()


def test_polling_fallback_also_updates_in_place(browser, stack):
    page = new_page(browser)
    sign_in(page, stack.url, "viewer")
    page.goto(f"{stack.url}/d/overview/?transport=poll")
    page.evaluate("window.notReloaded = true")
    stack.sim.set_tag("Tank_Level", 37.25)
    expect(page.locator(f"{TANK} .value")).to_have_text(re.compile(r"37\.[23]"))
    assert page.evaluate("window.notReloaded") is True
    assert page.locator("[sse-connect]").count() == 0
    page.context.close()


def test_stopped_wincc_marks_tiles_stale_and_says_which_site_and_why(browser, stack):
    page = overview_as_viewer(browser, stack)
    oven = page.locator('[data-tag="oven-unified:Oven_Zone1_Temp"]')
    expect(oven).to_have_attribute("data-stale", "false")
    stack.sim.stop_listener()
    try:
        # within three poll intervals (and the second the hub takes to look)
        expect(oven).to_have_attribute("data-stale", "true", timeout=(3 * POLL_INTERVAL + 2) * 1000)
        status = page.locator('.site-stale[data-site="oven-unified"]')
        expect(status).to_contain_text("Oven (WinCC Unified)")
        expect(status).to_contain_text("failed poll")
        expect(oven.locator(".tile-reason")).to_contain_text("STALE")
        screenshot(page, "dashboard-overview-wincc-stopped")
    finally:
        stack.sim.start_listener()
    expect(oven).to_have_attribute("data-stale", "false", timeout=15_000)
    page.context.close()


def test_stream_indicator_follows_the_server_away_and_back(browser, stack):
    page = overview_as_viewer(browser, stack)
    indicator = page.locator("[data-stream]")
    expect(indicator).to_have_attribute("data-stream", "connected")
    stack.server.stop()
    try:
        expect(indicator).to_have_attribute("data-stream", "reconnecting")
        expect(indicator).to_contain_text("last message")
        # nothing on the page may look live meanwhile
        expect(page.locator(f"{TANK}")).to_have_attribute("data-stale", "true")
        expect(indicator).to_have_attribute("data-stream", "lost", timeout=20_000)
        screenshot(page, "dashboard-overview-server-lost")
    finally:
        stack.server.start()
    expect(indicator).to_have_attribute("data-stream", "connected", timeout=20_000)
    expect(page.locator(TANK)).to_have_attribute("data-stale", "false")
    page.context.close()


# Which live fragments the stream swapped, from the first frame on.
RECORD_SWAPS = """
window.swapped = [];
document.addEventListener("DOMContentLoaded", function () {
  document.querySelectorAll("[sse-swap]").forEach(function (el) {
    new MutationObserver(function () { window.swapped.push(el.id); })
      .observe(el, {childList: true, subtree: true, characterData: true});
  });
});
"""
LEVEL_LL = "Tank_Level_LL"


def test_first_frame_leaves_out_what_the_page_shows_and_a_reconnect_gets_everything(
    browser, stack
):
    page = new_page(browser)
    sign_in(page, stack.url, "viewer")
    streams = []
    page.on("request", lambda r: "/live/stream/" in r.url and streams.append(r))
    page.add_init_script(RECORD_SWAPS)
    page.goto(f"{stack.url}/alarms/")
    indicator = page.locator("[data-stream]")
    expect(indicator).to_have_attribute("data-stream", "connected")
    assert "seen=" in streams[0].url
    page.wait_for_timeout(1500)  # the first frame (and its pulses) has arrived
    assert page.evaluate("window.swapped") == []  # nothing the page showed was sent again
    # A stream opened anew by the page names nothing seen.
    assert "seen=" not in page.locator("[sse-connect]").get_attribute("sse-connect")
    stack.sim.raise_alarm(LEVEL_LL)
    row = page.locator(f'[data-alarm^="utilities-restv1:{LEVEL_LL}:"]')
    expect(row).to_have_count(1, timeout=15_000)  # live, without a reload
    assert page.evaluate("window.swapped")
    # Away and back: what changed meanwhile is shown, the reconnect named its first frame.
    stack.server.stop()
    try:
        expect(indicator).to_have_attribute("data-stream", "reconnecting")
        stack.sim.clear_alarm(LEVEL_LL)
        page.wait_for_timeout(3 * POLL_INTERVAL * 1000)  # polled into Redis meanwhile
    finally:
        stack.server.start()
    expect(indicator).to_have_attribute("data-stream", "connected", timeout=20_000)
    assert streams[-1].all_headers().get("last-event-id") == "snapshot"
    fresh = new_page(browser)
    sign_in(fresh, stack.url, "viewer")
    fresh.goto(f"{stack.url}/alarms/")
    wanted = fresh.locator(f'[data-alarm^="utilities-restv1:{LEVEL_LL}:"]')
    if wanted.count():
        expect(row).to_have_attribute("data-state", wanted.get_attribute("data-state"))
    else:
        expect(row).to_have_count(0)
    fresh.context.close()
    page.context.close()


def test_the_stream_opened_before_the_scripts_is_the_one_htmx_uses(browser, stack):
    # templates/partials/live_start.js opens the stream; htmx takes it over (live.js) and
    # swaps what it held: one stream, live, and the page's scripts ran under the policy.
    page = new_page(browser)
    sign_in(page, stack.url, "viewer")
    streams = []
    page.on("request", lambda r: "/live/stream/" in r.url and streams.append(r.url))
    page.add_init_script(RECORD_SWAPS)
    page.goto(f"{stack.url}/d/overview/")
    expect(page.locator("[data-stream]")).to_have_attribute("data-stream", "connected")
    assert page.evaluate("window.liveStart") is None  # taken over
    page.evaluate("window.notReloaded = true")
    stack.sim.set_tag("Tank_Level", 44.5)
    expect(page.locator(f"{TANK} .value")).to_have_text("44.5")
    assert "tile-" in " ".join(page.evaluate("window.swapped"))
    assert len(streams) == 1 and "seen=" in streams[0]
    assert page.evaluate("window.notReloaded") is True
    page.context.close()
