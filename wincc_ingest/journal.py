"""Alarm transitions for the journal, found by comparing two polls of WinCC's active list.

Pure functions: the poller hands in the alarms it saw last time and now, and gets the
transitions to append to the journal stream. A poll only sees the state at that moment, so a
change of several steps between two polls (raised and acknowledged before we looked) yields
every step the two states imply, ordered by WinCC's own times.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from wincc_bridge.models import Alarm, AlarmState


class Transition(StrEnum):
    """The journal's words; the same values as dashboard.models.JournalEntry.Transition."""

    RAISED = "raised"
    ACKNOWLEDGED = "acknowledged"
    RETURNED = "returned"
    CLEARED = "cleared"
    SHELVED = "shelved"
    UNSHELVED = "unshelved"
    SUPPRESSED = "suppressed"
    CHANGED = "changed"


S = AlarmState
T = Transition

# (state last poll, state now) -> transitions; None is "not in the active list". "returned"
# is the condition going away, "cleared" the alarm leaving the list without it (a reset, or
# WinCC removing an instance that was raised again). The words match WinCC's own history:
# raised, cleared (our "returned"), acknowledged, reset and removed (our "cleared").
TRANSITIONS: dict[tuple[AlarmState | None, AlarmState | None], tuple[Transition, ...]] = {
    (None, S.UNACKNOWLEDGED): (T.RAISED,),
    (None, S.ACKNOWLEDGED): (T.RAISED, T.ACKNOWLEDGED),
    (None, S.RETURNED_UNACKNOWLEDGED): (T.RAISED, T.RETURNED),
    (None, S.LATCHED_UNACKNOWLEDGED): (T.RAISED, T.RETURNED),
    (None, S.LATCHED_ACKNOWLEDGED): (T.RAISED, T.RETURNED, T.ACKNOWLEDGED),
    (S.UNACKNOWLEDGED, S.ACKNOWLEDGED): (T.ACKNOWLEDGED,),
    (S.UNACKNOWLEDGED, S.RETURNED_UNACKNOWLEDGED): (T.RETURNED,),
    (S.UNACKNOWLEDGED, S.LATCHED_UNACKNOWLEDGED): (T.RETURNED,),
    (S.UNACKNOWLEDGED, S.LATCHED_ACKNOWLEDGED): (T.RETURNED, T.ACKNOWLEDGED),
    (S.ACKNOWLEDGED, S.UNACKNOWLEDGED): (T.RAISED,),
    (S.ACKNOWLEDGED, S.LATCHED_ACKNOWLEDGED): (T.RETURNED,),
    (S.RETURNED_UNACKNOWLEDGED, S.UNACKNOWLEDGED): (T.RAISED,),
    (S.RETURNED_UNACKNOWLEDGED, S.ACKNOWLEDGED): (T.RAISED, T.ACKNOWLEDGED),
    (S.LATCHED_UNACKNOWLEDGED, S.LATCHED_ACKNOWLEDGED): (T.ACKNOWLEDGED,),
    (S.LATCHED_UNACKNOWLEDGED, S.UNACKNOWLEDGED): (T.RAISED,),
    (S.LATCHED_ACKNOWLEDGED, S.UNACKNOWLEDGED): (T.RAISED,),
    # Leaving the list: what it takes to get from that state to normal.
    (S.UNACKNOWLEDGED, None): (T.ACKNOWLEDGED, T.RETURNED),
    (S.ACKNOWLEDGED, None): (T.RETURNED,),
    (S.RETURNED_UNACKNOWLEDGED, None): (T.ACKNOWLEDGED,),
    (S.LATCHED_UNACKNOWLEDGED, None): (T.ACKNOWLEDGED, T.CLEARED),
    (S.LATCHED_ACKNOWLEDGED, None): (T.CLEARED,),
}
# An unacknowledged alarm that needs no acknowledgement (a notification) just returns.
_UNACKNOWLEDGEABLE_LEAVES = (T.RETURNED,)
# An instance that leaves the list as a newer instance of the same alarm appears was removed.
_REPLACED = (T.CLEARED,)
# Shelving and suppression follow from the new state alone.
_INTO_STATE = {
    S.SHELVED: (T.SHELVED,),
    S.SUPPRESSED: (T.SUPPRESSED,),
    S.OUT_OF_SERVICE: (T.SUPPRESSED,),
}


