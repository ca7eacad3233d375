"""WinCC Unified subscriptions over WebSocket at /graphql, protocol graphql-transport-ws.

The token comes at the upgrade (`Authorization: Bearer ...`) or in the connection_init
payload as `{"Authorization": "Bearer ..."}`, as WinCC Unified clients send it. Each
subscription watches the plant once per tick and sends what changed: a tag per message
(Added, then Modified) or an alarm per message (Added, Modified, Removed).
"""

from __future__ import annotations

import asyncio
import contextlib
import inspect
import json
import logging
from collections.abc import AsyncIterator
from typing import Any, NoReturn

from graphql import ExecutionResult, GraphQLError, subscribe
from starlette.websockets import WebSocket, WebSocketDisconnect

from wincc_sim.simulation import Session, Simulation
from wincc_sim.timefmt import iso_ms
from wincc_sim.unified import (
    SCHEMA,
    BadOperation,
    Resolvers,
    check_access,
    prepare,
    run,
)
from wincc_sim.users import bearer

log = logging.getLogger("wincc_sim")
SUBPROTOCOL = "graphql-transport-ws"
INIT_TIMEOUT = 10.0


class Connection:
    def __init__(self, sim: Simulation, websocket: WebSocket) -> None:
        self.sim = sim
        self.ws = websocket
        self.token: str | None = bearer(websocket.headers.get("authorization", ""))
        self.streams: dict[str, asyncio.Task] = {}
        self.sending = asyncio.Lock()  # several subscriptions share one socket

    async def send(self, message: dict[str, Any]) -> None:
        async with self.sending:
            await self.ws.send_text(json.dumps(message))

    def session(self) -> Session | None:
        return self.sim.session(self.token)

    async def run(self) -> None:
        try:
            await self._handshake()
            while True:
                await self._handle(await self._receive())
        except (WebSocketDisconnect, _Closed):
            pass
        finally:
            for task in self.streams.values():
                task.cancel()

    async def _receive(self) -> dict[str, Any]:
        text = await self.ws.receive_text()
        try:
            message = json.loads(text)
        except json.JSONDecodeError:
            message = None
        if not isinstance(message, dict) or not isinstance(message.get("type"), str):
            await self._close(4400, "Invalid message")
        return message

    async def _close(self, code: int, reason: str) -> NoReturn:
        await self.ws.close(code=code, reason=reason)
        raise _Closed

    async def _handshake(self) -> None:
        try:
            message = await asyncio.wait_for(self._receive(), INIT_TIMEOUT)
        except TimeoutError:
            await self._close(4408, "Connection initialisation timeout")
        if message["type"] != "connection_init":
            await self._close(4401, "Unauthorized")
        payload = message.get("payload") or {}
        if isinstance(payload, dict):
            header = payload.get("Authorization") or payload.get("authorization") or ""
            self.token = bearer(header) or self.token
        if self.session() is None:
            await self._close(4403, "Forbidden")
        await self.send({"type": "connection_ack"})

    async def _handle(self, message: dict[str, Any]) -> None:
        kind = message["type"]
        if kind == "ping":
            await self.send({"type": "pong"})
        elif kind == "pong":
            return
        elif kind == "complete":
            task = self.streams.pop(str(message.get("id")), None)
            if task is not None:
                task.cancel()
        elif kind == "subscribe":
            await self._subscribe(message)
        elif kind == "connection_init":
            await self._close(4429, "Too many initialisation requests")
        else:
            await self._close(4400, f"Unknown message type {kind!r}")

    async def _subscribe(self, message: dict[str, Any]) -> None:
        sub_id = message.get("id")
        if not isinstance(sub_id, str) or not sub_id:
            await self._close(4400, "A subscribe message needs an id")
        if sub_id in self.streams:
            await self._close(4409, f"Subscriber for {sub_id} already exists")
        try:
            document, operation, variables, name = prepare(message.get("payload"))
        except BadOperation as exc:
            await self.send({"id": sub_id, "type": "error", "payload": exc.errors})
            return
        session = self.session()
        refused = check_access(self.sim, session, operation, variables)
        if refused is not None:
            await self.send({"id": sub_id, "type": "error", "payload": refused["errors"]})
            return
        if operation.operation.value != "subscription":
            payload = run(self.sim, session, document, variables, name)
            await self.send({"id": sub_id, "type": "next", "payload": payload})
            await self.send({"id": sub_id, "type": "complete"})
            return
        result = subscribe(SCHEMA, document, variable_values=variables, operation_name=name,
                           context_value=self, subscribe_field_resolver=_source)
        if inspect.isawaitable(result):
            result = await result
        if isinstance(result, ExecutionResult):
            await self.send({"id": sub_id, "type": "error",
                             "payload": [e.formatted for e in result.errors or []]})
            return
        self.streams[sub_id] = asyncio.create_task(self._pump(sub_id, result))

    async def _pump(self, sub_id: str, results: AsyncIterator[ExecutionResult]) -> None:
        try:
            async for result in results:
                payload: dict[str, Any] = {"data": result.data}
                if result.errors:
                    payload["errors"] = [e.formatted for e in result.errors]
                await self.send({"id": sub_id, "type": "next", "payload": payload})
        except GraphQLError as exc:
            await self.send({"id": sub_id, "type": "error", "payload": [exc.formatted]})
            return
        except (WebSocketDisconnect, RuntimeError):
            return  # the client went away
        except Exception:
            log.exception("subscription %s failed", sub_id)
            await self.send({"id": sub_id, "type": "error",
                             "payload": [{"message": "internal error in the simulator"}]})
            return
        finally:
            self.streams.pop(sub_id, None)
        await self.send({"id": sub_id, "type": "complete"})


