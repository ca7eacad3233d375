"""One renderer per fragment kind: from the sites' state to the fragment's HTML."""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from functools import lru_cache
from typing import Any

from django.conf import settings
from django.template.loader import render_to_string
from django.urls import NoReverseMatch, reverse
from django.utils import translation
from django.utils.http import urlencode
from django.utils.safestring import SafeString, mark_safe
from django.utils.translation import gettext as _
from django.utils.translation import pgettext

from dashboard import numbers, trend_query
from dashboard.alarm_notes import acknowledged_by, comment_required, rank
from dashboard.panels.alarm_list import (
    MAX_ALARM_ROWS,
    AlarmCounts,
    alarm_counts,
    banner_alarms,
    due_rows,
    filter_alarms,
    flooded_sites,
    group_by_class,
    holding_sites,
    strip_alarm,
)
from dashboard.panels.drawing import limit_band, sparkline
from dashboard.panels.fragments import TILE_TREND_MINUTES, Fragment
from dashboard.panels.state import Freshness, SiteState
from wincc_bridge.models import Alarm, AlarmState, Quality, TagValue
from wincc_ingest import codec
from wincc_ingest.config import Config, SiteConfig, TagConfig

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
    """The fragment's HTML in its own language (its variant), whoever asks: the live hub
    renders for every viewer, not in one request's language."""
    with translation.override(fragment.language or settings.LANGUAGE_CODE):
        return _RENDERERS[fragment.kind](fragment, ctx)


def format_value(value: Any, tag: TagConfig | None) -> str:
    """A value as the active language writes it: "72.5" in English, "72,5" in German (the
    tag's decimals, no thousand separators: a reading, not an amount)."""
    if value is None:
        return "***"  # ISA-101's placeholder, never a blank
    if isinstance(value, bool):
        return pgettext("binary value", "ON") if value else pgettext("binary value", "OFF")
    if isinstance(value, int | float):
        if not math.isfinite(value):
            return str(value)
        decimals = 0 if isinstance(value, int) else tag.decimals if tag else 1
        # Rounded here: Django's number_format cuts a float's digits off (2.96 would read 2,9).
        text = f"{value:.{decimals}f}"
        return numbers.in_language(text)
    return str(value)


def _number(value: Any) -> str:
    """A value as the number a chart draws (on/off as 1/0); "" when it is not one."""
    if isinstance(value, bool):
        return str(int(value))
    return repr(float(value)) if isinstance(value, int | float) else ""


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
    value = stored.tag if stored else TagValue(tag_name, None, Quality.BAD, error=_("no value yet"))
    limit = limit_state(value.value, tag)
    reason = fresh.reason
    if not reason and stored is None:
        reason = _("no value read yet")
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
        "short_reason": fresh.short or _("no value read yet"),
        "limit": limit,
        "limit_word": LIMIT_WORDS.get(limit, ""),
        # The chart's live edge (static/dashboard/trend.js) reads the raw number; the value
        # and its sparkline open the tag's trend.
        "raw": _number(value.value),
        "trend_url": trend_query.page_url([f"{site_id}:{tag_name}"]),
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
    notes = {(s, key): note for s in fragment.sites for key, note in ctx.states[s].notes.items()}
    here = _shelved_here(fragment.sites, ctx)
    chosen = filter_alarms(every, filters, here)
    ack_url = _ack_url()
    capabilities = {s: ctx.states[s].config.capabilities() for s in fragment.ack_sites}

    def row(alarm: Alarm) -> SafeString:
        return _row_html(
            alarm,
            ctx.states[alarm.site].config.name,
            alarm.site in capabilities
            and alarm.can_acknowledge
            and capabilities[alarm.site].can_acknowledge(alarm.name)
            # An alarm that needs a comment is acknowledged from its page, not the row.
            and not comment_required(alarm),
            ack_url,
            notes.get((alarm.site, alarm.key)),
            _writer(ctx.states[alarm.site].config),
            translation.get_language(),
        )

    rows = [row(alarm) for alarm in chosen[:MAX_ALARM_ROWS]]
    groups = None
    if filters.get("group") == "class":
        groups = [(name, [row(a) for a in members])
                  for name, members in group_by_class(chosen[:MAX_ALARM_ROWS])]
    # Beside the main list, the shelved list: who shelved, why, since and until.
    shelved = [] if filters.get("state") else [
        row(alarm) for alarm in filter_alarms(
            every, {**filters, "state": AlarmState.SHELVED.value}, here)[:MAX_ALARM_ROWS]
    ]
    unlisted = _unlisted(fragment, ctx)
    doubtful = [
        (ctx.states[s].config.name, ctx.fresh(s).reason) for s in fragment.sites
        if ctx.fresh(s).stale and not any(s == site for site, _, _ in unlisted)
    ]
    return render_to_string(
        "partials/alarm_list.html",
        {"rows": rows, "doubtful": doubtful, "unlisted": unlisted, "filtered": bool(filters),
         "total": len(chosen), "hidden": len(chosen) - len(rows),
         "none_listed": len(unlisted) == len(fragment.sites), "shelved": shelved,
         "ack_all": _ack_all(fragment, ctx, every, here), "groups": groups,
         "floods": _floods(ctx, every), "grouped_url": _grouped_url(fragment)},
    )


