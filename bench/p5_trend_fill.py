"""Fill the stack's trend store with `days` of minutes for the P5 trend benchmark.

    python -m bench.p5_trend_fill SITE TAG [TAG ...] --days 7

Each minute is what the poller writes for a tag polled every second (count 60): a daily
wave with noise, a short spike now and then, and a half-hour gap each day (the site away).
"""

from __future__ import annotations

import argparse
import math
import random
import sys
import time
from datetime import UTC, datetime

BATCH = 5000


def minutes_of(tag_index: int, first: int, count: int, rng: random.Random):
    for i in range(count):
        minute = first + i * 60
        if (minute // 60) % 1440 < 30:  # the site away, half an hour a day
            continue
        base = 100 + 40 * math.sin(2 * math.pi * minute / 86400 + tag_index)
        low, high = base - rng.uniform(0, 3), base + rng.uniform(0, 3)
        if rng.random() < 0.002:
            high = base + 200  # a one-second spike
        last = rng.uniform(low, min(high, base + 3))
        yield minute, low, high, (low + high) / 2, last


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.p5_trend_fill")
    parser.add_argument("site")
    parser.add_argument("tags", nargs="+")
    parser.add_argument("--days", type=float, default=7)
    args = parser.parse_args(argv)
    import django

    django.setup()
    from dashboard.models import TagMinute

    count = int(args.days * 1440) + 60
    first = (int(time.time()) // 60 - count) * 60
    rng = random.Random(5)
    rows = []
    written = 0
    for index, tag in enumerate(args.tags):
        for minute, low, high, average, last in minutes_of(index, first, count, rng):
            rows.append(TagMinute(site_id=args.site, tag=tag,
                                  minute=datetime.fromtimestamp(minute, UTC), minimum=low,
                                  maximum=high, average=average, last=last, count=60,
                                  quality="g"))
            if len(rows) >= BATCH:
                TagMinute.objects.bulk_create(rows)
                written += len(rows)
                rows = []
    TagMinute.objects.bulk_create(rows)
    print(written + len(rows))
    return 0


if __name__ == "__main__":
    sys.exit(main())
