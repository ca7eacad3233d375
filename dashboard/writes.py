"""Write one tag for one person: check, record, call WinCC once, read the value back.

The view only adapts HTTP to `write()`. As with an acknowledgement (dashboard.acknowledge),
the order is the point: the permission is checked before anything else, the value is
checked against the tag's configured range and step here again (whatever the page sent),
a site whose poll is stale or failing is refused (a person must see what they change),
the audit row exists (pending) before WinCC hears of it, and a Redis lock per tag makes a
double click one call.

Reading the value back with the read-only user tells whether WinCC took it. When WinCC's
answer is lost after the request reached it, the write may have happened: the row says
"unknown" and is settled by reading the value back, at once and, if that cannot tell, at
the next polls (`settle`, run by the Celery task `settle_write`). Never "failed" on a guess.
"""

from __future__ import annotations

import logging
import math
import re
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

import redis
from django.utils import formats, timezone
from django.utils.functional import Promise, lazy
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from dashboard import acknowledge, permissions, refusals
from dashboard.celery import SETTLE_WRITE_TASK, request_poll, request_settle
from dashboard.models import AuditEntry
from dashboard.panels.state import read_states
from dashboard.redis_client import sync_redis
from dashboard.siteconfig import get_config
from dashboard.step_messages import Number, StepMessage, english, unknown_site
from wincc_bridge.client import AuthError, WinCCError, open_client
from wincc_ingest import codec, store
from wincc_ingest.config import SiteConfig, TagConfig

log = logging.getLogger(__name__)

Result = AuditEntry.Result
ACTION = "write"

CHECKING = _("WinCC's answer was lost; checking the value in WinCC...")
NOTHING_SENT = _("%(problem)s Nothing was sent to WinCC.")
# A number as a person types it: ASCII digits, one decimal point, an optional exponent.
# No "nan", "inf", hex, underscores, grouping commas or non-ASCII digits (float() accepts
# some). Where the person's language writes a decimal comma, one comma is the decimal point.
_NUMBER = re.compile(r"\A[+-]?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)(?:[eE][+-]?[0-9]{1,4})?\Z")
ON_OFF = {"on": True, "off": False}
SWITCH_WORDS = {True: pgettext_lazy("switch", "on"), False: pgettext_lazy("switch", "off")}
# WinCC may keep a setpoint as a 32-bit REAL: 185.3 reads back as 185.300003...
READ_BACK_TOLERANCE = 1e-6


@dataclass(frozen=True)
class WriteRequest:
    """One person's request, as the view parsed it; `value` is the text they typed."""

    site_id: str
    tag_name: str
    value: str
    password: str = ""
    remote_addr: str = ""
    device: str = ""


@dataclass(frozen=True)
class WriteOutcome:
    """The audit row, and for the dialog: the value before, the value read back (None when
    unread) and a plain sentence. `taken`: True when WinCC reads the new value back, False
    when it refused or reads another value, None when nothing was sent or it is unknown."""

    entry: AuditEntry
    message: StepMessage
    before: Any = None
    after: Any = None
    taken: bool | None = None
    bad_value: bool = False  # refused for the value itself (a plain sentence says why)

    @property
    def checking(self) -> bool:
        return self.entry.result == Result.UNKNOWN


class NotPermitted(Exception):
    """The person may not write on the site (or the request is not a signed-in person's)."""


class UnknownTag(Exception):
    """The site is not configured, or the tag is not one of its writable tags."""


class BadValue(ValueError):
    """The value cannot be written; its argument is a plain sentence (a StepMessage)."""

    @property
    def message(self) -> StepMessage:
        return self.args[0]


