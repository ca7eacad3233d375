"""Where a pen's values come from: the site's WinCC archive, else the dashboard's store.

A site whose server offers an archive (capabilities().history) is asked through the bridge
with the read-only API user and a short timeout; when it has none, errs or does not answer
in time, the store answers (dashboard.models.TagMinute, 1-minute min/max/avg/last) and the
pen's note says why. Each source returns raw points in time order; the caller downsamples.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta

import redis
from django.conf import settings

from dashboard.history import minutes as store_minutes
from dashboard.history.downsample import Points
from dashboard.models import TagMinute
from wincc_bridge.client import WinCCError, open_client
from wincc_bridge.models import HistoryPoint, Quality, TagHistory
from wincc_ingest import minutes, store
from wincc_ingest.config import SiteConfig

log = logging.getLogger(__name__)

ARCHIVE = "archive"
STORE = "store"
NONE = "none"
LABELS = {
    ARCHIVE: "WinCC archive",
    STORE: "dashboard store, 1-minute min/max/avg",
    NONE: "no history",
}
QUALITY = {Quality.GOOD: "g", Quality.UNCERTAIN: "u", Quality.BAD: "b"}


@dataclass
class Series:
    """A pen's raw points from one source, and a sentence on what is missing, if anything."""

    points: Points
    source: str
    note: str = ""

    def to_json(self) -> dict:
        return {"points": self.points.to_json(), "source": self.source, "note": self.note}

    @classmethod
    def from_json(cls, data: dict) -> Series:
        return cls(Points.from_json(data["points"]), data["source"], data["note"])


class ArchiveUnavailable(Exception):
    """The archive could not answer; the message is a sentence for the pen's note."""


def has_archive(site: SiteConfig) -> bool:
    return site.capabilities().history


def _number(value: object) -> float | None:
    if isinstance(value, bool):
        return float(value)
    if isinstance(value, int | float) and math.isfinite(value):
        return float(value)
    return None


def archive_points(history: Sequence[HistoryPoint]) -> Points:
    """An archive's points as a pen's: a bad value (or one that is not a number) is a gap."""
    points = Points()
    for point in history:
        value = None if point.quality is Quality.BAD else _number(point.value)
        points.add(point.timestamp.timestamp(), value,
                   QUALITY[point.quality] if value is not None else "b")
    return points


def _archive_client(site: SiteConfig):
    connection = site.connection()
    timeout = min(connection.timeout, settings.TREND_ARCHIVE_TIMEOUT_SECONDS)
    return open_client(replace(connection, timeout=timeout))


def archive_histories(site: SiteConfig, names: Sequence[str], start: float, end: float,
                      max_points: int) -> list[TagHistory]:
    """The archive's answer for `names`, or ArchiveUnavailable with the reason."""
    try:
        client = _archive_client(site)
        try:
            return client.history(list(names), _at(start), _at(end), max_points)
        finally:
            client.close()
    except WinCCError as exc:
        raise ArchiveUnavailable(
            f"The WinCC archive of {site.name} did not answer ({exc}); showing the "
            "dashboard's own store instead."
        ) from exc


def from_archive(site: SiteConfig, names: Sequence[str], start: float, end: float,
                 max_points: int) -> dict[str, Series]:
    """Each tag's archived points, or (for a tag the archive refuses) the archive's reason
    with no points. Raises ArchiveUnavailable."""
    found = {}
    for history in archive_histories(site, names, start, end, max_points):
        note = ""
        if history.error:
            note = f"The WinCC archive has no values for it: {history.error}"
        elif history.truncated:
            note = (f"The WinCC archive sent at most {max_points} values for this window; "
                    "later values are missing. Choose a shorter range.")
        found[history.name] = Series(archive_points(history.points), ARCHIVE, note)
    for name in names:
        found.setdefault(name, Series(Points(), ARCHIVE,
                                      "The WinCC archive sent no answer for this tag."))
    return found


def _at(epoch: float) -> datetime:
    return datetime.fromtimestamp(epoch, UTC)


