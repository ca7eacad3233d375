"""Acknowledge one alarm for one person: check, record, call WinCC once, record the outcome.

The view only adapts HTTP to `acknowledge()`. Order matters and is the point of this module:
the permission is checked before anything else, the audit row exists (pending) before WinCC
hears of it, and a Redis lock per alarm makes a double click or two operators one call.

When WinCC's answer is lost after the request reached it (malformed, cut off, a read timeout,
a dropped connection) the acknowledgement may have happened: the row says "unknown" and is
settled by reading the alarm back with the read-only user, at once and, if that cannot tell,
at the next poll (`settle`, run by the Celery task `settle_acknowledgement`). Never "failed"
on a guess.

After WinCC acknowledged, its alarm list is read again at once and the acknowledged alarms are
recorded as WinCC shows them through the poller's push path (`show_acknowledged`), before the
page is answered: every screen shows them acknowledged without waiting for a poll, and the
live update never redraws the row from the list before the acknowledgement.
"""

from __future__ import annotations

import dataclasses
import logging
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import redis
from django.utils import timezone
from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _

from dashboard import alarm_notes, permissions
from dashboard.celery import request_poll, request_settle
from dashboard.models import AuditEntry
from dashboard.panels.alarm_list import due_rows
from dashboard.redis_client import sync_redis
from dashboard.refusals import ANONYMOUS, summarised_refusal
from dashboard.siteconfig import get_config
from dashboard.step_messages import (
    NOTHING_READABLE,
    StepMessage,
    english,
    state_word,
    unknown_site,
)
from wincc_bridge.client import AuthError, ConnectError, NotSupportedError, WinCCError, open_client
from wincc_bridge.models import Alarm, AlarmState, alarm_key
from wincc_ingest import codec, store
from wincc_ingest.config import SiteConfig

log = logging.getLogger(__name__)

Result = AuditEntry.Result

# What a successful acknowledgement turns each state into (ISA-18.2 B->C, D->A, latched).
ACKNOWLEDGED_STATE = {
    AlarmState.UNACKNOWLEDGED: AlarmState.ACKNOWLEDGED,
    AlarmState.RETURNED_UNACKNOWLEDGED: AlarmState.NORMAL,
    AlarmState.LATCHED_UNACKNOWLEDGED: AlarmState.LATCHED_ACKNOWLEDGED,
}
_ALREADY_ACKNOWLEDGED = {AlarmState.ACKNOWLEDGED, AlarmState.LATCHED_ACKNOWLEDGED}

# After success the lock stays this many poll intervals, until the poller has seen the change.
DONE_INTERVALS = 3

# What the person and the audit row say while an unknown outcome is being read back.
CHECKING = _("WinCC's answer was lost; checking the alarm in WinCC...")
# After it, when the call failed in the dashboard itself.
CALL_FAILED = StepMessage(_("%(checking)s (The call failed; see the server log.)"),
                          checking=CHECKING)
NOT_PERMITTED = StepMessage(_("No permission to acknowledge on this site."))
# Read-backs at the next polls before an outcome stays unknown (the pauses double, to a minute).
SETTLE_ATTEMPTS = 8
SETTLE_PAUSE_MAX = 60.0

# The alarm name on the row of a refused "acknowledge all shown" (no one alarm).
ALL_SHOWN = "(all shown)"
# Refusals from one address per minute before the answer becomes 429 Too Many Requests.
REFUSALS_PER_MINUTE = 10


@dataclass(frozen=True)
class AckRequest:
    """One person's request, as the view parsed it."""

    site_id: str
    name: str
    instance_id: int
    seen_state: AlarmState
    comment: str = ""
    remote_addr: str = ""
    device: str = ""


@dataclass(frozen=True)
class AckOutcome:
    """What to answer: the audit row, the alarm to show (None if unknown) and a plain line
    (recorded in English on the row, read in the person's language)."""

    entry: AuditEntry
    alarm: Alarm | None
    message: StepMessage

    @property
    def ok(self) -> bool | None:
        """True when acknowledged, False when refused or failed, None when nothing was due."""
        if self.entry.result == Result.OK:
            return True
        if self.entry.result in (Result.DUPLICATE, Result.STALE, Result.UNKNOWN):
            return None
        return False

    @property
    def checking(self) -> bool:
        """WinCC's answer was lost and the outcome is still being read back."""
        return self.entry.result == Result.UNKNOWN


class NotPermitted(Exception):
    """The person may not acknowledge on the site."""


