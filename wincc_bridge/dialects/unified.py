"""WinCC Unified GraphQL (`POST /graphql`), names and arguments as in its published schema.

A session starts with the `login` mutation; its token goes out as `Authorization: Bearer`.
The session is extended shortly before its `expires` time, and one re-login is tried when
the server refuses a request for authentication. Errors come on two levels: `error{code,
description}` on each item (code is a string, "0" or null is success) and the GraphQL
`errors` array, which may stand beside partial `data`.
"""

from __future__ import annotations

import dataclasses
import logging
from collections.abc import Iterable, Mapping, Sequence
from datetime import UTC, datetime
from time import monotonic
from typing import TYPE_CHECKING, Any

from wincc_bridge.alarm_states import UNKNOWN_STATE, unified_can_acknowledge, unified_state
from wincc_bridge.client import (
    AuthError,
    ConnectError,
    ConnectionSettings,
    NotSupportedError,
    ProtocolError,
    WinCCClient,
    WinCCError,
)
from wincc_bridge.dialects._wire import (
    NOT_RETURNED,
    batches,
    check_window,
    item_results,
    priority,
    tag_history,
    wire_int,
    wire_iso,
    wire_text,
    wire_time,
)
from wincc_bridge.models import (
    Alarm,
    AlarmState,
    BrowseItem,
    Capabilities,
    HistoryPoint,
    ItemResult,
    Quality,
    TagHistory,
    TagValue,
)
from wincc_bridge.transport import PermissionRefused, Transport

if TYPE_CHECKING:
    from wincc_bridge.dialects.unified_subscription import TagSubscription

logger = logging.getLogger("wincc_bridge")

# Extend the session this long before it expires (or at a fifth of a shorter lifetime).
REFRESH_MARGIN = 60.0

LOGIN = (
    "mutation($u:String!,$p:String!){login(username:$u,password:$p)"
    "{token expires error{code description}}}"
)
EXTEND = "mutation{extendSession{token expires error{code description}}}"
SESSION = "query{session{expires}}"
TAG_VALUES = (
    "query($n:[String!]!){tagValues(names:$n)"
    "{name value{value timestamp quality{quality}} error{code description}}}"
)
WRITE = "mutation($i:[TagValueInput]!){writeTagValues(input:$i){name error{code description}}}"
BROWSE = (
    "query($f:[String],$t:[ObjectTypesEnum]){browse(nameFilters:$f,objectTypeFilters:$t)"
    "{name displayName objectType dataType}}"
)
ACTIVE_ALARMS = (
    "query($l:[String]){activeAlarms(languages:$l){name instanceID path state stateMachine "
    "userResponse suppressionState priority alarmClassName eventText infoText area origin "
    "raiseTime acknowledgmentTime clearTime userName}}"
)
ACKNOWLEDGE = (
    "mutation($i:[AlarmIdentifierInput]!){acknowledgeAlarms(input:$i)"
    "{alarmName alarmInstanceID error{code description}}}"
)
SHELVE = (
    "mutation($n:[String]!,$t:Timespan){shelveAlarms(names:$n,shelveTimeout:$t)"
    "{alarmName error{code description}}}"
)
UNSHELVE = "mutation($n:[String]!){unshelveAlarms(names:$n){alarmName error{code description}}}"
# Bounding values on both sides, so a chart's line reaches the window's edges.
LOGGED_TAG_VALUES = (
    "query($n:[String]!,$s:Timestamp,$e:Timestamp,$m:Int){loggedTagValues(names:$n,"
    "startTime:$s,endTime:$e,maxNumberOfValues:$m,sortingMode:TIME_ASC,"
    "boundingValuesMode:LEFTRIGHT_BOUNDING_VALUES){loggingTagName error{code description} "
    "values{value{value timestamp quality{quality}} flags}}}"
)

