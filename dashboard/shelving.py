"""Shelve one alarm occurrence for a time with a reason, unshelve it by hand, and end it when
its time is up (ISA-18.2 shelving).

Every step is an audit row and a journal row. On a server that shelves (WinCC Unified) the
shelve and the unshelve are sent with the read-write API user, for the chosen time, so WinCC
ends it by itself at the same moment beat ends it here. Elsewhere the dashboard shelves on
its own side: the alarm stays active (and unacknowledged) in WinCC.

A lost answer is never recorded as failed: the alarm is read back at once with the read-only
user; if that cannot tell, the row stays "unknown" and nothing is recorded as shelved (WinCC's
own list, polled, then shows the alarm shelved if the call did happen).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta

import redis
from django.conf import settings
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from dashboard import permissions
from dashboard.alarm_notes import (
    SYSTEM,
    NotPermitted,
    Occurrence,
    Result,
    audit,
    journal,
    live_alarm,
    publish_note,
    rank,
    refusal,
    running_shelving,
)
from dashboard.models import AuditEntry, JournalEntry, Shelving
from dashboard.siteconfig import get_config
from dashboard.step_messages import (
    NOTHING_READABLE,
    Moment,
    StepMessage,
    state_word,
    unknown_site,
)
from wincc_bridge.client import AuthError, WinCCError, open_client
from wincc_bridge.models import Alarm, AlarmState
from wincc_ingest import codec
from wincc_ingest.config import SiteConfig

log = logging.getLogger(__name__)

SHELVE, UNSHELVE, EXPIRE = "shelve", "unshelve", "shelve-expired"
LOST = _("WinCC's answer was lost")
READ_BACK = StepMessage(_("%(lost)s; read back from WinCC."), lost=LOST)


@dataclass(frozen=True)
class Outcome:
    """The audit row (its message in English) and the sentence the person reads."""

    entry: AuditEntry
    message: StepMessage

    @property
    def ok(self) -> bool:
        return self.entry.result == Result.OK


class UnknownSite(Exception):
    """The site is not in the configuration (recorded)."""


def max_minutes() -> int:
    return settings.ALARM_SHELVE_MAX_MINUTES


def why_not_shelvable(alarm: Alarm) -> StepMessage | None:
    """A plain sentence when the alarm's priority may never be shelved, else None."""
    if rank(alarm.priority) in settings.ALARM_NEVER_SHELVE_PRIORITIES:
        return StepMessage(_("Priority %(rank)s alarms may never be shelved; nothing was sent "
                             "to WinCC."), rank=rank(alarm.priority))
    return None


def _site(user, occ: Occurrence, action: str) -> SiteConfig:
    if not permissions.can_shelve(user, occ.site_id):
        refusal(user, occ, action, Result.DENIED,
                StepMessage(_("No permission to shelve alarms on this site.")))
        raise NotPermitted(occ.site_id)
    site = get_config().site(occ.site_id)
    if site is None:
        refusal(user, occ, action, Result.ERROR, unknown_site(occ.site_id))
        raise UnknownSite(occ.site_id)
    return site


def shelve(user, occ: Occurrence, minutes: int, reason: str,
           now: datetime | None = None) -> Outcome:
    """Shelve the active occurrence for `minutes` with `reason` (both checked by the form).
    Raises NotPermitted or UnknownSite, each recorded."""
    site = _site(user, occ, SHELVE)
    now = now or timezone.now()

    def refuse(result: str, message: StepMessage, alarm: Alarm | None = None) -> Outcome:
        return Outcome(audit(user, occ, SHELVE, result, message, comment=reason, alarm=alarm),
                       message)

    try:
        alarm = live_alarm(occ.site_id, occ.name, occ.instance_id)
    except (redis.RedisError, codec.StoredDataError) as exc:
        log.warning("shelve %s: alarm state unreadable: %s", occ, exc)
        return refuse(Result.ERROR, StepMessage(NOTHING_READABLE))
    if alarm is None:
        return refuse(Result.STALE, StepMessage(
            _("%(name)s is no longer active; nothing was sent to WinCC."), name=occ.name))
    never = why_not_shelvable(alarm)
    if never:
        return refuse(Result.ERROR, never, alarm)
    running = running_shelving(occ.site_id, occ.name, occ.instance_id)
    if running is not None:
        return refuse(Result.DUPLICATE, StepMessage(
            _("Already shelved by %(person)s until %(until)s UTC; nothing was sent."),
            person=running.username, until=Moment(running.until, "%H:%M", "H:i")), alarm)
    in_wincc = site.capabilities().shelve
    if in_wincc:
        result, message = _call(site, SHELVE, occ.name, minutes * 60)
        lost = result == Result.UNKNOWN
        if lost:
            result, message = _read_back(site, occ, message, shelved=True)
        if result != Result.OK:
            return refuse(result, message, alarm)
        message = StepMessage(
            _("Shelved in WinCC for %(minutes)s min (%(lost)s; read back from WinCC).") if lost
            else _("Shelved in WinCC for %(minutes)s min."), minutes=minutes, lost=LOST)
    else:
        message = StepMessage(_("Shelved here for %(minutes)s min; still active in WinCC."),
                              minutes=minutes)
    until = now + timedelta(minutes=minutes)
    shelving = Shelving.objects.create(
        site_id=occ.site_id, alarm_name=occ.name, instance_id=occ.instance_id,
        priority=alarm.priority, event_text=alarm.event_text, user=user,
        username=user.get_username(), reason=reason, since=now, until=until, in_wincc=in_wincc,
    )
    recorded = StepMessage(_("%(shelved)s Until %(until)s UTC."), shelved=message,
                           until=Moment(until, "%Y-%m-%d %H:%M", "d.m.Y H:i"))
    entry = audit(user, occ, SHELVE, Result.OK, recorded, comment=reason, alarm=alarm)
    journal(occ, JournalEntry.Transition.SHELVED, now, actor=shelving.username,
            comment=reason, alarm=alarm, tag=f":{shelving.pk}")
    publish_note(occ.site_id, occ.name, occ.instance_id)
    return Outcome(entry, message)


