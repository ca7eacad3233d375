"""Face 1: Classic WinCC REST under /WinCCRestService (V7.5 SP2 / V8.x), HTTP Basic auth.

Paths match case-insensitively, as real clients spell them both ways. There is no acknowledge
endpoint, as on real Classic: a plant acknowledges by writing its `Ack_<Alarm>` tag.
"""

from __future__ import annotations

import asyncio
import fnmatch
from datetime import datetime, timedelta, tzinfo
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from wincc_sim.alarms import ALARM_CLASSES
from wincc_sim.plant import Reading, WriteError
from wincc_sim.simulation import Simulation
from wincc_sim.tags import CLASSIC_DATA_TYPES
from wincc_sim.timefmt import iso_ms, local_ms, parse_ts, zone
from wincc_sim.users import ApiUser, basic, bearer
from wincc_sim.web import HttpError, int_param, json_body

PREFIX = "/winccrestservice"
ARCHIVE = "ProcessValueArchive"
ALARM_FILTER = "ActiveAlarms"
# Guessed `errorcode` of a single write: 0 ok, then one number per reason.
WRITE_ERROR_CODES = {"unknown": 2, "readonly": 3, "convert": 4, "range": 5}
MESSAGE_STATES = {  # Unified state -> V7 archive state code and status text
    "RAISED": (1, "+"),
    "RAISED_CLEARED": (2, "-"),
    "RAISED_ACKNOWLEDGED": (3, "*"),
    "RAISED_ACKNOWLEDGED_CLEARED": (3, "*"),
    "RAISED_CLEARED_ACKNOWLEDGED": (3, "*"),
}
MESSAGE_TYPES = {"HH": "Alarm high", "H": "Warning high", "L": "Warning low",
                 "LL": "Alarm low", "digital": "Failure"}


def value_json(reading: Reading, dotnet: bool = False,
               local: tzinfo | None = None) -> dict[str, Any]:
    return {
        "variableName": reading.name,
        "dataType": CLASSIC_DATA_TYPES[reading.spec.kind],
        "value": reading.value,
        "timestamp": stamp(reading.timestamp, dotnet, local),
        "qualityCode": reading.quality_code,
    }


def stamp(ts: datetime | None, dotnet: bool, local: tzinfo | None = None) -> str | None:
    """ISO-8601 in UTC, the .NET JSON form `/Date(ms)/` some servers send, or the local
    time in `local` without an offset."""
    if ts is not None and dotnet:
        return f"/Date({int(ts.timestamp() * 1000)})/"
    return iso_ms(ts) if local is None else local_ms(ts, local)


def local_zone(faults) -> tzinfo | None:
    """The zone of the Classic face's local times (classic_local_times); None for UTC."""
    return zone(faults.classic_local_times) if faults.classic_local_times else None


def _user(request: Request, sim: Simulation) -> ApiUser:
    header = request.headers.get("authorization", "")
    challenge = {"WWW-Authenticate": 'Basic realm="WinCCRestService"'}
    credentials = basic(header)
    if credentials is not None:
        user = sim.users.by_password(*credentials)
        if user is None:
            raise HttpError(401, "wrong user name or password", challenge)
        return user
    token = bearer(header)
    if token is not None:
        user = None if sim.faults.expired_tokens else sim.users.by_token(token)
        if user is None:
            raise HttpError(401, "the Bearer token is not valid or has expired", challenge)
        return user
    raise HttpError(401, "authentication required: send HTTP Basic credentials", challenge)


def _may_write(sim: Simulation, user: ApiUser, items: list[Any]) -> None:
    if not user.can_write:
        sim.record("classic", user.username, "write", items, allowed=False)
        raise HttpError(403, f"user {user.username!r} has no right to write tags")


