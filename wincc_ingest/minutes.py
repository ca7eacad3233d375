"""Per-minute aggregates of every polled tag, accumulated in Redis for the trend store.

Every successful poll adds each configured tag's value to the site's open minute: min, max,
sum and count of the numeric good or uncertain values, the last of them, and the worst
quality read. Redis holds the minute, not only the worker's memory, because any worker
process may poll a site and a restarted worker must not lose or split it. The dashboard
flushes closed minutes to the database (dashboard.history.minutes). One encoding, here.

The poller keeps the minute it wrote last in memory (OpenMinute) and writes each tag's new
aggregate with one HSET in the poll's transaction. Reading every field back and merging in
Redis (a Lua script, 200 HGET and HSET per poll of 200 tags) cost Redis most of its CPU per
poll; the merge in the worker costs about a tenth of a millisecond more than building the
script's arguments did. The
minute is read back from Redis (one HGETALL) when this process does not hold it: a new
minute, a restart, or another process having written the site since (the poller's writer
stamp, as for its snapshot of the values).
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from wincc_bridge.models import Quality, TagValue
from wincc_ingest import store

QUALITY_CODES = {Quality.GOOD: "g", Quality.UNCERTAIN: "u", Quality.BAD: "b"}
_RANK = {"g": 0, "u": 1, "b": 2}

# One tag's minute so far: low, high, sum and count of its numbers, the texts of low, high
# and the last number as stored ("-" before the first; kept, so a poll formats only the
# number it read and the sum), and the worst quality code.
Aggregate = tuple[float, float, float, int, str, str, str, str]
_NONE: Aggregate = (math.inf, -math.inf, 0.0, 0, "-", "-", "-", "")


def minute_of(epoch: float) -> int:
    """The epoch second the minute holding `epoch` starts at."""
    return int(epoch // store.MINUTE_SECONDS) * store.MINUTE_SECONDS


def parse(raw: str | bytes) -> Aggregate | None:
    """One hash field as OpenMinute.add wrote it: `"<min> <max> <sum> <count> <last>
    <worst>"`, `-` for a number not yet read; None for what cannot be read."""
    text = raw.decode() if isinstance(raw, bytes) else raw
    parts = text.split(" ")
    if len(parts) != 6 or parts[5] not in _RANK:
        return None
    low, high, total, count, last, worst = parts
    try:
        n = int(count)
        if n == 0:
            return math.inf, -math.inf, float(total), 0, "-", "-", "-", worst
        float(last)
        return float(low), float(high), float(total), n, low, high, last, worst
    except ValueError:
        return None


class OpenMinute:
    """One site's open minute as this process last wrote it to Redis.

    add() queues the new aggregates of a poll's values on the poll's pipeline and returns
    them; commit() takes them once the pipeline ran (a failed write leaves memory as it
    was). forget() makes the next add() read the minute back from Redis first.
    """

    def __init__(self, site: str) -> None:
        self.site = site
        self.minute: int | None = None
        self.tags: dict[str, Aggregate] = {}

    def forget(self) -> None:
        self.minute = None
        self.tags = {}

    def add(self, pipe: Any, r: Any, epoch: float,
            tags: Iterable[TagValue]) -> tuple[int, dict[str, Aggregate]]:
        """Queue on `pipe` the values read at `epoch` into the site's minute; `r` reads
        the minute back when this process does not hold it."""
        minute = minute_of(epoch)
        key = store.site_minute(self.site, minute)
        held = self.tags if minute == self.minute else self._read(r, key)
        merged = dict(held)
        fields = {}
        rank = _RANK
        for tag in tags:
            name, value, quality = tag.name, tag.value, QUALITY_CODES[tag.quality]
            old = held.get(name, _NONE)
            low, high, total, n, low_text, high_text, last, worst = old
            if not worst or rank[quality] > rank[worst]:
                worst = quality
            # A finite number (a switch as 0/1) of a good or uncertain read counts: what a
            # trend draws. Inline, as this runs for every tag of every poll.
            if (tag.error is None and quality != "b" and type(value) in (float, int, bool)
                    and math.isfinite(value)):
                value = float(value)
                last = repr(value)
                if value < low:
                    low, low_text = value, last
                if value > high:
                    high, high_text = value, last
                total += value
                n += 1
            aggregate = (low, high, total, n, low_text, high_text, last, worst)
            if aggregate != old:  # a text tag of the same quality stays as it is
                merged[name] = aggregate
                fields[name] = f"{low_text} {high_text} {total!r} {n} {last} {worst}"
        if fields:
            pipe.hset(key, mapping=fields)
            # Every time, not once per minute: a flush on a host whose clock runs ahead may
            # have taken the minute already, and what is written after must be found again.
            pipe.expire(key, store.MINUTE_TTL)
            pipe.zadd(store.site_minutes(self.site), {str(minute): minute})
        return minute, merged

    def commit(self, added: tuple[int, dict[str, Aggregate]]) -> None:
        self.minute, self.tags = added

    @staticmethod
    def _read(r: Any, key: str) -> dict[str, Aggregate]:
        held = {}
        for tag, raw in r.hgetall(key).items():
            aggregate = parse(raw)
            if aggregate is not None:  # an unreadable entry starts again, as the flush skips it
                held[tag.decode() if isinstance(tag, bytes) else tag] = aggregate
        return held


@dataclass(frozen=True)
class MinuteValues:
    """One tag's minute: min/max/avg/last of its numeric values (None without any), how
    many there were, and the worst quality read ("g", "u" or "b")."""

    tag: str
    minimum: float | None
    maximum: float | None
    average: float | None
    last: float | None
    count: int
    quality: str


def decode(tag: str, raw: str | bytes) -> MinuteValues | None:
    """One hash field written by OpenMinute.add; None for what cannot be read."""
    aggregate = parse(raw)
    if aggregate is None:
        return None
    low, high, total, n, _, _, last, worst = aggregate
    if n == 0:
        return MinuteValues(tag, None, None, None, None, 0, worst)
    return MinuteValues(tag, low, high, total / n, float(last), n, worst)


def worse(a: str, b: str) -> str:
    """The worse of two quality codes."""
    return a if _RANK[a] >= _RANK[b] else b
