"""Wall screens in a real Chromium against the live stack: every demo dashboard fits each
common screen without scrolling or cutting, the value is the largest text on a tile, the
alarm strip stays in view and pauses rotation on a priority-1 alarm until it is
acknowledged, a stopped stream turns the whole screen "not live", and settings changed in
the database reach the screen at its next turn."""

from __future__ import annotations

import json
import re

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import new_page, sign_in
from tests.fixtures.browser import screenshot, stub_audio
from tests.fixtures.live_server import start_live_server
from tests.fixtures.simulator import write_config
from tests.harness.processes import wait_until

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
        value: size(value), valueHeight: value.getBoundingClientRect().height,
        label: size(t.querySelector(".tile-label")),
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
    lowest: dict[tuple[int, int], float] = {}  # the value's drawn height
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
                lowest[(width, height)] = min([*(t["valueHeight"] for t in m["tiles"]),
                                               lowest.get((width, height), float("inf"))])
                if number == 1:
                    screenshot(page, f"wall-fit-{board}-{width}x{height}")
            # paged, never dropped: every tile is on one of the pages
            if shown != every:
                problems.append(f"{board} at {width}x{height}: never shown {every - shown}")
    assert not problems, "\n".join(problems)
    # Larger screens get larger type (4K is not a laptop's 38 px).
    assert smallest[(3840, 2160)] >= 1.8 * smallest[(1920, 1080)], smallest
    print("smallest value font per size (px):", smallest)
    print("smallest value text box height per size (px):", lowest)
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
    instance = stack.sim.raise_alarm(PRIORITY_1)[-1]["instance_id"]
    # Every site holds before the screen opens: a screen that saw the alarm first on another
    # site (the demo's sites share one simulator) would rightly turn to that site's dashboard.
    wait_until(lambda: stack.awaits_acknowledgement_everywhere(PRIORITY_1, instance),
               timeout=20)
    page = open_screen(browser, stack, token, SITE)
    alarm = page.locator(f'.wall-alarm[data-wall-alarm="{SITE}:{PRIORITY_1}:{instance}"]')
    expect(alarm).to_have_attribute("data-state", "unacknowledged", timeout=20_000)
    expect(alarm).to_contain_text("ago")
    expect(page.locator("body")).to_have_attribute("data-paused", "true")
    expect(page.locator("[data-wall-pause]")).to_be_visible()
    # expect retries: the stream may swap the strip between two looks at it
    expect(alarm).to_have_css("animation-name", "wall-blink")
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
    expect(alarm).to_have_css("animation-name", "none")
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
        # ... greyed and dated too: its counts are as old as the rest.
        mark = page.locator("[data-wall-strip-dead]")
        expect(mark).to_be_visible()
        expect(mark.locator("[data-last-good]")).to_have_text(re.compile(r"^\d+ s$"))
        assert "grayscale" in page.locator(".counts").evaluate("e => getComputedStyle(e).filter")
        screenshot(page, "wall-stream-lost")
    finally:
        stack.server.start()
    expect(notice).to_be_hidden(timeout=30_000)
    expect(page.locator("[data-wall-strip-dead]")).to_be_hidden()
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
    expect(page.locator("html")).to_have_attribute("data-theme", "dark")
    page.evaluate("window.notReloaded = true")
    stack.server.manage("wallscreen", "set", "Settings", "--theme", "light")
    # Same dashboard: applied in place at the turn, no reload.
    expect(page.locator("html")).to_have_attribute("data-theme", "light", timeout=30_000)
    assert page.evaluate("window.notReloaded") is True
    stack.server.manage("wallscreen", "set", "Settings", "--rotation",
                        "utilities-restv1 overview")
    page.wait_for_url(f"{stack.url}/wall/overview/", timeout=30_000)
    expect(page.locator("html")).to_have_attribute("data-theme", "light")
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




