"""Wall screens in a real Chromium against the live stack: every demo dashboard fits each
common screen without scrolling or cutting, the value is the largest text on a tile, the
alarm strip stays in view and pauses rotation on a priority-1 alarm until it is
acknowledged, a stopped stream turns the whole screen "not live", and settings changed in
the database reach the screen at its next turn."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import new_page, sign_in
from tests.fixtures.browser import screenshot

pytestmark = pytest.mark.browser

SIZES = [(1366, 768), (1920, 1080), (2560, 1440), (3840, 2160), (1080, 1920)]
DASHBOARDS = ["overview", "oven-unified", "line-classic", "utilities-restv1"]
# Priority 16 in the simulated plant: the highest band, "priority 1" on the badge.
PRIORITY_1 = "Oven_Zone3_Temp_HH"
SITE = "oven-unified"

MEASURE = """() => {
  const vw = window.innerWidth, vh = window.innerHeight;
  const inside = r => r.width > 0 && r.height > 0 && r.left >= -0.5 && r.top >= -0.5
                      && r.right <= vw + 0.5 && r.bottom <= vh + 0.5;
  const size = el => el ? parseFloat(getComputedStyle(el).fontSize) : 0;
  const panels = [...document.querySelectorAll("main > .panel:not([hidden])")];
  const tiles = panels.flatMap(p => [...p.querySelectorAll(".frag-tile:not([hidden]) .tile")]);
  let cutRows = 0;
  panels.forEach(p => {
    const bottom = p.getBoundingClientRect().bottom + 0.5;
    p.querySelectorAll("li.alarm, tbody tr, .trend-row").forEach(row => {
      const r = row.getBoundingClientRect();
      if (r.height > 0 && r.bottom > bottom) cutRows += 1;
    });
  });
  const strip = document.querySelector("header.top");
  return {
    scrollH: document.documentElement.scrollHeight, scrollW: document.documentElement.scrollWidth,
    vw, vh, cutRows,
    page: Number(document.body.dataset.wallPage), pages: Number(document.body.dataset.wallPages),
    strip: inside(strip.getBoundingClientRect()),
    counts: inside(document.querySelector(".counts").getBoundingClientRect()),
    panels: panels.map(p => inside(p.getBoundingClientRect())),
    tiles: tiles.map(t => {
      const box = t.getBoundingClientRect();
      const value = t.querySelector(".value");
      return {
        tag: t.dataset.tag, inside: inside(box),
        valueInside: value.getBoundingClientRect().right <= box.right + 0.5,
        value: size(value), label: size(t.querySelector(".tile-label")),
        unit: size(t.querySelector(".unit")), meta: size(t.querySelector(".tile-meta")),
      };
    }),
  };
}"""


def issue_screen(stack, name: str, dashboard: str, *options: str) -> str:
    """A wall screen made with `manage.py wallscreen create`: its token."""
    out = stack.server.manage("wallscreen", "create", name, "--dashboard", dashboard, *options)
    lines = out.strip().splitlines()
    return lines[lines.index("Token (shown only now):") + 1]


def open_screen(browser, stack, token: str, dashboard: str, size=(1920, 1080)):
    page = new_page(browser, viewport={"width": size[0], "height": size[1]})
    page.goto(f"{stack.url}/wall/{dashboard}/?token={token}")
    expect(page.locator("[data-stream]")).to_have_attribute("data-stream", "connected")
    return page


def problems_of(m: dict, where: str) -> list[str]:
    """What is wrong on one page: scrolling, anything off the screen, unreadable values."""
    found = []
    if m["scrollH"] > m["vh"] or m["scrollW"] > m["vw"]:
        found.append(f"{where}: scrolls ({m['scrollW']}x{m['scrollH']})")
    if not (m["strip"] and m["counts"]):
        found.append(f"{where}: the alarm strip is not fully on screen")
    if not all(m["panels"]):
        found.append(f"{where}: a panel runs off the screen")
    if m["cutRows"]:
        found.append(f"{where}: {m['cutRows']} list rows cut off")
    # The value at least 5 % of the screen's height (of its width in portrait).
    least = 0.05 * min(m["vw"], m["vh"])
    for tile in m["tiles"]:
        name = f"{where}: {tile['tag']}"
        if not (tile["inside"] and tile["valueInside"]):
            found.append(f"{name} is cut off")
        if tile["value"] < least:
            found.append(f"{name} value {tile['value']:.1f} px < {least:.1f}")
        if tile["value"] <= max(tile["label"], tile["unit"], tile["meta"]):
            found.append(f"{name} value not the largest text {tile}")
        if tile["meta"] < 0.012 * min(m["vw"], m["vh"]):
            found.append(f"{name} freshness line {tile['meta']:.1f} px")
    return found


def test_every_dashboard_fits_every_screen_size(browser, stack):
    token = issue_screen(stack, "Sizes", "overview", "--seconds", "3600")
    page = open_screen(browser, stack, token, "overview")
    smallest: dict[tuple[int, int], float] = {}
    problems: list[str] = []
    for width, height in SIZES:
        page.set_viewport_size({"width": width, "height": height})
        for board in DASHBOARDS:
            page.goto(f"{stack.url}/wall/{board}/")
            expect(page.locator("[data-stream]")).to_have_attribute("data-stream", "connected")
            expect(page.locator("[data-tag][data-stale=false]").first).to_be_attached()
            every = set(page.eval_on_selector_all("main [data-tag]",
                                                  "ts => ts.map(t => t.dataset.tag)"))
            shown: set[str] = set()
            pages = page.evaluate("Number(document.body.dataset.wallPages)")
            for number in range(1, pages + 1):
                if number > 1:
                    page.keyboard.press("ArrowRight")
                m = page.evaluate(MEASURE)
                where = f"{board} at {width}x{height}, page {number}/{pages}"
                assert m["page"] == number, where
                problems += problems_of(m, where)
                shown |= {tile["tag"] for tile in m["tiles"]}
                values = [t["value"] for t in m["tiles"]]
                smallest[(width, height)] = min(
                    [*values, smallest.get((width, height), float("inf"))])
                if number == 1:
                    screenshot(page, f"wall-fit-{board}-{width}x{height}")
            # paged, never dropped: every tile is on one of the pages
            if shown != every:
                problems.append(f"{board} at {width}x{height}: never shown {every - shown}")
    assert not problems, "\n".join(problems)
    # Larger screens get larger type (4K is not a laptop's 38 px).
    assert smallest[(3840, 2160)] >= 1.8 * smallest[(1920, 1080)], smallest
    print("smallest value font per size (px):", smallest)
    page.context.close()


def acknowledge(browser, stack, instance: int) -> None:
    """The operator acknowledges at the desk, as the alarm list's button does."""
    desk = new_page(browser)
    sign_in(desk, stack.url, "operator")
    desk.goto(f"{stack.url}/alarms/?site={SITE}")
    status = desk.evaluate("""async ([site, name, instance]) => {
        const headers = JSON.parse(document.body.getAttribute("hx-headers"));
        const body = new URLSearchParams({site, name, instance, state: "unacknowledged"});
        return (await fetch("/alarms/ack/", {method: "POST", headers, body})).status;
    }""", [SITE, PRIORITY_1, str(instance)])
    assert status == 200, status
    desk.context.close()


