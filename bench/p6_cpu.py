"""P6-cpu: the CPU one poll of a 200-tag site costs the worker and Redis, as P6 polls it.

    python -m bench.p6_cpu --sites 25 --seconds 30          # CPU per poll, worker and Redis
    python -m bench.p6_cpu --sites 25 --seconds 20 --profile cprofile   # where it goes

Starts a private Redis and one simulator (HTTPS, --cache-answers, as P6 runs them), then
polls `--sites` sites of 200 tags in this process with the product's own pollers
(wincc_ingest.poller.Pollers), each site once a second on a thread of its own, as one
`dashboard.tasks.poll_sites` task of P6's workers does. Half or more of the values change
from one second to the next (the simulator's filler tags move every tick), as in P6; a
tight loop of one site would see few changes and understate the cost.

Over the measured seconds it reports the CPU time (user + system) of this process per poll
(the worker's share of a poll, without Celery's hand-over, which P6 itself measures) and of
Redis per poll (`INFO cpu` before and after), with Redis' own time per command
(`INFO commandstats`). Process CPU time is counted by the kernel per process, so other load
on the machine moves these figures far less than wall times (it still does a little: caches
and frequency are shared).

`--profile cprofile` polls the sites one after another on the main thread (cProfile sees one
thread) and prints the functions by own time.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from concurrent.futures import ThreadPoolExecutor

from bench import p6_many_sites, sites
from bench.profile_poll import cpu as process_cpu
from bench.profile_poll import make_profiler
from bench.report import Figure, Result, Table
from bench.stack import Stack

TAGS = p6_many_sites.TAGS
SITES = p6_many_sites.SITES_PER_TASK  # one poll task's sites, polled together
SECONDS = 30
WARMUP = 5


def redis_cpu(r) -> float:
    info = r.info("cpu")
    return float(info["used_cpu_user"]) + float(info["used_cpu_sys"])


def redis_commands(r) -> dict[str, tuple[int, int]]:
    """Redis' calls and microseconds per command since it started."""
    stats = r.info("commandstats")
    return {name.removeprefix("cmdstat_"): (int(v["calls"]), int(v["usec"]))
            for name, v in stats.items()}


def measure(n_sites: int = SITES, seconds: int = SECONDS, warmup: int = WARMUP,
            profile: str = "none", sequential: bool = False) -> dict:
    """Poll `n_sites` sites once a second for `seconds` after `warmup`; the CPU per poll."""
    with Stack("p6-cpu") as st:
        st.start_redis()
        sites.simulator_secrets(st)
        st.start_simulators(1, tags=TAGS, cache_answers=True)
        names = sites.simulator_tag_names(st, TAGS)
        path = st.write_config(p6_many_sites.configuration(st, n_sites, names))
        os.environ.update({k: v for k, v in st.env.items() if k.startswith("WINCC_SIM_")})
        import redis

        from dashboard.redis_client import OPTIONS
        from wincc_ingest import config as site_config
        from wincc_ingest.poller import Pollers

        config = site_config.load(path)
        client = redis.Redis.from_url(st.redis_url, **OPTIONS)
        pollers = Pollers(config.sites, client)
        ids = [site.id for site in config.sites]
        threads = ThreadPoolExecutor(max_workers=2 * n_sites, thread_name_prefix="poll")
        sequential = sequential or profile != "none"

        def poll_round() -> list[str]:
            if sequential:
                return [pollers.poll(i).status for i in ids]
            return list(threads.map(lambda i: pollers.poll(i).status, ids))

        def each_second(rounds: int) -> list[str]:
            statuses: list[str] = []
            next_at = time.monotonic()
            for _ in range(rounds):
                time.sleep(max(0.0, next_at - time.monotonic()))
                next_at += p6_many_sites.INTERVAL
                statuses += poll_round()
            return statuses

        info = st.redis()
        each_second(warmup)  # connect, the first full write, the snapshots settle
        profiler = make_profiler(profile, cpu_time=True)
        cpu0, redis0, commands0 = process_cpu(), redis_cpu(info), redis_commands(info)
        load = os.getloadavg()
        started = time.monotonic()
        profiler.enable()
        statuses = each_second(seconds)
        profiler.disable()
        elapsed = time.monotonic() - started
        cpu1, redis1, commands1 = process_cpu(), redis_cpu(info), redis_commands(info)
        load_after = os.getloadavg()
        threads.shutdown()
        pollers.close()
        client.close()
        info.close()
        polls = len(statuses)
        per_command = {}
        for name, (calls, usec) in commands1.items():
            calls0, usec0 = commands0.get(name, (0, 0))
            if calls > calls0:
                per_command[name] = ((calls - calls0) / polls, (usec - usec0) / polls / 1000)
        return {
            "sites": n_sites,
            "polls": polls,
            "ok": statuses.count("ok"),
            "seconds": elapsed,
            "worker_ms_per_poll": (cpu1 - cpu0) / polls * 1000,
            "redis_ms_per_poll": (redis1 - redis0) / polls * 1000,
            # calls and ms of Redis' own time per poll, by command (INFO commandstats)
            "redis_commands": dict(sorted(per_command.items(), key=lambda kv: -kv[1][1])),
            "load_before": load,
            "load_after": load_after,
            "sequential": sequential,
            "profiler": profiler,
        }


