"""Face 3: the product's REST v1 under /api/v1 with static Bearer tokens (docs/protocols.md)."""

from __future__ import annotations

import asyncio
import fnmatch
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route, Router

from wincc_sim.alarms import AlarmInstance
from wincc_sim.archive import MAX_VALUES, Point
from wincc_sim.plant import WriteError, quality_word
from wincc_sim.simulation import Simulation
from wincc_sim.timefmt import iso_ms, parse_ts
from wincc_sim.users import ApiUser, bearer
from wincc_sim.web import HttpError, int_param, json_body

FACE = "rest-v1"
MAX_HISTORY_TAGS = 100
ACK_ERRORS = {
    "2": "unknown alarm",
    "305": "not acknowledgeable in its current state",
    "x": "no such alarm instance",
}


def state_of(alarm: AlarmInstance) -> str:
    """The REST v1 state word of an alarm instance."""
    d = alarm.definition
    if alarm.state == "RAISED":
        return "active_unacked" if d.ack_required else "active_acked"
    if alarm.state == "RAISED_ACKNOWLEDGED":
        return "active_acked"
    if alarm.state == "RAISED_CLEARED":
        return "latched_unacked" if d.latched else "cleared_unacked"
    return "latched_acked"


def alarm_json(alarm: AlarmInstance) -> dict[str, Any]:
    d = alarm.definition
    return {
        "name": d.name,
        "instance_id": alarm.instance_id,
        "state": state_of(alarm),
        "priority": d.priority,
        "alarm_class": d.alarm_class,
        "event_text": d.event_text,
        "info_text": d.info_text,
        "area": d.area,
        "raise_time": iso_ms(alarm.raise_time),
        "ack_time": iso_ms(alarm.ack_time),
        "clear_time": iso_ms(alarm.clear_time),
        "acknowledgeable": alarm.can_acknowledge,
        "acknowledged_by": alarm.acknowledged_by or None,
    }


def _point(point: Point, *, bounding: bool = False) -> dict[str, Any]:
    data = {"t": iso_ms(point.timestamp), "v": point.value, "q": quality_word(point.code or 0)}
    if bounding:
        data["bounding"] = True
    return data


