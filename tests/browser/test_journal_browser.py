"""The alarm journal in a real browser, as a plant manager uses it: last night's alarms, filter
by the user who acknowledged, page through, export CSV and Excel and open them. Screenshots
at desktop, 768x1024 and 390x844."""

from __future__ import annotations

import csv
import io

import pytest
from openpyxl import load_workbook
from playwright.sync_api import expect

from tests.browser.conftest import new_page, sign_in
from tests.fixtures.browser import PHONE, TABLET, screenshot

pytestmark = pytest.mark.browser

PREFIX = "Night_Shift_"
COUNT = 64  # more than one page of 50
# 64 occurrences of last night, raised a minute apart; every third acknowledged by op2 in
# WinCC, the others by op1; one with a comment. Written as the journal consumer writes them.
SEED = f"""
from datetime import UTC, datetime, timedelta
from dashboard import occurrences
from dashboard.models import JournalEntry
t0 = datetime(2026, 11, 30, 22, 0, tzinfo=UTC)
rows = []
for i in range({COUNT}):
    name, at = "{PREFIX}%02d" % i, t0 + timedelta(minutes=i)
    who = "op2" if i % 3 == 0 else "op1"
    for step, when, by in (("raised", at, ""), ("acknowledged", at + timedelta(seconds=45), who),
                           ("returned", at + timedelta(minutes=5), "")):
        rows.append(JournalEntry(key=f"line-classic|{{name}}|1|{{step}}|{{when.isoformat()}}",
            site_id="line-classic", alarm_name=name, instance_id=1, transition=step, at=when,
            state="", priority=12, event_text="Conveyor " + str(i) + " stopped",
            acknowledged_by=by))
occurrences.insert(rows)
print("seeded")
"""


def seed(stack) -> None:
    assert "seeded" in stack.server.manage("shell", "-c", SEED)


def lines(page):
    return page.locator("tr.journal-line")


def test_filter_by_user_page_through_and_export(browser, stack, tmp_path):
    seed(stack)
    page = new_page(browser)
    sign_in(page, stack.url, "viewer")
    page.click("nav.menu >> text=Journal")
    expect(page.locator("h1")).to_have_text("Alarm journal")
    page.click(".journal-filters summary")
    page.fill("input[name=text]", PREFIX)
    page.click("form.journal-filter button[type=submit]")
    expect(lines(page)).to_have_count(50)
    expect(lines(page).first).to_contain_text(f"{PREFIX}63")
    expect(lines(page).first.locator(".journal-ack")).to_contain_text("after 45 s")
    screenshot(page, "journal-desktop")

    # Page through: the older 14, then back to the newest 50.
    page.click("a[rel=next]")
    expect(lines(page)).to_have_count(COUNT - 50)
    expect(lines(page).last).to_contain_text(f"{PREFIX}00")
    expect(page.locator("a[rel=next]")).to_have_count(0)
    page.click("a[rel=prev]")
    expect(lines(page)).to_have_count(50)
    expect(lines(page).first).to_contain_text(f"{PREFIX}63")

    # Who acknowledged: op2, every third one. The folded filter says what is set.
    expect(page.locator(".journal-filters summary")).to_have_text(f"Filter: Text {PREFIX}")
    page.click(".journal-filters summary")
    page.fill("input[name=user]", "op2")
    page.click("form.journal-filter button[type=submit]")
    expected = len(range(0, COUNT, 3))
    expect(lines(page)).to_have_count(expected)
    for i in range(expected):
        expect(lines(page).nth(i).locator(".journal-ack")).to_contain_text("by op2 in WinCC")

    # The export holds exactly what is shown.
    with page.expect_download() as download:
        page.click("[data-action=journal-csv]")
    path = tmp_path / "journal.csv"
    download.value.save_as(path)
    rows = list(csv.DictReader(io.StringIO(path.read_text())))
    assert len(rows) == expected
    assert {r["Acknowledged by"] for r in rows} == {"op2"}
    assert rows[0]["Raised (UTC+00:00)"] == "2026-11-30T23:03:00+00:00"

    with page.expect_download() as download:
        page.click("[data-action=journal-xlsx]")
    path = tmp_path / "journal.xlsx"
    download.value.save_as(path)
    sheet = load_workbook(path, read_only=True)["Alarm journal"]
    table = list(sheet.iter_rows(values_only=True))
    assert len(table) == 1 + expected
    assert table[0][0] == "Raised (UTC+00:00)" and table[1][2] == f"{PREFIX}63"

    # The raw transitions of the same filter.
    page.click("[data-action=journal-view]")
    expect(page.locator("table[data-view=transitions] tr[data-transition]")).to_have_count(
        expected)
    page.context.close()


@pytest.mark.parametrize("viewport,name", [(TABLET, "tablet"), (PHONE, "phone")])
def test_the_journal_on_tablet_and_phone(browser, stack, viewport, name):
    seed(stack)
    page = new_page(browser, viewport=viewport)
    sign_in(page, stack.url, "viewer")
    page.goto(f"{stack.url}/journal/?text={PREFIX}&user=op1")
    expect(lines(page)).to_have_count(COUNT - len(range(0, COUNT, 3)))
    # The filter form fits the screen; the table scrolls inside its own box.
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= viewport["width"], width
    expect(page.locator("[data-action=journal-csv]")).to_be_visible()
    # The first screen shows journal lines, not only the filter.
    screenshot(page, f"journal-first-screen-{name}", full_page=False)
    first = lines(page).first.bounding_box()
    assert first is not None and first["y"] + first["height"] <= viewport["height"], first
    screenshot(page, f"journal-{name}")
    page.context.close()
