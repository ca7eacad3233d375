"""Both themes in a real browser: every page a person reaches from the menu, and the wall
screen, with each visible text measured against what is drawn under it (WCAG AA). The dark
theme chosen on /preferences/, by the device (prefers-color-scheme) and by a wall screen's
address. Screenshots of each go to the CI artifacts."""

from __future__ import annotations

from pathlib import Path

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import new_page, sign_in
from tests.browser.test_wall_browser import DASHBOARDS, issue_screen
from tests.fixtures.browser import TABLET, screenshot
from tests.fixtures.simulator import wait_until

pytestmark = pytest.mark.browser

CONTRAST = (Path(__file__).parent / "contrast.js").read_text()
ALARM = "Tank_Level_LL"
DARK_BG = "rgb(20, 20, 20)"  # --bg of the dark theme (static/dashboard/dashboard.css)


def low_contrast(page) -> tuple[int, list[dict]]:
    measured = page.evaluate(CONTRAST)
    return len(measured), [m for m in measured if m["ratio"] < m["least"]]


def choose_theme(page, base_url: str, theme: str) -> None:
    page.goto(f"{base_url}/preferences/")
    page.check(f'input[name=theme][value="{theme}"]')
    page.click(".preferences-form button[type=submit]")
    expect(page.locator(".saved")).to_be_visible()


def menu_pages(page) -> list[tuple[str, str]]:
    """Every page of the header's menu but Django's admin (its own themes)."""
    return page.evaluate("""() => [...document.querySelectorAll(".menu a")]
        .filter(a => !a.pathname.startsWith("/admin/"))
        .map(a => [a.pathname, a.textContent.trim()])""")


@pytest.mark.parametrize("theme", ["dark", "light"])
def test_every_page_meets_aa_contrast_in_the_theme(browser, stack, theme):
    stack.sim.raise_alarm(ALARM)
    wait_until(lambda: any(a["name"] == ALARM for a in stack.sim.alarms()))
    page = new_page(browser)
    sign_in(page, stack.url, "admin")
    choose_theme(page, stack.url, theme)
    pages = [*menu_pages(page), ("/preferences/", "Display")]
    assert len(pages) >= 8, pages
    problems, checked = [], 0
    for path, name in pages:
        response = page.goto(f"{stack.url}{path}")
        assert response is not None and response.ok, path
        # Chosen in the page the server sends: no flash of the other theme while it loads.
        assert f'<html lang="en" data-theme="{theme}">' in response.text(), path
        if page.locator("[data-stream]").count():
            expect(page.locator("[data-stream]")).to_have_attribute("data-stream", "connected")
        page.wait_for_load_state("load")
        count, low = low_contrast(page)
        checked += count
        problems += sorted({f"{path}: {m['where']} {m['ink']} on {m['bg']}: {m['ratio']} "
                            f"< {m['least']} ({m['text']!r})" for m in low})
        screenshot(page, f"theme-{theme}-{name.lower().replace(' ', '-')}")
    assert checked > 200, checked  # the walk measured the pages' text, not an empty list
    assert not problems, "\n".join(problems)
    if theme == "dark":
        page.set_viewport_size(TABLET)
        for path in ("/", "/alarms/"):
            page.goto(f"{stack.url}{path}")
            expect(page.locator("[data-stream]")).to_have_attribute("data-stream", "connected")
            assert low_contrast(page)[1] == [], path
            screenshot(page, f"theme-dark-tablet-{path.strip('/') or 'overview'}")
        # Paper is white: printed in the light theme.
        page.emulate_media(media="print")
        expect(page.locator("body")).to_have_css("color", "rgb(31, 31, 31)")
    page.context.close()


def test_without_a_choice_the_device_setting_decides(browser, stack):
    dark = new_page(browser, color_scheme="dark")
    sign_in(dark, stack.url, "viewer")
    expect(dark.locator("html")).not_to_have_attribute("data-theme", "dark")
    expect(dark.locator("body")).to_have_css("background-color", DARK_BG)
    assert low_contrast(dark)[1] == []
    dark.context.close()
    light = new_page(browser, color_scheme="light")
    sign_in(light, stack.url, "viewer")
    expect(light.locator("body")).to_have_css("background-color", "rgb(217, 217, 217)")
    light.context.close()


@pytest.mark.parametrize("theme", ["dark", "light"])
def test_every_wall_page_meets_aa_contrast_in_the_theme_of_its_address(browser, stack, theme):
    stack.sim.raise_alarm(ALARM)
    token = issue_screen(stack, f"Theme {theme}", "overview", "--seconds", "3600",
                         "--theme", "light" if theme == "dark" else "dark")
    # The address's theme wins over the screen's own, on a device set the other way.
    page = new_page(browser, viewport={"width": 1920, "height": 1080},
                    color_scheme="light" if theme == "dark" else "dark")
    page.goto(f"{stack.url}/wall/overview/?token={token}&theme={theme}")
    expect(page.locator("html")).to_have_attribute("data-theme", theme)
    expect(page.locator("[data-stream]")).to_have_attribute("data-stream", "connected")
    expect(page.locator("main li.alarm").first).to_be_attached(timeout=20_000)
    # Every dashboard, every page of each (a screen too small for a dashboard pages it).
    problems, checked = [], 0
    for board in DASHBOARDS:
        page.goto(f"{stack.url}/wall/{board}/?theme={theme}")
        expect(page.locator("html")).to_have_attribute("data-theme", theme)
        expect(page.locator("[data-stream]")).to_have_attribute("data-stream", "connected")
        expect(page.locator("[data-tag][data-stale=false]").first).to_be_attached()
        pages = page.evaluate("Number(document.body.dataset.wallPages)")
        for number in range(1, pages + 1):
            if number > 1:
                page.keyboard.press("ArrowRight")
            count, low = low_contrast(page)
            checked += count
            problems += [f"{board} page {number}: {m}" for m in low]
            screenshot(page, f"theme-{theme}-wall-{board}-{number}-1920x1080", full_page=False)
    assert checked > 100 and not problems, "\n".join(problems)
    page.context.close()
