"""One test per row of each dialect's state table (wincc_bridge/alarm_states.py)."""

from __future__ import annotations

import pytest

from wincc_bridge import alarm_states as tables
from wincc_bridge.models import AlarmState

A = AlarmState


@pytest.mark.parametrize(
    ("raw", "state"),
    [
        (1, A.UNACKNOWLEDGED),
        (2, A.RETURNED_UNACKNOWLEDGED),
        (3, A.ACKNOWLEDGED),
        (16, A.ACKNOWLEDGED),
        ("+", A.UNACKNOWLEDGED),
        ("-", A.RETURNED_UNACKNOWLEDGED),
        ("+/-", A.RETURNED_UNACKNOWLEDGED),
        ("*", A.ACKNOWLEDGED),
        ("+*", A.ACKNOWLEDGED),
        ("ack-system", A.ACKNOWLEDGED),
        ("came in", A.UNACKNOWLEDGED),
        ("went out", A.RETURNED_UNACKNOWLEDGED),
        ("acknowledged", A.ACKNOWLEDGED),
    ],
)
def test_classic_row(raw, state) -> None:
    assert tables.CLASSIC_STATES[raw] is state
    assert tables.classic_state(raw) is state


def test_classic_rows_all_tested() -> None:
    assert len(tables.CLASSIC_STATES) == 13


@pytest.mark.parametrize(
    ("raw", "state"),
    [
        ("3", A.ACKNOWLEDGED),
        (" Ack-System ", A.ACKNOWLEDGED),
        (2.0, A.RETURNED_UNACKNOWLEDGED),
        (99, None),
        ("²", None),  # a digit to str.isdigit(), not a number
        (True, None),
        (None, None),
        ([1], None),
    ],
)
def test_classic_wire_variants(raw, state) -> None:
    assert tables.classic_state(raw) is state


UNIFIED_ROWS = [
    (("NORMAL", False), A.NORMAL),
    (("NORMAL", True), A.NORMAL),
    (("RAISED", False), A.UNACKNOWLEDGED),
    (("RAISED", True), A.UNACKNOWLEDGED),
    (("RAISED_ACKNOWLEDGED", False), A.ACKNOWLEDGED),
    (("RAISED_ACKNOWLEDGED", True), A.ACKNOWLEDGED),
    (("RAISED_CLEARED", False), A.RETURNED_UNACKNOWLEDGED),
    (("RAISED_CLEARED", True), A.LATCHED_UNACKNOWLEDGED),
    (("RAISED_ACKNOWLEDGED_CLEARED", False), A.NORMAL),
    (("RAISED_ACKNOWLEDGED_CLEARED", True), A.LATCHED_ACKNOWLEDGED),
    (("RAISED_CLEARED_ACKNOWLEDGED", False), A.NORMAL),
    (("RAISED_CLEARED_ACKNOWLEDGED", True), A.LATCHED_ACKNOWLEDGED),
    (("REMOVED", False), A.NORMAL),
    (("REMOVED", True), A.NORMAL),
]


@pytest.mark.parametrize(("key", "state"), UNIFIED_ROWS)
def test_unified_row(key, state) -> None:
    word, latched = key
    assert tables.UNIFIED_STATES[key] is state
    machine = "RAISE_CLEAR_REQUIRES_ACKNOWLEDGMENT_AND_RESET" if latched else "RAISE_CLEAR"
    assert tables.unified_state(word, machine, "ACKNOWLEDGEMENT", "UNSUPPRESSED") is state


def test_unified_rows_all_tested() -> None:
    assert len(tables.UNIFIED_STATES) == len(UNIFIED_ROWS)


@pytest.mark.parametrize(
    ("suppression", "state"),
    [("SHELVED", A.SHELVED), ("SUPPRESSED_AND_SHELVED", A.SHELVED), ("SUPPRESSED", A.SUPPRESSED)],
)
def test_unified_suppression_row(suppression, state) -> None:
    assert tables.UNIFIED_SUPPRESSION[suppression] is state
    assert tables.unified_state("RAISED", "RAISE", "ACKNOWLEDGEMENT", suppression) is state


@pytest.mark.parametrize("response", ["RESET", "SINGLE_RESET"])
def test_unified_reset_response_latches(response) -> None:
    assert tables.unified_state("RAISED_CLEARED", "RAISE_CLEAR", response, None) is (
        A.LATCHED_UNACKNOWLEDGED
    )


@pytest.mark.parametrize(
    ("state", "response", "allowed"),
    [
        (A.UNACKNOWLEDGED, "ACKNOWLEDGEMENT", True),
        (A.UNACKNOWLEDGED, "SINGLE_ACKNOWLEDGEMENT", True),
        (A.LATCHED_UNACKNOWLEDGED, "RESET", True),
        (A.LATCHED_UNACKNOWLEDGED, "SINGLE_RESET", True),
        (A.RETURNED_UNACKNOWLEDGED, None, True),
        (A.UNACKNOWLEDGED, "NONE", False),
        (A.ACKNOWLEDGED, "ACKNOWLEDGEMENT", False),
        (A.SHELVED, "ACKNOWLEDGEMENT", False),
    ],
)
def test_unified_can_acknowledge(state, response, allowed) -> None:
    assert tables.unified_can_acknowledge(state, response) is allowed


def test_unified_unknown_words() -> None:
    assert tables.unified_state("NEW_STATE", "RAISE", None, None) is None
    assert tables.unified_state(["RAISED"], {"x": 1}, 5, []) is None


REST_V1_ROWS = [
    ("active_unacked", A.UNACKNOWLEDGED),
    ("active_acked", A.ACKNOWLEDGED),
    ("cleared_unacked", A.RETURNED_UNACKNOWLEDGED),
    ("latched_unacked", A.LATCHED_UNACKNOWLEDGED),
    ("latched_acked", A.LATCHED_ACKNOWLEDGED),
    ("shelved", A.SHELVED),
    ("suppressed", A.SUPPRESSED),
    ("disabled", A.OUT_OF_SERVICE),
    *[(state.value, state) for state in A],
]


@pytest.mark.parametrize(("word", "state"), REST_V1_ROWS)
def test_rest_v1_row(word, state) -> None:
    assert tables.REST_V1_STATES[word] is state
    assert tables.rest_v1_state(word.upper()) is state


def test_rest_v1_rows_all_tested() -> None:
    assert len(tables.REST_V1_STATES) == len({w for w, _ in REST_V1_ROWS})
    assert tables.rest_v1_state("blinking") is None
    assert tables.rest_v1_state(3) is None
