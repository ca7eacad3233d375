"""P5-kpi: the alarm KPI page over 30 days of 1,000,000 journal rows, on SQLite and PostgreSQL.

For each database: migrate, fill the journal (bench/p5_kpi_journal.py, three sites, the last
30 days), start the web as in production (gunicorn, uvicorn workers, DEBUG off) and GET
/kpi/?range=30d&site=plant as a viewer of every site, one request after another: a few to
warm up, then the measured ones, each from the request to the last byte of the page.
PostgreSQL runs in a database of its own, created and dropped here, on the server of
WDASH_TEST_POSTGRES_URL (default the machine's own); where none answers it is reported as not
run. Target: p95 <= 1 s on each.
"""

from __future__ import annotations

import os
import time

import httpx
import psycopg

from bench import sites
from bench.report import Figure, Result
from bench.stack import Stack
from bench.stats import summary
from tests.harness.processes import run_python
from tests.postgres import DEFAULT_URL, answers

ROWS, QUICK_ROWS = 1_000_000, 100_000
REQUESTS, QUICK_REQUESTS = 20, 5
WARMUP = 1
TARGET_S = 1.0
SITES = ["kpi-oven", "kpi-line", "kpi-utilities"]
PAGE = "/kpi/?range=30d&site=plant"


def run(quick: bool = False) -> Result:
    rows = QUICK_ROWS if quick else ROWS
    requests = QUICK_REQUESTS if quick else REQUESTS
    result = Result("P5-kpi", "P5 KPI: the alarm KPI page over 30 days of "
                    f"{rows:,} journal rows")
    times = {"SQLite": _measure(rows, requests, None)}
    server = os.environ.get("WDASH_TEST_POSTGRES_URL", DEFAULT_URL)
    if answers(server):
        times["PostgreSQL"] = _measure(rows, requests, server)
    else:
        result.notes.append("No PostgreSQL answered: the PostgreSQL figure was not run.")
    for database, samples in times.items():
        stats = summary(samples)
        result.figures.append(Figure(
            f"{database}: GET {PAGE} (request to last byte)", "s", stats,
            target=f"p95 <= {TARGET_S:g} s", ok=stats["p95"] is not None
            and stats["p95"] <= TARGET_S,
        ))
    result.notes.append(
        f"{rows:,} journal rows over the last 30 days on {len(SITES)} sites (about a "
        "quarter of them raises), loaded by bench/p5_kpi_journal.py; "
        f"{WARMUP} requests to warm up, then {requests} measured, one after another, "
        "through gunicorn with 2 uvicorn workers."
    )
    result.raw = {"samples": times, "rows": rows}
    return result


def _measure(rows: int, requests: int, server: str | None) -> list[float]:
    name = f"wdash_bench_kpi_{os.getpid()}"
    with Stack("p5-kpi") as st:
        if server is not None:
            with psycopg.connect(server, autocommit=True) as conn:
                conn.execute(f'CREATE DATABASE "{name}"')
            info = psycopg.conninfo.conninfo_to_dict(server)
            info["dbname"] = name
            st.env["DATABASE_URL"] = _url(info)
        try:
            return _pages(st, rows, requests)
        finally:
            if server is not None:
                st.close()  # the web's connections end before the database goes
                with psycopg.connect(server, autocommit=True) as conn:
                    conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def _pages(st: Stack, rows: int, requests: int) -> list[float]:
    st.start_redis()
    sites.simulator_secrets(st)  # nothing polls: the sites are there for the page to list
    st.write_config({"sites": [sites.site_config(st, site_id=site, tags=[{"name": "Unused"}])
                               for site in SITES], "dashboards": []})
    session = st.prepare_database(sessions=1)[0]
    t0 = time.monotonic()
    output = run_python(["-m", "bench.p5_kpi_journal", str(rows), *SITES], st.env,
                        what="filling the journal", timeout=3600)
    loaded = int(output.split()[-1])
    print(f"   {loaded:,} journal rows in {time.monotonic() - t0:.0f} s; "
          f"{output.splitlines()[-2] if len(output.splitlines()) > 1 else ''}", flush=True)
    st.start_web(workers=2)
    samples = []
    with httpx.Client(base_url=st.web_url, cookies={"sessionid": session}, timeout=60) as http:
        for i in range(WARMUP + requests):
            start = time.perf_counter()
            response = http.get(PAGE)
            elapsed = time.perf_counter() - start
            if response.status_code != 200 or 'data-kpi="total"' not in response.text:
                raise RuntimeError(f"/kpi/ answered {response.status_code}: "
                                   f"{response.text[:300]}")
            if i >= WARMUP:
                samples.append(elapsed)
    return samples


def _url(info: dict) -> str:
    user = info.get("user", "postgres")
    password = f":{info['password']}" if info.get("password") else ""
    return (f"postgres://{user}{password}@{info.get('host', '127.0.0.1')}:"
            f"{info.get('port', 5432)}/{info['dbname']}")
