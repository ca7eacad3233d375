"""The alarm occurrences' summaries (AlarmOccurrence), kept from the journal as it is written.

Every place that writes JournalEntry rows calls `record` with them in the same transaction
(dashboard.journal for WinCC's transitions, dashboard.alarm_notes for the dashboard's own
steps), so an occurrence's line on the journal page never disagrees with its entries. Merging
an entry is idempotent but for comments (each comment entry is written once, by its key): a
replayed WinCC transition changes nothing.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from datetime import timedelta
from itertools import groupby
from typing import Any

from django.db import connection, transaction
from django.db.models import Count

from dashboard.kpi.sql import (
    BUCKET_SECONDS,
    CHATTER_RAISES,
    CHATTER_SECONDS,
    DAY_SECONDS,
    STANDING,
    TenMinutes,
    WholeDays,
)
from dashboard.models import (
    AlarmOccurrence,
    AuditEntry,
    ChatteringRaise,
    JournalEntry,
    RaisesPerDay,
    RaisesPerPeriod,
)
from wincc_ingest import config as bridge_config

log = logging.getLogger(__name__)

Transition = JournalEntry.Transition
VIA_DASHBOARD, VIA_WINCC = "dashboard", "WinCC"
# WinCC's acknowledgement time and the audit row's come from two clocks.
CLOCK_SLACK = timedelta(minutes=1)

OccurrenceKey = tuple[str, str, int]


def key_of(entry: Any) -> OccurrenceKey:
    return (entry.site_id, entry.alarm_name, entry.instance_id)


def writer_of(site_id: str) -> str:
    """The site's read-write API user: WinCC naming it means the dashboard acknowledged."""
    from dashboard.siteconfig import get_config

    try:
        site = get_config().site(site_id)
    except bridge_config.ConfigError:
        return ""
    return site.write_user.username if site and site.write_user else ""


def acknowledger(entry: Any, audit_model: Any = AuditEntry, writer: str | None = None
                 ) -> tuple[str, str]:
    """(who, path) of an `acknowledged` entry: the person who acknowledged through the
    dashboard (its audit row, by the entry's time), else the user WinCC names, in WinCC."""
    writer = writer_of(entry.site_id) if writer is None else writer
    if entry.acknowledged_by in ("", writer):
        person = (
            audit_model.objects.filter(
                action="acknowledge", result="ok", site_id=entry.site_id,
                alarm_name=entry.alarm_name, instance_id=entry.instance_id,
                created_at__lte=entry.at + CLOCK_SLACK,
            ).order_by("-created_at", "-id").values_list("username", flat=True).first()
        )
        if person:
            return person, VIA_DASHBOARD
        if entry.acknowledged_by and entry.acknowledged_by == writer:
            return "", VIA_DASHBOARD
    return entry.acknowledged_by, VIA_WINCC


def _earlier(current, at) -> bool:
    return current is None or at < current


def merge(occ: Any, entry: Any, acknowledged: tuple[str, str] | None = None) -> None:
    """Fold one journal entry into its occurrence's summary (unsaved). `acknowledged`:
    (who, path) of an `acknowledged` entry, from `acknowledger`."""
    step, at = entry.transition, entry.at
    if step == Transition.RAISED and _earlier(occ.raised_at, at):
        occ.raised_at = at
    occ.started_at = occ.raised_at or min(occ.started_at, at)
    if step == Transition.ACKNOWLEDGED and _earlier(occ.acknowledged_at, at):
        occ.acknowledged_at = at
        occ.acknowledged_by, occ.acknowledged_via = acknowledged or (entry.acknowledged_by,
                                                                     VIA_WINCC)
    if step == Transition.RETURNED and _earlier(occ.returned_at, at):
        occ.returned_at = at
    if step == Transition.CLEARED and _earlier(occ.cleared_at, at):
        occ.cleared_at = at
    if occ.last_at is None or at >= occ.last_at:
        occ.last_at, occ.last_transition = at, step
    if f" {step} " not in occ.transitions:
        occ.transitions = f"{occ.transitions}{step} "
    # The alarm's own words, from its raise, or from whichever entry carried them first
    # (a comment written while the alarm was not in the list carries none).
    if entry.event_text and (step == Transition.RAISED or not occ.event_text):
        occ.priority, occ.alarm_class = entry.priority, entry.alarm_class
        occ.event_text, occ.area = entry.event_text, entry.area
    if step == Transition.COMMENTED:
        occ.comment_count += 1
        if occ.newest_comment_at is None or at >= occ.newest_comment_at:
            occ.newest_comment, occ.newest_comment_by = entry.comment, entry.actor
            occ.newest_comment_at = at


def kpi_fields(occ: Any) -> None:
    """The fields the alarm KPIs read, from the occurrence's times (AlarmOccurrence)."""
    ends = [t for t in (occ.returned_at, occ.cleared_at) if t is not None]
    occ.ended_at = min(ends) if ends else None
    raised, acked = occ.raised_at, occ.acknowledged_at
    occ.ack_seconds = ((acked - raised).total_seconds()
                       if raised is not None and acked is not None and acked >= raised else None)
    stands = raised + STANDING if raised is not None else None
    occ.standing_from = (stands if stands is not None
                         and (occ.ended_at is None or occ.ended_at > stands) else None)


