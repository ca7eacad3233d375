"""Panels: what the pages show, read from Redis and rendered to HTML fragments.

A page is a list of Fragments. A Fragment is hashable: it names one swappable part of a
page and, with its variant (the sites whose alarms get an acknowledge button), the exact
bytes every client watching it receives. The pages render fragments inline; the live hub
(dashboard.live) renders each one once per change and shares the bytes.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from datetime import datetime
from functools import cached_property, lru_cache
from typing import Any

from django.template.loader import render_to_string
from django.urls import NoReverseMatch, reverse
from django.utils.safestring import SafeString, mark_safe

from wincc_bridge.models import Alarm, AlarmState, PriorityBand, Quality, TagValue
from wincc_ingest import store
from wincc_ingest.config import Config, SiteConfig, TagConfig

# The main alarm list leaves out what ISA-18.2 keeps on separate lists.
OFF_MAIN_LIST = frozenset({AlarmState.SHELVED, AlarmState.SUPPRESSED, AlarmState.OUT_OF_SERVICE})
STATE_ORDER = {
    state: rank
    for rank, state in enumerate(
        [
            AlarmState.UNACKNOWLEDGED,
            AlarmState.RETURNED_UNACKNOWLEDGED,
            AlarmState.LATCHED_UNACKNOWLEDGED,
            AlarmState.ACKNOWLEDGED,
            AlarmState.LATCHED_ACKNOWLEDGED,
            AlarmState.NORMAL,
            AlarmState.SHELVED,
            AlarmState.SUPPRESSED,
            AlarmState.OUT_OF_SERVICE,
        ]
    )
}
BANDS = [PriorityBand.HIGHEST, PriorityBand.HIGH, PriorityBand.MEDIUM, PriorityBand.LOW]
TILE_TREND_MINUTES = 5
# In a flood the list shows the most important rows first and says how many it leaves out:
# every row is re-sent to every client on each change, so the list must stay bounded.
MAX_ALARM_ROWS = 100
# Enough samples for the longest trend at the fastest poll; the poller keeps 600.
TREND_SAMPLES = 600
LIMIT_WORDS = {"hh": "HIHI", "h": "HI", "l": "LO", "ll": "LOLO"}
# A tile has room for a few words; the page's status line gives the whole reason.
SHORT_REASONS = {
    "failing": "WinCC not answering",
    "stale": "no recent poll",
    "never": "not polled yet",
    "unknown": "data store lost",
}
REDIS_LOST = "the dashboard cannot read its data store (Redis)"


@dataclass(frozen=True)
class Freshness:
    stale: bool
    reason: str  # plain words, "" when current
    status: str  # current | stale | failing | never | unknown


@dataclass
class SiteState:
    """What the dashboard knows about one site, as last read from Redis."""

    config: SiteConfig
    values: dict[str, store.StoredValue] = field(default_factory=dict)
    alarms: dict[str, Alarm] = field(default_factory=dict)
    health: store.SiteHealth | None = None
    trends: dict[str, list[tuple[float, float]]] = field(default_factory=dict)

    def freshness(self, now: datetime, redis_ok: bool = True) -> Freshness:
        if not redis_ok:
            return Freshness(True, REDIS_LOST, "unknown")
        health = self.health
        if health is None:
            return Freshness(True, "never polled yet: no poller has reported on this site", "never")
        if health.is_failing:
            polls = "poll" if health.failures == 1 else "polls"
            error = health.last_error or "no reason given"
            return Freshness(True, f"{health.failures} failed {polls}: {error}", "failing")
        if not health.is_current(now):
            limit = store.CURRENT_INTERVALS * health.interval
            return Freshness(
                True,
                f"no successful poll for more than {limit:g} s; the poller may be stopped",
                "stale",
            )
        return Freshness(False, "", "current")


def parse_trend(entries: list[str]) -> list[tuple[float, float]]:
    """Numeric samples, oldest first; booleans count as 0/1, anything else is skipped."""
    samples = []
    for entry in reversed(entries):
        stamp, _, text = entry.partition(" ")
        lowered = text.strip().lower()
        try:
            value = {"true": 1.0, "false": 0.0}.get(lowered)
            samples.append((float(stamp), float(text) if value is None else value))
        except ValueError:
            continue
    return samples


def queue_site_reads(pipe, site: SiteConfig, trend_tags, *, values=True, alarms=True, health=True):
    """Queue the reads of one site on a (sync or async) pipeline; parse with apply_site_reads."""
    parts = []
    if values:
        pipe.hgetall(store.site_values(site.id))
        parts.append("values")
    if alarms:
        pipe.hgetall(store.site_alarms(site.id))
        parts.append("alarms")
    if health:
        pipe.hgetall(store.site_health(site.id))
        parts.append("health")
    for tag in trend_tags:
        pipe.lrange(store.site_trend(site.id, tag), 0, TREND_SAMPLES - 1)
        parts.append(("trend", tag))
    return parts


def apply_site_reads(state: SiteState, parts, results: list[Any], now: datetime) -> None:
    for part, result in zip(parts, results, strict=True):
        if part == "values":
            state.values = store.decode_values(state.config.id, result, now)
        elif part == "alarms":
            state.alarms = store.decode_alarms(state.config.id, result)
        elif part == "health":
            state.health = _health(state.config.id, result)
        else:
            state.trends[part[1]] = parse_trend(result)


def _health(site: str, mapping: dict[str, str]) -> store.SiteHealth | None:
    if not mapping:
        return None
    try:
        return store.decode_health(mapping)
    except store.StoredDataError as exc:
        # Unreadable health is reported as a failing site, never as a current one.
        return store.SiteHealth(site, 1.0, None, None, None, None, 1, str(exc), None, 0, 0)


def read_states(r, config: Config, sites: list[str], trend_tags: dict[str, set[str]], now):
    """Sync read of every site in one pipeline round trip (the pages' first render)."""
    pipe = r.pipeline(transaction=False)
    plan = []
    for site_id in sites:
        site = config.site(site_id)
        plan.append((SiteState(site), queue_site_reads(pipe, site, trend_tags.get(site_id, ()))))
    results = pipe.execute()
    states, offset = {}, 0
    for state, parts in plan:
        apply_site_reads(state, parts, results[offset : offset + len(parts)], now)
        offset += len(parts)
        states[state.config.id] = state
    return states


# --- Fragments ----------------------------------------------------------------------------


@dataclass(frozen=True)
class Fragment:
    """One swappable part of a page. `name` is its SSE event and its container's id."""

    kind: str  # tile | trend | alarms | counts | status | health | summary
    sites: tuple[str, ...]
    tags: tuple[str, ...] = ()
    minutes: int = 0
    filters: tuple[tuple[str, str], ...] = ()
    title: str = ""
    # The variant: sites whose unacknowledged alarms get a button. Not part of `name`.
    ack_sites: frozenset[str] = frozenset()

    @cached_property
    def name(self) -> str:
        text = repr((self.kind, self.sites, self.tags, self.minutes, self.filters, self.title))
        return f"{self.kind}-{hashlib.blake2s(text.encode(), digest_size=5).hexdigest()}"

    @property
    def watches_values(self) -> bool:
        return self.kind in {"tile", "trend"}

    @property
    def watches_alarms(self) -> bool:
        return self.kind in {"alarms", "counts", "summary"}

    @property
    def trend_tags(self) -> tuple[str, ...]:
        return self.tags if self.kind in {"tile", "trend"} else ()


@dataclass
class RenderContext:
    config: Config
    states: dict[str, SiteState]
    now: datetime
    redis_ok: bool = True


def render(fragment: Fragment, ctx: RenderContext) -> str:
    return _RENDERERS[fragment.kind](fragment, ctx)


def _fresh(ctx: RenderContext, site_id: str) -> Freshness:
    return ctx.states[site_id].freshness(ctx.now, ctx.redis_ok)


def format_value(value: Any, tag: TagConfig | None) -> str:
    if value is None:
        return "***"
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


def _limits_of(tag: TagConfig) -> list[float]:
    lim = tag.limits
    return [v for v in (lim.ll, lim.l, lim.h, lim.hh) if v is not None]


def _span(points: list[float], low: float | None = None, high: float | None = None):
    """(low, high) for a scale: the given ends, else the points with a quarter's margin."""
    if points and (low is None or high is None):
        margin = (max(points) - min(points)) / 4 or abs(max(points)) / 4 or 1.0
        low = min(points) - margin if low is None else low
        high = max(points) + margin if high is None else high
    low = 0.0 if low is None else low
    high = low + 1.0 if high is None or high <= low else high
    return low, high


def limit_band(value: Any, tag: TagConfig | None) -> str:
    """A horizontal band: alarm zones shaded, the value as a marker (inline SVG)."""
    if tag is None or not any(v is not None for v in vars(tag.limits).values()):
        return ""
    low, high = _span(_limits_of(tag), tag.range_min, tag.range_max)

    def x(v: float) -> float:
        return round(max(0.0, min(100.0, (v - low) / (high - low) * 100)), 2)

    lim = tag.limits
    zones = []
    for start, end, cls in (
        (low, lim.ll, "zone-ll"),
        (lim.ll, lim.l, "zone-l"),
        (lim.h, lim.hh, "zone-h"),
        (lim.hh, high, "zone-hh"),
    ):
        if start is None or end is None:
            continue
        width = x(end) - x(start)
        zones.append(f'<rect class="{cls}" x="{x(start)}" y="2" width="{width}" height="6"/>')
    marker = ""
    if isinstance(value, int | float) and not isinstance(value, bool):
        mx = x(value)
        marker = f'<polygon class="marker" points="{mx},9 {mx - 3},14 {mx + 3},14"/>'
    return (
        '<svg class="band" viewBox="-3 0 106 14" preserveAspectRatio="none" aria-hidden="true">'
        '<rect class="zone-normal" x="0" y="2" width="100" height="6"/>'
        f'{"".join(zones)}{marker}</svg>'
    )


def sparkline(samples, tag: TagConfig | None, now: datetime, minutes: int, css="spark") -> str:
    """An inline SVG polyline of the last `minutes`, with the tag's h/l limit lines."""
    start = now.timestamp() - minutes * 60
    recent = [(t, v) for t, v in samples if t >= start]
    if len(recent) < 2:
        return f'<svg class="{css} empty" viewBox="0 0 100 30" aria-hidden="true"></svg>'
    # Scaled to the limits and the data, not the whole display range: a small trend must
    # show movement.
    low, high = _span((_limits_of(tag) if tag else []) + [v for _, v in recent])
    span = minutes * 60

    def y(v: float) -> float:
        return round(28 - (v - low) / (high - low) * 26, 2)

    points = " ".join(f"{round((t - start) / span * 100, 2)},{y(v)}" for t, v in recent)
    lines = []
    if tag is not None:
        for name in ("ll", "l", "h", "hh"):
            limit = getattr(tag.limits, name)
            if limit is not None:
                ly = y(limit)
                lines.append(f'<line class="lim lim-{name}" x1="0" x2="100" y1="{ly}" y2="{ly}"/>')
    return (
        f'<svg class="{css}" viewBox="0 0 100 30" preserveAspectRatio="none" aria-hidden="true">'
        f'{"".join(lines)}<polyline points="{points}"/></svg>'
    )


def _tile_context(ctx: RenderContext, site_id: str, tag_name: str) -> dict[str, Any]:
    state = ctx.states[site_id]
    tag = state.config.tag(tag_name)
    stored = state.values.get(tag_name)
    fresh = _fresh(ctx, site_id)
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
        "since": store.iso(stored.read_at) if stored else "",
        "stale": fresh.stale or stored is None,
        "reason": reason,
        "short_reason": SHORT_REASONS.get(fresh.status, "no value read yet"),
        "limit": limit,
        "limit_word": LIMIT_WORDS.get(limit, ""),
        "band": _safe(limit_band(value.value, tag)),
        "spark": _safe(sparkline(state.trends.get(tag_name, []), tag, ctx.now, TILE_TREND_MINUTES)),
    }