def unshelve(user, occ: Occurrence, now: datetime | None = None) -> Outcome:
    """End the occurrence's shelving by hand. Raises NotPermitted or UnknownSite."""
    site = _site(user, occ, UNSHELVE)
    now = now or timezone.now()
    shelving = running_shelving(occ.site_id, occ.name, occ.instance_id)
    if shelving is None:
        message = StepMessage(_("%(name)s is not shelved; nothing was sent to WinCC."),
                              name=occ.name)
        return Outcome(audit(user, occ, UNSHELVE, Result.STALE, message), message)
    if shelving.in_wincc:
        result, message = _call(site, UNSHELVE, occ.name, 0)
        if result == Result.UNKNOWN:
            result, message = _read_back(site, occ, message, shelved=False)
        if result != Result.OK:
            return Outcome(audit(user, occ, UNSHELVE, result, message), message)
    message = StepMessage(_("Unshelved in WinCC.") if shelving.in_wincc
                          else _("Unshelved here."))
    _end(shelving, Shelving.End.UNSHELVED, user.get_username(), now)
    return Outcome(audit(user, occ, UNSHELVE, Result.OK, message), message)


def expire_due(now: datetime | None = None) -> int:
    """End every shelving whose time is up (beat, every ALARM_SHELVE_EXPIRY_SECONDS); how
    many ended. Nothing is sent: WinCC, told the same time, ends its own shelving."""
    now = now or timezone.now()
    ended = 0
    for shelving in Shelving.objects.filter(ended_at__isnull=True, until__lte=now):
        occ = Occurrence(shelving.site_id, shelving.alarm_name, shelving.instance_id)
        _end(shelving, Shelving.End.EXPIRED, "", now)
        audit(None, occ, EXPIRE, Result.OK,
              StepMessage(_("Shelving by %(person)s ended: its time was up (%(until)s UTC)."),
                          person=shelving.username,
                          until=Moment(shelving.until, "%Y-%m-%d %H:%M", "d.m.Y H:i")),
              comment=shelving.reason)
        ended += 1
    return ended


def _end(shelving: Shelving, end: str, by: str, now: datetime) -> None:
    shelving.finish(end, by, now)
    occ = Occurrence(shelving.site_id, shelving.alarm_name, shelving.instance_id)
    actor = by or SYSTEM
    why = "shelving time over" if end == Shelving.End.EXPIRED else "unshelved by hand"
    try:
        alarm = live_alarm(occ.site_id, occ.name, occ.instance_id)
    except (redis.RedisError, codec.StoredDataError):
        alarm = None
    journal(occ, JournalEntry.Transition.UNSHELVED, now, actor=actor, comment=why, alarm=alarm,
            priority=shelving.priority, event_text=shelving.event_text, tag=f":{shelving.pk}")
    publish_note(occ.site_id, occ.name, occ.instance_id)


def _call(site: SiteConfig, action: str, name: str, seconds: float
          ) -> tuple[str, StepMessage]:
    """(result, message) of one shelve or unshelve call with the read-write API user."""
    try:
        with open_client(site.connection(write=True)) as client:
            results = (client.shelve([name], seconds) if action == SHELVE
                       else client.unshelve([name]))
    except AuthError as exc:
        return Result.REFUSED, StepMessage(_(
            "WinCC refused the login of the read-write API user: %(error)s"), error=exc)
    except WinCCError as exc:
        if exc.sent:
            return Result.UNKNOWN, StepMessage("%(lost)s (%(error)s)", lost=LOST, error=exc)
        return Result.ERROR, StepMessage(_("WinCC could not be reached: %(error)s"), error=exc)
    if results and results[0].ok:
        return Result.OK, StepMessage("")
    if not results:
        return Result.REFUSED, StepMessage(_("WinCC refused: no result for this alarm"))
    return Result.REFUSED, StepMessage(_("WinCC refused: %(error)s"), error=results[0].error)


def _read_back(site: SiteConfig, occ: Occurrence, lost: StepMessage, *, shelved: bool
               ) -> tuple[str, StepMessage]:
    """Settle a lost answer from what WinCC shows now (read-only user)."""
    try:
        with open_client(site.connection()) as client:
            alarms = client.active_alarms()
    except WinCCError as exc:
        log.info("read-back of %s after a lost answer: %s", occ, exc)
        return Result.UNKNOWN, StepMessage(_(
            "%(lost)s; WinCC cannot be read back now. The alarm list shows WinCC's state at "
            "the next poll."), lost=lost)
    found = next((a for a in alarms if (a.name, a.instance_id) == (occ.name, occ.instance_id)),
                 None)
    if found is None:
        return Result.STALE, StepMessage(_("%(lost)s; the alarm has left WinCC's list."),
                                         lost=LOST)
    if (found.state == AlarmState.SHELVED) == shelved:
        return Result.OK, READ_BACK
    return Result.ERROR, StepMessage(
        _("Not shelved (%(lost)s: WinCC shows it %(state)s).") if shelved
        else _("Not unshelved (%(lost)s: WinCC shows it %(state)s)."),
        lost=LOST, state=state_word(found.state))
