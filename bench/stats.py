"""Small statistics: percentiles of samples and of millisecond histograms."""

from __future__ import annotations

import json
import math
import os
import statistics
from collections.abc import Sequence


def percentile(values: Sequence[float], q: float) -> float | None:
    """The q-th percentile (0-100), linear between the closest ranks; None when empty."""
    if not values:
        return None
    data = sorted(values)
    if len(data) == 1:
        return data[0]
    pos = (len(data) - 1) * q / 100.0
    low = math.floor(pos)
    high = min(low + 1, len(data) - 1)
    return data[low] + (data[high] - data[low]) * (pos - low)


def summary(values: Sequence[float]) -> dict:
    """n, median, p95, p99, max, min, mean of a list of samples."""
    if not values:
        return {
            "n": 0,
            "median": None,
            "p95": None,
            "p99": None,
            "max": None,
            "min": None,
            "mean": None,
        }
    return {
        "n": len(values),
        "median": statistics.median(values),
        "p95": percentile(values, 95),
        "p99": percentile(values, 99),
        "max": max(values),
        "min": min(values),
        "mean": statistics.fmean(values),
    }


class MsHistogram:
    """Counts of latencies in 1 ms buckets up to `limit_ms`; later ones go into the last."""

    def __init__(self, limit_ms: int = 30_000, counts: list[int] | None = None) -> None:
        self.limit = limit_ms
        self.counts = counts if counts is not None else [0] * (limit_ms + 1)
        self.max_ms = 0.0

    def add(self, seconds: float) -> None:
        ms = seconds * 1000.0
        if ms > self.max_ms:
            self.max_ms = ms
        index = int(ms) if ms > 0 else 0
        self.counts[min(index, self.limit)] += 1

    def merge(self, other: MsHistogram) -> None:
        for i, c in enumerate(other.counts):
            if c:
                self.counts[i] += c
        self.max_ms = max(self.max_ms, other.max_ms)

    @property
    def n(self) -> int:
        return sum(self.counts)

    def quantile(self, q: float) -> float | None:
        """Seconds at the q-th percentile (upper edge of its bucket)."""
        total = self.n
        if not total:
            return None
        rank = max(1, math.ceil(total * q / 100.0))
        seen = 0
        for i, c in enumerate(self.counts):
            seen += c
            if seen >= rank:
                return (i + 1) / 1000.0
        return self.limit / 1000.0

    def summary(self) -> dict:
        if not self.n:
            return {"n": 0, "median": None, "p95": None, "p99": None, "max": None}
        return {
            "n": self.n,
            "median": self.quantile(50),
            "p95": self.quantile(95),
            "p99": self.quantile(99),
            "max": self.max_ms / 1000.0,
        }

    def to_json(self) -> dict:
        # Sparse: most buckets are empty.
        return {
            "limit": self.limit,
            "max_ms": self.max_ms,
            "buckets": {str(i): c for i, c in enumerate(self.counts) if c},
        }

    @classmethod
    def from_json(cls, data: dict) -> MsHistogram:
        hist = cls(int(data["limit"]))
        for i, c in data["buckets"].items():
            hist.counts[int(i)] = c
        hist.max_ms = float(data["max_ms"])
        return hist


def write_json(path: str, data: object) -> None:
    """Write `data` as JSON to `path` so that a reader never sees half a file."""
    tmp = path + ".tmp"
    with open(tmp, "w", encoding="utf-8") as fh:
        json.dump(data, fh)
    os.replace(tmp, path)
