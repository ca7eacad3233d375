"""The load client: many simulated browsers in one process, over SSE or by polling.

Run as its own process (python -m bench.loadclient ...), so its CPU is not the server's.
Each client signs in with its own session cookie, like a browser. In SSE mode it holds
one stream open and reads it; in poll mode it fetches the panel every `interval` seconds,
as the page's polling fallback does. Every stamped value (bench/stamp.py) a client sees
for the first time gives one publish -> arrival latency. Drops (a stream that ends or
fails before the run ends) and failed connects are counted, and the client reconnects as
a browser does: after a dropped stream when the stream's `retry:` says (the browser's own
EventSource), after a refused or failed connect with the htmx SSE extension's backoff
(0.5 s, doubling up to 64 s).

With --parse-every N only every Nth client looks for stamps; the others read their stream
to the end as a browser does and count its bytes, which costs the load client a fraction of
the CPU: P2's memory step holds 5,000 streams on the same two cores as the server, and a load
client that cannot keep up would leave the server holding the unread bytes.

For the reconnect storm (bench/p2_storm.py) every live value is also counted by the second
it arrived in, from --start-at, and each client notes when its first live value arrived.

Bounded: every client stops at the run's end time, and the process exits by itself.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import random
import resource
import sys
import time
import zlib
from dataclasses import dataclass, field

import aiohttp

from bench import stamp
from bench.stats import MsHistogram, write_json


@dataclass
class Shared:
    base: str
    path: str
    poll_paths: list[str]
    mode: str
    interval: float
    pattern: object
    cookie_name: str
    window_start: float
    window_end: float
    latency: MsHistogram = field(default_factory=MsHistogram)
    request_time: MsHistogram = field(default_factory=MsHistogram)
    status: dict[str, int] = field(default_factory=dict)
    connects: int = 0
    connect_failures: int = 0
    drops: int = 0
    drops_in_window: int = 0
    messages: int = 0
    bytes: int = 0
    requests: int = 0
    request_errors: int = 0
    late_polls: int = 0
    errors: dict[str, int] = field(default_factory=dict)
    stamps_per_client: list[int] = field(default_factory=list)
    connected_at_window_start: int = 0
    open_streams: int = 0
    samples: list[str] = field(default_factory=list)  # the first failed answers, shortened
    start_at: float = 0.0
    # Latencies of live values by the second they arrived in, counted from start_at.
    series: dict[int, MsHistogram] = field(default_factory=dict)

    def error(self, exc: BaseException) -> None:
        key = type(exc).__name__
        self.errors[key] = self.errors.get(key, 0) + 1


class Client:
    def __init__(self, shared: Shared, session_key: str, parse: bool = True) -> None:
        self.shared = shared
        self.parse = parse  # looks for stamps (latency, delivery); else only reads
        self.headers = {"Cookie": f"{shared.cookie_name}={session_key}"}
        # Stamps already seen (in ms), so a panel re-sent whole counts each value once.
        self.seen: set[int] = set()
        self.stamps = 0  # new stamps seen inside the window
        self.first_live: float | None = None  # seconds from start_at to the first live value
        self.retry_ms = 1000  # the stream's `retry:`; an EventSource's default is near this

    def see(self, data: bytes, now: float, not_before: float) -> None:
        """Record the stamps in `data` not seen before and published after `not_before`."""
        sh = self.shared
        seen = self.seen
        for match in sh.pattern.finditer(data):
            try:
                published = stamp.decode(stamp.number(match.group(1)), now)
            except ValueError:
                continue
            key = round(published * 1000)
            if key in seen:
                continue
            seen.add(key)
            if published < not_before:
                continue
            second = int(now - sh.start_at)
            hist = sh.series.get(second)
            if hist is None:
                hist = sh.series[second] = MsHistogram(limit_ms=60_000)
            hist.add(now - published)
            if self.first_live is None:
                self.first_live = now - sh.start_at
            if sh.window_start <= now <= sh.window_end:
                sh.latency.add(now - published)
                self.stamps += 1
        if len(seen) > 4000:
            horizon = (now - 120) * 1000
            self.seen = {k for k in seen if k > horizon}

    async def run_sse(self, session: aiohttp.ClientSession, stop_at: float) -> None:
        sh = self.shared
        url = sh.base + sh.path
        tail = b""
        failures = 0  # consecutive failed connects: the htmx SSE extension's backoff
        while time.time() < stop_at:
            connected = False
            try:
                timeout = aiohttp.ClientTimeout(total=None, sock_connect=15, sock_read=None)
                async with session.get(url, headers=self.headers, timeout=timeout) as resp:
                    key = str(resp.status)
                    sh.status[key] = sh.status.get(key, 0) + 1
                    if resp.status != 200:
                        sh.connect_failures += 1
                        body = await resp.read()
                        if len(sh.samples) < 5:
                            sh.samples.append(f"{resp.status}: {body[:300]!r}")
                        raise aiohttp.ClientResponseError(resp.request_info, (), status=resp.status)
                    sh.connects += 1
                    sh.open_streams += 1
                    connected = True
                    failures = 0
                    # Values published before this connection came in the snapshot.
                    since = time.time()
                    # Gzip-compressed as a browser asks for it (dashboard/live/gzipped.py):
                    # decoded here as a browser would, each chunk as it comes.
                    decoder = (zlib.decompressobj(wbits=31)
                               if resp.headers.get("Content-Encoding") == "gzip" else None)
                    try:
                        while True:
                            remaining = stop_at - time.time()
                            if remaining <= 0:
                                return
                            try:
                                chunk = await asyncio.wait_for(
                                    resp.content.readany(), timeout=remaining
                                )
                            except TimeoutError:
                                return
                            if not chunk:
                                break  # the server ended the stream
                            now = time.time()
                            sh.bytes += len(chunk)  # on the wire
                            if decoder is not None:
                                chunk = decoder.decompress(chunk)
                            if chunk.startswith(b"retry: "):
                                with contextlib.suppress(ValueError):
                                    self.retry_ms = int(chunk[7:].split(b"\n", 1)[0])
                            sh.messages += chunk.count(b"\n\n")
                            if self.parse:
                                # A stamp may straddle two chunks: look at the seam again.
                                self.see(tail + chunk, now, since)
                                tail = chunk[-48:]
                    finally:
                        sh.open_streams -= 1
            except asyncio.CancelledError:
                raise
            except Exception as exc:  # every failure is counted, then retried
                sh.error(exc)
                if not connected:
                    sh.connect_failures += 0 if isinstance(exc, aiohttp.ClientResponseError) else 1
            now = time.time()
            if now < stop_at:
                if connected:
                    sh.drops += 1
                    if sh.window_start <= now <= sh.window_end:
                        sh.drops_in_window += 1
                    delay = self.retry_ms / 1000
                else:
                    failures = max(min(failures * 2, 128), 1)
                    delay = failures * 0.5
                await asyncio.sleep(min(delay, max(0.0, stop_at - now)))

    async def run_poll(self, session: aiohttp.ClientSession, stop_at: float) -> None:
        sh = self.shared
        urls = [sh.base + p for p in sh.poll_paths]
        # A random phase to the others, as browsers opened at different moments.
        next_at = time.time() + random.uniform(0, sh.interval)
        since = time.time()
        while True:
            delay = next_at - time.time()
            if delay > 0:
                await asyncio.sleep(delay)
            if time.time() >= stop_at:
                return
            started = time.time()
            for url in urls:
                t0 = time.time()
                try:
                    timeout = aiohttp.ClientTimeout(total=10)
                    async with session.get(url, headers=self.headers, timeout=timeout) as resp:
                        body = await resp.read()
                        key = str(resp.status)
                        sh.status[key] = sh.status.get(key, 0) + 1
                        now = time.time()
                        sh.requests += 1
                        sh.bytes += len(body)
                        if resp.status != 200:
                            sh.request_errors += 1
                            if len(sh.samples) < 5:
                                sh.samples.append(f"{resp.status}: {body[:300]!r}")
                            continue
                        if sh.window_start <= now <= sh.window_end:
                            sh.request_time.add(now - t0)
                        self.see(body, now, since)
                except asyncio.CancelledError:
                    raise
                except Exception as exc:  # counted; the next poll goes on
                    sh.request_errors += 1
                    sh.error(exc)
            next_at += sh.interval
            if next_at < time.time():
                # The requests took longer than the interval: the next one goes now.
                if sh.window_start <= started <= sh.window_end:
                    sh.late_polls += 1
                next_at = time.time()


async def main_async(args: argparse.Namespace) -> dict:
    with open(args.sessions, encoding="utf-8") as fh:
        keys = json.load(fh)
    keys = keys[args.offset : args.offset + args.clients]
    if len(keys) < args.clients:
        raise SystemExit(f"only {len(keys)} session keys for {args.clients} clients")
    start_at = args.start_at or time.time()
    window_start = start_at + args.ramp + args.warmup
    window_end = window_start + args.duration
    stop_at = window_end + 0.5
    shared = Shared(
        base=args.url.rstrip("/"),
        path=args.path,
        poll_paths=[p for p in (args.poll_paths or "").split(",") if p] or [args.path],
        mode=args.mode,
        interval=args.interval,
        pattern=stamp.compile_pattern(args.pattern),
        cookie_name=args.cookie_name,
        window_start=window_start,
        window_end=window_end,
        start_at=start_at,
    )
    every = max(1, args.parse_every)
    clients = [Client(shared, key, parse=(args.offset + i) % every == 0)
               for i, key in enumerate(keys)]
    connector = aiohttp.TCPConnector(limit=0, ttl_dns_cache=None, force_close=False)
    cpu0 = resource.getrusage(resource.RUSAGE_SELF)
    async with aiohttp.ClientSession(
        connector=connector,
        cookie_jar=aiohttp.DummyCookieJar(),
        auto_decompress=False,
    ) as session:
        delay = start_at - time.time()
        # A busy machine may start this process after the run's start: its clients are late.
        late = max(0.0, -delay)
        if delay > 0:
            await asyncio.sleep(delay)
        tasks = []
        for i, client in enumerate(clients):
            # Spread the connects over the ramp, as browsers arriving.
            at = start_at + args.ramp * i / max(1, len(clients))
            runner = client.run_sse if args.mode == "sse" else client.run_poll
            tasks.append(asyncio.create_task(_later(at, runner(session, stop_at))))

        async def note_window_start() -> None:
            await asyncio.sleep(max(0.0, window_start - time.time()))
            shared.connected_at_window_start = shared.open_streams

        marker = asyncio.create_task(note_window_start())
        # Hard bound: nothing runs past the stop time plus a grace period.
        done, pending = await asyncio.wait(tasks, timeout=stop_at - time.time() + 15)
        for task in pending:
            task.cancel()
        await asyncio.gather(*pending, return_exceptions=True)
        marker.cancel()
        for task in done:
            if task.exception() is not None:
                shared.error(task.exception())
    cpu1 = resource.getrusage(resource.RUSAGE_SELF)
    shared.stamps_per_client = [c.stamps for c in clients if c.parse]
    return {
        "mode": args.mode,
        "clients": len(clients),
        "window": [window_start, window_end],
        "latency": shared.latency.to_json(),
        "request_time": shared.request_time.to_json(),
        "status": shared.status,
        "connects": shared.connects,
        "connect_failures": shared.connect_failures,
        "drops": shared.drops,
        "drops_in_window": shared.drops_in_window,
        "connected_at_window_start": shared.connected_at_window_start,
        "messages": shared.messages,
        "bytes": shared.bytes,
        "requests": shared.requests,
        "request_errors": shared.request_errors,
        "late_polls": shared.late_polls,
        "errors": shared.errors,
        "error_samples": shared.samples,
        "stamps_per_client": shared.stamps_per_client,
        "cpu_seconds": (cpu1.ru_utime - cpu0.ru_utime) + (cpu1.ru_stime - cpu0.ru_stime),
        "series": {str(k): v.to_json() for k, v in sorted(shared.series.items())},
        "first_live": [c.first_live for c in clients if c.parse],
        "late": late,
    }


async def _later(at: float, coro) -> None:
    delay = at - time.time()
    if delay > 0:
        await asyncio.sleep(delay)
    await coro


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--url", required=True, help="the web server, e.g. http://127.0.0.1:8000")
    p.add_argument("--path", required=True, help="the SSE stream path (or the poll path)")
    p.add_argument("--poll-paths", default="", help="comma-separated paths fetched per poll")
    p.add_argument("--mode", choices=["sse", "poll"], default="sse")
    p.add_argument("--sessions", required=True, help="JSON list of session keys")
    p.add_argument("--offset", type=int, default=0)
    p.add_argument("--clients", type=int, required=True)
    p.add_argument("--start-at", type=float, default=0.0, help="epoch seconds to begin")
    p.add_argument("--ramp", type=float, default=5.0)
    p.add_argument("--warmup", type=float, default=3.0)
    p.add_argument("--duration", type=float, default=20.0)
    p.add_argument("--interval", type=float, default=1.0)
    p.add_argument("--pattern", default=None, help="regex (bytes) with one group: a stamp")
    p.add_argument("--parse-every", type=int, default=1,
                   help="only every Nth client looks for stamps; the others only read")
    p.add_argument("--cookie-name", default="sessionid")
    p.add_argument("--out", required=True)
    return p.parse_args(argv)


def main(argv: list[str] | None = None) -> None:
    args = parse_args(argv)
    if args.duration > 3600 or args.ramp > 600:
        raise SystemExit("refusing a run longer than an hour")
    _, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    with contextlib.suppress(ValueError, OSError):
        resource.setrlimit(resource.RLIMIT_NOFILE, (min(65536, hard), hard))
    try:
        from uvloop import run
    except ImportError:
        run = asyncio.run
    result = run(main_async(args))
    write_json(args.out, result)


if __name__ == "__main__":
    sys.exit(main())
