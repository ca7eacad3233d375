"""Writing a setpoint in a real browser against the live stack (simulator, Redis, Celery,
uvicorn): a setpoint writer opens the dialog on a tile, enters a value and sees that WinCC
took it; an out-of-range value is refused in plain words with nothing sent; an operator
has no edit control."""

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import new_page, sign_in
from tests.fixtures.browser import TABLET, screenshot

pytestmark = pytest.mark.browser

SITE = "oven-unified"
TAG = "Oven_Zone1_Setpoint"
TILE = f'[data-tag="{SITE}:{TAG}"]'


def test_writer_sets_a_setpoint_and_wincc_takes_it(browser, stack):
    page = new_page(browser, viewport=TABLET)
    sign_in(page, stack.url, "writer")
    page.goto(f"{stack.url}/d/overview/")
    page.locator(f'{TILE} [data-action="write"]').click()

    dialog = page.locator("dialog.write-dialog")
    expect(dialog).to_be_visible()
    expect(dialog).to_contain_text("Set Zone 1 setpoint")
    expect(dialog.locator(".write-current")).to_have_text("180.0 °C")
    expect(dialog.locator(".write-limits")).to_have_text("0 to 400 °C")

    # Out of range: refused in a sentence, the dialog stays open, WinCC hears nothing.
    dialog.locator("input[name=value]").fill("450")
    dialog.locator("button[type=submit]").click()
    result = dialog.locator(".write-result")
    expect(result).to_have_text(
        "450 °C is outside the range of Zone 1 setpoint, 0 to 400 °C. Nothing was sent to WinCC.")
    expect(result).to_have_class("write-result refused")
    assert stack.sim.requests_log() == []

    dialog.locator("input[name=value]").fill("185.5")
    dialog.locator("button[type=submit]").click()
    expect(result).to_have_text("WinCC took it: Zone 1 setpoint reads 185.5 °C.")
    expect(result).to_have_class("write-result taken")
    expect(dialog.locator(".write-current")).to_have_text("185.5 °C")
    screenshot(page, "write-setpoint-tablet")
    assert stack.sim.value(TAG) == 185.5
    sent = stack.sim.requests_log()
    assert [(r["user"], r["allowed"]) for r in sent] == [(stack.sim.users.rw.username, True)]

    # The tile follows at the next poll; the dialog closes and leaves the page as it was.
    expect(page.locator(f"{TILE} .value")).to_have_text("185.5", timeout=20_000)
    dialog.locator('[data-action="close-write"]').click()
    expect(page.locator("dialog.write-dialog")).to_have_count(0)
    page.context.close()


def test_operator_has_no_edit_control(browser, stack):
    page = new_page(browser)
    sign_in(page, stack.url, "operator")
    page.goto(f"{stack.url}/d/overview/")
    expect(page.locator(TILE)).to_be_visible()
    expect(page.locator('[data-action="write"]')).to_have_count(0)
    page.context.close()
