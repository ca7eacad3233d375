"""What the dashboard itself records about an alarm occurrence, beside WinCC's own state:
comments, its shelving here, and the audit and journal rows of those steps.

The database is the record (AlarmComment, Shelving, AuditEntry, JournalEntry). Every screen
reads the alarms from Redis, so after each change the occurrence's note (codec.AlarmNote:
the running shelving and the newest comments) is written again from the database to
store.site_notes and a change is published: the live lists re-render as after a poll.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime

import redis
from django.conf import settings
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from dashboard import occurrences, permissions
from dashboard.models import AlarmComment, AuditEntry, JournalEntry, Shelving
from dashboard.redis_client import sync_redis
from dashboard.refusals import ANONYMOUS, summarised_refusal
from dashboard.step_messages import StepMessage, english
from wincc_bridge.models import Alarm, PriorityBand, alarm_key
from wincc_ingest import codec, store

log = logging.getLogger(__name__)

Result = AuditEntry.Result

COMMENT_MAX = 1000
# Comments a live row shows; the occurrence page shows all.
NOTE_COMMENTS = 3
# The dashboard's priority ranks: 1 is the most urgent (docs/actions.md).
RANKS = {
    PriorityBand.HIGHEST: 1, PriorityBand.HIGH: 2, PriorityBand.MEDIUM: 3, PriorityBand.LOW: 4,
    PriorityBand.NONE: 5,
}
SYSTEM = "(system)"


def rank(priority: int) -> int:
    """Priority rank 1-5 of a WinCC priority 0-16."""
    return RANKS[PriorityBand.of(priority)]


# How an acknowledgement came about, worded once for every place that shows it (alarm list,
# occurrence page, its history, the audit export and the acknowledge answers).
VIA_DASHBOARD, IN_WINCC = "dashboard", "WinCC"
_IN_WINCC_WORDS = "in WinCC"


def acknowledgement(person: str = "", wincc_user: str = "", writer: str = ""
                    ) -> StepMessage | None:
    """"by alice via the dashboard" (`person`: who acknowledged through the dashboard), or
    "by op1 in WinCC" (`wincc_user`: the user WinCC names, at the WinCC station); WinCC naming
    the site's read-write API user (`writer`) means the dashboard did it, for someone."""
    if person:
        return StepMessage(_("by %(person)s via the dashboard"), person=person)
    if wincc_user and wincc_user == writer:
        return StepMessage(_("via the dashboard"))
    if wincc_user:
        # The record's words are what `via` looks for (_IN_WINCC_WORDS).
        return StepMessage(_("by %(person)s in WinCC"), person=wincc_user)
    return None


def acknowledged_by(person: str = "", wincc_user: str = "", writer: str = "") -> str:
    """`acknowledgement` in the active language; "" when nobody is known."""
    said = acknowledgement(person, wincc_user, writer)
    return str(said) if said else ""


def via(entry: AuditEntry) -> str:
    """The audit export's "via" of a row: WinCC when the row reports an acknowledgement
    someone made at the WinCC station (found already acknowledged there), else the dashboard
    (the row's step was made, or tried, through it)."""
    elsewhere = entry.result == Result.DUPLICATE and f" {_IN_WINCC_WORDS}" in entry.message
    return IN_WINCC if elsewhere else VIA_DASHBOARD


def comment_required(alarm: Alarm) -> bool:
    """Acknowledging the alarm needs a comment (ALARM_COMMENT_REQUIRED_PRIORITIES)."""
    return rank(alarm.priority) in settings.ALARM_COMMENT_REQUIRED_PRIORITIES


@dataclass(frozen=True)
class Occurrence:
    """One alarm occurrence as a request names it, with who asks and from where."""

    site_id: str
    name: str
    instance_id: int
    remote_addr: str = ""
    device: str = ""

    @property
    def key(self) -> str:
        return alarm_key(self.name, self.instance_id)


class NotPermitted(Exception):
    """The person may not do this on the site (recorded as denied)."""


def audit(user, occ: Occurrence, action: str, result: str, message: str | StepMessage, *,
          comment: str = "", alarm: Alarm | None = None) -> AuditEntry:
    """One final audit row for a step that is not an acknowledgement (its message recorded
    in English)."""
    signed_in = user is not None and user.is_authenticated
    state = alarm.state.value if alarm else ""
    return AuditEntry.objects.create(
        user=user if signed_in else None,
        username=user.get_username() if signed_in else (SYSTEM if user is None else
                                                        ANONYMOUS),
        action=action, remote_addr=occ.remote_addr, device=occ.device, site_id=occ.site_id,
        alarm_name=occ.name, instance_id=occ.instance_id, state_before=state, state_after=state,
        result=result, message=english(message), comment=comment, completed_at=timezone.now(),
    )


def refusal(user, occ: Occurrence, action: str, result: str, message: str | StepMessage, *,
            comment: str = "") -> AuditEntry:
    """A refused step (no permission, a malformed request, an unknown site): an audit row,
    or counted on a summary row in a burst (dashboard.refusals)."""
    return summarised_refusal(user, occ.remote_addr, result, english(message),
                              lambda: audit(user, occ, action, result, message, comment=comment))


