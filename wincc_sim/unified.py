"""Face 2: WinCC Unified GraphQL at /graphql, on the schema file unified.graphql.

Login gives a Bearer token that expires; every field marked @isLoggedIn needs one, every field
marked @checkRights needs the read-write user. Both are checked before execution, so a refused
request changes nothing and answers `data: null` with one error (the error words are a guess).
"""

from __future__ import annotations

import asyncio
import fnmatch
import json
import re
import secrets
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from graphql import (
    FieldNode,
    GraphQLError,
    GraphQLFormattedError,
    GraphQLList,
    GraphQLNonNull,
    GraphQLObjectType,
    GraphQLScalarType,
    OperationDefinitionNode,
    SelectionSetNode,
    build_schema,
    execute_sync,
    is_leaf_type,
    parse,
    validate,
)
from graphql.execution.values import get_argument_values, get_variable_values
from graphql.utilities import get_operation_ast, value_from_ast_untyped
from starlette.requests import Request
from starlette.responses import JSONResponse, RedirectResponse, Response

from wincc_sim.alarm_filter import FilterError, compile_filter
from wincc_sim.alarms import ALARM_CLASSES, AlarmInstance
from wincc_sim.archive import Point
from wincc_sim.plant import GOOD, WriteError
from wincc_sim.simulation import Session, Simulation
from wincc_sim.tags import UNIFIED_DATA_TYPES
from wincc_sim.timefmt import iso_ms, parse_ts
from wincc_sim.users import bearer

FACE = "unified"
SCHEMA = build_schema(Path(__file__).with_name("unified.graphql").read_text(encoding="utf-8"))
SCHEMA.type_map["Variant"].parse_literal = (  # type: ignore[attr-defined]
    lambda node, variables=None: value_from_ast_untyped(node, variables)
)
EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
WRITE_CODES = {"unknown": ("2", "Cannot resolve the tag name"),
               "convert": ("201", "Cannot convert the value"),
               "range": ("201", "Cannot convert the value: out of range"),
               "readonly": ("1", "The tag is a process value and cannot be written")}
ALARM_CODES = {"2": "Cannot resolve the alarm name",
               "305": "The alarm cannot be acknowledged or reset in its current state"}
STATE_TEXT = {"RAISED": "Raised", "RAISED_CLEARED": "Raised/Cleared",
              "RAISED_ACKNOWLEDGED": "Raised/Acknowledged",
              "RAISED_ACKNOWLEDGED_CLEARED": "Raised/Acknowledged/Cleared",
              "RAISED_CLEARED_ACKNOWLEDGED": "Raised/Cleared/Acknowledged",
              "NORMAL": "Normal", "REMOVED": "Removed"}
CHANGE_REASON = {"RAISED": "ALARM_STATE_CHANGED_RAISE_EVENT",
                 "RAISED_CLEARED": "ALARM_STATE_CHANGED_CLEAR_EVENT",
                 "RAISED_ACKNOWLEDGED": "ALARM_STATE_CHANGED_ACKNOWLEDGE_EVENT",
                 "RAISED_ACKNOWLEDGED_CLEARED": "ALARM_STATE_CHANGED_CLEAR_EVENT",
                 "RAISED_CLEARED_ACKNOWLEDGED": "ALARM_STATE_CHANGED_ACKNOWLEDGE_EVENT",
                 "NORMAL": "ALARM_STATE_CHANGED_RESET_EVENT",
                 "REMOVED": "ALARM_STATE_CHANGED_REMOVE_EVENT"}
# Events of the alarm log that are no state change.
EVENT_REASON = {"shelved": "ALARM_SUPPRESSION_STATE_CHANGED",
                "unshelved": "ALARM_SUPPRESSION_STATE_CHANGED"}
NO_INVALID_FLAGS = {"invalidConfiguration": False, "invalidTimestamp": False,
                    "invalidAlarmParameter": False, "invalidEventText": False}
CLASS_COLORS = {"Alarm": "#FF0000FF", "Warning": "#FFFF00FF", "Notification": "#FFFFFFFF"}
LANGUAGE = re.compile(r"^[a-z]{2}-[A-Z]{2}$")


def _syntax_error(exc: FilterError) -> GraphQLError:
    return GraphQLError(f"Filter syntax error: {exc}", extensions={"code": "301"})


def _error(code: str, description: str) -> dict[str, str]:
    return {"code": code, "description": description}


