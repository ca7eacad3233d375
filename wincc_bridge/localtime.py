"""Times a server sends without a zone, read in the site's zone (docs/configuration.md).

Classic WinCC servers often send the plant's local time with no offset. Most local times
name one instant; two kinds do not, and both are settled so that the readings of a server
keep their order (the journal is sorted by them):

- an hour repeated by the autumn change (02:30 happens twice in Europe/Berlin): the later
  of the two instants if it has already happened by the client's clock (give or take
  SKEW), the earlier one otherwise. A reading keeps the instant it was first read as, so an
  alarm raised before the change does not move an hour when it is read again after it.
- an hour skipped by the spring change (02:30 never happens in Europe/Berlin): no clock
  showed it, so the server's clock was off; it is read as the moment of the change, which
  lies between the readings before and after it.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from datetime import UTC, datetime, timedelta, tzinfo
from functools import lru_cache
from typing import NamedTuple
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

# How far the server's clock may run ahead of the client's for a reading of the repeated
# hour's second pass to be read as such when it is first seen.
SKEW = timedelta(minutes=5)
# Readings of a repeated hour remembered (their first reading decides); far more than the
# changing tags and alarms of one hour.
REMEMBERED = 65536


class Repeated(NamedTuple):
    """The two instants of a local time the autumn change repeats."""

    earlier: datetime
    later: datetime


def zone_named(name: str) -> ZoneInfo:
    """The IANA time zone `name` ("Europe/Berlin"); ValueError with a plain sentence if
    there is no such zone."""
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise ValueError(
            f"{name!r} is not an IANA time zone name; use one such as Europe/Berlin or UTC"
        ) from None


def in_zone(naive: datetime, zone: tzinfo) -> datetime | Repeated:
    """The UTC instant of the local time `naive` in `zone`, or both instants where the
    autumn change repeats it."""
    if zone is UTC:
        return naive.replace(tzinfo=UTC)
    first = naive.replace(tzinfo=zone, fold=0)
    second = naive.replace(tzinfo=zone, fold=1)
    early, late = first.astimezone(UTC), second.astimezone(UTC)
    if early == late:
        return early
    if early < late:
        return Repeated(early, late)
    # Skipped: fold=1 reads it with the offset after the change, which puts it before the
    # change; the change lies between the two readings.
    return _change_between(late, early, zone)


def _change_between(before: datetime, after: datetime, zone: tzinfo) -> datetime:
    """The instant in [before, after] where `zone`'s offset changes, to the microsecond."""
    offset = before.astimezone(zone).utcoffset()
    while after - before > timedelta(microseconds=1):
        middle = before + (after - before) / 2
        if middle.astimezone(zone).utcoffset() == offset:
            before = middle
        else:
            after = middle
    return after


class LocalTimes:
    """How one client reads a server's times without a zone: in `zone`, the repeated hour
    settled by `clock` (the client's, UTC) and remembered per reading."""

    def __init__(self, zone: tzinfo = UTC, clock: Callable[[], datetime] | None = None) -> None:
        self.zone = zone
        self.clock = clock or (lambda: datetime.now(UTC))
        self._seen: dict[str, datetime] = {}
        self._lock = threading.Lock()

    def settle(self, text: str, repeated: Repeated) -> datetime:
        """The instant the reading `text` of a repeated hour stands for."""
        with self._lock:
            known = self._seen.get(text)
            if known is not None:
                return known
            late = repeated.later <= self.clock() + SKEW
            instant = repeated.later if late else repeated.earlier
            if len(self._seen) >= REMEMBERED:
                del self._seen[next(iter(self._seen))]
            self._seen[text] = instant
            return instant


@lru_cache(maxsize=1024)
def site_times(site: str, zone: tzinfo) -> LocalTimes:
    """The one LocalTimes of a site in this process: its clients (a poller's, opened again
    after an error) and the posts of its REST Connector share the readings they settled."""
    return LocalTimes(zone)


class InOrder:
    """Readings the server lists oldest first (an archive's values): a reading of the
    repeated hour is its earlier instant until the list steps back in local time, the later
    one from then on."""

    def __init__(self, zone: tzinfo) -> None:
        self.zone = zone
        self._last: datetime | None = None

    def settle(self, text: str, repeated: Repeated) -> datetime:
        if self._last is None or repeated.earlier >= self._last:
            instant = repeated.earlier
        else:
            instant = repeated.later
        self._last = instant
        return instant
