"""A German live page in a real browser: the scripts' own words (the sound toggle) come from
the page in its language, and a live alarm row's time is localized in the German shape."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import new_page, sign_in

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
    instance = stack.sim.raise_alarm(name)[-1]
    raised = datetime.fromisoformat(instance["raise_time"].replace("Z", "+00:00"))
    row_time = page.locator(f'[data-alarm^="utilities-restv1:{name}:"] time').first
    expect(row_time).to_have_attribute("data-local-time", "1", timeout=15_000)
    expect(row_time).to_have_attribute("title", raised.strftime("%d.%m.%Y %H:%M:%S UTC"))
    local = raised.astimezone(ZoneInfo("Asia/Kolkata"))
    same_day = local.date() == datetime.now(ZoneInfo("Asia/Kolkata")).date()
    expect(row_time).to_have_text(local.strftime("%H:%M:%S" if same_day else "%d.%m.%Y %H:%M:%S"))
    page.context.close()
