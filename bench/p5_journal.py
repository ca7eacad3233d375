"""P5-journal: the alarm journal at 1,000,000 rows, on SQLite and on PostgreSQL.

For each database: a fresh one (a temporary SQLite file; a PostgreSQL database of its own,
dropped after), migrated and filled with 1,000,000 journal entries (bench.p5_journal_db
fill). Then /journal/ is timed under its filters (p95 <= 300 ms, the request through the
view and its template, in process) with each query's plan, and /journal.csv of the newest
100,000 occurrences is streamed in a fresh process whose resident memory is sampled
(it must stay flat: the peak beside the same process before the export, and beside an
export of 10,000 rows).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

import psycopg

from bench.report import Figure, Result, Table
from bench.stats import summary
from tests.harness.redis_server import start_redis
from tests.postgres import DEFAULT_URL, answers

TARGET_MS = 300.0
ROWS, EXPORT_ROWS, SMALL_EXPORT_ROWS = 1_000_000, 100_000, 10_000
QUICK_ROWS, QUICK_EXPORT_ROWS, QUICK_SMALL_EXPORT_ROWS = 40_000, 5_000, 1_000
# "Flat": the 100,000-row export may need at most this much more than the 10,000-row one.
FLAT_MIB = 20.0
CONFIG = {
    "sites": [
        {"id": site, "name": f"Benchmark {site}", "dialect": "classic",
         "url": "http://127.0.0.1:9", "read_user": {"username": "bench-reader",
                                                    "password_env": "BENCH_JOURNAL_SECRET"}}
        for site in ("oven-unified", "line-classic", "utilities-restv1")
    ],
    "dashboards": [{"id": "overview"}],
}


def _step(env: dict, *args: str, timeout: float = 3600) -> dict:
    out = subprocess.run([sys.executable, "-m", "bench.p5_journal_db", *args], env=env,
                         capture_output=True, text=True, timeout=timeout, check=False)
    if out.returncode != 0:
        raise RuntimeError(f"p5_journal_db {args[0]} failed: {out.stderr.strip()[-2000:]}")
    return json.loads(out.stdout.strip().splitlines()[-1])


def measure(database_url: str, env: dict, rows: int, export_rows: int, small_rows: int,
            samples: int) -> dict:
    env = {**env, "DATABASE_URL": database_url}
    filled = _step(env, "fill", "--rows", str(rows))
    pages = _step(env, "pages", "--samples", str(samples))
    pages.pop("vendor")
    small = _step(env, "export", "--rows", str(small_rows))
    large = _step(env, "export", "--rows", str(export_rows))
    return {"fill": filled, "pages": pages, "export_small": small, "export": large}


def _postgres_database(base_url: str):
    """A database of this run's own on the server of `base_url`; (url, drop)."""
    name = f"bench_journal_{os.getpid()}"
    with psycopg.connect(base_url, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}"')
        conn.execute(f'CREATE DATABASE "{name}"')
    info = psycopg.conninfo.conninfo_to_dict(base_url)
    url = (f"postgres://{info.get('user', 'postgres')}@{info.get('host', '127.0.0.1')}:"
           f"{info.get('port', 5432)}/{name}")

    def drop() -> None:
        with psycopg.connect(base_url, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')

    return url, drop


def run(quick: bool = False) -> Result:
    result = Result("P5 journal", "Alarm journal at 1,000,000 rows (SQLite and PostgreSQL)")
    rows, export_rows, small_rows = ((QUICK_ROWS, QUICK_EXPORT_ROWS, QUICK_SMALL_EXPORT_ROWS)
                                     if quick else (ROWS, EXPORT_ROWS, SMALL_EXPORT_ROWS))
    samples = 10 if quick else 30
    redis_server = start_redis()
    measured: dict[str, dict] = {}
    try:
        with tempfile.TemporaryDirectory(prefix="bench-journal-") as directory:
            config = Path(directory) / "config.json"
            config.write_text(json.dumps(CONFIG))
            env = {**os.environ, "WINCC_CONFIG": str(config), "REDIS_URL": redis_server.url,
                   "BENCH_JOURNAL_SECRET": "bench-only", "DJANGO_SETTINGS_MODULE":
                   "tests.settings"}
            sqlite_url = f"sqlite:///{directory}/journal.sqlite3"
            measured["SQLite"] = measure(sqlite_url, env, rows, export_rows, small_rows,
                                         samples)
            postgres = os.environ.get("WDASH_TEST_POSTGRES_URL", DEFAULT_URL)
            if answers(postgres):
                url, drop = _postgres_database(postgres)
                try:
                    measured["PostgreSQL"] = measure(url, env, rows, export_rows, small_rows,
                                                     samples)
                finally:
                    drop()
            else:
                result.notes.append("No PostgreSQL answered: SQLite alone was measured.")
    finally:
        redis_server.stop()
    for vendor, m in measured.items():
        _report(result, vendor, m)
    result.raw = measured
    return result


def _report(result: Result, vendor: str, m: dict) -> None:
    every = [t for page in m["pages"].values() for t in page["ms"]]
    overall = summary(every)
    result.figures.append(Figure(f"{vendor}: /journal/ filtered page (all filters)", "ms",
                                 overall, f"p95 <= {TARGET_MS:.0f} ms",
                                 overall["p95"] is not None and overall["p95"] <= TARGET_MS))
    growth, small_growth = m["export"]["growth_mib"], m["export_small"]["growth_mib"]
    result.figures.append(Figure(
        f"{vendor}: CSV export of {m['export']['rows']:,} rows, peak RSS growth", "MiB",
        {"n": 1, "median": round(growth, 1), "p95": round(growth, 1), "p99": round(growth, 1),
         "max": round(growth, 1)},
        f"flat: within {FLAT_MIB:.0f} MiB of the {m['export_small']['rows']:,}-row export "
        f"({small_growth:.1f} MiB)", growth <= small_growth + FLAT_MIB))
    rows = []
    for label, page in m["pages"].items():
        s = summary(page["ms"])
        plan = " / ".join(line.strip() for line in page["plan"].splitlines()[:3])
        rows.append([label, page["lines"], f"{s['median']:.1f}", f"{s['p95']:.1f}", plan])
    result.tables.append(Table(f"{vendor}: /journal/ per filter ({m['fill']['rows']:,} rows, "
                               f"{m['fill']['occurrences']:,} occurrences)",
                               ["filter", "lines", "median ms", "p95 ms", "plan (EXPLAIN)"],
                               rows))
    result.tables.append(Table(f"{vendor}: CSV export, resident memory", [
        "rows", "seconds", "rows/s", "RSS before (MiB)", "peak RSS (MiB)", "growth (MiB)"], [
        [f"{e['rows']:,}", f"{e['seconds']:.1f}", f"{e['rows'] / e['seconds']:,.0f}",
         f"{e['baseline_rss_mib']:.0f}", f"{e['peak_rss_mib']:.0f}", f"{e['growth_mib']:.1f}"]
        for e in (m["export_small"], m["export"])]))
    result.notes.append(f"{vendor}: {m['fill']['rows']:,} journal rows written in "
                        f"{m['fill']['fill_s']:.0f} s ({m['fill']['rows_per_s']:,.0f} rows/s, "
                        "in batches of 10,000 with their occurrence rows: executemany, COPY "
                        "on PostgreSQL).")


if __name__ == "__main__":
    print(json.dumps(run(quick="--quick" in sys.argv).to_json(), indent=1, default=str))
