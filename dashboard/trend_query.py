"""Links to trends and the pens a trend page's stream carries (docs/trend.md).

The pens and window a person asks for are checked by the trend's one form
(dashboard.views.trend_data.TrendForm); this is what the tiles and the live layout need
without a request at hand.
"""

from __future__ import annotations

from django.urls import NoReverseMatch, reverse
from django.utils.http import urlencode

from dashboard.history.trend import MAX_PENS, Pen
from wincc_ingest.config import Config

DEFAULT_START, DEFAULT_END = "now-1h", "now"


def page_url(pen_ids: list[str], start: str = DEFAULT_START, end: str = DEFAULT_END) -> str:
    """The trend page of these pens over this window; "" where the page is not installed."""
    try:
        page = reverse("trend")
    except NoReverseMatch:
        return ""
    return f"{page}?{urlencode([('pen', p) for p in pen_ids] + [('start', start), ('end', end)])}"


def offered_pens(config: Config, visible: tuple[str, ...]) -> list[Pen]:
    """Every pen the person may draw: the configured tags of the sites they see."""
    return [Pen(config.known_site(s), tag) for s in visible for tag in config.known_site(s).tags]


def live_pens(config: Config, visible: tuple[str, ...], pen_ids: list[str]) -> list[Pen]:
    """The pens among `pen_ids` whose tiles a trend page's stream may carry: a pen of a site
    not in `visible`, or not configured, carries nothing (the page itself refused it)."""
    offered = {pen.id: pen for pen in offered_pens(config, visible)}
    return [offered[p] for p in dict.fromkeys(pen_ids) if p in offered][:MAX_PENS]
