"""/kpi/: every alarm KPI against a hand-built journal with known answers, the permissions
(a viewer of one site sees nothing of another, not in the chart data either) and bad
parameters (a plain sentence, never a 500)."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

from dashboard import occurrences
from dashboard.kpi import figures as kpi
from dashboard.models import JournalEntry, Shelving
from tests.dashboard.base import BaseTestCase, site_viewer
from tests.dashboard.livedata import PlantTestCase

A, B = "oven-unified", "line-classic"
DAY = datetime(2026, 11, 10, tzinfo=UTC)
RANGE = {"range": "custom", "start": "2026-11-10T00:00", "end": "2026-11-11T00:00"}
ACK_DELAYS = [10, 20, 30, 40, 100]
T = JournalEntry.Transition


def step(site, name, transition, at, *, instance=1, priority=0):
    """One journal entry, written as the journal consumer writes it (with its occurrence
    and the KPI counts)."""
    entry = JournalEntry(
        key=f"{site}:{name}:{instance}:{transition}:{at.isoformat()}", site_id=site,
        alarm_name=name, instance_id=instance, transition=transition, at=at,
        state=transition, priority=priority, event_text=f"{name} text",
    )
    occurrences.insert([entry])
    return entry


def site_a_journal():
    """39 raises in the range on site A, with known answers for every figure."""
    flood = DAY + timedelta(hours=8)  # 25 different alarms in one 10-minute period
    for i in range(25):
        priority = 3 if i < 20 else 8 if i < 24 else 16
        step(A, f"Flood_{i:02}", T.RAISED, flood + timedelta(seconds=20 * i), priority=priority)
    for seconds in (0, 20, 50):  # 3 raises within 50 s: chattering
        step(A, "Valve_Chatter", T.RAISED, DAY + timedelta(hours=10, seconds=seconds),
             instance=seconds + 1)
    for seconds in (0, 70):  # 2 raises 70 s apart: not chattering
        step(A, "Pump_Twice", T.RAISED, DAY + timedelta(hours=11, seconds=seconds))
    for seconds in (0, 35, 70):  # 3 raises, but 70 s from first to third: not chattering
        step(A, "Slow_Three", T.RAISED, DAY + timedelta(hours=12, seconds=seconds),
             instance=seconds + 1)
    # Active 25 h, raised before the range: standing. Active 1 h: not.
    step(A, "Tank_Level_Low", T.RAISED, DAY - timedelta(hours=4))
    step(A, "Tank_Level_Low", T.ACKNOWLEDGED, DAY - timedelta(hours=3))
    step(A, "Tank_Level_Low", T.RETURNED, DAY + timedelta(hours=21))
    step(A, "Short_Stand", T.RAISED, DAY + timedelta(hours=1))
    step(A, "Short_Stand", T.RETURNED, DAY + timedelta(hours=2))
    for k, delay in enumerate(ACK_DELAYS):  # acknowledged after known delays
        raised = DAY + timedelta(hours=14, minutes=10 * k)
        step(A, f"Ack_{k}", T.RAISED, raised)
        step(A, f"Ack_{k}", T.ACKNOWLEDGED, raised + timedelta(seconds=delay))
        step(A, f"Ack_{k}", T.ACKNOWLEDGED, raised + timedelta(seconds=delay + 500))


def site_b_journal():
    """Site B's own flood, chattering, standing alarm and acknowledgements."""
    for i in range(30):
        step(B, "Secret_B_Chatter", T.RAISED, DAY + timedelta(hours=3, seconds=i),
             instance=i, priority=12)
    step(B, "Secret_B_Standing", T.RAISED, DAY - timedelta(days=2))
    step(B, "Secret_B_Chatter", T.ACKNOWLEDGED, DAY + timedelta(hours=3, seconds=5000),
         instance=0)


