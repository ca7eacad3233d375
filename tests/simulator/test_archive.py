"""The archive (wincc_sim/archive.py): a pure function of tag and time that the live plant
agrees with, and what the three faces serve from it."""

from __future__ import annotations

import hashlib
import itertools
import json
import threading
from datetime import UTC, datetime, timedelta

import httpx
import pytest

from tests.simulator.conftest import basic, bearer, gql, login
from tests.simulator.test_plant import plant, run
from wincc_bridge.dialects.unified import LOGGED_TAG_VALUES
from wincc_sim import dayscript, unified
from wincc_sim.archive import BLOCK_S, GOOD, MAX_VALUES, Archive
from wincc_sim.simulation import Simulation
from wincc_sim.tags import Fillers, filler_name
from wincc_sim.users import Users

ORIGIN = datetime(2026, 3, 1, 6, 0, tzinfo=UTC)
NAMED = ["Oven_Zone1_Temp", "Oven_Zone2_Temp", "Conveyor_Speed", "Conveyor_Fault",
         "Tank_Level", "Tank_InletPump_On", "Tank_Outflow", "Motor1_Current",
         "Motor2_Current", "Line_Produced_Count", "Aux_Sensor_0007"]


def archive(seed: int = 1, origin: datetime = ORIGIN) -> Archive:
    return Archive(seed, origin, Fillers(20, seed))


def seconds_back(days: float, every: int = 3607) -> list[int]:
    """Whole seconds from `days` before ORIGIN up to it, a prime step apart."""
    first = int(ORIGIN.timestamp() - days * 86400)
    return list(range(first, int(ORIGIN.timestamp()), every))


def test_the_same_seed_and_reset_give_the_same_archive_in_any_order() -> None:
    first, second, other = archive(), archive(), archive(seed=2)
    times = seconds_back(7)
    forward = [first.sample(n, t) for n in NAMED for t in times]
    backward = [second.sample(n, t) for n in reversed(NAMED) for t in reversed(times)]
    assert forward == list(reversed(backward))
    assert forward != [other.sample(n, t) for n in NAMED for t in times]


def test_seven_days_back_hold_values_with_occasional_gaps_and_bad_stretches() -> None:
    a = archive()
    start = ORIGIN - timedelta(days=7)
    window = a.window("Tank_Level", start, ORIGIN, ORIGIN, limit=MAX_VALUES)
    codes = [p.code for p in window.values]
    assert len(codes) == MAX_VALUES and window.thinned
    assert 0.001 < codes.count(None) / len(codes) < 0.05  # gaps: now and then
    assert 0.9 < codes.count(GOOD) / len(codes) < 0.995
    assert {c for c in codes if c not in (None, GOOD)} == {0x18, 0x44}
    assert window.values[0].timestamp == start and window.values[-1].timestamp == ORIGIN
    # Before the archive's first second there is nothing.
    assert a.sample("Tank_Level", a.begins - 1) is None
    assert a.sample("Tank_Level", a.begins) is not None or a.stretch_at("Tank_Level", a.begins)


