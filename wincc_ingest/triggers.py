"""Integration triggers: a tag condition or an alarm event, and what to send when it happens.

The poller hands every poll's values and alarm transitions to `SiteTriggers.evaluate`, which
answers with the firings to deliver and the trigger state that changed. Pure: no Django, no
network, no Redis; the poller keeps the state in memory and in Redis (wincc_ingest.codec),
and the dashboard's delivery task sends (wincc_ingest.delivery).

A trigger's `min_interval` coalesces: within the interval after a delivery, later firings of
the same trigger (for alarms: of the same trigger and alarm) replace each other, and the
latest is delivered once the interval is over. So a chattering tag sends at most one event
per interval, and the last state is never lost.
"""

from __future__ import annotations

import fnmatch
import math
import os
import re
import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime
from pathlib import Path
from typing import Any

from wincc_bridge.models import Quality, TagValue
from wincc_ingest.journal import JournalEvent

TAG_CONDITIONS = ("above", "below", "outside_limits", "change", "equals", "quality_not_good",
                  "stale")
# The journal's words (wincc_ingest.journal.Transition): "returned" is the condition going
# away, "cleared" the alarm leaving WinCC's list.
ALARM_EVENTS = ("raised", "acknowledged", "returned", "cleared", "shelved", "unshelved")
LIMIT_NAMES = ("ll", "l", "h", "hh")

# The placeholders a body or topic template may use (docs/integrations.md).
PLACEHOLDERS = (
    "event_id", "trigger", "site", "event", "condition", "tag", "value", "quality", "timestamp",
    "coalesced", "alarm.name", "alarm.instance_id", "alarm.transition", "alarm.state",
    "alarm.priority", "alarm.class", "alarm.text", "alarm.info", "alarm.area",
    "alarm.acknowledged_by",
)
PLACEHOLDER = re.compile(r"\{([a-z_.]+)\}")
_EVENT_IDS = uuid.UUID("6f1c2a43-8f0e-4d57-9a51-3c0b9e1d7a20")  # namespace of event ids


@dataclass(frozen=True)
class TagCondition:
    site: str
    tag: str
    condition: str  # one of TAG_CONDITIONS
    high: float | None = None  # above, outside_limits
    low: float | None = None  # below, outside_limits
    equals: Any = None
    hysteresis: float = 0.0
    deadband: float = 0.0
    seconds: float = 0.0
    on_return: bool = False  # also deliver when the condition goes away


@dataclass(frozen=True)
class AlarmCondition:
    events: tuple[str, ...]
    sites: tuple[str, ...] = ()  # empty: every site
    priority_min: int | None = None
    priority_max: int | None = None
    classes: tuple[str, ...] = ()
    name: str = "*"  # a shell pattern (fnmatch), case-sensitive

    def matches(self, event: JournalEvent) -> bool:
        return (
            event.transition.value in self.events
            and (not self.sites or event.site in self.sites)
            and (self.priority_min is None or event.priority >= self.priority_min)
            and (self.priority_max is None or event.priority <= self.priority_max)
            and (not self.classes or event.alarm_class in self.classes)
            and fnmatch.fnmatchcase(event.alarm, self.name)
        )


@dataclass(frozen=True)
class TLSOptions:
    """As a site's tls block: verified by default, a pinned ca_file, or insecure."""

    verify_tls: bool = True
    ca_file: str | None = None
    insecure: bool = False


@dataclass(frozen=True)
class SecretHeader:
    name: str
    env: str
    prefix: str = ""


@dataclass(frozen=True)
class WebhookAction:
    url: str = ""
    url_env: str | None = None  # the URL itself is a secret (a token in its path)
    method: str = "POST"
    headers: tuple[tuple[str, str], ...] = ()
    secret_headers: tuple[SecretHeader, ...] = ()
    body: Any = None  # a template; None sends the whole event
    signature_env: str | None = None
    signature_header: str = "X-Signature-256"
    timeout: float = 10.0
    tls: TLSOptions = field(default_factory=TLSOptions)

    kind = "webhook"


@dataclass(frozen=True)
class MqttAction:
    broker: str  # mqtt://host:port or mqtts://host:port
    topic: str  # a template
    qos: int = 1
    retain: bool = False
    username: str = ""
    password_env: str | None = None
    client_id: str = ""
    body: Any = None
    timeout: float = 10.0
    tls: TLSOptions = field(default_factory=TLSOptions)

    kind = "mqtt"


Action = WebhookAction | MqttAction


@dataclass(frozen=True)
class Trigger:
    id: str
    when: TagCondition | AlarmCondition
    then: tuple[Action, ...]
    min_interval: float = 0.0
    enabled: bool = True
    description: str = ""

    def watches(self, site: str) -> bool:
        if isinstance(self.when, TagCondition):
            return self.when.site == site
        return not self.when.sites or site in self.when.sites


