"""A German live page in a real browser: the scripts' own words (the sound toggle) come from
the page in its language, and a live alarm row's time is localized in the German shape."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import new_page, sign_in
from tests.browser.test_times_browser import expect_live_row_in_zone

pytestmark = pytest.mark.browser


def test_a_german_alarm_page_speaks_german_in_its_scripts_too(browser, stack):
    name = next(d["name"] for d in stack.sim.alarm_definitions() if d["ack_required"])
    page = new_page(browser, timezone_id="Asia/Kolkata", locale="de-DE")
    sign_in(page, stack.url, "viewer")
    page.goto(f"{stack.url}/alarms/")
    expect(page.locator("html")).to_have_attribute("lang", "de")
    toggle = page.locator('[data-sound="toggle"]')
    toggle.click()
    expect(toggle).to_have_text("Ton aus")
    toggle.click()
    expect(toggle).to_have_text("Ton an")
    expect_live_row_in_zone(page, stack, name, "Asia/Kolkata", "%d.%m.%Y")
    page.context.close()
