"""The admin listener: faults, scenarios, forced values and the simulator's own records.

Plain HTTP on 127.0.0.1, its own port and its own Bearer token, so it stays reachable while
the main listener is stopped. Every answer is JSON; every bad input is a 400 naming it.
"""

from __future__ import annotations

import hmac
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route, Router

from wincc_sim.faults import Faults
from wincc_sim.plant import WriteError
from wincc_sim.simulation import Simulation
from wincc_sim.timefmt import iso_ms
from wincc_sim.users import bearer
from wincc_sim.web import HttpError, json_body

PLANT_FAULTS = ("bad_quality", "quality_codes", "freeze")


def app(sim: Simulation, listener) -> Router:
    def guarded(handler):
        async def endpoint(request: Request) -> Response:
            try:
                token = bearer(request.headers.get("authorization", "")) or ""
                if not hmac.compare_digest(token.encode(), sim.users.admin_token.encode()):
                    raise HttpError(401, "admin token required: Authorization: Bearer <token>")
                return await handler(request)
            except HttpError as exc:
                return exc.response()

        return endpoint

    async def optional_body(request: Request) -> dict[str, Any]:
        if not (await request.body()).strip():
            return {}
        body = await json_body(request)
        if not isinstance(body, dict):
            raise HttpError(400, "send a JSON object")
        return body

    async def start_listener() -> None:
        try:
            await listener.start()
        except OSError as exc:
            # Someone else took the port while the listener was stopped.
            raise HttpError(409, f"cannot listen on port {listener.port} again: {exc}") from None

    def faults_json() -> dict[str, Any]:
        data = sim.faults.to_json()
        data["bad_quality"] = sorted(sim.plant.bad_quality)
        data["quality_codes"] = dict(sorted(sim.plant.quality_codes.items()))
        data["freeze"] = sim.plant.frozen
        data["listener"] = "running" if listener.running else "stopped"
        return data

    async def health(request: Request) -> Response:
        return JSONResponse({"ok": True, "listener": "running" if listener.running else "stopped",
                             "port": listener.port})

    async def state(request: Request) -> Response:
        plant = sim.plant
        wanted = request.query_params.get("names")
        if request.query_params.get("tags") == "none":
            names = []
        elif wanted:
            names = [n for n in wanted.split(",") if n]
        elif request.query_params.get("fillers", "1") == "0":
            names = [*plant.named, *plant.ack_tags]
        else:
            names = list(plant.tag_names())
        tags = {}
        for name in names:
            reading = plant.read(name)
            if reading is None:
                raise HttpError(400, f"unknown tag {name!r}")
            tags[name] = {"value": reading.value, "quality_code": reading.quality_code,
                          "timestamp": iso_ms(reading.timestamp), "held": name in plant.held}
        return JSONResponse({
            "plant_time": plant.t,
            # The archive is a function of seed and reset time (archive.py): a test can
            # compute where its gaps and bad stretches lie.
            "seed": plant.seed,
            "archive_origin": plant.started.isoformat(),
            "archive_begins": iso_ms(plant.archive.first_second()),
            "tag_count": plant.tag_count,
            "tags": tags,
            "alarms": [a.to_json() for a in plant.alarms.visible],
            "scenarios": plant.scenarios,
            "overrides": plant.overrides,
            "faults": faults_json(),
            "sessions": len(sim.sessions),
            "request_counts": dict(sim.counts),
        })

    async def get_faults(request: Request) -> Response:
        return JSONResponse(faults_json())

    async def set_faults(request: Request) -> Response:
        body = await optional_body(request)
        transport = {k: v for k, v in body.items() if k not in PLANT_FAULTS}
        bad = body.get("bad_quality", sorted(sim.plant.bad_quality))
        if not isinstance(bad, list) or any(sim.plant.spec(n) is None for n in bad
                                             if isinstance(n, str)) \
                or not all(isinstance(n, str) for n in bad):
            raise HttpError(400, "bad_quality: must be a list of known tag names")
        codes = body.get("quality_codes", sim.plant.quality_codes)
        if not isinstance(codes, dict) or any(
                sim.plant.spec(n) is None or type(c) is not int or not 0 <= c <= 255
                for n, c in codes.items()):
            raise HttpError(400, "quality_codes: must map known tag names to codes 0-255")
        freeze = body.get("freeze", sim.plant.frozen)
        if not isinstance(freeze, bool):
            raise HttpError(400, "freeze: must be true or false")
        try:
            sim.faults.update(transport)
        except ValueError as exc:
            raise HttpError(400, str(exc)) from None
        sim.plant.bad_quality = set(bad)
        sim.plant.quality_codes = dict(codes)
        sim.plant.frozen = freeze
        return JSONResponse(faults_json())

    async def clear_faults(request: Request) -> Response:
        sim.faults = Faults()
        sim.plant.bad_quality = set()
        sim.plant.quality_codes = {}
        sim.plant.frozen = False
        await start_listener()
        return JSONResponse(faults_json())

    async def set_tag(request: Request) -> Response:
        name = request.path_params["name"]
        body = await optional_body(request)
        if "value" not in body:
            raise HttpError(400, 'send {"value": <value>, "hold": true|false}')
        hold = body.get("hold", True)
        if not isinstance(hold, bool):
            raise HttpError(400, "hold: must be true or false")
        try:
            sim.plant.force(name, body["value"], hold=hold)
        except WriteError as exc:
            raise HttpError(404 if exc.reason == "unknown" else 400, str(exc)) from None
        reading = sim.plant.read_known(name)  # force has refused an unknown name
        return JSONResponse({"name": name, "value": reading.value, "held": name in sim.plant.held})

    async def release_tag(request: Request) -> Response:
        name = request.path_params["name"]
        if sim.plant.spec(name) is None:
            raise HttpError(404, f"unknown tag {name!r}")
        sim.plant.release(name)
        return JSONResponse({"name": name, "held": False})

    async def alarm_action(request: Request) -> Response:
        name, action = request.path_params["name"], request.path_params["action"]
        plant = sim.plant
        if name not in plant.alarm_defs:
            raise HttpError(404, f"unknown alarm {name!r}")
        if action == "raise":
            plant.overrides[name] = True
        elif action == "clear":
            plant.overrides[name] = False
        elif action == "release":
            plant.overrides.pop(name, None)
        else:
            raise HttpError(404, f"unknown alarm action {action!r}; use raise, clear or release")
        plant.evaluate_alarms()
        return JSONResponse({"alarm": name, "instances": [a.to_json() for a in
                                                          plant.alarms.instances(name)]})

    async def alarm_definitions(request: Request) -> Response:
        return JSONResponse({"alarms": [
            {"name": d.name, "tag": d.tag, "kind": d.kind, "limit": d.limit,
             "hysteresis": d.hysteresis, "priority": d.priority, "alarm_class": d.alarm_class,
             "ack_required": d.ack_required, "latched": d.latched, "event_text": d.event_text,
             "ack_tag": f"Ack_{d.name}" if d.ack_required else None}
            for d in sim.plant.alarm_defs.values()
        ]})

    async def start_scenario(request: Request) -> Response:
        body = await optional_body(request)
        try:
            scenario = sim.plant.start_scenario(request.path_params["kind"], **body)
        except (ValueError, TypeError, WriteError) as exc:
            raise HttpError(400, str(exc)) from None
        return JSONResponse({"scenario": request.path_params["kind"], **scenario})

    async def stop_scenario(request: Request) -> Response:
        kind = request.path_params["kind"]
        if kind not in ("flood", "chatter", "stuck"):
            raise HttpError(404, f"unknown scenario {kind!r}; use flood, chatter or stuck")
        sim.plant.stop_scenario(kind)
        return JSONResponse({"scenarios": sim.plant.scenarios})

    async def requests_log(request: Request) -> Response:
        return JSONResponse({"requests": sim.requests})

    async def alarm_history(request: Request) -> Response:
        return JSONResponse({"history": sim.plant.alarms.history})

    async def listener_state(request: Request) -> Response:
        return JSONResponse({"listener": "running" if listener.running else "stopped",
                             "port": listener.port})

    async def listener_stop(request: Request) -> Response:
        await listener.stop()
        return await listener_state(request)

    async def listener_start(request: Request) -> Response:
        await start_listener()
        return await listener_state(request)

    async def expire_sessions(request: Request) -> Response:
        return JSONResponse({"expired": sim.expire_sessions()})

    async def reset(request: Request) -> Response:
        sim.reset()
        await start_listener()
        return JSONResponse({"ok": True})

    async def not_found(scope, receive, send) -> None:
        response = JSONResponse({"error": f"no such admin resource: {scope['path']}"}, 404)
        await response(scope, receive, send)

    return Router(
        routes=[
            Route("/admin/health", health, methods=["GET"]),
            Route("/admin/state", guarded(state), methods=["GET"]),
            Route("/admin/faults", guarded(get_faults), methods=["GET"]),
            Route("/admin/faults", guarded(set_faults), methods=["PUT", "POST"]),
            Route("/admin/faults", guarded(clear_faults), methods=["DELETE"]),
            Route("/admin/tags/{name}", guarded(set_tag), methods=["PUT", "POST"]),
            Route("/admin/tags/{name}", guarded(release_tag), methods=["DELETE"]),
            Route("/admin/alarms", guarded(alarm_definitions), methods=["GET"]),
            Route("/admin/alarms/{name}/{action}", guarded(alarm_action), methods=["POST"]),
            Route("/admin/scenarios/{kind}", guarded(start_scenario), methods=["POST"]),
            Route("/admin/scenarios/{kind}", guarded(stop_scenario), methods=["DELETE"]),
            Route("/admin/requests", guarded(requests_log), methods=["GET"]),
            Route("/admin/alarm-history", guarded(alarm_history), methods=["GET"]),
            Route("/admin/listener", guarded(listener_state), methods=["GET"]),
            Route("/admin/listener/stop", guarded(listener_stop), methods=["POST"]),
            Route("/admin/listener/start", guarded(listener_start), methods=["POST"]),
            Route("/admin/sessions/expire", guarded(expire_sessions), methods=["POST"]),
            Route("/admin/reset", guarded(reset), methods=["POST"]),
        ],
        default=not_found,
    )
