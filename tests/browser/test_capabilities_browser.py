"""A server that stops publishing its alarm list, in a real browser on the live stack: its
tiles stay live, and the open pages say, as it happens, that it has no alarm list."""

import pytest
import redis
from playwright.sync_api import expect

from tests.browser.conftest import new_page, sign_in
from tests.fixtures.browser import screenshot
from tests.fixtures.simulator import wait_until
from wincc_ingest import codec

pytestmark = pytest.mark.browser

SITE = "utilities-restv1"
SAYS = "this server publishes no alarm list"


def alarm_list(stack) -> str:
    client = redis.Redis.from_url(stack.redis.url, decode_responses=True)
    try:
        health = codec.read_health(client, SITE)
        return health.alarm_list if health else ""
    finally:
        client.close()


def test_a_server_without_alarm_list_keeps_its_tiles_live_and_says_so(browser, stack):
    alarms = new_page(browser)
    sign_in(alarms, stack.url, "viewer")
    overview = alarms.context.new_page()
    overview.goto(f"{stack.url}/")
    alarms.goto(f"{stack.url}/alarms/?site={SITE}")
    expect(alarms.locator(f'.alarm-list [data-no-alarm-list="{SITE}"]')).to_have_count(0)

    stack.sim.set_faults(no_alarm_list=["rest-v1"])
    try:
        # The stream brings it to the open pages; nothing is reloaded.
        expect(alarms.locator(f'p[data-no-alarm-list="{SITE}"]').last).to_contain_text(SAYS)
        expect(alarms.locator(".no-alarms")).to_have_count(0)
        summary = overview.locator(f'.site-summary[data-site="{SITE}"]')
        expect(summary).to_contain_text(f"No alarm count for Utilities (REST v1): {SAYS}.")
        expect(summary.locator("[data-count-band]")).to_have_count(0)
        stack.sim.set_tag("Tank_Level", 37.5)
        tile = overview.locator(f'[data-tag="{SITE}:Tank_Level"]')
        expect(tile.locator(".value")).to_have_text("37.5")
        expect(tile).to_have_attribute("data-stale", "false")
        expect(summary).to_have_attribute("data-site-status", "current")
        screenshot(overview, "overview-site-without-alarm-list")
    finally:
        stack.sim.set_faults(no_alarm_list=[])
        # The worker asks again within a second (ALARM_LIST_REPROBE_SECONDS=1 on this stack).
        wait_until(lambda: alarm_list(stack) == "offered", timeout=15)
    expect(summary.locator("[data-count-band]").first).to_be_visible()
    alarms.context.close()
