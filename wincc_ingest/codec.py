"""How every Redis message is written and read back: one encoder and one decoder each.

The keys are laid out in wincc_ingest.store; docs/redis-keys.md documents keys and forms.
Writers (the poller, the acknowledgement, beat and workers) and readers (the web's pages and
live hub, /health/, the journal consumer) use only this module, so a message's form is
decided here alone and a round-trip test per message (tests/poller/test_codec.py) holds it.

Contracts: a tag's stored value, an active alarm, a site's health and poll counters, the
change message,
trend samples, the journal stream entry, the acknowledgement lock's holder, a heartbeat,
an integration trigger's state;
and the per-site read set (SiteRead), which keys of a site a reader fetches in one
pipeline and how the answers become a SiteData.
"""

from __future__ import annotations

import contextlib
import dataclasses
import json
import math
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

import orjson
from redis.typing import EncodableT, FieldT

from wincc_bridge.models import Alarm, AlarmState, Quality, TagValue, parse_iso, utcnow
from wincc_ingest import store
from wincc_ingest.journal import JournalEvent, Transition
from wincc_ingest.triggers import TriggerState


class StoredDataError(ValueError):
    """A stored entry cannot be read back; the message says which key and why."""


# What Redis answers: text with decode_responses=True (as the product's clients are made),
# bytes without; the decoders take either.
Raw = str | bytes
# A hash or stream entry as written (redis-py's own types for fields and values).
Fields = dict[FieldT, EncodableT]


def _text(raw: Raw) -> str:
    return raw.decode("utf-8", "replace") if isinstance(raw, bytes) else raw


# A hash as redis-py types it, or as text (Mapping's key is invariant, hence the union).
RawHash = Mapping[str, str] | Mapping[bytes, bytes] | Mapping[str | bytes, str | bytes]


def text_hash(mapping: RawHash) -> dict[str, str]:
    return {_text(key): _text(value) for key, value in mapping.items()}


def iso(ts: datetime | None) -> str:
    """ISO-8601 UTC with "Z", or "" (hashes and stream entries hold strings only)."""
    return "" if ts is None else ts.isoformat().replace("+00:00", "Z")


# One encoder for every message (json.dumps with options builds one per call).
_compact_json = json.JSONEncoder(separators=(",", ":"), default=str).encode

# A value orjson writes as the standard library would read it back: anything else (a
# structure, a number beyond 64 bits, NaN, which orjson would write as null) goes through
# _compact_json.
_PLAIN = (str, bool, int, type(None))


def _json_object(raw: Raw) -> dict[str, Any]:
    data = json.loads(raw)
    if not isinstance(data, dict):
        raise TypeError("not a JSON object")
    return data


# --- a tag's value: store.site_values hash, field = tag name -------------------------------


@dataclass(frozen=True, slots=True)
class StoredValue:
    """A tag's value as the poller last wrote it, with the time of that poll."""

    tag: TagValue
    read_at: datetime


# What the poller compares: a value is rewritten only when one of these changed.
Fingerprint = tuple[Any, str, int | None, str | None]


def fingerprint(tag: TagValue) -> Fingerprint:
    return (tag.value, tag.quality.value, tag.quality_code, tag.error)


def encode_value(tag: TagValue, read_at: datetime | str) -> str:
    """`read_at` may come as iso(read_at) already, as a poll gives it for each tag it wrote."""
    data = tag.to_json()
    data["read_at"] = read_at if isinstance(read_at, str) else iso(read_at)
    value = tag.value
    # orjson: a poll encodes every changed value, four times faster than json (0.3 ms
    # instead of 1 ms per 200 values); the same JSON but for unescaped non-ASCII text and
    # the spelling of some floats (1e16 for 1e+16), which read back the same.
    if type(value) in _PLAIN or (type(value) is float and math.isfinite(value)):
        with contextlib.suppress(TypeError):  # an integer beyond 64 bits, a lone surrogate
            return orjson.dumps(data).decode()
    return _compact_json(data)


def decode_value(raw: Raw, name: str | None = None) -> StoredValue:
    """Parse a site_values entry; `name` (the hash field) wins over the stored name."""
    try:
        data = _json_object(raw)
        if name is not None:
            data["name"] = name
        read_at = parse_iso(data.get("read_at"))
        if read_at is None:
            raise KeyError("read_at")
        return StoredValue(tag=TagValue.from_json(data), read_at=read_at)
    except (ValueError, TypeError, KeyError) as exc:
        raise StoredDataError(f"stored value {name or ''!s} is unreadable ({exc!r})") from None


