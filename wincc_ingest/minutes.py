"""Per-minute aggregates of every polled tag, accumulated in Redis for the trend store.

Every successful poll adds each configured tag's value to the site's open minute (one Lua
call in the poll's pipeline): min, max, sum and count of the numeric good or uncertain
values, the last of them, and the worst quality read. Redis holds the minute, not the
worker's memory, because any worker process may poll a site and a restarted worker must
not lose or split it. The dashboard flushes closed minutes to the database
(dashboard.history.minutes). One encoding, here.
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

# KEYS: the minute's hash, the site's index of minutes. ARGV: minute, ttl, then for each tag
# its name, its number ("" for none) and its quality code. Lua numbers are doubles, as ours.
_ADD = """
local rank = {g = 0, u = 1, b = 2}
for i = 3, #ARGV, 3 do
  local tag, text, q = ARGV[i], ARGV[i + 1], ARGV[i + 2]
  local old = redis.call('HGET', KEYS[1], tag)
  local low, high, sum, n, last, worst = '-', '-', 0, 0, '-', q
  if old then
    local a, b, c, d, e, f = string.match(old, '^(%S+) (%S+) (%S+) (%S+) (%S+) (%S+)$')
    if a then
      low, high, sum, n, last, worst = a, b, tonumber(c), tonumber(d), e, f
      if rank[q] > rank[worst] then worst = q end
    end
  end
  if text ~= '' then
    local x = tonumber(text)
    if n == 0 or x < tonumber(low) then low = text end
    if n == 0 or x > tonumber(high) then high = text end
    sum = sum + x
    n = n + 1
    last = text
  end
  redis.call('HSET', KEYS[1], tag,
    low .. ' ' .. high .. ' ' .. string.format('%.17g', sum) .. ' ' .. n .. ' ' .. last
    .. ' ' .. worst)
end
redis.call('EXPIRE', KEYS[1], ARGV[2])
redis.call('ZADD', KEYS[2], ARGV[1], ARGV[1])
return 1
"""


def minute_of(epoch: float) -> int:
    """The epoch second the minute holding `epoch` starts at."""
    return int(epoch // store.MINUTE_SECONDS) * store.MINUTE_SECONDS


def number(tag: TagValue) -> float | None:
    """The value a trend draws: a finite number (a switch as 0/1) of a good or uncertain
    read; None otherwise."""
    if tag.error is not None or tag.quality is Quality.BAD:
        return None
    value = tag.value
    if isinstance(value, bool):
        return float(value)
    if isinstance(value, int | float) and math.isfinite(value):
        return float(value)
    return None


def add_poll(pipe: Any, site: str, epoch: float, tags: Iterable[TagValue]) -> None:
    """Queue on `pipe` the poll's values (read at `epoch`) into the site's open minute."""
    minute = minute_of(epoch)
    args: list[Any] = []
    for tag in tags:
        value = number(tag)
        args += [tag.name, "" if value is None else repr(value), QUALITY_CODES[tag.quality]]
    if args:
        pipe.eval(_ADD, 2, store.site_minute(site, minute), store.site_minutes(site),
                  minute, store.MINUTE_TTL, *args)


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
    """One hash field written by add_poll; None for what cannot be read."""
    text = raw.decode() if isinstance(raw, bytes) else raw
    parts = text.split(" ")
    if len(parts) != 6 or parts[5] not in _RANK:
        return None
    low, high, total, count, last, worst = parts
    try:
        n = int(count)
        if n == 0:
            return MinuteValues(tag, None, None, None, None, 0, worst)
        return MinuteValues(tag, float(low), float(high), float(total) / n, float(last), n,
                            worst)
    except ValueError:
        return None


def worse(a: str, b: str) -> str:
    """The worse of two quality codes."""
    return a if _RANK[a] >= _RANK[b] else b
