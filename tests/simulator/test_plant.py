"""The plant model in process: dynamics, determinism, alarm life cycle, scenarios."""

from __future__ import annotations

import itertools
from datetime import UTC, datetime, timedelta

import pytest

from wincc_sim.plant import Plant, WriteError


class Clock:
    """Wall time that moves only with the plant, so the tests do not wait."""

    def __init__(self) -> None:
        self.now = datetime(2026, 1, 1, tzinfo=UTC)

    def __call__(self) -> datetime:
        return self.now


def plant(**kw) -> tuple[Plant, Clock]:
    clock = Clock()
    p = Plant(clock=clock, **kw)
    return p, clock


def run(p: Plant, clock: Clock, seconds: float) -> None:
    for _ in range(round(seconds / p.dt)):
        clock.now += timedelta(seconds=p.dt)
        p.tick()


def states(p: Plant, name: str) -> list[str]:
    return [a.state for a in p.alarms.instances(name)]


def test_the_same_seed_gives_the_same_plant_and_another_seed_another():
    first, c1 = plant(seed=4)
    second, c2 = plant(seed=4)
    other, c3 = plant(seed=5)
    for p, c in ((first, c1), (second, c2), (other, c3)):
        run(p, c, 300)
    names = [*first.named, "Aux_Sensor_0007"]
    assert [first.read(n).value for n in names] == [second.read(n).value for n in names]
    assert first.alarms.history == second.alarms.history
    assert [first.read(n).value for n in names] != [other.read(n).value for n in names]


def test_values_change_within_a_second():
    p, clock = plant()
    before = p.read("Oven_Zone1_Temp").value, p.read("Aux_Sensor_0001").value
    run(p, clock, 1)
    after = p.read("Oven_Zone1_Temp").value, p.read("Aux_Sensor_0001").value
    assert before[0] != after[0] and before[1] != after[1]


def test_a_setpoint_write_moves_its_zone_and_only_its_zone():
    p, clock = plant()
    p.write("Oven_Zone1_Setpoint", 300, user="api_rw", face="test")
    run(p, clock, 10)
    assert p.read("Oven_Zone1_Temp").value > 200
    assert abs(p.read("Oven_Zone3_Temp").value - 220) < 3


def test_the_conveyor_stops_and_the_tank_fills_when_told():
    p, clock = plant()
    p.write("Conveyor_Running", False, user="api_rw", face="test")
    p.write("Tank_InletPump_On", "true", user="api_rw", face="test")
    level = p.read("Tank_Level").value
    run(p, clock, 10)
    assert p.read("Conveyor_Speed").value < 1
    assert p.read("Motor1_Current").value < 1
    assert p.read("Tank_Level").value > level
    assert p.read("Motor2_Current").value > 5


def test_counters_count_while_the_conveyor_runs():
    p, clock = plant()
    run(p, clock, 30)
    produced = p.read("Line_Produced_Count").value
    assert isinstance(produced, int) and produced >= 10


@pytest.mark.parametrize(
    ("name", "value", "reason"),
    [
        ("Nope", 1, "unknown"),
        ("Oven_Zone1_Temp", 100, "readonly"),
        ("Oven_Zone1_Setpoint", "hot", "convert"),
        ("Oven_Zone1_Setpoint", True, "convert"),
        ("Oven_Zone1_Setpoint", float("nan"), "convert"),
        ("Oven_Zone1_Setpoint", 401, "range"),
        ("Conveyor_Running", 2, "convert"),
        ("Ack_Tank_Level_L", 0.5, "convert"),
    ],
)
def test_a_bad_write_is_refused_with_its_reason_and_changes_nothing(name, value, reason):
    p, _ = plant()
    before = {n: p.read(n).value for n in p.named}
    with pytest.raises(WriteError) as refused:
        p.write(name, value, user="api_rw", face="test")
    assert refused.value.reason == reason
    assert str(refused.value)
    assert {n: p.read(n).value for n in p.named} == before


