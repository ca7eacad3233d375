"""Run the benchmarks and append a dated section to docs/benchmarks.md.

    python -m bench                 # all four, full sizes (make bench)
    python -m bench --quick         # a smoke run with small sizes
    python -m bench --only p2,p3    # a selection

Every benchmark starts its own processes and ends them, also on error; the whole run is
bounded by --max-minutes.
"""

from __future__ import annotations

import argparse
import os
import shlex
import signal
import sys
import time
import traceback
from datetime import UTC, datetime
from pathlib import Path

from bench import report

BENCHMARKS = {
    "p1": ("bench.p1_end_to_end", "P1", "End to end, simulator to browser DOM"),
    "p1-push": ("bench.p1_push", "P1-push", "End to end, pushed by Unified and polled, same run"),
    "p1-push-rest": ("bench.p1_push_rest", "P1-push-rest",
                     "Pushed by a Classic REST Connector vs polled, simulator to browser DOM"),
    "p2": ("bench.p2_fanout", "P2", "SSE fan-out"),
    "p2-storm": ("bench.p2_storm", "P2-storm", "Reconnect storm"),
    "p3": ("bench.p3_poll_vs_sse", "P3", "Server cost, polling fallback against SSE"),
    "p4": ("bench.p4_poll_throughput", "P4", "Poll throughput"),
    "p6": ("bench.p6_many_sites", "P6", "Many sites on one worker host"),
    "p6-cpu": ("bench.p6_cpu", "P6-cpu", "CPU per poll of a 200-tag site, worker and Redis"),
    "p5-trend": ("bench.p5_trend", "P5-trend", "Trend data, 8 pens, 24 h and 7 days"),
    "p5-journal": ("bench.p5_journal", "P5 journal", "Alarm journal at 1,000,000 rows"),
    "p5-kpi": ("bench.p5_kpi", "P5-kpi", "Alarm KPI page over 30 days of journal"),
    "p5-browser": ("bench.p5_trend_browser", "P5-browser", "Trend drawn in Chromium"),
    "p7": ("bench.p7_light_pages", "P7", "Light pages on throttled Chromium"),
    "p8": ("bench.p8_acknowledge", "P8", "Acknowledge round trip, click to both pages"),
    "p8-push": ("bench.p8_push", "P8-push",
                "Acknowledge round trip on a subscribed Unified site"),
}


class RunTimeout(Exception):
    pass


def _alarm(signum, frame):
    raise RunTimeout("the benchmark run reached its time bound (--max-minutes)")


def _terminate(signum, frame):
    # As Ctrl-C: every Stack on the way out stops its processes.
    raise KeyboardInterrupt


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true", help="small sizes, a smoke run")
    parser.add_argument("--only", default="", help="comma-separated: " + ",".join(BENCHMARKS))
    parser.add_argument("--no-report", action="store_true", help="do not write the docs")
    parser.add_argument("--doc", default=str(report.DOC), help="the Markdown file to append to")
    parser.add_argument("--max-minutes", type=float, default=50.0)
    args = parser.parse_args(argv)
    chosen = [b.strip().lower() for b in args.only.split(",") if b.strip()] or list(BENCHMARKS)
    unknown = [b for b in chosen if b not in BENCHMARKS]
    if unknown:
        parser.error(f"unknown benchmark(s): {', '.join(unknown)}")

    command = os.environ.get("BENCH_COMMAND") or "python -m bench " + shlex.join(
        sys.argv[1:] if argv is None else argv
    )
    load_before = [round(x, 2) for x in os.getloadavg()]
    print(f"load average before the run: {load_before}", flush=True)
    if load_before[0] > 1.0:
        print("warning: the machine is busy; the figures will show it", flush=True)
    started = datetime.now(UTC)
    signal.signal(signal.SIGALRM, _alarm)
    signal.signal(signal.SIGTERM, _terminate)
    signal.signal(signal.SIGINT, signal.default_int_handler)
    signal.alarm(int(args.max_minutes * 60))
    results: list[report.Result] = []
    try:
        for key in chosen:
            module_name, ident, title = BENCHMARKS[key]
            t0 = time.monotonic()
            print(f"== {ident} {title}", flush=True)
            load = " / ".join(f"{x:.2f}" for x in os.getloadavg())
            results.append(_run_one(module_name, ident, title, args.quick))
            res = results[-1]
            res.notes.append(
                f"Load average when this benchmark started: {load}; it took "
                f"{time.monotonic() - t0:.0f} s."
            )
            print(f"   {res.status} in {time.monotonic() - t0:.0f} s {res.reason}", flush=True)
            for fig in res.figures:
                verdict = "" if fig.ok is None else ("PASS" if fig.ok else "MISS")
                s = fig.stats
                print(
                    f"   {fig.name}: median {s.get('median')} p95 {s.get('p95')} "
                    f"p99 {s.get('p99')} max {s.get('max')} {fig.unit} {fig.target} {verdict}",
                    flush=True,
                )
    except RunTimeout as exc:
        done = {r.id for r in results}
        for key in chosen:
            _, ident, title = BENCHMARKS[key]
            if ident not in done:
                results.append(report.Result(ident, title, status="not run", reason=str(exc)))
    finally:
        signal.alarm(0)
    if not args.no_report:
        raw = report.write(
            results,
            started=started,
            command=command,
            load_before=load_before,
            quick=args.quick,
            doc=Path(args.doc),
        )
        print(f"wrote {args.doc} and {raw}", flush=True)
    return 0 if all(r.status == "ok" for r in results) else 1


def _run_one(module_name: str, ident: str, title: str, quick: bool) -> report.Result:
    try:
        module = __import__(module_name, fromlist=["run"])
    except ImportError as exc:
        return report.Result(ident, title, status="not run", reason=f"cannot import: {exc}")
    try:
        return module.run(quick=quick)
    except RunTimeout:
        raise
    except Exception as exc:
        traceback.print_exc()
        return report.Result(ident, title, status="error", reason=f"{type(exc).__name__}: {exc}")


if __name__ == "__main__":
    sys.exit(main())