def unreadable_value(name: str, error: StoredDataError, read_at: datetime) -> StoredValue:
    """What a reader shows for an entry it cannot parse: a bad value that says why."""
    return StoredValue(TagValue(name, None, Quality.BAD, error=str(error)), read_at)


def decode_values(mapping: RawHash, now: datetime) -> dict[str, StoredValue]:
    """tag name -> StoredValue; an unreadable entry becomes a bad value naming the problem."""
    values = {}
    for name, raw in text_hash(mapping).items():
        try:
            values[name] = decode_value(raw, name)
        except StoredDataError as exc:
            values[name] = unreadable_value(name, exc, now)
    return values


# --- an active alarm: store.site_alarms hash, field = alarm_key(name, instance) -------------


def encode_alarm(alarm: Alarm) -> str:
    return _compact_json(alarm.to_json())


def decode_alarm(raw: Raw) -> Alarm:
    try:
        return Alarm.from_json(_json_object(raw))
    except (ValueError, TypeError, KeyError) as exc:
        raise StoredDataError(f"stored alarm is unreadable ({exc!r})") from None


def unreadable_alarm(site: str, key: str, error: StoredDataError) -> Alarm:
    """An entry that cannot be read stays visible, as an unacknowledged alarm saying why."""
    name, _, instance = key.rpartition("|")
    return Alarm(
        site=site,
        name=name or key,
        instance_id=int(instance) if instance.isascii() and instance.isdigit() else 0,
        state=AlarmState.UNACKNOWLEDGED,
        event_text=str(error),
    )


def decode_alarms(site: str, mapping: RawHash) -> dict[str, Alarm]:
    """alarm key -> Alarm; an unreadable entry stays visible as an unacknowledged one."""
    alarms = {}
    for key, raw in text_hash(mapping).items():
        try:
            alarms[key] = decode_alarm(raw)
        except StoredDataError as exc:
            alarms[key] = unreadable_alarm(site, key, exc)
    return alarms


# --- the dashboard's own notes on an occurrence: store.site_notes hash, field = alarm key ----


@dataclass(frozen=True, slots=True)
class Shelf:
    """An occurrence shelved through the dashboard: who, why, since and until. `in_wincc`:
    WinCC shelved it too (Unified); otherwise it is shelved here and still active in WinCC."""

    by: str
    reason: str
    since: datetime
    until: datetime
    in_wincc: bool = False


@dataclass(frozen=True, slots=True)
class NoteComment:
    by: str
    at: datetime
    text: str


@dataclass(frozen=True, slots=True)
class AlarmNote:
    """`comments`: the newest few (oldest first); `comment_count`: all there are;
    `acknowledged_by`: the person who acknowledged it through the dashboard, if one did."""

    shelf: Shelf | None = None
    comments: tuple[NoteComment, ...] = ()
    comment_count: int = 0
    acknowledged_by: str = ""


def encode_note(note: AlarmNote) -> str:
    shelf = note.shelf
    return _compact_json({
        "shelf": None if shelf is None else {
            "by": shelf.by, "reason": shelf.reason, "since": iso(shelf.since),
            "until": iso(shelf.until), "in_wincc": shelf.in_wincc,
        },
        "comments": [{"by": c.by, "at": iso(c.at), "text": c.text} for c in note.comments],
        "comment_count": note.comment_count,
        "acknowledged_by": note.acknowledged_by,
    })


def _stamp(raw: Any) -> datetime:
    ts = parse_iso(raw) if isinstance(raw, str) else None
    if ts is None:
        raise ValueError(f"{raw!r} is not a time")
    return ts


def decode_note(raw: Raw) -> AlarmNote:
    try:
        data = _json_object(raw)
        shelf = data.get("shelf")
        return AlarmNote(
            shelf=None if shelf is None else Shelf(
                by=str(shelf["by"]), reason=str(shelf["reason"]), since=_stamp(shelf["since"]),
                until=_stamp(shelf["until"]), in_wincc=bool(shelf.get("in_wincc")),
            ),
            comments=tuple(
                NoteComment(by=str(c["by"]), at=_stamp(c["at"]), text=str(c["text"]))
                for c in data.get("comments") or []
            ),
            comment_count=int(data.get("comment_count") or 0),
            acknowledged_by=str(data.get("acknowledged_by") or ""),
        )
    except (ValueError, TypeError, KeyError) as exc:
        raise StoredDataError(f"stored alarm note is unreadable ({exc!r})") from None


