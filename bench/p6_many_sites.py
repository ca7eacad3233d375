"""P6 many sites: N sites of 200 tags each, every one polled every second, on one worker host.

The sites are served by several simulator processes (SITES_PER_SIMULATOR sites each, each
its own port and certificate, as a plant of many WinCC servers), so that no single simulator
process is the bottleneck; their CPU is measured apart from the worker's. The product polls
them as it runs: one `celery -A dashboard worker` (the product's pool and concurrency, the
production settings) and the one beat, with the schedule beat builds from the configuration.

Over a measured window:
- polls run, per site, from the poll counters the poller writes (`wdash:site:<id>:polls`),
  against the polls due (one per site per second);
- each poll's start, duration and WinCC call from the site health, sampled every 0.25 s;
- CPU seconds (user + system) of the worker (main and pool processes), beat, the simulators,
  Redis and this process, each apart; the worker's per site per second;
- from a probe in the worker (bench/p6_probe.py, Celery's task signals): what became of every
  poll task (ran, found its site busy, expired in the queue) and how long after beat sent it
  the poll began.

Skipped is counted per site and interval: the window is a whole number of intervals, each owes
every site one poll that ran (by beat's send time, from the probe), and each interval of a
site without one is a skipped poll, whatever became of it (never sent, expired, busy, lost).

Steps up the site count (25, 50, 100, 150) and reports the largest that holds: every due poll
ran, none failed. Target: 100 sites with no skipped poll.
"""

from __future__ import annotations

import itertools
import json
import math
import resource
import threading
import time
from collections import Counter
from datetime import datetime
from pathlib import Path

from bench import p6_probe, sites
from bench.report import Figure, Result, Table
from bench.stack import CpuMeter, Stack, rss_bytes
from bench.stats import summary
from wincc_ingest import store

TAGS = 200
INTERVAL = 1.0
TARGET_SITES = 100
SITES_PER_SIMULATOR = 25
SIZES = (25, 50, 100, 150)
QUICK_SIZES = (10, 25)
# The many-sites configuration of docs/scale-out.md: threaded poll workers, the sites split
# between them by queue (each site's snapshot stays in one process), 25 sites per poll task,
# the default queue in a worker of its own.
WORKERS = 4
SITES_PER_TASK = 25
WORKER_ARGS: tuple[str, ...] = ("--pool", "threads", "--concurrency", "8")
PROBE = ("--include", "bench.p6_probe")
# --core-worker: the default queue's worker beside the poll workers.
CORE_WORKER_ARGS: tuple[str, ...] = ("--pool", "threads", "--concurrency", "2")
# A poll sent before the window's end is counted: its outcome is waited for this long.
POLL_SETTLE = 3.0
RAN = ("ok", "failed")  # a poll that ran; any other outcome did not


def site_id(i: int) -> str:
    return f"site-{i:03d}"