def _page(request: Request, items: list[Any], cap: int) -> list[Any]:
    """`itemLimit`/`continuationPoint` paging; the continuation point is the offset (guess).
    A server-side cap (`classic_page_limit`) shortens a page whatever the client asks."""
    start = int_param(request, "continuationPoint", 0) or 0
    limit = int_param(request, "itemLimit", None, minimum=1)
    if cap:
        limit = min(limit or cap, cap)
    return items[start:] if limit is None else items[start:start + limit]


class Classic:
    def __init__(self, sim: Simulation) -> None:
        self.sim = sim
        self.routes = [
            ("GET", ("tagmanagement", "value", "*"), self.get_value),
            ("PUT", ("tagmanagement", "value", "*"), self.put_value),
            ("POST", ("tagmanagement", "values"), self.post_values),
            ("PUT", ("tagmanagement", "values"), self.put_values),
            ("GET", ("tagmanagement", "connections"), self.connections),
            ("GET", ("tagmanagement", "connection", "*"), self.connection),
            ("GET", ("tagmanagement", "groups"), self.groups),
            ("GET", ("tagmanagement", "group", "*"), self.group),
            ("GET", ("tagmanagement", "variables"), self.variables),
            ("POST", ("tagmanagement", "variables"), self.variables_post),
            ("GET", ("tagmanagement", "variable", "*"), self.variable),
            ("GET", ("taglogging", "archives"), self.archives),
            ("GET", ("taglogging", "archive", "*"), self.archive),
            ("GET", ("taglogging", "archive", "*", "variables"), self.archive_variables),
            ("GET", ("taglogging", "archive", "*", "value", "*"), self.archive_value),
            ("POST", ("taglogging", "values"), self.logged_values),
            ("POST", ("taglogging", "archive", "*", "values"), self.archive_values),
        ]
        if sim.classic_alarms:
            self.routes += [
                ("GET", ("alarmlogging", "messagelist", "*"), self.message_list),
                ("GET", ("alarmlogging", "restfilters"), self.rest_filters),
                ("GET", ("alarmlogging", "restfilter", "*"), self.rest_filter),
                ("GET", ("alarmlogging", "messageclasses"), self.message_classes),
            ]

    def _page(self, request: Request, items: list[Any]) -> list[Any]:
        return _page(request, items, self.sim.faults.classic_page_limit)

    @property
    def _dotnet(self) -> bool:
        return self.sim.faults.classic_dotnet_dates

    @property
    def _local(self) -> tzinfo | None:
        return local_zone(self.sim.faults)

    async def __call__(self, request: Request) -> Response:
        try:
            user = _user(request, self.sim)
            handler, args = self._route(request)
            return await handler(request, user, *args)
        except HttpError as exc:
            return exc.response()

    def _route(self, request: Request):
        path = request.url.path[len(PREFIX):].strip("/")
        segments = [s for s in path.split("/") if s]
        allowed = []
        for method, pattern, handler in self.routes:
            if len(pattern) != len(segments):
                continue
            args = []
            for want, got in zip(pattern, segments, strict=True):
                if want == "*":
                    args.append(got)
                elif want != got.lower():
                    break
            else:
                if method == request.method:
                    return handler, args
                allowed.append(method)
        if allowed:
            raise HttpError(405, f"method {request.method} not allowed here; use "
                                 f"{', '.join(sorted(set(allowed)))}")
        raise HttpError(404, f"no such resource: {request.url.path}")

    # --- runtime values ---------------------------------------------------------------------

    async def get_value(self, request, user, name):
        reading = self.sim.plant.read(name)
        if reading is None:
            return JSONResponse({"variableName": name, "error": f"unknown tag {name!r}"}, 404)
        return JSONResponse(value_json(reading, self._dotnet, self._local))

    async def post_values(self, request, user):
        body = await json_body(request)
        names = body.get("variableNames") if isinstance(body, dict) else None
        if not isinstance(names, list) or not all(isinstance(n, str) for n in names):
            raise HttpError(400, 'send {"variableNames": ["Tag1", ...]}')
        if not names and self.sim.faults.classic_refuse_empty_names:
            raise HttpError(400, "variableNames must name at least one tag")
        cache = self.sim.answer_cache
        key = (self.sim.plant.tick_time, self._dotnet, self._local, tuple(names))
        if cache is not None and key in cache:
            return Response(cache[key], media_type="application/json")
        result = []
        for name in names:
            reading = self.sim.plant.read(name)
            if reading is None:
                result.append({"variableName": name, "error": f"unknown tag {name!r}"})
            else:
                result.append(value_json(reading, self._dotnet, self._local))
        response = JSONResponse(result)
        if cache is not None:
            if cache and next(iter(cache))[0] != key[0]:
                cache.clear()  # a new tick: the old answers are stale
            cache[key] = bytes(response.body)
        return response

    async def put_value(self, request, user, name):
        body = await json_body(request)
        if not isinstance(body, dict) or "value" not in body:
            raise HttpError(400, 'send {"value": <value>}')
        _may_write(self.sim, user, [{"name": name, "value": body["value"]}])
        result = self._write(user, name, body["value"])
        if "error" in result:
            result["errorcode"] = WRITE_ERROR_CODES[result.pop("reason")]
        else:
            result["errorcode"] = 0
        self.sim.record("classic", user.username, "write",
                        [{"name": name, "value": body["value"]}], True, [result])
        return JSONResponse(result)

    async def put_values(self, request, user):
        body = await json_body(request)
        if not isinstance(body, list):
            raise HttpError(400, 'send a top-level array [{"variableName": ..., "value": ...}]')
        items = [
            {"name": i.get("variableName"), "value": i.get("value")} if isinstance(i, dict) else i
            for i in body
        ]
        _may_write(self.sim, user, items)
        results = []
        for item in body:
            if not isinstance(item, dict) or not isinstance(item.get("variableName"), str) \
                    or "value" not in item:
                results.append({"variableName": item.get("variableName")
                                if isinstance(item, dict) else None,
                                "error": "each item needs variableName and value"})
                continue
            result = self._write(user, item["variableName"], item["value"])
            result.pop("reason", None)
            results.append(result)
        self.sim.record("classic", user.username, "write", items, True, results)
        return JSONResponse(results)

    def _write(self, user: ApiUser, name: str, value: Any) -> dict[str, Any]:
        try:
            self.sim.plant.write(name, value, user=user.username, face="classic")
        except WriteError as exc:
            return {"variableName": name, "error": str(exc), "reason": exc.reason}
        return {"variableName": name}

    # --- configuration ----------------------------------------------------------------------

    async def connections(self, request, user):
        if self.sim.faults.classic_no_connections:
            raise HttpError(404, f"no such resource: {request.url.path}")
        return JSONResponse(self._page(request, self._connection_list()))

    def _connection_list(self) -> list[dict[str, Any]]:
        names = sorted({s.connection for s in self.sim.plant.specs()})
        return [{"name": n, "unit": "Internal tags" if n == "Internal"
                 else "SIMATIC S7-1200, S7-1500 Channel"} for n in names]

    async def connection(self, request, user, name):
        for item in self._connection_list():
            if item["name"].lower() == name.lower():
                return JSONResponse(item)
        raise HttpError(404, f"unknown connection {name!r}")

    def _group_list(self) -> list[dict[str, Any]]:
        pairs = sorted({(s.group, s.connection) for s in self.sim.plant.specs()})
        return [{"name": g, "connection": c} for g, c in pairs]

    async def groups(self, request, user):
        return JSONResponse(self._page(request, self._group_list()))

    async def group(self, request, user, name):
        for item in self._group_list():
            if item["name"].lower() == name.lower():
                return JSONResponse(item)
        raise HttpError(404, f"unknown group {name!r}")

    async def variables(self, request, user):
        if self.sim.faults.classic_browse_post_only:
            raise HttpError(405, f"method {request.method} not allowed here; use POST")
        return self._variables(request)

    async def variables_post(self, request, user):
        # Paging and filter come in the query, as with GET; a body is not needed (a guess).
        return self._variables(request)

    def _variables(self, request):
        pattern = request.query_params.get("variableName") or "*"
        items = [_variable(s) for s in self.sim.plant.specs()
                 if fnmatch.fnmatchcase(s.name, pattern)]
        return JSONResponse(self._page(request, items))

    async def variable(self, request, user, name):
        spec = self.sim.plant.spec(name)
        if spec is None:
            raise HttpError(404, f"unknown tag {name!r}")
        return JSONResponse(_variable(spec))

    # --- tag logging ------------------------------------------------------------------------

    def _archive_name(self, name: str) -> None:
        if name.lower() != ARCHIVE.lower():
            raise HttpError(404, f"unknown archive {name!r}; this server has {ARCHIVE}")

    async def archives(self, request, user):
        return JSONResponse(self._page(request, [_archive()]))

    async def archive(self, request, user, name):
        self._archive_name(name)
        return JSONResponse(_archive())

    async def archive_variables(self, request, user, name):
        self._archive_name(name)
        # Every tag is logged once a second (the archive is computed, so it costs nothing).
        items = [{"name": n, "variableName": n, "archive": ARCHIVE, "cycle": "1 s"}
                 for n in self.sim.plant.tag_names()]
        return JSONResponse(self._page(request, items))

    async def archive_value(self, request, user, name, tag):
        self._archive_name(name)
        reading = self.sim.plant.read(tag)
        if reading is None:
            raise HttpError(404, f"tag {tag!r} is not logged in {ARCHIVE}")
        return JSONResponse(value_json(reading, self._dotnet, self._local))

    async def logged_values(self, request, user):
        body = await json_body(request)
        if isinstance(body, dict) and isinstance(body.get("archives"), list):
            result = []
            for archive in body["archives"]:
                if not isinstance(archive, dict) or not isinstance(archive.get("variables"), list):
                    raise HttpError(400, 'each archive needs "name" and "variables"')
                self._archive_name(str(archive.get("name")))
                for var in archive["variables"]:
                    if not isinstance(var, dict) or not isinstance(var.get("name"), str):
                        raise HttpError(400, 'each archive variable needs a "name"')
                    begin, end = _window(var.get("timeFrom"), var.get("timeTo"), self.sim)
                    limit = _max_values(var.get("maxValues"))
                    result.append((var["name"], begin, end, limit))
            # Off the event loop, so the polls answered meanwhile are not held up.
            return JSONResponse(await asyncio.to_thread(
                lambda: [self._history(*asked) for asked in result]))
        return await self._history_by_names(request, body)

    async def archive_values(self, request, user, name):
        self._archive_name(name)
        return await self._history_by_names(request, await json_body(request))

    async def _history_by_names(self, request, body):
        names = body.get("variableNames") if isinstance(body, dict) else None
        if not isinstance(names, list) or not all(isinstance(n, str) for n in names):
            raise HttpError(400, 'send {"variableNames": [...]} or {"archives": [...]}')
        begin, end = _window(request.query_params.get("begin"),
                             request.query_params.get("end"), self.sim)
        limit = _max_values(request.query_params.get("maxValues"))
        return JSONResponse(await asyncio.to_thread(
            lambda: [self._history(n, begin, end, limit) for n in names]))

    def _history(self, name, begin, end, limit) -> dict[str, Any]:
        plant = self.sim.plant
        if plant.spec(name) is None:
            return {"variableName": name, "values": [], "error": f"unknown tag {name!r}"}
        if "classic" in self.sim.faults.archive_error:
            return {"variableName": name, "values": [],
                    "error": f"the archive {ARCHIVE} is not available"}
        # A gap holds no values at all in tag logging: its seconds are left out.
        window = plant.in_archive(name, begin, end, limit)
        dotnet, local = self._dotnet, self._local
        return {
            "variableName": name,
            "values": [{"value": p.value, "timestamp": stamp(p.timestamp, dotnet, local),
                        "qualityCode": p.code} for p in window.values if p.code is not None],
            "error": "",
        }

    # --- alarm logging (V8.1) ---------------------------------------------------------------

    async def message_list(self, request, user, name):
        self.sim.counts["classic alarm list"] += 1
        if "classic" in self.sim.faults.no_alarm_list:
            # A V7.5 / V8.0 server: no alarm logging over REST at all.
            raise HttpError(404, f"no such resource: {request.url.path}")
        if name.lower() != ALARM_FILTER.lower():
            raise HttpError(404, f"unknown REST filter {name!r}; this server has {ALARM_FILTER}")
        numbers = message_numbers(self.sim.plant)
        local = self._local
        return JSONResponse([message_json(a, numbers[a.name], local)
                             for a in self.sim.plant.alarms.visible])

    async def rest_filters(self, request, user):
        return JSONResponse(self._page(request, [_rest_filter()]))

    async def rest_filter(self, request, user, name):
        if name.lower() != ALARM_FILTER.lower():
            raise HttpError(404, f"unknown REST filter {name!r}")
        return JSONResponse(_rest_filter())

    async def message_classes(self, request, user):
        items = [{"name": n, "acknowledgeRequired": ack} for n, ack in ALARM_CLASSES.items()]
        return JSONResponse(self._page(request, items))


