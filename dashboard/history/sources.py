"""Where a pen's values come from: the site's WinCC archive, else the dashboard's store.

A site whose server offers an archive (capabilities().history) is asked through the bridge
with the read-only API user and a short timeout; when it has none, errs or does not answer
in time, the store answers (dashboard.models.TagMinute, 1-minute min/max/avg/last) and the
pen's note says why. Each source returns raw points in time order; the caller downsamples.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from typing import cast

import redis
from django.conf import settings
from django.db.models import Case, Count, F, Func, IntegerField, Max, Min, Value, When
from django.utils.translation import gettext, gettext_lazy

from dashboard import moments
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
    ARCHIVE: gettext_lazy("WinCC archive"),
    STORE: gettext_lazy("dashboard store, 1-minute min/max/avg"),
    NONE: gettext_lazy("no history"),
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
    """The archive could not answer; the message is a sentence for the pen's note, `reason`
    the archive's own words (kept for a while, and worded again in each request's language:
    unavailable())."""

    def __init__(self, site_name: str, reason: str) -> None:
        super().__init__(unavailable(site_name, reason))
        self.reason = reason


def unavailable(site_name: str, reason: str) -> str:
    return gettext("The WinCC archive of %(site)s did not answer (%(reason)s); showing the "
                   "dashboard's own store instead.") % {"site": site_name, "reason": reason}


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
    # Its own time, not the poll's: a week from an archive takes longer than a poll.
    timeout = settings.TREND_ARCHIVE_TIMEOUT_SECONDS
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
        raise ArchiveUnavailable(site.name, str(exc)) from exc


def from_archive(site: SiteConfig, names: Sequence[str], start: float, end: float,
                 max_points: int) -> dict[str, Series]:
    """Each tag's archived points, or (for a tag the archive refuses) the archive's reason
    with no points. Raises ArchiveUnavailable."""
    found = {}
    for history in archive_histories(site, names, start, end, max_points):
        points = archive_points(history.points)
        found[history.name] = Series(points, ARCHIVE, _archive_note(history, points, start,
                                                                     end, max_points))
    for name in names:
        found.setdefault(name, Series(Points(), ARCHIVE,
                                      gettext("The WinCC archive sent no answer for this "
                                              "tag.")))
    return found


def _archive_note(history: TagHistory, points: Points, start: float, end: float,
                  max_points: int) -> str:
    if history.error:
        return gettext("The WinCC archive has no values of this tag here: %(problem)s") % {
            "problem": history.error}
    inside = [t for t in points.t if start <= t <= end]
    # Nearly as many values as asked: the window holds more, whether the archive says so
    # or not (Classic leaves a gap's seconds out, so its count falls short of the limit).
    if not history.truncated and len(inside) < 0.9 * max_points:
        return ""
    # An archive that stops at the count asked for ends early; one that thins the window
    # spreads the values over all of it.
    if inside and inside[-1] < end - (end - start) / 100:
        return gettext("The WinCC archive sent at most %(count)d values; values after %(time)s "
                       "UTC are missing. Choose a shorter range.") % {
            "count": max_points, "time": moments.shown(_at(inside[-1]))}
    return gettext("The WinCC archive thinned this window to %(count)d values; a short spike "
                   "between them may not show. Zoom in to see every value.") % {
        "count": max_points}


def _at(epoch: float) -> datetime:
    return datetime.fromtimestamp(epoch, UTC)


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


# An export asks the archive an hour at a time, for at most this many values: a tag logged
# every second fits, so the archive neither cuts nor thins the hour.
EXPORT_HOUR = 3600
EXPORT_CHUNK = 10_000


def archive_export(site: SiteConfig, name: str, start: float,
                   end: float) -> Iterator[tuple[float, float | None, str]]:
    """Every archived value of one tag in the window, (epoch, value or None, quality code),
    an hour per call; an hour that still comes back cut at EXPORT_CHUNK values is asked
    again from its last value. Raises ArchiveUnavailable when the first call fails; a later
    failure ends the export there (the rows sent are already on their way)."""
    sent_any, last = False, -math.inf
    hour = start
    while True:
        cursor, hour_end = hour, min(end, hour + EXPORT_HOUR)
        while True:
            try:
                (history,) = archive_histories(site, [name], cursor, hour_end, EXPORT_CHUNK)
            except ArchiveUnavailable:
                if not sent_any:
                    raise
                log.warning("trend export of %s:%s ended early: the archive failed",
                            site.id, name)
                return
            points = archive_points([p for p in history.points if not p.bounding])
            progressed = False
            for t, v, q in zip(points.t, points.v, points.q, strict=True):
                if cursor <= t <= hour_end and t > last:
                    sent_any, progressed, last = True, True, t
                    yield t, v, q
            if not history.truncated or not progressed:
                break
            cursor = last
        if hour_end >= end:
            return
        hour = hour_end


class Epoch(Func):
    """Seconds since 1970 of a datetime column, as an integer, in SQLite and PostgreSQL."""

    output_field = IntegerField()

    def as_sqlite(self, compiler, connection, **extra):
        return self.as_sql(compiler, connection,
                           template="CAST(strftime('%%%%s', %(expressions)s) AS INTEGER)",
                           **extra)

    def as_postgresql(self, compiler, connection, **extra):
        return self.as_sql(compiler, connection,
                           template="CAST(EXTRACT(EPOCH FROM %(expressions)s) AS BIGINT)",
                           **extra)


_RANK_OF = Case(When(quality="b", then=Value(2)), When(quality="u", then=Value(1)),
                default=Value(0), output_field=IntegerField())
_QUALITY_OF_RANK = ("g", "u", "b")

# A stored span: first and last minute (epoch), lowest, highest and last value (None: not
# known, for a span of several minutes), worst quality code, numeric values read.
Span = tuple[float, float, float | None, float | None, float | None, str, int]
_Bucket = tuple[int, int, float | None, float | None, int, int]


def store_spans(site_id: str, name: str, start: float, end: float,
                width: int | None) -> list[Span]:
    """One tag's stored minutes in the window, oldest first: a span per minute, or, when
    the window holds more minutes than `width` pixels, a span per pixel column, reduced in
    the database (min, max, worst quality), so a week is a thousand rows, not ten thousand."""
    first = minutes.minute_of(start)
    span = int(end) - first
    if width is None or span <= width * store.MINUTE_SECONDS:
        return [(minute, minute, low, high, last, quality, count)
                for minute, low, high, last, quality, _average, count
                in store_rows(site_id, name, start, end)]
    rows = (TagMinute.objects
            .filter(site_id=site_id, tag=name, minute__gte=_at(first), minute__lte=_at(end))
            .annotate(epoch=Epoch("minute"))
            .annotate(bucket=(F("epoch") - Value(first)) * Value(width) / Value(span))
            .values("bucket")
            .annotate(first=Min("epoch"), last=Max("epoch"), low=Min("minimum"),
                      high=Max("maximum"), worst=Max(_RANK_OF), count=Count("minimum"))
            .order_by("bucket")
            .values_list("first", "last", "low", "high", "worst", "count"))
    return [(float(a), float(b), low, high, None, _QUALITY_OF_RANK[worst], count)
            for a, b, low, high, worst, count in cast(Iterable[_Bucket], rows)]


def span_points(points: Points, spans: Sequence[Span]) -> None:
    """Add stored spans to `points`: each span's lowest and highest value (the one nearer
    the value before it first, as the line most likely went), a minute's last value at its
    end; a span with no value, or a missing minute between two spans, is a gap."""
    previous_end = None
    for first, last_minute, low, high, last, quality, _count in spans:
        if previous_end is not None and first - previous_end > store.MINUTE_SECONDS:
            points.add(previous_end + store.MINUTE_SECONDS, None, "b")  # no minute stored
        previous_end = last_minute
        if low is None or high is None:
            points.add(first, None, quality)
            continue
        before = last if last is not None else next(
            (v for v in reversed(points.v) if v is not None), low)
        pair = (low, high) if high - before <= before - low else (high, low)
        end = last_minute + store.MINUTE_SECONDS - 1
        points.add(first, pair[0], quality)
        if pair[1] != pair[0]:
            points.add((first + end) / 2 if last is not None else end, pair[1], quality)
        if last is not None:
            points.add(end, last, quality)


def from_store(site_id: str, names: Sequence[str], start: float, end: float,
               r: redis.Redis | None, now: float, width: int | None = None) -> dict[str, Series]:
    """Each tag's stored minutes in the window (per pixel column when `width` is smaller
    than the window's minutes), gaps where minutes are missing, and the minutes still in
    Redis at the live edge."""
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
        spans = store_spans(site_id, name, start, end, width)
        stored_until = spans[-1][1] if spans else -math.inf
        spans += [(float(minute), float(minute), v.minimum, v.maximum, v.last, v.quality,
                   v.count)
                  for minute, v in open_rows.get(name, [])
                  if stored_until < minute <= end]
        points = Points()
        span_points(points, spans)
        note = ""
        if start < oldest:
            note = gettext("The dashboard's store keeps %(days)s days; values before %(time)s "
                           "UTC are gone.") % {"days": f"{retention:g}",
                                               "time": moments.shown(_at(oldest), False)}
        elif not spans:
            note = gettext("The dashboard's store holds no values of this tag in this range.")
        found[name] = Series(points, STORE, note)
    return found


def retention_days() -> float:
    return settings.TREND_STORE_RETENTION_DAYS


def beyond_retention(end: float, now: float) -> bool:
    """Whether a window ends before the store's oldest kept minute."""
    return end < now - timedelta(days=retention_days()).total_seconds()
