"""--cache-answers: a tag read repeated within one plant tick gets the answer already made."""

from __future__ import annotations

from starlette.testclient import TestClient

from tests.simulator.test_plant import plant, run
from wincc_sim.server import main_app
from wincc_sim.simulation import Simulation
from wincc_sim.users import DEMO_DEFAULTS, Users

VALUES = "/WinCCRestService/tagManagement/Values"
AUTH = (DEMO_DEFAULTS["WINCC_SIM_RO_USER"], DEMO_DEFAULTS["WINCC_SIM_RO_PASSWORD"])


def served(cache: dict | None):
    p, clock = plant(seed=5, tags=40)
    sim = Simulation(plant=p, users=Users.from_env(DEMO_DEFAULTS), answer_cache=cache)
    return sim, clock, TestClient(main_app(sim, listener_drop=None), base_url="https://sim")


def read(client: TestClient, names: list[str]) -> bytes:
    response = client.post(VALUES, json={"variableNames": names}, auth=AUTH)
    assert response.status_code == 200
    return response.content


def test_a_cached_answer_is_the_answer_of_its_tick_and_moves_with_the_plant():
    names = ["Tank_Level", "Aux_Sensor_0001", "Oven_Zone1_Temp"]
    cached_sim, cached_clock, cached = served({})
    fresh_sim, fresh_clock, fresh = served(None)
    first = read(cached, names)
    assert first == read(fresh, names)
    assert read(cached, names) == first  # the same tick: the same bytes, made once
    assert len(cached_sim.answer_cache) == 1
    assert read(cached, names[:2]) != first  # other names: an answer of their own
    run(cached_sim.plant, cached_clock, 1.0)
    run(fresh_sim.plant, fresh_clock, 1.0)
    moved = read(cached, names)
    assert moved == read(fresh, names) != first  # a new tick, a new answer
    assert len(cached_sim.answer_cache) == 1  # the old tick's answers are gone


def test_unknown_tags_and_bad_requests_are_answered_as_without_the_cache():
    _sim, _clock, cached = served({})
    assert b"unknown tag" in read(cached, ["No_Such_Tag"])
    response = cached.post(VALUES, json={"names": []}, auth=AUTH)
    assert response.status_code == 400