class UnknownSite(Exception):
    """The site is not in the configuration."""


def _record(user, req: AckRequest, result: str, message: str | StepMessage,
            alarm: Alarm | None = None) -> AuditEntry:
    """A new row. One final from the start records the alarm's unchanged state after, and no
    completion time: completed_at is when a pending row got its result."""
    final = result != Result.PENDING
    return AuditEntry.objects.create(
        user=user if user.is_authenticated else None,
        username=user.get_username() if user.is_authenticated else ANONYMOUS,
        remote_addr=req.remote_addr,
        device=req.device,
        site_id=req.site_id,
        alarm_name=req.name,
        instance_id=req.instance_id,
        state_before=alarm.state.value if alarm else "",
        state_after=alarm.state.value if alarm and final else "",
        result=result,
        message=english(message),
        comment=req.comment,
    )


def record_refusal(user, req: AckRequest, result: str, message: StepMessage) -> AuditEntry:
    """An attempt stopped before any alarm was looked at: no permission, a malformed
    request, an unknown site; summarised in a burst (dashboard.refusals)."""
    return summarised_refusal(
        user, req.remote_addr, result, message.english,
        lambda: _record(user, req, result, message),
    )


def refusal_limit(address: str) -> int | None:
    """Count one refusal from `address`; the seconds to wait (for Retry-After) once it is
    over REFUSALS_PER_MINUTE, else None. Without Redis nothing is limited."""
    key = store.ack_refusals(address)
    try:
        r = sync_redis()
        pipe = r.pipeline()
        pipe.incr(key)
        pipe.ttl(key)
        count, ttl = pipe.execute()
        if int(ttl) < 0:  # the minute starts with this refusal
            r.expire(key, 60)
            ttl = 60
    except redis.RedisError as exc:
        log.warning("refusals from %s not counted: %s", address, exc)
        return None
    if int(count) <= REFUSALS_PER_MINUTE:
        return None
    return max(1, int(ttl))


def acknowledge(user, req: AckRequest) -> AckOutcome:
    """Acknowledge `req` for `user`. Raises NotPermitted (recorded as denied) when the user
    may not acknowledge on the site and UnknownSite (recorded) when the site does not exist."""
    if not permissions.can_acknowledge(user, req.site_id):
        record_refusal(user, req, Result.DENIED, NOT_PERMITTED)
        raise NotPermitted(req.site_id)
    site = get_config().site(req.site_id)
    if site is None:
        record_refusal(user, req, Result.ERROR, unknown_site(req.site_id))
        raise UnknownSite(req.site_id)

    r = sync_redis()
    try:
        raw = r.hget(store.site_alarms(site.id), alarm_key(req.name, req.instance_id))
        alarm = codec.decode_alarm(raw) if raw is not None else None
    except (redis.RedisError, codec.StoredDataError) as exc:
        log.warning("acknowledge %s: alarm state unreadable: %s", req, exc)
        message = StepMessage(NOTHING_READABLE)
        return AckOutcome(_record(user, req, Result.ERROR, message), None, message)

    if alarm is None:
        message = StepMessage(_("%(name)s is no longer active; nothing was sent."),
                              name=req.name)
        return AckOutcome(_record(user, req, Result.STALE, message), None, message)
    prepared = _prepare(user, site, r, req, alarm)
    if isinstance(prepared, AckOutcome):
        return prepared
    sending = prepared
    try:
        result, message = _call_wincc(site, req)
    except Exception:  # a bug must still complete the row and free the lock
        log.exception("acknowledge %s failed unexpectedly", req)
        # It may have failed after the request left: only WinCC can say what happened.
        result, message = Result.UNKNOWN, CALL_FAILED
    shown = result == Result.OK and show_acknowledged(site, [req])
    outcome = _complete(user, site, r, sending, result, message)
    if outcome.ok and not shown:
        request_poll(site.id)
    return outcome


