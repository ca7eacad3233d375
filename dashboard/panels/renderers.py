"""One renderer per fragment kind: from the sites' state to the fragment's HTML."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from functools import lru_cache
from typing import Any

from django.template.loader import render_to_string
from django.urls import NoReverseMatch, reverse
from django.utils.http import urlencode
from django.utils.safestring import SafeString, mark_safe

from dashboard.panels.alarm_list import MAX_ALARM_ROWS, alarm_counts, filter_alarms
from dashboard.panels.drawing import limit_band, sparkline
from dashboard.panels.fragments import TILE_TREND_MINUTES, Fragment
from dashboard.panels.state import SHORT_REASONS, Freshness, SiteState
from wincc_bridge.models import Alarm, Quality, TagValue
from wincc_ingest import codec
from wincc_ingest.config import Config, TagConfig

LIMIT_WORDS = {"hh": "HIHI", "h": "HI", "l": "LO", "ll": "LOLO"}


@dataclass
class RenderContext:
    config: Config
    states: dict[str, SiteState]
    now: datetime
    redis_ok: bool = True

    def fresh(self, site_id: str) -> Freshness:
        return self.states[site_id].freshness(self.now, self.redis_ok)


def render(fragment: Fragment, ctx: RenderContext) -> str:
    return _RENDERERS[fragment.kind](fragment, ctx)


def format_value(value: Any, tag: TagConfig | None) -> str:
    if value is None:
        return "***"  # ISA-101's placeholder, never a blank
    if isinstance(value, bool):
        return "ON" if value else "OFF"
    if isinstance(value, int | float):
        decimals = tag.decimals if tag else 1
        return f"{value:.0f}" if isinstance(value, int) else f"{value:.{decimals}f}"
    return str(value)


def limit_state(value: Any, tag: TagConfig | None) -> str:
    """"hh", "h", "l", "ll" or "" for a numeric value against the tag's limits."""
    if tag is None or isinstance(value, bool) or not isinstance(value, int | float):
        return ""
    lim = tag.limits
    for name, breached in (
        ("hh", lim.hh is not None and value >= lim.hh),
        ("ll", lim.ll is not None and value <= lim.ll),
        ("h", lim.h is not None and value >= lim.h),
        ("l", lim.l is not None and value <= lim.l),
    ):
        if breached:
            return name
    return ""


def _held_until(
    ctx: RenderContext, site_id: str, stored: codec.StoredValue | None
) -> datetime | None:
    """Now, while the site is fresh and the value good: a trend line holds the value up to
    it. Otherwise None, and the line ends at its last change."""
    if stored is None or ctx.fresh(site_id).stale or stored.tag.quality is Quality.BAD:
        return None
    return ctx.now


def _tile_context(ctx: RenderContext, site_id: str, tag_name: str) -> dict[str, Any]:
    state = ctx.states[site_id]
    tag = state.config.tag(tag_name)
    stored = state.values.get(tag_name)
    fresh = ctx.fresh(site_id)
    value = stored.tag if stored else TagValue(tag_name, None, Quality.BAD, error="no value yet")
    limit = limit_state(value.value, tag)
    reason = fresh.reason
    if not reason and stored is None:
        reason = "no value read yet"
    return {
        "site_id": site_id,
        "site_name": state.config.name,
        "tag_name": tag_name,
        "label": tag.label if tag else tag_name,
        "unit": tag.unit if tag else "",
        "value": value,
        "text": format_value(value.value, tag),
        "since": codec.iso(stored.read_at) if stored else "",
        "stale": fresh.stale or stored is None,
        "reason": reason,
        "short_reason": SHORT_REASONS.get(fresh.status, "no value read yet"),
        "limit": limit,
        "limit_word": LIMIT_WORDS.get(limit, ""),
        "band": limit_band(value.value, tag),
        "spark": sparkline(state.trends.get(tag_name, []), tag, ctx.now, TILE_TREND_MINUTES,
                           held_until=_held_until(ctx, site_id, stored)),
    }


def _render_tile(fragment: Fragment, ctx: RenderContext) -> str:
    site_id, tag_name = fragment.sites[0], fragment.tags[0]
    context = _tile_context(ctx, site_id, tag_name)
    if fragment.write:
        context["write_url"] = _write_url(site_id, tag_name)
    return render_to_string("partials/tile.html", context)


def _write_url(site_id: str, tag_name: str) -> str:
    """The address of the tag's write dialog; "" where the URL is not installed."""
    try:
        return f"{reverse('tag-write')}?{urlencode({'site': site_id, 'tag': tag_name})}"
    except NoReverseMatch:
        return ""