def parse_value(tag: TagConfig, text: str) -> float | int | bool:
    """The value to send for what a person typed, checked against the tag's configuration:
    on/off for a switch; for a setpoint a finite number within min and max, on the step's
    grid counted from min. Raises BadValue with a plain sentence."""
    typed = text.strip()
    label = tag.label
    if tag.on_off:
        if typed.lower() in ON_OFF:
            return ON_OFF[typed.lower()]
        raise BadValue(StepMessage(_("%(label)s takes on or off only, not %(typed)s."),
                                   label=label, typed=_quoted(typed)))
    if not typed:
        raise BadValue(StepMessage(_("Enter the new value of %(label)s: a number."),
                                   label=label))
    if typed.lower() in ("true", "false", "yes", "no", *ON_OFF):
        raise BadValue(StepMessage(_("%(label)s takes a number, not %(typed)s."),
                                   label=label, typed=_quoted(typed)))
    digits = _decimal_point(typed)
    if not _NUMBER.match(digits):
        raise BadValue(StepMessage(_(
            "%(typed)s is not a number; write it with digits and a decimal point, such as "
            "%(example)s."), typed=_quoted(typed), example=Number("182.5")))
    number = Decimal(digits)  # the pattern admits only what Decimal reads
    value = float(number)
    if not math.isfinite(value):
        raise BadValue(StepMessage(_("%(typed)s is too large to be a value of %(label)s."),
                                   typed=_quoted(typed), label=label))
    low, high = Decimal(str(tag.write_min)), Decimal(str(tag.write_max))
    unit = f" {tag.unit}" if tag.unit else ""
    if not low <= number <= high:
        raise BadValue(StepMessage(
            _("%(typed)s%(unit)s is outside the range of %(label)s, %(low)s to %(high)s"
              "%(unit)s."), typed=typed, unit=unit, label=label,
            low=Number(number_text(tag.write_min)), high=Number(number_text(tag.write_max))))
    if tag.write_step is not None:
        step = Decimal(str(tag.write_step))
        if (number - low) % step != 0:
            raise BadValue(StepMessage(
                _("%(label)s moves in steps of %(step)s%(unit)s from %(low)s; %(typed)s is "
                  "not on a step."), label=label, step=Number(number_text(tag.write_step)),
                unit=unit, low=Number(number_text(tag.write_min)), typed=typed))
    grid = (tag.write_min or 0, tag.write_max or 0, tag.write_step or 1)
    if number == number.to_integral_value() and all(float(v).is_integer() for v in grid):
        return int(number)
    return value


def _decimal_point(typed: str) -> str:
    """What a person typed with the decimal sign of their language (a German "63,5") as
    the point the pattern reads; a comma stays a comma in a language that does not write
    it (there it groups thousands). In a language that writes a comma, a point groups
    thousands ("1.500" is fifteen hundred, not 1.5): a number with one is left unreadable,
    and refused, rather than read as another number."""
    if formats.get_format("DECIMAL_SEPARATOR") != ",":
        return typed
    if "." in typed:
        return typed.replace(".", ",")  # refused below: the pattern takes no comma
    return typed.replace(",", ".") if typed.count(",") == 1 else typed


def _quoted(text: str) -> str | Promise:
    return f"“{text[:40]}”" if text else _("an empty value")


def number_text(value: float | None) -> str:
    """A configured number as a person reads it: 400, 0.5."""
    return "" if value is None else f"{value:g}"


def value_text(value: Any) -> str:
    """A value as the audit row and the dialog write it."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "on" if value else "off"
    if isinstance(value, float):
        return repr(value) if not value.is_integer() else f"{value:.1f}"
    return str(value)[:64]


def same_value(read: Any, wanted: Any) -> bool:
    """Whether WinCC's value is the one written (a switch may read back as 0/1)."""
    if read is None:
        return False
    if isinstance(wanted, bool):
        return isinstance(read, bool | int | float) and bool(read) == wanted
    if isinstance(read, bool) or not isinstance(read, int | float):
        return False
    return math.isclose(read, wanted, rel_tol=READ_BACK_TOLERANCE, abs_tol=1e-9)


def _record(user, req: WriteRequest, result: str, message: str | StepMessage, *,
            before: Any = None, requested: Any = None) -> AuditEntry:
    """A new row; one with a result from the start is counted at once."""
    entry = _new_row(user, req, result, message, before, requested)
    return entry if result == Result.PENDING else outcome_recorded(entry)


