"""The demo's alarm journal of the last days, from the simulators' day script.

At first start the demo's trends, journal and KPI page would be empty. The simulators of
`make run` play a day script that is a pure function of their seed and the clock
(wincc_sim/dayscript.py), so the alarms they raised "before the demo started" can be computed:
this module turns them into the journal rows the poller would have written, through the
poller's own transition rules (wincc_ingest.journal.alarm_events) and row builder. An
occurrence still active now gets the same instance id and times the running simulator gives
it, so the poller's rows for it have the same keys and are not written twice.

A site is seeded only while its journal is empty: once the demo has run, its journal is what
the dashboard saw, and the time the demo was off stays empty.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from dashboard.journal import journal_row
from dashboard.models import JournalEntry
from wincc_bridge.models import Alarm, AlarmState
from wincc_ingest.journal import JournalEvent, alarm_events
from wincc_sim import dayscript
from wincc_sim.plant import Plant
from wincc_sim.tags import filler_name

# Each demo site's simulator seed (Procfile: --seed 1, 2, 3; dashboard/demo/config.json).
DEMO_SEEDS = {"oven-unified": 1, "line-classic": 2, "utilities-restv1": 3}
DAYS = 7
BATCH = 2000


@dataclass(frozen=True)
class _Snapshot:
    at: datetime
    alarm: Alarm | None


def _at(unix: int) -> datetime:
    return datetime.fromtimestamp(unix, UTC)


def occurrence_events(
    site: str, plant: Plant, occurrence: dayscript.Occurrence, until: int,
    next_start: int | None,
) -> list[JournalEvent]:
    """The journal events of one scheduled occurrence up to `until` (Unix seconds).

    `next_start`: when the same alarm is raised again, which removes an instance still
    waiting for its acknowledgement (WinCC's re-raise)."""
    name = f"{filler_name(occurrence.index)}_H"
    definition = plant.alarm_defs[name]

    def alarm(state: AlarmState, *, ack: bool = False, cleared: bool = False) -> Alarm:
        return Alarm(
            site=site, name=name, instance_id=occurrence.instance_id, state=state,
            priority=definition.priority, alarm_class=definition.alarm_class,
            event_text=definition.event_text, info_text=definition.info_text,
            area=definition.area, raise_time=_at(occurrence.start),
            ack_time=_at(occurrence.ack_at) if ack else None,
            clear_time=_at(occurrence.end) if cleared else None,
            can_acknowledge=not ack, acknowledged_by=dayscript.OPERATOR if ack else None,
        )

    steps = [_Snapshot(_at(occurrence.start), alarm(AlarmState.UNACKNOWLEDGED))]
    removed_at = next_start
    if occurrence.ack_at < occurrence.end:
        steps.append(_Snapshot(_at(occurrence.ack_at), alarm(AlarmState.ACKNOWLEDGED, ack=True)))
        steps.append(_Snapshot(_at(occurrence.end), None))
    else:
        returned = alarm(AlarmState.RETURNED_UNACKNOWLEDGED, cleared=True)
        steps.append(_Snapshot(_at(occurrence.end), returned))
        if removed_at is None or occurrence.ack_at < removed_at:
            steps.append(_Snapshot(_at(occurrence.ack_at), None))
            removed_at = None
    if removed_at is not None and removed_at <= until:
        steps.append(_Snapshot(_at(removed_at), None))
    events: list[JournalEvent] = []
    before: Alarm | None = None
    for step in steps:
        if step.at.timestamp() > until:
            break
        replaced = step.alarm is None and removed_at is not None and step.at == _at(removed_at)
        events.extend(alarm_events(site, before, step.alarm, step.at, replaced=replaced))
        before = step.alarm
        if before is None:
            break
    return events


def site_events(site: str, seed: int, begin: int, until: int) -> list[JournalEvent]:
    """Every journal event of the site's day script in [begin, until]."""
    plant = Plant(seed=seed)
    scheduled = dayscript.occurrences(seed, begin, until)
    # Only occurrences that started in the window: the journal begins with a raise.
    scheduled = [o for o in scheduled if o.start >= begin]
    following: dict[int, int | None] = {}
    last: dict[int, int] = {}
    for occurrence in reversed(scheduled):
        following[id(occurrence)] = last.get(occurrence.index)
        last[occurrence.index] = occurrence.start
    events: list[JournalEvent] = []
    for occurrence in scheduled:
        events.extend(
            occurrence_events(site, plant, occurrence, until, following[id(occurrence)])
        )
    return events


def seed_journal(now: datetime | None = None, days: int = DAYS) -> dict[str, int]:
    """Write the last `days` of each empty demo site's journal; rows written per site."""
    now = now or datetime.now(UTC)
    until = int(now.timestamp())
    begin = int((now - timedelta(days=days)).timestamp())
    written: dict[str, int] = {}
    for site, seed in DEMO_SEEDS.items():
        if JournalEntry.objects.filter(site_id=site).exists():
            written[site] = 0
            continue
        rows = [journal_row(event) for event in site_events(site, seed, begin, until)]
        JournalEntry.objects.bulk_create(rows, batch_size=BATCH, ignore_conflicts=True)
        written[site] = len(rows)
    return written