def decode_notes(mapping: RawHash) -> dict[str, AlarmNote]:
    """alarm key -> AlarmNote; an unreadable note is left out (the database keeps the
    record; the next change to the occurrence writes the note again)."""
    notes = {}
    for key, raw in text_hash(mapping).items():
        try:
            notes[key] = decode_note(raw)
        except StoredDataError:
            continue
    return notes


# --- a site's health: store.site_health hash of strings -------------------------------------

# Whether a site's server publishes an alarm list: offered, switched off in the site's
# configuration, or missing (the server answered that it has no such endpoint).
ALARMS_OFFERED, ALARMS_OFF, ALARMS_MISSING = "offered", "off", "missing"
ALARM_LIST_STATES = frozenset({ALARMS_OFFERED, ALARMS_OFF, ALARMS_MISSING})


@dataclass(frozen=True, slots=True)
class SiteHealth:
    """The outcome of a site's polls, as written on every attempt."""

    site: str
    interval: float
    last_attempt: datetime | None
    last_success: datetime | None
    duration_ms: float | None
    latency_ms: float | None
    failures: int
    last_error: str
    backoff_until: datetime | None
    tag_count: int
    alarm_count: int
    # Which poller wrote it last: a poller seeing another's stamp reloads its snapshot.
    writer: str = ""
    # The few words of last_error a tile shows (wincc_bridge.client.short_reason).
    reason: str = ""
    alarm_list: str = ALARMS_OFFERED
    # When the poller last asked for the alarm list it found missing (it asks again later).
    alarm_list_checked: datetime | None = None
    # Of tag_count, how many values the last successful poll read as uncertain and as bad
    # (the rest good): the metrics' tag quality without reading every value.
    tags_uncertain: int = 0
    tags_bad: int = 0
    # When values were last pushed to us (WinCC Unified's subscription, Classic's REST
    # Connector) and by which source. A push never moves last_success: it confirms only the
    # tags it carries, not the site (docs/live.md, "Pushed values").
    last_push: datetime | None = None
    push_source: str = ""

    @property
    def is_failing(self) -> bool:
        return self.failures > 0

    @property
    def has_alarm_list(self) -> bool:
        """False when alarm_count and the site's alarms say nothing: no list was read."""
        return self.alarm_list == ALARMS_OFFERED

    def is_current(self, now: datetime) -> bool:
        """True while the last success is recent and no poll has failed since."""
        if self.failures or self.last_success is None:
            return False
        limit = timedelta(seconds=store.CURRENT_INTERVALS * self.interval)
        return now - self.last_success <= limit

    def age(self, now: datetime) -> float | None:
        """Seconds since the last successful poll, or None when there was never one."""
        if self.last_success is None:
            return None
        return (now - self.last_success).total_seconds()


def encode_health(health: SiteHealth) -> Fields:
    def ms(value: float | None) -> str:
        return "" if value is None else f"{value:.1f}"

    return {
        "site": health.site,
        "interval": repr(float(health.interval)),
        "last_attempt": iso(health.last_attempt),
        "last_success": iso(health.last_success),
        "duration_ms": ms(health.duration_ms),
        "latency_ms": ms(health.latency_ms),
        "failures": str(health.failures),
        "last_error": health.last_error,
        "backoff_until": iso(health.backoff_until),
        "tag_count": str(health.tag_count),
        "alarm_count": str(health.alarm_count),
        "writer": health.writer,
        "reason": health.reason,
        "alarm_list": health.alarm_list,
        "alarm_list_checked": iso(health.alarm_list_checked),
        "tags_uncertain": str(health.tags_uncertain),
        "tags_bad": str(health.tags_bad),
        "last_push": iso(health.last_push),
        "push_source": health.push_source,
    }


def decode_health(raw: RawHash) -> SiteHealth:
    mapping = text_hash(raw)

    def number(key: str) -> float | None:
        text = mapping.get(key, "")
        return float(text) if text else None

    try:
        return SiteHealth(
            site=mapping["site"],
            interval=float(mapping.get("interval") or 1.0),
            last_attempt=parse_iso(mapping.get("last_attempt")),
            last_success=parse_iso(mapping.get("last_success")),
            duration_ms=number("duration_ms"),
            latency_ms=number("latency_ms"),
            failures=int(mapping.get("failures") or 0),
            last_error=mapping.get("last_error", ""),
            backoff_until=parse_iso(mapping.get("backoff_until")),
            tag_count=int(mapping.get("tag_count") or 0),
            alarm_count=int(mapping.get("alarm_count") or 0),
            writer=mapping.get("writer", ""),
            reason=mapping.get("reason", ""),
            alarm_list=_alarm_list(mapping.get("alarm_list") or ALARMS_OFFERED),
            alarm_list_checked=parse_iso(mapping.get("alarm_list_checked")),
            tags_uncertain=int(mapping.get("tags_uncertain") or 0),
            tags_bad=int(mapping.get("tags_bad") or 0),
            last_push=parse_iso(mapping.get("last_push")),
            push_source=mapping.get("push_source", ""),
        )
    except (ValueError, KeyError) as exc:
        raise StoredDataError(f"stored site health is unreadable ({exc!r})") from None