def test_a_limit_crossing_raises_with_hysteresis_and_an_unacknowledged_return_stays_visible():
    p, _ = plant()
    p.force("Tank_Level", 10.0)  # below L (12)
    assert states(p, "Tank_Level_L") == ["RAISED"]
    p.force("Tank_Level", 13.0)  # inside the 2 % hysteresis: still active
    assert states(p, "Tank_Level_L") == ["RAISED"]
    p.force("Tank_Level", 15.0)
    assert states(p, "Tank_Level_L") == ["RAISED_CLEARED"]
    results = p.alarms.acknowledge("Tank_Level_L", 0, "api_rw", "test", p.clock())
    assert results == [(1, None)]
    assert states(p, "Tank_Level_L") == []
    events = [(h["event"], h["state"]) for h in p.alarms.history if h["alarm"] == "Tank_Level_L"]
    assert events == [("raised", "RAISED"), ("cleared", "RAISED_CLEARED"),
                      ("acknowledged", "RAISED_CLEARED_ACKNOWLEDGED")]


def test_acknowledged_then_cleared_leaves_the_list_and_notifications_need_no_acknowledgement():
    p, _ = plant()
    p.force("Oven_Zone2_Temp", 240.0)
    assert states(p, "Oven_Zone2_Temp_HH") == ["RAISED"]
    assert p.alarms.acknowledge("Oven_Zone2_Temp_HH", 1, "api_rw", "t", p.clock()) == [(1, None)]
    assert states(p, "Oven_Zone2_Temp_HH") == ["RAISED_ACKNOWLEDGED"]
    assert p.alarms.acknowledge("Oven_Zone2_Temp_HH", 1, "api_rw", "t", p.clock()) == [
        (1, "305")]
    p.force("Oven_Zone2_Temp", 200.0)
    assert states(p, "Oven_Zone2_Temp_HH") == []

    p.force("Motor3_Current", 20.0)
    notification = p.alarms.instances("Motor3_Current_H")[0]
    assert not notification.can_acknowledge
    p.force("Motor3_Current", 7.0)
    assert states(p, "Motor3_Current_H") == []


def test_a_latched_fault_waits_for_a_reset_after_acknowledge_and_clear():
    p, _ = plant()
    p.force("Pump_Fault", True)
    assert p.alarms.reset("Pump_Fault", 0, "api_rw", "t", p.clock()) == [(1, "305")]
    p.alarms.acknowledge("Pump_Fault", 0, "api_rw", "t", p.clock())
    p.force("Pump_Fault", False)
    assert states(p, "Pump_Fault") == ["RAISED_ACKNOWLEDGED_CLEARED"]
    assert p.alarms.reset("Pump_Fault", 0, "api_rw", "t", p.clock()) == [(1, None)]
    assert states(p, "Pump_Fault") == []


def test_a_re_raise_before_acknowledgement_replaces_the_old_instance():
    p, _ = plant()
    p.force("Conveyor_Fault", True)
    p.force("Conveyor_Fault", False)
    p.force("Conveyor_Fault", True)
    visible = p.alarms.instances("Conveyor_Fault")
    assert [(a.instance_id, a.state) for a in visible] == [(2, "RAISED")]
    assert [h["event"] for h in p.alarms.history] == ["raised", "cleared", "removed", "raised"]


def test_acknowledge_errors_name_what_is_wrong():
    p, _ = plant()
    assert p.alarms.acknowledge("No_Such_Alarm", 0, "u", "t", p.clock()) == [(0, "2")]
    assert p.alarms.acknowledge("Tank_Level_L", 0, "u", "t", p.clock()) == [(0, "305")]
    p.force("Tank_Level", 3.0)
    assert p.alarms.acknowledge("Tank_Level_L", 9, "u", "t", p.clock()) == [(9, "9")]


def test_writing_an_ack_tag_acknowledges_and_the_handshake_resets():
    p, _ = plant()
    p.force("Tank_Level", 10.0)
    p.write("Ack_Tank_Level_L", 1, user="api_rw", face="classic")
    assert states(p, "Tank_Level_L") == ["RAISED_ACKNOWLEDGED"]
    assert p.alarms.instances("Tank_Level_L")[0].acknowledged_by == "api_rw"
    assert p.read("Ack_Tank_Level_L").value == 0