def _safe(svg: str) -> SafeString:
    # Built above from numbers and fixed class names only, never from stored text.
    return mark_safe(svg)  # noqa: S308


def _render_tile(fragment: Fragment, ctx: RenderContext) -> str:
    return render_to_string(
        "partials/tile.html", _tile_context(ctx, fragment.sites[0], fragment.tags[0])
    )


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
                "svg": _safe(
                    sparkline(state.trends.get(tag_name, []), tag, ctx.now, fragment.minutes,
                              css="trend-svg")
                ),
            }
        )
    return render_to_string(
        "partials/trend.html",
        {"rows": rows, "fresh": _fresh(ctx, site_id), "minutes": fragment.minutes,
         "site_name": state.config.name},
    )


def alarm_sort_key(alarm: Alarm):
    raised = alarm.raise_time.timestamp() if alarm.raise_time else 0.0
    return (STATE_ORDER.get(alarm.state, 99), -alarm.priority, -raised, alarm.name)


def filter_alarms(alarms, filters: dict[str, str]) -> list[Alarm]:
    state = filters.get("state")
    priority = filters.get("priority")
    chosen = []
    for alarm in alarms:
        if state:
            if alarm.state.value != state:
                continue
        elif alarm.state in OFF_MAIN_LIST or alarm.state is AlarmState.NORMAL:
            continue
        if priority and alarm.priority_band.value != priority:
            continue
        chosen.append(alarm)
    return sorted(chosen, key=alarm_sort_key)