def _unlisted(fragment: Fragment, ctx: RenderContext) -> list[tuple[str, str, str]]:
    """(site id, site name, why) of the fragment's sites that have no alarm list."""
    notes = [(s, ctx.states[s].config.name, ctx.states[s].alarm_list_note())
             for s in fragment.sites]
    return [note for note in notes if note[2]]


def _floods(ctx: RenderContext, every: list[Alarm]) -> list[tuple[str, int]]:
    """(site name, alarms raised in the window) of each site in flood."""
    return [(ctx.states[site].config.name, count)
            for site, count in flooded_sites(every, ctx.now).items()]


def _grouped_url(fragment: Fragment) -> str:
    """The alarm list grouped by alarm class, with this list's site and filters."""
    query = dict(fragment.filters)
    if len(fragment.sites) == 1:
        query["site"] = fragment.sites[0]
    query["group"] = "class"
    try:
        return f"{reverse('alarms')}?{urlencode(sorted(query.items()))}"
    except NoReverseMatch:
        return ""


def _ack_all(fragment: Fragment, ctx: RenderContext, every: list[Alarm],
             here: set[tuple[str, str]]) -> dict[str, Any] | None:
    """"Acknowledge all shown": on a list of one site the viewer acknowledges on."""
    if len(fragment.sites) != 1 or fragment.sites[0] not in fragment.ack_sites:
        return None
    filters = dict(fragment.filters)
    site = ctx.states[fragment.sites[0]].config
    count = len(due_rows(every, filters, here, site.capabilities().can_acknowledge))
    if not count:
        return None
    try:
        url = reverse("alarm-ack-all")
    except NoReverseMatch:
        return None
    return {"url": url, "site": site.id, "site_name": site.name, "count": count,
            "priority": filters.get("priority", ""), "state": filters.get("state", "")}


@lru_cache(maxsize=4096)
def _row_html(alarm: Alarm, site_name: str, can_ack: bool, ack_url: str,
              note: codec.AlarmNote | None = None, writer: str = "",
              language: str = "") -> SafeString:
    """One alarm row, rendered once per distinct alarm and variant: in a flood only the
    rows that changed cost a render. `writer`: the site's read-write API user's name;
    `language`: the one it is rendered in (the caller's active one), part of the variant."""
    context = {"alarm": alarm, "site_name": site_name, "can_ack": can_ack, "ack_message": "",
               "ack_ok": None, "ack_url": ack_url, "note": note,
               "acknowledged": acknowledged_by(note.acknowledged_by if note else "",
                                               alarm.acknowledged_by or "", writer)}
    return mark_safe(render_to_string("partials/alarm_row.html", context))  # noqa: S308


def _writer(site: SiteConfig) -> str:
    return site.write_user.username if site.write_user else ""


def _ack_url() -> str:
    try:
        return reverse("alarm-ack")
    except NoReverseMatch:
        return ""