def test_the_archive_from_an_hour_before_the_reset_is_all_good() -> None:
    a = archive()
    for name in NAMED:
        for block in (int(ORIGIN.timestamp()) // BLOCK_S - 1, int(ORIGIN.timestamp()) // BLOCK_S):
            assert all(s.end <= ORIGIN.timestamp() - 3600 for s in a.stretches(name, block))
        later = [a.sample(name, int(ORIGIN.timestamp()) + k) for k in range(-3600, 7200, 61)]
        assert all(sample is not None and sample[1] == GOOD for sample in later)


def test_the_archive_values_stay_what_they_were() -> None:
    """A digest of values taken before the archive was made faster: a speed-up that changes a
    single value (or its type) fails here."""
    a = archive()
    names = [*NAMED, "Oven_Zone3_Temp", "Motor3_Current", "Line_Reject_Count",
             "Conveyor_Speed_Setpoint"]
    held = [a.sample(n, t) for n in names for t in seconds_back(3, 997)]
    assert sum(h is None for h in held) == 52
    assert hashlib.sha256(repr(held).encode()).hexdigest() == (
        "0542346249369173ed965ab0399444c733085e3280f42b6b2031d5b61dd9eb46")


def test_a_window_holds_what_sample_holds_second_by_second() -> None:
    a = archive()
    gap = first_gap(a, "Tank_Level")
    start = datetime.fromtimestamp(gap.start - 120, UTC)
    end = datetime.fromtimestamp(gap.end + 120, UTC)
    for name in NAMED:
        window = a.window(name, start, end, ORIGIN)
        seconds = range(gap.start - 120, gap.end + 121)
        assert [(p.timestamp, p.value, p.code) for p in window.values] == [
            (datetime.fromtimestamp(sec, UTC), *(a.sample(name, sec) or (None, None)))
            for sec in seconds]
    assert any(p.code is None for p in a.window("Tank_Level", start, end, ORIGIN).values)


def test_a_thinned_week_costs_as_many_values_as_asked_evenly_spaced() -> None:
    a = archive()
    window = a.window("Oven_Zone1_Temp", ORIGIN - timedelta(days=7), ORIGIN, ORIGIN, limit=1000)
    stamps = [p.timestamp for p in window.values]
    assert len(stamps) == 1000 and window.thinned
    steps = [(b - a).total_seconds() for a, b in itertools.pairwise(stamps)]
    # About 605 s apart; a second in a gap moves to the gap's end, before the next one.
    assert all(0 < step < 2 * 605 for step in steps)
    assert sum(604 <= step <= 606 for step in steps) > 0.9 * len(steps)
    short = a.window("Oven_Zone1_Temp", ORIGIN - timedelta(seconds=9), ORIGIN, ORIGIN, 1000)
    assert len(short.values) == 10 and not short.thinned


def test_bounding_values_and_the_future() -> None:
    a = archive()
    end = ORIGIN - timedelta(hours=1)
    window = a.window("Motor3_Current", end - timedelta(seconds=30), end, ORIGIN, limit=100)
    assert window.before is not None and window.after is not None
    assert window.before.timestamp < window.values[0].timestamp
    assert window.after.timestamp > window.values[-1].timestamp
    future = a.window("Motor3_Current", ORIGIN - timedelta(seconds=5),
                      ORIGIN + timedelta(hours=1), ORIGIN, limit=100)
    assert future.after is None and future.values[-1].timestamp == ORIGIN
    newest = a.run("Motor3_Current", ORIGIN + timedelta(days=1), ORIGIN, 3, newest_first=True)
    assert [p.timestamp for p in newest] == [ORIGIN - timedelta(seconds=k) for k in range(3)]


def test_the_live_plant_is_the_archive_while_nobody_touches_it() -> None:
    p, clock = plant()
    for _ in range(5):  # 50 minutes in ten-minute steps: drifts, a fault, tank cycles
        run(p, clock, 600)
        now = clock.now.timestamp()
        for name in NAMED:
            live, logged = p.read(name).value, p.archive.value(name, now)
            if name == "Line_Produced_Count":
                # Counted from the belt's noisy speed: a part or two either way.
                assert abs(live - logged) <= 3
            else:
                assert live == logged, (name, live, logged)
    samples = p.in_archive("Oven_Zone2_Temp", p.started, clock.now).values
    assert max(s.value for s in samples) > 215  # zone 2's drifts over H are in the archive


def test_an_operator_write_changes_the_live_plant_and_not_the_archive() -> None:
    p, clock = plant()
    p.write("Oven_Zone1_Setpoint", 250, user="api_rw", face="test")
    run(p, clock, 120)
    live = p.read("Oven_Zone1_Temp").value
    assert live > 240
    assert abs(p.archive.value("Oven_Zone1_Temp", clock.now.timestamp()) - 180) < 3


def test_the_day_script_lifts_its_sensors_in_the_archive_as_in_the_live_plant() -> None:
    p, clock = plant(day_script=True)
    origin = int(clock.now.timestamp())
    past = [o for o in dayscript.occurrences(p.seed, origin - 86400, origin - 3600)
            if o.index in dayscript.ROUTINE and o.end - o.start > 60]
    assert past
    for occurrence in past[:10]:
        name = filler_name(occurrence.index)
        limit = p.fillers.high_limit(occurrence.index)
        during = p.archive.value(name, occurrence.start + 30)
        assert during > limit, (occurrence, during, limit)  # the trend shows the alarm's cause
    run(p, clock, 120)
    now = clock.now.timestamp()
    for index in [*dayscript.ROUTINE, *dayscript.STANDING]:
        name = filler_name(index)
        assert p.read(name).value == p.archive.value(name, now)


# --- the faces -------------------------------------------------------------------------------

LOGGED = ("query($n:[String]!,$s:Timestamp,$e:Timestamp,$m:Int,$b:LoggedTagValuesBoundingModeEnum)"
          "{loggedTagValues(names:$n,startTime:$s,endTime:$e,maxNumberOfValues:$m,"
          "boundingValuesMode:$b){loggingTagName error{code description} "
          "values{value{value timestamp quality{quality subStatus}} flags}}}")


def the_sims_archive(sim) -> Archive:
    state = sim.admin("GET", "/admin/state", tags="none")
    return Archive(state["seed"], datetime.fromisoformat(state["archive_origin"]), Fillers(0, 1))


def first_gap(a: Archive, name: str):
    block = int(a.origin // BLOCK_S) - 1
    while True:
        gaps = [s for s in a.stretches(name, block) if s.code is None]
        if gaps:
            return gaps[0]
        block -= 1


def iso(second: int) -> str:
    return datetime.fromtimestamp(second, UTC).strftime("%Y-%m-%dT%H:%M:%S.000Z")


def test_unified_flags_a_gap_no_data_and_sends_bounding_values(sim, client) -> None:
    gap = first_gap(the_sims_archive(sim), "Tank_Level")
    token = login(client, sim.users.ro.username, sim.users.ro.password)
    variables = {"n": ["Tank_Level"], "s": iso(gap.start - 2), "e": iso(gap.end + 1),
                 "b": "LEFTRIGHT_BOUNDING_VALUES"}
    [result] = gql(client, LOGGED, variables, token)["data"]["loggedTagValues"]
    flags = [tuple(v["flags"]) for v in result["values"]]
    length = gap.end - gap.start
    assert flags == [("BOUNDING",), (), (), *[("NO_DATA",)] * length, (), (), ("BOUNDING",)]
    no_data = result["values"][3]["value"]
    assert no_data["value"] is None and no_data["quality"]["quality"] == "BAD"
    variables["m"] = 5
    [thinned] = gql(client, LOGGED, variables, token)["data"]["loggedTagValues"]
    assert len([v for v in thinned["values"] if "BOUNDING" not in v["flags"]]) == 5


def test_rest_v1_history_answers_and_refuses_in_plain_sentences(sim, client) -> None:
    end = datetime.now(UTC)
    params = {"tags": "Tank_Level,Nope", "start": (end - timedelta(seconds=20)).isoformat(),
              "end": end.isoformat(), "max": "5"}
    body = client.get("/api/v1/history", params=params, headers=bearer(sim)).json()
    known, unknown = body["history"]
    assert known["truncated"] and known["error"] is None
    assert len([p for p in known["points"] if not p.get("bounding")]) == 5
    assert set(known["points"][1]) == {"t", "v", "q"} and known["points"][1]["q"] == "good"
    assert unknown == {"name": "Nope", "points": [], "truncated": False, "error": "unknown tag"}
    for change, words in [({"tags": ""}, "tags is required"), ({"start": "soon"}, "ISO-8601"),
                          ({"start": end.isoformat(), "end": "2020-01-01T00:00:00Z"},
                           "start is after end"),
                          ({"max": "0"}, "at least 1"), ({"max": "20000"}, "at most 10000"),
                          ({"tags": ",".join(["Tank_Level"] * 101)}, "at most 100 tags")]:
        response = client.get("/api/v1/history", params={**params, **change},
                              headers=bearer(sim))
        assert response.status_code == 400 and words in response.json()["error"], change
    assert client.get("/api/v1/history", params=params).status_code == 401


@pytest.mark.parametrize("face", ["classic", "unified", "rest-v1"])
def test_the_archive_error_fault_answers_an_error_for_every_tag(sim, client, face) -> None:
    sim.set_faults(archive_error=[face])
    end = datetime.now(UTC)
    start = end - timedelta(seconds=10)
    if face == "classic":
        answer = client.post("/WinCCRestService/tagLogging/Archive/ProcessValueArchive/values",
                             params={"begin": start.isoformat(), "end": end.isoformat()},
                             json={"variableNames": ["Tank_Level"]}, auth=basic(sim)).json()
        error = answer[0]["error"]
    elif face == "unified":
        token = login(client, sim.users.ro.username, sim.users.ro.password)
        variables = {"n": ["Tank_Level"], "s": iso(int(start.timestamp())),
                     "e": iso(int(end.timestamp()))}
        error = gql(client, LOGGED, variables, token)["data"]["loggedTagValues"][0]["error"]
    else:
        answer = client.get("/api/v1/history", headers=bearer(sim), params={
            "tags": "Tank_Level", "start": start.isoformat(), "end": end.isoformat()}).json()
        error = answer["history"][0]["error"]
    assert error and "not available" in str(error)
    with pytest.raises(AssertionError, match="archive_error"):
        sim.set_faults(archive_error=["nowhere"])


@pytest.mark.parametrize("face", ["unified", "rest-v1"])
def test_a_long_archive_request_does_not_hold_up_the_polls(sim, face) -> None:
    """The archive is computed off the event loop: a read asked while a week of many tags is
    being computed is answered before that archive answer is complete."""
    end = datetime.now(UTC)
    tags = [filler_name(i) for i in range(1, 41)]
    finished: list[str] = []

    def ask_archive() -> None:
        with sim.client() as c:
            c.timeout = httpx.Timeout(120)
            if face == "rest-v1":
                c.get("/api/v1/history", headers=bearer(sim), params={
                    "tags": ",".join(tags), "start": (end - timedelta(days=7)).isoformat(),
                    "end": end.isoformat(), "max": str(MAX_VALUES)})
            else:
                token = login(c, sim.users.ro.username, sim.users.ro.password)
                gql(c, LOGGED, {"n": tags, "s": iso(int(end.timestamp()) - 7 * 86400),
                                "e": iso(int(end.timestamp())), "m": MAX_VALUES,
                                "b": "NO_BOUNDING_VALUES"}, token)
        finished.append("archive")

    archive = threading.Thread(target=ask_archive)
    archive.start()
    try:
        with sim.client() as c:
            for _ in range(3):
                read = c.get("/api/v1/tags", params={"names": "Tank_Level"}, headers=bearer(sim))
                assert read.status_code == 200, read.text
                finished.append("read")
    finally:
        archive.join(timeout=180)
    assert finished[:3] == ["read"] * 3, finished
    assert finished[-1] == "archive"


# --- the Unified fast path for loggedTagValues ------------------------------------------------

FULL = ("query($n:[String]!,$s:Timestamp,$e:Timestamp,$m:Int,$o:LoggedTagValuesSortingModeEnum,"
        "$b:LoggedTagValuesBoundingModeEnum){loggedTagValues(names:$n,startTime:$s,endTime:$e,"
        "maxNumberOfValues:$m,sortingMode:$o,boundingValuesMode:$b){loggingTagName "
        "error{code description} values{value{value timestamp quality{quality subStatus limit "
        "extendedSubStatus sourceQuality sourceTime timeCorrected}} flags}}}")
ALIASED = ("query($n:[String]!,$s:Timestamp,$e:Timestamp){pens:loggedTagValues(names:$n,"
           "startTime:$s,endTime:$e,maxNumberOfValues:50){__typename tag:loggingTagName "
           "fault:error{c:code} values{v:value{ts:timestamp value q:quality{quality}} f:flags}}}")
NAMES_ONLY = ("query($n:[String]!,$s:Timestamp,$e:Timestamp){loggedTagValues(names:$n,"
              "startTime:$s,endTime:$e,sortingMode:TIME_DESC){loggingTagName}}")
BOUNDING = ("NO_BOUNDING_VALUES", "LEFT_BOUNDING_VALUES", "RIGHT_BOUNDING_VALUES",
            "LEFTRIGHT_BOUNDING_VALUES")


@pytest.fixture(scope="module")
def unified_sim():
    p, _clock = plant(seed=3)
    return Simulation(plant=p, users=Users.from_env({}))


def fast_and_executed(sim, query: str, variables: dict) -> tuple[str, str]:
    """The fast path's payload and graphql-core's, each as the JSON text the server sends."""
    document, _operation, variables, name = unified.prepare({"query": query,
                                                             "variables": variables})
    resolvers = unified.Resolvers(sim, None)
    fast = unified.archive_payload(resolvers, document, variables, name)
    executed = unified.executed_payload(resolvers, document, variables, name)
    return json.dumps(fast, sort_keys=False), json.dumps(executed, sort_keys=False)


def gap_window(sim) -> dict[str, str]:
    gap = first_gap(sim.plant.archive, "Tank_Level")
    return {"s": iso(gap.start - 2), "e": iso(gap.end + 1)}


def cases(sim) -> list[tuple[str, dict]]:
    end = int(sim.now().timestamp())
    day = {"s": iso(end - 86400), "e": iso(end)}
    gap = gap_window(sim)
    full_name = f"{sim.system_name}::Tank_Level:Tank_Level_Log"
    found = [(LOGGED_TAG_VALUES, {"n": ["Oven_Zone1_Temp", "Nope", full_name, None],
                                  **day, "m": 600}),
             (LOGGED_TAG_VALUES, {"n": ["Tank_Level"], **gap, "m": 0}),
             (ALIASED, {"n": ["Tank_Level", "Nope"], **day}),
             (NAMES_ONLY, {"n": ["Tank_Level", "Nope"], **gap}),
             (FULL, {"n": ["Tank_Level"], **gap, "m": -1}),
             (FULL, {"n": ["Tank_Level"], "s": gap["s"], "m": 5}),
             (FULL, {"n": ["Tank_Level"], "e": gap["e"], "m": 5, "o": "TIME_DESC"}),
             (FULL, {"n": ["Tank_Level"], "s": gap["s"]}),
             (FULL, {"n": ["Tank_Level"], "e": gap["e"], "m": 5}),
             (FULL, {"n": ["Tank_Level"]})]
    found += [(FULL, {"n": ["Tank_Level"], **gap, "o": order, "b": bounding})
              for order in ("TIME_ASC", "TIME_DESC") for bounding in BOUNDING]
    return found


def test_the_fast_path_answers_byte_for_byte_as_graphql_core(unified_sim) -> None:
    compared = 0
    for query, variables in cases(unified_sim):
        fast, executed = fast_and_executed(unified_sim, query, variables)
        assert fast == executed, (query, variables)
        compared += len(json.loads(fast)["data"]["loggedTagValues" if "pens:" not in query
                                               else "pens"])
    assert compared >= 20


def test_the_fast_path_answers_the_archive_error_fault_as_graphql_core(unified_sim) -> None:
    unified_sim.faults.archive_error = ["unified"]
    try:
        fast, executed = fast_and_executed(unified_sim, LOGGED_TAG_VALUES,
                                           {"n": ["Tank_Level"], **gap_window(unified_sim)})
    finally:
        unified_sim.faults.archive_error = []
    assert fast == executed
    assert json.loads(fast)["data"]["loggedTagValues"][0]["error"]["code"] == "1"


@pytest.mark.parametrize("query", [
    "query($n:[String]!,$s:Timestamp,$e:Timestamp){loggedTagValues(names:$n,startTime:$s,"
    "endTime:$e){...pen}} fragment pen on LoggedTagValuesResult{loggingTagName values{flags}}",
    "query($n:[String]!,$s:Timestamp,$e:Timestamp){loggedTagValues(names:$n,startTime:$s,"
    "endTime:$e){loggingTagName values @include(if:false){flags}}}",
])
def test_a_fragment_or_directive_is_answered_by_graphql_core(unified_sim, query) -> None:
    variables = {"n": ["Tank_Level"], **gap_window(unified_sim)}
    document, _operation, variables, name = unified.prepare({"query": query,
                                                             "variables": variables})
    resolvers = unified.Resolvers(unified_sim, None)
    with pytest.raises(unified.NotPlain):
        unified.archive_payload(resolvers, document, variables, name)
    answer = unified.run_archive(unified_sim, None, document, variables, name)
    assert answer == unified.executed_payload(resolvers, document, variables, name)
    [pen] = answer["data"]["loggedTagValues"]
    assert pen["loggingTagName"] == "Tank_Level"
    assert ("values" in pen) == ("fragment" in query)
