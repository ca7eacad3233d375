"""A trend's answer: the pens a person may see, each pen's points in a window from its
source, downsampled to the chart's width, and the compare window (docs/trend.md)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import redis
from django.utils import translation
from django.utils.translation import gettext

from dashboard import permissions
from dashboard.history import cache, sources
from dashboard.history.downsample import Points, m4
from dashboard.history.sources import Series
from wincc_ingest.config import Config, SiteConfig, TagConfig

MAX_PENS = 8
# A window whose end is this close to now is live: the page extends it from its stream.
LIVE_SECONDS = 5
# Values asked of an archive per tag: what M4 keeps of a full window.
POINTS_PER_PIXEL = 4


@dataclass(frozen=True)
class Pen:
    site: SiteConfig
    tag: TagConfig

    @property
    def id(self) -> str:
        return f"{self.site.id}:{self.tag.name}"


def find_pen(config: Config, user, pen_id: str) -> Pen | None:
    """The pen "SITE:TAG" (split on the first colon: tag names may hold colons) when the
    configuration has it and `user` may see its site; None otherwise, whichever it is."""
    site_id, colon, name = pen_id.partition(":")
    site = config.site(site_id) if colon else None
    tag = site.tag(name) if site is not None else None
    if site is None or tag is None or not permissions.can_view(user, site.id):
        return None
    return Pen(site, tag)


def is_live(end: float, now: float) -> bool:
    return end >= now - LIVE_SECONDS


def site_series(site: SiteConfig, names: Sequence[str], start: float, end: float,
                width: int, now: float, r: redis.Redis | None) -> dict[str, Series]:
    """Each tag's downsampled series in the window, from the archive when the site has one
    and it answers, else from the store; cached briefly."""
    prefer = sources.ARCHIVE if sources.has_archive(site) else sources.STORE
    start, end = float(int(start)), float(int(end))

    def compute() -> dict[str, Series]:
        return {name: _downsampled(series, start, end, width)
                for name, series in _raw(site, names, start, end, width, now, r,
                                         prefer).items()}

    # The notes are sentences in the request's language: each language has its own entry.
    key = cache.key(site.id, names, start, end, width, prefer, translation.get_language())
    return cache.cached(r, key, is_live(end, now), compute)


def _raw(site: SiteConfig, names: Sequence[str], start: float, end: float, width: int,
         now: float, r: redis.Redis | None, prefer: str) -> dict[str, Series]:
    if prefer == sources.STORE:
        return sources.from_store(site.id, names, start, end, r, now, width)
    failure = None
    reason = cache.archive_down(r, site.id)
    if reason is not None:
        failure = sources.unavailable(site.name, reason)
    else:
        try:
            found = sources.from_archive(site, names, start, end, POINTS_PER_PIXEL * width)
        except sources.ArchiveUnavailable as exc:
            failure = str(exc)
            cache.note_archive_down(r, site.id, exc.reason)
    if failure is not None:
        stored = sources.from_store(site.id, names, start, end, r, now, width)
        return {name: _with_note(series, failure) for name, series in stored.items()}
    # A tag the archive has nothing of (not logged) may still be in the store.
    missing = [name for name, series in found.items() if not series.points]
    if missing:
        stored = sources.from_store(site.id, missing, start, end, r, now, width)
        for name in missing:
            if stored[name].points:
                reason = found[name].note.rstrip(".")
                found[name] = _with_note(
                    stored[name], gettext("%(reason)s; showing the dashboard's own store "
                                          "instead.") % {"reason": reason})
    return found


def _with_note(series: Series, first: str) -> Series:
    note = " ".join(part for part in (first, series.note) if part)
    return Series(series.points, series.source, note)


def _downsampled(series: Series, start: float, end: float, width: int) -> Series:
    points = m4(series.points, start, end, width)
    if not points:
        note = series.note or gettext("No values in this range.")
        return Series(Points(), sources.NONE, note)
    return Series(points, series.source, series.note)


def window(pens: Sequence[Pen], start: float, end: float, width: int, now: float,
           r: redis.Redis | None) -> dict[str, Series]:
    """Every pen's series, by pen id; one archive call per site."""
    by_site: dict[str, list[Pen]] = {}
    for pen in pens:
        by_site.setdefault(pen.site.id, []).append(pen)
    found: dict[str, Series] = {}
    for site_pens in by_site.values():
        site = site_pens[0].site
        names = [pen.tag.name for pen in site_pens]
        for name, series in site_series(site, names, start, end, width, now, r).items():
            found[f"{site.id}:{name}"] = series
    return found


# Digits kept beyond the tag's display decimals: more than a chart can show, far fewer than
# the 17 of a float average (the answer is half as large; the export keeps every digit).
EXTRA_DECIMALS = 3


def _compact(points: Points, tag: TagConfig) -> dict[str, list]:
    """A pen's points for JSON: times to the millisecond (whole seconds as integers), values
    to the tag's decimals plus EXTRA_DECIMALS."""
    digits = max(0, tag.decimals) + EXTRA_DECIMALS
    return {
        "t": [int(t) if t == int(t) else round(t, 3) for t in points.t],
        "v": [None if v is None else round(v, digits) for v in points.v],
        "q": points.q,
    }


def answer(pens: Sequence[Pen], start: float, end: float, width: int, now: float,
           compare_s: int | None, r: redis.Redis | None) -> dict:
    """The JSON answer of /trend/data/ (docs/trend.md)."""
    shown = window(pens, start, end, width, now, r)
    earlier = (window(pens, start - compare_s, end - compare_s, width, now, r)
               if compare_s else {})
    result = []
    for pen in pens:
        series = shown[pen.id]
        tag = pen.tag
        compare = None
        if compare_s:
            compare = {"offset_s": compare_s,
                       "points": _compact(earlier[pen.id].points.shifted(compare_s), tag)}
        result.append({
            "id": pen.id,
            "site": pen.site.id,
            "site_name": pen.site.name,
            "tag": tag.name,
            "label": tag.label,
            "unit": tag.unit,
            "decimals": tag.decimals,
            "limits": {"ll": tag.limits.ll, "l": tag.limits.l, "h": tag.limits.h,
                       "hh": tag.limits.hh},
            "range": ([tag.range_min, tag.range_max]
                      if tag.range_min is not None and tag.range_max is not None else None),
            "source": series.source,
            "source_label": str(sources.LABELS[series.source]),
            "note": series.note,
            "points": _compact(series.points, tag),
            "compare": compare,
        })
    return {"start": start, "end": end, "now": now, "live": is_live(end, now),
            "pens": result}