class _Closed(Exception):
    """The server closed the socket; the connection is over."""


def _source(root, info, **args):
    """The event stream of a subscription field."""
    connection: Connection = info.context
    resolvers = Resolvers(connection.sim, connection.session())
    if info.field_name == "tagValues":
        return _tag_events(connection, resolvers, args["names"])
    if info.field_name == "reduState":
        return _redu_events(connection)
    keep, languages = resolvers.alarm_filter(args["systemNames"], args["filterString"],
                                             args["filterLanguage"], args["languages"])
    return _alarm_events(connection, resolvers, keep, languages)


def _expired() -> GraphQLError:
    # What a real server does when the session ends under a subscription is unknown.
    return GraphQLError("Unauthorized", extensions={"code": "UNAUTHENTICATED"})


async def _tag_events(connection: Connection, resolvers: Resolvers, names: list[str]):
    last: dict[str, Any] = {}
    while True:
        if connection.session() is None:
            raise _expired()
        for name in names:
            item = resolvers.tag_value(name)
            if last.get(name) == item:
                continue
            reason = "Modified" if name in last else "Added"
            last[name] = item
            yield {"tagValues": {**item, "notificationReason": reason}}
        await asyncio.sleep(connection.sim.plant.dt)


async def _redu_events(connection: Connection):
    """The redundancy state: Added at once, Modified when the admin switch changes it."""
    last = None
    since = connection.sim.now()
    while True:
        if connection.session() is None:
            raise _expired()
        state = connection.sim.faults.redu_state
        if state != last:
            reason = "Added" if last is None else "Modified"
            if last is not None:
                since = connection.sim.now()
            last = state
            yield {"reduState": {"value": {"value": state, "timestamp": iso_ms(since)},
                                 "notificationReason": reason}}
        await asyncio.sleep(connection.sim.plant.dt)


async def _alarm_events(connection: Connection, resolvers: Resolvers, keep, languages):
    seen: dict[tuple[str, int], tuple[Any, tuple]] = {}
    while True:
        if connection.session() is None:
            raise _expired()
        current = {(a.name, a.instance_id): a for a in connection.sim.plant.alarms.visible}
        for key, alarm in current.items():
            data = resolvers.alarm_json(alarm, languages)
            wanted = keep(data)
            marker = (alarm.state, alarm.modification_time)
            if not wanted or (key in seen and seen[key][1] == marker):
                continue
            reason = "Modified" if key in seen else "Added"
            seen[key] = (alarm, marker)
            yield {"activeAlarms": {**data, "notificationReason": reason}}
        for key in [k for k in seen if k not in current]:
            alarm, _ = seen.pop(key)
            yield {"activeAlarms": {**resolvers.alarm_json(alarm, languages),
                                    "notificationReason": "Removed"}}
        await asyncio.sleep(connection.sim.plant.dt)


def app(sim: Simulation):
    async def endpoint(websocket: WebSocket) -> None:
        if SUBPROTOCOL not in websocket.scope.get("subprotocols", []):
            await websocket.close(code=4406)  # before accept: the upgrade is refused
            return
        await websocket.accept(subprotocol=SUBPROTOCOL)
        with contextlib.suppress(RuntimeError):  # a socket closed under a late send
            await Connection(sim, websocket).run()

    return endpoint
