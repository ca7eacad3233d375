"""The fault suite: each fault against the whole product running (simulator, Redis, Celery
worker and beat, the dashboard), measuring what a person's page shows, how long until it shows
it, how long until it is current again after the fault ends, and that an acknowledgement made
during the fault and an alarm raised during it are neither lost nor recorded twice.

The measured figures are printed after the run (tests/faults/report.py) and kept in
docs/reliability.md. Bounds here only say "shows it at all" and "recovers at all"; how fast
is reported, not asserted.
"""

from __future__ import annotations

import signal
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass

import pytest

from tests.faults.report import Measured
from tests.faults.stack import Probe, Seen, Stack, wait_for
from wincc_ingest import store

# Bounds below are "at all" bounds; a case with a slow recovery still fits in this.
pytestmark = [pytest.mark.fault, pytest.mark.process, pytest.mark.timeout(300)]

ACK_SITE, ACK_ALARM = "utilities-restv1", "Tank_Level_HH"  # acknowledged during the fault
JOURNAL_SITE, JOURNAL_ALARM = "oven-unified", "Oven_Zone2_Temp_HH"  # raised during the fault
SHOW_WITHIN = 45.0  # seconds: the page must show the fault at all
RECOVER_WITHIN = 90.0  # seconds: and be current again after it ends (poll backoff included)
SETTLE_WITHIN = 120.0  # seconds: every audit row final, every transition journaled
FINAL = {"ok", "error", "refused", "denied", "duplicate", "stale"}


@dataclass(frozen=True)
class Fault:
    name: str
    begin: Callable[[Stack], None]
    end: Callable[[Stack], None]
    hold: float = 3.0  # seconds the fault lasts after the page shows it
    shows: bool = True  # False: the page is expected to stay current throughout


class DatabaseLock:
    """Holds BEGIN EXCLUSIVE on the dashboard's SQLite from another thread for `seconds`
    (released by itself: the requests it blocks are the suite's own)."""

    def __init__(self, seconds: float) -> None:
        self.seconds = seconds
        self.thread: threading.Thread | None = None

    def begin(self, stack: Stack) -> None:
        held = threading.Event()

        def hold() -> None:
            with stack.database_locked():
                held.set()
                time.sleep(self.seconds)

        self.thread = threading.Thread(target=hold, daemon=True)
        self.thread.start()
        assert held.wait(30), "the database lock was not taken"

    def end(self, stack: Stack) -> None:
        if self.thread is not None:
            self.thread.join(30)


def _freeze(proc_of: Callable[[Stack], object], sig: signal.Signals):
    def act(stack: Stack) -> None:
        proc_of(stack).signal_group(sig)
    return act


def _restart_worker(stack: Stack) -> None:
    stack.celery.start_worker()
    stack.celery.wait_ready()


def _stop_beat(stack: Stack) -> None:
    stack.celery.beat.stop()
    stack.celery.beat = None


def _start_beat(stack: Stack) -> None:
    stack.celery.start_beat()
    stack.celery.wait_ready()


_lock = DatabaseLock(seconds=4.0)

FAULTS = [
    Fault("WinCC stopped", lambda s: s.sim.stop_listener(), lambda s: s.sim.start_listener()),
    Fault("WinCC slow (3 s answers, 2 s timeout)", lambda s: s.sim.set_faults(latency_ms=3000),
          lambda s: s.sim.clear_faults()),
    Fault("WinCC answers HTTP 500", lambda s: s.sim.set_faults(error_rate=1.0),
          lambda s: s.sim.clear_faults()),
    Fault("WinCC answers malformed JSON", lambda s: s.sim.set_faults(malformed_rate=1.0),
          lambda s: s.sim.clear_faults()),
    Fault("WinCC answers cut off", lambda s: s.sim.set_faults(truncated_rate=1.0),
          lambda s: s.sim.clear_faults()),
    Fault("Redis paused (SIGSTOP)", _freeze(lambda s: s.redis.proc, signal.SIGSTOP),
          _freeze(lambda s: s.redis.proc, signal.SIGCONT)),
    Fault("Redis restarted (data lost)", lambda s: s.restart_redis(), lambda s: None, hold=0,
          shows=False),
    Fault("Celery worker killed (SIGKILL)", lambda s: s.celery.kill_worker(), _restart_worker),
    Fault("Celery worker frozen (SIGSTOP)", _freeze(lambda s: s.celery.worker, signal.SIGSTOP),
          _freeze(lambda s: s.celery.worker, signal.SIGCONT)),
    Fault("Celery beat stopped", _stop_beat, _start_beat),
    Fault("Database locked (BEGIN EXCLUSIVE, 4 s)", _lock.begin, _lock.end, hold=_lock.seconds,
          shows=False),
]


def _alarm_in_redis(stack: Stack, site: str, name: str, instance: int) -> bool:
    client = stack.redis.client(decode_responses=True)
    try:
        return client.hget(store.site_alarms(site), f"{name}|{instance}") is not None
    finally:
        client.close()


def _alarms_gone(stack: Stack) -> bool:
    """The poller saw the reset: neither alarm of the suite is active for the dashboard.
    (A reset simulator numbers instances from 1 again; one seen continuously would be no
    new raise.)"""
    client = stack.redis.client(decode_responses=True)
    try:
        return not any(key.startswith(f"{name}|")
                       for site, name in ((ACK_SITE, ACK_ALARM), (JOURNAL_SITE, JOURNAL_ALARM))
                       for key in client.hkeys(store.site_alarms(site)))
    finally:
        client.close()


