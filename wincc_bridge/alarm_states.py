"""How each dialect's alarm state words map to the ISA-18.2 states, in one place.

Every table row has its own test (tests/bridge/test_alarm_states.py). A state word that no
table knows is kept, not dropped: the alarm is shown as unacknowledged, which draws an
operator's eye, and the server's own word stays in `Alarm.source_state`.
"""

from __future__ import annotations

from wincc_bridge.models import AlarmState

# What the bridge shows for a state word it has never seen.
UNKNOWN_STATE = AlarmState.UNACKNOWLEDGED

# Classic WinCC (V7 / V8 alarm logging): the archive state codes, the status column's
# symbols and the words a REST filter may spell out. Keys are compared in lower case.
CLASSIC_STATES: dict[int | str, AlarmState] = {
    1: AlarmState.UNACKNOWLEDGED,  # MSG_STATE_COME: came in
    2: AlarmState.RETURNED_UNACKNOWLEDGED,  # MSG_STATE_GO: went out before acknowledgement
    3: AlarmState.ACKNOWLEDGED,  # MSG_STATE_QUIT: acknowledged, still active
    16: AlarmState.ACKNOWLEDGED,  # acknowledged by the system
    "+": AlarmState.UNACKNOWLEDGED,
    "-": AlarmState.RETURNED_UNACKNOWLEDGED,
    "+/-": AlarmState.RETURNED_UNACKNOWLEDGED,
    "*": AlarmState.ACKNOWLEDGED,
    "+*": AlarmState.ACKNOWLEDGED,
    "ack-system": AlarmState.ACKNOWLEDGED,
    "came in": AlarmState.UNACKNOWLEDGED,
    "went out": AlarmState.RETURNED_UNACKNOWLEDGED,
    "acknowledged": AlarmState.ACKNOWLEDGED,
}

# WinCC Unified `ActiveAlarm.state`, split by whether the alarm latches (its state machine
# needs a reset, or its userResponse asks for one). A latched alarm that has cleared stays
# in the list until reset; an unlatched one that cleared and was acknowledged is normal.
# Here and below the key may be None, `_word`'s absent word, which finds nothing.
UNIFIED_STATES: dict[tuple[str | None, bool], AlarmState] = {
    ("NORMAL", False): AlarmState.NORMAL,
    ("NORMAL", True): AlarmState.NORMAL,
    ("RAISED", False): AlarmState.UNACKNOWLEDGED,
    ("RAISED", True): AlarmState.UNACKNOWLEDGED,
    ("RAISED_ACKNOWLEDGED", False): AlarmState.ACKNOWLEDGED,
    ("RAISED_ACKNOWLEDGED", True): AlarmState.ACKNOWLEDGED,
    ("RAISED_CLEARED", False): AlarmState.RETURNED_UNACKNOWLEDGED,
    ("RAISED_CLEARED", True): AlarmState.LATCHED_UNACKNOWLEDGED,
    ("RAISED_ACKNOWLEDGED_CLEARED", False): AlarmState.NORMAL,
    ("RAISED_ACKNOWLEDGED_CLEARED", True): AlarmState.LATCHED_ACKNOWLEDGED,
    ("RAISED_CLEARED_ACKNOWLEDGED", False): AlarmState.NORMAL,
    ("RAISED_CLEARED_ACKNOWLEDGED", True): AlarmState.LATCHED_ACKNOWLEDGED,
    # REMOVED covers disabling, re-raise, reconnect and reconfiguration: nothing is pending.
    ("REMOVED", False): AlarmState.NORMAL,
    ("REMOVED", True): AlarmState.NORMAL,
}

# `suppressionState` overrides the state: the alarm is kept off the operator's list.
UNIFIED_SUPPRESSION: dict[str | None, AlarmState] = {
    "SHELVED": AlarmState.SHELVED,
    "SUPPRESSED_AND_SHELVED": AlarmState.SHELVED,
    "SUPPRESSED": AlarmState.SUPPRESSED,
}

# What makes a Unified alarm latch.
UNIFIED_LATCHING_STATE_MACHINES = frozenset({"RAISE_CLEAR_REQUIRES_ACKNOWLEDGMENT_AND_RESET"})
UNIFIED_LATCHING_RESPONSES = frozenset({"RESET", "SINGLE_RESET"})

# `userResponse` values under which an operator may acknowledge. NONE means the alarm
# expects nothing from anyone; a missing field leaves the decision to the state.
UNIFIED_ACKNOWLEDGING_RESPONSES = frozenset(
    {"ACKNOWLEDGEMENT", "SINGLE_ACKNOWLEDGEMENT", "RESET", "SINGLE_RESET", None}
)

# REST v1 (docs/protocols.md). The ISA names themselves are accepted too.
REST_V1_STATES: dict[str, AlarmState] = {
    "active_unacked": AlarmState.UNACKNOWLEDGED,
    "active_acked": AlarmState.ACKNOWLEDGED,
    "cleared_unacked": AlarmState.RETURNED_UNACKNOWLEDGED,
    "latched_unacked": AlarmState.LATCHED_UNACKNOWLEDGED,
    "latched_acked": AlarmState.LATCHED_ACKNOWLEDGED,
    "shelved": AlarmState.SHELVED,
    "suppressed": AlarmState.SUPPRESSED,
    "disabled": AlarmState.OUT_OF_SERVICE,
    **{state.value: state for state in AlarmState},
}


def classic_state(raw: object) -> AlarmState | None:
    """The ISA state of a Classic message's `State` (int, digit string or symbol), or None."""
    if isinstance(raw, bool):
        return None
    if isinstance(raw, float) and raw.is_integer():
        raw = int(raw)
    if isinstance(raw, str):
        raw = raw.strip().lower()
        if raw.isascii() and raw.isdigit():
            raw = int(raw)
    if not isinstance(raw, int | str):
        return None
    return CLASSIC_STATES.get(raw)


def unified_state(
    state: object, state_machine: object, user_response: object, suppression: object
) -> AlarmState | None:
    """The ISA state of a Unified `ActiveAlarm`, or None when its state word is unknown."""
    shown = UNIFIED_SUPPRESSION.get(_word(suppression))
    if shown is not None:
        return shown
    latched = (
        _word(state_machine) in UNIFIED_LATCHING_STATE_MACHINES
        or _word(user_response) in UNIFIED_LATCHING_RESPONSES
    )
    return UNIFIED_STATES.get((_word(state), latched))


def unified_can_acknowledge(state: AlarmState, user_response: object) -> bool:
    """An operator may acknowledge when the state needs it and `userResponse` allows it."""
    return state.needs_acknowledgement and _word(user_response) in UNIFIED_ACKNOWLEDGING_RESPONSES


def rest_v1_state(raw: object) -> AlarmState | None:
    """The ISA state of a REST v1 alarm's `state`, or None when unknown."""
    if not isinstance(raw, str):
        return None
    return REST_V1_STATES.get(raw.strip().lower())


def _word(raw: object) -> str | None:
    """A wire enum word; anything else (null, numbers, lists) counts as absent."""
    return raw if isinstance(raw, str) else None