def _alarm_list(text: str) -> str:
    if text not in ALARM_LIST_STATES:
        raise ValueError(f"alarm_list {text!r} is none of {sorted(ALARM_LIST_STATES)}")
    return text


def unreadable_health(site: str, error: StoredDataError) -> SiteHealth:
    """Unreadable health is reported as a failing site, never as a current one."""
    return SiteHealth(site, 1.0, None, None, None, None, 1, str(error), None, 0, 0)


def decode_health_or_failing(site: str, mapping: RawHash) -> SiteHealth | None:
    """None while the site has never been polled (an empty hash)."""
    if not mapping:
        return None
    try:
        return decode_health(mapping)
    except StoredDataError as exc:
        return unreadable_health(site, exc)


# --- a site's poll counters: store.site_polls hash, only ever incremented -------------------


@dataclass(frozen=True, slots=True)
class PollCounts:
    """A site's polls added up since its counters began (Prometheus counters: they only
    grow, and start again from zero only when Redis loses them)."""

    polls: int = 0
    failures: int = 0
    seconds: float = 0.0  # the durations added up
    # (upper bound in seconds, polls that took at most that long), cumulative, ending with
    # (inf, polls): a Prometheus histogram's buckets.
    buckets: tuple[tuple[float, int], ...] = ()


def _bucket_field(bound: float) -> str:
    return f"le:{bound!r}"


def count_poll(pipe: Any, site: str, *, failed: bool, seconds: float) -> None:
    """Queue on `pipe` the counting of one poll attempt that took `seconds`."""
    key = store.site_polls(site)
    bucket = next((b for b in store.POLL_SECONDS_BUCKETS if seconds <= b), float("inf"))
    pipe.hincrby(key, "polls", 1)
    if failed:
        pipe.hincrby(key, "failures", 1)
    pipe.hincrbyfloat(key, "seconds", seconds)
    pipe.hincrby(key, _bucket_field(bucket), 1)


def decode_poll_counts(raw: RawHash) -> PollCounts:
    mapping = text_hash(raw)
    try:
        buckets, running = [], 0
        for bound in (*store.POLL_SECONDS_BUCKETS, float("inf")):
            running += int(mapping.get(_bucket_field(bound)) or 0)
            buckets.append((bound, running))
        return PollCounts(
            polls=int(mapping.get("polls") or 0),
            failures=int(mapping.get("failures") or 0),
            seconds=float(mapping.get("seconds") or 0.0),
            buckets=tuple(buckets),
        )
    except ValueError as exc:
        raise StoredDataError(f"stored poll counters are unreadable ({exc!r})") from None


# --- the change message: PUBLISH on store.CHANGES_CHANNEL ---------------------------------


@dataclass(frozen=True, slots=True)
class Change:
    """What one poll changed on one site. Published only when something did."""

    site: str
    tags: tuple[str, ...] = ()
    alarms: bool = False
    health: bool = False


def encode_change(change: Change) -> str:
    return _compact_json(
        {"site": change.site, "tags": list(change.tags), "alarms": change.alarms,
         "health": change.health}
    )


def decode_change(raw: Raw) -> Change:
    try:
        data = _json_object(raw)
        site, tags = data["site"], data.get("tags") or []
        if not isinstance(site, str) or not isinstance(tags, list):
            raise TypeError("site must be text and tags a list")
        return Change(
            site=site,
            tags=tuple(str(t) for t in tags),
            alarms=bool(data.get("alarms")),
            health=bool(data.get("health")),
        )
    except (ValueError, TypeError, KeyError) as exc:
        raise StoredDataError(f"change message is unreadable ({exc!r})") from None


# --- trend samples: store.site_trend list, newest first, "<epoch> <value>" --------------------