_MAIN_QUALITY = {
    "GOOD_CASCADE": Quality.GOOD,
    "GOOD_NON_CASCADE": Quality.GOOD,
    "GOOD": Quality.GOOD,
    "UNCERTAIN": Quality.UNCERTAIN,
    "BAD": Quality.BAD,
}
# The schema's documented error codes, for items whose description is empty.
_ERROR_TEXTS = {
    "1": "generic error",
    "2": "cannot resolve the name",
    "3": "invalid argument",
    "101": "incorrect credentials",
    "102": "UMC error",
    "201": "cannot convert the value",
    "202": "only leaf elements of a structure tag are allowed",
    "301": "syntax error in the filter",
    "302": "invalid language",
    "303": "invalid filter language",
    "304": "invalid object state",
    "305": "the alarm cannot be acknowledged in its current state",
}
_SUCCESS_CODES = (None, "0", 0, "")
# GraphQL error codes and words that mean "who are you?" versus "you may not".
_UNAUTHENTICATED_CODES = frozenset(
    {"UNAUTHENTICATED", "UNAUTHORIZED", "UNAUTHORISED", "AUTHENTICATION_ERROR", "101", "102"}
)
_UNAUTHENTICATED_WORDS = (
    "unauthenticated",
    "unauthori",
    "not logged in",
    "not authenticated",
    "authentication",
    "invalid token",
    "token expired",
    "expired token",
    "session expired",
    "login required",
)
# Errors that say the query itself is wrong (another schema), not the credentials.
_INVALID_QUERY_CODES = frozenset({"GRAPHQL_VALIDATION_FAILED", "GRAPHQL_PARSE_FAILED"})
_INVALID_QUERY_WORDS = ("cannot query field", "unknown argument", "syntax error", "unknown type")
_PLAIN_REFUSALS = ("unauthori", "unauthenticated", "invalid credentials", "bad credentials")
_FORBIDDEN_CODES = frozenset({"FORBIDDEN", "ACCESS_DENIED", "PERMISSION_DENIED"})
_FORBIDDEN_WORDS = (
    "forbidden",
    "permission",
    "not allowed",
    "access denied",
    "insufficient rights",
    "no rights",
    "missing rights",
    "not authorized to",
)
_ACK_STATES = frozenset({AlarmState.ACKNOWLEDGED, AlarmState.LATCHED_ACKNOWLEDGED})