# --- building from the configuration (validated before: wincc_ingest.config_validation) ----


def _tls(raw: Mapping[str, Any], base_dir: Path | None) -> TLSOptions:
    """Relative ca_file paths count from the configuration file's folder, as for sites."""
    tls = raw.get("tls", {})
    ca_file = tls.get("ca_file")
    if ca_file and not os.path.isabs(ca_file):
        ca_file = os.path.normpath((base_dir or Path.cwd()) / ca_file)
    return TLSOptions(tls.get("verify", True), ca_file, tls.get("insecure", False))


def _action(raw: Mapping[str, Any], base_dir: Path | None) -> Action:
    if "mqtt" in raw:
        mqtt = raw["mqtt"]
        return MqttAction(
            broker=mqtt["broker"], topic=mqtt["topic"], qos=mqtt.get("qos", 1),
            retain=mqtt.get("retain", False), username=mqtt.get("username", ""),
            password_env=mqtt.get("password_env"), client_id=mqtt.get("client_id", ""),
            body=mqtt.get("body"), timeout=mqtt.get("timeout", 10.0), tls=_tls(mqtt, base_dir),
        )
    hook = raw["webhook"]
    headers = hook.get("headers", {})
    return WebhookAction(
        url=hook.get("url", ""), url_env=hook.get("url_env"), method=hook.get("method", "POST"),
        headers=tuple((k, v) for k, v in headers.items() if isinstance(v, str)),
        secret_headers=tuple(
            SecretHeader(k, v["env"], v.get("prefix", ""))
            for k, v in headers.items() if isinstance(v, dict)
        ),
        body=hook.get("body"), signature_env=hook.get("signature_env"),
        signature_header=hook.get("signature_header", "X-Signature-256"),
        timeout=hook.get("timeout", 10.0), tls=_tls(hook, base_dir),
    )


def _limit(value: Any, limits: Any) -> float | None:
    """A threshold: a number, or the name of one of the tag's limits."""
    if isinstance(value, str):
        found = getattr(limits, value, None)
        return None if found is None else float(found)
    return None if value is None else float(value)


def _condition(when: Mapping[str, Any], tag_limits: Mapping[tuple[str, str], Any]
               ) -> TagCondition | AlarmCondition:
    if "alarm" in when:
        priority = when.get("priority", {})
        return AlarmCondition(
            events=tuple(when["alarm"]), sites=tuple(when.get("sites", ())),
            priority_min=priority.get("min"), priority_max=priority.get("max"),
            classes=tuple(when.get("classes", ())), name=when.get("name", "*"),
        )
    site, tag, condition = when["site"], when["tag"], when["condition"]
    limits = tag_limits.get((site, tag))
    high = low = None
    if condition == "above":
        high = _limit(when.get("value", "h"), limits)
    elif condition == "below":
        low = _limit(when.get("value", "l"), limits)
    elif condition == "outside_limits":
        high = _limit("h", limits) if getattr(limits, "h", None) is not None else _limit(
            "hh", limits)
        low = _limit("l", limits) if getattr(limits, "l", None) is not None else _limit(
            "ll", limits)
    return TagCondition(
        site=site, tag=tag, condition=condition, high=high, low=low, equals=when.get("value"),
        hysteresis=float(when.get("hysteresis", 0.0)), deadband=float(when.get("deadband", 0.0)),
        seconds=float(when.get("seconds", 0.0)), on_return=bool(when.get("on_return", False)),
    )


def build_triggers(raw: Sequence[Mapping[str, Any]], tag_limits: Mapping[tuple[str, str], Any],
                   base_dir: Path | None) -> tuple[Trigger, ...]:
    """Triggers from the validated `triggers` list; `tag_limits`: (site, tag) -> Limits."""
    return tuple(
        Trigger(
            id=item["id"], when=_condition(item["when"], tag_limits),
            then=tuple(_action(action, base_dir) for action in item["then"]),
            min_interval=float(item.get("min_interval", 0.0)),
            enabled=item.get("enabled", True), description=item.get("description", ""),
        )
        for item in raw
    )


# --- templates ------------------------------------------------------------------------------


def lookup(event: Mapping[str, Any], name: str) -> Any:
    """A placeholder's value in an event document ("alarm.name" looks into "alarm")."""
    node: Any = event
    for part in name.split("."):
        node = node.get(part) if isinstance(node, Mapping) else None
    return node