# The top two bits of the quality byte, Siemens' scheme (wincc-api.md 2.7).
MAIN_QUALITY = {0x00: "BAD", 0x40: "UNCERTAIN", 0x80: "GOOD_NON_CASCADE", 0xC0: "GOOD_CASCADE"}
# Sub-status of the quality codes the plant uses; others are NON_SPECIFIC.
SUB_STATUS = {0x18: "NO_COMMUNICATION_NO_USABLE_VALUE", 0x08: "NOT_CONNECTED",
              0x0C: "DEVICE_FAILURE", 0x10: "SENSOR_FAILURE", 0x1C: "OUT_OF_SERVICE",
              0x44: "LAST_USABLE_VALUE", 0x48: "SUBSTITUTE_VALUE", 0x4C: "INITIAL_VALUE",
              0xD8: "LOCAL_OVERRIDE"}
SUCCESS = {"code": "0", "description": ""}


def quality_json(code: int) -> dict[str, Any]:
    return {
        "quality": MAIN_QUALITY[code & 0xC0],
        "subStatus": SUB_STATUS.get(code & 0xFC, "NON_SPECIFIC"),
        "limit": "OK",
        "extendedSubStatus": "NON_SPECIFIC",
        "sourceQuality": False,
        "sourceTime": False,
        "timeCorrected": False,
    }


def _duration_iso(seconds: float) -> str:
    minutes, secs = divmod(seconds, 60)
    hours, minutes = divmod(int(minutes), 60)
    return f"PT{hours}H{minutes}M{secs:.3f}S"