def app(sim: Simulation) -> Router:
    def user_of(request: Request) -> ApiUser:
        token = bearer(request.headers.get("authorization", ""))
        if token is None:
            raise HttpError(401, "authentication required: send Authorization: Bearer <token>")
        if sim.faults.expired_tokens:
            raise HttpError(401, "the token has expired")
        user = sim.users.by_token(token)
        if user is None:
            raise HttpError(401, "the token is not valid")
        return user

    def guarded(handler):
        async def endpoint(request: Request) -> Response:
            try:
                return await handler(request, user_of(request))
            except HttpError as exc:
                return exc.response()

        return endpoint

    async def tags(request: Request, user: ApiUser) -> Response:
        names_param = request.query_params.get("names")
        if not names_param:
            raise HttpError(400, "query parameter names is required, e.g. ?names=A,B")
        result = []
        for name in (n.strip() for n in names_param.split(",") if n.strip()):
            reading = sim.plant.read(name)
            if reading is None:
                result.append({"name": name, "value": None, "quality": "bad",
                               "timestamp": None, "error": "unknown tag"})
            else:
                result.append({"name": name, "value": reading.value,
                               "quality": quality_word(reading.quality_code),
                               "timestamp": iso_ms(reading.timestamp)})
        return JSONResponse({"tags": result})

    async def write(request: Request, user: ApiUser) -> Response:
        body = await json_body(request)
        items = body.get("tags") if isinstance(body, dict) else None
        if not isinstance(items, list) or not all(
            isinstance(i, dict) and isinstance(i.get("name"), str) and "value" in i for i in items
        ):
            raise HttpError(400, 'send {"tags": [{"name": ..., "value": ...}]}')
        logged = [{"name": i["name"], "value": i["value"]} for i in items]
        if not user.can_write:
            sim.record(FACE, user.username, "write", logged, allowed=False)
            raise HttpError(403, f"user {user.username!r} may not write tags")
        results = []
        for item in items:
            try:
                sim.plant.write(item["name"], item["value"], user=user.username, face=FACE)
                results.append({"name": item["name"], "ok": True, "error": None})
            except WriteError as exc:
                results.append({"name": item["name"], "ok": False, "error": str(exc)})
        sim.record(FACE, user.username, "write", logged, True, results)
        return JSONResponse({"results": results})

    async def browse(request: Request, user: ApiUser) -> Response:
        pattern = request.query_params.get("pattern") or "*"
        items = [{"name": spec.name, "display_name": spec.description, "data_type": spec.kind}
                 for spec in sim.plant.specs() if fnmatch.fnmatchcase(spec.name, pattern)]
        return JSONResponse({"items": items})

    async def active(request: Request, user: ApiUser) -> Response:
        sim.counts["rest-v1 alarm list"] += 1
        if "rest-v1" in sim.faults.no_alarm_list:
            # What a server without an alarm list answers: the path is not there.
            raise HttpError(404, f"no such resource: {request.url.path}")
        return JSONResponse({"alarms": [alarm_json(a) for a in sim.plant.alarms.visible]})

    async def acknowledge(request: Request, user: ApiUser) -> Response:
        body = await json_body(request)
        items = body.get("alarms") if isinstance(body, dict) else None
        if not isinstance(items, list) or not all(
            isinstance(i, dict) and isinstance(i.get("name"), str)
            and isinstance(i.get("instance_id", 0), int) and not isinstance(i.get("instance_id"),
                                                                             bool)
            for i in items
        ):
            raise HttpError(400, 'send {"alarms": [{"name": ..., "instance_id": <int>}]}')
        logged = [{"name": i["name"], "instance_id": i.get("instance_id", 0)} for i in items]
        if not user.can_write:
            sim.record(FACE, user.username, "acknowledge", logged, allowed=False)
            raise HttpError(403, f"user {user.username!r} may not acknowledge alarms")
        results = []
        for item in logged:
            for instance, code in sim.plant.alarms.acknowledge(
                item["name"], item["instance_id"], user.username, FACE, sim.now()
            ):
                results.append({"name": item["name"], "instance_id": instance or
                                item["instance_id"], "ok": code is None,
                                "error": None if code is None else ACK_ERRORS[code]})
        sim.record(FACE, user.username, "acknowledge", logged, True, results)
        return JSONResponse({"results": results})

    async def history(request: Request, user: ApiUser) -> Response:
        query = request.query_params
        names = [n.strip() for n in (query.get("tags") or "").split(",") if n.strip()]
        if not names:
            raise HttpError(400, "query parameter tags is required, e.g. ?tags=A,B")
        if len(names) > MAX_HISTORY_TAGS:
            raise HttpError(400, f"ask for at most {MAX_HISTORY_TAGS} tags at once")
        try:
            start, end = parse_ts(query["start"]), parse_ts(query["end"])
        except KeyError:
            raise HttpError(400, "query parameters start and end are required") from None
        except ValueError:
            raise HttpError(400, "start and end must be ISO-8601 times, "
                                 "e.g. 2026-01-01T10:00:00Z") from None
        if start > end:
            raise HttpError(400, "start is after end")
        limit = int_param(request, "max", 1000, minimum=1) or 1000
        if limit > MAX_VALUES:
            raise HttpError(400, f"query parameter max must be at most {MAX_VALUES}")
        # Off the event loop, so the polls answered meanwhile are not held up.
        found = await asyncio.to_thread(lambda: [_history(n, start, end, limit) for n in names])
        return JSONResponse({"history": found})

    def _history(name: str, start, end, limit: int) -> dict[str, Any]:
        if sim.plant.spec(name) is None:
            return {"name": name, "points": [], "truncated": False, "error": "unknown tag"}
        if FACE in sim.faults.archive_error:
            return {"name": name, "points": [], "truncated": False,
                    "error": "the archive is not available"}
        window = sim.plant.in_archive(name, start, end, limit)
        points = [_point(p) for p in window.values if p.code is not None]
        if window.before and window.before.code is not None:
            points.insert(0, _point(window.before, bounding=True))
        if window.after and window.after.code is not None:
            points.append(_point(window.after, bounding=True))
        return {"name": name, "points": points, "truncated": window.thinned, "error": None}

    async def not_found(scope, receive, send) -> None:
        response = JSONResponse({"error": f"no such resource: {scope['path']}"}, 404)
        await response(scope, receive, send)

    return Router(
        routes=[
            Route("/tags", guarded(tags), methods=["GET"]),
            Route("/tags", guarded(write), methods=["PUT"]),
            Route("/browse", guarded(browse), methods=["GET"]),
            Route("/alarms/active", guarded(active), methods=["GET"]),
            Route("/history", guarded(history), methods=["GET"]),
            Route("/alarms/acknowledge", guarded(acknowledge), methods=["POST"]),
        ],
        default=not_found,
    )
