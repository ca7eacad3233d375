"""Acknowledge one alarm for one person: check, record, call WinCC once, record the outcome.

The view only adapts HTTP to `acknowledge()`. Order matters and is the point of this module:
the permission is checked before anything else, the audit row exists (pending) before WinCC
hears of it, and a Redis lock per alarm makes a double click or two operators one call.
"""

from __future__ import annotations

import dataclasses
import logging
import math
from dataclasses import dataclass

import redis

from dashboard import permissions
from dashboard.celery import request_poll
from dashboard.models import AuditEntry
from dashboard.redis_client import sync_redis
from dashboard.siteconfig import get_config
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
    """What to answer: the audit row, the alarm to show (None if unknown) and a plain line."""

    entry: AuditEntry
    alarm: Alarm | None
    message: str

    @property
    def ok(self) -> bool | None:
        """True when acknowledged, False when refused or failed, None when nothing was due."""
        if self.entry.result == Result.OK:
            return True
        if self.entry.result in (Result.DUPLICATE, Result.STALE):
            return None
        return False


class NotPermitted(Exception):
    """The person may not acknowledge on the site."""


class UnknownSite(Exception):
    """The site is not in the configuration."""


def _record(user, req: AckRequest, result: str, message: str, alarm: Alarm | None = None
            ) -> AuditEntry:
    """A new row. One final from the start records the alarm's unchanged state after, and no
    completion time: completed_at is when a pending row got its result."""
    final = result != Result.PENDING
    return AuditEntry.objects.create(
        user=user if user.is_authenticated else None,
        username=user.get_username() if user.is_authenticated else "(anonymous)",
        remote_addr=req.remote_addr,
        device=req.device,
        site_id=req.site_id,
        alarm_name=req.name,
        instance_id=req.instance_id,
        state_before=alarm.state.value if alarm else "",
        state_after=alarm.state.value if alarm and final else "",
        result=result,
        message=message,
        comment=req.comment,
    )


def record_refusal(user, req: AckRequest, result: str, message: str) -> AuditEntry:
    """An attempt stopped before any alarm was looked at: no permission, a malformed
    request, an unknown site."""
    return _record(user, req, result, message)


def acknowledge(user, req: AckRequest) -> AckOutcome:
    """Acknowledge `req` for `user`. Raises NotPermitted (recorded as denied) when the user
    may not acknowledge on the site and UnknownSite (recorded) when the site does not exist."""
    if not permissions.can_acknowledge(user, req.site_id):
        record_refusal(user, req, Result.DENIED, "No permission to acknowledge on this site.")
        raise NotPermitted(req.site_id)
    site = get_config().site(req.site_id)
    if site is None:
        record_refusal(user, req, Result.ERROR, f"Unknown site {req.site_id!r}.")
        raise UnknownSite(req.site_id)

    r = sync_redis()
    try:
        raw = r.hget(store.site_alarms(site.id), alarm_key(req.name, req.instance_id))
        alarm = codec.decode_alarm(raw) if raw is not None else None
    except (redis.RedisError, codec.StoredDataError) as exc:
        log.warning("acknowledge %s: alarm state unreadable: %s", req, exc)
        message = "The live alarm state cannot be read right now; nothing was sent to WinCC."
        return AckOutcome(_record(user, req, Result.ERROR, message), None, message)

    if alarm is None:
        message = f"{req.name} is no longer active; nothing was sent."
        return AckOutcome(_record(user, req, Result.STALE, message), None, message)
    refusal = _not_sendable(site, req, alarm)
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
        message = "The acknowledgement lock cannot be taken right now; nothing was sent to WinCC."
        return AckOutcome(_record(user, req, Result.ERROR, message, alarm), alarm, message)
    if not taken:
        return _duplicate(user, req, alarm, current)

    entry = _record(user, req, Result.PENDING, "", alarm)
    try:
        result, message = _call_wincc(site, req)
    except Exception:  # a bug must still complete the row and free the lock
        log.exception("acknowledge %s failed unexpectedly", req)
        result, message = Result.ERROR, "The acknowledgement failed; see the server log."
    after = ACKNOWLEDGED_STATE[alarm.state] if result == Result.OK else alarm.state
    entry.record_result(result, message=message, state_after=after.value)
    _settle_lock(r, lock, holder, ok=result == Result.OK, keep=site.poll_interval)
    if result != Result.OK:
        return AckOutcome(entry, alarm, message)
    request_poll(site.id)
    shown = dataclasses.replace(
        alarm, state=after, can_acknowledge=False, ack_time=entry.completed_at,
        acknowledged_by=user.get_username(),
    )
    return AckOutcome(entry, shown, message)


def _not_sendable(site: SiteConfig, req: AckRequest, alarm: Alarm) -> tuple[str, str] | None:
    """(result, message) when there is nothing to send, else None."""
    if alarm.state in _ALREADY_ACKNOWLEDGED:
        by = f" by {alarm.acknowledged_by}" if alarm.acknowledged_by else ""
        return Result.DUPLICATE, f"Already acknowledged{by}."
    if not alarm.state.needs_acknowledgement:
        return Result.STALE, f"No longer needs acknowledgement ({alarm.state.label})."
    if alarm.state != req.seen_state:
        # Acknowledging means "seen": the person must see the state they acknowledge.
        return Result.STALE, (
            f"The alarm changed to {alarm.state.label} since you saw it; nothing was sent. "
            "Check it and acknowledge again."
        )
    capabilities = site.capabilities()
    if not capabilities.can_acknowledge(req.name):
        return Result.ERROR, capabilities.why_not_acknowledge(req.name)
    return None


def _call_wincc(site, req: AckRequest) -> tuple[str, str]:
    """(result, message) of one acknowledge call with the site's read-write API user."""
    try:
        with open_client(site.connection(write=True)) as client:
            results = client.acknowledge([(req.name, req.instance_id)])
    except AuthError as exc:
        return Result.REFUSED, f"WinCC refused the login of the acknowledging API user: {exc}"
    except NotSupportedError as exc:
        return Result.ERROR, f"Not possible on this site: {exc}"
    except ConnectError as exc:
        return Result.ERROR, f"WinCC could not be reached: {exc}"
    except WinCCError as exc:
        return Result.ERROR, f"WinCC answered unexpectedly: {exc}"
    mine = [item for item in results if item.name == req.name] or results
    if not mine:
        return Result.ERROR, "WinCC answered without a result for this alarm."
    if mine[0].ok:
        return Result.OK, "Acknowledged."
    return Result.REFUSED, f"WinCC refused: {mine[0].error or 'no reason given'}"


# Set the lock's value only while it is still ours (it may have expired and been retaken).
_RELEASE = """
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
        r.eval(_RELEASE, 1, lock, codec.encode_ack_holder(holder), done, seconds)
    except redis.RedisError as exc:
        log.warning("acknowledge lock %s not settled (expires by itself): %s", lock, exc)


def _duplicate(user, req: AckRequest, alarm: Alarm, raw_holder: codec.Raw | None) -> AckOutcome:
    """Someone holds the alarm's lock: answer who, send nothing, offer no second button."""
    holder = codec.decode_ack_holder(raw_holder)
    by = holder.user
    shown = dataclasses.replace(alarm, can_acknowledge=False)
    if holder.phase == "done":
        message = f"Already acknowledged by {by}."
        shown = dataclasses.replace(shown, state=ACKNOWLEDGED_STATE[alarm.state])
    else:
        message = f"Being acknowledged by {by}; nothing more was sent."
    entry = _record(user, req, Result.DUPLICATE, message, alarm)
    return AckOutcome(entry, shown, message)
