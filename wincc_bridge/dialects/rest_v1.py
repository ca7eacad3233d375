"""The seed's REST API under `/api/v1` with a static Bearer token (docs/protocols.md).

Tag names travel in the query string, so a batch is also bounded by the length of its
URL. An acknowledgement with instance id 0 means every active instance of the alarm, as
in WinCC Unified; the client looks those instances up first.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Iterator, Mapping, Sequence
from datetime import datetime
from functools import lru_cache, partial
from typing import Any
from urllib.parse import quote

from wincc_bridge.alarm_states import UNKNOWN_STATE, rest_v1_state
from wincc_bridge.client import ConnectionSettings, WinCCClient
from wincc_bridge.dialects._wire import (
    NOT_RETURNED,
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
from wincc_bridge.models import (
    Alarm,
    BrowseItem,
    Capabilities,
    HistoryPoint,
    ItemResult,
    Quality,
    TagHistory,
    TagValue,
)
from wincc_bridge.transport import Transport

logger = logging.getLogger("wincc_bridge")

BASE_PATH = "/api/v1"
# Most servers accept 8 KB request lines; keep the names of one batch well below that.
MAX_QUERY_CHARS = 6000
PING_TAG = "WinCC_Bridge_Ping"
# The most tags one history request may name (docs/protocols.md).
MAX_HISTORY_TAGS = 100
_QUALITY = {"good": Quality.GOOD, "uncertain": Quality.UNCERTAIN, "bad": Quality.BAD}


# The same tag names go out every poll; encode each once.
_quoted = lru_cache(maxsize=65536)(partial(quote, safe=""))


class RestV1Client(WinCCClient):
    dialect = "rest-v1"

    def __init__(self, settings: ConnectionSettings) -> None:
        super().__init__(settings)
        headers = {}
        if settings.token:
            headers["Authorization"] = f"Bearer {settings.token}"
            who, check = "the token", "the token variable"
        else:
            who, check = "a request without a token", "the token variable: it is empty or unset"
        self._http = Transport(settings, base_path=BASE_PATH, who=who, check=check, headers=headers)
        self.server = self._http.server

    @classmethod
    def capabilities_for(cls, settings: ConnectionSettings) -> Capabilities:
        return Capabilities(acknowledge=True, history=True)

    def ping(self) -> None:
        # Reading one tag proves the token; whether the tag exists does not matter.
        self._http.request("GET", "/tags", params={"names": PING_TAG}, read=True)

    def read_tags(self, names: Sequence[str]) -> list[TagValue]:
        values: list[TagValue] = []
        for batch in self._batches(names):
            # Commas stay literal (they may in a query): shorter URLs, fewer batches.
            query = ",".join(map(_quoted, batch))
            body = self._http.request("GET", f"/tags?names={query}", read=True)
            values.extend(self._values(batch, self._list(body, "tags")))
        return values

    def write_tags(self, values: Mapping[str, Any]) -> list[ItemResult]:
        names = list(values)
        results: list[ItemResult] = []
        for batch in batches(names, self.settings.batch_size):
            body = self._http.request(
                "PUT", "/tags", json_body={"tags": [{"name": n, "value": values[n]} for n in batch]}
            )
            items = self._list(body, "results")
            results.extend(
                item_results(batch, (_outcome(item) for item in items), answer_was_empty=not items)
            )
        return results

    def browse(self, pattern: str = "*") -> list[BrowseItem]:
        body = self._http.request(
            "GET",
            "/browse",
            params={"pattern": pattern},
            read=True,
            missing=f"{self.server} has no tag browser (/api/v1/browse)",
        )
        return [
            BrowseItem(
                name=item["name"],
                display_name=wire_text(item.get("display_name")),
                object_type=wire_text(item.get("object_type")),
                data_type=wire_text(item.get("data_type")),
            )
            for item in self._list(body, "items")
            if isinstance(item.get("name"), str)
        ]

    def active_alarms(self) -> list[Alarm]:
        body = self._http.request(
            "GET",
            "/alarms/active",
            read=True,
            missing=f"{self.server} publishes no alarm list (/api/v1/alarms/active)",
        )
        return [self._alarm(item) for item in self._list(body, "alarms")]

    def acknowledge(self, alarms: Iterable[tuple[str, int]]) -> list[ItemResult]:
        wanted = self._instances(list(alarms))
        sent = [{"name": n, "instance_id": i} for n, i in wanted if i is not None]
        answered: dict[tuple[str, int], str | None] = {}
        confirmed_all = True
        if sent:
            body = self._http.request(
                "POST",
                "/alarms/acknowledge",
                json_body={"alarms": sent},
                missing=f"{self.server} has no acknowledge endpoint (/api/v1/alarms/acknowledge)",
            )
            items = self._list(body, "results")
            # An empty answer to an accepted request confirms every item.
            confirmed_all = not items
            for item in items:
                key = (wire_text(item.get("name")), wire_int(item.get("instance_id")) or 0)
                answered[key] = _outcome(item)[1]
        results = []
        for name, instance_id in wanted:
            if instance_id is None:
                results.append(ItemResult(name, False, f"alarm {name} is not active", 0))
            elif (name, instance_id) in answered:
                error = answered[(name, instance_id)]
                results.append(ItemResult(name, error is None, error, instance_id))
            elif confirmed_all:
                results.append(ItemResult(name, True, None, instance_id))
            else:
                error = "the server did not confirm this item"
                results.append(ItemResult(name, False, error, instance_id))
        return results

    def history(
        self, names: Sequence[str], start: datetime, end: datetime, max_points: int = 1000
    ) -> list[TagHistory]:
        check_window(start, end, max_points)
        window = f"&start={_quoted(wire_iso(start))}&end={_quoted(wire_iso(end))}&max={max_points}"
        found: dict[str, TagHistory] = {}
        for batch in self._batches(names, MAX_HISTORY_TAGS):
            tags = ",".join(map(_quoted, batch))
            body = self._http.request(
                "GET",
                f"/history?tags={tags}{window}",
                read=True,
                missing=f"{self.server} keeps no history (/api/v1/history)",
            )
            for name, item in answered_tags(batch, self._list(body, "history"), _name):
                found.setdefault(name, self._history(name, item, max_points))
        return [found.get(n) or TagHistory(n, error=NOT_RETURNED) for n in names]

    def _history(self, name: str, item: dict[str, Any], max_points: int) -> TagHistory:
        error = wire_text(item.get("error"))
        if error:
            return TagHistory(name, error=error)
        points: list[HistoryPoint] = []
        returned = 0
        for raw in self._list(item.get("points"), "points"):
            bounding = raw.get("bounding") is True
            returned += not bounding
            stamp = wire_time(raw.get("t"))
            if stamp is None:
                continue
            value = _tag_value(name, {"value": raw.get("v"), "quality": raw.get("q")})
            points.append(HistoryPoint(stamp, value.value, value.quality, bounding))
        history = tag_history(name, points, returned, max_points)
        truncated = item.get("truncated")
        if isinstance(truncated, bool):
            # The server says itself whether the window holds more than it sent.
            return TagHistory(name, history.points, truncated=truncated)
        return history

    def close(self) -> None:
        self._http.close()

    def _instances(self, alarms: list[tuple[str, int]]) -> list[tuple[str, int | None]]:
        """Instance 0 replaced by the alarm's active instances, or None when none is active."""
        if all(instance_id for _, instance_id in alarms):
            return list(alarms)
        active: dict[str, list[int]] = {}
        for alarm in self.active_alarms():
            active.setdefault(alarm.name, []).append(alarm.instance_id)
        expanded: list[tuple[str, int | None]] = []
        for name, instance_id in alarms:
            if instance_id:
                expanded.append((name, instance_id))
            else:
                expanded.extend((name, i) for i in active.get(name, [None]))
        return expanded

    def _batches(self, names: Sequence[str], most: int | None = None) -> Iterator[list[str]]:
        size = max(min(self.settings.batch_size, most or self.settings.batch_size), 1)
        batch: list[str] = []
        chars = 0
        for name in names:
            length = len(_quoted(name)) + 1
            if batch and (len(batch) >= size or chars + length > MAX_QUERY_CHARS):
                yield batch
                batch, chars = [], 0
            batch.append(name)
            chars += length
        if batch:
            yield batch

    def _list(self, body: Any, key: str) -> list[dict[str, Any]]:
        """The objects under `key` (a bare array is accepted too); null counts as empty."""
        if body is None:
            return []
        items = body.get(key) if isinstance(body, dict) else body
        if items is None and isinstance(body, dict) and key in body:
            return []
        if not isinstance(items, list) or not all(isinstance(i, dict) for i in items):
            raise self._http.protocol_error(f"something other than a list of {key}", body)
        return items

    def _values(self, batch: list[str], items: list[dict[str, Any]]) -> list[TagValue]:
        found: dict[str, TagValue] = {}
        for name, item in answered_tags(batch, items, _name):
            found[name] = _tag_value(name, item)
        return [found.get(n) or TagValue(n, None, Quality.BAD, error=NOT_RETURNED) for n in batch]

    def _alarm(self, item: dict[str, Any]) -> Alarm:
        raw_state = item.get("state")
        state = rest_v1_state(raw_state)
        if state is None:
            logger.debug("unknown REST v1 alarm state %r from %s", raw_state, self.server)
            state = UNKNOWN_STATE
        acknowledgeable = item.get("acknowledgeable")
        can_acknowledge = (
            acknowledgeable if isinstance(acknowledgeable, bool) else state.needs_acknowledgement
        )
        return Alarm(
            site=self.settings.site,
            name=wire_text(item.get("name")),
            instance_id=wire_int(item.get("instance_id")) or 0,
            state=state,
            priority=priority(item.get("priority")),
            alarm_class=wire_text(item.get("alarm_class")),
            event_text=wire_text(item.get("event_text")),
            info_text=wire_text(item.get("info_text")),
            area=wire_text(item.get("area")),
            raise_time=wire_time(item.get("raise_time")),
            ack_time=wire_time(item.get("ack_time")),
            clear_time=wire_time(item.get("clear_time")),
            can_acknowledge=can_acknowledge,
            acknowledged_by=wire_text(item.get("acknowledged_by")) or None,
            source_state=wire_text(raw_state),
        )


def _tag_value(name: str, item: dict[str, Any]) -> TagValue:
    value = item.get("value")
    stamp = wire_time(item.get("timestamp"))
    code = item.get("quality_code")
    if code is not None:
        code = wire_int(code)
    error = item.get("error")
    if error:
        return TagValue(name, value, Quality.BAD, code, stamp, wire_text(error) or str(error))
    word = item.get("quality")
    quality = _QUALITY.get(word) if type(word) is str else None
    if quality is None:
        quality = _QUALITY.get(word.lower()) if type(word) is str else None
    if quality is None:
        # An unknown quality word is not trusted; a missing one with a value is.
        quality = Quality.BAD if value is None or word is not None else Quality.GOOD
    return TagValue(name, value, quality, code, stamp)


def _name(item: dict[str, Any]) -> Any:
    return item.get("name")


def _outcome(item: dict[str, Any]) -> tuple[str | None, str | None]:
    """(name, error) of one result; `ok: false` without a reason still counts as failed."""
    name = item.get("name")
    error = wire_text(item.get("error")) or None
    if error is None and item.get("ok") is False:
        error = "the server reported a failure without a reason"
    return (name if isinstance(name, str) else None), error
