"""The Redis key layout, in one place. docs/redis-keys.md documents it as a table.

Writers: wincc_ingest.poller (values, alarms, health, journal stream, change channel).
Readers: the dashboard (it never calls WinCC; it reads these keys).
Every key starts with PREFIX so one Redis can be shared with other applications.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from wincc_bridge.models import Alarm, AlarmState, Quality, TagValue, parse_iso, utcnow

PREFIX = "wdash"

# One PUBLISH per poll that changed something: {"site": id, "tags": [...], "alarms": bool,
# "health": bool}. The web's live hub is the only subscriber per web process.
CHANGES_CHANNEL = f"{PREFIX}:changes"

# Alarm transitions, capped, replayable; the journal consumer persists them to the database.
JOURNAL_STREAM = f"{PREFIX}:journal"
JOURNAL_GROUP = "journal-writers"
JOURNAL_MAXLEN = 100_000
# Stream entries the journal consumer could not persist, kept with the reason (never dropped).
JOURNAL_REJECTED_STREAM = f"{PREFIX}:journal:rejected"

# Liveness of the scheduler and the workers, for /health/.
BEAT_HEARTBEAT = f"{PREFIX}:beat:heartbeat"
HEARTBEAT_TTL = 60  # seconds; refreshed at least every 10 s
# Held (with a TTL, renewed on every tick) by the one running beat; a second beat waits for it.
BEAT_LOCK = f"{PREFIX}:beat:lock"

# Samples kept per tag for the small trends.
TREND_LENGTH = 600

# A site is current while its last success is younger than this many poll intervals.
CURRENT_INTERVALS = 3


def site_values(site: str) -> str:
    """Hash: tag name -> JSON {value, quality, quality_code, timestamp, read_at, error}."""
    return f"{PREFIX}:site:{site}:values"


def site_alarms(site: str) -> str:
    """Hash: "<alarm name>|<instance id>" -> JSON of wincc_bridge.models.Alarm."""
    return f"{PREFIX}:site:{site}:alarms"


def site_health(site: str) -> str:
    """Hash: last_attempt, last_success, duration_ms, latency_ms, failures, last_error, ..."""
    return f"{PREFIX}:site:{site}:health"


def site_lock(site: str) -> str:
    """String with a TTL: held while one poll of the site runs, so polls never overlap."""
    return f"{PREFIX}:site:{site}:lock"


def site_trend(site: str, tag: str) -> str:
    """List, newest first, capped: "<epoch seconds> <value>" samples for the small trends."""
    return f"{PREFIX}:site:{site}:trend:{tag}"


# LPUSH + LTRIM of many trends in one command: a poll that changes thousands of values
# would otherwise spend most of its time packing two commands per tag.
_PUSH_TRENDS = """
local length = tonumber(ARGV[1])
for i, key in ipairs(KEYS) do
  redis.call('LPUSH', key, ARGV[i + 1])
  redis.call('LTRIM', key, 0, length - 1)
end
return #KEYS
"""


def push_trends(pipe: Any, site: str, samples: dict[str, str]) -> None:
    """Queue on `pipe` one sample per tag (tag -> "<epoch> <value>"), newest first, capped."""
    if samples:
        pipe.eval(
            _PUSH_TRENDS,
            len(samples),
            *(site_trend(site, tag) for tag in samples),
            TREND_LENGTH,
            *samples.values(),
        )


def worker_heartbeat(hostname: str) -> str:
    return f"{PREFIX}:worker:{hostname}:heartbeat"


def worker_heartbeat_pattern() -> str:
    return f"{PREFIX}:worker:*:heartbeat"


def alarm_ack_lock(site: str, name: str, instance_id: int) -> str:
    """String with a TTL: JSON {"user", "phase"} while one acknowledgement of the alarm runs,
    kept briefly after success so a second click meets "already acknowledged"."""
    return f"{PREFIX}:site:{site}:ack:{name}|{instance_id}"


# --- Values, alarms and health as stored: encoders (poller) and decoders (web) ---------------


class StoredDataError(ValueError):
    """A stored entry cannot be read back; the message says which key and why."""


@dataclass(frozen=True, slots=True)
class StoredValue:
    """A tag's value as the poller last wrote it, with the time of that poll."""

    tag: TagValue
    read_at: datetime


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

    @property
    def is_failing(self) -> bool:
        return self.failures > 0

    def is_current(self, now: datetime) -> bool:
        """True while the last success is recent and no poll has failed since."""
        if self.failures or self.last_success is None:
            return False
        return now - self.last_success <= timedelta(seconds=CURRENT_INTERVALS * self.interval)

    def age(self, now: datetime) -> float | None:
        """Seconds since the last successful poll, or None when there was never one."""
        if self.last_success is None:
            return None
        return (now - self.last_success).total_seconds()