def render(template: Any, event: Mapping[str, Any]) -> Any:
    """The template with its placeholders filled in, as a JSON value.

    A string that is one placeholder alone becomes the value with its JSON type (a number
    stays a number, a missing alarm field becomes null); placeholders inside longer text are
    written as text. Values are never pasted into JSON text, so no value can change the
    document's shape.
    """
    if isinstance(template, str):
        whole = PLACEHOLDER.fullmatch(template)
        if whole:
            return lookup(event, whole.group(1))
        return render_text(template, event)
    if isinstance(template, list):
        return [render(item, event) for item in template]
    if isinstance(template, dict):
        return {key: render(value, event) for key, value in template.items()}
    return template


def render_text(template: str, event: Mapping[str, Any]) -> str:
    def text(match: re.Match[str]) -> str:
        value = lookup(event, match.group(1))
        if value is None:
            return ""
        if isinstance(value, bool):
            return "true" if value else "false"
        return str(value)

    return PLACEHOLDER.sub(text, template)


def unknown_placeholders(template: Any) -> list[str]:
    """Placeholders in a template that no event has."""
    if isinstance(template, str):
        return [name for name in PLACEHOLDER.findall(template) if name not in PLACEHOLDERS]
    if isinstance(template, list):
        return [name for item in template for name in unknown_placeholders(item)]
    if isinstance(template, dict):
        return [name for value in template.values() for name in unknown_placeholders(value)]
    return []


# --- evaluation -----------------------------------------------------------------------------


@dataclass(frozen=True)
class TriggerState:
    """What one trigger remembers between polls (for alarm triggers: per alarm name)."""

    active: bool = False  # the condition held at the last poll
    reference: Any = None  # change: the value last delivered (or first seen)
    seen: bool = False  # a value was evaluated at least once
    last_sent: float | None = None  # epoch seconds of the last delivery
    pending: dict[str, Any] | None = None  # the latest event waiting for min_interval
    pending_count: int = 0  # how many firings `pending` stands for


@dataclass(frozen=True)
class Firing:
    trigger: Trigger
    event: dict[str, Any]


@dataclass
class Evaluation:
    firings: list[Firing] = field(default_factory=list)
    changed: dict[str, TriggerState] = field(default_factory=dict)
    removed: list[str] = field(default_factory=list)


def _iso(ts: datetime | None) -> str | None:
    return None if ts is None else ts.isoformat().replace("+00:00", "Z")


def _number(value: Any) -> float | None:
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    return float(value) if math.isfinite(value) else None


def _event(trigger: Trigger, site: str, event: str, identity: str, at: datetime | None,
           **fields: Any) -> dict[str, Any]:
    timestamp = _iso(at)
    key = f"{trigger.id}|{site}|{identity}|{event}|{timestamp}"
    document: dict[str, Any] = {
        "event_id": str(uuid.uuid5(_EVENT_IDS, key)), "trigger": trigger.id, "site": site,
        "event": event, "condition": None, "tag": None, "value": None, "quality": None,
        "timestamp": timestamp, "coalesced": 1, "alarm": None,
    }
    document.update(fields)
    return document


def _tag_event(trigger: Trigger, cond: TagCondition, tag: TagValue, event: str,
               now: datetime) -> dict[str, Any]:
    value = tag.value if isinstance(tag.value, str | bool) else _number(tag.value)
    return _event(trigger, cond.site, event, cond.tag, tag.timestamp or now,
                  condition=cond.condition, tag=cond.tag, value=value,
                  quality=tag.quality.value)


def _alarm_event(trigger: Trigger, event: JournalEvent) -> dict[str, Any]:
    alarm = {
        "name": event.alarm, "instance_id": event.instance_id,
        "transition": event.transition.value, "state": event.state,
        "priority": event.priority, "class": event.alarm_class, "text": event.event_text,
        "info": event.info_text, "area": event.area,
        "acknowledged_by": event.acknowledged_by or None,
    }
    return _event(trigger, event.site, event.transition.value,
                  f"{event.alarm}|{event.instance_id}", event.at, condition="alarm",
                  alarm=alarm)


def _holds(cond: TagCondition, tag: TagValue, was: bool, now: datetime) -> bool | None:
    """Whether an edge condition holds now; None when this value cannot tell."""
    if cond.condition == "quality_not_good":
        return tag.quality is not Quality.GOOD
    if cond.condition == "stale":
        if tag.timestamp is None:
            return None
        return (now - tag.timestamp).total_seconds() > cond.seconds
    if cond.condition == "equals":
        if tag.quality is Quality.BAD:
            return None
        # 1 and true are the same to a plant: a digital tag reads as either.
        return bool(tag.value == cond.equals)
    value = _number(tag.value)
    if value is None or tag.quality is Quality.BAD:
        return None  # a bad or missing value neither enters nor leaves a limit
    margin = cond.hysteresis if was else 0.0
    above = cond.high is not None and value > cond.high - margin
    below = cond.low is not None and value < cond.low + margin
    return above or below


