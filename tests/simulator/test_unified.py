"""Face 2, WinCC Unified GraphQL, over HTTPS: shapes, codes, acknowledge, history."""

from __future__ import annotations

from tests.fixtures.simulator import wait_until
from tests.simulator.conftest import LOGIN, gql, login

TAG_VALUES = ("query($n:[String!]!){tagValues(names:$n){name value{value timestamp "
              "quality{quality subStatus}} error{code description}}}")
ALARMS = ("query($f:String){activeAlarms(filterString:$f){name instanceID path state "
          "stateMachine userResponse priority alarmClassName eventText raiseTime "
          "acknowledgmentTime clearTime userName flashing}}")
ACK = ("mutation($i:[AlarmIdentifierInput]!){acknowledgeAlarms(input:$i)"
       "{alarmName alarmInstanceID error{code description}}}")
RESET = ("mutation($i:[AlarmIdentifierInput]!){resetAlarms(input:$i)"
         "{alarmName alarmInstanceID error{code description}}}")
WRITE = ("mutation($i:[TagValueInput]!){writeTagValues(input:$i){name error{code description}}}")


def test_login_gives_a_token_that_tag_values_and_active_alarms_accept(sim, client):
    body = gql(client, LOGIN, {"u": sim.users.ro.username, "p": sim.users.ro.password})
    session = body["data"]["login"]
    assert session["token"] and session["expires"].endswith("Z")
    assert session["user"]["name"] == sim.users.ro.username
    values = gql(client, TAG_VALUES, {"n": ["Oven_Zone1_Temp", "WinCC_Sim_RT::Tank_Level",
                                           "Nope"]}, session["token"])["data"]["tagValues"]
    temp, level, nope = values
    assert temp["error"] is None and temp["value"]["quality"]["quality"] == "GOOD_CASCADE"
    assert level["name"] == "WinCC_Sim_RT::Tank_Level" and isinstance(level["value"]["value"],
                                                                      float)
    assert nope["value"] is None and nope["error"]["code"] == "2"
    alarms = gql(client, ALARMS, {}, session["token"])
    assert alarms["data"]["activeAlarms"] == []


def test_a_failed_login_is_error_101_inside_data(sim, client):
    body = gql(client, LOGIN, {"u": sim.users.ro.username, "p": "wrong"})
    assert "errors" not in body
    assert body["data"]["login"]["token"] is None
    assert body["data"]["login"]["error"]["code"] == "101"