def test_sound_follows_the_screen_record_and_silence_shows_only_while_a_tone_plays(
        browser, stack):
    token = issue_screen(stack, "Sound", SITE, "--seconds", "5", "--sound",
                         "--sound-priority", "1")
    page = new_page(browser, viewport={"width": 1920, "height": 1080})
    page.add_init_script(stub_audio(touch_first=True))
    page.goto(f"{stack.url}/wall/{SITE}/?token={token}")
    enable = page.locator('[data-sound="enable"]')
    silence = page.locator('[data-sound="silence"]')
    # The record says sound: the one touch the browser needs is offered, nothing else.
    expect(enable).to_be_visible()
    expect(page.locator('[data-sound="toggle"]')).to_be_hidden()
    enable.click()
    expect(enable).to_be_hidden()
    expect(silence).to_be_hidden()  # no alarm, no tone: nothing to silence
    # Priority 3 (WinCC 10): less urgent than the record's priority 1, so no tone.
    stack.sim.raise_alarm("Motor1_Current_HH")
    expect(page.locator(".wall-alarm.unack")).to_have_count(1, timeout=20_000)
    page.wait_for_timeout(2500)
    assert page.evaluate("window.__tones") == []
    expect(silence).to_be_hidden()

    stack.sim.raise_alarm(PRIORITY_1)
    expect(page.locator(".wall-alarm.unack.band-highest")).to_have_count(1, timeout=20_000)
    expect(silence).to_be_visible()
    assert set(page.evaluate("window.__tones")) == {880}

    # Turned off in the record: the screen stops sounding at its next settings read.
    stack.server.manage("wallscreen", "set", "Sound", "--no-sound")
    expect(page.locator("body")).to_have_attribute("data-sound", "false", timeout=20_000)
    expect(silence).to_be_hidden()
    heard = len(page.evaluate("window.__tones"))
    page.wait_for_timeout(2500)
    assert len(page.evaluate("window.__tones")) == heard
    expect(enable).to_be_hidden()
    page.context.close()


CONTRAST = """el => {
  const rgb = c => (c.match(/[\\d.]+/g) || []).map(Number);
  const lum = c => { const [r, g, b] = rgb(c).slice(0, 3).map(v => {
      v /= 255; return v <= 0.04045 ? v / 12.92 : ((v + 0.055) / 1.055) ** 2.4; });
    return 0.2126 * r + 0.7152 * g + 0.0722 * b; };
  const background = e => {
    for (; e; e = e.parentElement) {
      const c = getComputedStyle(e).backgroundColor;
      if (rgb(c).length === 3 || rgb(c)[3] > 0) return c;
    }
    return "rgb(255, 255, 255)";
  };
  const ratio = (a, b) => { const [x, y] = [lum(a), lum(b)].sort((p, q) => q - p);
                            return (x + 0.05) / (y + 0.05); };
  const [anim] = el.getAnimations();
  if (!anim) return null;  // swapped a moment ago, or not live: not blinking right now
  const found = [];
  for (const at of [0, 500]) {
    anim.pause(); anim.currentTime = at;
    el.querySelectorAll("*").forEach(e => {
      const own = [...e.childNodes].some(n => n.nodeType === 3 && n.textContent.trim());
      if (!own || e.closest("svg") || !e.getClientRects().length) return;
      const r = ratio(getComputedStyle(e).color, background(e));
      found.push({at, cls: e.className, ratio: Math.round(r * 100) / 100});
    });
  }
  anim.play();
  return found;
}"""


def test_the_blinking_alarm_keeps_aa_contrast_in_both_phases(browser, stack):
    token = issue_screen(stack, "Blink", SITE, "--seconds", "3600")
    page = open_screen(browser, stack, token, SITE)
    stack.sim.raise_alarm(PRIORITY_1)
    alarm = page.locator(".wall-alarm.unack.band-highest")
    expect(alarm).to_have_count(1, timeout=20_000)
    expect(alarm).to_have_css("animation-name", "wall-blink")
    # The strip is swapped by the stream and stops blinking while not live (a loaded
    # machine may miss a poll): measured on a strip that blinks at that moment.
    for _ in range(40):
        measured = alarm.evaluate(CONTRAST)
        if measured is not None:
            break
        page.wait_for_timeout(250)
    assert measured is not None, "the alarm strip never blinked long enough to measure"
    assert {m["at"] for m in measured} == {0, 500}
    low = [m for m in measured if m["ratio"] < 4.5]
    assert not low, low
    page.context.close()


