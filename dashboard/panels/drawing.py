"""Inline SVG for the tiles and trends: the limit band and the sparkline.

Built from numbers and fixed class names only, never from stored text, so the result is
safe to mark as such.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from django.utils.safestring import SafeString, mark_safe

from wincc_ingest.config import TagConfig

# A trend's time axis moves in steps of this many seconds, not with each render's moment: the
# page and the live hub, drawing the same samples a moment apart, then give the same bytes,
# and the stream's first frame leaves that fragment out (docs/live.md). A change newer than
# the step is drawn at the right edge, so the line still ends at the current value.
TIME_STEP_SECONDS = 5
# viewBox units (of a trend's 100) within which a step line's changes are drawn as one
# vertical stroke: about two pixels of a tile, 3 s of its 5 minutes.
COLUMN = 1.0


def _safe(svg: str) -> SafeString:
    return mark_safe(svg)  # noqa: S308  (numbers and fixed class names only)


def _limits_of(tag: TagConfig) -> list[float]:
    lim = tag.limits
    return [v for v in (lim.ll, lim.l, lim.h, lim.hh) if v is not None]


def _span(
    points: Sequence[float], low: float | None = None, high: float | None = None
) -> tuple[float, float]:
    """(low, high) for a scale: the given ends, else the points with a quarter's margin."""
    if points and (low is None or high is None):
        margin = (max(points) - min(points)) / 4 or abs(max(points)) / 4 or 1.0
        low = min(points) - margin if low is None else low
        high = max(points) + margin if high is None else high
    low = 0.0 if low is None else low
    high = low + 1.0 if high is None or high <= low else high
    return low, high


def limit_band(value: Any, tag: TagConfig | None) -> SafeString:
    """A horizontal band: alarm zones shaded, the value as a marker."""
    if tag is None or not any(v is not None for v in vars(tag.limits).values()):
        return _safe("")
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
    return _safe(
        '<svg class="band" viewBox="-3 0 106 14" preserveAspectRatio="none" aria-hidden="true">'
        '<rect class="zone-normal" x="0" y="2" width="100" height="6"/>'
        f'{"".join(zones)}{marker}</svg>'
    )


def sparkline(
    samples: Sequence[tuple[float, float]],
    tag: TagConfig | None,
    now: datetime,
    minutes: int,
    css: str = "spark",
    held_until: datetime | None = None,
) -> SafeString:
    """A step line of the last `minutes`, with the tag's limit lines.

    Samples are stored when a value changes, so a value holds until the next sample: the
    line starts at the window's edge with the value that held there, and steps at each
    change. `held_until` (the time the current value was last confirmed good, normally
    now) extends the last value to it; without it the line ends at the last change, so a
    stale value is not drawn as if still read. The window ends at `now` rounded down to
    TIME_STEP_SECONDS, and so does the extension: never past the confirmation.
    """
    end = _step_down(now.timestamp())
    start = end - minutes * 60
    before = [v for t, v in samples if t < start]
    recent = [(t, v) for t, v in samples if t >= start]
    if before and (not recent or recent[0][0] > start):
        recent.insert(0, (start, before[-1]))
    if recent and held_until is not None:
        held = min(_step_down(held_until.timestamp()), end)
        if held > recent[-1][0]:
            recent.append((held, recent[-1][1]))
    if len(recent) < 2:
        return _safe(f'<svg class="{css} empty" viewBox="0 0 100 30" aria-hidden="true"></svg>')
    # Scaled to the limits and the data, not the whole display range: a small trend must
    # show movement.
    low, high = _span((_limits_of(tag) if tag else []) + [v for _, v in recent])
    span = minutes * 60

    def x(t: float) -> float:
        # A change within the last step sits at the right edge.
        return (min(t, end) - start) / span * 100

    def y(v: float) -> float:
        return 28 - (v - low) / (high - low) * 26

    line = _step_path([(x(t), y(v)) for t, v in recent])
    lines = []
    if tag is not None:
        for name in ("ll", "l", "h", "hh"):
            limit = getattr(tag.limits, name)
            if limit is not None:
                ly = round(y(limit), 2)
                lines.append(f'<line class="lim lim-{name}" x1="0" x2="100" y1="{ly}" y2="{ly}"/>')
    return _safe(
        f'<svg class="{css}" viewBox="0 0 100 30" preserveAspectRatio="none" aria-hidden="true">'
        f'{"".join(lines)}<path d="{line}"/></svg>'
    )


def _step_path(points: Sequence[tuple[float, float]]) -> str:
    """The step line through `points` ((x, y) in the viewBox, x ascending; each point a
    change, the last maybe the value held on) as an SVG path: along to each change, then up
    or down to it. Changes within one COLUMN are drawn at its first change, as the lowest,
    the highest and the last value: the same ink as drawn apart, placed within two pixels
    of a tile, for a fraction of the bytes (a tile is resent on each change of its value)."""
    (x0, y0), rest = points[0], points[1:]
    path = [f"M{_num(x0)} {_num(y0)}"]
    at_x, at_y = _num(x0), _num(y0)

    def along(x: float) -> None:
        nonlocal at_x
        if path[-1].startswith("H"):  # still level: one run
            path.pop()
        at_x = _num(x)
        path.append(f"H{at_x}")

    i = 0
    while i < len(rest):
        column = rest[i][0] // COLUMN
        j = i
        while j < len(rest) and rest[j][0] // COLUMN == column:
            j += 1
        ys = [p[1] for p in rest[i:j]]
        along(rest[i][0])
        for target in (min(ys), max(ys), ys[-1]) if len(ys) > 1 else ys:
            if _num(target) != at_y:
                at_y = _num(target)
                path.append(f"V{at_y}")
        i = j
    if _num(rest[-1][0]) != at_x:  # the line ends where its last point is
        along(rest[-1][0])
    return "".join(path)


def _num(v: float) -> str:
    """A coordinate to half a viewBox unit: half a pixel of a tile's line (100 units some
    200 pixels wide, 30 units 28 pixels high), under a pixel of a trend panel's."""
    text = f"{round(v * 2) / 2:.1f}".removesuffix(".0")
    return "0" if text == "-0" else text


def _step_down(timestamp: float) -> float:
    return timestamp - timestamp % TIME_STEP_SECONDS
