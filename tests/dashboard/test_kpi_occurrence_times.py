"""The times the alarm KPIs read from each occurrence (ended_at, standing_from, ack_seconds):
kept as entries arrive in any order, the same after `rebuild`, filled by their migration, and
a standing alarm raised long before the range still found."""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta

from django.test import TransactionTestCase

from dashboard import occurrences
from dashboard.kpi import figures as kpi
from dashboard.models import AlarmOccurrence, JournalEntry
from tests.dashboard.base import BaseTestCase
from tests.dashboard.migrationfill import before_migration

A = "oven-unified"
T0 = datetime(2026, 11, 10, 6, 0, tzinfo=UTC)
T = JournalEntry.Transition
H = timedelta(hours=1)


def entry(name, transition, at, *, instance=1):
    return JournalEntry(
        key=f"{A}:{name}:{instance}:{transition}:{at.isoformat()}", site_id=A,
        alarm_name=name, instance_id=instance, transition=transition, at=at,
        state=transition, event_text=f"{name} text",
    )


# name: its steps (transition, hours after T0), and what the KPI fields must then be:
# (ended after hours, standing from hours, seconds to the first acknowledgement).
CASES = {
    "Short": ([(T.RAISED, 0), (T.ACKNOWLEDGED, 0.01), (T.RETURNED, 1), (T.CLEARED, 2)],
              (1, None, 36.0)),
    "Cleared_First": ([(T.RAISED, 0), (T.CLEARED, 30), (T.RETURNED, 31)], (30, 24, None)),
    "Still_Active": ([(T.RAISED, 0), (T.ACKNOWLEDGED, 2)], (None, 24, 7200.0)),
    "Ends_At_24h": ([(T.RAISED, 0), (T.RETURNED, 24)], (24, None, None)),
    "Ack_Before_Raise": ([(T.ACKNOWLEDGED, 0), (T.RAISED, 1)], (None, 25, None)),
    "No_Raise": ([(T.ACKNOWLEDGED, 0), (T.RETURNED, 30)], (30, None, None)),
}


def journal(rng: random.Random) -> list[JournalEntry]:
    rows = [entry(name, step, T0 + hours * H)
            for name, (steps, _) in CASES.items() for step, hours in steps]
    rng.shuffle(rows)
    return rows


def kept() -> dict[str, tuple]:
    def hours(t):
        return None if t is None else (t - T0) / H
    return {o.alarm_name: (hours(o.ended_at), hours(o.standing_from), o.ack_seconds)
            for o in AlarmOccurrence.objects.all()}


EXPECTED = {name: fields for name, (_, fields) in CASES.items()}


class OccurrenceTimesTestCase(BaseTestCase):

    def test_the_fields_are_kept_whatever_order_the_entries_arrive_in(self):
        rows = journal(random.Random(7))
        for k in range(0, len(rows), 3):
            occurrences.insert(rows[k:k + 3])
        assert kept() == EXPECTED

    def test_rebuild_keeps_them_the_same(self):
        occurrences.insert(journal(random.Random(8)))
        AlarmOccurrence.objects.update(ended_at=None, standing_from=None, ack_seconds=1.0)
        occurrences.rebuild()
        assert kept() == EXPECTED

    def test_an_alarm_raised_months_before_the_range_and_still_active_stands(self):
        occurrences.insert([entry("Forgotten", T.RAISED, T0 - timedelta(days=200))])
        figures = kpi.compute(kpi.Scope(sites=(A,), start=T0, end=T0 + 24 * H),
                              now=T0 + 24 * H)
        assert [(r["alarm_name"], r["active_for"]) for r in figures.standing] == [
            ("Forgotten", timedelta(days=201))]

    def test_the_standing_range_edges(self):
        occurrences.insert(journal(random.Random(9)))
        scope = kpi.Scope(sites=(A,), start=T0 + 29 * H, end=T0 + 40 * H)
        figures = kpi.compute(scope, now=T0 + 40 * H)
        # Cleared_First ended at 30 h (after the start), Still_Active and Ack_Before_Raise
        # are still active; Short and Ends_At_24h never stood; No_Raise has no raise.
        assert [r["alarm_name"] for r in figures.standing] == [
            "Cleared_First", "Still_Active", "Ack_Before_Raise"]
        later = kpi.compute(kpi.Scope(sites=(A,), start=T0 + 31 * H, end=T0 + 40 * H),
                            now=T0 + 40 * H)
        assert [r["alarm_name"] for r in later.standing] == ["Still_Active", "Ack_Before_Raise"]
        early = kpi.compute(kpi.Scope(sites=(A,), start=T0, end=T0 + 24.5 * H),
                            now=T0 + 40 * H)
        # Ack_Before_Raise was raised at 1 h: it stands from 25 h, after this range.
        assert [r["alarm_name"] for r in early.standing] == ["Cleared_First", "Still_Active"]


class OccurrenceTimesMigrationTestCase(TransactionTestCase):
    """The migration that adds the fields works them out for the occurrences so far."""

    def test_the_migration_fills_the_fields(self):
        with before_migration("_kpi_stored_times") as fill:
            model = fill.before.get_model("dashboard", "AlarmOccurrence")
            model.objects.create(
                site_id=A, alarm_name="Old_Stand", instance_id=1, started_at=T0,
                raised_at=T0, acknowledged_at=T0 + timedelta(seconds=90),
                cleared_at=T0 + 30 * H, last_at=T0 + 30 * H, last_transition="cleared")
            model.objects.create(
                site_id=A, alarm_name="Old_Short", instance_id=1, started_at=T0,
                raised_at=T0, returned_at=T0 + H, cleared_at=T0 + 2 * H,
                last_at=T0 + 2 * H, last_transition="cleared")
            new = fill.migrate()
            rows = {o.alarm_name: (o.ended_at, o.standing_from, o.ack_seconds)
                    for o in new.get_model("dashboard", "AlarmOccurrence").objects.all()}
            assert rows == {"Old_Stand": (T0 + 30 * H, T0 + 24 * H, 90.0),
                            "Old_Short": (T0 + H, None, None)}
