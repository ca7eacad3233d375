"""GET /api/v1/journal/?after=ID: the alarm journal from a cursor on, oldest first.

The cursor is the last entry's id. Ids are given at insert, but a transaction that took
a smaller id may commit after one that took a larger: a row is only handed out once it is
SETTLE_SECONDS old, so a cursor never passes a row that was still being committed."""

from __future__ import annotations

from datetime import timedelta

from django.http import HttpRequest
from django.utils import timezone
from ninja import Query

from dashboard.api.auth import token_of
from dashboard.api.reading import readable_site, readable_sites
from dashboard.api.schemas import JournalEntryOut, JournalOut
from dashboard.models import JournalEntry

TAG = "journal"
SETTLE_SECONDS = 2.0
MAX_LIMIT = 1000
# The database's largest id (a 64-bit integer); a larger cursor is refused, not sent to it.
MAX_ID = 2**63 - 1


def entry_out(entry: JournalEntry) -> JournalEntryOut:
    return JournalEntryOut(
        id=entry.pk, site=entry.site_id, alarm_name=entry.alarm_name,
        instance_id=entry.instance_id, transition=entry.transition, at=entry.at,
        state=entry.state, priority=entry.priority, alarm_class=entry.alarm_class,
        event_text=entry.event_text, acknowledged_by=entry.acknowledged_by, actor=entry.actor,
        comment=entry.comment,
    )


def journal(
    request: HttpRequest,
    after: int = Query(0, ge=0, le=MAX_ID, description="The last id already read; 0 from "
                                                        "the start."),
    limit: int = Query(100, ge=1, le=MAX_LIMIT, description="At most this many entries."),
    site: str | None = Query(None, max_length=64, description="One site's entries only."),
) -> JournalOut:
    """Alarm transitions (raised, acknowledged, returned, cleared, shelved, unshelved,
    commented...) of the sites this token reads, in id order, after the cursor `after`.
    Pass `next_cursor` as `after` next time: nothing is skipped and nothing comes twice.
    An entry appears once it is 2 seconds old."""
    token = token_of(request)
    sites = [readable_site(token, site).id] if site else [s.id for s in readable_sites(token)]
    settled = timezone.now() - timedelta(seconds=SETTLE_SECONDS)
    rows = list(
        JournalEntry.objects.filter(id__gt=after, site_id__in=sites, recorded_at__lte=settled)
        .order_by("id")[: limit + 1]
    )
    shown = rows[:limit]
    return JournalOut(entries=[entry_out(e) for e in shown],
                      next_cursor=shown[-1].pk if shown else after, more=len(rows) > limit)


def register(router) -> None:
    router.read("/journal/", response=JournalOut, summary="Alarm journal since a cursor")(journal)
