"""Reading the loosely typed values real WinCC servers send, shared by the dialects.

Servers differ in what they put in a field (numbers as strings, texts as per-language
lists, missing or epoch timestamps), so each helper accepts the variants and returns
one type, or None / '' when the field carries nothing usable.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from datetime import UTC, datetime, tzinfo
from functools import lru_cache
from typing import Any, Protocol

from wincc_bridge.localtime import Repeated, in_zone
from wincc_bridge.models import HistoryPoint, ItemResult, TagHistory

_EPOCH = datetime(1970, 1, 2, tzinfo=UTC)
# .NET's JSON date, `/Date(1714557600000)/` or `/Date(1714557600000+0200)/`: milliseconds
# since the epoch in UTC; the offset only says where the writer was, so it is ignored.
_DOTNET_DATE = re.compile(r"^\s*/Date\((-?\d+)(?:[+-]\d{4})?\)/\s*$")
# What a tag asked for and left out of the answer reports.
NOT_RETURNED = "the server did not return this tag"


def batches(names: Sequence[str], size: int) -> Iterable[list[str]]:
    """`names` in lists of at most `size` (the site's batch_size), in order."""
    size = max(size, 1)
    for start in range(0, len(names), size):
        yield list(names[start : start + size])


class Zoned(Protocol):
    """How a client reads times without an offset (wincc_bridge.localtime)."""

    zone: tzinfo

    def settle(self, text: str, repeated: Repeated) -> datetime: ...


@lru_cache(maxsize=8192)
def _parse_time(text: str, zone: tzinfo) -> datetime | Repeated | None:
    dotnet = _DOTNET_DATE.match(text)
    if dotnet:
        return _from_epoch(int(dotnet.group(1)) / 1000)
    try:
        stamp = datetime.fromisoformat(text.strip())
    except ValueError:
        return None
    if stamp.tzinfo is not None:
        stamp = stamp.astimezone(UTC)
    else:
        # WinCC does not say which zone an unmarked time is in: the site's (UTC by default).
        local = in_zone(stamp, zone)
        if isinstance(local, Repeated):
            return local
        stamp = local
    return None if stamp < _EPOCH else stamp


def wire_time(raw: Any, times: Zoned | None = None) -> datetime | None:
    """A timezone-aware UTC time from an ISO-8601 string, a .NET `/Date(ms)/` string or an
    epoch number; None if absent. A string without an offset is local time in `times`'s
    zone, UTC without `times`.

    Unchanged tags keep their timestamp between polls, so a cache spares most parsing.
    Unified reports an unset time as the epoch, which also counts as absent.
    """
    if type(raw) is str:
        stamp = _parse_time(raw, UTC if times is None else times.zone)
        if isinstance(stamp, Repeated):
            return times.settle(raw, stamp) if times else stamp.earlier  # UTC repeats none
        return stamp
    if type(raw) is not int and type(raw) is not float:
        return None
    return _from_epoch(raw / 1000 if abs(raw) > 1e11 else raw)


def _from_epoch(seconds: float) -> datetime | None:
    try:
        stamp = datetime.fromtimestamp(seconds, UTC)
    except (OverflowError, OSError, ValueError):
        return None
    return None if stamp < _EPOCH else stamp


def wire_int(raw: Any) -> int | None:
    """An integer from a JSON number or a decimal or 0x string; None otherwise."""
    if type(raw) is int:  # also rules out booleans, whose type is bool
        return raw
    if type(raw) is float:
        return int(raw) if raw.is_integer() else None
    if type(raw) is str:
        text = raw.strip()
        try:
            return int(text, 16) if text[:2].lower() == "0x" else int(text)
        except ValueError:
            return None
    return None


def wire_text(raw: Any) -> str:
    """A display text: a string, the first non-empty entry of a per-language list, or ''."""
    if isinstance(raw, str):
        return raw
    if isinstance(raw, list):
        for entry in raw:
            if isinstance(entry, str) and entry:
                return entry
        return ""
    if raw is None or isinstance(raw, dict):
        return ""
    return str(raw)


def priority(raw: Any) -> int:
    """A WinCC priority clamped to 0-16; 0 when absent."""
    value = wire_int(raw)
    if value is None:
        return 0
    return min(max(value, 0), 16)


def item_results(
    asked: Sequence[str],
    answered: Iterable[tuple[str | None, str | None]],
    *,
    answer_was_empty: bool,
) -> list[ItemResult]:
    """Per-item outcomes of a write, in the order asked.

    `answered` holds (name, error) pairs from the server; a pair without a name stands
    for the asked item at its position. An empty answer to a successful request confirms
    every item; otherwise an item the answer leaves out is reported as unconfirmed.
    """
    if answer_was_empty:
        return [ItemResult(name, True) for name in asked]
    errors: dict[str, str | None] = {}
    for position, (name, error) in enumerate(answered):
        if name is None and position < len(asked):
            name = asked[position]
        if name is not None and errors.get(name) is None:
            errors[name] = error
    lowered: Mapping[str, str | None] | None = None
    results = []
    for name in asked:
        if name in errors:
            error = errors[name]
        else:
            if lowered is None:
                lowered = {key.lower(): value for key, value in errors.items()}
            if name.lower() not in lowered:
                results.append(ItemResult(name, False, "the server did not confirm this item"))
                continue
            error = lowered[name.lower()]
        results.append(ItemResult(name, error is None, error))
    return results


def answered_tags(
    asked: Sequence[str], items: Sequence[Any], name_of: Callable[[dict[str, Any]], Any]
) -> Iterator[tuple[str, dict[str, Any]]]:
    """Each object of an answer to `asked`, in the answer's order, with the tag it answers:
    the name `name_of` finds in it, or, where it has none (anything but a string) and the
    answer holds one entry per tag asked, the tag asked at its position. Entries that are
    not objects are passed over but keep their place; so are nameless objects of an answer
    of another length, which cannot be placed."""
    positional = len(items) == len(asked)
    for position, item in enumerate(items):
        if type(item) is not dict:
            continue
        name = name_of(item)
        if not isinstance(name, str):
            if not positional:
                continue
            name = asked[position]
        yield name, item


def check_window(start: datetime, end: datetime, max_points: int) -> None:
    """A history window the caller got wrong: a ValueError with a plain sentence."""
    if start.tzinfo is None or end.tzinfo is None:
        raise ValueError("start and end need a time zone (aware datetimes)")
    if start > end:
        raise ValueError("the start of the window is after its end")
    if isinstance(max_points, bool) or not isinstance(max_points, int) or max_points < 1:
        raise ValueError("max_points must be a whole number of at least 1")


def wire_iso(ts: datetime) -> str:
    """A time as WinCC writes it: ISO-8601 in UTC with milliseconds and `Z`."""
    ts = ts.astimezone(UTC)
    return ts.strftime("%Y-%m-%dT%H:%M:%S.") + f"{ts.microsecond // 1000:03d}Z"


def tag_history(
    name: str, points: Iterable[HistoryPoint], returned: int, max_points: int
) -> TagHistory:
    """A tag's history, oldest first. `returned`: the values the server counted against
    the limit (inside the window, gaps included); as many as asked means there are more."""
    ordered = sorted(points, key=lambda point: point.timestamp)
    return TagHistory(name, ordered, truncated=returned >= max_points)
