"""The demo plant's day: alarms that come and go on a schedule.

`make run` starts its simulators with `--day-script`, so a newcomer sees a plant that lives:
two standing alarms from the first minute, a new alarm every few minutes, now and then a
chattering alarm, about once an hour somewhere in the plant a short flood, and an operator who
acknowledges most alarms after a while. Tests keep the quiet plant unless they ask for it.

Everything here is a pure function of the plant's seed and the clock (Unix seconds): the
schedule of any hour, past or future, is the same every time it is computed. That is what
keeps the demo's past and present one story: the simulator drives its alarms and its filler
sensors' values from it, and the dashboard seeds its journal of the last days from the same
schedule (dashboard/demo/seed.py).

The script acts only on the auxiliary filler sensors that carry an H alarm
(`Aux_Sensor_0001_H` ...): an occurrence lifts its sensor above the alarm limit from `start`
to `end`, and the simulator raises, clears and acknowledges the alarm at exactly the
scheduled times, with the occurrence's `start` as its instance id.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from functools import lru_cache

HOUR = 3600
# Filler indices by role (1-based, as Aux_Sensor_0001). Needs 50 fillers with alarms.
ROUTINE = tuple(range(1, 13))
CHATTER = 13
FLOOD = tuple(range(14, 29))
STANDING = {49: 3 * 24 * HOUR, 50: 5 * 24 * HOUR}  # index -> length of its cycle
NEEDS_FILLERS = 50

# A standing alarm returns to normal for this long at the end of each cycle.
STANDING_REST = 600
ROUTINE_GAP = (300, 900)  # seconds between two routine alarms on one site
ROUTINE_LENGTH = (45, 600)
CHATTER_CHANCE = 1 / 3  # per site and hour
CHATTER_LENGTH = 90
CHATTER_HALF_PERIOD = 8  # on 8 s, off 8 s: more than 3 raises a minute
FLOOD_CHANCE = 1 / 3  # per site and hour: about once an hour across the demo's three sites
FLOOD_STAGGER = 2  # one more sensor crosses its limit every 2 s
FLOOD_LENGTH = 240
# The simulated operator: who acknowledges, and after how long.
OPERATOR = "shift.operator"
ACK_DELAY = (20, 900)
FLOOD_ACK_DELAY = (300, 600)  # a flood is acknowledged all at once, after it is understood
STANDING_ACK_DELAY = 300
# How far an occurrence lifts its sensor, in the sensor's amplitudes: its limit is 2
# amplitudes above its base and the wave reaches 1, so 3.5 is over the limit at every phase.
LIFT = 3.5


@dataclass(frozen=True, slots=True)
class Occurrence:
    """One scheduled alarm occurrence of filler sensor `index`: [start, end), Unix seconds."""

    index: int
    start: int
    end: int
    ack_at: int  # when the simulated operator acknowledges it

    @property
    def instance_id(self) -> int:
        return self.start


def _rng(seed: int, *parts: object) -> random.Random:
    # A string seed is hashed with SHA-512: the same schedule in every process.
    return random.Random(":".join(str(p) for p in (seed, *parts)))


@lru_cache(maxsize=256)
def hour_schedule(seed: int, hour: int) -> tuple[Occurrence, ...]:
    """The routine, chattering and flood occurrences that start within one hour
    (`hour` = Unix seconds // 3600). Routine ones may run into the next hour."""
    rng = _rng(seed, "hour", hour)
    base = hour * HOUR
    found: list[Occurrence] = []
    # Routine: a chain of gaps; the first gap continues the previous hour's chain loosely.
    at = base + rng.randint(0, ROUTINE_GAP[1])
    while at < base + HOUR:
        index = rng.choice(ROUTINE)
        length = rng.randint(*ROUTINE_LENGTH)
        found.append(Occurrence(index, at, at + length, at + rng.randint(*ACK_DELAY)))
        at += rng.randint(*ROUTINE_GAP)
    if rng.random() < CHATTER_CHANCE:
        at = base + rng.randint(0, HOUR - CHATTER_LENGTH)
        for k in range(0, CHATTER_LENGTH, 2 * CHATTER_HALF_PERIOD):
            start = at + k
            # Nobody acknowledges a chattering alarm's every raise: it is re-raised first.
            found.append(Occurrence(CHATTER, start, start + CHATTER_HALF_PERIOD, start + HOUR))
    if rng.random() < FLOOD_CHANCE:
        at = base + rng.randint(0, HOUR - FLOOD_LENGTH)
        ack = at + rng.randint(*FLOOD_ACK_DELAY)
        for k, index in enumerate(FLOOD):
            start = at + k * FLOOD_STAGGER
            found.append(Occurrence(index, start, start + FLOOD_LENGTH, max(ack, start + 1)))
    return tuple(found)


def standing(seed: int, index: int, at: int) -> Occurrence:
    """The standing alarm's occurrence of the cycle that contains `at` (or rests at it)."""
    cycle = STANDING[index]
    offset = _rng(seed, "standing", index).randint(0, cycle)
    start = (at - offset) // cycle * cycle + offset
    return Occurrence(index, start, start + cycle - STANDING_REST, start + STANDING_ACK_DELAY)


def occurrences(seed: int, begin: int, end: int) -> list[Occurrence]:
    """Every occurrence that is active at some moment of [begin, end), by start.

    An occurrence that starts while an earlier one still lifts its sensor is dropped (the
    alarm is raised already). The rule looks only at the occurrences just before, which an
    hour's margin always includes: any window gives the same answer for the same moment."""
    found: list[Occurrence] = []
    # Nothing but the standing alarms lasts an hour, so an hour back covers every one still on.
    for hour in range((begin - HOUR) // HOUR, (end - 1) // HOUR + 1):
        found.extend(hour_schedule(seed, hour))
    found.sort(key=lambda o: (o.start, o.index))
    lifted: dict[int, int] = {}  # index -> latest end of any earlier occurrence
    kept = []
    for occurrence in found:
        overlaps = occurrence.start < lifted.get(occurrence.index, occurrence.start)
        lifted[occurrence.index] = max(lifted.get(occurrence.index, 0), occurrence.end)
        if not overlaps and occurrence.end > begin and occurrence.start < end:
            kept.append(occurrence)
    for index in STANDING:
        at = begin
        while at < end:
            occurrence = standing(seed, index, at)
            if occurrence.end > begin:
                kept.append(occurrence)
            at = occurrence.start + STANDING[index]
    kept.sort(key=lambda o: (o.start, o.index))
    return kept


def active_at(seed: int, at: float) -> dict[int, Occurrence]:
    """Sensor index -> the occurrence that lifts it at `at`."""
    second = int(at)
    return {o.index: o for o in occurrences(seed, second, second + 1) if o.start <= second}


@lru_cache(maxsize=512)
def _hour_lifts(seed: int, hour: int) -> dict[int, tuple[tuple[int, int], ...]]:
    """Sensor index -> the (start, end) of its occurrences that touch one hour."""
    lifts: dict[int, list[tuple[int, int]]] = {}
    for o in occurrences(seed, hour * HOUR, (hour + 1) * HOUR):
        lifts.setdefault(o.index, []).append((o.start, o.end))
    return {index: tuple(spans) for index, spans in lifts.items()}


def lifted(seed: int, index: int, at: float) -> bool:
    """Whether the script lifts sensor `index` at `at` (cheap: the archive asks per sample)."""
    second = int(at)
    spans = _hour_lifts(seed, second // HOUR).get(index, ())
    return any(start <= second < end for start, end in spans)