def _blank(model: Any, key: OccurrenceKey, first: Any) -> Any:
    return model(site_id=key[0], alarm_name=key[1], instance_id=key[2], started_at=first.at,
                 last_at=None, last_transition="", transitions=" ")


def apply(entries: Iterable[Any], occurrence_model: Any = AlarmOccurrence,
          audit_model: Any = AuditEntry, writers: dict[str, str] | None = None,
          counts: bool = True) -> int:
    """Merge `entries` into their occurrences' rows (created when new); call it inside the
    transaction that wrote the entries, with new entries only (a raise is counted once per
    call). `counts`: add the raises to the KPI counts and flag the chattering ones too. How
    many occurrences changed."""
    grouped: dict[OccurrenceKey, list[Any]] = {}
    for entry in entries:
        grouped.setdefault(key_of(entry), []).append(entry)
    if not grouped:
        return 0
    if counts:
        new = [e for steps in grouped.values() for e in steps]
        count_raises(new)
        flag_chattering(new)
    writers = {} if writers is None else writers
    known = _existing(occurrence_model, grouped)
    fresh, changed = [], []
    for key, steps in grouped.items():
        occ = known.get(key)
        if occ is None:
            occ = _blank(occurrence_model, key, steps[0])
            fresh.append(occ)
        else:
            changed.append(occ)
        for entry in sorted(steps, key=lambda e: e.at):
            who = None
            if entry.transition == Transition.ACKNOWLEDGED:
                if entry.site_id not in writers:
                    writers[entry.site_id] = writer_of(entry.site_id)
                who = acknowledger(entry, audit_model, writers[entry.site_id])
            merge(occ, entry, who)
        kpi_fields(occ)  # from the merged times, once per occurrence
    occurrence_model.objects.bulk_create(fresh)
    if changed:
        occurrence_model.objects.bulk_update(changed, _FIELDS)
    return len(grouped)


_FIELDS = [f.name for f in AlarmOccurrence._meta.concrete_fields
           if f.name not in ("id", "site_id", "alarm_name", "instance_id")]


def _existing(model: Any, grouped: dict[OccurrenceKey, list[Any]]) -> dict[OccurrenceKey, Any]:
    """The rows of these occurrences, locked against a concurrent writer (PostgreSQL)."""
    found: dict[OccurrenceKey, Any] = {}
    by_site: dict[str, set[str]] = {}
    for site_id, name, _ in grouped:
        by_site.setdefault(site_id, set()).add(name)
    for site_id, names in by_site.items():
        instances = {key[2] for key in grouped if key[0] == site_id}
        rows = model.objects.select_for_update().filter(
            site_id=site_id, alarm_name__in=names, instance_id__in=instances)
        for row in rows:
            found[key_of(row)] = row
    return found


def insert(rows: list[JournalEntry]) -> None:
    """Write new journal rows and their occurrences' summaries in one transaction. A row
    whose key is there already (a concurrent consumer wrote it) is skipped by the database;
    merging it again changes nothing but a comment's count, and comments never race."""
    with transaction.atomic():
        JournalEntry.objects.bulk_create(rows, ignore_conflicts=True)
        apply(rows)


# Add n to a count, or start it: one statement both SQLite (3.24+) and PostgreSQL run, safe
# against a concurrent writer of the same period.
_UPSERT = ("INSERT INTO {table} ({keys}, raises) VALUES ({marks}, %s) "
           "ON CONFLICT ({keys}) DO UPDATE SET raises = {table}.raises + excluded.raises")