def _new_row(user, req: WriteRequest, result: str, message: str | StepMessage, before: Any,
             requested: Any) -> AuditEntry:
    return AuditEntry.objects.create(
        user=user if user.is_authenticated else None,
        username=user.get_username() if user.is_authenticated else refusals.ANONYMOUS,
        action=ACTION,
        remote_addr=req.remote_addr,
        device=req.device,
        site_id=req.site_id,
        tag_name=req.tag_name,
        value_before=value_text(before),
        value_requested=value_text(requested) if requested is not None else req.value[:64],
        result=result,
        message=english(message),
    )


def record_refusal(user, req: WriteRequest, result: str, message: StepMessage) -> AuditEntry:
    """An attempt stopped before the tag was looked at (no permission, a malformed request);
    anonymous ones are summarised as acknowledge's are."""
    return outcome_recorded(refusals.summarised_refusal(
        user, req.remote_addr, result, message.english,
        lambda: _new_row(user, req, result, message, None, None),
    ))


def outcome_recorded(entry: AuditEntry) -> AuditEntry:
    """Called once for each result a write's row takes (a lost answer first "unknown", then
    its settlement; a summarised anonymous refusal once per request): the one place to count
    writes by result."""
    log.info("write of %s:%s by %s: %s", entry.site_id, entry.tag_name, entry.username,
             entry.result)
    return entry


def write(user, req: WriteRequest) -> WriteOutcome:
    """Write `req` for `user`. Raises NotPermitted (recorded as denied) when the user may not
    write on the site, UnknownTag (recorded) when the site or writable tag does not exist."""
    if not permissions.can_write_tag(user, req.site_id):
        record_refusal(user, req, Result.DENIED,
                       StepMessage(_("No permission to write tags on this site.")))
        raise NotPermitted(req.site_id)
    config = get_config()
    site = config.site(req.site_id)
    tag = site.tag(req.tag_name) if site else None
    if site is None or tag is None or not tag.writable:
        if site is None:
            message = unknown_site(req.site_id)
        elif tag is None:
            message = StepMessage(_("Unknown %(tag)s."), tag=repr(req.tag_name))
        else:
            message = StepMessage(_("%(tag)s is not writable from the dashboard."),
                                  tag=repr(req.tag_name))
        _record(user, req, Result.ERROR, message)
        raise UnknownTag(message)
    if site.confirm_password_for_writes and not user.check_password(req.password):
        message = StepMessage(_("The password is not right; nothing was sent to WinCC."))
        return WriteOutcome(_record(user, req, Result.DENIED, message), message)
    try:
        value = parse_value(tag, req.value)
    except BadValue as exc:
        message = StepMessage(NOTHING_SENT, problem=exc.message)
        return WriteOutcome(_record(user, req, Result.ERROR, message), message, bad_value=True)

    r = sync_redis()
    try:
        state = read_states(r, config, [codec.SiteRead(site.id, values=(tag.name,), alarms=False)],
                            timezone.now())[site.id]
    except (redis.RedisError, codec.StoredDataError) as exc:
        log.warning("write %s: live state unreadable: %s", req, exc)
        message = StepMessage(_("The live state of the site cannot be read right now; nothing "
                                "was sent to WinCC."))
        entry = _record(user, req, Result.ERROR, message, requested=value)
        return WriteOutcome(entry, message)
    stored = state.values.get(tag.name)
    before = stored.tag.value if stored else None
    checked = timezone.now()
    fresh = state.freshness(checked)
    if fresh.stale:
        # The reason is worded when read: English on the audit row, the person's language
        # in the answer.
        reason = lazy(lambda: state.freshness(checked).reason, str)()
        message = StepMessage(_(
            "%(site)s is not current (%(reason)s); nothing was sent to WinCC. Write again "
            "once the site shows live values."), site=site.name, reason=reason)
        entry = _record(user, req, Result.STALE, message, before=before, requested=value)
        return WriteOutcome(entry, message, before)

    lock = store.tag_write_lock(site.id, tag.name)
    holder = codec.AckHolder(user.get_username())
    ttl = math.ceil(site.timeout * 4) + 5  # above a login, the write and the read-back
    try:
        taken = r.set(lock, codec.encode_ack_holder(holder), nx=True, ex=ttl)
        current = None if taken else r.get(lock)
    except redis.RedisError as exc:
        log.warning("write %s: lock unavailable: %s", req, exc)
        message = StepMessage(_("The write lock cannot be taken right now; nothing was sent "
                                "to WinCC."))
        entry = _record(user, req, Result.ERROR, message, before=before, requested=value)
        return WriteOutcome(entry, message, before)
    if not taken:
        by = codec.decode_ack_holder(current).user
        message = StepMessage(_("%(label)s is being written by %(person)s; nothing more was "
                                "sent."), label=tag.label, person=by)
        entry = _record(user, req, Result.DUPLICATE, message, before=before, requested=value)
        return WriteOutcome(entry, message, before)

    entry = _record(user, req, Result.PENDING, "", before=before, requested=value)
    try:
        try:
            result, message = _call_wincc(site, tag, value)
        except Exception:  # a bug must still complete the row and free the lock
            log.exception("write %s failed unexpectedly", req)
            result, message = Result.UNKNOWN, StepMessage(
                _("%(checking)s (The call failed; see the server log.)"), checking=CHECKING)
        return _complete(site, tag, entry, value, before, result, message)
    finally:
        _release(r, lock, holder)


