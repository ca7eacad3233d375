"""Timestamps as WinCC writes them: ISO-8601 in UTC with milliseconds and `Z`, or, as many
Classic servers do, the plant's local time without an offset."""

from __future__ import annotations

from datetime import UTC, datetime, tzinfo
from functools import lru_cache
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError


# Thousands of tags share the timestamp of one plant tick: format it once.
@lru_cache(maxsize=1024)
def iso_ms(ts: datetime | None) -> str | None:
    if ts is None:
        return None
    # isoformat cuts to milliseconds as WinCC does, and is several times faster than strftime
    # (an archive answer formats tens of thousands of distinct times).
    return ts.astimezone(UTC).isoformat(timespec="milliseconds")[:-6] + "Z"


def parse_ts(text: str) -> datetime:
    """Parse an ISO-8601 timestamp; a time without zone is taken as UTC. Raises ValueError."""
    ts = datetime.fromisoformat(text.strip().replace("Z", "+00:00"))
    if ts.tzinfo is None:
        ts = ts.replace(tzinfo=UTC)
    return ts.astimezone(UTC)


@lru_cache(maxsize=1024)
def local_ms(ts: datetime | None, zone: tzinfo) -> str | None:
    """The local time in `zone` with milliseconds and no offset: which of a repeated hour's
    two readings it is, the text does not say (as on a real server)."""
    if ts is None:
        return None
    return ts.astimezone(zone).replace(tzinfo=None).isoformat(timespec="milliseconds")


def zone(name: str) -> ZoneInfo:
    """The IANA zone `name`; ValueError with a plain sentence when there is none."""
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise ValueError(f"{name!r} is not an IANA time zone name, e.g. Europe/Berlin") from None
