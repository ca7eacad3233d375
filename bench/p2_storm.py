"""P2-storm: every browser reconnects at once (a web restart, a deploy, a network blip).

The P2 set-up (one site, a 50-tile dashboard, 20 changes a second) on the production
default number of web workers (dashboard/gunicorn_conf.py); 1,000 and then 5,000 clients
open their stream within one second, each with its own session, and reconnect as browsers
do (the stream's `retry:` after a drop, the htmx SSE extension's backoff after a refusal).
Measured from the first connect:

- whether gunicorn killed a worker (its log: WORKER TIMEOUT), which drops every stream;
- the time until every client received a live value (published after it connected);
- the p99 of publish-to-arrival for each second, and the second from which it stays under
  0.5 s.

Targets (1,000 clients): no worker killed, every stream live within 10 s, p99 back under
0.5 s within 15 s. 5,000 clients are reported against the same targets.
"""

from __future__ import annotations

import os
import re

from bench import fanout
from bench.report import Figure, Result, Table
from bench.stack import Stack
from bench.stats import summary
from dashboard import gunicorn_conf

WEB_WORKERS = gunicorn_conf.workers
# BENCH_STORM_CLIENTS="1000" for one size only.
STEPS = tuple(int(n) for n in os.environ.get("BENCH_STORM_CLIENTS", "1000,5000").split(","))
TARGET_CLIENTS = 1000
TARGET_LIVE_SECONDS = 10.0
TARGET_SETTLED_SECONDS = 15.0
TARGET_P99 = 0.5
# The storm, then long enough after it to see the p99 stay down.
RAMP = 1.0
WARMUP = 14.0
DURATION = 16.0
KILLED = re.compile(r"WORKER TIMEOUT|was sent SIG(ABRT|KILL)|Worker \(pid:\d+\) was sent")


def settled_at(series: dict[int, dict], limit: float = TARGET_P99) -> int | None:
    """The first second from which every later second's p99 is at most `limit`."""
    if not series:
        return None
    seconds = sorted(series)
    settled = None
    for second in seconds:
        p99 = series[second]["p99"]
        if p99 is None or p99 > limit:
            settled = None
        elif settled is None:
            settled = second
    return settled


def killed_workers(log_text: str) -> int:
    return sum(1 for line in log_text.splitlines() if "WORKER TIMEOUT" in line)


def run(quick: bool = False) -> Result:
    result = Result("P2-storm", f"Reconnect storm ({WEB_WORKERS} web workers, the default)")
    steps = (100, 300) if quick else STEPS
    measured: list[dict] = []
    with Stack("p2storm") as st:
        server = fanout.start_server(st, sessions=max(steps), web_workers=WEB_WORKERS)
        log_path = st.web.log_path
        for clients in steps:
            before = len(log_path.read_text(errors="replace"))
            m = fanout.step(
                server,
                clients=clients,
                mode="sse",
                duration=DURATION,
                ramp=RAMP,
                warmup=WARMUP,
                # Time for the load-client processes to import before the storm begins.
                lead=3.0 + clients / 1000,
            )
            log_text = log_path.read_text(errors="replace")[before:]
            m["killed"] = killed_workers(log_text)
            m["log_lines"] = [line for line in log_text.splitlines() if KILLED.search(line)][:5]
            m["lost_redis"] = log_text.count("lost Redis")
            lives = m["first_live"]
            m["never_live"] = sum(1 for x in lives if x is None)
            m["all_live_at"] = (
                None if m["never_live"] or not lives else max(x for x in lives if x is not None)
            )
            m["settled_at"] = settled_at(m["series"])
            measured.append(m)
            _print(m)
    for m in measured:
        clients = m["clients"]
        lives = [x for x in m["first_live"] if x is not None]
        result.figures += [
            Figure(f"workers killed, {clients:,} clients", "workers",
                   summary([m["killed"]]), target="0", ok=m["killed"] == 0),
            Figure(
                f"first live value per stream, from the first connect, {clients:,} clients "
                f"({m['never_live']} never)",
                "s", summary(lives) if lives else summary([]),
                target=f"max ≤ {TARGET_LIVE_SECONDS:.0f} s",
                ok=m["all_live_at"] is not None and m["all_live_at"] <= TARGET_LIVE_SECONDS,
            ),
            Figure(
                f"second from which p99 stays ≤ 0.5 s, {clients:,} clients", "s",
                summary([] if m["settled_at"] is None else [m["settled_at"]]),
                target=f"≤ {TARGET_SETTLED_SECONDS:.0f} s",
                ok=m["settled_at"] is not None and m["settled_at"] <= TARGET_SETTLED_SECONDS,
            ),
            Figure(
                f"publish to arrival from {RAMP + WARMUP:.0f} s to "
                f"{RAMP + WARMUP + DURATION:.0f} s, {clients:,} clients",
                "s", m["latency"], target="p99 ≤ 0.5 s",
                ok=m["latency"]["p99"] is not None and m["latency"]["p99"] <= TARGET_P99,
            ),
        ]
        rows = []
        for second, s in sorted(m["series"].items()):
            rows.append([second, s["n"], fanout.seconds(s["median"]), fanout.seconds(s["p99"]),
                         fanout.seconds(s["max"])])
        result.tables.append(Table(
            f"{clients:,} clients: publish to arrival by the second it arrived in (0 = the "
            f"first connect); {m['connects']} connects, {m['drops']} drops, answers "
            f"{m['status']}, load clients started {m['load_clients_late']:.1f} s late, "
            f"web CPU {100 * m['web_cpu_share']:.0f} % and load clients "
            f"{100 * m['load_client_cpu_share']:.0f} % of one core over the last "
            f"{DURATION:.0f} s",
            ["second", "values", "median s", "p99 s", "max s"], rows,
        ))
    result.notes += [
        f"{WEB_WORKERS} web workers: the production default (dashboard/gunicorn_conf.py), "
        "which the demo uses too. The clients' connects are spread evenly over 1 s.",
        "Load clients: bench/loadclient.py (aiohttp on uvloop), one process per "
        f"{fanout.CLIENTS_PER_PROCESS} clients, on the same 2 cores as the server, started "
        "before the storm; their CPU is in each table's title.",
        "A value counts for a client only when it was published after that client's stream "
        "opened (what came before was in its snapshot).",
    ]
    result.raw = {
        str(m["clients"]): {k: v for k, v in m.items() if k not in ("latency_hist", "first_live")}
        for m in measured
    }
    return result


def _print(m: dict) -> None:
    print(
        f"   storm {m['clients']} clients: killed {m['killed']} all live at {m['all_live_at']} "
        f"(never {m['never_live']}) settled at {m['settled_at']} p99 after "
        f"{m['latency']['p99']} drops {m['drops']} fails {m['connect_failures']} "
        f"status {m['status']} lost-redis {m['lost_redis']} errors {m['errors']} "
        f"web cpu {m['web_cpu_share']:.2f} client cpu {m['load_client_cpu_share']:.2f} "
        f"load clients late {m['load_clients_late']:.2f} s "
        f"{m['log_lines']}",
        flush=True,
    )
    for second, s in sorted(m["series"].items()):
        print(f"     {second:3d}s n {s['n']:6d} p50 {s['median']} p99 {s['p99']}", flush=True)
