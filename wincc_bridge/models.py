"""Normalized values and alarms, the same whatever dialect a site speaks."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from datetime import UTC, datetime
from enum import StrEnum
from functools import lru_cache
from typing import Any


class Quality(StrEnum):
    GOOD = "good"
    UNCERTAIN = "uncertain"
    BAD = "bad"


class AlarmState(StrEnum):
    """ISA-18.2 / IEC 62682 alarm states, keyed on names (letters differ between editions)."""

    NORMAL = "normal"
    UNACKNOWLEDGED = "unacknowledged"
    ACKNOWLEDGED = "acknowledged"
    RETURNED_UNACKNOWLEDGED = "returned_unacknowledged"
    LATCHED_UNACKNOWLEDGED = "latched_unacknowledged"
    LATCHED_ACKNOWLEDGED = "latched_acknowledged"
    SHELVED = "shelved"
    SUPPRESSED = "suppressed"
    OUT_OF_SERVICE = "out_of_service"

    @property
    def needs_acknowledgement(self) -> bool:
        return self in _UNACKNOWLEDGED

    @property
    def label(self) -> str:
        return _LABELS[self]


_UNACKNOWLEDGED = frozenset(
    {
        AlarmState.UNACKNOWLEDGED,
        AlarmState.RETURNED_UNACKNOWLEDGED,
        AlarmState.LATCHED_UNACKNOWLEDGED,
    }
)

_LABELS = {
    AlarmState.NORMAL: "Normal",
    AlarmState.UNACKNOWLEDGED: "Unacknowledged",
    AlarmState.ACKNOWLEDGED: "Acknowledged",
    AlarmState.RETURNED_UNACKNOWLEDGED: "Returned to normal, unacknowledged",
    AlarmState.LATCHED_UNACKNOWLEDGED: "Latched, unacknowledged",
    AlarmState.LATCHED_ACKNOWLEDGED: "Latched, awaiting reset",
    AlarmState.SHELVED: "Shelved",
    AlarmState.SUPPRESSED: "Suppressed by design",
    AlarmState.OUT_OF_SERVICE: "Out of service",
}


class PriorityBand(StrEnum):
    """WinCC priority 0-16 in the bands of the WinCC Unified documentation."""

    NONE = "none"
    LOW = "low"
    MEDIUM = "medium"
    HIGH = "high"
    HIGHEST = "highest"

    @classmethod
    def of(cls, priority: int) -> PriorityBand:
        if priority <= 0:
            return cls.NONE
        if priority <= 5:
            return cls.LOW
        if priority <= 10:
            return cls.MEDIUM
        if priority <= 15:
            return cls.HIGH
        return cls.HIGHEST


def quality_from_opc(code: int) -> Quality:
    """Classic WinCC `qualityCode`: the quality byte QQSSSSLL, where the top two bits decide.

    In Siemens' scheme (S7 / PROFINET quality code, and WinCC Unified's MainQuality)
    00 is bad, 01 uncertain, 10 good (non-cascade) and 11 good (cascade); OPC-DA uses only
    00, 01 and 11, so reading 10 as good loses nothing for an OPC-DA source.
    """
    qq = code & 0xC0
    if qq == 0x00:
        return Quality.BAD
    if qq == 0x40:
        return Quality.UNCERTAIN
    return Quality.GOOD


def utcnow() -> datetime:
    return datetime.now(UTC)


def _iso(ts: datetime | None) -> str | None:
    return None if ts is None else _utc_text(ts)


# Polls write the same source times again and again (tags changed in the same tick, a value
# changed but not its time); the text depends only on the instant, which is what equal
# datetimes share.
@lru_cache(maxsize=4096)
def _utc_text(ts: datetime) -> str:
    return ts.astimezone(UTC).isoformat().replace("+00:00", "Z")


def parse_iso(text: str | None) -> datetime | None:
    """Parse an ISO-8601 timestamp; a time without zone is taken as UTC."""
    if not text:
        return None
    ts = datetime.fromisoformat(text.replace("Z", "+00:00"))
    if ts.tzinfo is None:
        ts = ts.replace(tzinfo=UTC)
    return ts.astimezone(UTC)


@dataclass(frozen=True, slots=True)
class TagValue:
    name: str
    value: Any
    quality: Quality
    quality_code: int | None = None
    timestamp: datetime | None = None
    error: str | None = None

    def to_json(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "value": self.value,
            "quality": self.quality.value,
            "quality_code": self.quality_code,
            "timestamp": _iso(self.timestamp),
            "error": self.error,
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> TagValue:
        return cls(
            name=data["name"],
            value=data.get("value"),
            quality=Quality(data.get("quality", "bad")),
            quality_code=data.get("quality_code"),
            timestamp=parse_iso(data.get("timestamp")),
            error=data.get("error"),
        )


@dataclass(frozen=True, slots=True)
class HistoryPoint:
    """One archived value. `bounding`: the last value before the window or the first after
    it (Unified's bounding values), so a chart's line reaches the window's edges."""

    timestamp: datetime
    value: Any
    quality: Quality
    bounding: bool = False


@dataclass(frozen=True, slots=True)
class TagHistory:
    """A tag's archived values in a window, oldest first. `error`: the archive's own sentence
    for this tag (not logged, unknown), with no points; `truncated`: the server stopped at
    the number of values asked for, so the window holds more than these."""

    name: str
    points: list[HistoryPoint] = field(default_factory=list)
    error: str | None = None
    truncated: bool = False


def alarm_key(name: str, instance_id: int) -> str:
    """One occurrence of an alarm: its name and WinCC's instance id."""
    return f"{name}|{instance_id}"


@dataclass(frozen=True, slots=True)
class Alarm:
    site: str
    name: str
    instance_id: int
    state: AlarmState
    priority: int = 0
    alarm_class: str = ""
    event_text: str = ""
    info_text: str = ""
    area: str = ""
    raise_time: datetime | None = None
    ack_time: datetime | None = None
    clear_time: datetime | None = None
    # Whether an operator can acknowledge it now (state and WinCC's userResponse agree).
    can_acknowledge: bool = False
    acknowledged_by: str | None = None
    # The server's own state word, kept for diagnostics and the journal.
    source_state: str = ""
    # Dialect-specific details (a path, a message number): compared, but left out of the
    # hash, so an alarm can be a cache key as it is.
    extra: dict[str, Any] = field(default_factory=dict, hash=False)

    @property
    def key(self) -> str:
        return alarm_key(self.name, self.instance_id)

    @property
    def priority_band(self) -> PriorityBand:
        return PriorityBand.of(self.priority)

    def to_json(self) -> dict[str, Any]:
        data = dataclasses.asdict(self)
        data["state"] = self.state.value
        for key in ("raise_time", "ack_time", "clear_time"):
            data[key] = _iso(getattr(self, key))
        return data

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Alarm:
        known = {f.name for f in dataclasses.fields(cls)}
        values = {k: v for k, v in data.items() if k in known}
        values["state"] = AlarmState(values["state"])
        for key in ("raise_time", "ack_time", "clear_time"):
            values[key] = parse_iso(values.get(key))
        return cls(**values)


@dataclass(frozen=True, slots=True)
class ItemResult:
    """The outcome of one item of a write or an acknowledgement."""

    name: str
    ok: bool
    error: str | None = None
    instance_id: int | None = None

    def to_json(self) -> dict[str, Any]:
        return {"name": self.name, "ok": self.ok, "error": self.error}


@dataclass(frozen=True, slots=True)
class BrowseItem:
    name: str
    display_name: str = ""
    object_type: str = ""
    data_type: str = ""


@dataclass(frozen=True, slots=True)
class Notification:
    """What a server pushed at once: changed tag values (each with its source time and
    quality), alarms raised or changed, and the keys (Alarm.key) of alarms no longer
    active. An empty one says the server answered a keep-alive."""

    tags: tuple[TagValue, ...] = ()
    alarms: tuple[Alarm, ...] = ()
    gone: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class Capabilities:
    read_tags: bool = True
    write_tags: bool = True
    browse: bool = True
    active_alarms: bool = True
    acknowledge: bool = False
    # Alarms acknowledged by writing a tag (Classic has no acknowledge call): only these.
    # None: any alarm, when `acknowledge` is true.
    acknowledge_only: frozenset[str] | None = None
    # Why acknowledging is off when the user of the library turned it off, not the dialect.
    acknowledge_off: str = ""
    # The server shelves alarms itself (Unified shelveAlarms / unshelveAlarms).
    shelve: bool = False
    # The server answers `history` from its archives (tag logging, logged tag values).
    history: bool = False

    def can_acknowledge(self, name: str) -> bool:
        return self.acknowledge and (self.acknowledge_only is None or name in self.acknowledge_only)

    def why_not_acknowledge(self, name: str) -> str:
        """A plain sentence for a person whose acknowledgement cannot be sent."""
        if self.acknowledge_off:
            return self.acknowledge_off
        if self.acknowledge_only is not None:
            return (
                "WinCC Classic has no acknowledge call; this site acknowledges only alarms "
                f"mapped to an acknowledge tag, and {name} has none. Acknowledge it in WinCC."
            )
        return "This WinCC server offers no acknowledge call. Acknowledge it in WinCC."
