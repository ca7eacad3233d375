"""The demo's day script: a schedule that is the same whenever computed, and a plant that plays
it at exactly the scheduled times."""

from __future__ import annotations

import itertools
from collections import Counter
from datetime import UTC, datetime, timedelta

from wincc_sim import dayscript
from wincc_sim.plant import Plant
from wincc_sim.tags import filler_name

WEEK = 7 * 24 * 3600
# A fixed moment, so the schedule checked here is the same on every run.
NOW = int(datetime(2026, 11, 20, 9, 30, tzinfo=UTC).timestamp())


class Clock:
    def __init__(self, at: int) -> None:
        self.now = datetime.fromtimestamp(at, UTC)

    def __call__(self) -> datetime:
        return self.now


def play(p: Plant, clock: Clock, until: int) -> None:
    while clock.now.timestamp() < until:
        clock.now += timedelta(seconds=p.dt)
        p.tick()


def test_the_schedule_is_the_same_whichever_window_asks():
    wide = {o for o in dayscript.occurrences(1, NOW - 6 * 3600, NOW) if o.end > NOW - 3600}
    narrow = set(dayscript.occurrences(1, NOW - 3600, NOW))
    assert narrow and wide == narrow
    assert dayscript.occurrences(1, NOW - WEEK, NOW) == dayscript.occurrences(1, NOW - WEEK, NOW)
    assert dayscript.occurrences(2, NOW - 3600, NOW) != dayscript.occurrences(1, NOW - 3600, NOW)


def test_a_week_holds_routine_alarms_chatter_floods_and_standing_alarms():
    week = dayscript.occurrences(1, NOW - WEEK, NOW)
    routine = sorted(o.start for o in week if o.index in dayscript.ROUTINE)
    # A new alarm every few minutes: 5 to 15 minutes apart on one site.
    gaps = [b - a for a, b in itertools.pairwise(routine)]
    assert len(routine) > 7 * 24 * 3 and max(gaps) <= 2 * dayscript.ROUTINE_GAP[1]
    assert sum(gaps) / len(gaps) < 15 * 60
    chatter = sorted(o.start for o in week if o.index == dayscript.CHATTER)
    bursts = [s for s in chatter if sum(1 for t in chatter if s <= t < s + 60) >= 3]
    assert bursts, "no alarm raised three times within a minute"
    flood_starts = sorted(o.start for o in week if o.index in dayscript.FLOOD)
    floods = {s // 600 for s in flood_starts
              if sum(1 for t in flood_starts if s <= t < s + 600) > 10}
    assert 7 * 24 / 6 < len(floods) < 7 * 24, "a flood about once an hour across three sites"
    for index in dayscript.STANDING:
        longest = max(o.end - o.start for o in week if o.index == index)
        assert longest > 24 * 3600
    # One sensor is never lifted by two occurrences at once.
    by_index: dict[int, list[dayscript.Occurrence]] = {}
    for o in week:
        by_index.setdefault(o.index, []).append(o)
    for runs in by_index.values():
        for a, b in itertools.pairwise(runs):
            assert a.end <= b.start


def test_the_plant_raises_acknowledges_and_clears_at_the_scheduled_times():
    routine = [o for o in dayscript.occurrences(1, NOW, NOW + 6 * 3600)
               if o.index in dayscript.ROUTINE and o.start > NOW + 60 and o.ack_at < o.end]
    occurrence = routine[0]
    name = f"{filler_name(occurrence.index)}_H"
    clock = Clock(occurrence.start - 5)
    p = Plant(seed=1, day_script=True, clock=clock)
    limit = p.alarm_defs[name].limit
    play(p, clock, occurrence.start + 1)
    [inst] = p.alarms.instances(name)
    assert inst.instance_id == occurrence.start
    assert inst.raise_time == datetime.fromtimestamp(occurrence.start, UTC)
    assert p.read_known(filler_name(occurrence.index)).value > limit
    play(p, clock, occurrence.ack_at + 1)
    [inst] = p.alarms.instances(name)
    assert inst.state == "RAISED_ACKNOWLEDGED" and inst.acknowledged_by == dayscript.OPERATOR
    assert inst.ack_time == datetime.fromtimestamp(occurrence.ack_at, UTC)
    play(p, clock, occurrence.end + 1)
    assert p.alarms.instances(name) == []
    assert p.read_known(filler_name(occurrence.index)).value < limit
    cleared = [h for h in p.alarms.history if h["alarm"] == name and h["event"] == "cleared"]
    assert cleared[-1]["clear_time"].startswith(
        datetime.fromtimestamp(occurrence.end, UTC).strftime("%Y-%m-%dT%H:%M:%S"))


def test_standing_alarms_are_there_from_the_first_tick_with_their_old_raise_time():
    clock = Clock(NOW)
    p = Plant(seed=1, day_script=True, clock=clock)
    play(p, clock, NOW + 1)
    standing = [a for a in p.alarms.visible if a.name.removesuffix("_H").endswith(("49", "50"))]
    assert standing
    for inst in standing:
        assert inst.raise_time <= clock.now - timedelta(minutes=10)
        assert inst.instance_id == int(inst.raise_time.timestamp())


def test_without_the_day_script_the_plant_stays_quiet():
    clock = Clock(NOW)
    p = Plant(seed=1, clock=clock)
    play(p, clock, NOW + 600)
    assert Counter(a.name for a in p.alarms.visible if a.name.startswith("Aux_")) == Counter()


def test_the_archive_shows_the_scheduled_alarms_of_the_past_as_the_live_plant_does():
    clock = Clock(NOW)
    p = Plant(seed=1, day_script=True, clock=clock)
    past = [o for o in dayscript.occurrences(1, NOW - 86400, NOW - 3600)
            if o.index in dayscript.ROUTINE]
    assert past
    for occurrence in past[:5]:
        sensor = filler_name(occurrence.index)
        limit = p.alarm_defs[f"{sensor}_H"].limit
        assert p.archive.value(sensor, occurrence.start + 1) > limit
        assert p.archive.value(sensor, occurrence.end + 1) < limit
    quiet = Plant(seed=1, clock=clock)
    sensor = filler_name(past[0].index)
    assert quiet.archive.value(sensor, past[0].start + 1) < p.alarm_defs[f"{sensor}_H"].limit
