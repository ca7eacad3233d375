"""Every page in a real browser: the hooks, who gets an acknowledge button, the wall screen
without controls, and the tablet layouts. Screenshots of each go to the CI artifacts."""

import re

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import new_page, sign_in
from tests.fixtures.browser import PHONE, TABLET, screenshot
from tests.fixtures.simulator import wait_until

pytestmark = pytest.mark.browser

ALARM = "Tank_Level_LL"


def raise_alarm(stack):
    stack.sim.raise_alarm(ALARM)
    wait_until(lambda: any(a["name"] == ALARM for a in stack.sim.alarms()))


def test_alarm_list_hooks_and_buttons_only_for_operators(browser, stack):
    raise_alarm(stack)
    row = f'[data-alarm^="utilities-restv1:{ALARM}:"]'
    viewer = new_page(browser)
    sign_in(viewer, stack.url, "viewer")
    viewer.goto(f"{stack.url}/alarms/")
    expect(viewer.locator(row)).to_have_attribute("data-state", "unacknowledged")
    expect(viewer.locator(f"{row} .prio-word")).not_to_be_empty()
    assert viewer.locator('[data-action="ack"]').count() == 0
    # the header counts it, by priority
    high = viewer.locator('.counts [data-count-band="high"]')
    expect(high).to_have_class(re.compile("has-unack"))
    screenshot(viewer, "alarms-viewer-desktop")
    viewer.context.close()

    operator = new_page(browser)
    sign_in(operator, stack.url, "operator")
    operator.goto(f"{stack.url}/alarms/?site=utilities-restv1")
    button = operator.locator(f'{row} [data-action="ack"]')
    expect(button).to_be_visible()
    # The row is re-rendered by the stream at any time, and a detached element measures 0:
    # measure whichever button is in the page now, until it is a 44 px touch target.
    operator.wait_for_function(
        """sel => { const e = document.querySelector(sel);
                    return e !== null && e.offsetHeight >= 44 && e.offsetWidth >= 44; }""",
        arg=f'{row} [data-action="ack"]', timeout=5000)
    operator.locator(f"{row} summary").click()
    expect(operator.locator(f"{row} .alarm-instruction")).to_have_attribute("open", "")
    screenshot(operator, "alarms-operator-desktop")
    operator.context.close()


@pytest.mark.parametrize("path,name", [
    ("/", "overview"), ("/sites/", "sites"), ("/d/overview/?transport=poll", "dashboard-poll"),
])
def test_page_renders_with_its_hooks(browser, stack, path, name):
    page = new_page(browser)
    sign_in(page, stack.url, "viewer")
    page.goto(f"{stack.url}{path}")
    expect(page.locator("[data-stream]")).to_have_count(1)
    expect(page.locator("[data-stream]")).to_have_attribute("data-stream", "connected")
    if name == "sites":
        expect(page.locator('tr[data-site-status="current"]')).to_have_count(3)
    else:
        expect(page.locator('[data-tag][data-quality="good"][data-stale="false"]').first).to_be_visible()
    screenshot(page, f"{name}-desktop")
    page.context.close()


def issue_wall_token(stack, name: str = "Control room") -> str:
    script = (
        "from dashboard.models import WallScreen; "
        f"print(WallScreen.issue(name={name!r}, dashboard_id='overview')[1])"
    )
    return stack.server.manage("shell", "-c", script).strip().splitlines()[-1]


def test_wall_screen_by_token_has_no_controls_and_stops_when_revoked(browser, stack):
    raise_alarm(stack)
    token = issue_wall_token(stack)
    page = new_page(browser, viewport={"width": 1920, "height": 1080})
    page.goto(f"{stack.url}/wall/overview/?token={token}")
    assert "token=" not in page.url  # the token leaves the address bar at once
    expect(page.locator("body.wall")).to_have_count(1)
    expect(page.locator("[data-stream]")).to_have_attribute("data-stream", "connected")
    expect(page.locator(f'[data-alarm^="utilities-restv1:{ALARM}:"]')).to_have_count(1)
    # Its only controls are its own sound's (the annunciator): nothing acts on the plant.
    for control in ("button", "form", "nav", "input", "select", '[data-action="ack"]'):
        assert page.locator(f"{control}:not([data-sound])").count() == 0, control
    expect(page.locator("summary:visible")).to_have_count(0)
    stack.sim.set_tag("Tank_Level", 33.5)
    expect(page.locator('[data-tag="utilities-restv1:Tank_Level"] .value')).to_have_text("33.5")
    screenshot(page, "wall-overview-1920x1080")

    # Revoked: the open stream is not cut, but its next connect is refused, and the screen
    # (nobody at a keyboard) finds out by itself and shows the refusal.
    stack.server.manage("wallscreen", "revoke", "Control room")
    stack.server.stop()
    stack.server.start()
    expect(page.locator("h1")).to_have_text("This wall screen is not signed in", timeout=30_000)
    assert page.locator("[data-tag]").count() == 0
    page.context.close()


@pytest.mark.parametrize("viewport,label", [(PHONE, "390x844"), (TABLET, "768x1024")])
def test_tablet_layouts(browser, stack, viewport, label):
    raise_alarm(stack)
    page = new_page(browser, viewport=viewport, has_touch=True, is_mobile=True)
    sign_in(page, stack.url, "operator")
    for path, name in (("/d/overview/", "dashboard"), ("/alarms/", "alarms"), ("/sites/", "sites")):
        page.goto(f"{stack.url}{path}")
        expect(page.locator("[data-stream]")).to_have_attribute("data-stream", "connected")
        # nothing runs off the side of the screen
        overflow = page.evaluate("document.documentElement.scrollWidth - window.innerWidth")
        assert overflow <= 0, f"{name} is {overflow} px too wide at {label}"
        # every touch target at least 44 px
        small = page.evaluate("""() => [...document.querySelectorAll(
              'button, .menu a, select, summary, .site-links a')]
            .map(e => e.getBoundingClientRect())
            .filter(r => r.width > 0 && (r.height < 44 || r.width < 44)).length""")
        assert small == 0, f"{small} touch targets under 44 px on {name} at {label}"
        screenshot(page, f"{name}-{label}")
    page.context.close()
