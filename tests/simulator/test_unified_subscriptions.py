"""WinCC Unified subscriptions over WebSocket (graphql-transport-ws), with TLS pinned.

The asyncio client of `websockets` is used with a bound on every wait, so a test fails
instead of hanging when the server does not answer.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import ssl

import pytest
from websockets.asyncio.client import connect
from websockets.exceptions import ConnectionClosed, InvalidStatus

from tests.simulator.conftest import login

TAGS = ("subscription($n:[String!]!){tagValues(names:$n){name value{value} error{code} "
        "notificationReason}}")
ALARMS = "subscription{activeAlarms{name instanceID state notificationReason}}"
WAIT = 5.0


def run(scenario) -> None:
    asyncio.run(asyncio.wait_for(scenario, 30))


@contextlib.asynccontextmanager
async def open_socket(sim, token=None, headers=None, subprotocol="graphql-transport-ws"):
    url = sim.url.replace("https://", "wss://") + "/graphql"
    context = ssl.create_default_context(cafile=sim.ca_file)
    async with connect(url, ssl=context, subprotocols=[subprotocol],
                       additional_headers=headers or {}, open_timeout=WAIT,
                       close_timeout=WAIT) as ws:
        await ws.send(json.dumps({"type": "connection_init",
                                  "payload": {"Authorization": f"Bearer {token}"} if token
                                  else {}}))
        yield ws


async def receive(ws) -> dict:
    return json.loads(await asyncio.wait_for(ws.recv(), WAIT))


async def send(ws, message: dict) -> None:
    await ws.send(json.dumps(message))


async def next_for(ws, sub_id, predicate, limit=50) -> dict:
    for _ in range(limit):
        message = await receive(ws)
        if (message.get("id") == sub_id and message["type"] == "next"
                and predicate(message["payload"]["data"])):
            return message["payload"]["data"]
    raise AssertionError("the expected notification did not come")


def test_tag_values_subscription_sends_added_then_modified(sim, client):
    token = login(client, sim.users.ro.username, sim.users.ro.password)

    async def scenario():
        async with open_socket(sim, token) as ws:
            assert await receive(ws) == {"type": "connection_ack"}
            await send(ws, {"id": "1", "type": "subscribe", "payload": {
                "query": TAGS, "variables": {"n": ["Tank_Level", "Nope"]}}})
            first = [(await receive(ws))["payload"]["data"]["tagValues"] for _ in range(2)]
            assert {(t["name"], t["notificationReason"]) for t in first} == {
                ("Tank_Level", "Added"), ("Nope", "Added")}
            assert next(t for t in first if t["name"] == "Nope")["error"]["code"] == "2"
            sim.set_tag("Tank_Level", 55.5)
            data = await next_for(ws, "1", lambda d: d["tagValues"]["value"]["value"] == 55.5)
            assert data["tagValues"]["notificationReason"] == "Modified"
            await send(ws, {"id": "1", "type": "complete"})
            await send(ws, {"type": "ping"})
            for _ in range(10):
                if (await receive(ws))["type"] == "pong":
                    break
            else:
                raise AssertionError("no pong")

    run(scenario())


def test_active_alarms_subscription_follows_raise_acknowledge_and_removal(sim, client):
    token = login(client, sim.users.rw.username, sim.users.rw.password)

    async def scenario():
        async with open_socket(sim, headers={"Authorization": f"Bearer {token}"}) as ws:
            assert (await receive(ws))["type"] == "connection_ack"
            await send(ws, {"id": "a", "type": "subscribe", "payload": {"query": ALARMS}})
            sim.raise_alarm("Tank_Level_LL")
            added = await next_for(ws, "a", lambda d: d["activeAlarms"]["name"] == "Tank_Level_LL")
            assert (added["activeAlarms"]["state"],
                    added["activeAlarms"]["notificationReason"]) == ("RAISED", "Added")
            client.post("/graphql", headers={"Authorization": f"Bearer {token}"}, json={
                "query": 'mutation{acknowledgeAlarms(input:[{name:"Tank_Level_LL"}])'
                         "{error{code}}}"})
            acked = await next_for(ws, "a", lambda d: d["activeAlarms"]["notificationReason"]
                                   == "Modified")
            assert acked["activeAlarms"]["state"] == "RAISED_ACKNOWLEDGED"
            sim.clear_alarm("Tank_Level_LL")
            await next_for(ws, "a", lambda d: d["activeAlarms"]["notificationReason"]
                           == "Removed")

    run(scenario())


def test_without_a_valid_token_the_connection_is_closed_4403(sim):
    async def scenario():
        async with open_socket(sim, "not-a-token") as ws:
            with pytest.raises(ConnectionClosed) as closed:
                await receive(ws)
            assert closed.value.rcvd.code == 4403

    run(scenario())


def test_a_bad_subscription_gets_an_error_message(sim, client):
    token = login(client, sim.users.ro.username, sim.users.ro.password)

    async def scenario():
        async with open_socket(sim, token) as ws:
            await receive(ws)
            await send(ws, {"id": "x", "type": "subscribe",
                            "payload": {"query": "subscription{nothing}"}})
            error = await receive(ws)
            assert error["type"] == "error" and "nothing" in error["payload"][0]["message"]
            await send(ws, {"id": "w", "type": "subscribe", "payload": {
                "query": 'mutation{writeTagValues(input:[{name:"Tank_Level",value:1}]){name}}'}})
            refused = await receive(ws)
            assert refused["payload"][0]["extensions"]["code"] == "FORBIDDEN"
            await ws.send("not json")
            with pytest.raises(ConnectionClosed) as closed:
                await receive(ws)
            assert closed.value.rcvd.code == 4400

    run(scenario())
    assert sim.requests_log()[0]["allowed"] is False


def test_another_subprotocol_is_refused(sim):
    async def scenario():
        with pytest.raises(InvalidStatus):
            async with open_socket(sim, subprotocol="graphql-ws"):
                pass

    run(scenario())


def test_a_subscription_ends_with_an_error_when_its_session_ends(sim, client):
    token = login(client, sim.users.ro.username, sim.users.ro.password)

    async def scenario():
        async with open_socket(sim, token) as ws:
            await receive(ws)
            await send(ws, {"id": "t", "type": "subscribe", "payload": {
                "query": TAGS, "variables": {"n": ["Tank_Level"]}}})
            assert (await receive(ws))["type"] == "next"
            sim.expire_sessions()
            for _ in range(20):
                message = await receive(ws)
                if message["type"] == "error":
                    return message
            raise AssertionError("no error after the session ended")

    message = asyncio.run(asyncio.wait_for(scenario(), 30))
    assert message["payload"][0]["extensions"]["code"] == "UNAUTHENTICATED"