def run(quick: bool = False) -> Result:
    result = Result("P6-cpu", f"CPU per poll of a {TAGS}-tag site, worker and Redis")
    m = measure(seconds=10 if quick else SECONDS)
    result.figures += [
        Figure(f"worker CPU per poll ({m['sites']} sites at 1 s, {m['polls']} polls)", "ms",
               _one(m["worker_ms_per_poll"])),
        Figure(f"Redis CPU per poll ({m['sites']} sites at 1 s, {m['polls']} polls)", "ms",
               _one(m["redis_ms_per_poll"])),
    ]
    result.tables.append(Table(
        "Redis' own time per poll, by command (INFO commandstats)",
        ["command", "calls per poll", "ms per poll"],
        [[name, f"{calls:.2f}", f"{ms:.3f}"] for name, (calls, ms) in m["redis_commands"].items()],
    ))
    result.notes.append(
        f"{m['ok']} of {m['polls']} polls ok; load average {_load(m['load_before'])} before, "
        f"{_load(m['load_after'])} after. The worker's figure is the poll alone (this process "
        "polls as one poll_sites task does); P6 adds Celery's hand-over.")
    result.raw = {k: v for k, v in m.items() if k != "profiler"}
    return result


def _one(value: float) -> dict:
    return {"n": 1, "median": round(value, 2), "p95": None, "p99": None, "max": None}


def _load(load: tuple[float, float, float]) -> str:
    return " / ".join(f"{x:.2f}" for x in load)


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--sites", type=int, default=SITES)
    p.add_argument("--seconds", type=int, default=SECONDS)
    p.add_argument("--warmup", type=int, default=WARMUP)
    p.add_argument("--profile", choices=("none", "cprofile"), default="none",
                   help="cprofile: the sites polled one after another, every call profiled")
    p.add_argument("--sequential", action="store_true",
                   help="the sites polled one after another on the main thread")
    args = p.parse_args(argv)
    m = measure(args.sites, args.seconds, args.warmup, args.profile, args.sequential)
    print(f"{m['sites']} sites x {TAGS} tags, {m['polls']} polls ({m['ok']} ok) in "
          f"{m['seconds']:.1f} s{', one after another' if m['sequential'] else ''}; "
          f"load average {_load(m['load_before'])} -> {_load(m['load_after'])}")
    print(f"worker CPU per poll: {m['worker_ms_per_poll']:.2f} ms"
          f"{' (with the profiler)' if args.profile != 'none' else ''}")
    print(f"Redis CPU per poll:  {m['redis_ms_per_poll']:.2f} ms")
    for name, (calls, ms) in m["redis_commands"].items():
        print(f"  {name:<16} {calls:7.2f} calls {ms:7.3f} ms")
    if args.profile == "cprofile":
        import pstats

        stats = pstats.Stats(m["profiler"])
        stats.sort_stats("tottime").print_stats(45)
        stats.sort_stats("cumulative").print_stats("wincc_|redis/client|httpx/_client|json", 40)
    return 0


if __name__ == "__main__":
    sys.exit(main())
