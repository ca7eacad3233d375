"""WinCC Unified subscriptions over WebSocket (graphql-transport-ws), with TLS pinned."""

from __future__ import annotations

import contextlib
import json
import ssl

import pytest
from websockets.exceptions import ConnectionClosed, InvalidStatus
from websockets.sync.client import connect

from tests.simulator.conftest import login

TAGS = ("subscription($n:[String!]!){tagValues(names:$n){name value{value} error{code} "
        "notificationReason}}")
ALARMS = "subscription{activeAlarms{name instanceID state notificationReason}}"


@contextlib.contextmanager
def open_socket(sim, token=None, headers=None):
    url = sim.url.replace("https://", "wss://") + "/graphql"
    context = ssl.create_default_context(cafile=sim.ca_file)
    with connect(url, ssl=context, subprotocols=["graphql-transport-ws"],
                 additional_headers=headers or {}, open_timeout=5) as ws:
        ws.send(json.dumps({"type": "connection_init",
                            "payload": {"Authorization": f"Bearer {token}"} if token else {}}))
        yield ws


def receive(ws, timeout=5.0):
    return json.loads(ws.recv(timeout=timeout))


def next_for(ws, sub_id, predicate, limit=50):
    for _ in range(limit):
        message = receive(ws)
        if (message.get("id") == sub_id and message["type"] == "next"
                and predicate(message["payload"]["data"])):
            return message["payload"]["data"]
    raise AssertionError("the expected notification did not come")


def test_tag_values_subscription_sends_added_then_modified(sim, client):
    token = login(client, sim.users.ro.username, sim.users.ro.password)
    with open_socket(sim, token) as ws:
        assert receive(ws) == {"type": "connection_ack"}
        ws.send(json.dumps({"id": "1", "type": "subscribe", "payload": {
            "query": TAGS, "variables": {"n": ["Tank_Level", "Nope"]}}}))
        first = [receive(ws)["payload"]["data"]["tagValues"] for _ in range(2)]
        assert {(t["name"], t["notificationReason"]) for t in first} == {
            ("Tank_Level", "Added"), ("Nope", "Added")}
        assert next(t for t in first if t["name"] == "Nope")["error"]["code"] == "2"
        sim.set_tag("Tank_Level", 55.5)
        data = next_for(ws, "1", lambda d: d["tagValues"]["value"]["value"] == 55.5)
        assert data["tagValues"]["notificationReason"] == "Modified"
        ws.send(json.dumps({"type": "ping"}))
        assert any(receive(ws)["type"] == "pong" for _ in range(10))
        ws.send(json.dumps({"id": "1", "type": "complete"}))


def test_active_alarms_subscription_follows_raise_acknowledge_and_removal(sim, client):
    token = login(client, sim.users.rw.username, sim.users.rw.password)
    with open_socket(sim, headers={"Authorization": f"Bearer {token}"}) as ws:
        assert receive(ws)["type"] == "connection_ack"
        ws.send(json.dumps({"id": "a", "type": "subscribe", "payload": {"query": ALARMS}}))
        sim.raise_alarm("Tank_Level_LL")
        added = next_for(ws, "a", lambda d: d["activeAlarms"]["name"] == "Tank_Level_LL")
        assert (added["activeAlarms"]["state"], added["activeAlarms"]["notificationReason"]) == (
            "RAISED", "Added")
        client.post("/graphql", headers={"Authorization": f"Bearer {token}"}, json={
            "query": "mutation{acknowledgeAlarms(input:[{name:\"Tank_Level_LL\"}]){error{code}}}"})
        acked = next_for(ws, "a", lambda d: d["activeAlarms"]["notificationReason"] == "Modified")
        assert acked["activeAlarms"]["state"] == "RAISED_ACKNOWLEDGED"
        sim.clear_alarm("Tank_Level_LL")
        next_for(ws, "a", lambda d: d["activeAlarms"]["notificationReason"] == "Removed")


def test_without_a_token_the_connection_is_refused(sim):
    with open_socket(sim, "not-a-token") as ws, pytest.raises(ConnectionClosed) as closed:
        receive(ws)
    assert closed.value.rcvd.code == 4403


def test_a_bad_subscription_gets_an_error_message(sim, client):
    token = login(client, sim.users.ro.username, sim.users.ro.password)
    with open_socket(sim, token) as ws:
        receive(ws)
        ws.send(json.dumps({"id": "x", "type": "subscribe",
                            "payload": {"query": "subscription{nothing}"}}))
        error = receive(ws)
        assert error["type"] == "error" and "nothing" in error["payload"][0]["message"]
        ws.send(json.dumps({"id": "w", "type": "subscribe", "payload": {
            "query": "mutation{writeTagValues(input:[{name:\"Tank_Level\",value:1}]){name}}"}}))
        refused = receive(ws)
        assert refused["payload"][0]["extensions"]["code"] == "FORBIDDEN"
        ws.send("not json")
        with pytest.raises(ConnectionClosed) as closed:
            receive(ws)
        assert closed.value.rcvd.code == 4400


def test_another_subprotocol_is_refused(sim):
    url = sim.url.replace("https://", "wss://") + "/graphql"
    context = ssl.create_default_context(cafile=sim.ca_file)
    with pytest.raises(InvalidStatus), connect(url, ssl=context, subprotocols=["graphql-ws"],
                                               open_timeout=5):
        pass


def test_a_subscription_ends_with_an_error_when_its_session_ends(sim, client):
    token = login(client, sim.users.ro.username, sim.users.ro.password)
    with open_socket(sim, token) as ws:
        receive(ws)
        ws.send(json.dumps({"id": "t", "type": "subscribe", "payload": {
            "query": TAGS, "variables": {"n": ["Tank_Level"]}}}))
        assert receive(ws)["type"] == "next"
        sim.expire_sessions()
        for _ in range(20):
            message = receive(ws)
            if message["type"] == "error":
                break
        assert message["payload"][0]["extensions"]["code"] == "UNAUTHENTICATED"
