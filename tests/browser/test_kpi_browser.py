"""The alarm KPI page in a real browser: both charts drawn from the page's figures, the
layouts of desktop, tablet and phone, and the printed report on one page without the nav."""

from __future__ import annotations

import re
from datetime import UTC, datetime

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import new_page, sign_in
from tests.fixtures.browser import DESKTOP, PHONE, TABLET, screenshot

pytestmark = pytest.mark.browser

# 25 raises within one 10-minute period two hours ago (a flood), 3 raises of one alarm in
# 40 s (chattering), and acknowledgements after known delays: written into the journal with
# their occurrences and counts, as the poller's consumer writes them.
JOURNAL = """
from datetime import UTC, datetime, timedelta
from dashboard.models import JournalEntry
now = datetime.now(UTC).replace(second=0, microsecond=0)
period = now - timedelta(hours=2)
period -= timedelta(minutes=period.minute % 10)
rows = []
def add(name, transition, at, instance=1, priority=3):
    rows.append(JournalEntry(key=f"kpi-browser|{name}|{instance}|{transition}|{at.isoformat()}",
        site_id="oven-unified", alarm_name=name, instance_id=instance, transition=transition,
        at=at, state=transition, priority=priority, event_text=name + " text"))
for i in range(25):
    add(f"Kpi_Flood_{i:02}", "raised", period + timedelta(seconds=20 * i),
        priority=3 if i < 22 else 8)
for k, s in enumerate((0, 15, 40)):
    add("Kpi_Chatter", "raised", now - timedelta(hours=5, seconds=-s), instance=k + 1)
for k, delay in enumerate((10, 20, 30)):
    at = now - timedelta(hours=4, minutes=10 * k)
    add(f"Kpi_Ack_{k}", "raised", at)
    add(f"Kpi_Ack_{k}", "acknowledged", at + timedelta(seconds=delay))
from dashboard import occurrences
occurrences.insert(rows)
print(len(rows))
"""


@pytest.fixture
def journal(stack):
    stack.server.manage("shell", "-c", JOURNAL)
    return stack


def open_kpi(browser, stack, viewport, query="range=24h&site=oven-unified", **options):
    page = new_page(browser, viewport=viewport, **options)
    sign_in(page, stack.url, "viewer")
    page.goto(f"{stack.url}/kpi/?{query}")
    expect(page.locator("body")).to_have_attribute("data-kpi-charts", "drawn")
    return page


def test_the_charts_are_drawn_from_the_figures_the_page_shows(browser, journal):
    page = open_kpi(browser, journal, DESKTOP)
    expect(page.locator("#kpi-rate-chart canvas")).to_have_count(1)
    expect(page.locator("#kpi-priority-chart canvas")).to_have_count(1)
    # The flood period the journal holds: the peak card, and the chart's tallest bar.
    peak = int(page.locator('[data-kpi="peak"] strong').inner_text())
    assert peak >= 25
    drawn = page.evaluate("JSON.parse(document.getElementById('kpi-data').textContent)")
    assert max(drawn["raises"]) == peak
    legend = page.locator("#kpi-rate-chart .u-legend").inner_text()
    assert "flood (> 10)" in legend and "manageable (2)" in legend
    expect(page.locator('[data-table="chattering"] tr[data-alarm="oven-unified:Kpi_Chatter"]')
           ).to_have_count(1)
    # The canvas is painted, not blank: some of its pixels are dark.
    dark = page.evaluate("""() => {
        const c = document.querySelector('#kpi-rate-chart canvas');
        const d = c.getContext('2d').getImageData(0, 0, c.width, c.height).data;
        let n = 0; for (let i = 3; i < d.length; i += 4) if (d[i] > 0) n++; return n; }""")
    assert dark > 1000
    screenshot(page, "kpi-desktop")
    page.context.close()


@pytest.mark.parametrize("viewport,name", [(TABLET, "tablet"), (PHONE, "phone")])
def test_the_page_fits_tablet_and_phone(browser, journal, viewport, name):
    page = open_kpi(browser, journal, viewport)
    # Nothing wider than the screen but the tables' own scrolling boxes.
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= viewport["width"] + 1
    chart = page.locator("#kpi-rate-chart canvas").bounding_box()
    assert chart is not None and chart["width"] <= viewport["width"]
    screenshot(page, f"kpi-{name}")
    page.context.close()


def test_printed_it_is_one_page_without_the_nav(browser, journal):
    page = open_kpi(browser, journal, DESKTOP)
    page.emulate_media(media="print")
    expect(page.locator("nav.menu")).to_be_hidden()
    expect(page.locator("form.kpi-filter")).to_be_hidden()
    expect(page.locator("#kpi-title")).to_be_visible()
    expect(page.locator(".kpi-scope")).to_contain_text("generated")
    pdf = page.pdf(format="A4", print_background=True)
    pages = len(re.findall(rb"/Type\s*/Page[^s]", pdf))
    assert pages == 1, f"the printed report has {pages} pages"
    screenshot(page, "kpi-print")
    page.context.close()


def test_the_rate_chart_reads_in_utc_whatever_the_browser_s_zone(browser, journal):
    """The page says UTC; so does the chart, on a 24-hour clock, in Berlin too: the cursor
    on the first period reads that period's UTC time, not Berlin's hour later."""
    page = open_kpi(browser, journal, DESKTOP, "range=8h&site=oven-unified",
                    timezone_id="Europe/Berlin")
    expect_first_period_reads(page, "%m-%d %H:%M")
    page.context.close()


def expect_first_period_reads(page, form: str) -> dict:
    """The cursor on the rate chart's first period reads its UTC time written in `form`;
    the chart's figures."""
    drawn = page.evaluate("JSON.parse(document.getElementById('kpi-data').textContent)")
    box = page.locator("#kpi-rate-chart .u-over").bounding_box()
    assert box is not None
    page.mouse.move(box["x"] + 2, box["y"] + box["height"] / 2)
    first = datetime.fromtimestamp(drawn["periods"][0], UTC).strftime(form)
    reading = page.locator("#kpi-rate-chart .u-legend .u-series").first.locator(".u-value")
    expect(reading).to_have_text(first)
    return drawn


def test_in_german_the_charts_read_german_with_a_decimal_comma(browser, journal):
    """A German browser: the legends' words from the page, the shares with a decimal comma,
    the day before the month (docs/languages.md)."""
    page = open_kpi(browser, journal, DESKTOP, "range=8h&site=oven-unified", locale="de-DE")
    expect(page.locator("html")).to_have_attribute("lang", "de")
    legend = page.locator("#kpi-rate-chart .u-legend").inner_text()
    assert "Alarmflut (> 10)" in legend and "beherrschbar (2)" in legend
    drawn = expect_first_period_reads(page, "%d.%m. %H:%M")
    # The low band's share, beside its bar: "90,3", as the table beside it writes it.
    over = page.locator("#kpi-priority-chart .u-over")
    over.scroll_into_view_if_needed()
    box = over.bounding_box()
    assert box is not None
    over.hover(position={"x": box["width"] / 6, "y": box["height"] / 2})
    share = f"{drawn['priorities'][0]['share']:g}".replace(".", ",")
    legend = page.locator("#kpi-priority-chart .u-legend")
    expect(legend).to_contain_text("Priorität")
    expect(legend).to_contain_text("niedrig")
    expect(legend.locator(".u-series").nth(1).locator(".u-value")).to_have_text(share)
    table = page.locator('[data-table="priority"] tr[data-priority="low"] [data-share]')
    expect(table).to_have_text(f"{drawn['priorities'][0]['share']:.1f} %".replace(".", ","))
    page.context.close()