def _prepare(user, site: SiteConfig, r: redis.Redis, req: AckRequest, alarm: Alarm
             ) -> _Sending | AckOutcome:
    """Take the alarm's lock and write the pending row; or the answer when nothing is sent."""
    refusal = _not_sendable(site, req, alarm, _done_by(r, site, req)
                            if alarm.state in _ALREADY_ACKNOWLEDGED else "")
    if refusal:
        result, message = refusal
        return AckOutcome(_record(user, req, result, message, alarm), alarm, message)
    lock = store.alarm_ack_lock(site.id, req.name, req.instance_id)
    holder = codec.AckHolder(user.get_username())
    ttl = math.ceil(site.timeout * 4) + 5  # above a login plus the call, each up to timeout
    try:
        taken = r.set(lock, codec.encode_ack_holder(holder), nx=True, ex=ttl)
        current = None if taken else r.get(lock)
    except redis.RedisError as exc:
        log.warning("acknowledge %s: lock unavailable: %s", req, exc)
        message = StepMessage(_("The acknowledgement lock cannot be taken right now; nothing "
                                "was sent to WinCC."))
        return AckOutcome(_record(user, req, Result.ERROR, message, alarm), alarm, message)
    if not taken:
        return _duplicate(user, req, alarm, current)
    return _Sending(req, alarm, _record(user, req, Result.PENDING, "", alarm), lock, holder)


@dataclass(frozen=True)
class _Sending:
    """One alarm whose lock is taken and whose pending row is written: WinCC is next."""

    req: AckRequest
    alarm: Alarm
    entry: AuditEntry
    lock: str
    holder: codec.AckHolder


def _complete(user, site: SiteConfig, r: redis.Redis, sending: _Sending, result: str,
              message: StepMessage) -> AckOutcome:
    """Record WinCC's answer for one alarm (reading it back when the answer was lost), settle
    its lock, and say what to show."""
    req, alarm, entry = sending.req, sending.alarm, sending.entry
    if result == Result.UNKNOWN:
        entry.record_result(Result.UNKNOWN, message=message.english)
        settlement = read_back(site, entry, final=False)
        if settlement is None:
            request_settle(site.id, entry.pk, countdown=settle_pause(site, 1))
            # The lock stays ("being acknowledged") until it expires or the row is settled.
            return AckOutcome(entry, dataclasses.replace(alarm, can_acknowledge=False), message)
        result, message, after = settlement
        entry.settle(result, message=message.english, state_after=after.value)
    else:
        after = ACKNOWLEDGED_STATE[alarm.state] if result == Result.OK else alarm.state
        entry.record_result(result, message=message.english, state_after=after.value)
    _settle_lock(r, sending.lock, sending.holder, ok=result == Result.OK,
                 keep=site.poll_interval)
    if result != Result.OK:
        shown = dataclasses.replace(alarm, state=after, can_acknowledge=(
            alarm.can_acknowledge and after.needs_acknowledgement))
        return AckOutcome(entry, shown, message)
    if req.comment:
        alarm_notes.add_comment(user, alarm_notes.Occurrence(req.site_id, req.name,
                                                             req.instance_id),
                                req.comment, kind="acknowledge")
    else:  # the rows say who acknowledged it here (the comment's note says it too)
        alarm_notes.publish_note(req.site_id, req.name, req.instance_id)
    shown = dataclasses.replace(
        alarm, state=after, can_acknowledge=False, ack_time=entry.settled_at or entry.completed_at,
        acknowledged_by=user.get_username(),
    )
    return AckOutcome(entry, shown, message)


class ListChanged(Exception):
    """The list no longer shows what the person confirmed (recorded); nothing was sent.
    Its argument is the StepMessage to show."""


