"""Acknowledge in a real browser against the live stack (simulator, Redis, Celery, uvicorn):
the operator's click reaches WinCC and the row shows it; a viewer has no button and a forged
POST from their signed-in page is refused before anything reaches WinCC."""

import pytest
import redis
from playwright.sync_api import expect

from tests.browser.conftest import new_page, sign_in
from tests.fixtures.browser import TABLET, screenshot
from tests.fixtures.simulator import wait_until
from wincc_bridge.models import alarm_key
from wincc_ingest import codec

pytestmark = pytest.mark.browser

SITE = "oven-unified"
ALARM = "Oven_Zone1_Temp_HH"
# The row appears after the worker's next poll; generous for two busy cores.
POLLED = 20_000


def raise_alarm(stack) -> tuple[str, int]:
    """Raise the alarm in the simulated plant: its row's selector and its instance.

    Waits until the poller has stored this very raise: the simulator is reset between tests,
    so the same name and instance may still be in Redis from the test before, and its row
    would be replaced (with a click's answer in it) when the new raise arrives.
    """
    raised = stack.sim.raise_alarm(ALARM)[-1]
    instance = raised["instance_id"]
    client = redis.Redis.from_url(stack.redis.url, decode_responses=True)
    try:
        wait_until(
            lambda: (alarm := codec.read_alarms(client, SITE).get(alarm_key(ALARM, instance)))
            is not None and codec.iso(alarm.raise_time)[:23] == raised["raise_time"][:23],
            timeout=POLLED / 1000,
        )
    finally:
        client.close()
    return f'[data-alarm="{SITE}:{ALARM}:{instance}"]', instance


def sim_state(stack, instance: int) -> str:
    """The simulator's own state word for the instance."""
    return next((a["state"] for a in stack.sim.alarms()
                 if (a["name"], a["instance_id"]) == (ALARM, instance)), "")


def alarm_list(browser, stack, user: str, **options):
    """A new page signed in as `user`, on the site's alarm list."""
    page = new_page(browser, **options)
    sign_in(page, stack.url, user)
    page.goto(f"{stack.url}/alarms/?site={SITE}")
    return page


def test_operator_acknowledges_and_wincc_confirms(browser, stack):
    row, instance = raise_alarm(stack)
    page = alarm_list(browser, stack, "operator", viewport=TABLET)
    expect(page.locator(row)).to_have_attribute("data-state", "unacknowledged", timeout=POLLED)
    page.locator(f'{row} [data-action="ack"]').click()
    expect(page.locator(row)).to_have_attribute("data-state", "acknowledged")
    expect(page.locator(f'{row} [data-action="ack"]')).to_have_count(0)
    screenshot(page, "acknowledge-operator-tablet")

    assert sim_state(stack, instance) == "RAISED_ACKNOWLEDGED"
    writes = stack.sim.requests_log()
    assert [(w["user"], w["allowed"]) for w in writes] == [(stack.sim.users.rw.username, True)]
    page.context.close()

    auditor = new_page(browser)
    sign_in(auditor, stack.url, "admin")
    auditor.goto(f"{stack.url}/audit/?site={SITE}&result=ok")
    first = auditor.locator("[data-audit]").first
    expect(first).to_contain_text("operator")
    expect(first).to_contain_text(ALARM)
    expect(first).to_contain_text("Unacknowledged → Acknowledged")
    screenshot(auditor, "audit-log-desktop")
    auditor.context.close()


def test_viewer_has_no_button_and_a_forged_post_is_refused(browser, stack):
    row, instance = raise_alarm(stack)
    page = alarm_list(browser, stack, "viewer")
    expect(page.locator(row)).to_have_attribute("data-state", "unacknowledged", timeout=POLLED)
    assert page.locator('[data-action="ack"]').count() == 0

    # The viewer's own session and CSRF token, the request the button would have sent.
    status = page.evaluate("""async ([site, name, instance]) => {
        const headers = JSON.parse(document.body.getAttribute("hx-headers"));
        const body = new URLSearchParams({site, name, instance, state: "unacknowledged"});
        const response = await fetch("/alarms/ack/", {method: "POST", headers, body});
        return response.status;
    }""", [SITE, ALARM, str(instance)])
    assert status == 403
    # The row is untouched and WinCC received nothing.
    expect(page.locator(row)).to_have_attribute("data-state", "unacknowledged", timeout=POLLED)
    assert stack.sim.requests_log() == []
    assert sim_state(stack, instance) == "RAISED"
    page.context.close()


def test_a_refused_acknowledgement_is_shown_in_the_row(browser, stack):
    row, instance = raise_alarm(stack)
    page = alarm_list(browser, stack, "operator")
    button = page.locator(f'{row} [data-action="ack"]')
    expect(button).to_have_count(1, timeout=POLLED)
    # An answer htmx would not swap (here 404 for a site the server does not know) must still
    # reach the operator in plain words, in the row they clicked.
    # Changed and clicked in one go, on a button htmx has taken up: the stream may replace
    # the row at any moment, and a button it has only just put in is not live for a moment.
    with page.expect_request("**/alarms/ack/"):
        page.evaluate("""async (selector) => {
            for (let tries = 0; tries < 200; tries++) {
                const b = document.querySelector(selector);
                if (b && b["htmx-internal-data"]) {
                    const vals = JSON.parse(b.getAttribute("hx-vals"));
                    vals.site = "no-such-site";
                    b.setAttribute("hx-vals", JSON.stringify(vals));
                    b.click();
                    return;
                }
                await new Promise(resolve => setTimeout(resolve, 25));
            }
            throw new Error("the acknowledge button never became live");
        }""", f'{row} [data-action="ack"]')
    expect(page.locator(f"{row} .ack-result.error")).to_contain_text("Unknown site")
    assert stack.sim.requests_log() == []
    assert sim_state(stack, instance) == "RAISED"
    page.context.close()
