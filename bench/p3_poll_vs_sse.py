"""P3 server cost: the polling fallback (every 1 s, as peers refresh) against SSE.

The same 50-tile dashboard, the same change driver (20 changes/s) and the same load
clients, once holding SSE streams and once polling the page's polling URL every second
(`?transport=poll`: one request returns every tile). The web server's CPU (all gunicorn
processes, user + system) over the window gives CPU seconds per client per minute.
Freshness is measured alike for both: publish to the moment the client has the value.
Target: SSE at least 10 times cheaper at equal freshness.

Run at 100 and at 1,000 clients (P2's count). Where polling saturates the server, its CPU
is capped by the two cores, so its cost per client is understated and its freshness falls
behind; the late polls are counted.
"""

from __future__ import annotations

import os
import time

from bench import fanout
from bench.p2_fanout import WEB_WORKERS, ramp_for
from bench.report import Figure, Result, Table
from bench.stack import Stack
from bench.stats import summary

TARGET_RATIO = 10.0


def per_client_minute(m: dict) -> float:
    return m["web_cpu_seconds"] / m["clients"] / (m["duration"] / 60.0)


def run(quick: bool = False, runs: int = 2, duration: float = 20.0) -> Result:
    result = Result("P3", "Server cost, polling every 1 s against SSE (same dashboard)")
    counts = [20] if quick else [100, 1000]
    if os.environ.get("BENCH_P3_CLIENTS"):
        counts = [int(c) for c in os.environ["BENCH_P3_CLIENTS"].split(",")]
    if quick:
        runs, duration = 1, 6.0
    measured: dict[tuple[int, str], list[dict]] = {}
    with Stack("p3") as st:
        server = fanout.start_server(st, sessions=max(counts), web_workers=WEB_WORKERS)
        for clients in counts:
            for _ in range(runs):
                for mode in ("sse", "poll"):
                    m = fanout.step(
                        server,
                        clients=clients,
                        mode=mode,
                        duration=duration,
                        ramp=ramp_for(clients),
                        warmup=3.0 if quick else 5.0,
                    )
                    measured.setdefault((clients, mode), []).append(m)
                    _print(m)
                    time.sleep(1.0)
    rows = []
    for (clients, mode), ms in measured.items():
        for i, m in enumerate(ms, 1):
            lat = m["latency"]
            rows.append(
                [
                    f"{clients:,}",
                    mode,
                    i,
                    f"{per_client_minute(m):.4f}",
                    f"{100 * m['web_cpu_share']:.0f} %",
                    fanout.seconds(lat["median"]),
                    fanout.seconds(lat["p95"]),
                    fanout.seconds(lat["p99"]),
                    m["requests"],
                    m["late_polls"],
                    m["request_errors"],
                    fanout.seconds(m["request_time"]["p95"]),
                    f"{100 * (m['delivered_ratio'] or 0):.0f} %",
                    f"{m['web_rss_mib_max']:.0f}",
                    f"{100 * m['load_client_cpu_share']:.0f} %",
                    f"{m.get('drain_seconds', 0):.0f}",
                ]
            )
    result.tables.append(
        Table(
            f"Every run ({duration:.0f} s measured; CPU s / client / min = web CPU seconds "
            "over the window / clients / minutes; freshness = publish to the value at the "
            "client)",
            [
                "clients",
                "transport",
                "run",
                "CPU s / client / min",
                "web CPU",
                "freshness median s",
                "p95 s",
                "p99 s",
                "requests",
                "late polls",
                "errors",
                "request p95 s",
                "delivered",
                "web RSS MiB",
                "load-client CPU",
                "server busy after, s",
            ],
            rows,
        )
    )
    for clients in counts:
        sse = [per_client_minute(m) for m in measured.get((clients, "sse"), [])]
        poll = [per_client_minute(m) for m in measured.get((clients, "poll"), [])]
        if not sse or not poll:
            continue
        result.figures.append(
            Figure(f"SSE, CPU s per client per minute, {clients:,} clients", "s", summary(sse))
        )
        result.figures.append(
            Figure(
                f"polling 1 s, CPU s per client per minute, {clients:,} clients", "s", summary(poll)
            )
        )
        sse_median = summary(sse)["median"]
        ratio = summary(poll)["median"] / sse_median if sse_median else None
        on_time = all(
            m["late_polls"] == 0 and m["request_errors"] == 0 for m in measured[(clients, "poll")]
        )
        result.figures.append(
            Figure(
                f"polling / SSE cost ratio, {clients:,} clients"
                + ("" if on_time else " (polling fell behind: its cost is understated)"),
                "x",
                {"n": len(sse) + len(poll), "median": ratio, "p95": None, "p99": None, "max": None},
                target="≥ 10",
                ok=None if ratio is None else ratio >= TARGET_RATIO,
            )
        )
        for mode in ("sse", "poll"):
            pooled = fanout.pooled_latency(measured[(clients, mode)])
            result.figures.append(
                Figure(f"freshness with {mode}, {clients:,} clients", "s", pooled)
            )
    result.notes += [
        "Polling requests go to the page's polling URL (found in the served page's hx-get "
        "with an `every 1s` trigger), each client at a random phase, with its own session.",
        "SSE freshness is far better than polling's at every count, so the comparison "
        "favours polling: equal freshness would need polling far faster than 1 s.",
    ]
    result.raw = {
        f"{c}-{mode}": [{k: v for k, v in m.items() if k != "latency_hist"} for m in ms]
        for (c, mode), ms in measured.items()
    }
    return result


def _print(m: dict) -> None:
    lat = m["latency"]
    print(
        f"   {m['mode']} {m['clients']} clients: cpu/client/min {per_client_minute(m):.4f} "
        f"web cpu {m['web_cpu_share']:.2f} fresh p50 {lat['median']} p99 {lat['p99']} "
        f"requests {m['requests']} late {m['late_polls']} errors {m['request_errors']} "
        f"{m['errors']} status {m['status']}",
        flush=True,
    )
