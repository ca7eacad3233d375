"""A plant engineer points a new site at a WinCC server with 5,000 tags, builds a dashboard
for it in the tag browser without touching the file, and watches it live; nothing restarts.
A stack of its own: a 5,000-tag simulator, Redis, a real worker and beat, uvicorn, with
writing the file allowed."""

from __future__ import annotations

import json
from collections.abc import Iterator

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import LiveStack, new_page, running_stack, sign_in
from tests.harness.processes import wait_until
from tests.harness.simulator import start_simulator

pytestmark = pytest.mark.browser

SETTINGS = {"CONFIG_WRITES_ALLOWED": "1", "CONFIG_RELOAD_SECONDS": "1"}


@pytest.fixture(scope="module")
def big_plant(browser, tmp_path_factory) -> Iterator[LiveStack]:
    directory = tmp_path_factory.mktemp("tag-browser-stack")
    sim = start_simulator(directory / "sim", tags=5000, tick=0.25, token_ttl=600)
    try:
        with running_stack(sim, directory, SETTINGS) as stack:
            yield stack
    finally:
        sim.stop()


def add_site(stack: LiveStack) -> None:
    """The new site, as an engineer declares it: a server, users, no tags yet."""
    path = stack.server.env["WINCC_CONFIG"]
    with open(path, encoding="utf-8") as f:
        data = json.load(f)
    site = {**data["sites"][1], "id": "press-classic", "name": "Press (WinCC Classic)",
            "tags": []}
    site.pop("ack_tags", None)
    site.pop("alarm_filter", None)
    data["sites"].append(site)
    with open(path, "w", encoding="utf-8") as f:
        json.dump(data, f, indent=2)


@pytest.mark.timeout(300)  # its own stack, with a 5,000-tag server, starts first
def test_a_dashboard_built_in_the_tag_browser_is_live_without_a_restart(browser, big_plant):
    stack = big_plant
    web_pid, worker_pid = stack.server.proc.pid, stack.celery.worker.pid
    add_site(stack)
    page = new_page(browser)
    sign_in(page, stack.url, "admin")

    def offered() -> bool:
        page.goto(f"{stack.url}/admin/tags/")
        return page.locator("#id_site option[value=press-classic]").count() == 1

    # The new site is offered within a reload interval, without a restart.
    wait_until(offered, timeout=10)
    page.select_option("#id_site", "press-classic")
    page.fill("#id_pattern", "Aux_Sensor_3*")
    page.select_option("#id_per_page", "50")
    page.click("text=List the tags")
    expect(page.locator("#tag-count")).to_contain_text(
        "1000 tag(s) of Press (WinCC Classic) match Aux_Sensor_3*; page 1 of 20")
    for number in (2, 3, 4):
        page.click("#tag-pages a[rel=next]")
        expect(page.locator("#tag-count")).to_contain_text(f"page {number} of 20")
    row = page.locator('tr[data-tag="Aux_Sensor_3150"]')
    expect(row.locator("td.quality-good")).to_have_text("good")
    row.locator("input[name$=-pick]").check()
    row.locator("input[name$=-label]").fill("Press force")
    row.locator("input[name$=-unit]").fill("kN")
    row.locator("input[name$=-h]").fill("80")
    row.locator("input[name$=-decimals]").fill("2")
    other = page.locator('tr[data-tag="Aux_Sensor_3151"]')
    other.locator("input[name$=-pick]").check()
    page.fill("#id_dashboard", "press")
    page.fill("#id_title", "Press line")
    page.click("button[value=preview]")
    expect(page.locator("#change-summary")).to_contain_text("2 tag(s) added, 0 changed")
    expect(page.locator("#change-diff")).to_contain_text('"label": "Press force"')
    page.click("button[value=write]")
    expect(page.locator(".messagelist")).to_contain_text("Dashboard press: /d/press/")

    page.goto(f"{stack.url}/d/press/")
    expect(page.locator("main h1, h1").first).to_have_text("Press line")
    tile = page.locator('[data-tag="press-classic:Aux_Sensor_3150"]')
    expect(tile).to_contain_text("Press force")
    expect(tile).to_have_attribute("data-stale", "false", timeout=15_000)
    page.evaluate("window.notReloaded = true")
    stack.sim.set_tag("Aux_Sensor_3150", 63.25)
    expect(tile.locator(".value")).to_have_text("63.25", timeout=10_000)
    assert page.evaluate("window.notReloaded") is True
    # Nothing was restarted.
    assert (stack.server.proc.pid, stack.celery.worker.pid) == (web_pid, worker_pid)
    page.context.close()
