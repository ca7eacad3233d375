"""A plant's alarm journal for P5-kpi: `python -m bench.p5_kpi_journal ROWS SITE...` fills the
database of DATABASE_URL (migrated) with about ROWS journal rows over the last 30 days.

Deterministic (seeded): occurrences of a few hundred alarms per site, each raised, mostly
acknowledged after a minute or so, returned and cleared; some alarms chatter (bursts of raises
seconds apart), a few stand for days, and floods of many alarms in a few minutes come now and
then. Rows go in with executemany (SQLite) or COPY (PostgreSQL), as the poller's journal
would have written them over a month.
"""

from __future__ import annotations

import argparse
import random
import sys
import time
from datetime import UTC, datetime, timedelta

DAYS = 30
ALARMS_PER_SITE = 400
COLUMNS = ("key", "site_id", "alarm_name", "instance_id", "transition", "at", "state",
           "priority", "alarm_class", "event_text", "info_text", "area", "acknowledged_by",
           "actor", "comment", "recorded_at")


def occurrence(rng: random.Random, site: str, alarm: int, instance: int, at: datetime,
               *, standing: bool = False) -> list[tuple]:
    name = f"Alarm_{alarm:03}"
    priority = rng.choices([3, 8, 13, 16], weights=[75, 18, 6, 1])[0]
    steps = [("raised", at)]
    returned = at + timedelta(days=rng.uniform(1.2, 4)) if standing else \
        at + timedelta(seconds=rng.expovariate(1 / 600))
    if rng.random() < 0.85:
        steps.append(("acknowledged", at + timedelta(seconds=rng.expovariate(1 / 90))))
    steps.append(("returned", returned))
    steps.append(("cleared", max(t for _, t in steps) + timedelta(seconds=1)))
    return [
        (f"{site}|{name}|{instance}|{transition}|{when.isoformat()}", site, name, instance,
         transition, when, transition, priority, "Alarm", f"{name} on {site}", "", "Area 1",
         "operator" if transition == "acknowledged" else "", "", "", when)
        for transition, when in steps
    ]


def journal(rows: int, sites: list[str], now: datetime, seed: int = 5):
    """About `rows` rows, oldest occurrence first, all ending before `now`."""
    rng = random.Random(seed)
    start = now - timedelta(days=DAYS)
    span = (now - start).total_seconds() - 3600
    instances: dict[tuple[str, int], int] = {}
    made = 0
    while made < rows:
        site = rng.choice(sites)
        alarm = int(rng.paretovariate(1.2)) % ALARMS_PER_SITE
        at = start + timedelta(seconds=rng.uniform(0, span))
        kind = rng.random()
        burst = 4 if kind < 0.01 else 1  # chattering: raises seconds apart
        for k in range(burst):
            instances[(site, alarm)] = instance = instances.get((site, alarm), 0) + 1
            for row in occurrence(rng, site, alarm, instance, at + timedelta(seconds=12 * k),
                                  standing=kind > 0.9995):
                if row[5] < now:
                    made += 1
                    yield row
        if kind < 0.0005:  # a flood: 40 alarms in 5 minutes
            for k in range(40):
                other = rng.randrange(ALARMS_PER_SITE)
                instances[(site, other)] = instance = instances.get((site, other), 0) + 1
                for row in occurrence(rng, site, other, instance,
                                      at + timedelta(seconds=7 * k)):
                    if row[5] < now:
                        made += 1
                        yield row


def load(rows: int, sites: list[str]) -> int:
    import django

    django.setup()
    from django.db import connection, transaction

    from dashboard.models import JournalEntry

    table = JournalEntry._meta.db_table
    now = datetime.now(UTC)
    count = 0
    with transaction.atomic(), connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            with cursor.cursor.copy(f"COPY {table} ({', '.join(COLUMNS)}) FROM STDIN") as copy:
                for row in journal(rows, sites, now):
                    copy.write_row(row)
                    count += 1
        else:
            placeholders = ", ".join("%s" for _ in COLUMNS)
            insert = f"INSERT INTO {table} ({', '.join(COLUMNS)}) VALUES ({placeholders})"
            batch: list[tuple] = []
            adapt = connection.ops.adapt_datetimefield_value
            for row in journal(rows, sites, now):
                batch.append((*row[:5], adapt(row[5]), *row[6:15], adapt(row[15])))
                if len(batch) == 20_000:
                    cursor.executemany(insert, batch)
                    count += len(batch)
                    batch = []
            cursor.executemany(insert, batch)
            count += len(batch)
    with connection.cursor() as cursor:
        # Fresh statistics for the planner, and on PostgreSQL the visibility map that index-only
        # scans need: what autovacuum gives a journal written over a month.
        cursor.execute("VACUUM ANALYZE" if connection.vendor == "postgresql" else "ANALYZE")
    # The rows went in around dashboard.occurrences: build their occurrences and the KPI
    # counts as the product does (`manage.py rebuild_occurrences`), timed on its own.
    from dashboard import occurrences

    t0 = time.monotonic()
    built = occurrences.rebuild()
    print(f"rebuilt {built} occurrences and the KPI counts in {time.monotonic() - t0:.0f} s",
          flush=True)
    with connection.cursor() as cursor:
        cursor.execute("VACUUM ANALYZE" if connection.vendor == "postgresql" else "ANALYZE")
    return count


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.p5_kpi_journal", description=__doc__)
    parser.add_argument("rows", type=int)
    parser.add_argument("sites", nargs="+")
    args = parser.parse_args(argv)
    print(load(args.rows, args.sites))
    return 0


if __name__ == "__main__":
    sys.exit(main())