class Resolvers:
    """The root value: one method per operation, called with (info, **arguments)."""

    def __init__(self, sim: Simulation, session: Session | None) -> None:
        self.sim = sim
        self._session = session

    @property
    def session(self) -> Session:
        """The caller's session, for the @isLoggedIn operations (check_access refused those
        without one, so a missing session here is a fault in the simulator)."""
        if self._session is None:
            raise RuntimeError("an @isLoggedIn operation ran without a session")
        return self._session

    def _plain(self, name: str) -> str:
        """A tag name without this server's `System::` prefix."""
        prefix = f"{self.sim.system_name}::"
        return name[len(prefix):] if name.startswith(prefix) else name

    def session_json(self, session: Session, *, with_token: bool = True) -> dict[str, Any]:
        user = session.user
        return {
            "user": {
                "id": user.username,
                "name": user.username,
                "groups": [{"id": "2" if user.can_write else "1",
                            "name": "Operators" if user.can_write else "Viewers"}],
                "fullName": user.full_name,
                "language": "en-US",
                "autoLogoffSec": int(self.sim.token_ttl),
            },
            "token": session.token if with_token else None,
            "expires": iso_ms(session.expires),
            # Real servers answer a good session with code "0", not with a null error.
            "error": dict(SUCCESS),
        }

    # --- session ----------------------------------------------------------------------------

    def login(self, info, username: str, password: str):
        user = self.sim.users.by_password(username, password)
        if user is None:
            return {"user": None, "token": None, "expires": None,
                    "error": _error("101", "Invalid user name or password")}
        return self.session_json(self.sim.login(user))

    def loginSWAC(self, info, claim: str, signedClaim: str):
        # No identity provider stands behind the simulator: every claim is refused.
        return {"user": None, "token": None, "expires": None,
                "error": _error("101", "Single sign-on is not configured on this server")}

    def nonce(self, info):
        return {"value": secrets.token_urlsafe(16), "validFor": 300}

    def identityProviderURL(self, info):
        return None

    def extendSession(self, info):
        self.session.expires = self.sim.now() + timedelta(seconds=self.sim.token_ttl)
        return self.session_json(self.session)

    def logout(self, info, allSessions: bool | None = None):
        mine = self.session.user.username
        for token, session in list(self.sim.sessions.items()):
            if token == self.session.token or (allSessions and session.user.username == mine):
                del self.sim.sessions[token]
        return True

    def session_list(self, info, allSessions: bool | None = None):
        if not allSessions:
            return [self.session_json(self.session)]
        mine = self.session.user.username
        return [self.session_json(s, with_token=s.token == self.session.token)
                for s in self.sim.sessions.values() if s.user.username == mine]

    # --- tags -------------------------------------------------------------------------------

    def tagValues(self, info, names: list[str], directRead: bool = False):
        return [self.tag_value(name) for name in names]

    def tag_value(self, name: str) -> dict[str, Any]:
        reading = self.sim.plant.read(self._plain(name))
        if reading is None:
            return {"name": name, "value": None,
                    "error": _error("2", "Cannot resolve the tag name")}
        if self.sim.faults.unified_canonical_names:
            name = f"{self.sim.system_name}::{self._plain(name)}"
        return {
            "name": name,
            "value": {"value": reading.value, "timestamp": iso_ms(reading.timestamp),
                      "quality": quality_json(reading.quality_code)},
            "error": None,
        }

    def writeTagValues(self, info, input: list, timestamp=None, quality=None):
        logged = [{"name": i["name"], "value": i["value"]} for i in input if i]
        results = []
        for item in input:
            if item is None:
                continue
            try:
                self.sim.plant.write(self._plain(item["name"]), item["value"],
                                     user=self.session.user.username, face=FACE)
                results.append({"name": item["name"], "error": None})
            except WriteError as exc:
                code, text = WRITE_CODES[exc.reason]
                results.append({"name": item["name"], "error": _error(code, f"{text}: {exc}")})
        self.sim.record(FACE, self.session.user.username, "write", logged, True, results)
        return results

    def browse(self, info, nameFilters=None, objectTypeFilters=None,
               baseTypeFilters=None, language="en-US"):
        if nameFilters is None or objectTypeFilters is None or baseTypeFilters is None:
            raise GraphQLError("Argument error: a filter list may be empty but not null",
                               extensions={"code": "3"})
        patterns = [self._plain(p) for p in nameFilters if p] or ["*"]
        # Without a type filter a real server answers every named object, not only tags.
        kinds = set(objectTypeFilters) or {"TAG", "ALARM", "ALARMCLASS", "LOGGINGTAG"}
        system = self.sim.system_name
        found = []
        if kinds & {"TAG", "SIMPLETAG"}:
            for spec in self.sim.plant.specs():
                if any(fnmatch.fnmatchcase(spec.name, p) for p in patterns):
                    found.append({"name": f"{system}::{spec.name}",
                                  "displayName": spec.description,
                                  "objectType": "SIMPLETAG",
                                  "dataType": UNIFIED_DATA_TYPES[spec.kind]})
        if "ALARM" in kinds:
            for d in self.sim.plant.alarm_defs.values():
                if any(fnmatch.fnmatchcase(d.name, p) for p in patterns):
                    found.append({"name": f"{system}::{d.tag}:{d.name}",
                                  "displayName": d.event_text, "objectType": "ALARM",
                                  "dataType": ""})
        if "ALARMCLASS" in kinds:
            for name in ALARM_CLASSES:
                if any(fnmatch.fnmatchcase(name, p) for p in patterns):
                    found.append({"name": f"{system}::{name}", "displayName": name,
                                  "objectType": "ALARMCLASS", "dataType": ""})
        if "LOGGINGTAG" in kinds:
            for name in self.sim.plant.logged:
                if any(fnmatch.fnmatchcase(name, p) for p in patterns):
                    found.append({"name": f"{system}::{name}:{name}_Log",
                                  "displayName": f"{name} (logged)",
                                  "objectType": "LOGGINGTAG", "dataType": "LReal"})
        return found

    def loggedTagValues(self, info, names, startTime, endTime, maxNumberOfValues,
                        sortingMode, boundingValuesMode):
        return [self._logged(name, startTime, endTime, maxNumberOfValues, sortingMode,
                             boundingValuesMode) for name in names if name is not None]

    def _logged(self, name, start_text, end_text, limit, sorting, bounding):
        def failed(code, text):
            return {"loggingTagName": name, "error": _error(code, text), "values": []}

        tag = self._plain(name).split(":", 1)[0]
        if self.sim.plant.spec(tag) is None:
            return failed("2", "Cannot resolve the logging tag name")
        try:
            start, end = parse_ts(start_text), parse_ts(end_text)
        except (TypeError, ValueError):
            return failed("3", "startTime and endTime must be ISO-8601 timestamps")
        if start == EPOCH and end == EPOCH:
            return failed("3", "give at least one of startTime and endTime")
        if end == EPOCH or start == EPOCH:
            needed = "TIME_ASC" if end == EPOCH else "TIME_DESC"
            if limit <= 0 or sorting != needed:
                return failed("3", f"with one time bound, give maxNumberOfValues and "
                                   f"sortingMode {needed}")
        if limit < 0:
            return failed("3", "maxNumberOfValues must not be negative")
        if FACE in self.sim.faults.archive_error:
            return failed("1", "The tag logging archive is not available")
        plant, now = self.sim.plant, self.sim.now()
        values: list[tuple[Point, list[str]]]
        if start == EPOCH or end == EPOCH:
            # One bound: that many stored values from it, as the schema describes.
            run = plant.archive.run(tag, end if start == EPOCH else start, now, limit,
                                    newest_first=start == EPOCH)
            values = [(point, []) for point in run]
        else:
            window = plant.in_archive(tag, start, end, limit)
            values = [(p, [] if p.code is not None else ["NO_DATA"]) for p in window.values]
            if bounding in ("LEFT_BOUNDING_VALUES", "LEFTRIGHT_BOUNDING_VALUES") and window.before:
                values.insert(0, (window.before, ["BOUNDING"]))
            if bounding in ("RIGHT_BOUNDING_VALUES", "LEFTRIGHT_BOUNDING_VALUES") and window.after:
                values.append((window.after, ["BOUNDING"]))
            if sorting == "TIME_DESC":
                values.reverse()
        return {
            "loggingTagName": name,
            "error": None,
            "values": [{"value": {"value": p.value, "timestamp": iso_ms(p.timestamp),
                                  "quality": quality_json(0 if p.code is None else p.code)},
                        "flags": flags}
                       for p, flags in values],
        }

    # --- alarms -----------------------------------------------------------------------------

    def activeAlarms(self, info, systemNames, filterString, filterLanguage, languages):
        self.sim.counts["unified alarm list"] += 1
        keep, languages = self.alarm_filter(systemNames, filterString, filterLanguage, languages)
        alarms = [self.alarm_json(a, languages) for a in self.sim.plant.alarms.visible]
        return [a for a in alarms if keep(a)]

    def alarm_filter(self, system_names, filter_string, filter_language, languages):
        """(predicate over alarm JSON, languages) for activeAlarms and loggedAlarms; GraphQLError
        301-303, also from the predicate when the filter meets an attribute it cannot use."""
        for language in languages or []:
            if not language or not LANGUAGE.match(language):
                raise GraphQLError(f"Unsupported language {language!r}", extensions={"code": "302"})
        if not LANGUAGE.match(filter_language or ""):
            raise GraphQLError(f"Unsupported filter language {filter_language!r}",
                               extensions={"code": "303"})
        try:
            compiled = compile_filter(filter_string or "")
        except FilterError as exc:
            raise _syntax_error(exc) from None
        if system_names and self.sim.system_name not in system_names:
            return (lambda alarm: False), languages or ["en-US"]

        def keep(alarm: dict[str, Any]) -> bool:
            try:
                return compiled(alarm)
            except FilterError as exc:
                raise _syntax_error(exc) from None

        return keep, languages or ["en-US"]

    def alarm_json(self, alarm: AlarmInstance, languages: list[str]) -> dict[str, Any]:
        d = alarm.definition
        reading = self.sim.plant.read(d.tag)
        texts = len(languages)
        machine = self._machine(d)
        response = ("ACKNOWLEDGEMENT" if alarm.can_acknowledge
                    else "RESET" if alarm.can_reset else "NONE")
        seconds = (self.sim.now() - alarm.raise_time).total_seconds()
        unacked = alarm.can_acknowledge
        return {
            "name": d.name,
            "instanceID": alarm.instance_id,
            "alarmGroupID": 0,
            "path": f"{self.sim.system_name}::{d.tag}:{d.name}",
            "raiseTime": iso_ms(alarm.raise_time),
            "acknowledgmentTime": iso_ms(alarm.ack_time),
            "clearTime": iso_ms(alarm.clear_time),
            "resetTime": iso_ms(alarm.reset_time),
            "modificationTime": iso_ms(alarm.modification_time),
            "state": alarm.state,
            "stateText": [STATE_TEXT[alarm.state]] * texts,
            "stateMachine": machine,
            "userResponse": response,
            "priority": d.priority,
            "alarmClassName": d.alarm_class,
            "alarmClassSymbol": [d.alarm_class[0]] * texts,
            "alarmClassID": list(ALARM_CLASSES).index(d.alarm_class) + 1,
            "eventText": [d.event_text] * texts,
            "infoText": [d.info_text] * texts,
            **self._texts(d, texts),
            "value": alarm.value,
            "valueLimit": d.limit,
            "valueQuality": quality_json(reading.quality_code) if reading else None,
            "quality": quality_json(GOOD),
            "textColor": "#000000FF",
            "backColor": CLASS_COLORS[d.alarm_class],
            "flashing": unacked,
            "origin": d.tag,
            "area": d.area,
            "hostName": "wincc-sim",
            "userName": alarm.acknowledged_by,
            "connectionName": reading.spec.connection if reading else "",
            "sourceType": "TAG",
            "suppressionState": self.sim.plant.alarms.suppression(d.name),
            "duration": int(seconds * 1000),
            "durationIso": _duration_iso(seconds),
            "languages": list(languages),
            "alarmParameterValues": [alarm.value],
            "alarmType": [d.kind] * texts,
            "changeReason": [CHANGE_REASON[alarm.state]],
            "invalidFlags": NO_INVALID_FLAGS,
            "deadBand": d.hysteresis,
            "producer": "WINCC",
            "sourceID": "",
            "systemSeverity": 0,
            "loopInAlarm": "",
            "loopInAlarmParameterValues": None,
        }

    @staticmethod
    def _texts(d, texts: int) -> dict[str, list[str]]:
        """alarmText1-9: the area in the first, the rest empty."""
        return {f"alarmText{n}": [d.area if n == 1 else ""] * texts for n in range(1, 10)}

    def acknowledgeAlarms(self, info, input):
        return self._alarm_action("acknowledge", input)

    def resetAlarms(self, info, input):
        return self._alarm_action("reset", input)

    def _alarm_action(self, action: str, items: list) -> list[dict[str, Any]]:
        user = self.session.user.username
        book = self.sim.plant.alarms
        act = book.acknowledge if action == "acknowledge" else book.reset
        logged = [{"name": i["name"], "instance_id": i.get("instanceID") or 0}
                  for i in items if i]
        results = []
        for item in logged:
            # Accept the alarm's name or its full path `System::Tag:Alarm` (guess).
            name = item["name"].rsplit(":", 1)[-1] if "::" in item["name"] else item["name"]
            for instance, code in act(name, item["instance_id"], user, FACE, self.sim.now()):
                results.append({
                    "alarmName": item["name"],
                    "alarmInstanceID": instance or item["instance_id"],
                    "error": None if code is None else _error(code, ALARM_CODES.get(
                        code, f"Alarm instance {code} does not exist")),
                })
        self.sim.record(FACE, user, action, logged, True, results)
        return results

    # --- shelving and disabling -------------------------------------------------------------

    def shelveAlarms(self, info, names, shelveTimeout=0):
        try:
            timeout = timedelta(milliseconds=float(shelveTimeout or 0))
        except (TypeError, ValueError):
            raise GraphQLError("Argument error: shelveTimeout is milliseconds",
                               extensions={"code": "3"}) from None
        if timeout < timedelta(0):
            raise GraphQLError("Argument error: shelveTimeout must not be negative",
                               extensions={"code": "3"})
        user = self.session.user.username
        return self._configured_action(
            "shelve", names,
            lambda name: self.sim.plant.alarms.shelve(name, timeout or None, user, FACE,
                                                      self.sim.now()))

    def unshelveAlarms(self, info, names):
        user = self.session.user.username
        return self._configured_action(
            "unshelve", names,
            lambda name: self.sim.plant.alarms.unshelve(name, user, FACE, self.sim.now()))

    def disableAlarms(self, info, names):
        user = self.session.user.username
        return self._configured_action(
            "disable", names,
            lambda name: self.sim.plant.alarms.disable(name, user, FACE, self.sim.now()))

    def enableAlarms(self, info, names):
        return self._configured_action(
            "enable", names, lambda name: self.sim.plant.alarms.enable(name, self.sim.now()))

    def _configured_action(self, action: str, names: list, act) -> list[dict[str, Any]]:
        """Apply `act` to each configured alarm named by its name or `System::Tag:Alarm`."""
        results = []
        for given in names:
            if given is None:
                continue
            code = act(given.rsplit(":", 1)[-1] if "::" in given else given)
            results.append({"alarmName": given, "error": None if code is None else
                            _error(code, ALARM_CODES[code])})
        self.sim.record(FACE, self.session.user.username, action,
                        [{"name": n} for n in names if n is not None], True, results)
        return results

    # --- alarm log --------------------------------------------------------------------------

    def loggedAlarms(self, info, systemNames, filterString, filterLanguage, languages,
                     startTime, endTime, maxNumberOfResults):
        keep, languages = self.alarm_filter(systemNames, filterString, filterLanguage, languages)
        try:
            start, end = parse_ts(startTime), parse_ts(endTime)
        except (TypeError, ValueError):
            raise GraphQLError("Argument error: startTime and endTime must be ISO-8601",
                               extensions={"code": "3"}) from None
        if maxNumberOfResults < 0:
            raise GraphQLError("Argument error: maxNumberOfResults must not be negative",
                               extensions={"code": "3"})
        found = []
        for record in self.sim.plant.alarms.history:
            stamp = parse_ts(record["time"])
            # The epoch (the default) leaves that side of the window open (a guess).
            if (start != EPOCH and stamp <= start) or (end != EPOCH and stamp >= end):
                continue
            entry = self.logged_alarm_json(record, languages)
            if keep(entry):
                found.append(entry)
        return found[-maxNumberOfResults:] if maxNumberOfResults else found

    def logged_alarm_json(self, record: dict[str, Any], languages: list[str]) -> dict[str, Any]:
        """One alarm-log entry (a state change) in the shape of LoggedAlarm."""
        d = self.sim.plant.alarm_defs[record["alarm"]]
        texts = len(languages)
        state = record["state"]
        raised = parse_ts(record["raise_time"])
        seconds = (parse_ts(record["time"]) - raised).total_seconds()
        return {
            "name": d.name,
            "instanceID": record["instance_id"],
            "alarmGroupID": 0,
            "raiseTime": record["raise_time"],
            "acknowledgmentTime": record["ack_time"],
            "clearTime": record["clear_time"],
            "resetTime": record["reset_time"],
            "modificationTime": record["time"],
            "state": state,
            "textColor": "#000000FF",
            "backColor": CLASS_COLORS[d.alarm_class],
            "languages": list(languages),
            "alarmClassName": d.alarm_class,
            "alarmClassSymbol": [d.alarm_class[0]] * texts,
            "alarmClassID": list(ALARM_CLASSES).index(d.alarm_class) + 1,
            "stateMachine": self._machine(d),
            "priority": d.priority,
            "alarmParameterValues": [],
            "alarmType": [d.kind] * texts,
            "eventText": [d.event_text] * texts,
            "infoText": [d.info_text] * texts,
            **self._texts(d, texts),
            "stateText": [STATE_TEXT[state]] * texts,
            "origin": d.tag,
            "area": d.area,
            "changeReason": [EVENT_REASON.get(record["event"], CHANGE_REASON[state])],
            "valueLimit": d.limit,
            "sourceType": "TAG",
            "suppressionState": record.get("suppression") or "UNSUPPRESSED",
            "hostName": "wincc-sim",
            "userName": record["user"] or "",
            "value": None,
            "valueQuality": None,
            "quality": quality_json(GOOD),
            "invalidFlags": NO_INVALID_FLAGS,
            "deadband": d.hysteresis,
            "producer": "WINCC",
            "duration": int(seconds * 1000),
            "durationIso": _duration_iso(seconds),
            "hasComments": False,
        }

    @staticmethod
    def _machine(d) -> str:
        if not d.ack_required:
            return "RAISE_CLEAR"
        if d.latched:
            return "RAISE_CLEAR_REQUIRES_ACKNOWLEDGMENT_AND_RESET"
        return "RAISE_CLEAR_REQUIRES_ACKNOWLEDGMENT"

    def root(self) -> dict[str, Any]:
        names = ("login", "loginSWAC", "nonce", "identityProviderURL", "extendSession",
                 "logout", "tagValues", "writeTagValues", "browse", "loggedTagValues",
                 "activeAlarms", "loggedAlarms", "acknowledgeAlarms", "resetAlarms",
                 "shelveAlarms", "unshelveAlarms", "disableAlarms", "enableAlarms")
        root = {name: getattr(self, name) for name in names}
        root["session"] = self.session_list
        return root


