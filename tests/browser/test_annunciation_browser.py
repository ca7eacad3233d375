"""Alarm handling in a real browser on the live stack (simulator, Redis, Celery worker and
beat, uvicorn): the banner and its tone for a priority-1 alarm, silencing, acknowledging with
a comment, shelving for a minute and its return (the clock moved, not waited for), and the
sound choice kept across a reload.

The page's AudioContext is replaced by a stub that counts the tones it is asked to play (and
navigator.vibrate by one that counts): what a person would hear, without a sound card. Like a
real browser it stays suspended until resumed, which the page does on "Enable sound".
"""

from __future__ import annotations

from datetime import timedelta

import pytest
import redis
from playwright.sync_api import expect

from tests.browser.conftest import new_page, sign_in
from tests.fixtures.browser import TABLET, screenshot, stub_audio
from tests.fixtures.simulator import wait_until
from wincc_bridge.models import alarm_key, utcnow
from wincc_ingest import codec

pytestmark = pytest.mark.browser

POLLED = 20_000
STUB_AUDIO = stub_audio()


def raise_alarm(stack, site: str, name: str) -> tuple[str, int]:
    """Raise `name` in the simulated plant; its row's selector once the poller stored it."""
    raised = stack.sim.raise_alarm(name)[-1]
    instance = raised["instance_id"]
    client = redis.Redis.from_url(stack.redis.url, decode_responses=True)
    try:
        wait_until(
            lambda: (alarm := codec.read_alarms(client, site).get(alarm_key(name, instance)))
            is not None and codec.iso(alarm.raise_time)[:23] == raised["raise_time"][:23],
            timeout=POLLED / 1000,
        )
    finally:
        client.close()
    return f'[data-alarm="{site}:{name}:{instance}"]', instance


def page_as(browser, stack, user: str, path: str, **options):
    page = new_page(browser, **options)
    page.add_init_script(STUB_AUDIO)
    sign_in(page, stack.url, user)
    page.goto(f"{stack.url}{path}")
    return page


def tones(page) -> list[float]:
    return page.evaluate("window.__tones")


def test_priority_one_sounds_until_silenced_then_is_acknowledged_with_a_comment(browser, stack):
    page = page_as(browser, stack, "operator", "/alarms/?site=oven-unified", viewport=TABLET)
    row, instance = raise_alarm(stack, "oven-unified", "Oven_Zone3_Temp_HH")  # WinCC 16
    top = f'[data-banner="on"][data-top="oven-unified:Oven_Zone3_Temp_HH:{instance}"]'
    banner = page.locator(top)
    expect(banner).to_have_attribute("data-rank", "1", timeout=POLLED)
    expect(banner).to_contain_text("Priority 1")
    # The browser blocks sound until a person acts: nothing plays, the page asks.
    enable = page.locator('[data-sound="enable"]')
    expect(enable).to_be_visible()
    assert tones(page) == []
    assert page.evaluate("window.__vibrations") >= 1  # tablets vibrate without asking
    enable.click()
    # Two tones of three beeps at the priority-1 pitch: it repeats.
    # (Polled from here: the page's Content-Security-Policy forbids wait_for_function's eval.)
    wait_until(lambda: len(tones(page)) >= 6, timeout=10)
    assert set(tones(page)) == {880}
    screenshot(page, "annunciator-priority-1-tablet")

    with page.expect_response("**/alarms/silence/") as silenced:
        page.locator('[data-sound="silence"]').click()
    assert silenced.value.status == 204
    expect(page.locator("[data-sound-controls]")).to_have_attribute("data-sounding", "no")
    heard = len(tones(page))
    page.wait_for_timeout(2500)  # longer than one repeat: a silenced screen stays silent
    assert len(tones(page)) == heard

    # Acknowledge with a comment from the occurrence's page.
    page.locator(f"{row} .alarm-details").click()
    page.fill('textarea[name="comment"]', "Zone 3 burner tripped, reset on site")
    page.locator('[data-action="ack-comment"]').click()
    expect(page.locator("#ack-outcome [data-alarm]")).to_have_attribute(
        "data-state", "acknowledged")
    page.goto(f"{stack.url}/alarms/?site=oven-unified")
    expect(page.locator(row)).to_contain_text("Zone 3 burner tripped", timeout=POLLED)
    expect(page.locator(top)).to_have_count(0)
    writes = stack.sim.requests_log()
    assert [(w["action"], w["user"]) for w in writes] == [
        ("acknowledge", stack.sim.users.rw.username)]

    # The choice is kept: after a reload the page resumes sound without asking again.
    page.reload()
    expect(page.locator('[data-sound="toggle"]')).to_have_text("Sound on")
    expect(enable).to_be_hidden()
    page.context.close()


