"""Shared by P2 and P3: the stamped dashboard, and one load step (driver + load clients).

The dashboard has one tiles panel of 50 tags on one site. The change driver
(bench/driver.py) writes and publishes their values as the poller does, and the load
clients (bench/loadclient.py, separate processes) hold the page's SSE stream, or poll
the page's polling URLs, and time every value from publish to arrival.
"""

from __future__ import annotations

import json
import math
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import httpx

from bench import driver, sites, stamp
from bench.stack import CpuMeter, Stack, rss_bytes
from bench.stats import MsHistogram
from tests.harness.processes import Proc, spawn

SITE = "bench"
DASHBOARD = "bench"
TILES = 50
TAGS = [f"Bench_Stamp_{i:02d}" for i in range(1, TILES + 1)]
# Clients per load-client process: several processes share the parsing over both cores.
CLIENTS_PER_PROCESS = 250


def dashboard_config(stack: Stack) -> dict:
    tags = [
        {"name": name, "label": name.replace("_", " "), "unit": stamp.STAMP_UNIT, "decimals": 3}
        for name in TAGS
    ]
    board = {
        "id": DASHBOARD,
        "title": "Benchmark: 50 tiles",
        "panels": [{"kind": "tiles", "title": "Stamps", "site": SITE, "tags": TAGS}],
    }
    # The site is never polled here (the driver stands in for the poller); its URL is unused.
    return sites.config_for(stack, site_id=SITE, tags=tags, dashboards=[board])


@dataclass
class Server:
    stack: Stack
    sessions_file: Path
    stream_path: str
    poll_paths: list[str]
    pattern: str | None
    rss_start: int = 0  # the web's memory after start, before any stream


def start_server(stack: Stack, *, sessions: int, web_workers: int) -> Server:
    """Redis, the configuration, a migrated database with `sessions` sessions, the web."""
    stack.start_redis()
    sites.simulator_secrets(stack)
    stack.write_config(dashboard_config(stack))
    keys = stack.prepare_database(sessions=sessions)
    sessions_file = stack.workdir / "sessions.json"
    sessions_file.write_text(json.dumps(keys))
    driver.seed(stack.redis_url, SITE, TAGS)
    stack.start_web(workers=web_workers)
    cookies = {"sessionid": keys[0]}
    with httpx.Client(base_url=stack.web_url, cookies=cookies, timeout=30) as http:
        page = http.get(f"/d/{DASHBOARD}/")
        page.raise_for_status()
        poll_page = http.get(f"/d/{DASHBOARD}/", params={"transport": "poll"})
        poll_page.raise_for_status()
    return Server(
        stack=stack,
        sessions_file=sessions_file,
        stream_path=sites.stream_path(page.text),
        poll_paths=sites.poll_paths(poll_page.text),
        pattern=stamp_pattern(page.text),
        rss_start=rss_bytes([stack.proc("web").pid]),
    )


def stamp_pattern(page_html: str) -> str | None:
    """The regex that finds a stamp in a rendered tile: the number before the stamp unit."""
    return stamp.pattern_for(page_html)