def _render_alarms(fragment: Fragment, ctx: RenderContext) -> str:
    filters = dict(fragment.filters)
    every = [a for s in fragment.sites for a in ctx.states[s].alarms.values()]
    chosen = filter_alarms(every, filters)
    ack_url = _ack_url()
    rows = [
        _row_html(
            store.encode_alarm(alarm),
            ctx.states[alarm.site].config.name,
            alarm.site in fragment.ack_sites and alarm.can_acknowledge,
            ack_url,
        )
        for alarm in chosen[:MAX_ALARM_ROWS]
    ]
    doubtful = [
        (ctx.states[s].config.name, _fresh(ctx, s).reason)
        for s in fragment.sites
        if _fresh(ctx, s).stale
    ]
    return render_to_string(
        "partials/alarm_list.html",
        {"rows": rows, "doubtful": doubtful, "filtered": bool(filters), "total": len(chosen),
         "hidden": len(chosen) - len(rows)},
    )


@lru_cache(maxsize=4096)
def _row_html(alarm_json: str, site_name: str, can_ack: bool, ack_url: str) -> SafeString:
    """One alarm row, rendered once per distinct alarm and variant: in a flood only the
    rows that changed cost a render."""
    context = {"alarm": store.decode_alarm(alarm_json), "site_name": site_name,
               "can_ack": can_ack, "ack_message": "", "ack_ok": None, "ack_url": ack_url}
    return _safe(render_to_string("partials/alarm_row.html", context))