def test_everyone_may_turn_their_own_sound_off(browser, stack):
    page = page_as(browser, stack, "viewer", "/")
    raise_alarm(stack, "oven-unified", "Oven_Zone3_Temp_HH")
    expect(page.locator('[data-banner="on"]')).to_have_count(1, timeout=POLLED)
    page.locator('[data-sound="toggle"]').click()
    expect(page.locator('[data-sound="toggle"]')).to_have_text("Sound off")
    expect(page.locator('[data-sound="enable"]')).to_be_hidden()
    page.wait_for_timeout(2500)
    assert tones(page) == []
    page.context.close()


def test_shelved_for_a_minute_it_comes_back_when_the_clock_passes(browser, stack):
    page = page_as(browser, stack, "operator", "/alarms/?site=line-classic")
    row, _ = raise_alarm(stack, "line-classic", "Motor1_Current_HH")
    expect(page.locator(f".alarm-list:not(.shelved) > {row}")).to_have_count(1, timeout=POLLED)
    page.locator(f"{row} .alarm-details").click()
    page.select_option('select[name="minutes"]', "1")
    page.fill('input[name="reason"]', "motor being swapped, work order 4711")
    page.locator('[data-action="shelve"]').click()
    expect(page.locator(".notice.ok")).to_contain_text("still active in WinCC")
    page.goto(f"{stack.url}/alarms/?site=line-classic")
    shelved = page.locator(f".shelved-list {row}")
    expect(shelved).to_contain_text("motor being swapped, work order 4711")
    expect(shelved).to_contain_text("Shelved here, still active in WinCC.")
    expect(page.locator(f".alarm-list:not(.shelved) > {row}")).to_have_count(0)
    screenshot(page, "shelved-list-desktop")

    # The server's clock moved past the minute: beat's job, run as if then.
    later = codec.iso(utcnow() + timedelta(minutes=2))
    assert "1 shelving(s) ended." in stack.server.manage("expire_shelving", "--at", later)
    expect(page.locator(f".alarm-list:not(.shelved) > {row}")).to_have_count(1)
    expect(page.locator(f".shelved-list {row}")).to_have_count(0)
    assert stack.sim.requests_log() == []  # Classic: shelved here, nothing sent
    page.context.close()


def test_a_wall_preview_link_can_ask_for_sound(browser, stack):
    page = new_page(browser)
    page.add_init_script(stub_audio(touch_first=True))  # a browser meeting the site afresh
    sign_in(page, stack.url, "viewer")
    page.goto(f"{stack.url}/wall/overview/?sound=1")
    expect(page.locator("body")).to_have_attribute("data-sound", "true")
    expect(page.locator('[data-sound="enable"]')).to_be_visible()
    page.locator('[data-sound="enable"]').click()
    expect(page.locator('[data-sound="enable"]')).to_be_hidden()
    # Without the ask, a preview is silent (a wall screen's own record decides for it).
    page.goto(f"{stack.url}/wall/overview/")
    expect(page.locator("body")).to_have_attribute("data-sound", "false")
    expect(page.locator('[data-sound="enable"]')).to_be_hidden()
    page.context.close()


def test_acknowledge_all_shown_during_a_flood(browser, stack):
    page = page_as(browser, stack, "operator", "/alarms/?site=oven-unified")
    top, _ = raise_alarm(stack, "oven-unified", "Oven_Zone3_Temp_HH")
    stack.sim.start_scenario("flood", count=15, duration=600, spacing=0.05)
    client = redis.Redis.from_url(stack.redis.url, decode_responses=True)
    try:
        wait_until(lambda: sum(a.name.endswith("_H") and a.area == "Aux"
                               for a in codec.read_alarms(client, "oven-unified").values()) == 15,
                   timeout=POLLED / 1000)
    finally:
        client.close()
    expect(page.locator(".flood-notice")).to_contain_text("Alarm flood on", timeout=POLLED)
    # The simulator's three faces show one plant: each site is in flood; the banner names each.
    expect(page.locator("[data-banner] .banner-flood")).to_have_count(3)
    # Priority 1 stays on top of the flood.
    expect(page.locator(".alarm-list > li").first).to_have_attribute(
        "data-alarm", top[len('[data-alarm="'):-2])
    button = page.locator('[data-action="ack-all"]')
    expect(button).to_have_attribute("data-count", "16", timeout=POLLED)
    asked = []
    page.on("dialog", lambda dialog: (asked.append(dialog.message), dialog.accept()))
    with page.expect_response("**/alarms/ack-all/") as answer:
        button.click()
    assert answer.value.status == 200, answer.value.text()
    assert asked == ["Acknowledge 16 alarms on Oven (WinCC Unified)?"]
    expect(page.locator(".ack-all-summary")).to_have_attribute("data-acknowledged", "16")
    screenshot(page, "acknowledge-all-flood-desktop")
    # One acknowledgeAlarms for all sixteen.
    [call] = stack.sim.requests_log()
    assert (call["action"], len(call["items"])) == ("acknowledge", 16)
    page.goto(f"{stack.url}/alarms/?site=oven-unified&group=class")
    expect(page.locator('[data-alarm-class="Warning"]')).to_have_count(1)
    page.context.close()