class UnifiedClient(WinCCClient):
    dialect = "unified"

    def __init__(self, settings: ConnectionSettings) -> None:
        super().__init__(settings)
        if settings.username:
            who, check = f"user {settings.username}", "the user name and the password variable"
        elif settings.token:
            who, check = "the token", "the token variable"
        else:
            who, check = "a request without a user", "the user name: none was given"
        self._http = Transport(settings, base_path=settings.graphql_path, who=who, check=check)
        self.server = self._http.server
        self._token: str | None = None
        self._refresh_at: float | None = None
        if settings.token and not settings.username:
            self._use_token(settings.token, None)

    @classmethod
    def capabilities_for(cls, settings: ConnectionSettings) -> Capabilities:
        return Capabilities(acknowledge=True, shelve=True, history=True)

    def ping(self) -> None:
        if self.settings.username:
            self._login()
        else:
            self._call(SESSION, {}, "session", read=True)

    def read_tags(self, names: Sequence[str]) -> list[TagValue]:
        values: list[TagValue] = []
        for batch in batches(names, self.settings.batch_size):
            items, item_errors = self._call(TAG_VALUES, {"n": batch}, "tagValues", read=True)
            values.extend(self._values(batch, items, item_errors))
        return values

    def write_tags(self, values: Mapping[str, Any]) -> list[ItemResult]:
        results: list[ItemResult] = []
        for batch in batches(list(values), self.settings.batch_size):
            inputs = [{"name": name, "value": values[name]} for name in batch]
            items, item_errors = self._call(WRITE, {"i": inputs}, "writeTagValues")
            answered = [
                (_name(item, "name"), item_errors.get(pos) or _item_error(item))
                for pos, item in enumerate(self._list(items, "write results"))
            ]
            results.extend(item_results(batch, answered, answer_was_empty=not answered))
        return results

    def browse(self, pattern: str = "*") -> list[BrowseItem]:
        variables = {"f": [pattern], "t": list(self.settings.browse_object_types)}
        items, _ = self._call(BROWSE, variables, "browse", read=True)
        return [
            BrowseItem(
                name=item["name"],
                display_name=wire_text(item.get("displayName")),
                object_type=wire_text(item.get("objectType")),
                data_type=wire_text(item.get("dataType")),
            )
            for item in self._list(items, "browse results")
            if isinstance(item.get("name"), str)
        ]

    def active_alarms(self) -> list[Alarm]:
        items, _ = self._call(
            ACTIVE_ALARMS, {"l": [self.settings.language]}, "activeAlarms", read=True
        )
        return [self._alarm(item) for item in self._list(items, "active alarms") if item]

    def acknowledge(self, alarms: Iterable[tuple[str, int]]) -> list[ItemResult]:
        # One alarm per request: alarms that need single acknowledgement reject batches.
        return [self._acknowledge_one(name, instance_id) for name, instance_id in alarms]

    def acknowledge_many(self, alarms: Sequence[tuple[str, int]]) -> list[ItemResult]:
        """One acknowledgeAlarms for all; an alarm refused in the batch is tried alone once,
        as alarms that need single acknowledgement refuse batches."""
        if len(alarms) < 2:
            return self.acknowledge(alarms)
        variables = {"i": [{"name": name, "instanceID": inst} for name, inst in alarms]}
        try:
            items, item_errors = self._call(ACKNOWLEDGE, variables, "acknowledgeAlarms")
        except _RequestRefused:
            return self.acknowledge(alarms)
        answered: dict[tuple[str, int], str | None] = {}
        for pos, item in enumerate(self._list(items, "acknowledge results")):
            name, inst = item.get("alarmName"), item.get("alarmInstanceID")
            if not isinstance(name, str) and pos < len(alarms):
                name, inst = alarms[pos]
            if isinstance(inst, int) and not isinstance(inst, bool):
                answered[(str(name), inst)] = item_errors.get(pos) or _item_error(item)
        results = []
        for name, inst in alarms:
            if (name, inst) in answered and answered[(name, inst)] is None:
                results.append(ItemResult(name, True, None, inst))
            else:
                results.append(self._acknowledge_one(name, inst))
        return results

    def shelve(self, names: Sequence[str], seconds: float) -> list[ItemResult]:
        # Timespan in milliseconds; 0 would mean the runtime's own default, never asked for.
        millis = max(1, round(seconds * 1000))
        return self._by_name(SHELVE, {"n": list(names), "t": millis}, "shelveAlarms", names)

    def unshelve(self, names: Sequence[str]) -> list[ItemResult]:
        return self._by_name(UNSHELVE, {"n": list(names)}, "unshelveAlarms", names)

    def subscribe(
        self, names: Sequence[str], *, alarms: bool = True, keepalive: float = 5.0
    ) -> TagSubscription:
        """Tag values (and active alarms) pushed by the server as they change, over the
        GraphQL endpoint's WebSocket (wincc_bridge.dialects.unified_subscription)."""
        from wincc_bridge.dialects.unified_subscription import TagSubscription

        return TagSubscription(self, names, alarms=alarms, keepalive=keepalive)

    def history(
        self, names: Sequence[str], start: datetime, end: datetime, max_points: int = 1000
    ) -> list[TagHistory]:
        check_window(start, end, max_points)
        found: list[TagHistory] = []
        for batch in batches(names, self.settings.batch_size):
            variables = {"n": batch, "s": wire_iso(start), "e": wire_iso(end), "m": max_points}
            items, item_errors = self._call(
                LOGGED_TAG_VALUES, variables, "loggedTagValues", read=True
            )
            listed = self._list(items, "logged tag values")
            positional = len(listed) == len(batch)
            by_name: dict[str, TagHistory] = {}
            in_order: list[TagHistory] = []
            for pos, item in enumerate(listed):
                name = _name(item, "loggingTagName") or (batch[pos] if positional else "")
                history = self._history(name, item, item_errors.get(pos), max_points)
                in_order.append(history)
                by_name.setdefault(name, history)
                # A name may come back in its canonical `System::Tag` form.
                by_name.setdefault(_without_system(name), history)
            for pos, name in enumerate(batch):
                answer = by_name.get(name) or (in_order[pos] if positional else None)
                history = answer or TagHistory(name, error=NOT_RETURNED)
                found.append(history if history.name == name else
                             dataclasses.replace(history, name=name))
        return found

    def close(self) -> None:
        self._http.close()

    def _history(
        self, name: str, item: dict[str, Any], path_error: str | None, max_points: int
    ) -> TagHistory:
        error = path_error or _item_error(item)
        if error is not None:
            return TagHistory(name, error=error)
        points: list[HistoryPoint] = []
        returned = 0
        for entry in self._list(item.get("values"), "logged values"):
            flags = entry.get("flags")
            # Most values carry no flag: the set is built only when there are some.
            flags = {str(f).upper() for f in flags} if isinstance(flags, list) and flags \
                else _NO_FLAGS
            bounding = "BOUNDING" in flags
            returned += not bounding
            holder = _dict(entry.get("value"))
            stamp = wire_time(holder.get("timestamp"))
            if "NO_DATA" in flags or stamp is None:
                continue  # no value at this time: a gap in the chart
            quality = _dict(holder.get("quality")).get("quality")
            value = holder.get("value")
            points.append(HistoryPoint(stamp, value, _main_quality(quality, value), bounding))
        return tag_history(name, points, returned, max_points)

    def _by_name(
        self, query: str, variables: dict[str, Any], field: str, names: Sequence[str]
    ) -> list[ItemResult]:
        """One call for many configured alarms; an outcome per name asked, in that order."""
        try:
            items, item_errors = self._call(query, variables, field)
        except _RequestRefused as exc:
            return [ItemResult(name, False, str(exc)) for name in names]
        answered = [
            (_name(item, "alarmName"), item_errors.get(pos) or _item_error(item))
            for pos, item in enumerate(self._list(items, f"{field} results"))
        ]
        return item_results(names, answered, answer_was_empty=not answered)

    def _acknowledge_one(self, name: str, instance_id: int) -> ItemResult:
        variables = {"i": [{"name": name, "instanceID": instance_id}]}
        try:
            items, item_errors = self._call(ACKNOWLEDGE, variables, "acknowledgeAlarms")
        except _RequestRefused as exc:
            return ItemResult(name, False, str(exc), instance_id)
        for pos, item in enumerate(self._list(items, "acknowledge results")):
            error = item_errors.get(pos) or _item_error(item)
            if error is not None:
                code = _dict(item.get("error")).get("code")
                if instance_id and str(code) == str(instance_id):
                    # WinCC reports a missing instance with the instance id as the code.
                    error = f"alarm {name} has no active instance {instance_id} (code {code})"
                return ItemResult(name, False, error, instance_id)
        return ItemResult(name, True, None, instance_id)

    # -- the session

    def _use_token(self, token: str, expires: Any) -> None:
        self._token = token
        self._http.set_header("Authorization", f"Bearer {token}")
        until = wire_time(expires)
        lifetime = (until - datetime.now(UTC)).total_seconds() if until else 0.0
        if lifetime <= 0:
            # No expiry, or one already past by our clock (the server's clock differs):
            # rely on the one re-login after an authentication error instead.
            self._refresh_at = None
            return
        self._refresh_at = monotonic() + lifetime - min(REFRESH_MARGIN, lifetime / 5)

    def _login(self) -> None:
        self._token = None
        self._http.set_header("Authorization", None)
        variables = {"u": self.settings.username, "p": self.settings.password}
        self._use_token(*self._session(LOGIN, variables, "login"))

    def _extend(self) -> None:
        try:
            session = self._session(EXTEND, {}, "extendSession")
        except ConnectError:
            raise
        except WinCCError as exc:
            logger.debug("extending the session at %s failed: %s", self.server, exc)
            self._login()
        else:
            self._use_token(*session)

    def _session(self, query: str, variables: dict[str, Any], field: str) -> tuple[str, Any]:
        """(token, expires) from a login or extendSession; AuthError when it is refused."""
        body = self._http.request(
            "POST",
            "",
            json_body={"query": query, "variables": variables},
            read=True,
            body_statuses=frozenset({400}),
        )
        data, errors = self._split(body)
        session = _dict(data.get(field))
        error = _dict(session.get("error"))
        code = error.get("code")
        if code not in _SUCCESS_CODES:
            raise self._refused(str(code), wire_text(error.get("description")))
        token = session.get("token")
        if isinstance(token, str) and token:
            if not (token.isascii() and token.isprintable()):
                # It goes out in a header, which takes printable ASCII only.
                raise self._http.protocol_error(f"a {field} token that is not plain text", body)
            return token, session.get("expires")
        # Without a token, any error but a malformed query means the login was refused.
        refusals = [e for e in errors if not _is_invalid_query(e)]
        if refusals:
            raise self._refused(_code(refusals[0]), _message(refusals[0]))
        raise self._http.protocol_error(f"a {field} without a token", body)

    def _refused(self, code: str, detail: str) -> AuthError:
        """The login refusal; WinCC's words are added unless it is plain bad credentials."""
        if code == "101" or not detail or any(w in detail.lower() for w in _PLAIN_REFUSALS):
            return self._http.auth_refused()
        return AuthError(
            f"login refused for {self._http.who} at {self.server}: {detail} "
            f"(check {self._http.check})",
            server=self.server,
        )

    def _ensure_session(self) -> None:
        if not self.settings.username:
            return
        if self._token is None:
            self._login()
        elif self._refresh_at is not None and monotonic() >= self._refresh_at:
            self._extend()

    # -- requests

    def _call(
        self, query: str, variables: dict[str, Any], field: str, *, read: bool = False
    ) -> tuple[Any, dict[int, str]]:
        """`data[field]` and the per-item errors from `errors[].path`; one re-login on auth."""
        self._ensure_session()
        try:
            return self._call_once(query, variables, field, read)
        except PermissionRefused:
            raise
        except AuthError:
            if not self.settings.username:
                raise
            logger.debug("re-login to %s after an authentication error", self.server)
            self._login()
            return self._call_once(query, variables, field, read)

    def _call_once(
        self, query: str, variables: dict[str, Any], field: str, read: bool
    ) -> tuple[Any, dict[int, str]]:
        body = self._http.request(
            "POST",
            "",
            json_body={"query": query, "variables": variables},
            read=read,
            body_statuses=frozenset({400}),
        )
        data, errors = self._split(body)
        result = data.get(field)
        item_errors: dict[int, str] = {}
        general = []
        for error in errors:
            path = error.get("path")
            if (
                result is not None
                and isinstance(path, list)
                and len(path) > 1
                and path[0] == field
                and isinstance(path[1], int)
                and not isinstance(path[1], bool)
            ):
                item_errors.setdefault(path[1], _message(error))
            else:
                general.append(error)
        if general and result is None:
            if any(_is_forbidden(e) for e in general):
                raise self._http.forbidden()
            if any(_is_auth(e) for e in general):
                raise self._http.auth_refused()
            if any(_is_unknown_field(e, field) for e in general):
                # An older or trimmed server: the schema has no such query at all.
                raise NotSupportedError(
                    f"{self.server} has no {field} query in its GraphQL schema",
                    server=self.server,
                )
            raise _RequestRefused(
                f"{self.server} refused the {field} request: {_message(general[0])}",
                server=self.server,
            )
        if general:
            logger.debug("%s answered %s with errors beside data: %s", self.server, field, general)
        return result, item_errors

    def _split(self, body: Any) -> tuple[dict[str, Any], list[dict[str, Any]]]:
        if not isinstance(body, dict) or not ("data" in body or "errors" in body):
            raise self._http.protocol_error("something that is not a GraphQL answer", body)
        data = body.get("data")
        if data is not None and not isinstance(data, dict):
            raise self._http.protocol_error("GraphQL data that is not an object", body)
        raw_errors = body.get("errors") or []
        if not isinstance(raw_errors, list):
            raw_errors = [raw_errors]
        errors = [e if isinstance(e, dict) else {"message": str(e)} for e in raw_errors]
        return data or {}, errors

    def _list(self, items: Any, what: str) -> list[dict[str, Any]]:
        """The result list; null counts as empty, and a null entry (a failed item whose
        error is in `errors`) as an empty object, so positions still match."""
        if items is None:
            return []
        if not isinstance(items, list) or not all(isinstance(i, dict | None) for i in items):
            raise self._http.protocol_error(f"{what} that are not a list of objects", items)
        return [{} if item is None else item for item in items]

    # -- parsing

    def _values(
        self, batch: Sequence[str], items: Any, item_errors: dict[int, str]
    ) -> list[TagValue]:
        found: dict[str, TagValue] = {}
        listed = self._list(items, "tag values")
        positional = len(listed) == len(batch)
        for pos, item in enumerate(listed):
            name = _name(item, "name")
            if name is None:
                if not positional:
                    continue
                name = batch[pos]
            value = _tag_value(name, item, item_errors.get(pos))
            found[name] = value
            # A server may answer in the canonical `System::Tag` form whatever was asked.
            found.setdefault(_without_system(name), value)
        values = []
        for name in batch:
            answer = found.get(name) or found.get(_without_system(name))
            if answer is None:
                answer = TagValue(name, None, Quality.BAD, error=NOT_RETURNED)
            elif answer.name != name:
                answer = dataclasses.replace(answer, name=name)
            values.append(answer)
        return values

    def _alarm(self, item: dict[str, Any]) -> Alarm:
        raw_state = item.get("state")
        user_response = item.get("userResponse")
        state = unified_state(
            raw_state, item.get("stateMachine"), user_response, item.get("suppressionState")
        )
        if state is None:
            logger.debug("unknown Unified alarm state %r from %s", raw_state, self.server)
            state = UNKNOWN_STATE
        ack_time = wire_time(item.get("acknowledgmentTime"))
        user = wire_text(item.get("userName"))
        acknowledged = state in _ACK_STATES or ack_time is not None
        return Alarm(
            site=self.settings.site,
            name=wire_text(item.get("name")),
            instance_id=wire_int(item.get("instanceID")) or 0,
            state=state,
            priority=priority(item.get("priority")),
            alarm_class=wire_text(item.get("alarmClassName")),
            event_text=wire_text(item.get("eventText")),
            info_text=wire_text(item.get("infoText")),
            area=wire_text(item.get("area")),
            raise_time=wire_time(item.get("raiseTime")),
            ack_time=ack_time,
            clear_time=wire_time(item.get("clearTime")),
            can_acknowledge=unified_can_acknowledge(state, user_response),
            acknowledged_by=(user or None) if acknowledged else None,
            source_state=wire_text(raw_state),
            extra={"path": wire_text(item.get("path")), "origin": wire_text(item.get("origin"))},
        )


