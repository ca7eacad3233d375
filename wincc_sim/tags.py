"""The plant's tags: the named process tags of docs/protocols.md and cheap filler sensors."""

from __future__ import annotations

import math
import random
from dataclasses import dataclass

FILLER_PREFIX = "Aux_Sensor_"
ACK_PREFIX = "Ack_"
# WinCC Classic DM_VARTYPE numbers used in `dataType` (a guess that REST uses them).
CLASSIC_DATA_TYPES = {"bool": 1, "int": 6, "float": 8}
UNIFIED_DATA_TYPES = {"bool": "Bool", "int": "DInt", "float": "LReal"}


@dataclass(frozen=True, slots=True)
class TagSpec:
    name: str
    kind: str  # "float" | "bool" | "int"
    unit: str = ""
    group: str = ""
    connection: str = ""
    writable: bool = False
    write_min: float | None = None
    write_max: float | None = None
    description: str = ""


def _f(name, unit, group, conn, description, **kw) -> TagSpec:
    return TagSpec(name, "float", unit, group, conn, description=description, **kw)


def _b(name, group, conn, description, **kw) -> TagSpec:
    return TagSpec(name, "bool", "", group, conn, description=description, **kw)


def named_tags() -> list[TagSpec]:
    tags: list[TagSpec] = []
    for zone in (1, 2, 3):
        tags.append(_f(f"Oven_Zone{zone}_Temp", "°C", "Oven", "PLC_Oven",
                       f"Oven zone {zone} temperature"))
        tags.append(_f(f"Oven_Zone{zone}_Setpoint", "°C", "Oven", "PLC_Oven",
                       f"Oven zone {zone} setpoint", writable=True, write_min=0, write_max=400))
    tags += [
        _f("Conveyor_Speed", "m/min", "Conveyor", "PLC_Line", "Conveyor speed"),
        _f("Conveyor_Speed_Setpoint", "m/min", "Conveyor", "PLC_Line", "Conveyor speed setpoint",
           writable=True, write_min=0, write_max=60),
        _b("Conveyor_Running", "Conveyor", "PLC_Line", "Conveyor running", writable=True),
        _b("Conveyor_Fault", "Conveyor", "PLC_Line", "Conveyor drive fault"),
        _f("Tank_Level", "%", "Tank", "PLC_Utilities", "Tank level"),
        _b("Tank_InletPump_On", "Tank", "PLC_Utilities", "Tank inlet pump on", writable=True),
        _f("Tank_Outflow", "l/min", "Tank", "PLC_Utilities", "Tank outflow"),
        _b("Pump_Fault", "Tank", "PLC_Utilities", "Inlet pump fault"),
        _f("Motor1_Current", "A", "Motors", "PLC_Line", "Conveyor drive current"),
        _f("Motor2_Current", "A", "Motors", "PLC_Utilities", "Inlet pump motor current"),
        _f("Motor3_Current", "A", "Motors", "PLC_Oven", "Oven fan 1 current"),
        _f("Motor4_Current", "A", "Motors", "PLC_Oven", "Oven fan 2 current"),
        TagSpec("Line_Produced_Count", "int", "pcs", "Line", "PLC_Line",
                description="Parts produced"),
        TagSpec("Line_Reject_Count", "int", "pcs", "Line", "PLC_Line",
                description="Parts rejected"),
    ]
    return tags


def ack_tag(alarm_name: str) -> TagSpec:
    """Classic has no acknowledge endpoint; the plant acknowledges when this tag gets 1."""
    return TagSpec(f"{ACK_PREFIX}{alarm_name}", "int", "", "Acknowledge", "Internal",
                   writable=True, write_min=0, write_max=1,
                   description=f"Write 1 to acknowledge alarm {alarm_name}")


def filler_name(index: int) -> str:
    return f"{FILLER_PREFIX}{index:04d}"


class Fillers:
    """Filler sensors computed on read from seed, index and plant time: no state, little CPU."""

    def __init__(self, count: int, seed: int) -> None:
        self.count = count
        rng = random.Random(seed * 7919 + 17)
        self._base = [round(rng.uniform(10, 90), 1) for _ in range(count)]
        self._amp = [rng.uniform(0.5, 5) for _ in range(count)]
        self._period = [rng.uniform(30, 600) for _ in range(count)]
        self._phase = [rng.uniform(0, 2 * math.pi) for _ in range(count)]

    def index(self, name: str) -> int | None:
        """1-based index of a filler name, None when the name is not one."""
        if not name.startswith(FILLER_PREFIX):
            return None
        digits = name[len(FILLER_PREFIX):]
        if not (digits.isascii() and digits.isdigit()):
            return None
        index = int(digits)
        # Only the canonical spelling: Aux_Sensor_0001 is a tag, Aux_Sensor_1 is not.
        if filler_name(index) != name or not 1 <= index <= self.count:
            return None
        return index

    def spec(self, index: int) -> TagSpec:
        return TagSpec(filler_name(index), "float", "", "Aux", "PLC_Aux",
                       description=f"Auxiliary sensor {index}")

    def value(self, index: int, t: float, offset: float = 0.0) -> float:
        i = index - 1
        wave = math.sin(2 * math.pi * t / self._period[i] + self._phase[i])
        return round(self._base[i] + self._amp[i] * wave + offset, 3)

    def high_limit(self, index: int) -> float:
        """Above anything the sensor reaches by itself: only a flood crosses it."""
        i = index - 1
        return round(self._base[i] + 2 * self._amp[i], 1)

    def amplitude(self, index: int) -> float:
        return self._amp[index - 1]