def journal(occ: Occurrence, transition: str, at: datetime, *, actor: str, comment: str,
            alarm: Alarm | None = None, priority: int = 0, event_text: str = "",
            tag: str = "") -> JournalEntry:
    """A transition the dashboard made itself (shelved here, unshelved, expired, commented),
    and its occurrence's summary with it."""
    with transaction.atomic():
        entry = JournalEntry.objects.create(
            key=f"{occ.site_id}|{occ.key}|{transition}|{codec.iso(at)}|dashboard{tag}",
            site_id=occ.site_id, alarm_name=occ.name, instance_id=occ.instance_id,
            transition=transition, at=at, state=alarm.state.value if alarm else "",
            priority=alarm.priority if alarm else priority,
            alarm_class=alarm.alarm_class if alarm else "",
            event_text=alarm.event_text if alarm else event_text,
            area=alarm.area if alarm else "", actor=actor, comment=comment,
        )
        occurrences.apply([entry])
    return entry


def live_alarm(site_id: str, name: str, instance_id: int) -> Alarm | None:
    """The occurrence as the last poll stored it; None when it is not active.
    Raises redis.RedisError or codec.StoredDataError when that cannot be read."""
    raw = sync_redis().hget(store.site_alarms(site_id), alarm_key(name, instance_id))
    return codec.decode_alarm(raw) if raw is not None else None


def running_shelving(site_id: str, name: str, instance_id: int) -> Shelving | None:
    return Shelving.objects.filter(
        site_id=site_id, alarm_name=name, instance_id=instance_id, ended_at__isnull=True
    ).first()


def acknowledged_here(site_id: str, name: str, instance_id: int) -> str:
    """Who last acknowledged the occurrence through the dashboard ("" if nobody did)."""
    return AuditEntry.objects.filter(
        action="acknowledge", result=Result.OK, site_id=site_id, alarm_name=name,
        instance_id=instance_id).values_list("username", flat=True).first() or ""


def note_of(site_id: str, name: str, instance_id: int) -> codec.AlarmNote | None:
    """The occurrence's note from the database; None when there is nothing to show."""
    shelving = running_shelving(site_id, name, instance_id)
    comments = AlarmComment.objects.filter(
        site_id=site_id, alarm_name=name, instance_id=instance_id)
    count = comments.count()
    acknowledged = acknowledged_here(site_id, name, instance_id)
    if shelving is None and not count and not acknowledged:
        return None
    newest = list(comments.order_by("-created_at", "-id")[:NOTE_COMMENTS])[::-1]
    shelf = None if shelving is None else codec.Shelf(
        by=shelving.username, reason=shelving.reason, since=shelving.since,
        until=shelving.until, in_wincc=shelving.in_wincc)
    return codec.AlarmNote(
        shelf=shelf,
        comments=tuple(codec.NoteComment(c.username, c.created_at, c.text) for c in newest),
        comment_count=count,
        acknowledged_by=acknowledged,
    )


def publish_note(site_id: str, name: str, instance_id: int) -> None:
    """Write the occurrence's note to Redis and tell the live hub; never fails the caller
    (the database holds the record; the next change writes the note again)."""
    note = note_of(site_id, name, instance_id)
    key = alarm_key(name, instance_id)
    try:
        pipe = sync_redis().pipeline(transaction=True)
        if note is None:
            pipe.hdel(store.site_notes(site_id), key)
        else:
            pipe.hset(store.site_notes(site_id), key, codec.encode_note(note))
        pipe.publish(store.CHANGES_CHANNEL, codec.encode_change(codec.Change(site_id,
                                                                            alarms=True)))
        pipe.execute()
    except redis.RedisError as exc:
        log.warning("note of %s on %s not written: %s", key, site_id, exc)


def add_comment(user, occ: Occurrence, text: str, *, kind: str = "comment") -> AlarmComment:
    """Append a comment (checked by the caller, or by `comment`)."""
    made = AlarmComment.objects.create(
        site_id=occ.site_id, alarm_name=occ.name, instance_id=occ.instance_id, user=user,
        username=user.get_username(), text=text, kind=kind,
    )
    try:
        alarm = live_alarm(occ.site_id, occ.name, occ.instance_id)
    except (redis.RedisError, codec.StoredDataError):
        alarm = None
    journal(occ, JournalEntry.Transition.COMMENTED, made.created_at, actor=made.username,
            comment=text, alarm=alarm, tag=f":comment:{made.pk}")
    publish_note(occ.site_id, occ.name, occ.instance_id)
    return made


COMMENT_ADDED = StepMessage(_("Comment added."))


def comment(user, occ: Occurrence, text: str) -> AuditEntry:
    """A person's comment on an occurrence, at any time (append-only). Raises NotPermitted."""
    if not permissions.can_comment(user, occ.site_id):
        refusal(user, occ, "comment", Result.DENIED,
                StepMessage(_("No permission to comment on this site.")),
                comment=text[:COMMENT_MAX])
        raise NotPermitted(occ.site_id)
    add_comment(user, occ, text)
    return audit(user, occ, "comment", Result.OK, COMMENT_ADDED, comment=text)


def prune_notes(site_ids: list[str]) -> int:
    """Drop the notes of occurrences that left WinCC's active list and are not shelved here:
    no list shows them any more (the database keeps their comments). How many were dropped."""
    dropped = 0
    try:
        r = sync_redis()
        for site_id in site_ids:
            notes = codec.decode_notes(r.hgetall(store.site_notes(site_id)))
            active = set(r.hkeys(store.site_alarms(site_id)))
            gone = [key for key, note in notes.items() if key not in active and note.shelf is None]
            if gone:
                dropped += r.hdel(store.site_notes(site_id), *gone)
    except redis.RedisError as exc:
        log.warning("alarm notes not pruned: %s", exc)
    return dropped
