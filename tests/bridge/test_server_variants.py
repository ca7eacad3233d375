"""The client against the simulator showing behaviours of real WinCC servers that differ
from our defaults (docs/conformance.md): each test switches the variant on, shows that the
simulator answers so, and that the client still gets everything right."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from tests.bridge.test_simulator import settings
from tests.simulator.conftest import LOGIN
from wincc_bridge.client import open_client
from wincc_bridge.models import AlarmState, Quality

SYSTEM = "WinCC_Sim_RT"


def _raw(sim, method: str, path: str, **kwargs):
    user = sim.users.ro
    with sim.client() as http:
        return http.request(method, path, auth=(user.username, user.password), **kwargs)


def test_unified_browse_asks_for_tags_only(sim) -> None:
    with open_client(settings(sim, "unified")) as client:
        tags = client.browse()
    with open_client(settings(sim, "unified", browse_object_types=("ALARM",))) as client:
        alarms = client.browse("Tank_Level_*")
    assert tags and {item.object_type for item in tags} == {"SIMPLETAG"}
    assert len(alarms) == 4 and {item.object_type for item in alarms} == {"ALARM"}


def test_graphql_path_with_a_slash_and_a_redirect_to_it(sim) -> None:
    sim.set_faults(graphql_redirect=True)
    with sim.client() as http:
        moved = http.post("/graphql", json={"query": "query{nonce{validFor}}"})
    assert (moved.status_code, moved.headers["location"]) == (308, "/graphql/")
    for path in ("/graphql", "/graphql/"):
        with open_client(settings(sim, "unified", graphql_path=path)) as client:
            [value] = client.read_tags(["Tank_Level"])
        assert value.error is None and value.quality is Quality.GOOD


def test_unified_names_answered_in_canonical_form(sim) -> None:
    sim.set_faults(unified_canonical_names=True)
    sim.set_tag("Tank_Level", 42.5)
    with open_client(settings(sim, "unified")) as client:
        values = client.read_tags(["Tank_Level", f"{SYSTEM}::Oven_Zone1_Temp", "Nope"])
    assert [(v.name, v.error is None) for v in values] == [
        ("Tank_Level", True),
        (f"{SYSTEM}::Oven_Zone1_Temp", True),
        ("Nope", False),
    ]
    assert values[0].value == 42.5


def test_missing_alarm_instance_is_reported_with_its_id(sim) -> None:
    sim.raise_alarm("Tank_Level_LL")
    with open_client(settings(sim, "unified", write=True)) as client:
        [result] = client.acknowledge([("Tank_Level_LL", 42)])
    assert not result.ok
    assert result.error == "alarm Tank_Level_LL has no active instance 42 (code 42)"


def test_classic_browse_reads_every_page_of_a_capped_list(sim) -> None:
    every = [item["variableName"] for item in
             _raw(sim, "GET", "/WinCCRestService/tagManagement/variables").json()]
    sim.set_faults(classic_page_limit=7)
    capped = _raw(sim, "GET", "/WinCCRestService/tagManagement/variables?itemLimit=50")
    assert len(capped.json()) == 7
    with open_client(settings(sim, "classic", browse_page_size=50)) as client:
        found = [item.name for item in client.browse()]
    assert len(every) > 50
    assert found == every


def test_classic_browse_by_post(sim) -> None:
    sim.set_faults(classic_browse_post_only=True)
    assert _raw(sim, "GET", "/WinCCRestService/tagManagement/variables").status_code == 405
    with open_client(settings(sim, "classic")) as client:
        found = client.browse("Oven_Zone?_Setpoint")
    assert [item.name for item in found] == [f"Oven_Zone{z}_Setpoint" for z in (1, 2, 3)]


def test_classic_dotnet_dates(sim) -> None:
    sim.set_faults(classic_dotnet_dates=True)
    sim.set_tag("Tank_Level", 42.5)
    raw = _raw(sim, "POST", "/WinCCRestService/tagManagement/Values",
               json={"variableNames": ["Tank_Level"]}).json()
    assert raw[0]["timestamp"].startswith("/Date(")
    with open_client(settings(sim, "classic")) as client:
        [value] = client.read_tags(["Tank_Level"])
    assert value.value == 42.5
    assert value.timestamp is not None
    assert abs(value.timestamp - datetime.now(UTC)) < timedelta(minutes=5)


def test_classic_ping_when_an_empty_value_request_is_refused(sim) -> None:
    sim.set_faults(classic_no_connections=True, classic_refuse_empty_names=True)
    empty = _raw(sim, "POST", "/WinCCRestService/tagManagement/Values",
                 json={"variableNames": []})
    assert empty.status_code == 400
    with open_client(settings(sim, "classic")) as client:
        client.ping()
    with open_client(settings(sim, "classic", ping_tag="Tank_Level")) as client:
        client.ping()


@pytest.mark.parametrize(
    ("code", "quality", "word"),
    [(0x80, Quality.GOOD, "GOOD_NON_CASCADE"), (0x48, Quality.UNCERTAIN, "UNCERTAIN"),
     (0x18, Quality.BAD, "BAD")],
)
def test_quality_bits_read_alike_on_both_faces(sim, code, quality, word) -> None:
    """Good non-cascade (top bits 10), once read as bad, is good on Classic and Unified."""
    sim.set_faults(quality_codes={"Tank_Level": code})
    with open_client(settings(sim, "classic")) as client:
        [classic] = client.read_tags(["Tank_Level"])
    with open_client(settings(sim, "unified")) as client:
        [unified] = client.read_tags(["Tank_Level"])
    assert (classic.quality, classic.quality_code) == (quality, code)
    assert unified.quality is quality
    with sim.client() as http:
        token = http.post("/graphql", json={"query": LOGIN, "variables": {
            "u": sim.users.ro.username, "p": sim.users.ro.password}}).json()
        answer = http.post("/graphql", headers={
            "Authorization": f"Bearer {token['data']['login']['token']}"}, json={
            "query": 'query{tagValues(names:["Tank_Level"]){value{quality{quality}}}}'}).json()
    assert answer["data"]["tagValues"][0]["value"]["quality"]["quality"] == word


def test_a_shelved_alarm_reads_as_shelved(sim) -> None:
    sim.raise_alarm("Tank_Level_LL")
    user = sim.users.rw
    with sim.client() as http:
        token = http.post("/graphql", json={"query": LOGIN, "variables": {
            "u": user.username, "p": user.password}}).json()["data"]["login"]["token"]
        shelved = http.post("/graphql", headers={"Authorization": f"Bearer {token}"}, json={
            "query": 'mutation{shelveAlarms(names:["Tank_Level_LL"]){error{code}}}'}).json()
    assert shelved["data"]["shelveAlarms"] == [{"error": None}]
    with open_client(settings(sim, "unified")) as client:
        [alarm] = [a for a in client.active_alarms() if a.name == "Tank_Level_LL"]
    assert alarm.state is AlarmState.SHELVED and not alarm.can_acknowledge