def _complete(site: SiteConfig, tag: TagConfig, entry: AuditEntry, value: Any, before: Any,
              result: str, message: StepMessage) -> WriteOutcome:
    """Record WinCC's answer and what reading the value back shows."""
    if result == Result.UNKNOWN:
        entry.record_result(Result.UNKNOWN, message=message.english)
        outcome_recorded(entry)
        settlement = read_back(site, entry, final=False)
        if settlement is None:
            request_settle(site.id, entry.pk, countdown=acknowledge.settle_pause(site, 1),
                           task=SETTLE_WRITE_TASK)
            return WriteOutcome(entry, message, before)
        result, message, after = settlement
        entry.settle(result, message=message.english, value_after=value_text(after))
        outcome_recorded(entry)
        request_poll(site.id)
        return WriteOutcome(entry, message, before, after, result == Result.OK)
    if result != Result.OK:
        entry.record_result(result, message=message.english)
        outcome_recorded(entry)
        return WriteOutcome(entry, message, before, taken=False)
    after, problem = _read(site, tag.name)
    if problem:
        message = StepMessage(_("WinCC accepted the write; reading it back failed: %(problem)s"),
                              problem=problem)
    elif same_value(after, value):
        message = StepMessage(_("WinCC took it: %(label)s reads %(value)s."), label=tag.label,
                              value=_shown(after, tag))
    else:
        message = StepMessage(_(
            "WinCC accepted the write, but %(label)s reads %(value)s, not %(wanted)s: the "
            "plant may have changed or limited it."), label=tag.label,
            value=_shown(after, tag), wanted=_shown(value, tag))
    entry.record_result(Result.OK, message=message.english, value_after=value_text(after))
    outcome_recorded(entry)
    request_poll(site.id)
    taken = None if problem else same_value(after, value)
    return WriteOutcome(entry, message, before, after, taken)


def _shown(value: Any, tag: TagConfig) -> StepMessage:
    """A value read or written, with its unit, as value_text writes it (on/off, and the
    numbers' decimal sign, in the reader's language)."""
    if isinstance(value, bool):
        return StepMessage("%(value)s", value=SWITCH_WORDS[value])
    shown = Number(value_text(value)) if isinstance(value, int | float) else value_text(value)
    if tag.unit:
        return StepMessage("%(value)s %(unit)s", value=shown, unit=tag.unit)
    return StepMessage("%(value)s", value=shown)


