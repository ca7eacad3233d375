"""The simulated plant: an oven, a conveyor, a tank, motors and counters, ticked in plant time.

Deterministic for a given seed and reset time: the undisturbed course is computed from seed,
tag and time (archive.py, which is also the plant's archive), and operators' writes move the
plant away from it by the same rules every time. Timestamps are the wall-clock time of the
tick that produced a value.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from wincc_sim import dayscript
from wincc_sim.alarms import AlarmBook, AlarmDef
from wincc_sim.archive import (
    BAD_COMM_FAILURE,
    CONVEYOR_SPEED,
    DAY_S,
    GOOD,
    PUMP_LPM,
    REJECT_EVERY,
    TANK_HIGH,
    TANK_LITRES,
    TANK_LOW,
    ZONE_LAG_S,
    ZONE_SETPOINTS,
    Archive,
)
from wincc_sim.tags import (
    ACK_PREFIX,
    Fillers,
    TagSpec,
    ack_tag,
    filler_name,
    named_tags,
)


def quality_word(code: int) -> str:
    """The REST v1 face's quality word for an OPC/Siemens quality byte: its two high bits,
    0b11 and 0b10 good (cascade and non-cascade), 0b01 uncertain, 0b00 bad."""
    return ("bad", "uncertain", "good", "good")[(code >> 6) & 0b11]

FLOOD_ALARMS = 50  # filler sensors that carry an H alarm, for the flood scenario


class WriteError(Exception):
    """A write the plant refuses; `reason` is unknown | readonly | convert | range."""

    def __init__(self, reason: str, message: str) -> None:
        super().__init__(message)
        self.reason = reason


@dataclass(frozen=True, slots=True)
class Reading:
    name: str
    value: Any
    quality_code: int
    timestamp: datetime
    spec: TagSpec


def _alarm_defs(fillers: Fillers) -> list[AlarmDef]:
    defs: list[AlarmDef] = []
    for zone, sp in ZONE_SETPOINTS.items():
        tag = f"Oven_Zone{zone}_Temp"
        where = f"Oven zone {zone}"
        defs += [
            AlarmDef(f"{tag}_HH", tag, "HH", 13 + zone, "Alarm",
                     f"{where} temperature very high", "Switch the zone heater off, check the "
                     "thermocouple", "Oven", sp + 30, 2.0),
            AlarmDef(f"{tag}_H", tag, "H", 7 + zone, "Warning", f"{where} temperature high",
                     "Check the setpoint and the heater output", "Oven", sp + 15, 2.0),
            AlarmDef(f"{tag}_L", tag, "L", 4 + zone, "Warning", f"{where} temperature low",
                     "Check the heater contactor", "Oven", sp - 15, 2.0),
            AlarmDef(f"{tag}_LL", tag, "LL", 10 + zone, "Alarm",
                     f"{where} temperature very low", "Stop the line: product under-baked",
                     "Oven", sp - 30, 2.0),
        ]
    defs += [
        AlarmDef("Tank_Level_HH", "Tank_Level", "HH", 13, "Alarm", "Tank level very high",
                 "Stop the inlet pump, risk of overflow", "Tank", 95, 1.0),
        AlarmDef("Tank_Level_H", "Tank_Level", "H", 7, "Warning", "Tank level high",
                 "Check the inlet pump control", "Tank", 90, 1.0),
        AlarmDef("Tank_Level_L", "Tank_Level", "L", 5, "Warning", "Tank level low",
                 "Check that the inlet pump starts", "Tank", 12, 2.0),
        AlarmDef("Tank_Level_LL", "Tank_Level", "LL", 12, "Alarm", "Tank level very low",
                 "Protect the outlet pump from running dry", "Tank", 5, 1.0),
        AlarmDef("Motor1_Current_HH", "Motor1_Current", "HH", 10, "Alarm",
                 "Conveyor drive overcurrent", "Check the conveyor for a jam", "Conveyor",
                 35, 1.0),
        AlarmDef("Conveyor_Fault", "Conveyor_Fault", "digital", 12, "Alarm",
                 "Conveyor drive fault", "Reset the drive at the local panel", "Conveyor"),
        AlarmDef("Pump_Fault", "Pump_Fault", "digital", 15, "Alarm", "Inlet pump fault",
                 "Inspect the pump, then reset the alarm", "Tank", latched=True),
    ]
    for motor, text in ((1, "Conveyor drive"), (2, "Inlet pump motor"), (3, "Oven fan 1"),
                        (4, "Oven fan 2")):
        limit = {1: 30, 2: 20, 3: 12, 4: 12}[motor]
        defs.append(AlarmDef(f"Motor{motor}_Current_H", f"Motor{motor}_Current", "H", motor,
                             "Notification", f"{text} current high", "", "Motors", limit, 0.5))
    for index in range(1, min(FLOOD_ALARMS, fillers.count) + 1):
        tag = fillers.spec(index).name
        defs.append(AlarmDef(f"{tag}_H", tag, "H", 2 + index % 8, "Warning",
                             f"Auxiliary sensor {index} high", "", "Aux",
                             fillers.high_limit(index), fillers.amplitude(index) / 4))
    return defs


class Plant:
    def __init__(
        self,
        *,
        seed: int = 1,
        tags: int = 200,
        tick: float = 0.5,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
        day_script: bool = False,
    ) -> None:
        self.seed = seed
        self.dt = tick
        self.clock = clock
        self.named = {spec.name: spec for spec in named_tags()}
        self.fillers = Fillers(max(0, tags - len(self.named)), seed)
        self.alarm_defs = {d.name: d for d in _alarm_defs(self.fillers)}
        # The demo's day script drives these alarms (dayscript.py); none without enough fillers.
        self.day_alarms: dict[str, int] = {}
        if day_script and self.fillers.count >= dayscript.NEEDS_FILLERS:
            self.day_alarms = {
                f"{filler_name(i)}_H": i for i in range(1, dayscript.NEEDS_FILLERS + 1)
            }
        self.ack_tags = {
            spec.name: spec
            for spec in (ack_tag(d.name) for d in self.alarm_defs.values() if d.ack_required)
        }
        self._ack_alarm = {f"{ACK_PREFIX}{d.name}": d.name for d in self.alarm_defs.values()}
        # The tags the archive lists as logging tags; it answers for every tag.
        self.logged = tuple(self.named)
        self._alarms_by_tag: dict[str, list[AlarmDef]] = {}
        for d in self.alarm_defs.values():
            self._alarms_by_tag.setdefault(d.tag, []).append(d)
        self.reset()

    # --- life cycle -------------------------------------------------------------------------

    def reset(self) -> None:
        """Back to the seed's initial state: steady plant, no alarms, no scenarios, no holds."""
        now = self.clock()
        self.t = 0.0
        self.started = now
        self.tick_time = now
        # The model's undisturbed course, which is also the archive (archive.py).
        self.archive = Archive(self.seed, now, self.fillers, day_script=bool(self.day_alarms))
        self.frozen = False
        self.values: dict[str, Any] = {}
        self.changed: dict[str, datetime] = {}
        for name in self.named:
            self._set(name, self.archive.value(name, now.timestamp()), now)
        for name in self.ack_tags:
            self._set(name, 0, now)
        # What operators changed, as deviations from the model: zone temperatures follow a
        # setpoint change through their lag, the belt a speed change or a stop.
        self._zone_offset = dict.fromkeys(ZONE_SETPOINTS, 0.0)
        self._speed_offset = 0.0
        self._parts_offset = 0.0
        self._count_day = int(now.timestamp() // DAY_S)
        # The tank once an operator took it over: (level, pump on, plant second the pump
        # started); None while it follows the model.
        self._tank: tuple[float, bool, float] | None = None
        self.alarms = AlarmBook(self.alarm_defs)
        self.held: dict[str, tuple[Any, datetime]] = {}
        self.bad_quality: set[str] = set()
        # Admin: a tag's quality byte, for codes the plant itself never produces (0x80...).
        self.quality_codes: dict[str, int] = {}
        self.overrides: dict[str, bool] = {}
        self.scenarios: dict[str, dict[str, Any]] = {}
        # The day script's occurrences now (sensor index ->) and those of visible instances.
        self.lifted: dict[int, dayscript.Occurrence] = {}
        self._scheduled: dict[tuple[str, int], dayscript.Occurrence] = {}

    def _set(self, name: str, value: Any, now: datetime) -> None:
        if self.values.get(name) != value or name not in self.values:
            self.values[name] = value
            self.changed[name] = now

    # --- reading ----------------------------------------------------------------------------

    def spec(self, name: str) -> TagSpec | None:
        spec = self.named.get(name) or self.ack_tags.get(name)
        if spec is not None:
            return spec
        index = self.fillers.index(name)
        return None if index is None else self.fillers.spec(index)

    def specs(self) -> Iterator[TagSpec]:
        """Every tag's spec: the named tags, the acknowledge tags, then the fillers."""
        yield from self.named.values()
        yield from self.ack_tags.values()
        for index in range(1, self.fillers.count + 1):
            yield self.fillers.spec(index)

    def tag_names(self) -> Iterator[str]:
        return (spec.name for spec in self.specs())

    @property
    def tag_count(self) -> int:
        return len(self.named) + len(self.ack_tags) + self.fillers.count

    def read(self, name: str) -> Reading | None:
        index = self.fillers.index(name)
        spec = self.fillers.spec(index) if index is not None else self.spec(name)
        if spec is None:
            return None
        quality = BAD_COMM_FAILURE if name in self.bad_quality else GOOD
        quality = self.quality_codes.get(name, quality)
        if name in self.held:
            value, ts = self.held[name]
            return Reading(name, value, quality, ts, spec)
        if index is not None:
            # Wall seconds since the reset, as in the archive; a frozen plant's tick time
            # stands still, and so do the fillers.
            s = (self.tick_time - self.started).total_seconds()
            value = self.fillers.value(index, s, self._offset(index))
            return Reading(name, value, quality, self.tick_time, spec)
        return Reading(name, self.values[name], quality, self.changed[name], spec)

    def read_known(self, name: str) -> Reading:
        """The reading of a tag the plant has (an alarm's, a logged one); KeyError otherwise."""
        reading = self.read(name)
        if reading is None:
            raise KeyError(f"the plant has no tag {name!r}")
        return reading

    def _offset(self, index: int) -> float:
        """How far a scenario or the day script lifts filler sensor `index` now."""
        lift = dayscript.LIFT * self.fillers.amplitude(index) if index in self.lifted else 0.0
        return self._flood_offset(index) + lift

    def _flood_offset(self, index: int) -> float:
        flood = self.scenarios.get("flood")
        if not flood or index > flood["count"]:
            return 0.0
        # Staggered: one more sensor crosses its limit every `spacing` seconds.
        since = self.t - flood["start"] - (index - 1) * flood["spacing"]
        if 0 <= since < flood["duration"]:
            return 3 * self.fillers.amplitude(index)
        return 0.0

    def in_archive(self, name: str, start: datetime, end: datetime, limit: int = 0):
        """The archive of a tag between start and end (archive.Archive.window)."""
        return self.archive.window(name, start, end, self.clock(), limit)

    # --- writing ----------------------------------------------------------------------------

    def write(self, name: str, value: Any, *, user: str, face: str) -> None:
        """Apply an API write as WinCC would pass it to the plant; raise WriteError."""
        spec = self.spec(name)
        if spec is None:
            raise WriteError("unknown", f"unknown tag {name!r}")
        if not spec.writable:
            raise WriteError("readonly", f"tag {name!r} is a process value and cannot be written")
        converted = _convert(spec, value)
        now = self.clock()
        if name in self._ack_alarm:
            if converted == 1:
                # The plant's acknowledge logic takes the request and resets the handshake.
                self.alarms.acknowledge(self._ack_alarm[name], 0, user, face, now)
            self._set(name, 0, now)
            return
        if name == "Tank_InletPump_On":
            self._take_over_tank(pump=converted)
        self._set(name, converted, now)

    def force(self, name: str, value: Any, *, hold: bool = True) -> None:
        """Admin: give a tag a value; held values stay until released or reset."""
        spec = self.spec(name)
        if spec is None:
            raise WriteError("unknown", f"unknown tag {name!r}")
        converted = _convert(spec, value, check_range=False)
        now = self.clock()
        if hold or self.fillers.index(name) is not None:
            self.held[name] = (converted, now)
        else:
            self.held.pop(name, None)
            if name == "Tank_Level":
                self._take_over_tank(level=converted)
            elif name == "Tank_InletPump_On":
                self._take_over_tank(pump=converted)
            self._set(name, converted, now)
        self.evaluate_alarms(now)

    def _take_over_tank(self, *, level: float | None = None, pump: bool | None = None) -> None:
        """From now on the tank runs on its own state: an operator changed its course."""
        s = self._plant_second()
        old_level, old_pump, started = self._tank or (
            self.values["Tank_Level"], self.values["Tank_InletPump_On"],
            s - self.archive.tank(s)[2])
        pump = old_pump if pump is None else pump
        if pump and not old_pump:
            started = s
        self._tank = (old_level if level is None else level, pump, started)

    def _plant_second(self) -> float:
        return self.clock().timestamp() - self.archive.origin

    def release(self, name: str) -> None:
        self.held.pop(name, None)

    # --- scenarios --------------------------------------------------------------------------

    def start_scenario(self, kind: str, **options: Any) -> dict[str, Any]:
        if kind == "flood":
            count = int(options.get("count", FLOOD_ALARMS))
            scenario = {"start": self.t, "count": min(count, FLOOD_ALARMS, self.fillers.count),
                        "duration": float(options.get("duration", 120)),
                        "spacing": float(options.get("spacing", 0.5))}
        elif kind == "chatter":
            scenario = {"start": self.t, "period": float(options.get("period", 4.0))}
        elif kind == "stuck":
            tag = options.get("tag", "Oven_Zone3_Temp")
            reading = self.read(tag)
            if reading is None:
                raise WriteError("unknown", f"unknown tag {tag!r}")
            self.held[tag] = (reading.value, reading.timestamp)
            scenario = {"tag": tag}
        else:
            raise ValueError(f"unknown scenario {kind!r}; use flood, chatter or stuck")
        self.scenarios[kind] = scenario
        return scenario

    def stop_scenario(self, kind: str) -> None:
        scenario = self.scenarios.pop(kind, None)
        if kind == "stuck" and scenario:
            self.held.pop(scenario["tag"], None)

    # --- dynamics ---------------------------------------------------------------------------

    def tick(self) -> None:
        if self.frozen:
            return
        now = self.clock()
        self.t += self.dt
        self.tick_time = now
        dt, v, model = self.dt, self.values, self.archive
        ts = now.timestamp()
        s = ts - model.origin
        for zone, sp in ZONE_SETPOINTS.items():
            name = f"Oven_Zone{zone}_Temp"
            target = v[f"Oven_Zone{zone}_Setpoint"] - sp
            self._zone_offset[zone] += (target - self._zone_offset[zone]) * dt / ZONE_LAG_S
            self._set(name, round(model.value(name, ts) + self._zone_offset[zone], 2), now)

        running = v["Conveyor_Running"]
        target = (v["Conveyor_Speed_Setpoint"] if running else 0.0) - CONVEYOR_SPEED
        self._speed_offset += (target - self._speed_offset) * min(1.0, dt / 3.0)
        base = model.speed(ts) if running else CONVEYOR_SPEED
        speed = max(0.0, base + self._speed_offset)
        self._set("Conveyor_Speed", round(speed, 2), now)
        self._set("Conveyor_Fault", self._conveyor_fault(s), now)

        outflow = model.outflow(ts)
        if self._tank is None:
            level, pump, since = model.tank(s)
        else:
            level, pump, started = self._tank
            level += ((PUMP_LPM if pump else 0.0) - outflow) / 60 * dt / TANK_LITRES * 100
            level = min(100.0, max(0.0, level))
            # The tank's own two-point control; an operator's write holds until the next switch.
            if level < TANK_LOW and not pump:
                pump, started = True, s
            elif level > TANK_HIGH and pump:
                pump = False
            self._tank = (level, pump, started)
            since = s - started
        self._set("Tank_Outflow", round(outflow, 2), now)
        self._set("Tank_Level", round(level, 2), now)
        self._set("Tank_InletPump_On", pump, now)

        self._set("Motor1_Current", round(model.motor1(ts, speed, running), 2), now)
        self._set("Motor2_Current", round(model.motor2(ts, pump, since), 2), now)
        for name in ("Motor3_Current", "Motor4_Current"):
            self._set(name, model.value(name, ts), now)

        # The model counts at the set speed; a slower or stopped belt counts the difference.
        # The day counters start again at midnight UTC (archive.produced).
        day = int(ts // DAY_S)
        before = v["Line_Produced_Count"] if day == self._count_day else 0
        if day != self._count_day:
            self._count_day, self._parts_offset = day, 0.0
        self._parts_offset += (speed - CONVEYOR_SPEED) * dt / 60 * 2
        produced = max(before, model.produced(ts) + math.floor(self._parts_offset))
        self._set("Line_Produced_Count", produced, now)
        self._set("Line_Reject_Count", produced // REJECT_EVERY, now)

        self.evaluate_alarms(now)

    def _conveyor_fault(self, s: float) -> bool:
        chatter = self.scenarios.get("chatter")
        if chatter:
            return int((self.t - chatter["start"]) / (chatter["period"] / 2)) % 2 == 0
        return self.archive.conveyor_fault(s)

    def evaluate_alarms(self, now: datetime | None = None) -> None:
        now = now or self.clock()
        self.alarms.expire_shelving(now)
        if self.day_alarms:
            self._play_day_script(now)
        for name, d in self.alarm_defs.items():
            if name in self.day_alarms:
                continue
            if name in self.overrides:
                condition = self.overrides[name]
                value = None
            else:
                value = self.read_known(d.tag).value
                condition = d.condition(value, self.alarms.is_active(name))
            self.alarms.update(name, condition, now, value)

    def _play_day_script(self, now: datetime) -> None:
        """Raise, clear and acknowledge the scripted alarms at their scheduled times."""
        self.lifted = dayscript.active_at(self.seed, now.timestamp())
        for name, index in self.day_alarms.items():
            occurrence = self.lifted.get(index)
            for inst in self.alarms.instances(name):
                known = self._scheduled.get((name, inst.instance_id))
                if inst.active and (occurrence is None or inst.instance_id != occurrence.start):
                    end = known.end if known else now.timestamp()
                    self.alarms.clear_instance(inst, _at(min(end, now.timestamp())))
                if known and inst.can_acknowledge and known.ack_at <= now.timestamp():
                    self.alarms.acknowledge(name, inst.instance_id, dayscript.OPERATOR,
                                            "script", _at(known.ack_at))
            if occurrence is not None and not any(
                inst.instance_id == occurrence.start for inst in self.alarms.instances(name)
            ) and (name, occurrence.start) not in self._scheduled:
                self._scheduled[(name, occurrence.start)] = occurrence
                since = (now - self.started).total_seconds()
                value = self.fillers.value(index, since, self._offset(index))
                self.alarms.raise_instance(name, occurrence.start, _at(occurrence.start), value)
        visible = {(inst.name, inst.instance_id) for inst in self.alarms.visible}
        for key in [key for key in self._scheduled if key not in visible]:
            occurrence = self._scheduled[key]
            if occurrence.end <= now.timestamp():
                del self._scheduled[key]



def _convert(spec: TagSpec, value: Any, *, check_range: bool = True) -> Any:
    """The value as the tag's type, or WriteError('convert'/'range') saying why not."""
    if spec.kind == "bool":
        if isinstance(value, bool):
            return value
        if isinstance(value, int | float) and value in (0, 1):
            return bool(value)
        if isinstance(value, str) and value.strip().lower() in ("true", "false", "0", "1"):
            return value.strip().lower() in ("true", "1")
        raise WriteError("convert", f"cannot convert {value!r} to a boolean for {spec.name!r}")
    if isinstance(value, bool):
        raise WriteError("convert", f"cannot convert a boolean to a number for {spec.name!r}")
    try:
        number = float(value)
    except (TypeError, ValueError):
        raise WriteError("convert", f"cannot convert {value!r} to a number for {spec.name!r}") \
            from None
    if not math.isfinite(number):
        raise WriteError("convert", f"{value!r} is not a finite number for {spec.name!r}")
    if spec.kind == "int":
        if number != int(number):
            raise WriteError("convert", f"{value!r} is not a whole number for {spec.name!r}")
        number = int(number)
    if check_range and (
        (spec.write_min is not None and number < spec.write_min)
        or (spec.write_max is not None and number > spec.write_max)
    ):
        raise WriteError("range", f"{value!r} is outside {spec.write_min}..{spec.write_max} "
                                  f"for {spec.name!r}")
    return number


def _at(unix: float) -> datetime:
    return datetime.fromtimestamp(unix, UTC)