def test_nothing_on_the_wall_is_a_link_or_takes_focus(browser, stack):
    token = issue_screen(stack, "Untouched", "overview", "--seconds", "3600")
    page = open_screen(browser, stack, token, "overview")
    stack.sim.raise_alarm(PRIORITY_1)  # the banner (a link at the desk) and the alarm list
    expect(page.locator(".wall-alarm.unack")).to_have_count(1, timeout=20_000)
    expect(page.locator("main li.alarm").first).to_be_attached(timeout=20_000)
    active = page.evaluate("""() => [...document.querySelectorAll(
        "a[href], button:not([disabled]), input:not([disabled]), select, textarea, summary,"
        + " [tabindex]:not([tabindex='-1'])")]
        .filter(e => e.getClientRects().length && !e.matches('[data-sound="enable"]'))
        .map(e => e.outerHTML.slice(0, 80))""")
    assert active == []
    for _ in range(4):
        page.keyboard.press("Tab")
        assert page.evaluate("document.activeElement === document.body"
                             " || document.activeElement === null")
    # A stray touch on the banner, the strip and an alarm row goes nowhere.
    for target in ("[data-banner]", ".wall-alarm", "main li.alarm"):
        box = page.locator(target).first.bounding_box()
        if box:
            page.mouse.click(box["x"] + box["width"] / 2, box["y"] + box["height"] / 2)
    page.wait_for_timeout(500)
    assert page.url == f"{stack.url}/wall/overview/"
    page.context.close()


def test_long_labels_and_alarm_texts_wrap_to_two_lines_with_an_ellipsis(browser, stack):
    token = issue_screen(stack, "Long words", SITE, "--seconds", "3600")
    page = open_screen(browser, stack, token, SITE, size=(1366, 768))
    stack.sim.raise_alarm(PRIORITY_1)
    expect(page.locator(".wall-alarm.unack")).to_have_count(1, timeout=20_000)
    long = "Burner zone three combustion air fan outlet pressure transmitter " * 4
    lines = page.evaluate("""long => [".frag-tile:not([hidden]) .tile-label", ".wall-alarm-text"]
        .map(sel => {
          const e = document.querySelector(sel);
          e.textContent = long;
          const line = parseFloat(getComputedStyle(e).lineHeight);
          const box = e.getBoundingClientRect(), tile = e.parentElement.getBoundingClientRect();
          return {sel, lines: Math.round(box.height / line),
                  clamped: e.scrollHeight > e.clientHeight,
                  inside: box.right <= tile.right + 0.5 && box.bottom <= tile.bottom + 0.5};
        })""", long)
    for shown in lines:
        assert shown["lines"] == 2 and shown["clamped"] and shown["inside"], shown
    page.context.close()


