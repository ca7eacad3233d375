"""Times in the viewer's zone (static/dashboard/times.js), in a real browser set to a zone:
the journal across the autumn clock change, where 02:10 and 02:30 happen twice and only the
offset tells them apart, and a live alarm row swapped in by the stream."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import new_page, sign_in

pytestmark = pytest.mark.browser

PREFIX = "Clock_Change_"
# Raised at 00:30, 00:50, 01:10 and 01:30 UTC on 2026-10-25: in Berlin 02:30 and 02:50
# summer time, then (the clocks went back at 01:00 UTC) 02:10 and 02:30 winter time.
SEED = f"""
from datetime import UTC, datetime, timedelta
from dashboard import occurrences
from dashboard.models import JournalEntry
t0 = datetime(2026, 10, 25, 0, 30, tzinfo=UTC)
rows = []
for i in range(4):
    at = t0 + timedelta(minutes=20 * i)
    name = "{PREFIX}%d" % i
    rows.append(JournalEntry(key=f"line-classic|{{name}}|1|raised|{{at.isoformat()}}",
        site_id="line-classic", alarm_name=name, instance_id=1, transition="raised", at=at,
        state="", priority=12, event_text="Dryer stopped"))
occurrences.insert(rows)
print("seeded")
"""


def _errors(page) -> list[str]:
    """Script errors and policy refusals (the annunciator's blocked vibration is neither)."""
    errors: list[str] = []
    page.on("console", lambda m: errors.append(m.text)
            if m.type == "error" and "Content Security Policy" in m.text else None)
    page.on("pageerror", lambda e: errors.append(str(e)))
    return errors


def test_the_journal_across_the_autumn_change_in_the_viewers_zone(browser, stack):
    assert "seeded" in stack.server.manage("shell", "-c", SEED)
    page = new_page(browser, timezone_id="Europe/Berlin")
    errors = _errors(page)
    sign_in(page, stack.url, "viewer")
    page.goto(f"{stack.url}/journal/?text={PREFIX}&since=2026-10-24T00:00")
    raised = page.locator("tr.journal-line td:first-child time")
    # Newest first, as the journal orders them (by the instant); each says its offset.
    expect(raised).to_have_text([
        "2026-10-25 02:30:00 UTC+1",
        "2026-10-25 02:10:00 UTC+1",
        "2026-10-25 02:50:00 UTC+2",
        "2026-10-25 02:30:00 UTC+2",
    ])
    expect(raised.first).to_have_attribute("title", "2026-10-25 01:30:00 UTC")
    expect(page.locator("table[data-view=occurrences] th").first).to_have_text(
        "Raised (Europe/Berlin)")

    page.click("[data-action=journal-view]")
    expect(page.locator("tr[data-transition] time").first).to_have_text(
        "2026-10-25 02:30:00 UTC+1")
    assert errors == []
    page.context.close()

    # A viewer in UTC sees the server's own text: nothing to convert, no offset needed.
    page = new_page(browser, timezone_id="UTC")
    sign_in(page, stack.url, "viewer")
    page.goto(f"{stack.url}/journal/?text={PREFIX}&since=2026-10-24T00:00")
    expect(page.locator("tr.journal-line td:first-child time").first).to_have_text(
        "2026-10-25 01:30:00")
    expect(page.locator("table[data-view=occurrences] th").first).to_have_text("Raised (UTC)")
    page.context.close()


def test_a_live_alarm_row_shows_the_viewers_time_of_day(browser, stack):
    name = next(d["name"] for d in stack.sim.alarm_definitions() if d["ack_required"])
    page = new_page(browser, timezone_id="Asia/Kolkata")  # UTC+5:30, no clock changes
    errors = _errors(page)
    sign_in(page, stack.url, "viewer")
    page.goto(f"{stack.url}/alarms/")
    expect_live_row_in_zone(page, stack, name, "Asia/Kolkata", "%Y-%m-%d")
    assert errors == []
    page.context.close()


def expect_live_row_in_zone(page, stack, name: str, zone: str, day: str) -> None:
    """Raise `name`: its row, arriving over the stream after the page loaded, shows its time
    of day in `zone` (with the date written as `day` on another day), UTC in its title."""
    instance = stack.sim.raise_alarm(name)[-1]
    raised = datetime.fromisoformat(instance["raise_time"].replace("Z", "+00:00"))
    row_time = page.locator(f'[data-alarm^="utilities-restv1:{name}:"] time').first
    expect(row_time).to_have_attribute("data-local-time", "1", timeout=15_000)
    expect(row_time).to_have_attribute("title", raised.strftime(f"{day} %H:%M:%S UTC"))
    local = raised.astimezone(ZoneInfo(zone))
    same_day = local.date() == datetime.now(ZoneInfo(zone)).date()
    expect(row_time).to_have_text(local.strftime("%H:%M:%S" if same_day else f"{day} %H:%M:%S"))
