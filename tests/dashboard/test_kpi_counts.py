"""The KPI counts (RaisesPerPeriod, RaisesPerDay): kept as journal rows are written, built
again the same by `rebuild`, filled by their migration, and a range that does not start or
end on a bucket's edge still counts exactly the raises in it."""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta

from django.test import TransactionTestCase

from dashboard import occurrences
from dashboard.kpi import figures as kpi
from dashboard.models import JournalEntry, RaisesPerDay, RaisesPerPeriod
from tests.dashboard.base import BaseTestCase
from tests.dashboard.migrationfill import before_migration

A, B = "oven-unified", "line-classic"
T0 = datetime(2026, 11, 10, 23, 55, 30, tzinfo=UTC)  # 4.5 minutes before a day's end
RAISED = JournalEntry.Transition.RAISED


def entry(site, name, at, transition=RAISED, *, instance=1, priority=0):
    return JournalEntry(
        key=f"{site}:{name}:{instance}:{transition}:{at.isoformat()}", site_id=site,
        alarm_name=name, instance_id=instance, transition=transition, at=at,
        state=transition, priority=priority, event_text=f"{name} text",
    )


def period_counts():
    return dict(((r.site_id, r.period), r.raises) for r in RaisesPerPeriod.objects.all())


def day_counts():
    return dict(((r.site_id, r.alarm_name, r.day, r.priority), r.raises)
                for r in RaisesPerDay.objects.all())


def journal(seed=3, n=300):
    """`n` steps of a few alarms on two sites over about 30 hours, written in batches of
    up to 25 rows in shuffled order, as the consumer may receive them."""
    rng = random.Random(seed)
    rows = [
        entry(rng.choice((A, B)), f"Alarm_{rng.randrange(6)}",
              T0 + timedelta(seconds=rng.randrange(30 * 3600)),
              rng.choice((RAISED, RAISED, "acknowledged", "returned")),
              instance=k, priority=rng.choice((0, 3, 8, 12, 16)))
        for k in range(n)
    ]
    rng.shuffle(rows)
    for first in range(0, n, 25):
        occurrences.insert(rows[first:first + 25])
    return rows


class KpiCountsTestCase(BaseTestCase):

    def test_inserted_raises_are_counted_per_period_and_per_day(self):
        occurrences.insert([
            entry(A, "Pump", T0, priority=3),
            entry(A, "Pump", T0 + timedelta(seconds=20), instance=2, priority=3),
            entry(A, "Pump", T0 + timedelta(seconds=30), "acknowledged"),
            entry(A, "Pump", T0 + timedelta(minutes=5), instance=3, priority=3),  # next day
            entry(B, "Fan", T0, priority=16),
        ])
        occurrences.insert([entry(A, "Pump", T0 + timedelta(seconds=40), instance=4,
                                  priority=3)])
        period = int(T0.timestamp()) // 600
        day = int(T0.timestamp()) // 86400
        assert period_counts() == {(A, period): 3, (A, period + 1): 1, (B, period): 1}
        assert day_counts() == {(A, "Pump", day, 3): 3, (A, "Pump", day + 1, 3): 1,
                                (B, "Fan", day, 16): 1}

    def test_rebuild_counts_the_same_as_the_writes_did(self):
        journal()
        written = (period_counts(), day_counts())
        assert sum(written[0].values()) == JournalEntry.objects.filter(
            transition=RAISED).count()
        RaisesPerPeriod.objects.all().delete()
        RaisesPerDay.objects.filter(site_id=A).update(raises=99)
        occurrences.rebuild()
        assert (period_counts(), day_counts()) == written

    def test_a_range_off_the_buckets_edges_counts_exactly_its_raises(self):
        rows = journal(seed=11)
        start, end = T0 + timedelta(minutes=7, seconds=13), T0 + timedelta(hours=27, minutes=3)
        figures = kpi.compute(kpi.Scope(sites=(A,), start=start, end=end))
        raises = [r for r in rows if r.site_id == A and r.transition == RAISED
                  and start <= r.at < end]
        assert figures.total == len(raises) > 0
        per_alarm: dict[str, int] = {}
        for r in raises:
            per_alarm[r.alarm_name] = per_alarm.get(r.alarm_name, 0) + 1
        assert {row["alarm_name"]: row["raises"] for row in figures.top} == per_alarm
        assert sum(row["raises"] for row in figures.priorities) == len(raises)
        per_period: dict[int, int] = {}
        for r in raises:
            p = int(r.at.timestamp()) // 600 * 600
            per_period[p] = per_period.get(p, 0) + 1
        assert {p: n for p, n in figures.series if n} == per_period


class KpiCountsMigrationTestCase(TransactionTestCase):
    """The migration that adds the counts fills them from the journal so far."""

    def test_the_migration_counts_existing_raises(self):
        with before_migration("_kpi_counts") as fill:
            entries = fill.before.get_model("dashboard", "JournalEntry")
            for k, step in enumerate(("raised", "acknowledged", "raised")):
                entries.objects.create(
                    key=f"line-classic|Oil_Low|{k}|{step}", site_id=B, alarm_name="Oil_Low",
                    instance_id=k, transition=step, at=T0 + timedelta(seconds=k), state="",
                    priority=9)
            new = fill.migrate()
            period = new.get_model("dashboard", "RaisesPerPeriod").objects.get()
            day = new.get_model("dashboard", "RaisesPerDay").objects.get()
            assert (period.site_id, period.period, period.raises) == (
                B, int(T0.timestamp()) // 600, 2)
            assert (day.alarm_name, day.day, day.priority, day.raises) == (
                "Oil_Low", int(T0.timestamp()) // 86400, 9, 2)
