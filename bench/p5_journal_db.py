"""P5-journal's work inside one database, run by bench.p5_journal in a process of its own
(DATABASE_URL, WINCC_CONFIG and REDIS_URL set by it):

    python -m bench.p5_journal_db fill --rows 1000000
    python -m bench.p5_journal_db pages --samples 30
    python -m bench.p5_journal_db export --rows 100000

`fill` writes the journal and its occurrence summaries in batches (executemany; COPY on
PostgreSQL), with the values the journal consumer would have summed up; `pages` times
/journal/ under its filters and records each query's plan (EXPLAIN); `export` streams
/journal.csv and samples the process's memory meanwhile. Each prints one JSON object on its
last line.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import sys
import threading
import time
from datetime import UTC, datetime, timedelta

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "tests.settings")

import django

django.setup()

import psutil  # noqa: E402
from asgiref.sync import async_to_sync  # noqa: E402
from django.contrib.auth.models import User  # noqa: E402
from django.core.management import call_command  # noqa: E402
from django.db import connection, transaction  # noqa: E402
from django.http import QueryDict  # noqa: E402
from django.test import Client  # noqa: E402

from dashboard import journal_query, roles  # noqa: E402
from dashboard.journal_query import JournalFilter, cursor_of  # noqa: E402
from dashboard.models import AlarmOccurrence  # noqa: E402

SITES = ["oven-unified", "line-classic", "utilities-restv1"]
USERS = [f"op{i:02d}" for i in range(1, 21)]
WORDS = ["Pump", "Valve", "Conveyor", "Oven", "Tank", "Motor", "Fan", "Compressor"]
END = datetime(2026, 12, 1, 6, 0, tzinfo=UTC)
SPAN = timedelta(days=30)
BATCH = 10_000
VIEWER = "bench-journal-viewer"

JOURNAL_COLUMNS = ("key", "site_id", "alarm_name", "instance_id", "transition", "at", "state",
                   "priority", "alarm_class", "event_text", "info_text", "area",
                   "acknowledged_by", "actor", "comment", "recorded_at")
OCCURRENCE_COLUMNS = ("site_id", "alarm_name", "instance_id", "started_at", "raised_at",
                      "acknowledged_at", "acknowledged_by", "acknowledged_via", "returned_at",
                      "cleared_at", "last_at", "last_transition", "transitions", "priority",
                      "alarm_class", "event_text", "area", "comment_count", "newest_comment",
                      "newest_comment_by", "newest_comment_at", "ended_at", "standing_from",
                      "ack_seconds")
COMMENT_COLUMNS = ("created_at", "site_id", "alarm_name", "instance_id", "username", "text",
                   "kind")


def _insert(table: str, columns: tuple[str, ...], rows: list[tuple]) -> None:
    """executemany on SQLite; COPY on PostgreSQL (its fast path for many rows)."""
    quoted = ", ".join(connection.ops.quote_name(c) for c in columns)
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            with cursor.cursor.copy(f"COPY {table} ({quoted}) FROM STDIN") as copy:
                for row in rows:
                    copy.write_row(row)
            return
        marks = ", ".join(["%s"] * len(columns))
        cursor.executemany(f"INSERT INTO {table} ({quoted}) VALUES ({marks})", rows)


def fill(rows: int, seed: int = 5) -> dict:
    """`rows` journal entries: occurrences of four steps each (raised, acknowledged,
    returned, then cleared, or for one in ten a comment), spread over 30 days."""
    call_command("migrate", verbosity=0)
    dt = connection.ops.adapt_datetimefield_value
    rng = random.Random(seed)
    count = rows // 4
    step = SPAN / count
    started = time.monotonic()
    journal: list[tuple] = []
    occs: list[tuple] = []
    comments: list[tuple] = []
    instances: dict[str, int] = {}

    def flush() -> None:
        with transaction.atomic():
            _insert("dashboard_journalentry", JOURNAL_COLUMNS, journal)
            _insert("dashboard_alarmoccurrence", OCCURRENCE_COLUMNS, occs)
            if comments:
                _insert("dashboard_alarmcomment", COMMENT_COLUMNS, comments)
        journal.clear()
        occs.clear()
        comments.clear()

    for i in range(count):
        site = SITES[i % len(SITES)]
        word = WORDS[rng.randrange(len(WORDS))]
        name = f"{word}_{rng.randrange(500):03d}_Fault"
        instance = instances[name] = instances.get(name, 0) + 1
        raised = END - SPAN + step * i
        acked = raised + timedelta(seconds=rng.randrange(5, 900))
        returned = acked + timedelta(seconds=rng.randrange(5, 3600))
        last = returned + timedelta(seconds=rng.randrange(1, 60))
        priority = rng.randrange(1, 17)
        user = USERS[rng.randrange(len(USERS))]
        text = f"{word} {name[-9:-6]} fault in {site}"
        commented = i % 10 == 0
        steps = [("raised", raised, "unacknowledged", "", "", ""),
                 ("acknowledged", acked, "acknowledged", user, "", ""),
                 ("returned", returned, "normal", "", "", "")]
        if commented:
            steps.append(("commented", last, "", "", user, f"checked {word.lower()} on site"))
            comments.append((dt(last), site, name, instance, user,
                             f"checked {word.lower()} on site", "comment"))
        else:
            steps.append(("cleared", last, "normal", "", "", ""))
        for transition, at, state, ack_by, actor, comment in steps:
            key = f"{site}|{name}|{instance}|{transition}|{at.isoformat()}"
            journal.append((key, site, name, instance, transition, dt(at), state, priority,
                            "Alarm", text, "", "Area 1", ack_by, actor, comment, dt(at)))
        occs.append((site, name, instance, dt(raised), dt(raised), dt(acked), user, "WinCC",
                     dt(returned), None if commented else dt(last), dt(last),
                     "commented" if commented else "cleared",
                     f" raised acknowledged returned {'commented' if commented else 'cleared'} ",
                     priority, "Alarm", text, "Area 1", 1 if commented else 0,
                     f"checked {word.lower()} on site" if commented else "",
                     user if commented else "", dt(last) if commented else None,
                     dt(returned), None, (acked - raised).total_seconds()))
        if len(journal) >= BATCH:
            flush()
    flush()
    filled = time.monotonic() - started
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")  # the planners' statistics, as after a day in service
    user, _ = User.objects.get_or_create(username=VIEWER)
    user.groups.add(roles.ensure_role(roles.VIEWERS))
    return {"rows": count * 4, "occurrences": count, "fill_s": filled,
            "rows_per_s": count * 4 / filled}


def _client() -> Client:
    client = Client(HTTP_HOST="localhost")
    client.force_login(User.objects.get(username=VIEWER))
    return client


def _mid_cursor() -> str:
    middle = AlarmOccurrence.objects.order_by("started_at").values_list(
        "started_at", "id")[AlarmOccurrence.objects.count() // 2]
    return cursor_of(*middle)


QUERIES = {
    "first page, no filter": "",
    "a page in the middle (keyset)": "after={mid}",
    "site": "site=line-classic",
    "acknowledging user": "user=op07",
    "text": "text=Compressor",
    "priority highest": "priority=highest",
    "transition commented": "transition=commented",
    "one day, site and priority": ("since=2026-11-20T00:00&until=2026-11-21T00:00"
                                   "&site=oven-unified&priority=high"),
    "user and text, a page in the middle": "user=op07&text=Pump&after={mid}",
    "transitions view": "view=transitions",
    "transitions view, user": "view=transitions&user=op07",
    "transitions view, a shift, site": ("view=transitions&since=2026-11-20T06:00"
                                        "&until=2026-11-20T14:00&site=line-classic"),
}


def _form(query: str) -> JournalFilter:
    form = JournalFilter(QueryDict(query), User.objects.get(username=VIEWER))
    assert form.is_valid(), form.errors
    return form


def _plan(query: str) -> str:
    form = _form(query)
    rows, field = form.rows()
    ordered = rows.order_by(f"-{field}", "-id")
    if form.cleaned_data.get("after"):
        ordered = journal_query.older_than(ordered, field,
                                           journal_query.parse_cursor(form.cleaned_data["after"]))
    return ordered[:51].explain()


def _query_ms(query: str, samples: int) -> list[float]:
    """The page's database query alone (the keyset page of 51 rows), without the request."""
    form = _form(query)
    rows, field = form.rows()
    data = form.cleaned_data
    times = []
    for _ in range(samples):
        t0 = time.perf_counter()
        journal_query.page(rows.all(), field, after=data.get("after") or "",
                           before=data.get("before") or "")
        times.append((time.perf_counter() - t0) * 1000)
    return times