def test_the_demo_plant_raises_a_few_alarms_over_minutes_but_no_flood():
    p, clock = plant()
    run(p, clock, 60)
    assert p.alarms.history == []  # calm right after a reset: tests start clean
    run(p, clock, 20 * 60)
    raised = [h for h in p.alarms.history if h["event"] == "raised"]
    needing_ack = {h["alarm"] for h in raised if h["alarm_class"] != "Notification"}
    assert {"Oven_Zone2_Temp_H", "Tank_Level_L"} <= needing_ack
    assert 3 <= len(raised) <= 40


def test_flood_chatter_and_stuck_scenarios():
    p, clock = plant()
    p.start_scenario("flood", count=30, duration=60)
    run(p, clock, 20)
    flood = {a.name for a in p.alarms.visible if a.name.startswith("Aux_Sensor_")}
    assert len(flood) == 30

    p.start_scenario("chatter", period=2)
    run(p, clock, 60)
    chatter = [h for h in p.alarms.history if h["alarm"] == "Conveyor_Fault"
               and h["event"] == "raised"]
    assert len(chatter) >= 20  # far beyond ISA-18.2's 3 per minute

    p.start_scenario("stuck", tag="Oven_Zone1_Temp")
    stuck = p.read("Oven_Zone1_Temp")
    run(p, clock, 5)
    assert p.read("Oven_Zone1_Temp") == stuck
    p.stop_scenario("stuck")
    run(p, clock, 1)
    assert p.read("Oven_Zone1_Temp").timestamp > stuck.timestamp
    with pytest.raises(ValueError, match="unknown scenario"):
        p.start_scenario("earthquake")


def test_freeze_and_bad_quality():
    p, clock = plant()
    p.frozen = True
    p.bad_quality = {"Tank_Level"}
    before = p.read("Oven_Zone1_Temp"), p.read("Aux_Sensor_0003")
    run(p, clock, 5)
    assert (p.read("Oven_Zone1_Temp"), p.read("Aux_Sensor_0003")) == before
    assert p.read("Tank_Level").quality_code == 0x18
    assert p.read("Tank_Outflow").quality_code == 0xC0


def test_twenty_thousand_tags_cost_no_state_per_filler():
    p, clock = plant(tags=20_000)
    assert p.tag_count >= 20_000
    last = f"Aux_Sensor_{p.fillers.count}"
    assert len(last) == len("Aux_Sensor_") + 5
    assert isinstance(p.read(last).value, float)
    assert p.read("Aux_Sensor_019980") is None  # only the canonical spelling
    assert p.read(f"Aux_Sensor_{p.fillers.count + 1}") is None
    run(p, clock, 1)
    assert len(p.values) < 200  # fillers are computed on read, not stored


def test_the_archive_holds_one_value_a_second():
    p, clock = plant()
    start = clock.now
    run(p, clock, 10)
    samples = p.in_archive("Oven_Zone1_Temp", start, clock.now).values
    assert len(samples) == 11
    assert all(a.timestamp < b.timestamp for a, b in itertools.pairwise(samples))
    filler = p.in_archive("Aux_Sensor_0002", start, clock.now).values
    assert len(filler) == 11


def test_a_filler_name_with_a_non_ascii_digit_is_no_tag():
    p, _ = plant()
    assert p.read("Aux_Sensor_000²") is None


def test_the_day_counters_start_again_at_midnight_utc():
    clock = Clock()
    clock.now = datetime(2026, 3, 4, 23, 59, 30, tzinfo=UTC)
    p = Plant(clock=clock)
    run(p, clock, 20)
    before = p.read("Line_Produced_Count").value
    assert before > 30_000  # nearly a whole day of parts
    run(p, clock, 20)  # past midnight
    after = p.read("Line_Produced_Count").value
    assert 0 <= after < 10 and p.read("Line_Reject_Count").value == after // 50
    run(p, clock, 30)
    assert p.read("Line_Produced_Count").value > after