class KpiFiguresTestCase(BaseTestCase):
    """The figures alone: no configuration nor Redis, so these run in the unit lane."""

    def setUp(self):
        site_a_journal()
        site_b_journal()
        self.scope = kpi.Scope(sites=(A,), start=DAY, end=DAY + timedelta(days=1))
        self.figures = kpi.compute(self.scope, now=DAY + timedelta(days=3))

    def test_rates_per_10_minutes_and_the_flood_period(self):
        f = self.figures
        assert f.total == 39
        assert f.periods == 144
        assert f.average == 39 / 144
        assert f.peak == 25
        assert f.flood_periods == 1
        assert round(f.flood_percent, 2) == round(100 / 144, 2)
        flood_period = int((DAY + timedelta(hours=8)).timestamp())
        assert dict(f.series)[flood_period] == 25
        assert sum(n for _, n in f.series) == 39

    def test_bad_actors_are_the_most_frequent_alarms_with_their_share(self):
        top = self.figures.top
        assert len(top) == 10
        assert [(r["alarm_name"], r["raises"]) for r in top[:3]] == [
            ("Slow_Three", 3), ("Valve_Chatter", 3), ("Pump_Twice", 2)]
        assert round(top[0]["share"], 2) == round(100 * 3 / 39, 2)
        assert round(self.figures.top_share, 2) == round(100 * 15 / 39, 2)

    def test_three_raises_within_60_s_chatter_and_two_in_70_s_do_not(self):
        chattering = self.figures.chattering
        assert [(r["site_id"], r["alarm_name"], r["raises"], r["bursts"])
                for r in chattering] == [(A, "Valve_Chatter", 3, 1)]
        assert chattering[0]["last_at"] == DAY + timedelta(hours=10, seconds=50)

    def test_an_occurrence_active_25_h_stands_and_one_active_1_h_does_not(self):
        standing = self.figures.standing
        assert [(r["alarm_name"], r["active_for"]) for r in standing] == [
            ("Tank_Level_Low", timedelta(hours=25))]

    def test_a_still_active_occurrence_stands_until_now(self):
        scope = kpi.Scope(sites=(B,), start=DAY, end=DAY + timedelta(days=1))
        figures = kpi.compute(scope, now=DAY + timedelta(days=1))
        assert [(r["alarm_name"], r["ended"], r["active_for"]) for r in figures.standing] == [
            ("Secret_B_Standing", None, timedelta(days=3))]

    def test_acknowledge_time_percentiles_from_known_delays(self):
        f = self.figures
        assert f.ack_count == 5  # the second acknowledgement of an occurrence is not counted
        assert f.ack_seconds["p50"] == 30
        assert round(f.ack_seconds["p90"], 3) == 76.0  # 40 + 0.6 * (100 - 40)
        assert round(f.ack_seconds["p99"], 3) == 97.6

    def test_priority_shares_against_80_15_5(self):
        shares = {p["priority"]: (p["raises"], round(p["share"], 1), p["target"])
                  for p in self.figures.priorities}
        assert shares == {"low": (34, 87.2, 80), "medium": (4, 10.3, 15), "high": (1, 2.6, 5)}
        assert round(self.figures.highest_share, 1) == 2.6

    def test_no_acknowledgement_gives_no_percentiles(self):
        scope = kpi.Scope(sites=(A,), start=DAY - timedelta(days=5), end=DAY - timedelta(days=4))
        figures = kpi.compute(scope, now=DAY)
        assert figures.ack_count == 0
        assert figures.ack_seconds == {"p50": None, "p90": None, "p99": None}
        assert figures.total == 0 and figures.peak == 0 and figures.top == []