def pages(samples: int) -> dict:
    client = _client()
    mid = _mid_cursor()
    results = {}
    for label, template in QUERIES.items():
        query = template.format(mid=mid)
        for _ in range(3):  # warm the caches, as a page in use is
            assert client.get(f"/journal/?{query}").status_code == 200
        times = []
        for _ in range(samples):
            t0 = time.perf_counter()
            response = client.get(f"/journal/?{query}")
            times.append((time.perf_counter() - t0) * 1000)
            assert response.status_code == 200, (query, response.status_code)
        lines = response.content.count(b"data-occurrence=") or response.content.count(
            b"data-transition=")
        results[label] = {"query": query, "ms": times, "lines": lines, "plan": _plan(query),
                          "query_ms": _query_ms(query, samples)}
    return results


def export(rows: int) -> dict:
    client = _client()
    process = psutil.Process()
    # The newest `rows` occurrences: from the started_at of the last of them on.
    since = AlarmOccurrence.objects.order_by("-started_at", "-id").values_list(
        "started_at", flat=True)[rows - 1]
    query = f"since={since.astimezone(UTC).strftime('%Y-%m-%dT%H:%M:%S.%f')}"
    assert client.get("/journal/").status_code == 200
    baseline = process.memory_info().rss
    peak = [baseline]
    done = threading.Event()

    def sample() -> None:
        while not done.is_set():
            peak[0] = max(peak[0], process.memory_info().rss)
            time.sleep(0.02)

    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    t0 = time.perf_counter()
    response = client.get(f"/journal.csv?{query}")
    assert response.status_code == 200

    async def consume() -> tuple[int, int]:
        lines = size = 0
        async for part in response.streaming_content:
            lines += part.count(b"\n")
            size += len(part)
        return lines, size

    lines, size = async_to_sync(consume)()
    seconds = time.perf_counter() - t0
    done.set()
    sampler.join()
    return {"rows": lines - 1, "bytes": size, "seconds": seconds,
            "baseline_rss_mib": baseline / 2**20, "peak_rss_mib": peak[0] / 2**20,
            "growth_mib": (peak[0] - baseline) / 2**20}


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.p5_journal_db")
    parser.add_argument("command", choices=["fill", "pages", "export"])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--samples", type=int, default=30)
    args = parser.parse_args(argv)
    if args.command == "fill":
        out = fill(args.rows)
    elif args.command == "pages":
        out = pages(args.samples)
    else:
        out = export(args.rows)
    print(json.dumps({"vendor": connection.vendor, **out}, default=str))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