def _ack_url() -> str:
    try:
        return reverse("alarm-ack")
    except NoReverseMatch:
        return ""


def alarm_counts(alarms) -> list[dict[str, Any]]:
    """Per priority band: alarms on the main list and how many await acknowledgement."""
    counts = {band: [0, 0] for band in [*BANDS, PriorityBand.NONE]}
    for alarm in filter_alarms(alarms, {}):
        entry = counts[alarm.priority_band]
        entry[0] += 1
        entry[1] += alarm.state.needs_acknowledgement
    return [
        {"band": band.value, "total": total, "unack": unack}
        for band, (total, unack) in counts.items()
        if band is not PriorityBand.NONE or total
    ]


def _render_counts(fragment: Fragment, ctx: RenderContext) -> str:
    every = [a for s in fragment.sites for a in ctx.states[s].alarms.values()]
    return render_to_string("partials/alarm_counts.html", {"counts": alarm_counts(every)})


def _site_rows(fragment: Fragment, ctx: RenderContext) -> list[dict[str, Any]]:
    rows = []
    for site_id in fragment.sites:
        state = ctx.states[site_id]
        rows.append(
            {"site": state.config, "health": state.health, "fresh": _fresh(ctx, site_id)}
        )
    return rows


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
            "fresh": _fresh(ctx, site_id),
            "counts": alarm_counts(state.alarms.values()),
        },
    )


_RENDERERS = {
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
        "confirmed": store.iso(health.last_success) if health else "",
        "latency_ms": health.latency_ms if health else None,
        "now": store.iso(now),
    }