def _root_fields(operation: OperationDefinitionNode) -> list[str]:
    return [s.name.value for s in operation.selection_set.selections if isinstance(s, FieldNode)]


def _directives(operation: OperationDefinitionNode) -> set[str]:
    root_type = {"query": SCHEMA.query_type, "mutation": SCHEMA.mutation_type,
                 "subscription": SCHEMA.subscription_type}[operation.operation.value]
    found: set[str] = set()
    for name in _root_fields(operation):
        field = root_type.fields.get(name) if root_type else None
        if field is not None and field.ast_node is not None:
            found |= {d.name.value for d in field.ast_node.directives or ()}
    return found


def refusal(message: str, code: str) -> dict[str, Any]:
    return {"data": None, "errors": [{"message": message, "extensions": {"code": code}}]}


class BadOperation(Exception):
    """A request that cannot run: the GraphQL errors to answer with, and the HTTP status."""

    def __init__(self, errors: list[GraphQLFormattedError], status: int = 200) -> None:
        super().__init__(errors[0]["message"])
        self.errors = errors
        self.status = status


def prepare(body: Any, hidden: frozenset[str] = frozenset()):
    """(document, operation, variables, operation name) of a GraphQL request body.

    `hidden` names root query fields this server lacks (an older or trimmed schema): asking
    for one fails validation with the words graphql-core uses for a field it does not know.
    """
    if not isinstance(body, dict) or not isinstance(body.get("query"), str):
        raise BadOperation([{"message": 'send {"query": ..., "variables": {...}}'}], 400)
    variables = body.get("variables") or {}
    if not isinstance(variables, dict):
        raise BadOperation([{"message": "variables must be a JSON object"}], 400)
    operation_name = body.get("operationName")
    try:
        document = parse(body["query"])
    except GraphQLError as exc:
        raise BadOperation([exc.formatted]) from None
    problems = validate(SCHEMA, document)
    if problems:
        raise BadOperation([p.formatted for p in problems])
    operation = get_operation_ast(document, operation_name)
    if operation is None:
        raise BadOperation([{"message": "cannot tell which operation to run"}])
    if operation.operation.value == "query":
        unknown = [
            GraphQLError(f"Cannot query field '{node.name.value}' on type 'Query'.", node).formatted
            for node in operation.selection_set.selections
            if isinstance(node, FieldNode) and node.name.value in hidden
        ]
        if unknown:
            raise BadOperation(unknown)
    return document, operation, variables, operation_name


