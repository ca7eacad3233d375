"""Profile one site's polls in this process with pyinstrument (P4's hot spots).

    python -m bench.profile_poll --tags 10000 --polls 10 [--html out.html]
    python -m bench.profile_poll --tags 200 --polls 500 --profiler cprofile   # per call
    python -m bench.profile_poll --tags 200 --polls 1000 --profiler none   # CPU per poll

Starts a private Redis and the simulator (HTTPS), then runs the real SitePoller of one
site listing every tag, back to back, under pyinstrument; prints the wall time and CPU
time of each poll and the profile's text tree.
"""

from __future__ import annotations

import argparse
import resource
import sys
import time

from bench import sites
from bench.stack import Stack


def cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--tags", type=int, default=10_000)
    p.add_argument("--polls", type=int, default=10)
    p.add_argument("--dialect", default=sites.DIALECT)
    p.add_argument("--html", help="also write the profile as HTML here")
    p.add_argument("--profiler", choices=("pyinstrument", "cprofile", "none"),
                   default="pyinstrument",
                   help="cprofile: every call, sorted by own time; none: only the CPU times")
    args = p.parse_args(argv)

    with Stack("profile") as st:
        st.start_redis()
        sites.simulator_secrets(st)
        st.start_simulator(tags=args.tags)
        names = sites.simulator_tag_names(st, args.tags)
        path = st.write_config(
            sites.config_for(
                st, site_id="bench", tags=[{"name": n} for n in names], dialect=args.dialect
            )
        )
        import os

        os.environ.update({k: v for k, v in st.env.items() if k.startswith("WINCC_SIM_")})
        from wincc_ingest import config as bridge_config
        from wincc_ingest.poller import SitePoller, TimeLimits

        config = bridge_config.load(path)
        site = config.site("bench")
        poller = SitePoller(site, st.redis(), TimeLimits(soft=30, hard=31, lock_ttl=60))
        outcome = poller.poll()  # connect, first full write
        print(f"first poll: {outcome.status} {outcome.error}", flush=True)
        profiler = make_profiler(args.profiler)
        walls, cpus = [], []
        profiler.enable()
        for _ in range(args.polls):
            w0, c0 = time.perf_counter(), cpu()
            outcome = poller.poll()
            walls.append(time.perf_counter() - w0)
            cpus.append(cpu() - c0)
            if outcome.status != "ok":
                print(f"poll {outcome.status}: {outcome.error}", flush=True)
        profiler.disable()
        poller.close()
        if args.polls <= 20:
            for i, (w, c) in enumerate(zip(walls, cpus, strict=True), 1):
                print(f"poll {i}: wall {w * 1000:.0f} ms, cpu {c * 1000:.0f} ms")
        walls.sort()
        cpus.sort()
        print(f"{args.polls} polls: median wall {walls[len(walls) // 2] * 1000:.2f} ms, "
              f"median cpu {cpus[len(cpus) // 2] * 1000:.2f} ms, "
              f"mean cpu {sum(cpus) / len(cpus) * 1000:.2f} ms (with the profiler's own)")
        if args.profiler == "none":
            return 0
        if args.profiler == "cprofile":
            import pstats

            stats = pstats.Stats(profiler)
            stats.sort_stats("tottime").print_stats(40)
            stats.sort_stats("cumulative").print_stats("wincc_|redis/client|httpx/_client|json", 40)
            return 0
        print(profiler.output_text(unicode=True, color=False, show_all=False))
        if args.html:
            with open(args.html, "w", encoding="utf-8") as fh:
                fh.write(profiler.output_html())
    return 0


class _NoProfiler:
    def enable(self) -> None:
        pass

    def disable(self) -> None:
        pass


def make_profiler(name: str, cpu_time: bool = False):
    """cProfile's Profile, pyinstrument's or none, with the same enable/disable calls.
    `cpu_time`: cProfile counts CPU time, not wall time (waiting for answers costs nothing)."""
    if name == "none":
        return _NoProfiler()
    if name == "cprofile":
        import cProfile

        return cProfile.Profile(time.process_time) if cpu_time else cProfile.Profile()
    from pyinstrument import Profiler

    profiler = Profiler(interval=0.001)
    profiler.enable = profiler.start  # type: ignore[attr-defined]
    profiler.disable = profiler.stop  # type: ignore[attr-defined]
    return profiler


if __name__ == "__main__":
    sys.exit(main())