def iso(ts: datetime | None) -> str:
    """ISO-8601 UTC with "Z", or "" (the health hash holds strings only)."""
    return "" if ts is None else ts.isoformat().replace("+00:00", "Z")


# One encoder for every value a poll writes (json.dumps with options builds one per call).
_compact_json = json.JSONEncoder(separators=(",", ":"), default=str).encode


def encode_value(tag: TagValue, read_at: datetime) -> str:
    data = tag.to_json()
    data["read_at"] = iso(read_at)
    return _compact_json(data)


def decode_value(raw: str, name: str | None = None) -> StoredValue:
    """Parse a site_values entry; `name` (the hash field) wins over the stored name."""
    try:
        data = json.loads(raw)
        if not isinstance(data, dict):
            raise TypeError("not a JSON object")
        if name is not None:
            data["name"] = name
        read_at = parse_iso(data.get("read_at"))
        if read_at is None:
            raise KeyError("read_at")
        return StoredValue(tag=TagValue.from_json(data), read_at=read_at)
    except (ValueError, TypeError, KeyError) as exc:
        raise StoredDataError(f"stored value {name or ''!s} is unreadable ({exc!r})") from None


def encode_alarm(alarm: Alarm) -> str:
    return _compact_json(alarm.to_json())


def decode_alarm(raw: str) -> Alarm:
    try:
        data = json.loads(raw)
        if not isinstance(data, dict):
            raise TypeError("not a JSON object")
        return Alarm.from_json(data)
    except (ValueError, TypeError, KeyError) as exc:
        raise StoredDataError(f"stored alarm is unreadable ({exc!r})") from None


def encode_health(health: SiteHealth) -> dict[str, str]:
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
    }


def decode_health(mapping: dict[str, str]) -> SiteHealth:
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
        )
    except (ValueError, KeyError) as exc:
        raise StoredDataError(f"stored site health is unreadable ({exc!r})") from None


def unreadable_value(name: str, error: StoredDataError, read_at: datetime) -> StoredValue:
    """What a reader shows for an entry it cannot parse: a bad value that says why."""
    return StoredValue(TagValue(name, None, Quality.BAD, error=str(error)), read_at)


def unreadable_alarm(site: str, field: str, error: StoredDataError) -> Alarm:
    name, _, instance = field.rpartition("|")
    return Alarm(
        site=site,
        name=name or field,
        instance_id=int(instance) if instance.isdigit() else 0,
        state=AlarmState.UNACKNOWLEDGED,
        event_text=str(error),
    )


# --- Small sync readers (redis.Redis with decode_responses=True) -------------------------------


def decode_values(site: str, mapping: dict[str, str], now: datetime) -> dict[str, StoredValue]:
    """tag name -> StoredValue; an unreadable entry becomes a bad value naming the problem."""
    values = {}
    for name, raw in mapping.items():
        try:
            values[name] = decode_value(raw, name)
        except StoredDataError as exc:
            values[name] = unreadable_value(name, exc, now)
    return values


def decode_alarms(site: str, mapping: dict[str, str]) -> dict[str, Alarm]:
    """"<name>|<instance>" -> Alarm; an unreadable entry stays visible as an unacknowledged one."""
    alarms = {}
    for field, raw in mapping.items():
        try:
            alarms[field] = decode_alarm(raw)
        except StoredDataError as exc:
            alarms[field] = unreadable_alarm(site, field, exc)
    return alarms


def read_values(r: Any, site: str) -> dict[str, StoredValue]:
    return decode_values(site, r.hgetall(site_values(site)), utcnow())


def read_alarms(r: Any, site: str) -> dict[str, Alarm]:
    return decode_alarms(site, r.hgetall(site_alarms(site)))


def read_health(r: Any, site: str) -> SiteHealth | None:
    """None while the site has never been polled."""
    mapping = r.hgetall(site_health(site))
    return decode_health(mapping) if mapping else None