def step(
    server: Server,
    *,
    clients: int,
    mode: str,
    duration: float,
    ramp: float,
    warmup: float,
    changes_per_second: float = 20.0,
    per_publish: int = 20,
    interval: float = 1.0,
    lead: float = 2.0,
    parse_every: int = 1,
) -> dict:
    """One measured load step: returns latencies, drops, server CPU and memory.

    The clients start `lead` seconds after their processes are spawned (time to import),
    then connect spread over `ramp` seconds. With `parse_every` N > 1 only every Nth client
    times values (bench/loadclient.py); latency and delivery are theirs."""
    st = server.stack
    web = st.proc("web")
    workdir = st.workdir / f"step-{mode}-{clients}-{time.time():.0f}"
    workdir.mkdir()
    start_at = time.time() + lead
    window_start = start_at + ramp + warmup
    window_end = window_start + duration
    procs: list[Proc] = []
    outs = []
    # Before any client of this step connects: the web's memory at rest.
    rss_idle = rss_bytes([web.pid])
    try:
        drv_out = workdir / "driver.json"
        procs.append(
            spawn(
                "driver",
                [
                    sys.executable,
                    "-m",
                    "bench.driver",
                    "--redis-url",
                    st.redis_url,
                    "--site",
                    SITE,
                    "--tags",
                    ",".join(TAGS),
                    "--changes-per-second",
                    str(changes_per_second),
                    "--per-publish",
                    str(per_publish),
                    "--start-at",
                    str(start_at),
                    "--duration",
                    str(ramp + warmup + duration + 1.0),
                    "--out",
                    str(drv_out),
                ],
                log=workdir / "driver.log",
            )
        )
        n_procs = max(1, math.ceil(clients / CLIENTS_PER_PROCESS))
        per = math.ceil(clients / n_procs)
        for i in range(n_procs):
            count = min(per, clients - i * per)
            out = workdir / f"client-{i}.json"
            outs.append(out)
            argv = [
                sys.executable,
                "-m",
                "bench.loadclient",
                "--url",
                st.web_url,
                "--mode",
                mode,
                "--path",
                server.stream_path if mode == "sse" else server.poll_paths[0],
                "--poll-paths",
                ",".join(server.poll_paths),
                "--sessions",
                str(server.sessions_file),
                "--offset",
                str(i * per),
                "--clients",
                str(count),
                "--start-at",
                str(start_at),
                "--ramp",
                str(ramp),
                "--warmup",
                str(warmup),
                "--duration",
                str(duration),
                "--interval",
                str(interval),
                "--parse-every",
                str(parse_every),
                "--out",
                str(out),
            ]
            if server.pattern:
                argv += ["--pattern", server.pattern]
            procs.append(spawn(f"client-{i}", argv, log=workdir / f"client-{i}.log"))
        client_pids = [p.pid for p in procs[1:]]
        # The server's CPU and memory over the window only.
        _sleep_until(window_start)
        rss_before = rss_bytes([web.pid])
        web_cpu = CpuMeter([web.pid])
        redis_cpu = CpuMeter([st.proc("redis").pid])
        load_cpu = CpuMeter(client_pids)
        for meter in (web_cpu, redis_cpu, load_cpu):
            meter.start()
        rss_max = rss_before
        while time.time() < window_end:
            time.sleep(min(1.0, max(0.0, window_end - time.time())))
            web_cpu.sample()
            load_cpu.sample()
            rss_max = max(rss_max, rss_bytes([web.pid]))
        elapsed = duration
        cpu = web_cpu.stop()
        redis_seconds = redis_cpu.stop()
        load_seconds = load_cpu.stop()
        rss_after = rss_bytes([web.pid])
        deadline = window_end + 40
        for proc in procs:
            proc.popen.wait(timeout=max(1.0, deadline - time.time()))
    finally:
        for proc in procs:
            if proc.alive():
                proc.kill()
    if not web.alive():
        raise RuntimeError(f"the web server died during the step:\n{web.tail()}")
    drain = _drain(web.pid)
    results = [json.loads(out.read_text()) for out in outs]
    drv = json.loads(drv_out.read_text())
    latency = MsHistogram()
    request_time = MsHistogram()
    series: dict[int, MsHistogram] = {}
    for res in results:
        latency.merge(MsHistogram.from_json(res["latency"]))
        request_time.merge(MsHistogram.from_json(res["request_time"]))
        for second, data in res["series"].items():
            series.setdefault(int(second), MsHistogram(limit_ms=60_000)).merge(
                MsHistogram.from_json(data)
            )
    stamps = [n for res in results for n in res["stamps_per_client"]]
    expected = changes_per_second * duration
    total = lambda key: sum(res[key] for res in results)  # noqa: E731
    status: dict[str, int] = {}
    for res in results:
        for code, count in res["status"].items():
            status[code] = status.get(code, 0) + count
    return {
        "clients": clients,
        "mode": mode,
        "duration": elapsed,
        "latency": latency.summary(),
        "latency_hist": latency.to_json(),
        "request_time": request_time.summary(),
        "connects": total("connects"),
        "connect_failures": total("connect_failures"),
        "drops": total("drops"),
        "drops_in_window": total("drops_in_window"),
        "connected_at_window_start": total("connected_at_window_start"),
        "requests": total("requests"),
        "request_errors": total("request_errors"),
        "late_polls": total("late_polls"),
        "errors": _merge_counts([res["errors"] for res in results]),
        "error_samples": [x for res in results for x in res.get("error_samples", [])][:5],
        "status": status,
        "messages": total("messages"),
        "bytes": total("bytes"),
        "delivered_ratio": (sum(stamps) / (len(stamps) * expected)) if expected and stamps
        else None,
        "timed_clients": len(stamps),
        "min_stamps_per_client": min(stamps) if stamps else 0,
        "expected_changes": expected,
        "web_cpu_seconds": cpu,
        "web_cpu_share": cpu / elapsed,
        "redis_cpu_share": redis_seconds / elapsed,
        "load_client_cpu_share": load_seconds / elapsed,
        "web_rss_mib_start": server.rss_start / 2**20,
        "web_rss_mib_idle": rss_idle / 2**20,
        "web_rss_mib_before": rss_before / 2**20,
        "web_rss_mib_max": rss_max / 2**20,
        "web_rss_mib_after": rss_after / 2**20,
        "driver": drv,
        "load_processes": len(results),
        "drain_seconds": drain,
        "start_at": start_at,
        "series": {second: series[second].summary() for second in sorted(series)},
        "first_live": [x for res in results for x in res["first_live"]],
        "load_clients_late": max((res.get("late", 0.0) for res in results), default=0.0),
    }


def pooled_latency(measures: list[dict]) -> dict:
    """Latency percentiles over every sample of several steps together."""
    hist = MsHistogram()
    for m in measures:
        hist.merge(MsHistogram.from_json(m["latency_hist"]))
    return hist.summary()


def seconds(value: float | None) -> str:
    return "-" if value is None else f"{value:.3f}"


def _drain(pid: int, limit: float = 90.0) -> float:
    """Wait until the web is idle again (requests the clients gave up on may still be queued
    in its threads), so the next step does not pay for this one; return the seconds waited."""
    started = time.time()
    while time.time() - started < limit:
        meter = CpuMeter([pid])
        meter.start()
        time.sleep(1.0)
        if meter.stop() < 0.15:
            break
    return time.time() - started


def _merge_counts(items: list[dict[str, int]]) -> dict[str, int]:
    out: dict[str, int] = {}
    for item in items:
        for key, value in item.items():
            out[key] = out.get(key, 0) + value
    return out


def _sleep_until(at: float) -> None:
    delay = at - time.time()
    if delay > 0:
        time.sleep(delay)