def transitions_between(old: AlarmState | None, new: AlarmState | None) -> tuple[Transition, ...]:
    """What happened to an alarm between two polls; () when nothing did."""
    old = None if old is S.NORMAL else old
    new = None if new is S.NORMAL else new
    if old == new:
        return ()
    if (old, new) in TRANSITIONS:
        return TRANSITIONS[(old, new)]
    if new is None:
        return (T.CLEARED,)
    if new in _INTO_STATE:
        return _INTO_STATE[new]
    if old == S.SHELVED:
        return (T.UNSHELVED,)
    return (T.CHANGED,)


@dataclass(frozen=True, slots=True)
class JournalEvent:
    """One alarm transition; `key` makes persisting it idempotent."""

    site: str
    alarm: str
    instance_id: int
    transition: Transition
    at: datetime
    state: str
    priority: int = 0
    alarm_class: str = ""
    event_text: str = ""
    info_text: str = ""
    area: str = ""
    acknowledged_by: str = ""

    @property
    def key(self) -> str:
        at = self.at.isoformat().replace("+00:00", "Z")
        return f"{self.site}|{self.alarm}|{self.instance_id}|{self.transition.value}|{at}"


def _time_of(transition: Transition, alarm: Alarm, now: datetime) -> datetime:
    """WinCC's own time of the step when it tells us; the poll's time otherwise."""
    if transition is T.RAISED:
        return alarm.raise_time or now
    if transition is T.ACKNOWLEDGED:
        return alarm.ack_time or now
    if transition is T.RETURNED:
        return alarm.clear_time or now
    return now


def alarm_events(
    site: str, old: Alarm | None, new: Alarm | None, now: datetime, *, replaced: bool = False
) -> list[JournalEvent]:
    """The journal events of one alarm instance between two polls.

    `replaced`: a newer instance of the same alarm is in the list now.
    """
    steps = transitions_between(old.state if old else None, new.state if new else None)
    leaving = old is not None and (new is None or new.state is S.NORMAL)
    if old is not None and leaving and steps:
        if replaced:
            steps = _REPLACED
        elif old.state is S.UNACKNOWLEDGED and not old.can_acknowledge:
            steps = _UNACKNOWLEDGEABLE_LEAVES
    if not steps:
        return []
    alarm = new or old
    assert alarm is not None
    state = new.state.value if new else AlarmState.NORMAL.value
    events = [
        JournalEvent(
            site=site,
            alarm=alarm.name,
            instance_id=alarm.instance_id,
            transition=step,
            at=_time_of(step, alarm, now),
            state=state,
            priority=alarm.priority,
            alarm_class=alarm.alarm_class,
            event_text=alarm.event_text,
            info_text=alarm.info_text,
            area=alarm.area,
            acknowledged_by=alarm.acknowledged_by or "",
        )
        for step in steps
    ]
    # Stable: the table's order decides between steps WinCC gives the same time.
    return sorted(events, key=lambda event: event.at)


def diff_alarms(
    site: str, old: Mapping[str, Alarm], new: Mapping[str, Alarm], now: datetime
) -> list[JournalEvent]:
    """Every transition between two snapshots of the active list (keyed by Alarm.key)."""
    newest: dict[str, int] = {}
    for alarm in new.values():
        newest[alarm.name] = max(newest.get(alarm.name, alarm.instance_id), alarm.instance_id)
    events: list[JournalEvent] = []
    for key in old.keys() | new.keys():
        before, after = old.get(key), new.get(key)
        replaced = (
            (after is None or after.state is S.NORMAL)
            and before is not None
            and newest.get(before.name, before.instance_id) > before.instance_id
        )
        events.extend(alarm_events(site, before, after, now, replaced=replaced))
    events.sort(key=lambda event: event.at)
    return events
