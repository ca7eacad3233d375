"""P2 SSE fan-out: 1,000 browsers' streams on one server, a 50-tile dashboard, 20 changes/s.

The change driver stands in for the poller of one site polled every second: each second
one PUBLISH names the 20 tags that changed (as wincc_ingest.poller does), their values
stamped with the publish time. Load clients in separate processes hold one SSE stream each
with their own session, as browsers do, and time each value from publish to arrival.
Target at 1,000 clients: p99 at most 0.5 s, no client dropped. Then the count is stepped up
to find the largest that still meets the target.

Memory: the web's resident memory per open stream (its growth over the web at rest, divided
by the streams) at 1,000 and at 5,000 streams, target at most 150 KiB each. 5,000 is a step of
its own, past the latency steps: there only every 10th load client times values and the others
only read (bench/loadclient.py --parse-every), so that the load clients, on the same two cores,
keep up and the server is not left holding bytes they did not read. The values change 2 times a
second there, not 20: at 20 the two cores would have to write 100,000 frames a second, and the
step would measure that rather than what an open stream holds; the streams open over a longer
ramp (30 a second: a stream's set-up, its rights read and its snapshot, is what limits) so
that all are open when the window begins.
"""

from __future__ import annotations

import os
import time

from bench import fanout
from bench.report import Figure, Result, Table
from bench.stack import Stack
from bench.stats import summary

TARGET_CLIENTS = 1000
TARGET_P99 = 0.5
MEMORY_CLIENTS = 5000  # the second count the memory per stream is reported at
MEMORY_PARSE_EVERY = 10
MEMORY_CHANGES_PER_SECOND = 2.0
MEMORY_OPENS_PER_SECOND = 30
TARGET_KIB_PER_STREAM = 150
WEB_WORKERS = int(os.environ.get("BENCH_WEB_WORKERS", os.cpu_count() or 2))


def meets(m: dict, clients: int) -> bool:
    p99 = m["latency"]["p99"]
    return (
        p99 is not None
        and p99 <= TARGET_P99
        and m["drops"] == 0
        and m["connect_failures"] == 0
        and m["connected_at_window_start"] == clients
        and (m["delivered_ratio"] or 0) >= 0.99
    )


def ramp_for(clients: int) -> float:
    return max(3.0, clients / 150)