def _call_wincc(site: SiteConfig, tag: TagConfig, value: Any) -> tuple[str, StepMessage]:
    """(result, message) of one write call with the site's read-write API user."""
    try:
        with open_client(site.connection(write=True)) as client:
            results = client.write_tags({tag.name: value})
    except AuthError as exc:
        return Result.REFUSED, StepMessage(_(
            "WinCC refused the login of the writing API user: %(error)s"), error=exc)
    except WinCCError as exc:  # WinCC had the request when exc.sent: it may have written
        return acknowledge.wincc_failed(exc, CHECKING)
    mine = [item for item in results if item.name == tag.name] or results
    if not mine:
        return Result.UNKNOWN, StepMessage(
            _("%(checking)s (WinCC answered without a result for the tag.)"), checking=CHECKING)
    if mine[0].ok:
        return Result.OK, StepMessage(_("Written."))
    return Result.REFUSED, acknowledge.wincc_refused(mine[0].error)


def _read(site: SiteConfig, name: str) -> tuple[Any, str]:
    """(value, "") as WinCC shows it now (read-only user), or (None, why not)."""
    try:
        with open_client(site.connection()) as client:
            values = client.read_tags([name])
    except WinCCError as exc:
        return None, str(exc)
    if not values or values[0].error:
        return None, (values[0].error if values else "") or "no value in WinCC's answer"
    return values[0].value, ""


Settlement = tuple[str, StepMessage, Any]  # result, message, value read back


def read_back(site: SiteConfig, entry: AuditEntry, *, final: bool) -> Settlement | None:
    """The outcome of an unknown write from the value WinCC shows now; None while it cannot
    tell: WinCC unreadable, or not the new value and this is not the `final` look. Only the
    old value at the final look counts as not written; another value stays unknown."""
    tag = site.tag(entry.tag_name)
    if tag is None:
        return None
    after, problem = _read(site, entry.tag_name)
    if problem:
        log.info("read-back of audit entry %s: %s", entry.pk, problem)
        return None
    try:
        wanted = parse_value(tag, entry.value_requested)
    except BadValue:  # the configuration changed since: only the text can be compared
        wanted = None
    if wanted is not None and same_value(after, wanted):
        return Result.OK, StepMessage(_(
            "Written (WinCC's answer was lost; read back from WinCC: %(label)s reads "
            "%(value)s)."), label=tag.label, value=_shown(after, tag)), after
    if final and value_text(after) == entry.value_before:
        return Result.ERROR, StepMessage(_(
            "Not written (WinCC's answer was lost; read back from WinCC: %(label)s still "
            "reads %(value)s)."), label=tag.label, value=_shown(after, tag)), after
    return None


def settle(entry_id: int, attempt: int) -> str:
    """One later read-back of an unknown write: settle it, or ask for the next attempt.
    Returns the row's result afterwards ("unknown" while not settled)."""
    entry = AuditEntry.objects.filter(pk=entry_id, action=ACTION).first()
    if entry is None or entry.result != Result.UNKNOWN or entry.settled_at is not None:
        return entry.result if entry else "gone"
    site = get_config().site(entry.site_id)
    if site is None:
        log.warning("audit entry %s stays unknown: site %s left the configuration",
                    entry_id, entry.site_id)
        return entry.result
    settlement = read_back(site, entry, final=True)
    if settlement is None:
        if attempt < acknowledge.SETTLE_ATTEMPTS:
            request_settle(site.id, entry_id, countdown=acknowledge.settle_pause(site, attempt + 1),
                           attempt=attempt + 1, task=SETTLE_WRITE_TASK)
        else:
            log.warning("audit entry %s stays unknown: WinCC did not show the value", entry_id)
        return entry.result
    result, message, after = settlement
    entry.settle(result, message=message.english, value_after=value_text(after))
    outcome_recorded(entry)
    request_poll(site.id)
    return result


def _release(r: redis.Redis, lock: str, holder: codec.AckHolder) -> None:
    """Free the tag for the next write, only while the lock is still ours."""
    try:
        r.eval(acknowledge.RELEASE_LOCK, 1, lock, codec.encode_ack_holder(holder), "", 0)
    except redis.RedisError as exc:
        log.warning("write lock %s not released (expires by itself): %s", lock, exc)