@pytest.fixture(scope="module")
def halls(live_stack, tmp_path_factory):
    """A second dashboard server on the stack's Redis for a plant of many sites: the three
    polled ones and forty halls never polled (so they hold no alarm). Dashboards: every
    site's health; one hall's values; six halls' values and then the oven's."""
    directory = tmp_path_factory.mktemp("halls")
    path = write_config(live_stack.sim, directory / "config.json")
    config = json.loads(path.read_text())
    oven = config["sites"][0]
    tags = [t["name"] for t in oven["tags"]][:4]
    config["sites"] += [{**oven, "id": f"hall-{n:02}", "name": f"Hall {n:02}"}
                        for n in range(1, 41)]
    every = [site["id"] for site in config["sites"]]

    def values(site: str) -> dict:
        return {"kind": "tiles", "title": site, "site": site, "tags": tags}

    config["dashboards"] += [
        {"id": "all-sites", "title": "All sites", "panels": [
            {"kind": "site_health", "title": "Sites", "sites": every}]},
        {"id": "hall-01", "title": "Hall 01", "panels": [values("hall-01")]},
        {"id": "mixed", "title": "Halls and oven", "panels": [
            *[values(f"hall-{n:02}") for n in range(1, 7)], values(SITE)]},
    ]
    path.write_text(json.dumps(config))
    server = start_live_server(directory / "web", redis_url=live_stack.redis.url,
                               wincc_config=path, env=live_stack.sim.env)
    yield server, every
    server.stop()


def open_on(browser, server, name: str, dashboard: str, *options: str, size=(1920, 1080)):
    out = server.manage("wallscreen", "create", name, "--dashboard", dashboard, *options)
    lines = out.strip().splitlines()
    token = lines[lines.index("Token (shown only now):") + 1]
    page = new_page(browser, viewport={"width": size[0], "height": size[1]})
    page.goto(f"{server.url}/wall/{dashboard}/?token={token}")
    expect(page.locator("[data-stream]")).to_have_attribute("data-stream", "connected")
    return page


def test_a_sites_table_too_long_for_the_screen_is_paged_not_cut(browser, stack, halls):
    server, every = halls
    page = open_on(browser, server, "Halls", "all-sites", "--seconds", "3600")
    expect(page.locator("tbody tr")).to_have_count(len(every))
    pages = page.evaluate("Number(document.body.dataset.wallPages)")
    assert pages > 1
    shown: list[str] = []
    for number in range(1, pages + 1):
        if number > 1:
            page.keyboard.press("ArrowRight")
        where = f"sites table, page {number}/{pages}"
        assert problems_of(page.evaluate(MEASURE), where) == []
        assert page.locator(".panel-site_health .wall-more").is_hidden(), where
        rows = page.eval_on_selector_all(
            "tbody tr", "rs => rs.filter(r => r.getClientRects().length).map(r => r.dataset.site)")
        assert rows, where
        shown += rows
        if number == 1:
            screenshot(page, "wall-sites-table-paged")
    assert sorted(shown) == sorted(every)  # each site on exactly one page
    page.context.close()


def test_a_held_priority_1_alarm_brings_its_dashboard_on_screen(browser, stack, halls):
    server, _ = halls
    page = open_on(browser, server, "Go to alarm", "hall-01", "--seconds", "3600",
                   "--rotation", f"hall-01,{SITE}")
    # The hall holds no alarm: the screen goes to the dashboard that shows the alarm's site.
    stack.sim.raise_alarm(PRIORITY_1)
    page.wait_for_url(f"{server.url}/wall/{SITE}/", timeout=30_000)
    expect(page.locator("body")).to_have_attribute("data-paused", "true", timeout=20_000)
    expect(page.locator("[data-wall-pause]")).to_be_visible()
    page.context.close()


def test_a_held_priority_1_alarm_turns_to_the_page_that_shows_it(browser, stack, halls):
    page = open_on(browser, halls[0], "Page of alarm", "mixed", "--seconds", "3600")
    pages = page.evaluate("Number(document.body.dataset.wallPages)")
    assert pages > 1 and page.evaluate("document.body.dataset.wallPage") == "1"
    oven = f'main > .panel:not([hidden]) .frag-tile[data-sites="{SITE}"]:not([hidden])'
    expect(page.locator(oven)).to_have_count(0)
    stack.sim.raise_alarm(PRIORITY_1)
    expect(page.locator("body")).to_have_attribute("data-paused", "true", timeout=20_000)
    expect(page.locator(oven).first).to_be_visible()
    assert page.evaluate("document.body.dataset.wallPage") != "1"
    page.context.close()