def acknowledge_all(user, site_id: str, filters: Mapping[str, str], confirmed: int,
                    remote_addr: str = "", device: str = "") -> list[AckOutcome]:
    """Acknowledge every row the site's list shows with `filters`, after the person confirmed
    `confirmed` of them: one audit row per alarm, one call for all where the dialect takes
    many. Raises NotPermitted, UnknownSite or ListChanged (each recorded)."""
    whole = AckRequest(site_id, ALL_SHOWN, 0, AlarmState.NORMAL, remote_addr=remote_addr,
                       device=device)
    if not permissions.can_acknowledge(user, site_id):
        record_refusal(user, whole, Result.DENIED, NOT_PERMITTED)
        raise NotPermitted(site_id)
    site = get_config().site(site_id)
    if site is None:
        record_refusal(user, whole, Result.ERROR, unknown_site(site_id))
        raise UnknownSite(site_id)
    r = sync_redis()
    try:
        data = codec.read_site(r, codec.SiteRead(site_id, values=False, health=False),
                               timezone.now())
    except redis.RedisError as exc:
        log.warning("acknowledge all on %s: alarms unreadable: %s", site_id, exc)
        message = StepMessage(NOTHING_READABLE)
        _record(user, whole, Result.ERROR, message)
        raise ListChanged(message) from None
    here = {(site_id, key) for key, note in data.notes.items() if note.shelf is not None}
    due = due_rows(list(data.alarms.values()), filters, here,
                   site.capabilities().can_acknowledge)
    if len(due) != confirmed:
        message = StepMessage(_(
            "The list changed: %(now)s alarms await acknowledgement now, not %(confirmed)s. "
            "Nothing was sent; look at the list and confirm again."),
            now=len(due), confirmed=confirmed)
        _record(user, whole, Result.STALE, message)
        raise ListChanged(message)
    outcomes: list[AckOutcome] = []
    sending: list[_Sending] = []
    for alarm in due:
        req = AckRequest(site_id, alarm.name, alarm.instance_id, alarm.state,
                         remote_addr=remote_addr, device=device)
        prepared = _prepare(user, site, r, req, alarm)
        if isinstance(prepared, AckOutcome):
            outcomes.append(prepared)
        else:
            sending.append(prepared)
    if sending:
        try:
            answers = _call_wincc_many(site, [s.req for s in sending])
        except Exception:  # a bug must still complete the rows and free the locks
            log.exception("acknowledge all on %s failed unexpectedly", site_id)
            answers = [(Result.UNKNOWN, CALL_FAILED)] * len(sending)
        done = [one.req for one, (result, _) in zip(sending, answers, strict=True)
                if result == Result.OK]
        shown = bool(done) and show_acknowledged(site, done)
        outcomes += [_complete(user, site, r, one, result, message)
                     for one, (result, message) in zip(sending, answers, strict=True)]
        if any(o.ok for o in outcomes) and not shown:
            request_poll(site_id)
    return outcomes


def show_acknowledged(site: SiteConfig, reqs: Sequence[AckRequest]) -> bool:
    """Right after WinCC acknowledged `reqs`: read the site's alarm list again (read-only
    user) and record those alarms as WinCC shows them now through the poller's push path
    (the site's lock, diff, Redis write, journal, triggers and PUBLISH of
    wincc_ingest.poller.SitePoller.record_push), so that every screen shows them without
    waiting for a poll. Only these alarms: the rest of the list stays the poller's. False
    when that could not be done; the caller then asks for an immediate poll."""
    from dashboard.tasks import pollers

    try:
        with open_client(site.connection()) as client:
            active = {alarm.key: alarm for alarm in client.active_alarms()}
        keys = [alarm_key(req.name, req.instance_id) for req in reqs]
        outcome = pollers().record_push(
            site.id,
            alarms=[active[key] for key in keys if key in active],
            # An acknowledged alarm that returned meanwhile has left the list.
            gone=[key for key in keys if key not in active],
            source="acknowledge",
        )
    except (WinCCError, redis.RedisError, codec.StoredDataError) as exc:
        log.info("acknowledged alarms of %s not read again: %s", site.id, exc)
        return False
    except Exception:  # the acknowledgement itself is done: its row must still complete
        log.exception("acknowledged alarms of %s not read again", site.id)
        return False
    if outcome.status != "ok":
        log.info("acknowledged alarms of %s not recorded: %s", site.id, outcome.error)
        return False
    return True


Settlement = tuple[str, StepMessage, AlarmState]  # result, message, state after


def read_back(site: SiteConfig, entry: AuditEntry, *, final: bool) -> Settlement | None:
    """The outcome of an unknown acknowledgement from what WinCC shows now (read-only user);
    None when WinCC cannot be read, or when it still shows the alarm unacknowledged and this
    is not the `final` look (a request that timed out may still be on its way)."""
    try:
        with open_client(site.connection()) as client:
            alarms = client.active_alarms()
    except WinCCError as exc:
        log.info("read-back of audit entry %s: %s", entry.pk, exc)
        return None
    found = next((a for a in alarms
                  if (a.name, a.instance_id) == (entry.alarm_name, entry.instance_id)), None)
    if found is None:
        # An alarm leaves the active list only once acknowledged (and cleared).
        return Result.OK, StepMessage(_(
            "Acknowledged (WinCC's answer was lost; read back from WinCC: the alarm has left "
            "its list).")), AlarmState.NORMAL
    if found.state.needs_acknowledgement:
        if not final:
            return None
        return Result.ERROR, StepMessage(_(
            "Not acknowledged (WinCC's answer was lost; read back from WinCC: the alarm is "
            "still %(state)s)."), state=state_word(found.state)), found.state
    # The read-write API user's name: no connection settings (nor secrets) needed for it.
    writer = site.write_user.username if site.write_user else ""
    by = found.acknowledged_by or ""
    if by and writer and by != writer:
        return Result.DUPLICATE, StepMessage(
            _("Acknowledged %(how)s, not by this request."),
            how=alarm_notes.acknowledgement(wincc_user=by, writer=writer)), found.state
    return Result.OK, StepMessage(_(
        "Acknowledged (WinCC's answer was lost; read back from WinCC).")), found.state


