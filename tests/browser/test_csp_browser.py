"""The Content-Security-Policy in a real browser: every page, signed in as who may see it,
live for a few seconds (htmx swaps, the stream, the polling fallback), without one
violation reported by Chromium; and the recorder does see a violation when there is one."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import new_page, sign_in
from tests.browser.test_pages_browser import issue_wall_token

pytestmark = pytest.mark.browser

PAGES = {
    "viewer": ["/", "/d/overview/", "/alarms/", "/alarms/?site=oven-unified", "/sites/",
               "/?transport=poll", "/alarms/?priority=nope"],
    "admin": ["/audit/", "/admin/", "/admin/dashboard/wallscreen/", "/admin/auth/user/1/change/"],
}


def record_violations(page, violations: list[str]) -> None:
    """Every message Chromium logs about the policy on this page goes to `violations`."""
    page.on("console", lambda message: violations.append(f"{page.url}: {message.text}")
            if "Content Security Policy" in message.text else None)


def test_no_page_breaks_the_policy(browser, stack):
    violations: list[str] = []
    anonymous = new_page(browser)
    record_violations(anonymous, violations)
    anonymous.goto(f"{stack.url}/accounts/login/")
    expect(anonymous.locator("input[name=username]")).to_be_visible()
    anonymous.wait_for_timeout(500)
    anonymous.context.close()
    for user, paths in PAGES.items():
        page = new_page(browser)
        record_violations(page, violations)
        sign_in(page, stack.url, user)
        for path in paths:
            page.goto(f"{stack.url}{path}")
            if page.locator("[data-stream]").count():
                expect(page.locator("[data-stream]")).to_have_attribute("data-stream",
                                                                          "connected")
            page.wait_for_timeout(1500)  # swaps arrive, the fallback polls
        page.context.close()
    wall = new_page(browser)
    record_violations(wall, violations)
    token = issue_wall_token(stack, "Policy check")
    wall.goto(f"{stack.url}/wall/overview/?token={token}")
    expect(wall.locator("[data-stream]")).to_have_attribute("data-stream", "connected")
    wall.wait_for_timeout(1500)
    wall.context.close()
    assert violations == []

    # The recorder is not deaf: on a signed-in page, an injected inline style is refused and
    # reported.
    page = new_page(browser)
    record_violations(page, violations)
    sign_in(page, stack.url, "viewer")
    page.evaluate("document.head.insertAdjacentHTML('beforeend', '<style>p{}</style>')")
    page.wait_for_timeout(300)
    assert any("style-src" in text for text in violations), violations
    page.context.close()


def test_a_page_asks_for_nothing_that_is_not_there(browser, stack):
    """No 404 in the browser's console on the way in (the favicon was one)."""
    missing: list[str] = []
    page = new_page(browser)
    page.on("response", lambda r: missing.append(f"{r.status} {r.url}") if r.status >= 400
            else None)
    page.goto(f"{stack.url}/accounts/login/")
    sign_in(page, stack.url, "viewer")
    page.goto(f"{stack.url}/")
    expect(page.locator("[data-stream]")).to_have_attribute("data-stream", "connected")
    page.wait_for_timeout(1000)
    page.context.close()
    assert missing == []
