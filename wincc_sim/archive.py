"""The plant's archive: every tag's logged course as a pure function of tag and time.

Nothing is stored. The plant model's undisturbed course is written in closed form (oven zones
at their setpoints with zone 2's drifts through its first-order lag, the tank's two-point
control as a sawtooth, motor currents from the drives they belong to, counters from the belt
speed) with noise drawn from a hash of (seed, tag, second), so any second of any day can be
computed on its own, in any order. The live plant (plant.py) reads the same functions for its
undisturbed values, so the live value now and the archive at now agree.

What the archive does not hold: operator writes, forced values, scenarios and quality faults
change the live plant only (keeping them would need storage). The event schedule (zone 2's
drifts, conveyor faults) and the tank's phase are counted from the plant's last reset, so a
freshly reset plant is calm for its first minutes, as the tests expect.

Gaps (no data) and uncertain or bad stretches are drawn per tag and per three-hour block from
the same hash, and only until an hour before the reset: since then the archive matches the
live plant.
"""

from __future__ import annotations

import math
import zlib
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from wincc_sim import dayscript
from wincc_sim.tags import ACK_PREFIX, Fillers

GOOD = 0xC0
UNCERTAIN_LAST_USABLE = 0x44
BAD_COMM_FAILURE = 0x18
ZONE_SETPOINTS = {1: 180.0, 2: 200.0, 3: 220.0}
ZONE_LAG_S = 30.0  # oven zones follow their setpoint with this first-order lag
CONVEYOR_SPEED = 12.0  # m/min
TANK_LITRES = 400.0
PUMP_LPM = 180.0
OUTFLOW_LPM = 60.0
TANK_LOW, TANK_HIGH = 10.0, 85.0  # the tank's two-point control switches at these levels
# The idealised tank: drains at the mean outflow, fills at pump minus outflow (% per second).
DRAIN = OUTFLOW_LPM / 60 / TANK_LITRES * 100
FILL = (PUMP_LPM - OUTFLOW_LPM) / 60 / TANK_LITRES * 100
DRAIN_S = (TANK_HIGH - TANK_LOW) / DRAIN
TANK_PERIOD = DRAIN_S + (TANK_HIGH - TANK_LOW) / FILL
TANK_START_LEVEL = 60.0  # a reset finds the tank draining through 60 %
# Zone 2 drifts over its H limit for a minute every 6.5 to 7.5 minutes, the first one
# 150 s after a reset; the conveyor drive faults for 15 s every 12 to 20 minutes.
DRIFT_FIRST, DRIFT_EVERY, DRIFT_JITTER, DRIFT_LENGTH = 150.0, 390.0, 60.0, 60.0
FAULT_FIRST, FAULT_EVERY, FAULT_JITTER, FAULT_LENGTH = 600.0, 1200.0, 500.0, 15.0
PARTS_PER_S = CONVEYOR_SPEED * 2 / 60  # two parts per metre of belt
REJECT_EVERY = 50  # one part in fifty is rejected
# The counters count the day's parts from midnight UTC, as a line's day counter does, so
# their value is a function of time too and stays a few digits wide.
DAY_S = 86400
# Quality stretches and gaps: one draw per tag and block.
BLOCK_S = 3 * 3600
# The last hour before a reset is clean too, so "the last minutes" read alike whenever the
# simulator was reset (a test's window reaches back over the reset).
CLEAN_BEFORE_RESET = 3600
RETENTION_DAYS = 10  # the archive begins this long before the plant's reset
MAX_VALUES = 10_000  # the most values one answer holds when the client sets no limit

# Tags that never move.
STEADY: dict[str, Any] = {"Conveyor_Speed_Setpoint": CONVEYOR_SPEED, "Conveyor_Running": True,
                          "Pump_Fault": False}

_MASK = (1 << 64) - 1
_SQRT6 = math.sqrt(6)  # scales the sum of two uniform draws to a standard deviation of 1


def _mix(x: int) -> int:
    """splitmix64's finaliser: a well-spread 64-bit hash of an integer."""
    x &= _MASK
    x = ((x ^ (x >> 30)) * 0xBF58476D1CE4E5B9) & _MASK
    x = ((x ^ (x >> 27)) * 0x94D049BB133111EB) & _MASK
    return x ^ (x >> 31)


