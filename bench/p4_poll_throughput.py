"""P4 poll throughput: one site of N tags polled every second by one worker process.

The simulator serves N tags over HTTPS; one Celery worker (concurrency 1) and the beat
poll the one site every second through the real task, client and poller. Over a measured
window the worker's CPU (its main process and its pool child, user + system) is read with
psutil, and every poll is counted from the site health in Redis, sampled every 50 ms:
each new `last_attempt` is one poll. A poll is "skipped" when two polls are more than 1.5
intervals apart, or when fewer polls ran than the window holds intervals.
Target: at 10,000 tags the worker uses under 30 % of one core and no poll is skipped.
"""

from __future__ import annotations

import itertools
import threading
import time

from bench import sites
from bench.report import Figure, Result, Table
from bench.stack import CpuMeter, Stack, rss_bytes
from bench.stats import summary
from wincc_ingest import codec, store

TARGET_TAGS = 10_000
TARGET_CPU = 0.30


class HealthWatcher(threading.Thread):
    """Samples the site's health hash; records each poll's attempt time and durations."""

    def __init__(self, stack: Stack, site: str, stop_at: float) -> None:
        super().__init__(daemon=True)
        self.r = stack.redis()
        self.site = site
        self.stop_at = stop_at
        self.polls: list[tuple[float, str, float | None, float | None, int]] = []
        self._last = None

    def run(self) -> None:
        key = store.site_health(self.site)
        while time.time() < self.stop_at:
            raw = self.r.hgetall(key)
            attempt = raw.get("last_attempt")
            if attempt and attempt != self._last:
                self._last = attempt
                health = codec.decode_health(raw)
                self.polls.append(
                    (
                        health.last_attempt.timestamp(),
                        attempt,
                        health.duration_ms,
                        health.latency_ms,
                        health.failures,
                    )
                )
            time.sleep(0.05)
        self.r.close()


def measure(n_tags: int, duration: float, warmup: float, windows: int = 1) -> list[dict]:
    with Stack(f"p4-{n_tags}") as st:
        st.start_redis()
        sites.simulator_secrets(st)
        st.start_simulator(tags=n_tags)
        names = sites.simulator_tag_names(st, n_tags)
        config = sites.config_for(
            st, site_id="bench", tags=[{"name": n} for n in names], poll_interval=1.0
        )
        st.write_config(config)
        celery = st.start_celery(concurrency=1)
        worker, beat = celery.worker, celery.beat
        # Wait for the first successful poll, then let the pool warm up.
        r = st.redis()
        deadline = time.time() + 60
        while time.time() < deadline:
            raw = r.hgetall(store.site_health("bench"))
            if raw.get("last_success"):
                break
            if not worker.alive() or not beat.alive():
                raise RuntimeError(f"celery stopped:\n{worker.tail()}\n{beat.tail()}")
            time.sleep(0.2)
        else:
            raise RuntimeError(
                f"no successful poll within 60 s:\n{r.hgetall(store.site_health('bench'))}"
                f"\n{worker.tail()}"
            )
        time.sleep(warmup)
        out = []
        for _ in range(windows):
            out.append(_window(st, worker, beat, duration, n_tags))
        r.close()
        return out


