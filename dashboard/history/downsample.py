"""M4 downsampling: at most four points per pixel column, so spikes survive any range.

For each of `width` equal time buckets the first, the lowest, the highest and the last
value are kept, in time order (Jugel et al., "M4: A Visualization-Oriented Time Series Data
Aggregation", VLDB 2014): a line drawn through them covers the same pixels as a line through
every point. A gap (a None value) is kept too: a bucket holding one keeps its lowest and
highest values and the gap, in time order, so the chart breaks the line there. The nearest
point on each side outside the window is kept as well, so the line reaches the window's edges.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field


@dataclass
class Points:
    """A pen's points in time order: epoch seconds, the value (None: a gap), quality code."""

    t: list[float] = field(default_factory=list)
    v: list[float | None] = field(default_factory=list)
    q: list[str] = field(default_factory=list)

    def add(self, t: float, v: float | None, q: str) -> None:
        self.t.append(t)
        self.v.append(v)
        self.q.append(q)

    def __len__(self) -> int:
        return len(self.t)

    def to_json(self) -> dict[str, list]:
        return {"t": self.t, "v": self.v, "q": self.q}

    @classmethod
    def from_json(cls, data: dict[str, list]) -> Points:
        return cls(list(data["t"]), list(data["v"]), list(data["q"]))

    def shifted(self, seconds: float) -> Points:
        return Points([t + seconds for t in self.t], list(self.v), list(self.q))


def m4(points: Points, start: float, end: float, width: int) -> Points:
    """`points` (time order) within [start, end], at most 4 per bucket of `width`."""
    out = Points()
    if end <= start or width < 1:
        return out
    scale = width / (end - start)
    t, v = points.t, points.v
    i, n = 0, len(t)
    while i < n and t[i] < start:
        i += 1
    if i > 0:
        out.add(t[i - 1], v[i - 1], points.q[i - 1])
    while i < n and t[i] <= end:
        bucket = min(width - 1, int((t[i] - start) * scale))
        j = i
        while j < n and t[j] <= end and min(width - 1, int((t[j] - start) * scale)) == bucket:
            j += 1
        _bucket(points, i, j, out)
        i = j
    if i < n:
        out.add(t[i], v[i], points.q[i])
    return out


def _bucket(points: Points, i: int, j: int, out: Points) -> None:
    """Append the points kept of points[i:j] (one bucket) to `out`."""
    v = points.v
    if j - i <= 4:
        keep: Sequence[int] = range(i, j)
    else:
        numbers = [k for k in range(i, j) if v[k] is not None]
        gap = next((k for k in range(i, j) if v[k] is None), None)
        if not numbers:
            keep = [i]
        else:
            low = min(numbers, key=lambda k: v[k])  # type: ignore[arg-type,return-value]
            high = max(numbers, key=lambda k: v[k])  # type: ignore[arg-type,return-value]
            ends = [gap] if gap is not None else [numbers[0], numbers[-1]]
            keep = sorted({low, high, *ends})
    for k in keep:
        # One gap is enough: a second in a row draws nothing more.
        if v[k] is None and out.v and out.v[-1] is None:
            continue
        out.add(points.t[k], v[k], points.q[k])
