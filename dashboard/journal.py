"""Persist the alarm journal stream to JournalEntry rows, at least once and never twice.

The poller appends transitions to a Redis Stream. This consumer reads them in a consumer
group, inserts them (the unique `key` makes a replay insert nothing) and acknowledges them
only after the insert committed. Entries a killed consumer had read but not acknowledged are
claimed after `claim_idle_ms` and replayed. An entry that cannot become a row is moved, with
the reason, to the rejected stream: never dropped, never blocking the entries behind it.
"""

from __future__ import annotations

import logging
import os
import socket
from collections.abc import Sequence
from typing import Any

import redis
from django.db import models, transaction

from dashboard import occurrences
from dashboard.models import JournalEntry
from wincc_ingest import codec, store
from wincc_ingest.journal import JournalEvent

log = logging.getLogger(__name__)

BATCH = 500
# Longer than any run takes, so a live consumer's entries are never claimed from under it
# (settings.JOURNAL_CLAIM_IDLE_SECONDS for the beat task).
CLAIM_IDLE_MS = 30_000
# Consumers with nothing pending and idle this long (old worker processes) are forgotten.
FORGET_IDLE_MS = 3_600_000


def consumer_name() -> str:
    return f"{socket.gethostname()}-{os.getpid()}"


def ensure_group(r: redis.Redis) -> None:
    try:
        r.xgroup_create(store.JOURNAL_STREAM, store.JOURNAL_GROUP, id="0", mkstream=True)
    except redis.ResponseError as exc:
        if "BUSYGROUP" not in str(exc):
            raise


def persist_journal(
    r: redis.Redis,
    *,
    consumer: str | None = None,
    claim_idle_ms: int = CLAIM_IDLE_MS,
    batch: int = BATCH,
) -> int:
    """Persist every entry waiting in the stream; return how many rows were inserted."""
    consumer = consumer or consumer_name()
    ensure_group(r)
    inserted = 0
    start = "0-0"
    while True:  # first what dead consumers left behind
        start, claimed, deleted = _autoclaim(r, consumer, claim_idle_ms, start, batch)
        if deleted:
            log.error(
                "%d journal entries were trimmed from the stream before they were persisted",
                len(deleted),
            )
        inserted += _persist(r, [(i, f) for i, f in claimed if f is not None])
        if start == "0-0":
            break
    while True:
        response = r.xreadgroup(
            store.JOURNAL_GROUP, consumer, {store.JOURNAL_STREAM: ">"}, count=batch
        )
        # [[stream, [(entry id, fields), ...]]] with decode_responses=True
        entries: list[Any] = response[0][1] if response else []  # type: ignore[index,assignment]
        inserted += _persist(r, entries)
        if len(entries) < batch:
            break
    _forget_idle_consumers(r)
    return inserted


def _autoclaim(r: redis.Redis, consumer: str, idle_ms: int, start: str, batch: int):
    result = r.xautoclaim(
        store.JOURNAL_STREAM, store.JOURNAL_GROUP, consumer, idle_ms, start_id=start, count=batch
    )
    # Redis 7 also lists ids that were trimmed away; Redis 6 has no third element.
    deleted = result[2] if len(result) > 2 else []
    return result[0], result[1], deleted


def _persist(r: redis.Redis, entries: Sequence[tuple[str, codec.RawHash]]) -> int:
    if not entries:
        return 0
    rows, rejected = [], []
    for entry_id, fields in entries:
        try:
            rows.append(journal_row(codec.decode_journal_event(fields)))
        except ValueError as exc:  # unreadable (codec.StoredDataError) or too long for a column
            rejected.append((entry_id, fields, str(exc)))
    with transaction.atomic():
        known = set(
            JournalEntry.objects.filter(key__in=[row.key for row in rows]).values_list(
                "key", flat=True
            )
        )
        fresh = list({row.key: row for row in rows if row.key not in known}.values())
        # A concurrent consumer may insert the same key meanwhile: the conflict is ignored.
        occurrences.insert(fresh)
    pipe = r.pipeline(transaction=True)
    for entry_id, fields, error in rejected:
        kept = codec.encode_rejected_entry(fields, entry_id, error)
        pipe.xadd(store.JOURNAL_REJECTED_STREAM, kept)
    pipe.xack(store.JOURNAL_STREAM, store.JOURNAL_GROUP, *(entry_id for entry_id, _ in entries))
    pipe.execute()
    for entry_id, _, error in rejected:
        log.error("journal entry %s kept in %s: %s", entry_id, store.JOURNAL_REJECTED_STREAM, error)
    return len(fresh)


def journal_row(event: JournalEvent) -> JournalEntry:
    row = JournalEntry(
        key=event.key,
        site_id=event.site,
        alarm_name=event.alarm,
        instance_id=event.instance_id,
        transition=event.transition.value,
        at=event.at,
        state=event.state,
        priority=event.priority,
        alarm_class=event.alarm_class,
        event_text=event.event_text,
        info_text=event.info_text,
        area=event.area,
        acknowledged_by=event.acknowledged_by,
    )
    for field in JournalEntry._meta.get_fields():
        if isinstance(field, models.CharField) and field.max_length:
            value = getattr(row, field.attname)
            if value is not None and len(value) > field.max_length:
                raise ValueError(
                    f"{field.name} is {len(value)} characters, longer than {field.max_length}"
                )
    return row


def _forget_idle_consumers(r: redis.Redis) -> None:
    for info in r.xinfo_consumers(store.JOURNAL_STREAM, store.JOURNAL_GROUP):
        if info["pending"] == 0 and info["idle"] > FORGET_IDLE_MS:
            r.xgroup_delconsumer(store.JOURNAL_STREAM, store.JOURNAL_GROUP, info["name"])
