"""Face 2 in the shapes of the published WinCC Unified schema: the success code of a login,
browse without a type filter, quality words, shelving, disabling, the alarm log, the
redundancy state and the single-sign-on operations."""

from __future__ import annotations

import asyncio

from graphql import get_named_type

from tests.fixtures.simulator import wait_until
from tests.simulator.conftest import LOGIN, gql, login
from tests.simulator.schema_names import real_schema
from tests.simulator.test_unified_subscriptions import next_for, open_socket, receive, run, send
from wincc_sim.unified import quality_json

ALARMS = "query{activeAlarms{name instanceID state suppressionState changeReason}}"
SHELVE = ("mutation($n:[String]!,$t:Timespan){shelveAlarms(names:$n,shelveTimeout:$t)"
          "{alarmName error{code description}}}")
UNSHELVE = "mutation($n:[String]!){unshelveAlarms(names:$n){alarmName error{code}}}"
DISABLE = "mutation($n:[String]!){disableAlarms(names:$n){alarmName error{code}}}"
ENABLE = "mutation($n:[String]!){enableAlarms(names:$n){alarmName error{code}}}"
LOGGED = ("query($s:Timestamp,$m:Int,$f:String){loggedAlarms(startTime:$s,"
          "maxNumberOfResults:$m,filterString:$f){name instanceID state modificationTime "
          "raiseTime acknowledgmentTime userName changeReason suppressionState deadband "
          "hasComments}}")
BROWSE = "query($t:[ObjectTypesEnum]){browse(objectTypeFilters:$t){name objectType}}"


def _suppression(client, token, name):
    alarms = gql(client, ALARMS, token=token)["data"]["activeAlarms"]
    return {a["suppressionState"] for a in alarms if a["name"] == name}


def test_a_good_login_answers_error_code_0(sim, client):
    session = gql(client, LOGIN, {"u": sim.users.ro.username,
                                  "p": sim.users.ro.password})["data"]["login"]
    assert session["token"]
    assert session["error"] == {"code": "0", "description": ""}


def test_browse_without_a_type_filter_answers_every_named_object(sim, client):
    token = login(client, sim.users.ro.username, sim.users.ro.password)
    everything = gql(client, BROWSE, {}, token)["data"]["browse"]
    kinds = {item["objectType"] for item in everything}
    assert {"SIMPLETAG", "ALARM", "ALARMCLASS", "LOGGINGTAG"} <= kinds
    tags = gql(client, BROWSE, {"t": ["TAG"]}, token)["data"]["browse"]
    assert {item["objectType"] for item in tags} == {"SIMPLETAG"}
    assert len(tags) < len(everything)


def test_quality_words_follow_the_top_two_bits():
    assert [quality_json(code)["quality"] for code in (0x18, 0x48, 0x80, 0xC0)] == [
        "BAD", "UNCERTAIN", "GOOD_NON_CASCADE", "GOOD_CASCADE"]
    assert quality_json(0x18)["subStatus"] == "NO_COMMUNICATION_NO_USABLE_VALUE"
    assert quality_json(0xC0)["extendedSubStatus"] == "NON_SPECIFIC"


def test_shelve_and_unshelve(sim, client):
    token = login(client, sim.users.rw.username, sim.users.rw.password)
    sim.raise_alarm("Tank_Level_LL")
    shelved = gql(client, SHELVE, {"n": ["Tank_Level_LL", "No_Such_Alarm"]}, token)
    assert [r["error"] for r in shelved["data"]["shelveAlarms"]] == [
        None, {"code": "2", "description": "Cannot resolve the alarm name"}]
    # A shelved alarm is still listed, marked: the client decides what to show.
    assert _suppression(client, token, "Tank_Level_LL") == {"SHELVED"}
    gql(client, UNSHELVE, {"n": ["WinCC_Sim_RT::Tank_Level:Tank_Level_LL"]}, token)
    assert _suppression(client, token, "Tank_Level_LL") == {"UNSUPPRESSED"}
    events = [h["event"] for h in sim.alarm_history() if h["alarm"] == "Tank_Level_LL"]
    assert events == ["raised", "shelved", "unshelved"]
    actions = [r["action"] for r in sim.requests_log()]
    assert actions == ["shelve", "unshelve"]