def encode_trend_sample(tag: TagValue, epoch: float | str) -> str | None:
    """A numeric sample of a good or uncertain value; None for what a trend cannot draw.
    `epoch` may come as trend_time(epoch) already, as a poll gives it for each tag."""
    value = tag.value
    if tag.error is not None or tag.quality is Quality.BAD:
        return None
    stamp = epoch if isinstance(epoch, str) else trend_time(epoch)
    if isinstance(value, bool):
        return f"{stamp} {int(value)}"
    if isinstance(value, int | float):
        return f"{stamp} {value!r}"
    return None


def trend_time(epoch: float) -> str:
    """The time of a trend sample, as its text starts."""
    return f"{epoch:.3f}"


def decode_trend(entries: Iterable[Raw]) -> list[tuple[float, float]]:
    """(epoch, value) samples, oldest first; what is not a number is skipped."""
    samples = []
    for entry in reversed([_text(e) for e in entries]):
        stamp, _, text = entry.partition(" ")
        lowered = text.strip().lower()
        try:
            value = {"true": 1.0, "false": 0.0}.get(lowered)
            samples.append((float(stamp), float(text) if value is None else value))
        except ValueError:
            continue
    return samples


# --- the journal stream entry: XADD on store.JOURNAL_STREAM ---------------------------------


def encode_journal_event(event: JournalEvent) -> Fields:
    """Flat strings, with the idempotency key."""
    return {
        "key": event.key,
        "site": event.site,
        "alarm": event.alarm,
        "instance_id": str(event.instance_id),
        "transition": event.transition.value,
        "at": iso(event.at),
        "state": event.state,
        "priority": str(event.priority),
        "alarm_class": event.alarm_class,
        "event_text": event.event_text,
        "info_text": event.info_text,
        "area": event.area,
        "acknowledged_by": event.acknowledged_by,
    }


def decode_journal_event(raw: RawHash) -> JournalEvent:
    """Parse a stream entry; StoredDataError names what is wrong."""
    fields = text_hash(raw)
    try:
        at = parse_iso(fields["at"])
        if at is None:
            raise ValueError("'at' is empty")
        return JournalEvent(
            site=fields["site"],
            alarm=fields["alarm"],
            instance_id=int(fields["instance_id"]),
            transition=Transition(fields["transition"]),
            at=at,
            state=fields["state"],
            priority=int(fields.get("priority") or 0),
            alarm_class=fields.get("alarm_class", ""),
            event_text=fields.get("event_text", ""),
            info_text=fields.get("info_text", ""),
            area=fields.get("area", ""),
            acknowledged_by=fields.get("acknowledged_by", ""),
        )
    except KeyError as exc:
        raise StoredDataError(f"journal entry lacks the field {exc}") from None
    except ValueError as exc:
        raise StoredDataError(f"journal entry is malformed: {exc}") from None


def encode_rejected_entry(fields: RawHash, entry_id: str, error: str) -> Fields:
    """A journal entry the consumer could not persist, kept with why (JOURNAL_REJECTED_STREAM)."""
    kept: Fields = {}
    for key, value in text_hash(fields).items():
        kept[key] = value
    kept["entry_id"] = entry_id
    kept["error"] = error
    return kept


# --- the acknowledgement lock's holder: store.alarm_ack_lock string ---------------------------


@dataclass(frozen=True, slots=True)
class AckHolder:
    """Who acknowledges an alarm now ("sending"), or did a moment ago ("done")."""

    user: str
    phase: str = "sending"


def encode_ack_holder(holder: AckHolder) -> str:
    return _compact_json({"user": holder.user, "phase": holder.phase})


def decode_ack_holder(raw: Raw | None) -> AckHolder:
    """An unreadable or vanished holder is "someone else", still sending."""
    try:
        data = _json_object(raw or "{}")
    except (ValueError, TypeError):
        data = {}
    return AckHolder(str(data.get("user") or "someone else"), str(data.get("phase") or "sending"))


# --- heartbeats of beat and workers: strings with a TTL ---------------------------------------


def encode_heartbeat(now: datetime) -> str:
    return iso(now)


def decode_heartbeat(raw: Raw | None) -> datetime | None:
    try:
        return parse_iso(None if raw is None else _text(raw))
    except ValueError:
        return None


# --- the per-site read set --------------------------------------------------------------------