def configuration(st: Stack, n_sites: int, tag_names: list[str], workers: int = 1) -> dict:
    tags = [{"name": n} for n in tag_names]
    site_list = []
    for i in range(n_sites):
        # Consecutive sites of one queue (one poll task) on different simulators: the task
        # polls them all at once, as many WinCC servers would be asked at once.
        sim = st.sims[(i // workers) % len(st.sims)]
        site = sites.site_config(st, site_id=site_id(i), tags=tags, poll_interval=INTERVAL,
                                 url=sim.url)
        site["tls"] = {"ca_file": sim.ca_file}
        site["name"] = f"Benchmark site {i}"
        if workers > 1:
            site["queue"] = f"poll-{i % workers}"
        site_list.append(site)
    return {"sites": site_list, "dashboards": []}


class HealthSampler(threading.Thread):
    """Reads every site's health in one pipeline every `every` s; keeps each new attempt."""

    FIELDS = ("last_attempt", "duration_ms", "latency_ms", "failures")

    def __init__(self, st: Stack, ids: list[str], stop_at: float, queues: list[str],
                 every: float = 0.25) -> None:
        super().__init__(daemon=True)
        self.r = st.redis()
        self.ids = ids
        self.queues = queues
        self.stop_at = stop_at
        self.every = every
        self.polls: dict[str, list[tuple[float, float, float]]] = {i: [] for i in ids}
        self.queue_lengths: list[int] = []
        self._last: dict[str, str] = {}

    def run(self) -> None:
        while time.time() < self.stop_at:
            t0 = time.time()
            pipe = self.r.pipeline(transaction=False)
            for i in self.ids:
                pipe.hmget(store.site_health(i), self.FIELDS)
            for q in self.queues:
                pipe.llen(q)
            rows = pipe.execute()
            rows, queued = rows[:len(self.ids)], rows[len(self.ids):]
            self.queue_lengths.append(sum(queued))
            for i, (attempt, duration, latency, _failures) in zip(self.ids, rows, strict=True):
                if attempt and attempt != self._last.get(i):
                    self._last[i] = attempt
                    self.polls[i].append((datetime.fromisoformat(attempt).timestamp(),
                                          float(duration or 0), float(latency or 0)))
            time.sleep(max(0.0, self.every - (time.time() - t0)))
        self.r.close()


def _counters(st: Stack, ids: list[str]) -> dict[str, tuple[int, int]]:
    r = st.redis()
    pipe = r.pipeline(transaction=False)
    for i in ids:
        pipe.hmget(store.site_polls(i), ("polls", "failures"))
    out = {i: (int(p or 0), int(f or 0)) for i, (p, f) in zip(ids, pipe.execute(), strict=True)}
    r.close()
    return out


def probe_lines(st: Stack, start: float, end: float) -> list[tuple[float, str, str, float | None]]:
    """What bench.p6_probe recorded in the worker between `start` and `end`."""
    r = st.redis()
    raw = r.lrange(p6_probe.KEY, 0, -1)
    r.close()
    return [tuple(row) for row in map(json.loads, raw) if start <= row[0] <= end]


def sent_within(rows: list, start: float, end: float) -> list:
    """The probe's lines of the polls beat sent in [start, end)."""
    return [row for row in rows if row[5] is not None and start <= row[5] < end]


def polls_ran(probed: list, ids: list[str], due: int) -> tuple[dict[str, int], int]:
    """Per site, the polls that ran (ok or failed) of those sent in the window; and the
    skipped polls: each interval of the window owes each site one poll that ran, the interval
    being the one beat sent it in, and whatever else became of it (never sent, dropped in the
    queue, found the previous poll still running, lost) is a skipped poll. The window is a
    whole number of intervals, so a send a little late at one edge is matched by one at the
    other; a site that ran more polls than intervals makes up for no other."""
    by_site = Counter(row[1] for row in probed if row[2] in RAN)
    ran = {i: by_site.get(i, 0) for i in ids}
    return ran, sum(max(0, due - ran[i]) for i in ids)


def self_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def measure(n_sites: int, duration: float, warmup: float, windows: int = 1,
            worker_args: tuple[str, ...] = WORKER_ARGS, workers: int = WORKERS,
            sites_per_task: int = 1, sites_per_simulator: int = SITES_PER_SIMULATOR,
            cache_answers: bool = False, core_worker: bool = False) -> list[dict]:
    with Stack(f"p6-{n_sites}") as st:
        st.env["POLL_SITES_PER_TASK"] = str(sites_per_task)
        st.start_redis()
        sites.simulator_secrets(st)
        st.start_simulators(math.ceil(n_sites / sites_per_simulator), tags=TAGS,
                            cache_answers=cache_answers)
        st.sim = None  # every simulator is in st.sims
        names = sites.simulator_tag_names(st, TAGS)
        st.write_config(configuration(st, n_sites, names, workers))
        # The journal consumer and the other periodic tasks run as in production.
        st.manage("migrate", "--noinput")
        ids = [site_id(i) for i in range(n_sites)]
        if workers > 1 and core_worker:
            # The default queue (journal, shelving, the trend store's flush of closed minutes,
            # which writes every site's minute at once) in a worker of its own, as
            # docs/scale-out.md lays out: the poll workers only poll.
            celery = st.start_celery(
                worker_args=(*CORE_WORKER_ARGS, "--queues", "celery,deliveries", *PROBE))
            for k in range(workers):
                st.start_worker(f"worker{k}", (*worker_args, "--queues", f"poll-{k}", *PROBE))
        elif workers > 1:
            # The first also runs the default queue (journal, shelving, trend store).
            celery = st.start_celery(
                worker_args=(*worker_args, "--queues", "celery,deliveries,poll-0", *PROBE))
            for k in range(1, workers):
                st.start_worker(f"worker{k}", (*worker_args, "--queues", f"poll-{k}", *PROBE))
        else:
            celery = st.start_celery(worker_args=(*worker_args, *PROBE))
        # Until every site was polled once; a worker that cannot keep up never gets there,
        # and the window then shows how far it falls short.
        r = st.redis()
        deadline = time.time() + 60
        while time.time() < deadline:
            pipe = r.pipeline(transaction=False)
            for i in ids:
                pipe.hget(store.site_health(i), "last_success")
            if all(pipe.execute()):
                break
            for proc in (celery.worker, celery.beat, *(w.worker for w in st.more_workers)):
                if not proc.alive():
                    raise RuntimeError(f"celery stopped:\n{celery.logs()}")
            time.sleep(0.5)
        r.close()
        time.sleep(warmup)
        out = [_window(st, ids, duration) for _ in range(windows)]
        for m in out:
            m["worker_args"] = " ".join(worker_args)
            m["workers"] = workers
            m["sites_per_task"] = sites_per_task
            m["cache_answers"] = cache_answers
            m["core_worker"] = core_worker
        return out


def _window(st: Stack, ids: list[str], duration: float) -> dict:
    celery = st.celery
    worker, beat = celery.worker, celery.beat
    mains = [worker.pid, *(w.worker.pid for w in st.more_workers)]
    meters = {
        "worker": CpuMeter(mains),
        "beat": CpuMeter([beat.pid]),
        "simulators": CpuMeter([s.proc.pid for s in st.sims]),
        "redis": CpuMeter([st.proc("redis").pid]),
    }
    # Each worker apart: the first also runs the default queue's periodic tasks (the journal
    # consumer, the trend store's flush of closed minutes), the others only polls.
    each = [CpuMeter([pid]) for pid in mains]
    for m in each:
        m.start()
    before = _counters(st, ids)
    due = int(duration // INTERVAL)  # a whole number of intervals (see `skipped` below)
    start = time.time()
    end = start + due * INTERVAL
    # The broker's queues the polls wait in: the default one, or one per worker.
    queues = ["celery"]
    if st.more_workers:
        queues += [f"poll-{k}" for k in range(len(st.more_workers) + 1)]
    sampler = HealthSampler(st, ids, end, queues)
    own0 = self_cpu()
    for m in meters.values():
        m.start()
    sampler.start()
    rss = []
    while time.time() < end:
        time.sleep(min(1.0, max(0.0, end - time.time())))
        for m in meters.values():
            m.sample()
        rss.append(rss_bytes(mains))
    cpu = {name: m.stop() for name, m in meters.items()}
    sampler.join(timeout=10)
    cpu_each = [m.stop() / (time.time() - start) for m in each]
    worker_main = sum(meters["worker"].last.get(pid, 0.0) - meters["worker"].first.get(pid, 0.0)
                      for pid in mains)
    own = self_cpu() - own0
    elapsed = time.time() - start
    after = _counters(st, ids)
    # The polls beat sent in the window, by their send time: the last may still be running.
    time.sleep(POLL_SETTLE)
    probed = sent_within(probe_lines(st, start - INTERVAL, end + POLL_SETTLE + 5), start, end)
    outcomes = Counter(row[2] for row in probed)
    late = [row[3] for row in probed if row[3] is not None]
    body_cpu = [row[4] for row in probed if row[4] is not None]

    counted = {i: after[i][0] - before[i][0] for i in ids}
    failed = sum(after[i][1] - before[i][1] for i in ids)
    ran, skipped = polls_ran(probed, ids, due)
    gap_max = 0.0
    durations, latencies = [], []
    for i in ids:
        attempts = [p[0] for p in sampler.polls[i] if start <= p[0] <= end]
        gap_max = max([gap_max, *(b - a for a, b in itertools.pairwise(attempts))])
        durations += [p[1] for p in sampler.polls[i] if start <= p[0] <= end]
        latencies += [p[2] for p in sampler.polls[i] if start <= p[0] <= end]
    return {
        "sites": len(ids),
        "simulators": len(st.sims),
        "seconds": elapsed,
        "due": due * len(ids),
        "ran": sum(ran.values()),
        "skipped": skipped,
        "failed": failed,
        # The poller's own counters over the window (a poll counts when it ends).
        "counted": sum(counted.values()),
        "sites_short": sum(1 for i in ids if ran[i] < due),
        "extra": sum(max(0, ran[i] - due) for i in ids),
        "failed_tasks": outcomes.get("failed", 0) + outcomes.get("error", 0),
        "gap_max": gap_max,
        "expired": outcomes.get("expired", 0) + outcomes.get("revoked", 0),
        "busy": outcomes.get("busy", 0) + outcomes.get("backing off", 0),
        "outcomes": dict(outcomes),
        "cpu_share": {name: v / elapsed for name, v in cpu.items()} | {"bench": own / elapsed},
        "worker_ms_per_site_second": cpu["worker"] / elapsed / len(ids) * 1000,
        "worker_ms_per_poll": cpu["worker"] / max(1, sum(counted.values())) * 1000,
        # The worker's main process (the broker, and with prefork handing tasks to the pool)
        # apart from its pool processes (the polls).
        "worker_main_share": worker_main / elapsed,
        "worker_shares": cpu_each,
        # CPU of the poll task's body alone (its thread, between Celery's prerun and postrun).
        "poll_body_ms": sum(body_cpu) / len(body_cpu) * 1000 if body_cpu else None,
        "worker_rss_mib": max(rss) / 2**20 if rss else None,
        "queue_max": max(sampler.queue_lengths, default=0),  # all the poll queues together
        "late_s": late,
        "duration_ms": durations,
        "latency_ms": latencies,
    }


def holds(m: dict) -> bool:
    # Every site ran a poll in every interval of the window, and none failed.
    return m["skipped"] == 0 and m["failed"] == 0


def run(quick: bool = False, duration: float = 30.0, sizes: tuple[int, ...] = SIZES,
        worker_args: tuple[str, ...] = WORKER_ARGS, workers: int = WORKERS,
        sites_per_task: int = SITES_PER_TASK) -> Result:
    result = Result("P6", f"Many sites: N sites x {TAGS} tags at 1 s on one worker host")
    warmup = 10.0
    if quick:
        sizes, duration, warmup = QUICK_SIZES, 10.0, 4.0
    measured: dict[int, dict] = {}
    for n in sizes:
        measured[n] = measure(n, duration, warmup, worker_args=worker_args, workers=workers,
                              sites_per_task=sites_per_task, cache_answers=True,
                              core_worker=True)[0]
        print(f"   {n} sites: {_line(measured[n])}", flush=True)
        if not holds(measured[n]) and n >= TARGET_SITES:
            break  # larger counts would not hold either
    held = [n for n, m in measured.items() if holds(m)]
    largest = max(held, default=0)
    rows = []
    for n, m in measured.items():
        late = summary(m["late_s"])
        d = summary(m["duration_ms"])
        cpu = m["cpu_share"]
        rows.append([
            n, m["simulators"], f"{m['ran']}/{m['due']}", m["skipped"], m["failed"],
            m["expired"], m["busy"], f"{m['gap_max']:.2f}",
            _ms(late["median"] and late["median"] * 1000), _ms(late["p95"] and late["p95"] * 1000),
            _ms(d["median"]), _ms(d["p95"]),
            f"{cpu['worker'] * 100:.0f} %", f"{m['worker_main_share'] * 100:.0f} %",
            f"{m['worker_ms_per_site_second']:.1f}",
            f"{m['worker_ms_per_poll']:.1f}", _ms1(m["poll_body_ms"]),
            f"{cpu['simulators'] * 100:.0f} %",
            f"{cpu['redis'] * 100:.0f} %", f"{cpu['beat'] * 100:.1f} %",
            f"{cpu['bench'] * 100:.0f} %", f"{m['worker_rss_mib']:.0f}", m["queue_max"],
        ])
    target_m = measured.get(TARGET_SITES)
    for n, m in measured.items():
        is_target = n == TARGET_SITES
        result.figures.append(Figure(
            f"skipped polls, {n} sites ({m['ran']} run of {m['due']} due)", "polls",
            {"n": 1, "median": m["skipped"], "p95": None, "p99": None, "max": m["skipped"]},
            target="0" if is_target else "", ok=holds(m) if is_target else None,
        ))
        result.figures.append(Figure(
            f"worker CPU per site, {n} sites (ms of CPU per site per second)", "ms",
            {"n": 1, "median": round(m["worker_ms_per_site_second"], 2), "p95": None,
             "p99": None, "max": None},
        ))
        late = [x * 1000 for x in m["late_s"]]
        result.figures.append(Figure(f"poll start after beat sent it, {n} sites", "ms",
                                     summary(late)))
    result.figures.append(Figure(
        "largest site count that holds (every due poll ran)", "sites",
        {"n": len(measured), "median": largest, "p95": None, "p99": None, "max": None},
        target=f">= {TARGET_SITES}",
        ok=largest >= TARGET_SITES if target_m is not None or not quick else None,
    ))
    result.tables.append(Table(
        f"Each step ({duration:.0f} s window after {warmup:.0f} s warm-up; {workers} poll "
        f"workers `celery -A dashboard worker {' '.join(worker_args)}`, the sites split "
        f"between them by queue, POLL_SITES_PER_TASK={sites_per_task}, the default queue in a "
        "worker of its own; the simulators with --cache-answers; CPU in % of one core, "
        "user + system)",
        ["sites", "simulators", "polls run/due", "skipped", "failed", "expired", "busy",
         "largest gap s", "start late median ms", "p95 ms", "poll duration median ms",
         "p95 ms", "worker CPU", "of which main process", "worker CPU ms per site-second",
         "worker CPU ms per poll", "of which the poll's body ms",
         "simulators CPU", "Redis CPU", "beat CPU", "bench CPU", "worker RSS MiB",
         "queue max"],
        rows,
    ))
    result.notes.append(
        "Everything runs on the same two cores: the simulators' CPU is not the worker's, but it "
        "takes cores the worker would have on a host of its own. The worker's own cost per "
        "site-second is the sizing figure (docs/scale-out.md)."
    )
    result.raw = {str(n): {k: v for k, v in m.items()
                           if k not in ("late_s", "duration_ms", "latency_ms")}
                  | {"late_ms": summary([x * 1000 for x in m["late_s"]]),
                     "duration_ms": summary(m["duration_ms"]),
                     "latency_ms": summary(m["latency_ms"])}
                  for n, m in measured.items()}
    return result


def _line(m: dict) -> str:
    late = summary(m["late_s"])
    return (f"ran {m['ran']}/{m['due']}, skipped {m['skipped']}, failed {m['failed']}, "
            f"expired {m['expired']}, busy {m['busy']}, worker CPU "
            f"{m['cpu_share']['worker'] * 100:.0f} % (main {m['worker_main_share'] * 100:.0f} %; "
            f"{m['worker_ms_per_site_second']:.1f} ms "
            f"per site-second, {m['worker_ms_per_poll']:.1f} ms per poll, body "
            f"{_ms1(m['poll_body_ms'])} ms; each worker "
            f"{', '.join(f'{x * 100:.0f} %' for x in m['worker_shares'])}), simulators "
            f"{m['cpu_share']['simulators'] * 100:.0f} %, redis "
            f"{m['cpu_share']['redis'] * 100:.0f} %, start late p95 "
            f"{_ms(late['p95'] and late['p95'] * 1000)} ms, queue max {m['queue_max']}")


def _ms(value: float | None) -> str:
    return "-" if value is None else f"{value:.0f}"


def _ms1(value: float | None) -> str:
    return "-" if value is None else f"{value:.1f}"


def main(argv: list[str] | None = None) -> int:
    """One or more sizes alone: python -m bench.p6_many_sites --sites 100 --duration 30."""
    import argparse
    import json

    p = argparse.ArgumentParser(description="P6 at the given site counts, printed as JSON")
    p.add_argument("--sites", default="100", help="comma-separated site counts")
    p.add_argument("--duration", type=float, default=30.0)
    p.add_argument("--warmup", type=float, default=10.0)
    p.add_argument("--worker-args", default=" ".join(WORKER_ARGS),
                   help="celery worker options (default: %(default)s)")
    p.add_argument("--workers", type=int, default=WORKERS,
                   help="worker processes, the sites split between them by queue")
    p.add_argument("--sites-per-task", type=int, default=SITES_PER_TASK,
                   help="POLL_SITES_PER_TASK of the worker and beat (default: %(default)s)")
    p.add_argument("--sites-per-simulator", type=int, default=SITES_PER_SIMULATOR,
                   help="sites served by one simulator process (default: %(default)s)")
    p.add_argument("--cache-answers", action=argparse.BooleanOptionalAction, default=True,
                   help="the simulators answer a repeated tag read of one plant tick from the "
                        "bytes already made (wincc_sim --cache-answers)")
    p.add_argument("--core-worker", action=argparse.BooleanOptionalAction, default=True,
                   help="the default queue (journal, trend store) in a worker of its own, "
                        "--workers poll workers beside it")
    p.add_argument("--out", help="also write the JSON here")
    args = p.parse_args(argv)
    out = []
    for n in (int(x) for x in args.sites.split(",")):
        m = measure(n, args.duration, args.warmup, worker_args=tuple(args.worker_args.split()),
                    workers=args.workers, sites_per_task=args.sites_per_task,
                    sites_per_simulator=args.sites_per_simulator,
                    cache_answers=args.cache_answers, core_worker=args.core_worker)[0]
        print(f"{n} sites: {_line(m)}", flush=True)
        m["late_ms"] = summary([x * 1000 for x in m.pop("late_s")])
        m["duration_ms"] = summary(m.pop("duration_ms"))
        m["latency_ms"] = summary(m.pop("latency_ms"))
        out.append(m)
    text = json.dumps(out, indent=1)
    print(text)
    if args.out:
        Path(args.out).write_text(text, encoding="utf-8")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