def test_priority_1_alarm_holds_rotation_and_blinks_until_acknowledged(browser, stack):
    token = issue_screen(stack, "Hold", SITE, "--rotation", f"{SITE},utilities-restv1",
                         "--seconds", "5")
    page = open_screen(browser, stack, token, SITE)
    instance = stack.sim.raise_alarm(PRIORITY_1)[-1]["instance_id"]
    alarm = page.locator(f'.wall-alarm[data-wall-alarm="{SITE}:{PRIORITY_1}:{instance}"]')
    expect(alarm).to_have_attribute("data-state", "unacknowledged", timeout=20_000)
    expect(alarm).to_contain_text("ago")
    expect(page.locator("body")).to_have_attribute("data-paused", "true")
    expect(page.locator("[data-wall-pause]")).to_be_visible()
    assert alarm.evaluate("e => getComputedStyle(e).animationName") == "wall-blink"
    # its words and its age are on the screen, not squeezed out of the strip
    shown = alarm.evaluate("""e => {
        const box = e.getBoundingClientRect();
        return [".wall-alarm-text", ".wall-alarm-age"].every(sel => {
            const r = e.querySelector(sel).getBoundingClientRect();
            return r.width > 20 && r.right <= box.right + 0.5 && box.bottom <= innerHeight;
        }); }""")
    assert shown, "the strip's alarm text or age is cut off"
    screenshot(page, "wall-priority-1-alarm")
    # Longer than two turns of the rotation: the screen stays where the alarm is.
    page.wait_for_timeout(11_000)
    assert page.url.endswith(f"/wall/{SITE}/"), page.url
    assert page.evaluate("document.body.dataset.paused") == "true"

    acknowledge(browser, stack, instance)
    expect(alarm).to_have_attribute("data-state", "acknowledged", timeout=20_000)
    # Still named in the strip, steady now.
    assert alarm.evaluate("e => getComputedStyle(e).animationName") == "none"
    page.wait_for_url(f"{stack.url}/wall/utilities-restv1/", timeout=30_000)
    page.context.close()