def settle_pause(site: SiteConfig, attempt: int) -> float:
    """Seconds before read-back `attempt` (1, 2, ...): the next poll, then doubling."""
    first = max(site.poll_interval, site.timeout)
    return float(min(first * 2 ** (attempt - 1), SETTLE_PAUSE_MAX))


def settle(entry_id: int, attempt: int) -> str:
    """One later read-back of an unknown row: settle it, or ask for the next attempt.
    Returns the row's result afterwards ("unknown" while not settled)."""
    entry = AuditEntry.objects.filter(pk=entry_id).first()
    if entry is None or entry.result != Result.UNKNOWN or entry.settled_at is not None:
        return entry.result if entry else "gone"
    site = get_config().site(entry.site_id)
    if site is None:
        log.warning("audit entry %s stays unknown: site %s left the configuration",
                    entry_id, entry.site_id)
        return entry.result
    settlement = read_back(site, entry, final=True)
    if settlement is None:
        if attempt < SETTLE_ATTEMPTS:
            request_settle(site.id, entry_id, countdown=settle_pause(site, attempt + 1),
                           attempt=attempt + 1)
        else:
            log.warning("audit entry %s stays unknown: WinCC could not be read back", entry_id)
        return entry.result
    result, message, after = settlement
    entry.settle(result, message=message.english, state_after=after.value)
    if result == Result.OK:
        alarm_notes.publish_note(site.id, entry.alarm_name, entry.instance_id)
    lock = store.alarm_ack_lock(site.id, entry.alarm_name, entry.instance_id)
    _settle_lock(sync_redis(), lock, codec.AckHolder(entry.username), ok=result == Result.OK,
                 keep=site.poll_interval)
    request_poll(site.id)
    return result


def _done_by(r: redis.Redis, site: SiteConfig, req: AckRequest) -> str:
    """Who acknowledged the alarm here a moment ago (its lock, kept "done"), or ""."""
    try:
        raw = r.get(store.alarm_ack_lock(site.id, req.name, req.instance_id))
    except redis.RedisError:
        return ""
    if raw is None:
        return ""
    holder = codec.decode_ack_holder(raw)
    return holder.user if holder.phase == "done" else ""


def _not_sendable(site: SiteConfig, req: AckRequest, alarm: Alarm, done_by: str = ""
                  ) -> tuple[str, StepMessage] | None:
    """(result, message) when there is nothing to send, else None. `done_by`: the person
    who acknowledged it here a moment ago."""
    if alarm.state in _ALREADY_ACKNOWLEDGED:
        writer = site.write_user.username if site.write_user else ""
        how = alarm_notes.acknowledgement(person=done_by, wincc_user=alarm.acknowledged_by or "",
                                          writer=writer)
        return Result.DUPLICATE, _already(how)
    if not alarm.state.needs_acknowledgement:
        return Result.STALE, StepMessage(_("No longer needs acknowledgement (%(state)s)."),
                                         state=state_word(alarm.state))
    if alarm_notes.comment_required(alarm) and not req.comment.strip():
        return Result.ERROR, StepMessage(_(
            "A comment is required to acknowledge a priority %(rank)s alarm; nothing was "
            "sent."), rank=alarm_notes.rank(alarm.priority))
    if alarm.state != req.seen_state:
        # Acknowledging means "seen": the person must see the state they acknowledge.
        return Result.STALE, StepMessage(_(
            "The alarm changed to %(state)s since you saw it; nothing was sent. Check it and "
            "acknowledge again."), state=state_word(alarm.state))
    capabilities = site.capabilities()
    if not capabilities.can_acknowledge(req.name):
        # The site's configuration says why, in its own (English) words.
        return Result.ERROR, StepMessage(capabilities.why_not_acknowledge(req.name))
    return None


def _already(how: StepMessage | None) -> StepMessage:
    if how is None:
        return StepMessage(_("Already acknowledged."))
    return StepMessage(_("Already acknowledged %(how)s."), how=how)


def _call_wincc(site, req: AckRequest) -> tuple[str, StepMessage]:
    """(result, message) of one acknowledge call with the site's read-write API user."""
    return _call_wincc_many(site, [req])[0]