def _hash(seed: int, key: int, n: int, salt: int) -> int:
    return _mix(_mix(seed * 0x9E3779B97F4A7C15 + key) + n * 0xD1B54A32D192ED03
                + salt * 0x8CB92BA72F3D8DD7)


def unit(seed: int, key: int, n: int, salt: int = 0) -> float:
    """A uniform draw in [0, 1) that depends only on its arguments."""
    return _hash(seed, key, n, salt) / 2.0**64


def tag_key(name: str) -> int:
    return zlib.crc32(name.encode())


@dataclass(frozen=True, slots=True)
class Stretch:
    """A stretch of a tag's archive: no data (code None) or values of another quality."""

    start: int
    end: int  # exclusive
    code: int | None


class Archive:
    """The archive of one plant run: seed and reset time decide every value."""

    def __init__(
        self, seed: int, started: datetime, fillers: Fillers, day_script: bool = False
    ) -> None:
        self.seed = seed
        # The demo's day script lifts filler sensors on its schedule, past and present alike.
        self.day_script = day_script
        self.started = started
        self.origin = started.timestamp()
        self.fillers = fillers
        self.begins = math.ceil(self.origin - RETENTION_DAYS * 86400)
        self._keys: dict[str, int] = {}
        # Stretches per (tag, block), computed once: a week of one tag is 56 blocks.
        self._stretches: dict[tuple[str, int], list[Stretch]] = {}

    # --- the plant model's course -----------------------------------------------------------

    def _key(self, name: str) -> int:
        key = self._keys.get(name)
        if key is None:
            key = self._keys[name] = tag_key(name)
        return key

    def noise(self, name: str, t: float, sigma: float) -> float:
        """Zero-mean noise of about `sigma`, the same for a tag within one second."""
        h = _hash(self.seed, self._key(name), math.floor(t), 1)
        # Two uniform draws from the hash's halves; their sum is triangular.
        a, b = (h >> 32) / 2.0**32, (h & 0xFFFFFFFF) / 2.0**32
        return (a + b - 1.0) * sigma * _SQRT6

    def _windows(self, s: float, first: float, every: float, jitter: float,
                 length: float, salt: int) -> Iterator[tuple[float, float, int]]:
        """(start, end, k) of the scheduled windows that may touch plant time s."""
        k = math.floor((s - first) / every)
        for n in (k - 1, k):
            start = first + n * every + jitter * unit(self.seed, salt, n, 3)
            yield start, start + length, n

    def drift(self, s: float) -> float:
        """Zone 2's extra degrees at plant time s: a pulse through the zone's lag."""
        total = 0.0
        for start, end, n in self._windows(s, DRIFT_FIRST, DRIFT_EVERY, DRIFT_JITTER,
                                           DRIFT_LENGTH, 11):
            if s < start:
                continue
            amplitude = 18 + 6 * unit(self.seed, 11, n, 4)
            if s < end:
                total += amplitude * (1 - math.exp(-(s - start) / ZONE_LAG_S))
            else:
                peak = amplitude * (1 - math.exp(-DRIFT_LENGTH / ZONE_LAG_S))
                total += peak * math.exp(-(s - end) / ZONE_LAG_S)
        return total

    def drifting(self, s: float) -> bool:
        return any(start <= s < end for start, end, _ in self._windows(
            s, DRIFT_FIRST, DRIFT_EVERY, DRIFT_JITTER, DRIFT_LENGTH, 11))

    def conveyor_fault(self, s: float) -> bool:
        return any(start <= s < end for start, end, _ in self._windows(
            s, FAULT_FIRST, FAULT_EVERY, FAULT_JITTER, FAULT_LENGTH, 12))

    def tank(self, s: float) -> tuple[float, bool, float]:
        """(level %, inlet pump on, seconds since the pump started) at plant time s."""
        phase = (s + (TANK_HIGH - TANK_START_LEVEL) / DRAIN) % TANK_PERIOD
        if phase < DRAIN_S:
            return TANK_HIGH - DRAIN * phase, False, 0.0
        return TANK_LOW + FILL * (phase - DRAIN_S), True, phase - DRAIN_S

    def outflow(self, t: float) -> float:
        s = t - self.origin
        return 60 + 10 * math.sin(2 * math.pi * s / 240) + self.noise("Tank_Outflow", t, 0.5)

    def speed(self, t: float) -> float:
        """The belt at its set speed, with its noise (m/min)."""
        return CONVEYOR_SPEED + self.noise("Conveyor_Speed", t, 0.05)

    def produced(self, t: float) -> int:
        return max(0, math.floor(PARTS_PER_S * (t % DAY_S)))

    def motor1(self, t: float, speed: float, running: bool) -> float:
        if running:
            return 4 + 0.5 * speed + self.noise("Motor1_Current", t, 0.1)
        return abs(0.2 + self.noise("Motor1_Current", t, 0.05))

    def motor2(self, t: float, pump: bool, since_start: float) -> float:
        if not pump:
            return 0.0
        inrush = 1 + 2 * math.exp(-since_start)
        return 11 * inrush + self.noise("Motor2_Current", t, 0.1)

    def value(self, name: str, t: float) -> Any:
        """The undisturbed plant's value of a tag at epoch time t; KeyError for no tag."""
        s = t - self.origin
        index = self.fillers.index(name)
        if index is not None:
            lift = 0.0
            if self.day_script and index <= dayscript.NEEDS_FILLERS and dayscript.lifted(
                self.seed, index, t
            ):
                lift = dayscript.LIFT * self.fillers.amplitude(index)
            return self.fillers.value(index, s, lift)
        if name.startswith(ACK_PREFIX):
            return 0
        if name.startswith("Oven_Zone"):
            zone = int(name[len("Oven_Zone")])
            sp = ZONE_SETPOINTS[zone]
            if name.endswith("_Setpoint"):
                return sp
            bump = self.drift(s) if zone == 2 else 0.0
            return round(sp + bump + self.noise(name, t, 0.2), 2)
        # Each tag computes only what it depends on: a day's trend asks this ~40,000 times.
        if name in STEADY:
            return STEADY[name]
        if name == "Conveyor_Speed":
            return round(self.speed(t), 2)
        if name == "Conveyor_Fault":
            return self.conveyor_fault(s)
        if name == "Tank_Level":
            return round(self.tank(s)[0], 2)
        if name == "Tank_InletPump_On":
            return self.tank(s)[1]
        if name == "Tank_Outflow":
            return round(self.outflow(t), 2)
        if name == "Motor1_Current":
            return round(self.motor1(t, self.speed(t), True), 2)
        if name == "Motor2_Current":
            _level, pump, since = self.tank(s)
            return round(self.motor2(t, pump, since), 2)
        if name in ("Motor3_Current", "Motor4_Current"):
            return round(7.5 + self.noise(name, t, 0.08), 2)
        if name == "Line_Produced_Count":
            return self.produced(t)
        if name == "Line_Reject_Count":
            return self.produced(t) // REJECT_EVERY
        raise KeyError(name)

    # --- what the archive holds -------------------------------------------------------------

    def stretches(self, name: str, block: int) -> list[Stretch]:
        """The gap and the quality stretches of one tag in one block, ending an hour before
        the reset at the latest."""
        cached = self._stretches.get((name, block))
        if cached is None:
            if len(self._stretches) > 100_000:
                self._stretches.clear()
            cached = self._stretches[(name, block)] = self._draw_stretches(name, block)
        return cached

    def _draw_stretches(self, name: str, block: int) -> list[Stretch]:
        key, found = self._key(name), []
        for salt, chance, code in ((21, 0.5, None), (22, 0.3, UNCERTAIN_LAST_USABLE),
                                   (23, 0.15, BAD_COMM_FAILURE)):
            if unit(self.seed, key, block, salt) >= chance:
                continue
            length = 60 + int(540 * unit(self.seed, key, block, salt + 10))
            start = block * BLOCK_S + int((BLOCK_S - length) * unit(self.seed, key, block,
                                                                    salt + 20))
            end = min(start + length, math.floor(self.origin) - CLEAN_BEFORE_RESET)
            if start < end:
                found.append(Stretch(start, end, code))
        return found

    def stretch_at(self, name: str, sec: int) -> Stretch | None:
        if sec >= self.origin:
            return None
        for stretch in self.stretches(name, sec // BLOCK_S):
            if stretch.start <= sec < stretch.end:
                return stretch
        return None

    def sample(self, name: str, sec: int) -> tuple[Any, int] | None:
        """(value, quality code) the archive holds for a tag at a whole second; None: no data."""
        if sec < self.begins:
            return None
        stretch = self.stretch_at(name, sec)
        if stretch is None:
            return self.value(name, sec), GOOD
        if stretch.code is None:
            return None
        return self.value(name, sec), stretch.code

    def _with_data(self, name: str, sec: int, step: int) -> int:
        """The nearest second from `sec` in direction `step` that holds data."""
        while True:
            stretch = self.stretch_at(name, sec)
            if stretch is None or stretch.code is not None:
                return sec
            sec = stretch.start - 1 if step < 0 else stretch.end

    def window(self, name: str, start: datetime, end: datetime, now: datetime,
               limit: int = 0) -> Window:
        """The archive between start and end (inclusive), never past now.

        At most `limit` values (0: at most MAX_VALUES): a window with more seconds than that is
        thinned to evenly spaced seconds from its start to its end, so a week costs as little
        as a minute. A second that falls into a gap comes back as no data (code None)."""
        limit = min(limit or MAX_VALUES, MAX_VALUES)
        first = max(math.ceil(start.timestamp()), self.begins)
        last = min(math.floor(end.timestamp()), math.floor(now.timestamp()))
        count = last - first + 1
        if count <= 0:
            seconds: list[int] = []
        elif count <= limit:
            seconds = list(range(first, last + 1))
        elif limit == 1:
            seconds = [first]
        else:
            seconds = [first + round(i * (count - 1) / (limit - 1)) for i in range(limit)]
        values = [self._point(name, sec) for sec in seconds]
        if count > limit:
            # A thinned second that falls into a gap takes the first stored second after the
            # gap when that comes before the next thinned second: a thinned week still holds
            # `limit` values, as a real archive's answer would.
            ends = [*seconds[1:], last + 1]
            for i, point in enumerate(values):
                if point.code is None:
                    later = self._with_data(name, seconds[i], 1)
                    if later < ends[i]:
                        values[i] = self._point(name, later)
        newest = math.floor(now.timestamp())
        before = self._with_data(name, min(math.ceil(start.timestamp()), newest + 1) - 1, -1)
        after = self._with_data(name, math.floor(end.timestamp()) + 1, 1)
        return Window(
            values=values,
            thinned=count > limit,
            before=self._point(name, before) if before >= self.begins else None,
            after=self._point(name, after) if after <= newest else None,
        )

    def run(self, name: str, bound: datetime, now: datetime, count: int,
            newest_first: bool) -> list[Point]:
        """`count` consecutive stored values from a bound: oldest first from a start, newest
        first back from an end (Unified's one-bound form)."""
        count = min(count, MAX_VALUES)
        step = -1 if newest_first else 1
        sec = math.floor(bound.timestamp()) if newest_first else math.ceil(bound.timestamp())
        sec = min(sec, math.floor(now.timestamp()))
        found: list[Point] = []
        while len(found) < count and self.begins <= sec <= now.timestamp():
            sec = self._with_data(name, sec, step)
            if not self.begins <= sec <= now.timestamp():
                break
            found.append(self._point(name, sec))
            sec += step
        return found

    def _point(self, name: str, sec: int) -> Point:
        held = self.sample(name, sec)
        when = datetime.fromtimestamp(sec, UTC)
        return Point(when, None, None) if held is None else Point(when, held[0], held[1])

    def first_second(self) -> datetime:
        return datetime.fromtimestamp(self.begins, UTC)


@dataclass(frozen=True, slots=True)
class Point:
    """One second of the archive; code None: no data at that second."""

    timestamp: datetime
    value: Any
    code: int | None


@dataclass(frozen=True, slots=True)
class Window:
    values: list[Point]
    thinned: bool  # the window holds more seconds than the values returned
    before: Point | None  # the last stored value before the window (bounding)
    after: Point | None  # the first stored value after it, when it is in the past