def _variable(spec) -> dict[str, Any]:
    return {
        "variableName": spec.name,
        "dataType": CLASSIC_DATA_TYPES[spec.kind],
        "connection": spec.connection,
        "group": spec.group,
        "unit": spec.unit,
        "description": spec.description,
    }


def _archive() -> dict[str, Any]:
    return {"name": ARCHIVE, "type": "ProcessValueArchive", "cycle": "1 s"}


def _rest_filter() -> dict[str, Any]:
    return {"name": ALARM_FILTER, "description": "All messages that are active or unacknowledged"}


def _window(begin_text, end_text, sim: Simulation):
    """The time window asked for; the last ten minutes when nothing is given."""
    try:
        end = parse_ts(end_text) if end_text else sim.now()
        begin = parse_ts(begin_text) if begin_text else end - timedelta(minutes=10)
    except (TypeError, ValueError):
        raise HttpError(400, "times must be ISO-8601, e.g. 2026-01-01T10:00:00.000Z") from None
    if begin > end:
        raise HttpError(400, "the start of the time window is after its end")
    return begin, end


def _max_values(value) -> int:
    if value in (None, ""):
        return 1000
    try:
        number = int(value)
    except (TypeError, ValueError):
        raise HttpError(400, f"maxValues must be a whole number, got {value!r}") from None
    if not 1 <= number <= 10_000:
        raise HttpError(400, "maxValues must be from 1 to 10000")
    return number


def message_numbers(plant) -> dict[str, int]:
    """Each alarm's message number (MsgNr), from 1001 in the plant's order."""
    return {name: 1001 + i for i, name in enumerate(plant.alarm_defs)}


def message_json(alarm, number: int, local: tzinfo | None = None) -> dict[str, Any]:
    d = alarm.definition
    state, text = MESSAGE_STATES[alarm.state]
    return {
        "MsgNr": number,
        "InstanceID": alarm.instance_id,
        "Name": d.name,
        "State": state,
        "StateText": text,
        "Class": d.alarm_class,
        "Type": "Notification" if not d.ack_required else MESSAGE_TYPES[d.kind],
        "Priority": d.priority,
        "AckRequired": d.ack_required,
        "DateTime": stamp(alarm.raise_time, False, local),
        "AckTime": stamp(alarm.ack_time, False, local),
        "ClearTime": stamp(alarm.clear_time, False, local),
        "Text1": d.event_text,
        "Text2": d.area,
        "InfoText": d.info_text,
        "User": alarm.acknowledged_by,
    }