def test_shelving_covers_new_instances_and_ends_after_its_timeout(sim, client):
    token = login(client, sim.users.rw.username, sim.users.rw.password)
    gql(client, SHELVE, {"n": ["Tank_Level_LL"], "t": 1500}, token)
    sim.raise_alarm("Tank_Level_LL")
    assert _suppression(client, token, "Tank_Level_LL") == {"SHELVED"}
    wait_until(lambda: _suppression(client, token, "Tank_Level_LL") == {"UNSUPPRESSED"}, 10)
    unshelved = [h for h in sim.alarm_history() if h["event"] == "unshelved"]
    assert [(h["alarm"], h["reason"]) for h in unshelved] == [("Tank_Level_LL", "timeout")]


def test_the_read_only_user_cannot_shelve(sim, client):
    token = login(client, sim.users.ro.username, sim.users.ro.password)
    sim.raise_alarm("Tank_Level_LL")
    body = gql(client, SHELVE, {"n": ["Tank_Level_LL"]}, token)
    assert body["data"] is None and body["errors"][0]["extensions"]["code"] == "FORBIDDEN"
    assert _suppression(client, token, "Tank_Level_LL") == {"UNSUPPRESSED"}
    [refused] = sim.requests_log()
    assert (refused["action"], refused["allowed"]) == ("shelve", False)


def test_a_disabled_alarm_is_removed_and_raises_nothing_until_enabled(sim, client):
    token = login(client, sim.users.rw.username, sim.users.rw.password)
    sim.raise_alarm("Tank_Level_LL")
    gql(client, DISABLE, {"n": ["Tank_Level_LL"]}, token)
    assert _suppression(client, token, "Tank_Level_LL") == set()
    sim.clear_alarm("Tank_Level_LL")
    sim.raise_alarm("Tank_Level_LL")
    assert _suppression(client, token, "Tank_Level_LL") == set()
    gql(client, ENABLE, {"n": ["Tank_Level_LL"]}, token)
    sim.clear_alarm("Tank_Level_LL")
    sim.raise_alarm("Tank_Level_LL")
    assert _suppression(client, token, "Tank_Level_LL") == {"UNSUPPRESSED"}
    removed = [h for h in sim.alarm_history() if h["event"] == "removed"]
    assert [h["reason"] for h in removed] == ["disabled"]


def test_logged_alarms_hold_each_state_change(sim, client):
    token = login(client, sim.users.rw.username, sim.users.rw.password)
    sim.raise_alarm("Tank_Level_LL")
    gql(client, "mutation{acknowledgeAlarms(input:[{name:\"Tank_Level_LL\"}]){error{code}}}",
        token=token)
    logged = gql(client, LOGGED, {}, token)["data"]["loggedAlarms"]
    mine = [e for e in logged if e["name"] == "Tank_Level_LL"]
    assert [(e["state"], e["changeReason"]) for e in mine] == [
        ("RAISED", ["ALARM_STATE_CHANGED_RAISE_EVENT"]),
        ("RAISED_ACKNOWLEDGED", ["ALARM_STATE_CHANGED_ACKNOWLEDGE_EVENT"])]
    assert mine[1]["userName"] == sim.users.rw.username
    assert mine[1]["acknowledgmentTime"] and mine[0]["raiseTime"] == mine[1]["raiseTime"]
    assert mine[0]["hasComments"] is False
    # The window opens after the raise: only the acknowledgement is left.
    after = gql(client, LOGGED, {"s": mine[0]["modificationTime"]}, token)["data"]
    assert [e["state"] for e in after["loggedAlarms"]
            if e["name"] == "Tank_Level_LL"] == ["RAISED_ACKNOWLEDGED"]
    last = gql(client, LOGGED, {"m": 1}, token)["data"]["loggedAlarms"]
    assert [e["state"] for e in last] == ["RAISED_ACKNOWLEDGED"]
    filtered = gql(client, LOGGED, {"f": "State = 'RAISED'"}, token)["data"]["loggedAlarms"]
    assert {e["state"] for e in filtered} == {"RAISED"}