def _render_trend(fragment: Fragment, ctx: RenderContext) -> str:
    site_id = fragment.sites[0]
    state = ctx.states[site_id]
    rows = []
    for tag_name in fragment.tags:
        tag = state.config.tag(tag_name)
        stored = state.values.get(tag_name)
        rows.append(
            {
                "label": tag.label if tag else tag_name,
                "unit": tag.unit if tag else "",
                "text": format_value(stored.tag.value if stored else None, tag),
                "svg": sparkline(state.trends.get(tag_name, []), tag, ctx.now, fragment.minutes,
                                 css="trend-svg",
                                 held_until=_held_until(ctx, site_id, stored)),
            }
        )
    return render_to_string(
        "partials/trend.html",
        {"rows": rows, "fresh": ctx.fresh(site_id), "minutes": fragment.minutes,
         "site_name": state.config.name},
    )


def _render_alarms(fragment: Fragment, ctx: RenderContext) -> str:
    filters = dict(fragment.filters)
    every = [a for s in fragment.sites for a in ctx.states[s].alarms.values()]
    chosen = filter_alarms(every, filters)
    ack_url = _ack_url()
    rows = [
        _row_html(
            alarm,
            ctx.states[alarm.site].config.name,
            alarm.site in fragment.ack_sites and alarm.can_acknowledge,
            ack_url,
        )
        for alarm in chosen[:MAX_ALARM_ROWS]
    ]
    doubtful = [
        (ctx.states[s].config.name, ctx.fresh(s).reason) for s in fragment.sites
        if ctx.fresh(s).stale
    ]
    return render_to_string(
        "partials/alarm_list.html",
        {"rows": rows, "doubtful": doubtful, "filtered": bool(filters), "total": len(chosen),
         "hidden": len(chosen) - len(rows)},
    )


@lru_cache(maxsize=4096)
def _row_html(alarm: Alarm, site_name: str, can_ack: bool, ack_url: str) -> SafeString:
    """One alarm row, rendered once per distinct alarm and variant: in a flood only the
    rows that changed cost a render."""
    context = {"alarm": alarm, "site_name": site_name, "can_ack": can_ack, "ack_message": "",
               "ack_ok": None, "ack_url": ack_url}
    return mark_safe(render_to_string("partials/alarm_row.html", context))  # noqa: S308


def _ack_url() -> str:
    try:
        return reverse("alarm-ack")
    except NoReverseMatch:
        return ""


def _render_counts(fragment: Fragment, ctx: RenderContext) -> str:
    every = [a for s in fragment.sites for a in ctx.states[s].alarms.values()]
    return render_to_string("partials/alarm_counts.html", {"counts": alarm_counts(every)})


def _site_rows(fragment: Fragment, ctx: RenderContext) -> list[dict[str, Any]]:
    return [
        {"site": ctx.states[s].config, "health": ctx.states[s].health, "fresh": ctx.fresh(s)}
        for s in fragment.sites
    ]


def _render_status(fragment: Fragment, ctx: RenderContext) -> str:
    rows = _site_rows(fragment, ctx)
    stale = sum(row["fresh"].stale for row in rows)
    return render_to_string("partials/page_status.html", {"sites": rows, "stale_count": stale})


def _render_health(fragment: Fragment, ctx: RenderContext) -> str:
    return render_to_string(
        "partials/site_health.html", {"sites": _site_rows(fragment, ctx), "title": fragment.title}
    )


def _render_summary(fragment: Fragment, ctx: RenderContext) -> str:
    site_id = fragment.sites[0]
    state = ctx.states[site_id]
    return render_to_string(
        "partials/site_summary.html",
        {
            "site": state.config,
            "fresh": ctx.fresh(site_id),
            "counts": alarm_counts(state.alarms.values()),
        },
    )


_RENDERERS: dict[str, Callable[[Fragment, RenderContext], str]] = {
    "tile": _render_tile,
    "trend": _render_trend,
    "alarms": _render_alarms,
    "counts": _render_counts,
    "status": _render_status,
    "health": _render_health,
    "summary": _render_summary,
}


def pulse(state: SiteState, now: datetime) -> dict[str, Any]:
    """The small per-poll signal the browser ticks ages from (no HTML to re-render)."""
    health = state.health
    return {
        "site": state.config.id,
        "confirmed": codec.iso(health.last_success) if health else "",
        "latency_ms": health.latency_ms if health else None,
        "now": codec.iso(now),
    }