def minute_points(points: Points, minute: float, minimum: float | None,
                  maximum: float | None, last: float | None, quality: str) -> None:
    """Add one stored minute to `points`: its lowest and highest value (the one nearer the
    last value second, as the line most likely went), then its last value at the minute's
    end. A minute with no value is a gap."""
    if minimum is None or maximum is None or last is None:
        points.add(minute, None, quality)
        return
    first, second = (minimum, maximum) if maximum - last <= last - minimum else (maximum,
                                                                                  minimum)
    points.add(minute, first, quality)
    if second != first:
        points.add(minute + 30, second, quality)
    points.add(minute + store.MINUTE_SECONDS - 1, last, quality)


STORE_CHUNK = 2000


def store_rows(site_id: str, name: str, start: float, end: float) -> Iterator[tuple]:
    """(minute epoch, min, max, last, quality, average, count) of one tag in the window,
    oldest first, read STORE_CHUNK rows at a time (keyset on the minute)."""
    after = _at(minutes.minute_of(start) - 1)
    while True:
        rows = list(TagMinute.objects
                    .filter(site_id=site_id, tag=name, minute__gt=after, minute__lte=_at(end))
                    .order_by("minute")
                    .values_list("minute", "minimum", "maximum", "last", "quality", "average",
                                 "count")[:STORE_CHUNK])
        for minute, *rest in rows:
            yield (minute.timestamp(), *rest)
        if len(rows) < STORE_CHUNK:
            return
        after = rows[-1][0]


# Values asked of the archive per call of an export; a longer window takes more calls.
EXPORT_CHUNK = 10_000


def archive_export(site: SiteConfig, name: str, start: float,
                   end: float) -> Iterator[tuple[float, float | None, str]]:
    """Every archived value of one tag in the window, (epoch, value or None, quality code),
    EXPORT_CHUNK at a time: each call starts after the last value the previous one sent.
    Raises ArchiveUnavailable when the first call fails; a later failure ends the export
    there (the rows sent are already on their way)."""
    cursor, sent_any = start, False
    while cursor <= end:
        try:
            (history,) = archive_histories(site, [name], cursor, end, EXPORT_CHUNK)
        except ArchiveUnavailable:
            if not sent_any:
                raise
            log.warning("trend export of %s:%s ended early: the archive failed", site.id, name)
            return
        points = archive_points([p for p in history.points if not p.bounding])
        last = None
        for t, v, q in zip(points.t, points.v, points.q, strict=True):
            if start <= t <= end and (not sent_any or t > cursor):
                sent_any = True
                last = t
                yield t, v, q
        if not history.truncated or last is None:
            return
        cursor = last


def from_store(site_id: str, names: Sequence[str], start: float, end: float,
               r: redis.Redis | None, now: float) -> dict[str, Series]:
    """Each tag's stored minutes in the window, gaps where minutes are missing, and the
    minutes still in Redis at the live edge."""
    retention = retention_days()
    oldest = now - retention * 86400
    open_rows: dict[str, list] = {}
    if r is not None and end >= now - 2 * store.MINUTE_SECONDS - store_minutes.GRACE_SECONDS:
        try:
            open_rows = store_minutes.open_minutes(r, site_id, names, max(start, now - 600))
        except redis.RedisError:
            log.warning("the open minutes of %s could not be read", site_id, exc_info=True)
    found = {}
    for name in names:
        points = Points()
        previous = None
        rows = list(store_rows(site_id, name, start, end))
        held = {row[0] for row in rows}
        rows += [(float(minute), v.minimum, v.maximum, v.last, v.quality, v.average, v.count)
                 for minute, v in open_rows.get(name, [])
                 if minute not in held and minute <= end]
        rows.sort(key=lambda row: row[0])
        for minute, low, high, last, quality, _average, _count in rows:
            if previous is not None and minute - previous > store.MINUTE_SECONDS:
                points.add(previous + store.MINUTE_SECONDS, None, "b")  # no minute stored
            minute_points(points, minute, low, high, last, quality)
            previous = minute
        note = ""
        if start < oldest:
            note = (f"The dashboard's store keeps {retention:g} days; values before "
                    f"{_at(oldest):%Y-%m-%d %H:%M} UTC are gone.")
        elif not rows:
            note = "The dashboard's store holds no values of this tag in this range."
        found[name] = Series(points, STORE, note)
    return found


def retention_days() -> float:
    return settings.TREND_STORE_RETENTION_DAYS


def beyond_retention(end: float, now: float) -> bool:
    """Whether a window ends before the store's oldest kept minute."""
    return end < now - timedelta(days=retention_days()).total_seconds()
