"""Alarm definitions and the life of each alarm instance, in WinCC Unified's state names.

One instance per raise. Acknowledge and clear are independent (ISA-18.2): an instance that
clears before it is acknowledged stays visible as RAISED_CLEARED until someone acknowledges it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from wincc_sim.timefmt import iso_ms

RAISED = "RAISED"
RAISED_ACKNOWLEDGED = "RAISED_ACKNOWLEDGED"
RAISED_CLEARED = "RAISED_CLEARED"
RAISED_ACKNOWLEDGED_CLEARED = "RAISED_ACKNOWLEDGED_CLEARED"
RAISED_CLEARED_ACKNOWLEDGED = "RAISED_CLEARED_ACKNOWLEDGED"
NORMAL = "NORMAL"
REMOVED = "REMOVED"

# Class name -> whether it requires acknowledgement (docs/protocols.md).
ALARM_CLASSES = {"Alarm": True, "Warning": True, "Notification": False}
# A demo left running for weeks (or with chatter on) must not grow without bound.
HISTORY_LIMIT = 50_000

# Unified error codes for acknowledge/reset (wincc-api.md 4.2). A missing instance is
# reported with the instance id itself as the code (the schema's "x").
UNKNOWN_NAME = "2"
NOT_IN_STATE = "305"
# A shelveAlarms without shelveTimeout uses the runtime's configured time (a guess: 8 hours).
DEFAULT_SHELVE_TIME = timedelta(hours=8)


@dataclass(frozen=True, slots=True)
class AlarmDef:
    name: str
    tag: str
    kind: str  # "HH" | "H" | "L" | "LL" | "digital"
    priority: int
    alarm_class: str
    event_text: str
    info_text: str = ""
    area: str = ""
    limit: float | None = None
    hysteresis: float = 0.0
    latched: bool = False  # needs a reset after acknowledge and clear

    @property
    def ack_required(self) -> bool:
        return ALARM_CLASSES[self.alarm_class]

    def condition(self, value: Any, active: bool) -> bool:
        """Limit check with hysteresis: an active alarm clears only past limit -/+ hysteresis."""
        if self.kind == "digital":
            return bool(value)
        if value is None or self.limit is None:
            return active
        if self.kind in ("H", "HH"):
            return value > self.limit - (self.hysteresis if active else 0)
        return value < self.limit + (self.hysteresis if active else 0)


@dataclass(slots=True)
class AlarmInstance:
    definition: AlarmDef
    instance_id: int
    state: str
    raise_time: datetime
    modification_time: datetime
    value: Any = None
    ack_time: datetime | None = None
    clear_time: datetime | None = None
    reset_time: datetime | None = None
    acknowledged_by: str = ""

    @property
    def name(self) -> str:
        return self.definition.name

    @property
    def active(self) -> bool:
        return self.state in (RAISED, RAISED_ACKNOWLEDGED)

    @property
    def can_acknowledge(self) -> bool:
        return self.definition.ack_required and self.state in (RAISED, RAISED_CLEARED)

    @property
    def can_reset(self) -> bool:
        return self.definition.latched and self.state in (
            RAISED_ACKNOWLEDGED_CLEARED,
            RAISED_CLEARED_ACKNOWLEDGED,
        )

    def times(self) -> dict[str, str | None]:
        return {
            "raise_time": iso_ms(self.raise_time),
            "ack_time": iso_ms(self.ack_time),
            "clear_time": iso_ms(self.clear_time),
            "reset_time": iso_ms(self.reset_time),
        }

    def to_json(self) -> dict[str, Any]:
        d = self.definition
        return {
            "name": d.name,
            "instance_id": self.instance_id,
            "state": self.state,
            "tag": d.tag,
            "priority": d.priority,
            "alarm_class": d.alarm_class,
            "ack_required": d.ack_required,
            "latched": d.latched,
            "raise_time": iso_ms(self.raise_time),
            "ack_time": iso_ms(self.ack_time),
            "clear_time": iso_ms(self.clear_time),
            "acknowledged_by": self.acknowledged_by or None,
            "value": self.value,
        }


@dataclass(slots=True)
class AlarmBook:
    """Every alarm definition, the visible instances and the history of every transition."""

    definitions: dict[str, AlarmDef]
    visible: list[AlarmInstance] = field(default_factory=list)
    history: list[dict[str, Any]] = field(default_factory=list)
    # Shelved alarms (by name) and when their shelving ends; disabled alarms raise nothing.
    shelved: dict[str, datetime] = field(default_factory=dict)
    disabled: set[str] = field(default_factory=set)
    _next_instance: dict[str, int] = field(default_factory=dict)

    def suppression(self, name: str) -> str:
        """The alarm's AlarmSuppressionState: shelving is by configured alarm, so it covers
        instances raised while the alarm is on the shelf too."""
        return "SHELVED" if name in self.shelved else "UNSUPPRESSED"

    def instances(self, name: str) -> list[AlarmInstance]:
        return [a for a in self.visible if a.name == name]

    def is_active(self, name: str) -> bool:
        return any(a.active for a in self.instances(name))

    def update(self, name: str, condition: bool, now: datetime, value: Any = None) -> None:
        """Apply the alarm's condition as the plant computed it this tick."""
        current = [a for a in self.instances(name) if a.active]
        if condition and not current and name not in self.disabled:
            for old in self.instances(name):
                # Re-raised before it was dealt with: WinCC Unified removes the old instance.
                self._remove(old, now, "re-raised")
            self._raise(self.definitions[name], now, value)
        elif not condition:
            for inst in current:
                self._clear(inst, now)

    def raise_instance(self, name: str, instance_id: int, at: datetime, value: Any) -> None:
        """Raise a scheduled occurrence (the demo's day script) with its own id and time."""
        if name in self.disabled:
            return
        for old in self.instances(name):
            if old.active:
                self._clear(old, at)
        for old in self.instances(name):
            self._remove(old, at, "re-raised")
        self._raise(self.definitions[name], at, value, instance_id)

    def clear_instance(self, inst: AlarmInstance, at: datetime) -> None:
        if inst.active:
            self._clear(inst, at)

    def _raise(self, d: AlarmDef, now: datetime, value: Any, instance_id: int = 0) -> None:
        if not instance_id:
            instance_id = self._next_instance.get(d.name, 0) + 1
            self._next_instance[d.name] = instance_id
        inst = AlarmInstance(d, instance_id, RAISED, now, now, value=value)
        self.visible.append(inst)
        self._record(inst, "raised", NORMAL, now)

    def _clear(self, inst: AlarmInstance, now: datetime) -> None:
        before = inst.state
        inst.clear_time = inst.modification_time = now
        if before == RAISED and inst.definition.ack_required:
            inst.state = RAISED_CLEARED
        elif before == RAISED_ACKNOWLEDGED and inst.definition.latched:
            inst.state = RAISED_ACKNOWLEDGED_CLEARED
        else:
            inst.state = NORMAL
        self._record(inst, "cleared", before, now)
        if inst.state == NORMAL:
            self.visible.remove(inst)

    def _remove(self, inst: AlarmInstance, now: datetime, reason: str) -> None:
        before = inst.state
        inst.state = REMOVED
        inst.modification_time = now
        self.visible.remove(inst)
        self._record(inst, "removed", before, now, reason=reason)

    def acknowledge(
        self, name: str, instance_id: int, user: str, face: str, now: datetime
    ) -> list[tuple[int, str | None]]:
        """Acknowledge one instance, or every one for instance_id 0; (instance, error code)."""
        return self._act(name, instance_id, user, face, now, self._ack_one)

    def reset(
        self, name: str, instance_id: int, user: str, face: str, now: datetime
    ) -> list[tuple[int, str | None]]:
        return self._act(name, instance_id, user, face, now, self._reset_one)

    def _act(self, name, instance_id, user, face, now, one) -> list[tuple[int, str | None]]:
        if name not in self.definitions:
            return [(instance_id, UNKNOWN_NAME)]
        targets = self.instances(name)
        if instance_id:
            targets = [a for a in targets if a.instance_id == instance_id]
            if not targets:
                return [(instance_id, str(instance_id))]
        if not targets:
            return [(0, NOT_IN_STATE)]
        return [(inst.instance_id, one(inst, user, face, now)) for inst in targets]

    def _ack_one(self, inst: AlarmInstance, user: str, face: str, now: datetime) -> str | None:
        if not inst.can_acknowledge:
            return NOT_IN_STATE
        before = inst.state
        inst.ack_time = inst.modification_time = now
        inst.acknowledged_by = user
        if before == RAISED:
            inst.state = RAISED_ACKNOWLEDGED
        else:
            inst.state = RAISED_CLEARED_ACKNOWLEDGED
        self._record(inst, "acknowledged", before, now, user=user, face=face)
        if inst.state == RAISED_CLEARED_ACKNOWLEDGED and not inst.definition.latched:
            inst.state = NORMAL
            self.visible.remove(inst)
        return None

    def _reset_one(self, inst: AlarmInstance, user: str, face: str, now: datetime) -> str | None:
        if not inst.can_reset:
            return NOT_IN_STATE
        before = inst.state
        inst.reset_time = inst.modification_time = now
        inst.state = NORMAL
        self.visible.remove(inst)
        self._record(inst, "reset", before, now, user=user, face=face)
        return None

    # --- shelving and disabling, by configured alarm (shelveAlarms, disableAlarms...) --------

    def shelve(self, name: str, timeout: timedelta | None, user: str, face: str,
               now: datetime) -> str | None:
        """Shelve until now + timeout (None: the default time); an error code or None."""
        if name not in self.definitions:
            return UNKNOWN_NAME
        self.shelved[name] = now + (timeout or DEFAULT_SHELVE_TIME)
        self._touch(name, "shelved", now, user=user, face=face)
        return None

    def unshelve(self, name: str, user: str | None, face: str | None, now: datetime,
                 reason: str | None = None) -> str | None:
        if name not in self.definitions:
            return UNKNOWN_NAME
        if self.shelved.pop(name, None) is not None:
            self._touch(name, "unshelved", now, user=user, face=face, reason=reason)
        return None

    def expire_shelving(self, now: datetime) -> None:
        """Unshelve every alarm whose shelving time has run out."""
        for name in [n for n, until in self.shelved.items() if until <= now]:
            self.unshelve(name, None, None, now, reason="timeout")

    def disable(self, name: str, user: str, face: str, now: datetime) -> str | None:
        """No new instances; the visible ones are removed (WinCC's REMOVED state)."""
        if name not in self.definitions:
            return UNKNOWN_NAME
        if name not in self.disabled:
            self.disabled.add(name)
            for inst in self.instances(name):
                self._remove(inst, now, "disabled")
        return None

    def enable(self, name: str, now: datetime) -> str | None:
        if name not in self.definitions:
            return UNKNOWN_NAME
        self.disabled.discard(name)
        return None

    def _touch(self, name: str, event: str, now: datetime, **extra) -> None:
        """A change of the configured alarm: each visible instance is modified and logged."""
        for inst in self.instances(name):
            inst.modification_time = now
            self._record(inst, event, inst.state, now, **extra)

    def _record(self, inst: AlarmInstance, event: str, before: str, now: datetime, **extra) -> None:
        if len(self.history) >= HISTORY_LIMIT:
            del self.history[: HISTORY_LIMIT // 10]
        self.history.append(
            {
                "time": iso_ms(now),
                "alarm": inst.name,
                "instance_id": inst.instance_id,
                "event": event,
                "previous": before,
                "state": inst.state,
                "priority": inst.definition.priority,
                "alarm_class": inst.definition.alarm_class,
                "user": extra.get("user"),
                "face": extra.get("face"),
                "reason": extra.get("reason"),
                "suppression": self.suppression(inst.name),
                **inst.times(),
            }
        )
