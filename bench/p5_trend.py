"""P5 trend, the server's part: /trend/data/ for 8 pens over 24 hours and 7 days.

A site of 8 tags whose history is 1-second polls, kept as the dashboard's store keeps them
(1-minute min/max/avg/last, filled for 7 days by bench.p5_trend_fill), and, for each dialect
with an archive (capabilities().history), a site of the same 8 tags asked through the
simulator's archive, which computes every second of them (thinned to the values asked for).
The web runs as in production (gunicorn, uvicorn workers, SQLite); a signed-in viewer asks
for the 8 pens at width 1000 and 2000, each request a window of its own (shifted by a few
seconds, so the cache never answers), one request at a time. Latency is request to the last
byte; size is the body's bytes.

Targets: the server's share of the issue's "request to drawn" budget (24 h <= 1 s, 7 days <= 2 s)
is half of it; the size is bounded by the width: a 7-day answer is at most 1.5 times a 24-hour
one of the same width, and no pen has more than 4 points per pixel.
"""

from __future__ import annotations

import time

import httpx

from bench import sites
from bench.report import Figure, Result, Table
from bench.stack import Stack
from bench.stats import summary
from tests.harness.processes import run_python

PENS = 8
RANGES = {"24 h": 86400, "7 days": 7 * 86400}
TARGET_SECONDS = {"24 h": 0.5, "7 days": 1.0}
WIDTHS = (1000, 2000)
SIZE_RATIO = 1.5
ARCHIVE_TIMEOUT = 20.0


def sites_dialects() -> tuple[str, ...]:
    return ("unified", "classic", "rest-v1")


def _site_has_archive(dialect: str) -> bool:
    from wincc_bridge.client import ConnectionSettings, capabilities_of

    return capabilities_of(ConnectionSettings(dialect=dialect, url="https://127.0.0.1:9")).history


def _measure(http: httpx.Client, pens: list[str], span: int, width: int,
             requests: int) -> tuple[list[float], list[int], int, list[str]]:
    seconds, sizes, most = [], [], 0
    sources: set[str] = set()
    notes: set[str] = set()
    end = time.time() - 3600
    for i in range(requests):
        window_end = end - i * 7
        params = [("pen", pen) for pen in pens] + [
            ("start", f"now-{int(time.time() - window_end + span)}s"),
            ("end", f"now-{int(time.time() - window_end)}s"), ("width", str(width))]
        t0 = time.perf_counter()
        response = http.get("/trend/data/", params=params)
        body = response.content
        seconds.append(time.perf_counter() - t0)
        if response.status_code != 200:
            raise RuntimeError(f"/trend/data/ answered {response.status_code}: {body[:300]!r}")
        sizes.append(len(body))
        answer = response.json()
        most = max(most, *(len(pen["points"]["t"]) for pen in answer["pens"]))
        sources |= {pen["source"] for pen in answer["pens"]}
        notes |= {pen["note"] for pen in answer["pens"] if pen["note"]}
    return seconds, sizes, most, sorted(sources), sorted(notes)


def run(quick: bool = False) -> Result:
    result = Result("P5-trend", "Trend data, 8 pens, 24 h and 7 days")
    requests = 5 if quick else 30
    with Stack("p5-trend") as st:
        st.start_redis()
        sites.simulator_secrets(st)
        st.start_simulator()
        names = sites.simulator_tag_names(st, PENS)
        config = sites.config_for(st, site_id="store", tags=[{"name": n, "label": n}
                                                             for n in names])
        config["sites"][0]["archive"] = False  # the store answers for this one
        archive_dialects = [d for d in sites_dialects() if _site_has_archive(d)]
        for dialect in archive_dialects:
            site = sites.site_config(st, site_id=f"archive-{dialect}", dialect=dialect,
                                     tags=[{"name": n, "label": n} for n in names])
            # The simulator computes every second it thins in Python: on a busy machine a
            # week of 8 tags takes longer than a real archive's 2 s.
            site["timeout"] = ARCHIVE_TIMEOUT
            config["sites"].append(site)
        st.env["TREND_ARCHIVE_TIMEOUT_SECONDS"] = str(ARCHIVE_TIMEOUT)
        st.write_config(config)
        (session,) = st.prepare_database(sessions=1)
        filled = run_python(["-m", "bench.p5_trend_fill", "store", *names, "--days", "7"],
                            st.env, what="filling the trend store", timeout=600)
        st.start_web(workers=2)
        cases = {"store": [f"store:{n}" for n in names]}
        for dialect in archive_dialects:
            cases[f"archive ({dialect})"] = [f"archive-{dialect}:{n}" for n in names]
        rows = []
        with httpx.Client(base_url=st.web_url, cookies={"sessionid": session},
                          timeout=60) as http:
            for pens in cases.values():
                _measure(http, pens, 3600, 1000, 2)  # warm the workers and the archives
            for case, pens in cases.items():
                sizes_by = {}
                for width in WIDTHS:
                    for label, span in RANGES.items():
                        seconds, sizes, most, sources, notes = _measure(http, pens, span,
                                                                        width, requests)
                        expected = "store" if case == "store" else "archive"
                        if sources != [expected]:
                            result.status = "error"
                            result.reason = (f"{case}: the pens came from {sources}, not "
                                             f"{expected}: {'; '.join(notes)[:300]}")
                        stats = summary(seconds)
                        target = TARGET_SECONDS[label]
                        result.figures.append(Figure(
                            f"{case}, {label}, width {width}: request to last byte", "s",
                            stats, f"p95 <= {target} s",
                            stats["p95"] is not None and stats["p95"] <= target))
                        sizes_by[(width, label)] = max(sizes)
                        rows.append([case, label, width, f"{stats['median']:.3f}",
                                     f"{stats['p95']:.3f}", max(sizes), most,
                                     ", ".join(sources)])
                        if most > 4 * width + 2:
                            result.status = "error"
                            result.reason = f"{most} points in one pen at width {width}"
                for width in WIDTHS:
                    ratio = sizes_by[(width, "7 days")] / sizes_by[(width, "24 h")]
                    result.figures.append(Figure(
                        f"{case}, width {width}: size of 7 days / size of 24 h", "ratio",
                        {"n": 1, "median": round(ratio, 2), "p95": round(ratio, 2),
                         "p99": round(ratio, 2), "max": round(ratio, 2)},
                        f"<= {SIZE_RATIO}", ratio <= SIZE_RATIO))
        result.tables.append(Table(
            "Per case (each request a window of its own; sizes are the largest body)",
            ["source", "range", "width", "median s", "p95 s", "bytes", "most points in a pen",
             "sources answered"], rows))
        result.notes.append(
            f"{PENS} pens; the store holds 7 days of 1-minute rows per tag ({filled.strip()} "
            f"rows), {requests} requests per case, one at a time, through gunicorn with 2 "
            "uvicorn workers on SQLite.")
        if not archive_dialects:
            result.notes.append(
                "No dialect offers an archive in this build (capabilities().history): only "
                "the store was measured.")
    return result