def test_stopped_stream_turns_the_whole_screen_not_live_and_it_recovers(browser, stack):
    token = issue_screen(stack, "Dead link", "utilities-restv1", "--seconds", "3600")
    page = open_screen(browser, stack, token, "utilities-restv1")
    notice = page.locator("[data-wall-dead]")
    expect(notice).to_be_hidden()
    page.evaluate("window.notReloaded = true")
    stack.server.stop()
    try:
        expect(notice).to_be_visible(timeout=5_000)
        expect(notice).to_contain_text("NOT LIVE")
        expect(notice).to_contain_text("connection to the dashboard server is lost")
        expect(notice.locator("[data-last-good]")).to_have_text(re.compile(r"^\d+ s$"))
        covered = notice.evaluate("""e => { const r = e.getBoundingClientRect();
            return r.left <= 0 && r.top <= 0 && r.right >= innerWidth
                   && r.bottom >= innerHeight; }""")
        assert covered, "the notice does not cover the screen"
        expect(page.locator(".counts")).to_be_visible()  # the strip stays above it
        screenshot(page, "wall-stream-lost")
    finally:
        stack.server.start()
    expect(notice).to_be_hidden(timeout=30_000)
    assert page.evaluate("window.notReloaded") is True  # recovered by itself, in place

    # Every site of the dashboard stale (WinCC away) says so the same way.
    stack.sim.stop_listener()
    try:
        expect(notice).to_be_visible(timeout=15_000)
        expect(notice).to_contain_text("every value here is stale")
        screenshot(page, "wall-all-sites-stale")
    finally:
        stack.sim.start_listener()
    expect(notice).to_be_hidden(timeout=20_000)
    page.context.close()


def test_settings_changed_in_the_database_reach_the_screen_at_its_next_turn(browser, stack):
    token = issue_screen(stack, "Settings", "utilities-restv1", "--seconds", "5")
    page = open_screen(browser, stack, token, "utilities-restv1", size=(3840, 2160))
    assert "wall-dark" in page.evaluate("document.body.className")
    page.evaluate("window.notReloaded = true")
    stack.server.manage("wallscreen", "set", "Settings", "--theme", "light")
    # Same dashboard: applied in place at the turn, no reload.
    expect(page.locator("body")).to_have_class(re.compile(r"\bwall-light\b"), timeout=30_000)
    assert page.evaluate("window.notReloaded") is True
    stack.server.manage("wallscreen", "set", "Settings", "--rotation",
                        "utilities-restv1 overview")
    page.wait_for_url(f"{stack.url}/wall/overview/", timeout=30_000)
    expect(page.locator("body")).to_have_class(re.compile(r"\bwall-light\b"))
    page.context.close()


def test_pause_on_alarm_is_a_setting_of_the_screen(browser, stack):
    token = issue_screen(stack, "No hold", SITE, "--rotation", f"{SITE},utilities-restv1",
                         "--seconds", "5")
    page = open_screen(browser, stack, token, SITE)
    stack.sim.raise_alarm(PRIORITY_1)
    expect(page.locator(".wall-alarm.unack.band-highest")).to_have_count(1, timeout=20_000)
    expect(page.locator("body")).to_have_attribute("data-paused", "true")
    # Switched off in the database while the screen holds: it lets go by itself.
    stack.server.manage("wallscreen", "set", "No hold", "--no-pause-on-alarm")
    page.wait_for_url(f"{stack.url}/wall/utilities-restv1/", timeout=30_000)
    expect(page.locator("body")).to_have_attribute("data-pause-on-alarm", "false")
    expect(page.locator(".wall-alarm.unack.band-highest")).to_have_count(1)
    expect(page.locator("body")).to_have_attribute("data-paused", "false")
    page.context.close()
