"""Installable on tablets, in a real browser: the service worker keeps only the offline page,
and a page that cannot load shows since when nothing is live, never kept values; back
online (or with the server back), the live page returns by itself."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import new_page, sign_in
from tests.browser.test_themes_browser import DARK_BG, low_contrast
from tests.fixtures.browser import TABLET, screenshot
from tests.harness.processes import wait_until

pytestmark = pytest.mark.browser

SINCE = re.compile(r"^No connection since \d\d:\d\d UTC; values are not live\.$")
KEPT = """async () => {
  const found = [];
  for (const name of await caches.keys()) {
    const cache = await caches.open(name);
    for (const request of await cache.keys()) found.push(new URL(request.url).pathname);
  }
  return found.sort();
}"""


def installed(page) -> None:
    """The worker runs, controls the page and holds its offline files (polled from here: the
    page's CSP refuses the eval a string predicate of wait_for_function needs)."""
    wait_until(lambda: page.evaluate("navigator.serviceWorker.controller !== null"), timeout=15)
    wait_until(lambda: len(page.evaluate(KEPT)) > 0, timeout=15)
    wait_until(lambda: page.evaluate("localStorage.getItem('wincc-dashboard:last-live')"),
               timeout=15)


def expected_since(page) -> str:
    """The time the page last heard the stream, as the offline page writes it."""
    return page.evaluate("""() => {
        const at = new Date(parseInt(localStorage.getItem("wincc-dashboard:last-live"), 10));
        const two = n => (n < 10 ? "0" : "") + n;
        return "No connection since " + two(at.getUTCHours()) + ":" + two(at.getUTCMinutes())
            + " UTC; values are not live.";
    }""")


def test_offline_a_page_says_since_when_nothing_is_live_and_back_online_it_is_live(
    browser, stack
):
    page = new_page(browser, viewport=TABLET, color_scheme="dark")
    sign_in(page, stack.url, "writer")
    # The manifest the tablet installs from.
    manifest = page.evaluate("""() => fetch(document.querySelector("link[rel=manifest]").href)
        .then(r => r.json())""")
    assert manifest["display"] == "standalone" and manifest["start_url"] == "/"
    page.goto(f"{stack.url}/alarms/")
    expect(page.locator("[data-stream]")).to_have_attribute("data-stream", "connected")
    installed(page)
    kept = page.evaluate(KEPT)
    assert kept[0:1] == ["/offline/"] and all(p.startswith("/static/") for p in kept[1:]), kept
    # A page under the worker: its files and its stream never pass through the worker (the
    # browser's static routing sends them to the network).
    page.reload()
    expect(page.locator("[data-stream]")).to_have_attribute("data-stream", "connected")
    through = page.evaluate("""() => performance.getEntriesByType("resource")
        .filter(e => e.workerStart > 0).map(e => e.name)""")
    assert through == []
    since = expected_since(page)

    context = page.context
    context.set_offline(True)
    page.goto(f"{stack.url}/")
    notice = page.locator("[data-offline-since]")
    expect(notice).to_have_text(SINCE)
    assert notice.text_content() == since
    assert page.url == f"{stack.url}/"  # the address stays the page asked for
    # Nothing of the page is shown as if live: no value, no stream, no alarm.
    for absent in ("[data-tag]", "[data-stream]", "[data-alarm]", "#live"):
        assert page.locator(absent).count() == 0, absent
    expect(page.locator("body")).to_have_css("background-color", DARK_BG)  # the device's dark
    assert low_contrast(page)[1] == []
    screenshot(page, "offline-tablet-dark")
    # Every page that cannot load says the same, whatever it is (a new tab: this one reloads
    # itself every 10 s, which would race a navigation of its own).
    page.close()
    page = context.new_page()
    page.goto(f"{stack.url}/sites/")
    expect(page.locator("[data-offline-since]")).to_have_text(SINCE)

    # Back online: the page tries again by itself and the live page returns.
    context.set_offline(False)
    expect(page.locator("[data-stream]")).to_have_attribute("data-stream", "connected",
                                                            timeout=20_000)
    assert page.url == f"{stack.url}/sites/"
    kept_after = page.evaluate(KEPT)
    assert kept_after == kept  # no page, stream or API answer was kept on the way
    context.close()


def test_with_the_server_away_the_offline_page_shows_and_the_page_returns_with_it(
    browser, stack
):
    page = new_page(browser)
    sign_in(page, stack.url, "viewer")
    expect(page.locator("[data-stream]")).to_have_attribute("data-stream", "connected")
    installed(page)
    stack.server.stop()
    try:
        page.goto(f"{stack.url}/alarms/")
        expect(page.locator("[data-offline-since]")).to_have_text(SINCE)
        screenshot(page, "offline-server-away-desktop")
    finally:
        stack.server.start()
    expect(page.locator("[data-stream]")).to_have_attribute("data-stream", "connected",
                                                            timeout=30_000)
    assert page.url == f"{stack.url}/alarms/"
    page.context.close()