def _shelved_here(sites: tuple[str, ...], ctx: RenderContext) -> set[tuple[str, str]]:
    """(site, alarm key) of the occurrences the dashboard shelved on its own side."""
    return {(s, key) for s in sites for key, note in ctx.states[s].notes.items()
            if note.shelf is not None}


def _counts(sites: tuple[str, ...], ctx: RenderContext) -> AlarmCounts:
    """The alarm counts of `sites` (alarm_list.alarm_counts: the one rule every place shows)."""
    every = [a for s in sites for a in ctx.states[s].alarms.values()]
    return alarm_counts(every, _shelved_here(sites, ctx))


def _shelved_url(sites: tuple[str, ...]) -> str:
    """The Shelved list of `sites` (one site: that site's)."""
    query = {"state": AlarmState.SHELVED.value}
    if len(sites) == 1:
        query["site"] = sites[0]
    try:
        return f"{reverse('alarms')}?{urlencode(sorted(query.items()))}"
    except NoReverseMatch:
        return ""


def _render_banner(fragment: Fragment, ctx: RenderContext) -> str:
    every = [a for s in fragment.sites for a in ctx.states[s].alarms.values()]
    top, newest = banner_alarms(every, _shelved_here(fragment.sites, ctx))
    return render_to_string("partials/alarm_banner.html", {
        "floods": _floods(ctx, every),
        "top": top, "others": _counts(fragment.sites, ctx).unack - 1 if top else 0,
        "newest": codec.iso(newest),
        "rank": rank(top.priority) if top else 0,
        "site_name": ctx.states[top.site].config.name if top else "",
    })


def _render_counts(fragment: Fragment, ctx: RenderContext) -> str:
    unlisted = _unlisted(fragment, ctx)
    return render_to_string(
        "partials/alarm_counts.html",
        # The page header has room for a few words; the sentence is its title.
        {"counts": _counts(fragment.sites, ctx), "unlisted": unlisted, "compact": True,
         "none_listed": len(unlisted) == len(fragment.sites),
         "shelved_url": _shelved_url(fragment.sites)},
    )


def _render_strip(fragment: Fragment, ctx: RenderContext) -> str:
    every = [a for s in fragment.sites for a in ctx.states[s].alarms.values()]
    here = _shelved_here(fragment.sites, ctx)
    alarm = strip_alarm(every, here)
    return render_to_string("partials/wall_alarm.html", {
        "alarm": alarm,
        "site_name": ctx.states[alarm.site].config.name if alarm else "",
        "holding": " ".join(holding_sites(every, here)),
        "counts": alarm_counts(every, here),
    })


def _site_rows(fragment: Fragment, ctx: RenderContext) -> list[dict[str, Any]]:
    return [
        {"site": ctx.states[s].config, "health": ctx.states[s].health, "fresh": ctx.fresh(s),
         "no_alarm_list": ctx.states[s].alarm_list_note(), "counts": _counts((s,), ctx),
         "shelved_url": _shelved_url((s,))}
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
            "counts": _counts((site_id,), ctx),
            "shelved_url": _shelved_url((site_id,)),
            "unlisted": _unlisted(fragment, ctx),
            "none_listed": bool(state.alarm_list_note()),
        },
    )


def _render_occurrence(fragment: Fragment, ctx: RenderContext) -> str:
    site_id, key = fragment.sites[0], fragment.tags[0]
    state = ctx.states[site_id]
    alarm = state.alarms.get(key)
    name, _, instance = key.rpartition("|")
    return render_to_string("partials/occurrence_live.html", {
        "row": _row_html(alarm, state.config.name, False, "", state.notes.get(key),
                         _writer(state.config), translation.get_language()) if alarm else "",
        "name": name, "instance": instance, "fresh": ctx.fresh(site_id),
    })


_RENDERERS: dict[str, Callable[[Fragment, RenderContext], str]] = {
    "tile": _render_tile,
    "trend": _render_trend,
    "alarms": _render_alarms,
    "counts": _render_counts,
    "banner": _render_banner,
    "status": _render_status,
    "health": _render_health,
    "summary": _render_summary,
    "strip": _render_strip,
    "occurrence": _render_occurrence,
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