def count_raises(entries: Iterable[Any]) -> None:
    """Add the raises among `entries` to the KPI counts (RaisesPerPeriod, RaisesPerDay)."""
    per_period: dict[tuple[str, int], int] = {}
    per_day: dict[tuple[str, str, int, int], int] = {}
    for e in entries:
        if e.transition != Transition.RAISED:
            continue
        seconds = int(e.at.timestamp())
        key = (e.site_id, seconds // BUCKET_SECONDS)
        per_period[key] = per_period.get(key, 0) + 1
        day = (e.site_id, e.alarm_name, seconds // DAY_SECONDS, e.priority)
        per_day[day] = per_day.get(day, 0) + 1
    with connection.cursor() as cursor:
        for model, keys, counted in (
            (RaisesPerPeriod, ("site_id", "period"), per_period),
            (RaisesPerDay, ("site_id", "alarm_name", "day", "priority"), per_day),
        ):
            if counted:
                cursor.executemany(
                    _UPSERT.format(table=model._meta.db_table, keys=", ".join(keys),
                                   marks=", ".join("%s" for _ in keys)),
                    [(*key, n) for key, n in sorted(counted.items())],
                )


CHATTER_WINDOW = timedelta(seconds=CHATTER_SECONDS)
LAG = CHATTER_RAISES - 1  # a raise chatters when the raise this many before it is near


def _bursts(site_id: str, name: str, raises: list[tuple[int, Any]], since: Any,
            chatter_model: Any) -> list[Any]:
    """The chattering raises among `raises` ((id, time), in order) from `since` on."""
    return [
        chatter_model(raise_id=rid, site_id=site_id, alarm_name=name, at=at,
                      earlier=raises[i - LAG][1])
        for i, (rid, at) in enumerate(raises)
        if i >= LAG and at >= since and at - raises[i - LAG][1] <= CHATTER_WINDOW
    ]


def flag_chattering(entries: Iterable[Any], journal_model: Any = JournalEntry,
                    chatter_model: Any = ChatteringRaise) -> None:
    """Flag the chattering raises near the raises among `entries` (already written): a new
    raise may chatter itself and may make the next two raises of its alarm chatter, whatever
    order the raises arrive in, so the flags from the earliest new raise to a minute after
    the latest are worked out again from the journal."""
    spans: dict[tuple[str, str], list[Any]] = {}
    for e in entries:
        if e.transition == Transition.RAISED:
            span = spans.setdefault((e.site_id, e.alarm_name), [e.at, e.at])
            span[0], span[1] = min(span[0], e.at), max(span[1], e.at)
    for (site_id, name), (first, last) in spans.items():
        raises = list(
            journal_model.objects.filter(
                transition=Transition.RAISED, site_id=site_id, alarm_name=name,
                at__gte=first - CHATTER_WINDOW, at__lte=last + CHATTER_WINDOW,
            ).order_by("at", "id").values_list("id", "at")
        )
        chatter_model.objects.filter(site_id=site_id, alarm_name=name, at__gte=first,
                                     at__lte=last + CHATTER_WINDOW).delete()
        # ignore_conflicts: a concurrent writer may have flagged the same raise.
        chatter_model.objects.bulk_create(_bursts(site_id, name, raises, first, chatter_model),
                                          ignore_conflicts=True)


def rebuild_chattering(journal_model: Any = JournalEntry,
                       chatter_model: Any = ChatteringRaise, chunk: int = 5000) -> None:
    """Flag every chattering raise in the journal again, one alarm's raises at a time."""
    chatter_model.objects.all().delete()
    raises = (journal_model.objects.filter(transition=Transition.RAISED)
              .order_by("site_id", "alarm_name", "at", "id")
              .values_list("site_id", "alarm_name", "id", "at"))
    flagged: list[Any] = []
    for (site_id, name), rows in groupby(raises.iterator(chunk_size=chunk),
                                         key=lambda row: (row[0], row[1])):
        times = [(rid, at) for _, _, rid, at in rows]
        flagged.extend(_bursts(site_id, name, times, times[0][1], chatter_model))
        if len(flagged) >= chunk:
            chatter_model.objects.bulk_create(flagged)
            flagged.clear()
    chatter_model.objects.bulk_create(flagged)


def rebuild_counts(journal_model: Any = JournalEntry, period_model: Any = RaisesPerPeriod,
                   day_model: Any = RaisesPerDay) -> None:
    """Count every raise in the journal again (one GROUP BY per table)."""
    raises = journal_model.objects.filter(transition=Transition.RAISED).order_by()
    period_model.objects.all().delete()
    period_model.objects.bulk_create(
        (period_model(site_id=site, period=period, raises=n)
        for site, period, n in raises.annotate(period=TenMinutes("at"))
        .values("site_id", "period").annotate(n=Count("*"))
        .values_list("site_id", "period", "n").iterator()),
        batch_size=2000,
    )
    day_model.objects.all().delete()
    day_model.objects.bulk_create(
        (day_model(site_id=site, alarm_name=name, day=day, priority=priority, raises=n)
         for site, name, day, priority, n in raises.annotate(day=WholeDays("at"))
         .values("site_id", "alarm_name", "day", "priority").annotate(n=Count("*"))
         .values_list("site_id", "alarm_name", "day", "priority", "n").iterator()),
        batch_size=2000,
    )


def rebuild(journal_model: Any = JournalEntry, occurrence_model: Any = AlarmOccurrence,
            audit_model: Any = AuditEntry, chunk: int = 2000, counts: bool = True) -> int:
    """Build every occurrence again from the journal (the summaries are dropped first), and
    with `counts` the KPI counts and chattering flags. Reads the journal in order of
    occurrence, a chunk at a time. How many occurrences were built."""
    built = 0
    writers: dict[str, str] = {}
    with transaction.atomic():
        if counts:
            rebuild_counts(journal_model)
            rebuild_chattering(journal_model)
        occurrence_model.objects.all().delete()
        batch: list[Any] = []
        current: OccurrenceKey | None = None
        rows = journal_model.objects.order_by("site_id", "alarm_name", "instance_id", "at", "id")
        for entry in rows.iterator(chunk_size=chunk):
            if key_of(entry) != current and len(batch) >= chunk:
                built += apply(batch, occurrence_model, audit_model, writers, counts=False)
                batch = []
            current = key_of(entry)
            batch.append(entry)
        built += apply(batch, occurrence_model, audit_model, writers, counts=False)
    return built
