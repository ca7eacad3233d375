"""The listeners: the main one with the three faces (stoppable at runtime) and the admin one."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import socket
import time
from pathlib import Path

import uvicorn
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Mount, Route, Router, WebSocketRoute

from wincc_sim import rest_v1, unified, unified_ws
from wincc_sim.classic import PREFIX, Classic
from wincc_sim.faults import FaultMiddleware, face_of
from wincc_sim.simulation import Simulation

log = logging.getLogger("wincc_sim.request")


class _Server(uvicorn.Server):
    """uvicorn without its signal handlers: two servers share one process, main() owns signals."""

    @contextlib.contextmanager
    def capture_signals(self):
        yield


class Listener:
    """One uvicorn server on a fixed host and port that can be stopped and started again."""

    def __init__(self, app, host: str, port: int, *, certfile: Path | None = None,
                 keyfile: Path | None = None) -> None:
        self.app = app
        self.host = host
        self.port = port
        self.certfile = certfile
        self.keyfile = keyfile
        self._server: _Server | None = None
        self._task: asyncio.Task | None = None

    @property
    def running(self) -> bool:
        return self._server is not None

    async def start(self) -> None:
        if self._server is not None:
            return
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        # Accepted sockets inherit it. Without it, under the asyncio loop, every answer waited
        # about 40 ms for the client's delayed ACK (a 10,000-tag poll: 21 requests, ~1 s).
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        sock.bind((self.host, self.port))
        self.port = sock.getsockname()[1]  # resolves port 0 once; restarts reuse it
        sock.listen(2048)
        sock.setblocking(False)
        config = uvicorn.Config(
            self.app, lifespan="off", access_log=False, log_config=None,
            ssl_certfile=str(self.certfile) if self.certfile else None,
            ssl_keyfile=str(self.keyfile) if self.keyfile else None,
            timeout_graceful_shutdown=1, timeout_keep_alive=30,
        )
        server = _Server(config)
        self._server = server
        self._task = asyncio.create_task(server.serve(sockets=[sock]))
        while not server.started:
            if self._task.done():
                self._server = None
                self._task.result()
                raise RuntimeError(f"listener on {self.host}:{self.port} did not start")
            await asyncio.sleep(0.01)

    async def stop(self) -> None:
        server, task = self._server, self._task
        if server is None or task is None:
            return
        self._server = self._task = None
        server.should_exit = True
        await task

    async def drop(self, scope) -> None:
        """Abort the TCP connection of this request: the client sees a reset, no answer."""
        server = self._server
        if server is not None:
            client = tuple(scope.get("client") or ())
            for connection in list(server.server_state.connections):
                if tuple(getattr(connection, "client", None) or ()) == client:
                    connection.transport.abort()
        await asyncio.sleep(0.01)  # let the connection notice, so nothing is sent after


class RequestLog:
    """One debug line per request: face, method, path, status, milliseconds."""

    def __init__(self, app, sim: Simulation) -> None:
        self.app = app
        self.sim = sim

    async def __call__(self, scope, receive, send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        status = []

        async def watch(message) -> None:
            if message["type"] == "http.response.start":
                status.append(message["status"])
            await send(message)

        face = face_of(scope["path"])
        self.sim.counts[face] += 1
        try:
            await self.app(scope, receive, watch)
        finally:
            log.debug("%s %s %s %s %.1fms", face, scope["method"], scope["path"],
                      status[0] if status else "-", (time.perf_counter() - started) * 1000)


def main_app(sim: Simulation, listener_drop):
    classic = Classic(sim)

    async def fallback(scope, receive, send) -> None:
        classic_path = scope["type"] == "http" and scope["path"].lower().startswith(PREFIX)
        if classic_path and "classic" in sim.faces:
            response = await classic(Request(scope, receive))
        else:
            response = JSONResponse({"error": f"no such resource: {scope.get('path')}"}, 404)
        await response(scope, receive, send)

    routes: list = []
    if "unified" in sim.faces:
        routes += [
            # Some clients post to /graphql/ (with the slash); both are served.
            Route("/graphql", unified.app(sim), methods=["GET", "POST"]),
            Route("/graphql/", unified.app(sim), methods=["GET", "POST"]),
            WebSocketRoute("/graphql", unified_ws.app(sim)),
            WebSocketRoute("/graphql/", unified_ws.app(sim)),
        ]
    if "rest-v1" in sim.faces:
        routes.append(Mount("/api/v1", app=rest_v1.app(sim)))
    router = Router(routes=routes, default=fallback)
    faults = FaultMiddleware(router, sim, sim.fault_rng, listener_drop)
    return RequestLog(faults, sim)