def test_without_a_valid_token_every_guarded_operation_is_unauthenticated(sim, client):
    for token in (None, "made-up-token"):
        body = gql(client, TAG_VALUES, {"n": ["Tank_Level"]}, token)
        assert body["data"] is None
        assert body["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"


def test_ack_moves_an_alarm_to_acknowledged_and_the_plant_records_who(sim, client):
    token = login(client, sim.users.rw.username, sim.users.rw.password)
    sim.set_tag("Oven_Zone3_Temp", 260.0)
    alarm = next(a for a in gql(client, ALARMS, {}, token)["data"]["activeAlarms"]
                 if a["name"] == "Oven_Zone3_Temp_HH")
    assert (alarm["state"], alarm["userResponse"], alarm["flashing"]) == (
        "RAISED", "ACKNOWLEDGEMENT", True)
    assert alarm["stateMachine"] == "RAISE_CLEAR_REQUIRES_ACKNOWLEDGMENT"
    assert alarm["path"] == "WinCC_Sim_RT::Oven_Zone3_Temp:Oven_Zone3_Temp_HH"
    assert alarm["eventText"] == ["Oven zone 3 temperature very high"]
    result = gql(client, ACK, {"i": [{"name": alarm["name"],
                                      "instanceID": alarm["instanceID"]}]}, token)
    assert result["data"]["acknowledgeAlarms"] == [
        {"alarmName": "Oven_Zone3_Temp_HH", "alarmInstanceID": alarm["instanceID"],
         "error": None}]
    after = next(a for a in gql(client, ALARMS, {}, token)["data"]["activeAlarms"]
                 if a["name"] == "Oven_Zone3_Temp_HH")
    assert after["state"] == "RAISED_ACKNOWLEDGED" and after["userName"] == sim.users.rw.username
    again = gql(client, ACK, {"i": [{"name": alarm["path"]}]}, token)
    assert again["data"]["acknowledgeAlarms"][0]["error"]["code"] == "305"
    events = [h["event"] for h in sim.alarm_history() if h["alarm"] == "Oven_Zone3_Temp_HH"]
    assert events == ["raised", "acknowledged"]


def test_acknowledge_and_reset_errors_use_the_reference_codes(sim, client):
    token = login(client, sim.users.rw.username, sim.users.rw.password)
    unknown = gql(client, ACK, {"i": [{"name": "No_Such_Alarm"}]}, token)
    assert unknown["data"]["acknowledgeAlarms"][0]["error"]["code"] == "2"
    sim.raise_alarm("Pump_Fault")
    missing = gql(client, ACK, {"i": [{"name": "Pump_Fault", "instanceID": 42}]}, token)
    # The schema's "x": the missing instance's own id is the code.
    assert missing["data"]["acknowledgeAlarms"][0]["error"]["code"] == "42"
    early = gql(client, RESET, {"i": [{"name": "Pump_Fault"}]}, token)
    assert early["data"]["resetAlarms"][0]["error"]["code"] == "305"
    gql(client, ACK, {"i": [{"name": "Pump_Fault"}]}, token)
    sim.clear_alarm("Pump_Fault")
    latched = next(a for a in gql(client, ALARMS, {}, token)["data"]["activeAlarms"]
                   if a["name"] == "Pump_Fault")
    assert (latched["state"], latched["userResponse"]) == ("RAISED_ACKNOWLEDGED_CLEARED", "RESET")
    reset = gql(client, RESET, {"i": [{"name": "Pump_Fault"}]}, token)
    assert reset["data"]["resetAlarms"][0]["error"] is None
    assert not [a for a in sim.alarms() if a["name"] == "Pump_Fault"]


def test_write_tag_values_moves_the_zone_and_reports_per_item_codes(sim, client):
    token = login(client, sim.users.rw.username, sim.users.rw.password)
    result = gql(client, WRITE, {"i": [{"name": "Oven_Zone1_Setpoint", "value": 320},
                                       {"name": "Nope", "value": 1},
                                       {"name": "Oven_Zone1_Setpoint", "value": "hot"}]}, token)
    ok, unknown, bad = result["data"]["writeTagValues"]
    assert ok["error"] is None
    assert unknown["error"]["code"] == "2" and bad["error"]["code"] == "201"
    wait_until(lambda: sim.value("Oven_Zone1_Temp") > 190)


def test_active_alarm_filter_string(sim, client):
    token = login(client, sim.users.ro.username, sim.users.ro.password)
    sim.raise_alarm("Tank_Level_LL")
    sim.raise_alarm("Motor2_Current_H")
    high = gql(client, ALARMS, {"f": "Priority >= 10"}, token)["data"]["activeAlarms"]
    assert [a["name"] for a in high] == ["Tank_Level_LL"]
    either = gql(client, ALARMS, {"f": "AlarmClassName = 'Notification' OR Name LIKE 'Tank%'"},
                 token)["data"]["activeAlarms"]
    assert {a["name"] for a in either} == {"Tank_Level_LL", "Motor2_Current_H"}
    broken = gql(client, ALARMS, {"f": "Priority >>> 3"}, token)
    assert broken["errors"][0]["extensions"]["code"] == "301"


def test_browse_and_logged_tag_values(sim, client):
    token = login(client, sim.users.ro.username, sim.users.ro.password)
    found = gql(client, 'query{browse(nameFilters:["Oven_Zone?_Setpoint"],objectTypeFilters:[TAG])'
                        '{name displayName objectType dataType}}', None, token)["data"]["browse"]
    assert [f["name"] for f in found] == [f"WinCC_Sim_RT::Oven_Zone{z}_Setpoint" for z in (1, 2, 3)]
    assert found[0]["objectType"] == "SIMPLETAG" and found[0]["dataType"] == "LReal"
    alarms = gql(client, 'query{browse(nameFilters:["Tank_Level_*"],objectTypeFilters:[ALARM])'
                         '{name objectType}}', None, token)["data"]["browse"]
    assert len(alarms) == 4 and {a["objectType"] for a in alarms} == {"ALARM"}
    null = gql(client, "query{browse(nameFilters:null){name}}", None, token)
    assert null["errors"][0]["extensions"]["code"] == "3"

    query = ("query($n:[String]!,$s:Timestamp,$e:Timestamp,$m:Int,"
             "$o:LoggedTagValuesSortingModeEnum)"
             "{loggedTagValues(names:$n,startTime:$s,endTime:$e,maxNumberOfValues:$m,"
             "sortingMode:$o){loggingTagName error{code} values{value{value timestamp} flags}}}")
    wait_until(lambda: len(gql(client, query, {"n": ["Tank_Level"], "s": "2000-01-01T00:00:00Z",
                                               "e": "2100-01-01T00:00:00Z"}, token)
                           ["data"]["loggedTagValues"][0]["values"]) >= 3)
    newest = gql(client, query, {"n": ["Tank_Level"], "e": "2100-01-01T00:00:00Z", "m": 2,
                                 "o": "TIME_DESC"}, token)["data"]["loggedTagValues"][0]
    first, second = newest["values"]
    assert first["value"]["timestamp"] > second["value"]["timestamp"]
    no_bounds = gql(client, query, {"n": ["Tank_Level"]}, token)["data"]["loggedTagValues"][0]
    assert no_bounds["error"]["code"] == "3"
    one_bound = gql(client, query, {"n": ["Tank_Level"], "s": "2000-01-01T00:00:00Z"},
                    token)["data"]["loggedTagValues"][0]
    assert one_bound["error"]["code"] == "3"


def test_session_extend_and_logout(sim, client):
    token = login(client, sim.users.ro.username, sim.users.ro.password)
    first = gql(client, "query{session{expires user{name}}}", None, token)["data"]["session"]
    extended = gql(client, "mutation{extendSession{expires token}}", None, token)
    assert extended["data"]["extendSession"]["expires"] >= first[0]["expires"]
    assert gql(client, "mutation{logout}", None, token)["data"]["logout"] is True
    assert gql(client, "query{session{expires}}", None, token)["errors"][0]["extensions"][
        "code"] == "UNAUTHENTICATED"


def test_malformed_graphql_requests_get_clear_errors(sim, client):
    token = login(client, sim.users.ro.username, sim.users.ro.password)
    syntax = gql(client, "query{tagValues(", None, token)
    assert "Syntax Error" in syntax["errors"][0]["message"]
    invalid = gql(client, "query{tagValues(names:[\"A\"]){nope}}", None, token)
    assert "nope" in invalid["errors"][0]["message"]
    assert client.post("/graphql", content=b"{").status_code == 400
    assert client.post("/graphql", json={"variables": {}}).status_code == 400
    assert client.get("/graphql").status_code == 405


def test_variables_that_do_not_fit_the_schema_are_refused_clearly(sim, client):
    for who in ("ro", "rw"):
        user = getattr(sim.users, who)
        token = login(client, user.username, user.password)
        body = gql(client, WRITE, {"i": {"nom": "Oven_Zone1_Setpoint"}}, token)
        assert body["errors"][0]["message"]
        assert body["data"] is None
    assert sim.value("Oven_Zone1_Setpoint") == 180
    response = client.post("/graphql", json={"query": "query{session{expires}}",
                                             "variables": [1]})
    assert response.status_code == 400