class KpiPageTestCase(PlantTestCase):
    def setUp(self):
        site_a_journal()
        site_b_journal()
        self.oven_viewer = site_viewer(A, "oven_viewer")

    def chart(self, html: str) -> dict:
        data = html.split('<script id="kpi-data" type="application/json">')[1]
        return json.loads(data.split("</script>")[0])

    def test_the_page_shows_every_figure_server_rendered(self):
        now = datetime.now(UTC)
        Shelving.objects.create(site_id=A, alarm_name="Door_Open", username="operator",
                                reason="sensor being replaced", since=now - timedelta(hours=1),
                                until=now + timedelta(hours=1))
        Shelving.objects.create(site_id=A, alarm_name="Old_Shelf", username="operator",
                                reason="over", since=now - timedelta(hours=3),
                                until=now - timedelta(hours=1))
        response = self.get_as(self.viewer, "/kpi/", data={**RANGE, "site": A})
        assert response.status_code == 200
        html = response.content.decode()
        assert "Alarm KPIs: Curing oven" in html
        assert "2026-11-10 00:00 \N{EN DASH} 2026-11-11 00:00 UTC" in html
        card = html.split('data-kpi="peak"')[1].split("</div>")[0]
        assert "<strong>25</strong>" in card
        assert "1 of 144" in html.split('data-kpi="flood"')[1].split("</div>")[0]
        assert ('data-alarm="oven-unified:Valve_Chatter"><td>oven-unified</td>'
                '<td>Valve_Chatter</td><td>3</td><td data-bursts>1</td>') in html
        assert 'data-alarm="oven-unified:Tank_Level_Low#1"' in html
        assert '<td data-ack="p90">76.0 s</td>' in html
        assert ('<tr data-priority="low"><td>low</td><td>34</td><td data-share>87.2 %</td>'
                '<td>80 %</td></tr>') in html
        assert "Door_Open" in html and "Old_Shelf" not in html
        chart = self.chart(html)
        assert len(chart["periods"]) == 144 and max(chart["raises"]) == 25
        assert chart["limits"] == {"acceptable": 1, "manageable": 2, "flood": 10}
        assert [p["target"] for p in chart["priorities"]] == [80, 15, 5]
        assert 'aria-current="page">Alarm KPIs</a>' in html

    def test_the_plant_adds_up_every_site_the_person_sees(self):
        html = self.get_as(self.viewer, "/kpi/", data={**RANGE, "site": "plant"}).content.decode()
        assert "<strong>69</strong>" in html.split('data-kpi="total"')[1].split("</div>")[0]
        assert "Secret_B_Chatter" in html

    def test_a_viewer_of_one_site_sees_nothing_of_another(self):
        html = self.get_as(self.oven_viewer, "/kpi/", data=RANGE).content.decode()
        assert "Secret_B" not in html and B not in html
        assert "<strong>39</strong>" in html.split('data-kpi="total"')[1].split("</div>")[0]
        chart = self.chart(html)
        assert sum(chart["raises"]) == 39 and max(chart["raises"]) == 25
        refused = self.get_as(self.oven_viewer, "/kpi/", data={**RANGE, "site": B})
        assert refused.status_code == 400
        body = refused.content.decode()
        assert f"There is no site {B} that you may see." in body
        assert "Secret_B" not in body and "kpi-data" not in body

    def test_bad_parameters_get_a_plain_sentence_never_a_500(self):
        cases = {
            "range=forever": "There is no range forever; choose one of the list.",
            "range=custom&start=2026-11-10T00:00": "A custom range needs both a start and an end.",
            "range=custom&start=yesterday&end=2026-11-10T00:00":
                "From (UTC): “yesterday” is not a time;",
            "range=custom&start=2026-11-10T00:00&end=2026-11-09T00:00":
                "The range must start before it ends, and before now.",
            "range=custom&start=2026-09-01T00:00&end=2026-11-09T00:00":
                "The range may be at most 31 days long.",
            "site=nowhere": "There is no site nowhere that you may see.",
            "range=custom&start=0001-01-01T00:00&end=0001-01-02T00:00":
                "From (UTC): “0001-01-01T00:00” is outside the years 1970 to 9999.",
            "range=custom&start=2026-11-10T00:00&end=2026-11-10T00:00&range=8h&site=":
                "Site: This field is required.",
            "range=custom&start=9999-12-31T23:59&end=9999-12-31T23:59":
                "The range must start before it ends, and before now.",
        }
        for query, sentence in cases.items():
            response = self.get_as(self.viewer, f"/kpi/?{query}")
            assert response.status_code == 400, query
            assert sentence in response.content.decode(), query

    def test_every_preset_renders(self):
        for preset in ("8h", "24h", "7d", "30d"):
            response = self.get_as(self.viewer, "/kpi/", data={"range": preset})
            assert response.status_code == 200, preset
        html = self.get_as(self.viewer, "/kpi/").content.decode()
        assert '<option value="24h" selected>' in html

    def test_outsider_is_refused_and_anonymous_must_sign_in(self):
        assert self.get_as(self.outsider, "/kpi/").status_code == 403
        self.client.logout()
        response = self.client.get("/kpi/")
        assert response.status_code == 302 and "/login" in response["Location"]