class _RequestRefused(ProtocolError):
    """The server answered with GraphQL errors that are not about authentication."""


def _without_system(name: str) -> str:
    """A CHROM name without its `System::` prefix."""
    return name.split("::", 1)[1] if "::" in name else name


def _dict(raw: Any) -> dict[str, Any]:
    return raw if isinstance(raw, dict) else {}


def _name(item: dict[str, Any], key: str) -> str | None:
    name = item.get(key)
    return name if isinstance(name, str) else None


def _item_error(item: dict[str, Any]) -> str | None:
    """The item's `error{code, description}` as a sentence; None for success."""
    error = item.get("error")
    if error is None:
        return None
    if not isinstance(error, dict):
        return wire_text(error) or None
    code = error.get("code")
    if code in _SUCCESS_CODES:
        return None
    text = wire_text(error.get("description")) or _ERROR_TEXTS.get(str(code), "error")
    return f"{text} (code {code})"


def _message(error: dict[str, Any]) -> str:
    return wire_text(error.get("message"))[:200] or str(error)[:200]


def _code(error: dict[str, Any]) -> str:
    code = _dict(error.get("extensions")).get("code")
    return str(code).upper() if code is not None else ""


def _is_auth(error: dict[str, Any]) -> bool:
    text = _message(error).lower()
    return _code(error) in _UNAUTHENTICATED_CODES or any(w in text for w in _UNAUTHENTICATED_WORDS)