def _call_wincc_many(site, reqs: list[AckRequest]) -> list[tuple[str, StepMessage]]:
    """(result, message) per request, from as few calls as the dialect allows."""

    def every(result: str, message: StepMessage) -> list[tuple[str, StepMessage]]:
        return [(str(result), message)] * len(reqs)

    try:
        with open_client(site.connection(write=True)) as client:
            results = client.acknowledge_many([(req.name, req.instance_id) for req in reqs])
    except AuthError as exc:
        return every(Result.REFUSED, StepMessage(_(
            "WinCC refused the login of the acknowledging API user: %(error)s"), error=exc))
    except WinCCError as exc:
        return every(*wincc_failed(exc, CHECKING))
    answers: list[tuple[str, StepMessage]] = []
    for pos, req in enumerate(reqs):
        # Classic answers with the acknowledge tag's name: then the position tells.
        mine = [item for item in results if item.name == req.name
                and item.instance_id in (None, req.instance_id)]
        if not mine and len(results) == len(reqs):
            mine = [results[pos]]
        elif not mine and len(reqs) == 1:
            mine = results
        if not mine:
            answers.append((Result.ERROR, StepMessage(_(
                "WinCC answered without a result for this alarm."))))
        elif mine[0].ok:
            answers.append((Result.OK, StepMessage(_("Acknowledged."))))
        else:
            answers.append((Result.REFUSED, wincc_refused(mine[0].error)))
    return answers


def wincc_failed(exc: WinCCError, checking: str | Promise) -> tuple[str, StepMessage]:
    """(result, message) of a call that raised: not possible, unknown (WinCC had the
    request: `checking` says what is read back), unreachable or an unexpected answer."""
    if isinstance(exc, NotSupportedError):
        return Result.ERROR, StepMessage(_("Not possible on this site: %(error)s"), error=exc)
    if exc.sent:  # WinCC had the request: it may have done it
        return Result.UNKNOWN, StepMessage("%(checking)s (%(error)s)", checking=checking,
                                           error=exc)
    if isinstance(exc, ConnectError):
        return Result.ERROR, StepMessage(_("WinCC could not be reached: %(error)s"), error=exc)
    return Result.ERROR, StepMessage(_("WinCC answered unexpectedly: %(error)s"), error=exc)


def wincc_refused(error: str | None) -> StepMessage:
    """WinCC said no to the one item, in its own words."""
    if error:
        return StepMessage(_("WinCC refused: %(error)s"), error=error)
    return StepMessage(_("WinCC refused: no reason given"))


# Set the lock's value only while it is still ours (it may have expired and been retaken).
RELEASE_LOCK = """
if redis.call('get', KEYS[1]) ~= ARGV[1] then return 0 end
if ARGV[2] == '' then return redis.call('del', KEYS[1]) end
return redis.call('set', KEYS[1], ARGV[2], 'EX', tonumber(ARGV[3]))
"""


def _settle_lock(
    r: redis.Redis, lock: str, holder: codec.AckHolder, *, ok: bool, keep: float
) -> None:
    """After success keep the lock briefly as "done" (Redis still shows the old state until the
    next poll); after a failure free it so the person can try again."""
    done = codec.encode_ack_holder(dataclasses.replace(holder, phase="done")) if ok else ""
    seconds = max(2, math.ceil(keep * DONE_INTERVALS))
    try:
        r.eval(RELEASE_LOCK, 1, lock, codec.encode_ack_holder(holder), done, seconds)
    except redis.RedisError as exc:
        log.warning("acknowledge lock %s not settled (expires by itself): %s", lock, exc)


def _duplicate(user, req: AckRequest, alarm: Alarm, raw_holder: codec.Raw | None) -> AckOutcome:
    """Someone holds the alarm's lock: answer who, send nothing, offer no second button."""
    holder = codec.decode_ack_holder(raw_holder)
    by = holder.user
    shown = dataclasses.replace(alarm, can_acknowledge=False)
    if holder.phase == "done":
        message = _already(alarm_notes.acknowledgement(person=by))
        shown = dataclasses.replace(shown, state=ACKNOWLEDGED_STATE[alarm.state])
    else:
        message = StepMessage(_("Being acknowledged by %(person)s; nothing more was sent."),
                              person=by)
    entry = _record(user, req, Result.DUPLICATE, message, alarm)
    return AckOutcome(entry, shown, message)
