"""The change driver: writes tag values into Redis and publishes them as the poller does.

It stands in for poller + WinCC when a benchmark must control the change rate exactly
(P2, P3). Each write is what wincc_ingest.poller writes on a successful poll: the values
hash, the trend lists, the health hash, and one PUBLISH on the change channel naming the
changed tags, all in one transaction. Each value is a stamp of its publish time
(bench/stamp.py), so the clients can compute publish -> arrival.

Bounded: it stops after --duration seconds (at most an hour).
"""

from __future__ import annotations

import argparse
import json
import sys
import time

import redis

from bench import stamp
from bench.stats import write_json
from wincc_bridge.models import Quality, TagValue, utcnow
from wincc_ingest import codec, store


def run(args: argparse.Namespace) -> dict:
    r = redis.Redis.from_url(args.redis_url, decode_responses=True)
    tags = [t for t in args.tags.split(",") if t]
    per_publish = max(1, min(args.per_publish, len(tags)))
    publishes_per_second = args.changes_per_second / per_publish
    period = 1.0 / publishes_per_second
    start_at = args.start_at or time.time()
    stop_at = start_at + args.duration
    if time.time() < start_at:
        time.sleep(start_at - time.time())
    publishes = changes = late = 0
    next_tag = 0
    k = 0
    last_health = 0.0
    lateness = []
    while True:
        due = start_at + k * period
        if due >= stop_at:
            break
        wait = due - time.time()
        if wait > 0:
            time.sleep(wait)
        elif wait < -period:
            late += 1
        lateness.append(max(0.0, -wait))
        names = [tags[(next_tag + i) % len(tags)] for i in range(per_publish)]
        next_tag = (next_tag + per_publish) % len(tags)
        read_at = utcnow()
        now = time.time()
        pipe = r.pipeline(transaction=True)
        mapping = {}
        for i, name in enumerate(names):
            # Each tag of a batch gets its own stamp, 1 ms older per position, so that a
            # client tells them apart; this overstates their latency by at most that.
            value = stamp.encode(now - i * 0.001)
            tag = TagValue(name, value, Quality.GOOD, quality_code=0xC0, timestamp=read_at)
            mapping[name] = codec.encode_value(tag, read_at)
            trend = store.site_trend(args.site, name)
            pipe.lpush(trend, f"{now:.3f} {value!r}")
            pipe.ltrim(trend, 0, store.TREND_LENGTH - 1)
        pipe.hset(store.site_values(args.site), mapping=mapping)
        if now - last_health >= 1.0:
            pipe.hset(store.site_health(args.site), mapping=_health(args.site, len(tags), read_at))
            last_health = now
        pipe.publish(
            store.CHANGES_CHANNEL,
            json.dumps({"site": args.site, "tags": names, "alarms": False, "health": False}),
        )
        pipe.execute()
        publishes += 1
        changes += len(names)
        k += 1
    r.close()
    lateness.sort()
    return {
        "publishes": publishes,
        "changes": changes,
        "late": late,
        "start": start_at,
        "stop": stop_at,
        "lateness_p99": lateness[int(0.99 * (len(lateness) - 1))] if lateness else 0.0,
    }


def _health(site: str, count: int, at) -> dict[str, str]:
    health = codec.SiteHealth(
        site=site,
        interval=1.0,
        last_attempt=at,
        last_success=at,
        duration_ms=5.0,
        latency_ms=4.0,
        failures=0,
        last_error="",
        backoff_until=None,
        tag_count=count,
        alarm_count=0,
    )
    return codec.encode_health(health)


def seed(redis_url: str, site: str, names: list[str]) -> None:
    """Give every tag a first value and the site a current health, before clients connect."""
    r = redis.Redis.from_url(redis_url, decode_responses=True)
    read_at = utcnow()
    value = stamp.encode(time.time())
    r.hset(
        store.site_values(site),
        mapping={
            n: codec.encode_value(TagValue(n, value, Quality.GOOD, 0xC0, read_at), read_at)
            for n in names
        },
    )
    r.hset(store.site_health(site), mapping=_health(site, len(names), read_at))
    r.close()


def main(argv: list[str] | None = None) -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--redis-url", required=True)
    p.add_argument("--site", required=True)
    p.add_argument("--tags", required=True, help="comma-separated tag names")
    p.add_argument("--changes-per-second", type=float, default=20.0)
    p.add_argument("--per-publish", type=int, default=1, help="tags changed per PUBLISH")
    p.add_argument("--start-at", type=float, default=0.0)
    p.add_argument("--duration", type=float, default=30.0)
    p.add_argument("--out", required=True)
    args = p.parse_args(argv)
    if not 0 < args.duration <= 3600:
        raise SystemExit("--duration must be within (0, 3600] seconds")
    result = run(args)
    write_json(args.out, result)


if __name__ == "__main__":
    sys.exit(main())