def run(quick: bool = False, runs: int = 3, duration: float = 20.0) -> Result:
    result = Result("P2", f"SSE fan-out (50 tiles, 20 changes/s, {WEB_WORKERS} web workers)")
    if quick:
        steps, target, runs, duration = [20, 60], 60, 2, 6.0
        memory = 120
    else:
        steps, target = [250, 500, 1000, 1500, 2000, 3000, 4000], TARGET_CLIENTS
        memory = MEMORY_CLIENTS
    measured: dict[int, list[dict]] = {}
    started = time.monotonic()
    with Stack("p2") as st:
        server = fanout.start_server(st, sessions=max(*steps, memory), web_workers=WEB_WORKERS)
        for clients in steps:
            repeat = runs if clients == target else 1
            for _ in range(repeat):
                m = fanout.step(
                    server,
                    clients=clients,
                    mode="sse",
                    duration=duration,
                    ramp=ramp_for(clients),
                    warmup=3.0 if quick else 5.0,
                )
                measured.setdefault(clients, []).append(m)
                _print(m)
            ok = all(meets(m, clients) for m in measured[clients])
            # Beyond the target count, stop at the first count that misses it.
            if clients > target and not ok:
                break
            if time.monotonic() - started > 600:
                result.notes.append("Stepping stopped after 10 minutes (time bound).")
                break
        # The memory step: as many streams, with light load clients (see above).
        m = fanout.step(server, clients=memory, mode="sse", duration=duration,
                        ramp=max(3.0, memory / MEMORY_OPENS_PER_SECOND),
                        warmup=3.0 if quick else 10.0,
                        changes_per_second=MEMORY_CHANGES_PER_SECOND,
                        per_publish=2, parse_every=MEMORY_PARSE_EVERY)
        _print(m)
        memory_step = m
    rows = []
    for clients, ms in measured.items():
        for i, m in enumerate(ms, 1):
            lat = m["latency"]
            rows.append(
                [
                    f"{clients:,}",
                    i,
                    fanout.seconds(lat["median"]),
                    fanout.seconds(lat["p95"]),
                    fanout.seconds(lat["p99"]),
                    fanout.seconds(lat["max"]),
                    m["drops"],
                    m["connect_failures"],
                    f"{m['connected_at_window_start']}/{clients}",
                    f"{100 * (m['delivered_ratio'] or 0):.1f} %",
                    f"{100 * m['web_cpu_share']:.0f} %",
                    f"{m['web_rss_mib_max']:.0f}",
                    f"{100 * m['load_client_cpu_share']:.0f} %",
                    "PASS" if meets(m, clients) else "MISS",
                ]
            )
    m = memory_step
    lat = m["latency"]
    rows.append([f"{memory:,} (memory; 1 in {MEMORY_PARSE_EVERY} timed)", 1,
                 fanout.seconds(lat["median"]), fanout.seconds(lat["p95"]),
                 fanout.seconds(lat["p99"]), fanout.seconds(lat["max"]), m["drops"],
                 m["connect_failures"], f"{m['connected_at_window_start']}/{memory}",
                 f"{100 * (m['delivered_ratio'] or 0):.1f} %", f"{100 * m['web_cpu_share']:.0f} %",
                 f"{m['web_rss_mib_max']:.0f}", f"{100 * m['load_client_cpu_share']:.0f} %",
                 "PASS" if meets(m, memory) else "MISS"])
    result.tables.append(
        Table(
            f"Every step ({duration:.0f} s measured after all clients connected; latency = publish "
            "to arrival at the load client; CPU in % of one core over the window)",
            [
                "clients",
                "run",
                "median s",
                "p95 s",
                "p99 s",
                "max s",
                "drops",
                "failed connects",
                "connected",
                "delivered",
                "web CPU",
                "web RSS MiB",
                "load-client CPU",
                "target",
            ],
            rows,
        )
    )
    at_target = measured.get(target, [])
    if at_target:
        per_run_p99 = [m["latency"]["p99"] for m in at_target]
        pooled = fanout.pooled_latency(at_target)
        result.figures.append(
            Figure(
                f"publish to arrival, {target:,} clients ({len(at_target)} runs pooled)",
                "s",
                pooled,
                target="p99 ≤ 0.5 s",
                ok=all(meets(m, target) for m in at_target),
            )
        )
        result.figures.append(
            Figure(
                f"p99 of each run, {target:,} clients",
                "s",
                summary(per_run_p99),
                target="≤ 0.5 s",
                ok=all(p is not None and p <= TARGET_P99 for p in per_run_p99),
            )
        )
        drops = [m["drops"] + m["connect_failures"] for m in at_target]
        result.figures.append(
            Figure(
                f"dropped or failed streams, {target:,} clients",
                "clients",
                summary(drops),
                target="0",
                ok=all(d == 0 for d in drops),
            )
        )
        result.figures.append(
            Figure(
                f"web RSS (all {WEB_WORKERS} workers + master), {target:,} clients",
                "MiB",
                summary([m["web_rss_mib_max"] for m in at_target]),
            )
        )
        result.figures.append(per_stream(at_target, target))
    result.figures.append(
        Figure(
            f"web RSS (all {WEB_WORKERS} workers + master), {memory:,} clients",
            "MiB",
            summary([memory_step["web_rss_mib_max"]]),
        )
    )
    result.figures.append(per_stream([memory_step], memory))
    passing = [c for c, ms in measured.items() if all(meets(m, c) for m in ms)]
    largest = max(passing) if passing else 0
    tried = max(measured) if measured else 0
    result.figures.append(
        Figure(
            f"largest client count meeting the target (tried up to {tried:,})",
            "clients",
            {"n": len(measured), "median": largest, "p95": None, "p99": None, "max": None},
            target=f"≥ {target:,}",
            ok=largest >= target,
        )
    )
    result.notes += [
        "Load clients: bench/loadclient.py (aiohttp on uvloop), one process per "
        f"{fanout.CLIENTS_PER_PROCESS} clients, on the same 2 cores as the server; their CPU "
        "is in the table.",
        "Each second one PUBLISH names the 20 changed tags, as the poller does for a site "
        "polled every second; the 20 values of a burst carry stamps 1 ms apart, which "
        "overstates their latency by at most 19 ms.",
        "A client is dropped when its stream ends or fails before the run ends; it then "
        "reconnects after 1 s, as the htmx SSE extension does.",
    ]
    result.raw = {
        str(c): [
            {k: v for k, v in m.items() if k not in ("latency_hist", "first_live")} for m in ms
        ]
        for c, ms in measured.items()
    }
    result.raw[f"memory {memory}"] = {
        k: v for k, v in memory_step.items() if k not in ("latency_hist", "first_live")}
    return result


def kib_per_stream(m: dict) -> float:
    """The web's resident memory over the window's peak, less the web at rest (after start,
    before any stream), per stream."""
    return 1024 * (m["web_rss_mib_max"] - m["web_rss_mib_start"]) / m["clients"]


def per_stream(measures: list[dict], clients: int) -> Figure:
    """Memory per open stream; it counts only when every stream was open in the window."""
    short = [m for m in measures if m["connected_at_window_start"] < clients]
    stats = summary([kib_per_stream(m) for m in measures])
    return Figure(
        f"web RSS growth per stream (over the web at rest), {clients:,} streams"
        + (f" ({len(short)} of {len(measures)} steps not all connected)" if short else ""),
        "KiB",
        stats,
        target=f"≤ {TARGET_KIB_PER_STREAM} KiB",
        ok=not short and stats["max"] is not None and stats["max"] <= TARGET_KIB_PER_STREAM,
    )


def _print(m: dict) -> None:
    lat = m["latency"]
    print(
        f"   {m['mode']} {m['clients']} clients: p50 {lat['median']} p99 {lat['p99']} "
        f"max {lat['max']} n {lat['n']} drops {m['drops']} fails {m['connect_failures']} "
        f"connected {m['connected_at_window_start']} delivered {m['delivered_ratio']} "
        f"web cpu {m['web_cpu_share']:.2f} rss {m['web_rss_mib_max']:.0f} MiB "
        f"client cpu {m['load_client_cpu_share']:.2f} errors {m['errors']} "
        f"status {m['status']}",
        flush=True,
    )