def _is_invalid_query(error: dict[str, Any]) -> bool:
    text = _message(error).lower()
    return _code(error) in _INVALID_QUERY_CODES or any(w in text for w in _INVALID_QUERY_WORDS)


def _is_unknown_field(error: dict[str, Any], field: str) -> bool:
    """GraphQL's validation error for a field the schema lacks (graphql-js and graphql-core
    both say "Cannot query field 'x' on type 'Query'")."""
    text = _message(error).lower()
    name = field.lower()
    return "cannot query field" in text and (f"'{name}'" in text or f'"{name}"' in text)


def _is_forbidden(error: dict[str, Any]) -> bool:
    text = _message(error).lower()
    return _code(error) in _FORBIDDEN_CODES or any(w in text for w in _FORBIDDEN_WORDS)


def _tag_value(name: str, item: dict[str, Any], path_error: str | None) -> TagValue:
    holder = item.get("value")
    if type(holder) is dict:
        value = holder.get("value")
        stamp = wire_time(holder.get("timestamp"))
        quality = holder.get("quality")
        word = quality.get("quality") if type(quality) is dict else quality
    else:
        value, stamp, word = holder, None, None
    if path_error is not None or item.get("error") is not None:
        error = path_error or _item_error(item)
        if error is not None:
            return TagValue(name, value, Quality.BAD, None, stamp, error)
    found = _MAIN_QUALITY.get(word) if type(word) is str else None
    return TagValue(name, value, found or _main_quality(word, value), None, stamp)


_NO_FLAGS: frozenset[str] = frozenset()


def _main_quality(word: Any, value: Any) -> Quality:
    """Unified's MainQuality; GOOD_* variants count as good, unknown words as bad."""
    if isinstance(word, str):
        found = _MAIN_QUALITY.get(word.upper())
        if found is not None:
            return found
        if word.upper().startswith("GOOD"):
            return Quality.GOOD
        return Quality.UNCERTAIN if word.upper().startswith("UNCERTAIN") else Quality.BAD
    # No quality on the wire: a value without an error is taken as good.
    return Quality.BAD if value is None else Quality.GOOD
