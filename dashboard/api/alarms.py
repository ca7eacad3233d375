"""GET /api/v1/sites/{site_id}/alarms/: a site's active alarms, shelved ones marked."""

from __future__ import annotations

from datetime import datetime

from django.http import HttpRequest

from dashboard.api.auth import token_of
from dashboard.api.health import health_out
from dashboard.api.reading import read_sites, readable_site
from dashboard.api.schemas import AlarmOut, AlarmsOut, ShelvedOut
from wincc_bridge.models import Alarm, utcnow
from wincc_ingest import codec

TAG = "alarms"


def _shelved(note: codec.AlarmNote | None, now: datetime) -> ShelvedOut | None:
    shelf = note.shelf if note else None
    if shelf is None or shelf.until <= now:  # over: beat ends it within seconds
        return None
    return ShelvedOut(by=shelf.by, reason=shelf.reason, since=shelf.since, until=shelf.until,
                      in_wincc=shelf.in_wincc)


def alarm_out(alarm: Alarm, note: codec.AlarmNote | None, now: datetime) -> AlarmOut:
    return AlarmOut(
        name=alarm.name, instance_id=alarm.instance_id, state=alarm.state.value,
        priority=alarm.priority, alarm_class=alarm.alarm_class, event_text=alarm.event_text,
        info_text=alarm.info_text, area=alarm.area, raise_time=alarm.raise_time,
        ack_time=alarm.ack_time, clear_time=alarm.clear_time,
        acknowledged_by=alarm.acknowledged_by, shelved=_shelved(note, now),
    )


def site_alarms(request: HttpRequest, site_id: str) -> AlarmsOut:
    """The site's active alarms, newest first, as the poller last read them; a shelved one
    carries who shelved it, why and until when. When `alarm_list` is false the site has
    no alarm list and `note` says why (an empty list then says nothing)."""
    site = readable_site(token_of(request), site_id)
    now = utcnow()
    state = read_sites([codec.SiteRead(site.id, values=False)], now)[site.id]
    note = state.alarm_list_note()
    alarms = sorted(state.alarms.values(),
                    key=lambda a: (a.raise_time is not None, a.raise_time or now, a.instance_id),
                    reverse=True)
    return AlarmsOut(
        site=site.id, health=health_out(state, now), alarm_list=not note, note=note,
        alarms=[alarm_out(a, state.notes.get(a.key), now) for a in alarms],
    )


def register(router) -> None:
    router.read("/sites/{site_id}/alarms/", response=AlarmsOut,
                summary="Active alarms of a site")(site_alarms)