class SiteTriggers:
    """The triggers watching one site, and their state. Not thread-safe (as the poller)."""

    def __init__(self, site: str, triggers: Sequence[Trigger]) -> None:
        self.site = site
        watching = [t for t in triggers if t.enabled and t.watches(site)]
        self.tag_triggers = [t for t in watching if isinstance(t.when, TagCondition)]
        self.alarm_triggers = [t for t in watching if isinstance(t.when, AlarmCondition)]
        self._by_id = {t.id: t for t in watching}
        self.states: dict[str, TriggerState] = {}

    def __bool__(self) -> bool:
        return bool(self._by_id)

    def known(self, slot: str) -> bool:
        return slot.partition("|")[0] in self._by_id

    def evaluate(self, tags: Sequence[TagValue], events: Sequence[JournalEvent],
                 now: datetime) -> Evaluation:
        """What this poll fires, and the state to keep; memory changes only with commit()."""
        result = Evaluation()
        states = dict(self.states)
        epoch = now.timestamp()
        by_name = {tag.name: tag for tag in tags}
        for trigger in self.tag_triggers:
            cond = trigger.when
            assert isinstance(cond, TagCondition)
            tag = by_name.get(cond.tag)
            if tag is None:
                continue
            state = states.get(trigger.id, TriggerState())
            state, event = self._tag_step(trigger, cond, tag, state, now)
            if event is not None:
                state = self._offer(trigger, state, event, epoch, result)
            states[trigger.id] = state
        for journal_event in events:
            for trigger in self.alarm_triggers:
                assert isinstance(trigger.when, AlarmCondition)
                if trigger.when.matches(journal_event):
                    slot = f"{trigger.id}|{journal_event.alarm}"
                    states[slot] = self._offer(
                        trigger, states.get(slot, TriggerState()),
                        _alarm_event(trigger, journal_event), epoch, result)
        for slot, state in list(states.items()):
            owner = self._by_id.get(slot.partition("|")[0])
            if owner is None:
                continue
            if state.pending is not None and self._due(owner, state, epoch):
                states[slot] = state = self._send(owner, state, state.pending, epoch, result)
            if "|" in slot and state.pending is None and self._due(owner, state, epoch):
                states.pop(slot)  # an alarm slot is needed only while its interval runs
        for slot, state in states.items():
            if self.states.get(slot) != state:
                result.changed[slot] = state
        result.removed = [slot for slot in self.states if slot not in states]
        return result

    def commit(self, result: Evaluation) -> None:
        self.states.update(result.changed)
        for slot in result.removed:
            self.states.pop(slot, None)

    def _tag_step(self, trigger: Trigger, cond: TagCondition, tag: TagValue,
                  state: TriggerState, now: datetime) -> tuple[TriggerState, dict | None]:
        if cond.condition == "change":
            if tag.quality is Quality.BAD or tag.value is None:
                return state, None
            if not state.seen:
                return replace(state, seen=True, reference=tag.value), None
            new, old = _number(tag.value), _number(state.reference)
            moved = (abs(new - old) > cond.deadband if new is not None and old is not None
                     else tag.value != state.reference)
            if not moved:
                return state, None
            return (replace(state, reference=tag.value),
                    _tag_event(trigger, cond, tag, "changed", now))
        holds = _holds(cond, tag, state.active, now)
        if holds is None or (holds == state.active and state.seen):
            return state, None
        state = replace(state, active=holds, seen=True)
        if holds:
            return state, _tag_event(trigger, cond, tag, "entered", now)
        if cond.on_return and state.last_sent is not None:
            return state, _tag_event(trigger, cond, tag, "left", now)
        return state, None

    @staticmethod
    def _due(trigger: Trigger, state: TriggerState, epoch: float) -> bool:
        return state.last_sent is None or epoch - state.last_sent >= trigger.min_interval

    def _offer(self, trigger: Trigger, state: TriggerState, event: dict[str, Any],
               epoch: float, result: Evaluation) -> TriggerState:
        if state.pending is None and self._due(trigger, state, epoch):
            return self._send(trigger, replace(state, pending_count=1), event, epoch, result)
        # Within the interval: the latest replaces what waits, and is counted.
        return replace(state, pending=event, pending_count=state.pending_count + 1)

    @staticmethod
    def _send(trigger: Trigger, state: TriggerState, event: dict[str, Any], epoch: float,
              result: Evaluation) -> TriggerState:
        result.firings.append(Firing(trigger, {**event, "coalesced": max(1, state.pending_count)}))
        return replace(state, last_sent=epoch, pending=None, pending_count=0)