def check_access(sim: Simulation, session: Session | None,
                 operation: OperationDefinitionNode,
                 variables: dict[str, Any]) -> dict[str, Any] | None:
    """The refusal for a missing session or a missing right, or None; before anything runs."""
    directives = _directives(operation)
    if session is None:
        # A right is a logged-in user's, so @checkRights alone needs a session too.
        if directives & {"isLoggedIn", "checkRights"}:
            # The words of this refusal on a real server are unknown (wincc-api.md 4.4).
            return refusal("Unauthorized", "UNAUTHENTICATED")
        return None
    if "checkRights" in directives and not session.user.can_write:
        for action, items in _guarded_calls(operation, variables):
            sim.record(FACE, session.user.username, action, items, allowed=False)
        return refusal(f"Forbidden: user {session.user.username!r} lacks the right",
                       "FORBIDDEN")
    return None


ACTIONS = {"writeTagValues": "write", "acknowledgeAlarms": "acknowledge", "resetAlarms": "reset",
           "shelveAlarms": "shelve", "unshelveAlarms": "unshelve", "disableAlarms": "disable",
           "enableAlarms": "enable"}


def _guarded_calls(operation: OperationDefinitionNode, variables: dict[str, Any]):
    """(action, items) of each write or alarm mutation in the operation, as the log keeps them."""
    for node in operation.selection_set.selections:
        if not isinstance(node, FieldNode) or node.name.value not in ACTIONS:
            continue
        # Validation has passed, so `input` (or `names`) is there; variables are not coerced.
        argument = next(a for a in node.arguments or () if a.name.value in ("input", "names"))
        raw = value_from_ast_untyped(argument.value, variables)
        if argument.name.value == "names":
            names = raw if isinstance(raw, list) else [raw]
            yield ACTIONS[node.name.value], [{"name": n} for n in names]
            continue
        items = [i for i in (raw if isinstance(raw, list) else [raw]) if isinstance(i, dict)]
        if node.name.value == "writeTagValues":
            logged = [{"name": i.get("name"), "value": i.get("value")} for i in items]
        else:
            logged = [{"name": i.get("name"), "instance_id": i.get("instanceID") or 0}
                      for i in items]
        yield ACTIONS[node.name.value], logged


