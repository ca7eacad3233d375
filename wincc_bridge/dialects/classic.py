"""WinCC V7.5 SP2 / V8 "WinCC/REST" (`/WinCCRestService`), HTTP Basic on every request.

Field names are matched without regard to case: clients in the field see `variableName`,
`VariableName` and `Tagname` for the same thing. Values keep their JSON type (`dataType`
is ignored), `qualityCode` is the OPC-DA byte, and an unmarked timestamp is local time in
the `timezone` setting (UTC unless set).
Active alarms come from a V8.1 REST filter's message list; acknowledging needs a project
tag per alarm (`ack_tags`), because Classic has no acknowledge endpoint.
"""

from __future__ import annotations

import base64
import fnmatch
import logging
from collections.abc import Iterable, Mapping, Sequence
from datetime import datetime
from typing import Any
from urllib.parse import quote

from wincc_bridge.alarm_states import UNKNOWN_STATE, classic_state
from wincc_bridge.client import (
    ConnectionSettings,
    NotSupportedError,
    ProtocolError,
    WinCCClient,
)
from wincc_bridge.dialects._wire import (
    NOT_RETURNED,
    Zoned,
    answered_tags,
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
from wincc_bridge.localtime import InOrder, site_times
from wincc_bridge.models import (
    Alarm,
    BrowseItem,
    Capabilities,
    HistoryPoint,
    ItemResult,
    Quality,
    TagHistory,
    TagValue,
    quality_from_opc,
)
from wincc_bridge.transport import Transport

logger = logging.getLogger("wincc_bridge")

BASE_PATH = "/WinCCRestService"
# Bound on pages of one browse: 1000 pages of `browse_page_size` tags.
MAX_PAGES = 1000
# A variable-list page's next start: the server says there is none, or says nothing.
_END, _UNSAID = -1, -2
# Field names as real servers spell them, lower-cased, to the one spelling used below.
_TAG_FIELDS = {
    "variablename": "variableName",
    "tagname": "variableName",
    "name": "variableName",
    "value": "value",
    "timestamp": "timestamp",
    "qualitycode": "qualityCode",
    "quality": "quality",
    "error": "error",
    "errorcode": "errorcode",
    "errortext": "errortext",
    "errormessage": "errortext",
    "datatype": "dataType",
    "displayname": "displayName",
    "objecttype": "objectType",
    "type": "objectType",
}
_CANONICAL = frozenset(_TAG_FIELDS.values())
# An archived value's fields: which names the time and the quality have is not published,
# so the plausible spellings are all read (docs/conformance.md).
_ARCHIVE_FIELDS = {
    **_TAG_FIELDS,
    "time": "timestamp",
    "timestamputc": "timestamp",
    "datetime": "timestamp",
    "date": "timestamp",
    "quality_code": "qualityCode",
    "qc": "qualityCode",
}
_LIST_KEYS = ("values", "variables", "items", "data", "messages", "result")
# The OPC quality of every low byte, so a read looks it up instead of computing it.
_OPC_QUALITY = tuple(quality_from_opc(code) for code in range(256))
_QUALITY_WORDS = {"good": Quality.GOOD, "uncertain": Quality.UNCERTAIN, "bad": Quality.BAD}


class ClassicClient(WinCCClient):
    dialect = "classic"

    def __init__(self, settings: ConnectionSettings) -> None:
        super().__init__(settings)
        headers = {}
        if settings.username:
            pair = f"{settings.username}:{settings.password}".encode()
            headers["Authorization"] = "Basic " + base64.b64encode(pair).decode("ascii")
            who, check = f"user {settings.username}", "the user name and the password variable"
        elif settings.token:
            headers["Authorization"] = f"Bearer {settings.token}"
            who, check = "the token", "the token variable"
        else:
            who, check = "a request without a user", "the user name: none was given"
        self._http = Transport(settings, base_path=BASE_PATH, who=who, check=check, headers=headers)
        self.server = self._http.server
        # Tag (lower case) -> its tag logging archive, read once when no archive is set.
        self._archive_of: dict[str, str] | None = None
        self.local_times = site_times(settings.site, settings.timezone)

    @classmethod
    def capabilities_for(cls, settings: ConnectionSettings) -> Capabilities:
        return Capabilities(
            active_alarms=bool(settings.alarm_filter),
            acknowledge=bool(settings.ack_tags),
            acknowledge_only=frozenset(settings.ack_tags),
            history=True,
        )

    def ping(self) -> None:
        try:
            self._http.request(
                "GET", "/tagManagement/Connections", read=True, missing="no Connections list"
            )
            return
        except NotSupportedError:
            pass
        # Some versions lack the configuration lists; a value read still proves the login.
        try:
            self._http.request(
                "POST", "/tagManagement/Values", json_body={"variableNames": []}, read=True
            )
        except ProtocolError as exc:
            # Some servers refuse an empty list (HTTP 400): read one known tag instead.
            logger.debug("%s refused an empty value request: %s", self.server, exc)
            tag = self.settings.ping_tag or self._first_tag()
            if tag is None:
                raise
            self.read_tags([tag])

    def _first_tag(self) -> str | None:
        page, _ = self._variables_page("*", 1, 0)
        return page[0].name if page else None

    def read_tags(self, names: Sequence[str]) -> list[TagValue]:
        values: list[TagValue] = []
        for batch in batches(names, self.settings.batch_size):
            body = self._http.request(
                "POST", "/tagManagement/Values", json_body={"variableNames": batch}, read=True
            )
            values.extend(self._values(batch, self._items(body, "a list of tag values")))
        return values

    def write_tags(self, values: Mapping[str, Any]) -> list[ItemResult]:
        names = list(values)
        results: list[ItemResult] = []
        for batch in batches(names, self.settings.batch_size):
            body = self._http.request(
                "PUT",
                "/tagManagement/Values",
                json_body=[{"variableName": name, "value": values[name]} for name in batch],
            )
            items = self._items(body, "a list of write results")
            answered = (_named_error(_tag_fields(item)) for item in items if isinstance(item, dict))
            results.extend(item_results(batch, answered, answer_was_empty=not items))
        return results

    def browse(self, pattern: str = "*") -> list[BrowseItem]:
        """The variable list page by page (itemLimit / continuationPoint), as real clients
        read it: a server may cap a page whether or not the client asks for paging."""
        size = max(self.settings.browse_page_size, 1)
        found: list[BrowseItem] = []
        seen: set[str] = set()
        start = 0
        for _ in range(MAX_PAGES):
            page, next_start = self._variables_page(pattern, size, start)
            fresh = [item for item in page if item.name not in seen]
            # Only an empty page ends the list: a server may cap a page below itemLimit, so
            # a short page is not the last. A page of names already seen means the server
            # ignores continuationPoint and would repeat itself for ever.
            if not fresh:
                break
            seen.update(item.name for item in fresh)
            found.extend(fresh)
            if next_start is _END:
                break
            start = start + len(page) if next_start is _UNSAID else next_start
        return [item for item in found if fnmatch.fnmatch(item.name.lower(), pattern.lower())]

    def _variables_page(self, pattern: str, size: int, start: int) -> tuple[list[BrowseItem], int]:
        """One page of the variable list and the next page's start as the server names it
        (_END: no more, _UNSAID: a plain list); GET, or POST where the server wants that."""
        params = {
            "variableName": pattern,
            "itemLimit": str(size),
            "continuationPoint": str(start),
        }
        missing = f"{self.server} does not list its tags over REST (/tagManagement/variables)"
        try:
            body = self._http.request(
                "GET", "/tagManagement/variables", params=params, read=True, missing=missing
            )
        except NotSupportedError:
            body = self._http.request(
                "POST",
                "/tagManagement/variables",
                params=params,
                json_body={"itemLimit": size, "continuationPoint": start},
                read=True,
                missing=missing,
            )
        # Where a server names the next page itself (a wrapper with continuationPoint).
        next_start = _UNSAID
        if isinstance(body, dict) and "continuationpoint" in _lower(body):
            next_start = wire_int(_lower(body)["continuationpoint"]) or _END
        items = []
        for raw in self._items(body, "a list of tags"):
            if isinstance(raw, str):
                item = {"variableName": raw}
            elif isinstance(raw, dict):
                item = _tag_fields(raw)
            else:
                continue
            name = item.get("variableName")
            if not isinstance(name, str):
                continue
            items.append(
                BrowseItem(
                    name=name,
                    display_name=wire_text(item.get("displayName")),
                    object_type=wire_text(item.get("objectType")),
                    data_type=wire_text(item.get("dataType")),
                )
            )
        return items, next_start

    def active_alarms(self) -> list[Alarm]:
        alarm_filter = self.settings.alarm_filter
        if not alarm_filter:
            raise NotSupportedError(
                f"Classic WinCC at {self.server} lists active alarms only through a REST filter; "
                "configure one in the WinCC project and name it in alarm_filter "
                "(or --alarm-filter)",
                server=self.server,
            )
        body = self._http.request(
            "GET",
            f"/alarmLogging/MessageList/{quote(alarm_filter, safe='')}",
            headers={
                "Accept-Language": self.settings.language,
                "Content-Language": self.settings.language,
            },
            read=True,
            missing=(
                f"{self.server} has no REST filter named {alarm_filter!r} or no alarm logging "
                "over REST (needs WinCC V8.1; check the filter name in the project)"
            ),
        )
        return [
            self._alarm(_lower(raw))
            for raw in self._items(body, "a list of messages")
            if isinstance(raw, dict)
        ]

    def acknowledge(self, alarms: Iterable[tuple[str, int]]) -> list[ItemResult]:
        ack_tags = self.settings.ack_tags
        if not ack_tags:
            raise NotSupportedError(
                f"Classic WinCC at {self.server} has no acknowledge endpoint; map the alarm to "
                "its acknowledge tag in ack_tags (or --ack-tag) to acknowledge it from here",
                server=self.server,
            )
        wanted = list(alarms)
        writes = {
            ack_tags[name].tag: ack_tags[name].value for name, _ in wanted if name in ack_tags
        }
        written = {result.name: result for result in self.write_tags(writes)} if writes else {}
        results = []
        for name, instance_id in wanted:
            if name not in ack_tags:
                error = f"no acknowledge tag is configured for alarm {name}"
                results.append(ItemResult(name, False, error, instance_id))
                continue
            outcome = written[ack_tags[name].tag]
            results.append(ItemResult(name, outcome.ok, outcome.error, instance_id))
        return results

    def history(
        self, names: Sequence[str], start: datetime, end: datetime, max_points: int = 1000
    ) -> list[TagHistory]:
        """Tag logging's `POST /tagLogging/Archive/{a}/values?begin=&end=&maxValues=`, the
        form seen working against a real site; one request per archive and batch."""
        check_window(start, end, max_points)
        found: dict[str, TagHistory] = {}
        groups: dict[str, list[str]] = {}
        for name in dict.fromkeys(names):
            archive = self._archive(name)
            if archive is None:
                found[name] = TagHistory(
                    name, error=f"{name} is not logged in any tag logging archive of "
                    f"{self.server}"
                )
            else:
                groups.setdefault(archive, []).append(name)
        params = {"begin": wire_iso(start), "end": wire_iso(end), "maxValues": str(max_points)}
        for archive, members in groups.items():
            for batch in batches(members, self.settings.batch_size):
                body = self._http.request(
                    "POST",
                    f"/tagLogging/Archive/{quote(archive, safe='')}/values",
                    params=params,
                    json_body={"variableNames": batch},
                    read=True,
                    missing=f"{self.server} has no tag logging archive {archive} "
                    "(check the site's archive name)",
                )
                items = self._items(body, "a list of archived values")
                found.update(self._histories(batch, items, max_points))
        return [found[name] for name in names]

    def close(self) -> None:
        self._http.close()

    def _archive(self, name: str) -> str | None:
        if self.settings.tag_archive:
            return self.settings.tag_archive
        if self._archive_of is None:
            self._archive_of = self._read_archives()
        return self._archive_of.get(name.lower())

    def _read_archives(self) -> dict[str, str]:
        """Which archive logs which tag, from the archives' variable lists."""
        missing = (
            f"{self.server} does not list its tag logging archives (/tagLogging/Archives); "
            "set the site's archive name"
        )
        archive_of: dict[str, str] = {}
        for raw in self._listing("/tagLogging/Archives", "a list of archives", missing):
            archive = _listed_name(raw, ("name", "archivename"))
            if archive is None:
                continue
            path = f"/tagLogging/Archive/{quote(archive, safe='')}/Variables"
            for variable in self._listing(path, "a list of archive variables", missing):
                tag = _listed_name(variable, ("variablename", "tagname", "name"))
                if tag is not None:
                    archive_of.setdefault(tag.lower(), archive)
        return archive_of

    def _listing(self, path: str, what: str, missing: str) -> Iterable[Any]:
        """A configuration list page by page (itemLimit / continuationPoint) until a page
        brings nothing new; a server that ignores paging answers everything at once."""
        size = max(self.settings.browse_page_size, 1)
        seen: set[str] = set()
        start = 0
        for _ in range(MAX_PAGES):
            params = {"itemLimit": str(size), "continuationPoint": str(start)}
            body = self._http.request("GET", path, params=params, read=True, missing=missing)
            page = self._items(body, what)
            fresh = [item for item in page if repr(item) not in seen]
            if not fresh:
                return
            seen.update(repr(item) for item in fresh)
            yield from fresh
            start += len(page)

    def _histories(
        self, batch: Sequence[str], items: list[Any], max_points: int
    ) -> dict[str, TagHistory]:
        by_name: dict[str, TagHistory] = {}
        for name, raw in answered_tags(batch, items, _variable_name):
            item = _tag_fields(raw)
            error = _item_error(item)
            values = _lower(raw).get("values")
            if error is not None:
                by_name[name.lower()] = TagHistory(name, error=error)
                continue
            if values is not None and not isinstance(values, list):
                raise self._http.protocol_error("archived values that are not a list", raw)
            points = []
            # Archived values come oldest first: their order settles a repeated hour.
            in_order = InOrder(self.settings.timezone)
            for entry in values or []:
                if type(entry) is not dict:
                    continue
                value = _tag_value(name, _archive_fields(entry), in_order)
                if value.timestamp is not None:
                    points.append(HistoryPoint(value.timestamp, value.value, value.quality))
            by_name[name.lower()] = tag_history(name, points, len(values or []), max_points)
        answered = {}
        for name in batch:
            history = by_name.get(name.lower())
            if history is None:
                history = TagHistory(name, error=NOT_RETURNED)
            elif history.name != name:
                history = TagHistory(name, history.points, history.error, history.truncated)
            answered[name] = history
        return answered

    def _items(self, body: Any, expected: str) -> list[Any]:
        """The list inside an answer: a bare array, an empty body, one item, or a wrapper."""
        if body is None:
            return []
        if isinstance(body, list):
            return body
        if isinstance(body, dict):
            if _tag_fields(body).get("variableName") is not None:
                return [body]
            lowered = _lower(body)
            for key in _LIST_KEYS:
                items = lowered.get(key)
                if isinstance(items, list):
                    return items
        raise self._http.protocol_error(f"something other than {expected}", body)

    def _values(self, batch: Sequence[str], items: list[Any]) -> list[TagValue]:
        by_name: dict[str, TagValue] = {}
        # Each object's fields are read once; anything else stays in its place as None.
        fields = [_tag_fields(raw) if type(raw) is dict else None for raw in items]
        for name, item in answered_tags(batch, fields, _canonical_name):
            by_name[name] = _tag_value(name, item, self.local_times)
        values = []
        lowered: dict[str, TagValue] | None = None
        for name in batch:
            value = by_name.get(name)
            if value is None:
                if lowered is None:
                    lowered = {key.lower(): found for key, found in by_name.items()}
                value = lowered.get(name.lower())
                value = _renamed(value, name) if value else _not_answered(name)
            values.append(value)
        return values

    def _alarm(self, item: dict[str, Any]) -> Alarm:
        return _message_alarm(
            item, self.settings.site, self.settings.ack_tags, self.server, self.local_times
        )


def message_alarm(
    raw: Mapping[str, Any], site: str, ack_tags: Mapping[str, Any], times: Zoned | None = None
) -> Alarm:
    """One message of a message list, its field names in any case, as an Alarm of `site`
    (acknowledgeable where `ack_tags` names its tag), times without an offset read by
    `times` (UTC without). The REST Connector's pushes carry the same fields
    (docs/protocols.md)."""
    return _message_alarm(_lower(dict(raw)), site, ack_tags, "a REST Connector", times)


def tag_item(raw: Mapping[str, Any], times: Zoned | None = None) -> TagValue:
    """One value item as the Classic value endpoints spell it, field names in any case."""
    item = _tag_fields(dict(raw))
    return _tag_value(wire_text(item.get("variableName")), item, times)


def _message_alarm(
    item: dict[str, Any],
    site: str,
    ack_tags: Mapping[str, Any],
    server: str,
    times: Zoned | None,
) -> Alarm:
    raw_state = item.get("state")
    state = classic_state(raw_state) or classic_state(item.get("statetext"))
    if state is None:
        logger.debug("unknown Classic alarm state %r from %s", raw_state, server)
        state = UNKNOWN_STATE
    name = wire_text(item.get("name")) or wire_text(item.get("msgnr"))
    ack_required = item.get("ackrequired")
    needs_ack = state.needs_acknowledgement and ack_required not in (False, "false", "0")
    user = wire_text(item.get("user")) or None
    return Alarm(
        site=site,
        name=name,
        instance_id=wire_int(item.get("instanceid")) or 0,
        state=state,
        priority=priority(item.get("priority")),
        alarm_class=wire_text(item.get("class") or item.get("classname")),
        event_text=wire_text(item.get("text1") or item.get("eventtext")),
        info_text=wire_text(item.get("infotext")),
        area=wire_text(item.get("text2") or item.get("area")),
        raise_time=wire_time(item.get("datetime") or item.get("raisetime"), times),
        ack_time=wire_time(item.get("acktime"), times),
        clear_time=wire_time(item.get("cleartime"), times),
        can_acknowledge=needs_ack and name in ack_tags,
        acknowledged_by=user,
        source_state=wire_text(raw_state),
        extra={"message_number": wire_int(item.get("msgnr"))},
    )


def _tag_value(name: str, item: dict[str, Any], times: Zoned | None) -> TagValue:
    value = item.get("value")
    code = wire_int(item.get("qualityCode"))
    stamp = wire_time(item.get("timestamp"), times)
    error = _item_error(item)
    if error is not None:
        return TagValue(name, value, Quality.BAD, code, stamp, error)
    quality: Quality | None
    if code is not None:
        quality = _OPC_QUALITY[code & 0xFF]
    else:
        word = item.get("quality")
        quality = _QUALITY_WORDS.get(word.lower()) if isinstance(word, str) else None
        if quality is None:
            quality = Quality.BAD if value is None else Quality.GOOD
    return TagValue(name, value, quality, code, stamp)


def _item_error(item: dict[str, Any]) -> str | None:
    """The item's failure: a non-empty `error`, or a non-zero `errorcode`."""
    error = item.get("error")
    if not error and "errorcode" not in item:
        return None
    if error:
        return error if isinstance(error, str) else wire_text(error) or str(error)
    code = wire_int(item.get("errorcode"))
    if code:
        text = wire_text(item.get("errortext") or item.get("errormessage"))
        return f"{text} (error code {code})" if text else f"error code {code}"
    return None


def _canonical_name(item: dict[str, Any]) -> Any:
    return item.get("variableName")


def _variable_name(raw: dict[str, Any]) -> Any:
    return _tag_fields(raw).get("variableName")


def _named_error(item: dict[str, Any]) -> tuple[str | None, str | None]:
    name = item.get("variableName")
    return (name if isinstance(name, str) else None), _item_error(item)


def _renamed(value: TagValue, name: str) -> TagValue:
    """The server's answer under the name as asked (Classic names ignore case)."""
    return TagValue(
        name, value.value, value.quality, value.quality_code, value.timestamp, value.error
    )


def _not_answered(name: str) -> TagValue:
    return TagValue(name, None, Quality.BAD, error=NOT_RETURNED)


def _archive_fields(raw: dict[str, Any]) -> dict[str, Any]:
    item: dict[str, Any] = {}
    for key, value in raw.items():
        field = _ARCHIVE_FIELDS.get(key.lower())
        if field is not None and item.get(field) is None:
            item[field] = value
    return item


def _listed_name(raw: Any, keys: tuple[str, ...]) -> str | None:
    """The name of an item of a configuration list: a plain string or an object's field."""
    if isinstance(raw, str):
        return raw
    if isinstance(raw, dict):
        lowered = _lower(raw)
        for key in keys:
            if isinstance(lowered.get(key), str) and lowered[key]:
                return str(lowered[key])
    return None


def _lower(item: dict[str, Any]) -> dict[str, Any]:
    return {key.lower(): value for key, value in item.items()}


def _tag_fields(raw: dict[str, Any]) -> dict[str, Any]:
    """A tag item under the canonical field names; items already so spelled pass as they are."""
    if raw.keys() <= _CANONICAL:
        return raw
    item: dict[str, Any] = {}
    for key, value in raw.items():
        field = _TAG_FIELDS.get(key.lower())
        if field is not None and item.get(field) is None:
            item[field] = value
    return item
