"""The product in German in a real Chromium set to German (Accept-Language de-DE): the main
pages on a tablet, and a wall screen whose link asks for German in the dark theme. A
screenshot of each goes to the CI artifacts (german-*.png)."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import new_page, sign_in
from tests.browser.test_wall_browser import issue_screen
from tests.fixtures.browser import screenshot
from tests.harness.processes import wait_until

pytestmark = pytest.mark.browser

TABLET_PORTRAIT = {"width": 800, "height": 1280}
ALARM = "Tank_Level_LL"
# The main pages, by the name of their screenshot; the alarm's own page is reached from the
# alarm list.
PAGES = [("overview", "/"), ("dashboard", "/d/oven-unified/"), ("alarms", "/alarms/"),
         ("journal", "/journal/"), ("trend", "/trend/"), ("kpi", "/kpi/"),
         ("audit", "/audit/"), ("preferences", "/preferences/")]
# Words each page shows in German whatever else on it is still to be translated.
GERMAN_WORDS = {"preferences": "Sprache"}


def german_tablet(browser):
    return new_page(browser, viewport=TABLET_PORTRAIT, is_mobile=True, has_touch=True,
                    locale="de-DE")


# A live value with decimals, as German writes it (the stream's frames included).
DECIMAL_COMMA = re.compile(r"^-?\d+,\d+$")


def shows_german(page, name: str) -> None:
    expect(page.locator("html")).to_have_attribute("lang", "de")
    menu = page.locator("nav.menu")
    expect(menu).to_contain_text("Übersicht")
    expect(menu).to_contain_text("Alarme")
    expect(menu).not_to_contain_text("Overview")
    if name in GERMAN_WORDS:
        expect(page.locator("main")).to_contain_text(GERMAN_WORDS[name])
    screenshot(page, f"german-{name}-tablet")


def test_the_main_pages_in_a_german_browser(browser, stack):
    stack.sim.raise_alarm(ALARM)
    wait_until(lambda: any(a["name"] == ALARM for a in stack.sim.alarms()))
    page = german_tablet(browser)
    sign_in(page, stack.url, "admin")
    for name, path in PAGES:
        response = page.goto(f"{stack.url}{path}")
        assert response is not None and response.status == 200, name
        assert response.headers.get("content-language") == "de", name
        shows_german(page, name)
        if name == "dashboard":
            values = page.locator(".tile .value").filter(has_text=DECIMAL_COMMA)
            expect(values.first).to_be_visible(timeout=15_000)
    page.goto(f"{stack.url}/alarms/")
    details = page.locator(f'[data-alarm^="utilities-restv1:{ALARM}:"] .alarm-details').first
    href = details.get_attribute("href", timeout=30_000)
    assert href
    page.goto(f"{stack.url}{href}")
    shows_german(page, "alarm")
    page.context.close()


def test_a_wall_screen_whose_link_asks_for_german_in_the_dark(browser, stack):
    token = issue_screen(stack, "Leitwarte", "overview", "--seconds", "3600")
    # An English browser: the link's ?lang= wins over it.
    page = new_page(browser, viewport={"width": 1920, "height": 1080}, locale="en-US")
    page.goto(f"{stack.url}/wall/overview/?token={token}&lang=de&theme=dark")
    expect(page).to_have_url(re.compile(r"/wall/overview/\?lang=de&theme=dark$"))
    expect(page.locator("[data-stream]")).to_have_attribute("data-stream", "connected")
    expect(page.locator("html")).to_have_attribute("lang", "de")
    expect(page.locator("html")).to_have_attribute("data-theme", "dark")
    expect(page).to_have_title(re.compile(r"^Wandbildschirm · "))
    assert page.locator("[data-wall-pause]").text_content() == "ANGEHALTEN · Alarm der Priorität 1"
    # The page count wall.js writes (none when the dashboard fits on one page).
    expect(page.locator("[data-wall-page-text]")).to_have_text(re.compile(r"^(Seite 1/\d+)?$"))
    expect(page.locator(".tile .value").filter(has_text=DECIMAL_COMMA).first).to_be_visible(
        timeout=15_000)
    screenshot(page, "german-wall-dark", full_page=False)

    # wall.js writes its sentences in the page's language: the lost connection.
    notice = page.locator("[data-wall-dead]")
    stack.server.stop()
    try:
        expect(notice).to_be_visible(timeout=5_000)
        expect(notice).to_contain_text("NICHT AKTUELL")
        expect(notice).to_contain_text("Die Verbindung zum Dashboard-Server ist unterbrochen.")
        expect(notice).to_contain_text("Letzte gültige Daten vor")
        expect(page.locator("[data-wall-strip-dead]")).to_contain_text(
            "NICHT AKTUELL · Zahlen vom Stand vor")
        screenshot(page, "german-wall-dark-not-live", full_page=False)
    finally:
        stack.server.start()
    expect(notice).to_be_hidden(timeout=30_000)
    page.context.close()


def test_a_wall_screen_takes_the_language_set_for_it_at_its_next_turn(browser, stack):
    token = issue_screen(stack, "Halle 2", "utilities-restv1", "--seconds", "5")
    page = new_page(browser, viewport={"width": 1920, "height": 1080}, locale="en-US")
    page.goto(f"{stack.url}/wall/utilities-restv1/?token={token}")
    expect(page.locator("html")).to_have_attribute("lang", "en")
    stack.server.manage("wallscreen", "set", "Halle 2", "--language", "de")
    expect(page.locator("html")).to_have_attribute("lang", "de", timeout=20_000)
    expect(page).to_have_title(re.compile(r"^Wandbildschirm · "))
    page.context.close()