def test_single_sign_on_is_offered_but_refused(sim, client):
    body = gql(client, "query{nonce{value validFor} identityProviderURL}")
    assert body["data"]["nonce"]["validFor"] > 0 and body["data"]["nonce"]["value"]
    assert body["data"]["identityProviderURL"] is None
    swac = gql(client, 'mutation{loginSWAC(claim:"c",signedClaim:"s"){token error{code}}}')
    assert swac["data"]["loginSWAC"] == {"token": None, "error": {"code": "101"}}


def test_redu_state_subscription_reports_the_active_and_passive_server(sim, client):
    token = login(client, sim.users.ro.username, sim.users.ro.password)
    query = "subscription{reduState{value{value timestamp} notificationReason}}"

    async def scenario():
        async with open_socket(sim, token) as ws:
            assert (await receive(ws))["type"] == "connection_ack"
            await send(ws, {"id": "r", "type": "subscribe", "payload": {"query": query}})
            first = await next_for(ws, "r", lambda d: True)
            assert (first["reduState"]["value"]["value"],
                    first["reduState"]["notificationReason"]) == ("ACTIVE", "Added")
            await asyncio.to_thread(sim.set_faults, redu_state="PASSIVE")
            changed = await next_for(ws, "r", lambda d: True)
            assert (changed["reduState"]["value"]["value"],
                    changed["reduState"]["notificationReason"]) == ("PASSIVE", "Modified")

    run(scenario())


def _every_field(type_name: str) -> str:
    """A selection of every field of a type of the published schema, nested types too."""
    fields = []
    for name, field in real_schema().type_map[type_name].fields.items():
        inner = get_named_type(field.type)
        if hasattr(inner, "fields"):
            fields.append(f"{name}{{{_every_field(inner.name)}}}")
        else:
            fields.append(name)
    return " ".join(fields)


def test_every_published_field_is_answered_without_error(sim, client):
    token = login(client, sim.users.rw.username, sim.users.rw.password)
    sim.raise_alarm("Tank_Level_LL")
    sim.raise_alarm("Pump_Fault")
    gql(client, SHELVE, {"n": ["Pump_Fault"]}, token)
    sim.set_faults(quality_codes={"Tank_Level": 0x80})
    query = (
        "query{"
        f"session{{{_every_field('Session')}}} "
        f"nonce{{{_every_field('Nonce')}}} identityProviderURL "
        f'tagValues(names:["Tank_Level","Nope"]){{{_every_field("TagValueResult")}}} '
        f"browse{{{_every_field('BrowseTagsResult')}}} "
        f"activeAlarms{{{_every_field('ActiveAlarm')}}} "
        f"loggedAlarms{{{_every_field('LoggedAlarm')}}} "
        'loggedTagValues(names:["Tank_Level"],endTime:"2100-01-01T00:00:00Z",'
        "maxNumberOfValues:3,sortingMode:TIME_DESC,boundingValuesMode:LEFTRIGHT_BOUNDING_VALUES)"
        f"{{{_every_field('LoggedTagValuesResult')}}}"
        "}")
    body = gql(client, query, token=token)
    assert "errors" not in body, body.get("errors")
    data = body["data"]
    assert len(data["activeAlarms"]) == 2 and len(data["loggedAlarms"]) >= 3
    assert {a["suppressionState"] for a in data["activeAlarms"]} == {"SHELVED", "UNSUPPRESSED"}
    assert data["tagValues"][0]["value"]["quality"]["quality"] == "GOOD_NON_CASCADE"