def _wincc_acknowledgements(stack: Stack, name: str, instance: int) -> int:
    return sum(1 for event in stack.sim.alarm_history()
               if (event.get("alarm"), event.get("instance_id")) == (name, instance)
               and event.get("event") == "acknowledged")


def _not_current(probe: Probe) -> Seen | None:
    seen = probe.look()
    return None if seen.current else seen


def _watch(probe: Probe, seconds: float) -> Seen | None:
    """Look at the page for `seconds`; the first sight that is not all current, if any."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        seen = probe.look()
        if not seen.current:
            return seen
        time.sleep(0.25)
    return None


def _during(fault: Fault, stack: Stack, viewer: Probe, operator: Probe, ack_instance: int,
            started: float) -> tuple[Seen | None, float | None, list[str], int]:
    """While the fault lasts: an alarm is raised, an operator acknowledges, the viewer
    watches. (first sight not current, seconds until it, the click's answers, the raised
    alarm's instance)."""
    journal_instance = stack.sim.raise_alarm(JOURNAL_ALARM)[-1]["instance_id"]
    answers: list[str] = []

    def click() -> None:
        response = operator.post("/alarms/ack/", {
            "site": ACK_SITE, "name": ACK_ALARM, "instance": str(ack_instance),
            "state": "unacknowledged", "comment": f"during: {fault.name}"})
        answers.append(f"HTTP {response.status_code}")

    clicker = threading.Thread(target=click, daemon=True)
    clicker.start()
    if fault.shows:
        seen, _ = wait_for(lambda: _not_current(viewer), timeout=SHOW_WITHIN)
        shown_after: float | None = time.monotonic() - started
        time.sleep(fault.hold)
    else:
        seen = _watch(viewer, max(fault.hold, 1.0))
        shown_after = None if seen is None else time.monotonic() - started
    clicker.join(30)
    assert answers, "the acknowledge request did not come back"
    return seen, shown_after, answers, journal_instance


@pytest.mark.parametrize("fault", FAULTS, ids=[f.name for f in FAULTS])
def test_fault(fault: Fault, stack: Stack, viewer: Probe, operator: Probe, measured: Measured):
    stack.sim.reset()
    wait_for(lambda: viewer.look().current and _alarms_gone(stack), timeout=RECOVER_WITHIN)
    since = stack.mark()
    ack_instance = stack.sim.raise_alarm(ACK_ALARM)[-1]["instance_id"]
    wait_for(lambda: _alarm_in_redis(stack, ACK_SITE, ACK_ALARM, ack_instance), timeout=30)

    started = time.monotonic()
    fault.begin(stack)
    try:
        seen, shown_after, answers, journal_instance = _during(
            fault, stack, viewer, operator, ack_instance, started)
    finally:
        ended = time.monotonic()
        fault.end(stack)  # whatever happened, the next case starts without this fault
    wait_for(lambda: viewer.look().current, timeout=RECOVER_WITHIN)
    recovered_after = time.monotonic() - ended

    # No acknowledgement lost or doubled: one audit row, final, agreeing with WinCC's history.
    rows, _ = wait_for(lambda: (r := stack.audit(since, ACK_ALARM, ack_instance))
                       and all(row[0] in FINAL for row in r) and r, timeout=SETTLE_WITHIN)
    assert len(rows) == 1, rows
    result, state_after, message = rows[0]
    in_wincc = _wincc_acknowledgements(stack, ACK_ALARM, ack_instance)
    assert in_wincc == (1 if result == "ok" else 0), (rows, in_wincc)
    assert (state_after == "acknowledged") == (result == "ok"), rows

    # No journal entry lost or doubled: the alarm raised during the fault, and the
    # acknowledgement if WinCC made it, each journaled once (read again after they arrived).
    def journaled(site: str, name: str, instance: int) -> list[str]:
        return stack.journal(since, site, name, instance)

    wait_for(lambda: "raised" in journaled(JOURNAL_SITE, JOURNAL_ALARM, journal_instance),
             timeout=SETTLE_WITHIN)
    if result == "ok":
        wait_for(lambda: "acknowledged" in journaled(ACK_SITE, ACK_ALARM, ack_instance),
                 timeout=SETTLE_WITHIN)
    time.sleep(2)  # two journal runs: a duplicate would land now
    raised = journaled(JOURNAL_SITE, JOURNAL_ALARM, journal_instance)
    assert raised.count("raised") == 1, raised
    acked = journaled(ACK_SITE, ACK_ALARM, ack_instance)
    history = [(e["event"], e.get("user")) for e in stack.sim.alarm_history()
               if (e.get("alarm"), e.get("instance_id")) == (ACK_ALARM, ack_instance)]
    assert acked.count("acknowledged") == (1 if result == "ok" else 0), (acked, history)
    assert len(acked) == len(set(acked)), acked

    if fault.shows:
        assert seen is not None and not seen.current
    measured.add(
        fault=fault.name,
        shown=seen.describe() if seen else "stays current",
        time_to_show=shown_after,
        time_to_recover=recovered_after,
        check=(f"click answered {answers[0]}; audit {result} ({message[:60]}), WinCC "
               f"acknowledged {in_wincc}x; journal: raised 1x, acknowledged "
               f"{acked.count('acknowledged')}x"),
    )