class NotPlain(Exception):
    """A query or answer the fast path leaves to graphql-core."""


def _projector(type_: Any, selection: SelectionSetNode | None) -> Callable[[Any], Any]:
    """A function completing a value of `type_` as graphql-core does, for plain object, list
    and leaf types; built once per query so the ~40,000 values pay no lookups."""
    if isinstance(type_, GraphQLNonNull):
        inner = _projector(type_.of_type, selection)

        def non_null(value: Any) -> Any:
            if value is None:
                raise NotPlain("null for a non-null field")
            return inner(value)
        return non_null
    if isinstance(type_, GraphQLList):
        item = _projector(type_.of_type, selection)

        def listed(value: Any) -> Any:
            if value is None:
                return None
            if not isinstance(value, list | tuple):
                raise NotPlain("not a list")
            return [item(v) for v in value]
        return listed
    if is_leaf_type(type_):
        coerce = type_.coerce_output_value
        if coerce is GraphQLScalarType.serialize:
            return _as_is  # the schema's own scalars (Variant, Timestamp, ...) pass values through

        def leaf(value: Any) -> Any:
            if value is None:
                return None
            coerced = coerce(value)
            if coerced is None:
                raise NotPlain("leaf coerced to null")
            return coerced
        return leaf
    if not isinstance(type_, GraphQLObjectType) or selection is None:
        raise NotPlain("not a plain object type")
    fields: list[tuple[str, str, Callable[[Any], Any]]] = []
    for node in selection.selections:
        if not isinstance(node, FieldNode) or node.directives or node.arguments:
            raise NotPlain("fragment, directive or argument")
        key, name = (node.alias or node.name).value, node.name.value
        if any(key == k for k, _, _ in fields):
            raise NotPlain("fields to merge")
        if name == "__typename":
            fields.append((key, name, _constant(type_.name)))
        else:
            fields.append((key, name, _projector(type_.fields[name].type, node.selection_set)))

    def obj(value: Any) -> Any:
        if value is None:
            return None
        if not isinstance(value, dict):
            raise NotPlain("not a plain object")
        out = {}
        for key, name, project in fields:
            field_value = value.get(name)
            if callable(field_value):
                raise NotPlain("a resolver below the root")
            out[key] = field_value if project is _as_is else project(field_value)
        return out
    return obj