@dataclass
class SiteData:
    """What Redis holds for one site, decoded."""

    values: dict[str, StoredValue] = field(default_factory=dict)
    alarms: dict[str, Alarm] = field(default_factory=dict)
    # The dashboard's notes on its occurrences (shelving here, comments), read with them.
    notes: dict[str, AlarmNote] = field(default_factory=dict)
    health: SiteHealth | None = None
    trends: dict[str, list[tuple[float, float]]] = field(default_factory=dict)


@dataclass(frozen=True)
class SiteRead:
    """Which of one site's keys a reader fetches: queue() them on a (sync or async)
    pipeline, then apply() the pipeline's answers to a SiteData.

    `values`: True reads every tag, a tuple only those tags (a tag gone from Redis is
    dropped), False none. `trends`: the tags whose small trend is read too.
    """

    site: str
    values: bool | tuple[str, ...] = True
    alarms: bool = True
    health: bool = True
    trends: tuple[str, ...] = ()

    def queue(self, pipe: Any) -> None:
        if self.values is True:
            pipe.hgetall(store.site_values(self.site))
        elif self.values:
            pipe.hmget(store.site_values(self.site), list(self.values))
        if self.alarms:
            pipe.hgetall(store.site_alarms(self.site))
            pipe.hgetall(store.site_notes(self.site))
        if self.health:
            pipe.hgetall(store.site_health(self.site))
        for tag in self.trends:
            pipe.lrange(store.site_trend(self.site, tag), 0, store.TREND_LENGTH - 1)

    @property
    def commands(self) -> int:
        values = 1 if self.values is True or self.values else 0
        return values + 2 * int(self.alarms) + int(self.health) + len(self.trends)

    def apply(self, answers: Sequence[Any], data: SiteData, now: datetime) -> None:
        """Decode this read's answers (exactly `commands` of them) into `data`."""
        if len(answers) != self.commands:
            raise ValueError(f"{self.commands} answers expected, got {len(answers)}")
        it = iter(answers)
        if self.values is True:
            data.values = decode_values(next(it), now)
        elif self.values:
            for tag, raw in zip(self.values, next(it), strict=True):
                if raw is None:
                    data.values.pop(tag, None)
                else:
                    data.values.update(decode_values({tag: raw}, now))
        if self.alarms:
            data.alarms = decode_alarms(self.site, next(it))
            data.notes = decode_notes(next(it))
        if self.health:
            data.health = decode_health_or_failing(self.site, next(it))
        for tag in self.trends:
            data.trends[tag] = decode_trend(next(it))


def queue_reads(pipe: Any, reads: Iterable[SiteRead]) -> None:
    for read in reads:
        read.queue(pipe)


def split_answers(
    reads: Sequence[SiteRead], answers: Sequence[Any]
) -> Iterator[tuple[SiteRead, Sequence[Any]]]:
    """Each read with its share of one pipeline's answers, in the order they were queued."""
    offset = 0
    for read in reads:
        yield read, answers[offset : offset + read.commands]
        offset += read.commands


def read_site(r: Any, read: SiteRead, now: datetime) -> SiteData:
    """One site's read set on a sync client, in one round trip."""
    pipe = r.pipeline(transaction=False)
    read.queue(pipe)
    data = SiteData()
    read.apply(pipe.execute(), data, now)
    return data


def read_values(r: Any, site: str) -> dict[str, StoredValue]:
    return read_site(r, SiteRead(site, alarms=False, health=False), utcnow()).values


def read_alarms(r: Any, site: str) -> dict[str, Alarm]:
    return read_site(r, SiteRead(site, values=False, health=False), utcnow()).alarms


def read_health(r: Any, site: str) -> SiteHealth | None:
    """None while the site has never been polled."""
    return read_site(r, SiteRead(site, values=False, alarms=False), utcnow()).health


# --- integration trigger state: store.site_triggers hash, field = slot ----------------------


def encode_trigger_state(state: TriggerState) -> str:
    return _compact_json(dataclasses.asdict(state))


def decode_trigger_state(raw: Raw) -> TriggerState:
    try:
        data = _json_object(raw)
        pending = data.get("pending")
        if pending is not None and not isinstance(pending, dict):
            raise TypeError("pending is not an object")
        return TriggerState(
            active=bool(data.get("active", False)), reference=data.get("reference"),
            seen=bool(data.get("seen", False)), last_sent=_optional_float(data.get("last_sent")),
            pending=pending, pending_count=int(data.get("pending_count", 0)),
        )
    except (ValueError, TypeError) as exc:
        raise StoredDataError(f"stored trigger state is unreadable ({exc!r})") from None


def _optional_float(value: Any) -> float | None:
    return None if value is None else float(value)
