"""What a trend asks for: its pens and its window, read from the query string.

The trend page, its live stream and the data behind its chart read the same parameters
(docs/trends.md): `pen=SITE:TAG` (split on the first colon: WinCC tag names may contain
colons), at most MAX_PENS, only tags of sites the person may see; `start` and `end` as
ISO 8601 with a zone, "now", or "now-8h" (s, min, h, d).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from django.urls import NoReverseMatch, reverse
from django.utils.http import urlencode

from dashboard.params import BadParameter
from wincc_ingest.config import Config, SiteConfig, TagConfig

MAX_PENS = 8
_RELATIVE = re.compile(r"now(?:-(\d{1,6})(s|min|h|d))?")
_UNITS = {"s": "seconds", "min": "minutes", "h": "hours", "d": "days"}
DEFAULT_START, DEFAULT_END = "now-1h", "now"


@dataclass(frozen=True)
class Pen:
    site: SiteConfig
    tag: TagConfig

    @property
    def id(self) -> str:
        return f"{self.site.id}:{self.tag.name}"


def offered_pens(config: Config, visible: tuple[str, ...]) -> list[Pen]:
    """Every pen the person may draw: the configured tags of the sites they see."""
    return [Pen(config.known_site(s), tag) for s in visible for tag in config.known_site(s).tags]


def pens(config: Config, visible: tuple[str, ...], values: list[str]) -> list[Pen]:
    """The pens named, in order, without repeats. A pen of a site the person may not see is
    refused in the same words as one that does not exist: its existence is not told."""
    chosen: list[Pen] = []
    for value in values:
        site_id, _, tag_name = value.strip().partition(":")
        site = config.site(site_id) if site_id in visible else None
        tag = site.tag(tag_name) if site is not None else None
        if site is None or tag is None:
            shown = value if len(value) <= 60 else value[:60] + "…"
            raise BadParameter(f"There is no pen {shown!r} you may see.")
        pen = Pen(site, tag)
        if pen not in chosen:
            chosen.append(pen)
    if len(chosen) > MAX_PENS:
        raise BadParameter(f"A trend shows at most {MAX_PENS} pens, not {len(chosen)}.")
    return chosen


def moment(text: str, now: datetime, name: str) -> datetime:
    """A point in time: "now", "now-8h" (s, min, h, d), or ISO 8601 with a zone."""
    value = text.strip()
    if match := _RELATIVE.fullmatch(value):
        amount, unit = match.groups()
        return now - timedelta(**{_UNITS[unit]: int(amount)}) if unit else now
    try:
        when = datetime.fromisoformat(value)
    except ValueError:
        raise BadParameter(
            f"The {name} time {value[:40]!r} is not a time: give a date and time with its "
            "zone (2026-12-01T22:00Z), now, or now-8h (s, min, h, d)."
        ) from None
    if when.tzinfo is None:
        raise BadParameter(
            f"The {name} time {value[:40]!r} has no time zone: add Z for UTC or an offset."
        )
    return when.astimezone(UTC)


def window(start: str, end: str, now: datetime) -> tuple[datetime, datetime]:
    """The window from its two ends; BadParameter when it is empty or inverted."""
    first, last = moment(start, now, "start"), moment(end, now, "end")
    if first >= last:
        raise BadParameter("The start of the range must come before its end.")
    return first, last


def page_url(pen_ids: list[str], start: str = DEFAULT_START, end: str = DEFAULT_END) -> str:
    """The trend page of these pens over this window; "" where the page is not installed."""
    try:
        page = reverse("trend")
    except NoReverseMatch:
        return ""
    return f"{page}?{urlencode([('pen', p) for p in pen_ids] + [('start', start), ('end', end)])}"