def _as_is(value: Any) -> Any:
    return value


def _constant(text: str) -> Callable[[Any], Any]:
    return lambda _value: text


def archive_payload(resolvers: Resolvers, document, variables, operation_name) -> dict[str, Any]:
    """The payload of a query whose one root field is loggedTagValues, without graphql-core's
    executor: completing field by field took ~3 s for 40,000 values where a real server
    answers in a fraction of that. Arguments are coerced by graphql-core all the same."""
    operation = get_operation_ast(document, operation_name)
    if operation is None or operation.operation.value != "query" \
            or len(operation.selection_set.selections) != 1:
        raise NotPlain("not a single root field query")
    node = operation.selection_set.selections[0]
    if not isinstance(node, FieldNode) or node.name.value != "loggedTagValues" \
            or node.directives:
        raise NotPlain("not loggedTagValues")
    coerced = get_variable_values(SCHEMA, operation.variable_definitions or (), variables)
    if isinstance(coerced, list):
        raise NotPlain("variables do not coerce")
    field = SCHEMA.query_type.fields["loggedTagValues"]  # type: ignore[union-attr]
    project = _projector(field.type, node.selection_set)
    result = resolvers.loggedTagValues(None, **get_argument_values(field, node, coerced))
    return {"data": {(node.alias or node.name).value: project(result)}}