def _window(st: Stack, worker, beat, duration: float, n_tags: int) -> dict:
    """One measured window on a running stack."""
    r = st.redis()
    window_start = time.time()
    window_end = window_start + duration
    watcher = HealthWatcher(st, "bench", window_end)
    meter = CpuMeter([worker.pid])
    beat_meter = CpuMeter([beat.pid])
    sim_meter = CpuMeter([st.proc("simulator").pid])
    redis_meter = CpuMeter([st.proc("redis").pid])
    for m in (meter, beat_meter, sim_meter, redis_meter):
        m.start()
    watcher.start()
    rss = []
    while time.time() < window_end:
        time.sleep(min(1.0, max(0.0, window_end - time.time())))
        meter.sample()
        rss.append(rss_bytes([worker.pid]))
    watcher.join(timeout=5)
    cpu = meter.stop()
    elapsed = time.time() - window_start
    health = codec.decode_health(r.hgetall(store.site_health("bench")))
    r.close()
    polls = [p for p in watcher.polls if window_start <= p[0] <= window_end]
    attempts = [p[0] for p in polls]
    gaps = [b - a for a, b in itertools.pairwise(attempts)]
    expected = int(duration // 1.0)
    skipped_gaps = sum(max(0, round(g / 1.0) - 1) for g in gaps if g > 1.5)
    return {
        "tags": n_tags,
        "seconds": elapsed,
        "cpu_seconds": cpu,
        "cpu_share": cpu / elapsed,
        "beat_cpu_share": beat_meter.stop() / elapsed,
        "simulator_cpu_share": sim_meter.stop() / elapsed,
        "redis_cpu_share": redis_meter.stop() / elapsed,
        "worker_rss_mib": max(rss) / 2**20 if rss else None,
        "polls": len(polls),
        "expected_polls": expected,
        "failed_polls": sum(1 for p in polls if p[4]),
        "skipped": max(skipped_gaps, expected - len(polls)),
        "gap_max": max(gaps) if gaps else None,
        "duration_ms": [p[2] for p in polls if p[2] is not None],
        "latency_ms": [p[3] for p in polls if p[3] is not None],
        "last_error": health.last_error,
    }


def run(quick: bool = False, runs: int = 3, duration: float = 40.0) -> Result:
    result = Result("P4", "Poll throughput (one site, one worker process, 1 s interval)")
    sizes = [200, 1000] if quick else [1_000, 10_000, 20_000]
    if quick:
        runs, duration = 1, 8.0
    rows = []
    by_size: dict[int, list[dict]] = {}
    target = sizes[-1] if quick else TARGET_TAGS
    for n in sizes:
        # Several consecutive windows (runs) on one stack at the target size, one elsewhere.
        by_size[n] = measure(
            n, duration, warmup=3.0 if quick else 8.0, windows=runs if n == target else 1
        )
    for n, measures in by_size.items():
        cpu = [m["cpu_share"] * 100 for m in measures]
        durations = [d for m in measures for d in m["duration_ms"]]
        latency = [d for m in measures for d in m["latency_ms"]]
        skipped = sum(m["skipped"] for m in measures)
        polls = sum(m["polls"] for m in measures)
        expected = sum(m["expected_polls"] for m in measures)
        d = summary(durations)
        rows.append(
            [
                f"{n:,}",
                len(measures),
                f"{summary(cpu)['median']:.1f} %",
                f"{max(cpu):.1f} %",
                f"{polls}/{expected}",
                skipped,
                _ms(d["median"]),
                _ms(d["p95"]),
                _ms(summary(latency)["median"]),
                f"{max(m['worker_rss_mib'] or 0 for m in measures):.0f}",
                f"{summary([m['simulator_cpu_share'] * 100 for m in measures])['median']:.0f} %",
                f"{summary([m['beat_cpu_share'] * 100 for m in measures])['median']:.1f} %",
            ]
        )
        target_size = n == target
        result.figures.append(
            Figure(
                f"worker CPU, {n:,} tags (% of one core, per run)",
                "%",
                summary(cpu),
                target="< 30 %" if target_size else "",
                ok=(max(cpu) < TARGET_CPU * 100) if target_size else None,
            )
        )
        result.figures.append(
            Figure(
                f"skipped polls, {n:,} tags ({polls} polls, {expected} intervals)",
                "polls",
                {
                    "n": len(measures),
                    "median": skipped,
                    "p95": None,
                    "p99": None,
                    "max": max(m["skipped"] for m in measures),
                },
                target="0" if target_size else "",
                ok=(skipped == 0 and all(m["failed_polls"] == 0 for m in measures))
                if target_size
                else None,
            )
        )
        result.figures.append(Figure(f"poll duration, {n:,} tags", "ms", d))
    result.tables.append(
        Table(
            "How the cost grows (window of each run: "
            f"{duration:.0f} s after warm-up; CPU = worker main + pool process, user + system)",
            [
                "tags",
                "runs",
                "worker CPU median",
                "worker CPU max",
                "polls / intervals",
                "skipped",
                "poll duration median ms",
                "p95 ms",
                "WinCC call median ms",
                "worker RSS MiB",
                "simulator CPU",
                "beat CPU",
            ],
            rows,
        )
    )
    result.raw = {
        str(n): [{k: v for k, v in m.items() if k not in ("duration_ms", "latency_ms")} for m in ms]
        for n, ms in by_size.items()
    }
    return result


def _ms(value: float | None) -> str:
    return "-" if value is None else f"{value:.0f}"


def main(argv: list[str] | None = None) -> int:
    """One size alone: python -m bench.p4_poll_throughput --tags 10000 --duration 20."""
    import argparse
    import json
    import statistics

    p = argparse.ArgumentParser(description="P4 at one size, printed as JSON")
    p.add_argument("--tags", type=int, default=TARGET_TAGS)
    p.add_argument("--duration", type=float, default=20.0)
    p.add_argument("--windows", type=int, default=1)
    p.add_argument("--out", help="also write the JSON here")
    args = p.parse_args(argv)
    out = []
    for m in measure(args.tags, args.duration, warmup=5.0, windows=args.windows):
        durations, latencies = m.pop("duration_ms"), m.pop("latency_ms")
        m["duration_ms_median"] = statistics.median(durations) if durations else None
        m["latency_ms_median"] = statistics.median(latencies) if latencies else None
        out.append(m)
    text = json.dumps(out, indent=1)
    print(text)
    if args.out:
        with open(args.out, "w", encoding="utf-8") as fh:
            fh.write(text)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
