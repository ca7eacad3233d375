"""Timestamps as WinCC writes them: ISO-8601 in UTC with milliseconds and `Z`."""

from __future__ import annotations

from datetime import UTC, datetime
from functools import lru_cache


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
