"""Chattering raises (ChatteringRaise): flagged as journal rows are written, whatever order
the raises arrive in and when a batch comes again, flagged the same by `rebuild` and by
their migration, and a KPI range counts a burst only when all three raises lie in it:
each checked against ISA-18.2's definition worked out here from the raises themselves."""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta

from django.test import TransactionTestCase

from dashboard import occurrences
from dashboard.kpi import figures as kpi
from dashboard.models import ChatteringRaise, JournalEntry
from tests.dashboard.base import BaseTestCase
from tests.dashboard.migrationfill import before_migration

A, B = "oven-unified", "line-classic"
T0 = datetime(2026, 11, 10, 6, 0, tzinfo=UTC)
RAISED = JournalEntry.Transition.RAISED
ALARMS = [(A, "Valve_Chatter"), (A, "Level_Switch"), (B, "Door_Contact")]


def entry(site, name, at, transition=RAISED, *, instance=1):
    return JournalEntry(
        key=f"{site}:{name}:{instance}:{transition}:{at.isoformat()}", site_id=site,
        alarm_name=name, instance_id=instance, transition=transition, at=at,
        state=transition, event_text=f"{name} text",
    )


def journal(seed: int, n: int = 240) -> list[JournalEntry]:
    """`n` steps of three alarms within 40 minutes at distinct seconds, raises close enough
    to chatter now and then, written in shuffled batches of up to 7 rows (the consumer may
    receive them out of order), some batches twice."""
    rng = random.Random(seed)
    seconds = rng.sample(range(40 * 60), n)
    rows = [
        entry(*rng.choice(ALARMS), T0 + timedelta(seconds=s),
              rng.choice((RAISED, RAISED, RAISED, "returned")), instance=k)
        for k, s in enumerate(seconds)
    ]
    for first in range(0, n, 7):
        batch = rows[first:first + 7]
        occurrences.insert(batch)
        if rng.random() < 0.2:
            occurrences.flag_chattering(batch)  # the same raises flagged again
    return rows


def definition(rows, start=None, end=None) -> dict[tuple[str, str], list[datetime]]:
    """Per alarm, the times of the raises whose raise two before (in the range) is at most
    60 s earlier."""
    times: dict[tuple[str, str], list[datetime]] = {}
    for r in sorted(rows, key=lambda r: r.at):
        if r.transition == RAISED and (start is None or start <= r.at < end):
            times.setdefault((r.site_id, r.alarm_name), []).append(r.at)
    return {
        alarm: hits for alarm, ts in times.items()
        if (hits := [t for i, t in enumerate(ts) if i >= 2
                     and t - ts[i - 2] <= timedelta(seconds=60)])
    }


def flagged() -> dict[tuple[str, str], list[datetime]]:
    found: dict[tuple[str, str], list[datetime]] = {}
    for row in ChatteringRaise.objects.order_by("at"):
        found.setdefault((row.site_id, row.alarm_name), []).append(row.at)
    return found


class ChatteringFlagsTestCase(BaseTestCase):

    def test_raises_written_in_any_order_are_flagged_as_the_definition_says(self):
        for seed in (1, 2, 3):
            ChatteringRaise.objects.all().delete()
            JournalEntry.objects.all()._raw_delete(JournalEntry.objects.db)
            rows = journal(seed)
            expected = definition(rows)
            assert sum(len(v) for v in expected.values()) >= 10  # the journal does chatter
            assert flagged() == expected

    def test_a_raise_that_arrives_late_makes_the_next_raises_chatter(self):
        occurrences.insert([entry(A, "Pump", T0), entry(A, "Pump", T0 + timedelta(seconds=50),
                                                        instance=3)])
        assert flagged() == {}
        occurrences.insert([entry(A, "Pump", T0 + timedelta(seconds=20), instance=2)])
        assert flagged() == {(A, "Pump"): [T0 + timedelta(seconds=50)]}
        row = ChatteringRaise.objects.get()
        assert row.earlier == T0
        assert row.raise_id == JournalEntry.objects.get(instance_id=3).id

    def test_rebuild_flags_the_same_as_the_writes_did(self):
        journal(seed=4)
        written = flagged()
        assert written
        ChatteringRaise.objects.filter(site_id=A).delete()
        occurrences.rebuild()
        assert flagged() == written

    def test_a_range_counts_a_burst_only_when_its_three_raises_lie_in_it(self):
        rows = journal(seed=5)
        rng = random.Random(5)
        for _ in range(8):
            start = T0 + timedelta(seconds=rng.randrange(20 * 60))
            end = start + timedelta(seconds=rng.randrange(60, 20 * 60))
            figures = kpi.compute(kpi.Scope(sites=(A, B), start=start, end=end))
            expected = definition(rows, start, end)
            raises = {alarm: sum(1 for r in rows if r.transition == RAISED
                                 and (r.site_id, r.alarm_name) == alarm
                                 and start <= r.at < end) for alarm in expected}
            got = {(r["site_id"], r["alarm_name"]): (r["bursts"], r["raises"], r["last_at"])
                   for r in figures.chattering}
            assert got == {alarm: (len(hits), raises[alarm], hits[-1])
                           for alarm, hits in expected.items()}
            bursts = [r["bursts"] for r in figures.chattering]
            assert bursts == sorted(bursts, reverse=True)


class ChatteringMigrationTestCase(TransactionTestCase):
    """The migration that adds the flags flags the journal's raises so far."""

    def test_the_migration_flags_existing_raises(self):
        with before_migration("_chattering_raises") as fill:
            entries = fill.before.get_model("dashboard", "JournalEntry")
            for k, seconds in enumerate((0, 30, 59, 200)):
                entries.objects.create(
                    key=f"line-classic|Oil_Low|{k}|raised", site_id=B, alarm_name="Oil_Low",
                    instance_id=k, transition="raised", at=T0 + timedelta(seconds=seconds),
                    state="")
            new = fill.migrate()
            rows = list(new.get_model("dashboard", "ChatteringRaise").objects.values_list(
                "alarm_name", "at", "earlier"))
            assert rows == [("Oil_Low", T0 + timedelta(seconds=59), T0)]
