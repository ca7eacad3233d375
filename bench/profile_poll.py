"""Profile one site's polls in this process with pyinstrument (P4's hot spots).

    python -m bench.profile_poll --tags 10000 --polls 10 [--html out.html]

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
    args = p.parse_args(argv)
    from pyinstrument import Profiler

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
        profiler = Profiler(interval=0.001)
        walls, cpus = [], []
        profiler.start()
        for _ in range(args.polls):
            w0, c0 = time.perf_counter(), cpu()
            outcome = poller.poll()
            walls.append(time.perf_counter() - w0)
            cpus.append(cpu() - c0)
            if outcome.status != "ok":
                print(f"poll {outcome.status}: {outcome.error}", flush=True)
        profiler.stop()
        poller.close()
        for i, (w, c) in enumerate(zip(walls, cpus, strict=True), 1):
            print(f"poll {i}: wall {w * 1000:.0f} ms, cpu {c * 1000:.0f} ms")
        print(profiler.output_text(unicode=True, color=False, show_all=False))
        if args.html:
            with open(args.html, "w", encoding="utf-8") as fh:
                fh.write(profiler.output_html())
    return 0


if __name__ == "__main__":
    sys.exit(main())