def run(sim: Simulation, session: Session | None, document, variables, operation_name):
    """Execute a query or mutation; the response payload."""
    return executed_payload(Resolvers(sim, session), document, variables, operation_name)


def run_archive(sim: Simulation, session: Session | None, document, variables,
                operation_name):
    """Execute a query that reads the archive: directly when it is plain (archive_payload),
    else through graphql-core."""
    resolvers = Resolvers(sim, session)
    try:
        return archive_payload(resolvers, document, variables, operation_name)
    except Exception:  # anything unusual is answered by graphql-core, as before
        return executed_payload(resolvers, document, variables, operation_name)


def executed_payload(resolvers: Resolvers, document, variables, operation_name):
    """The response payload as graphql-core's executor completes it."""
    # Every resolver is synchronous; subscriptions run in unified_ws.
    result = execute_sync(SCHEMA, document, root_value=resolvers.root(),
                          variable_values=variables, operation_name=operation_name)
    payload: dict[str, Any] = {"data": result.data}
    if result.errors:
        payload["errors"] = [e.formatted for e in result.errors]
    return payload


def app(sim: Simulation):
    async def endpoint(request: Request) -> Response:
        if sim.faults.graphql_redirect and not request.url.path.endswith("/"):
            return RedirectResponse("/graphql/", 308)
        if request.method != "POST":
            return JSONResponse({"errors": [{"message": "send the query with POST"}]}, 405)
        try:
            body = json.loads(await request.body())
            hidden = frozenset({"activeAlarms"}) if "unified" in sim.faults.no_alarm_list \
                else frozenset()
            document, operation, variables, operation_name = prepare(body, hidden)
        except (json.JSONDecodeError, UnicodeDecodeError):
            return JSONResponse({"errors": [{"message": "the body is not valid JSON"}]}, 400)
        except BadOperation as exc:
            return JSONResponse({"errors": exc.errors}, exc.status)
        if operation.operation.value == "subscription":
            return JSONResponse({"errors": [{"message": "subscriptions are served over "
                                             "WebSocket (graphql-transport-ws) only"}]})
        session = sim.session(bearer(request.headers.get("authorization", "")))
        refused = check_access(sim, session, operation, variables)
        if refused is not None:
            return JSONResponse(refused)
        if operation.operation.value == "query" and _reads_archive(operation):
            # Computing an archive window takes a while: off the event loop, so the polls
            # the server answers meanwhile are not held up (a real server serves both).
            payload = await asyncio.to_thread(run_archive, sim, session, document, variables,
                                              operation_name)
            return JSONResponse(payload)
        return JSONResponse(run(sim, session, document, variables, operation_name))

    return endpoint


def _reads_archive(operation) -> bool:
    return any(getattr(getattr(node, "name", None), "value", "") == "loggedTagValues"
               for node in operation.selection_set.selections)
