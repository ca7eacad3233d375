"""`wincc-sim`: run the WinCC simulator (`python -m wincc_sim --help`)."""

from __future__ import annotations

import argparse
import asyncio
import gc
import json
import logging
import os
import signal
import sys
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

from wincc_sim import admin
from wincc_sim.faults import FACES, Faults
from wincc_sim.plant import Plant
from wincc_sim.rest_connector import ConnectorSettings, RestConnector
from wincc_sim.server import Listener, main_app
from wincc_sim.simulation import Simulation
from wincc_sim.timefmt import parse_ts, zone
from wincc_sim.tls import ensure_certificate
from wincc_sim.users import Users

log = logging.getLogger("wincc_sim")
MAX_TAGS = 20_000


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="wincc-sim",
        description="A simulated WinCC server: Classic REST, Unified GraphQL and REST v1 faces "
                    "on one plant. API users come from WINCC_SIM_* environment variables.",
    )
    p.add_argument("--host", default="127.0.0.1", help="listen address (default 127.0.0.1)")
    p.add_argument("--port", type=int, default=34568, help="main port, 0 for any (default 34568)")
    p.add_argument("--http", action="store_true", help="plain HTTP instead of HTTPS")
    p.add_argument("--cert-dir", type=Path, default=Path("var/wincc-sim"),
                   help="where the self-signed certificate (wincc-sim.pem) and key are kept")
    p.add_argument("--admin-port", type=int, default=34669,
                   help="admin listener port on 127.0.0.1, 0 for any (default 34669)")
    p.add_argument("--seed", type=int, default=1, help="plant seed (default 1)")
    p.add_argument("--tags", type=int, default=200,
                   help=f"process tags incl. Aux_Sensor fillers, up to {MAX_TAGS} (default 200)")
    p.add_argument("--tick", type=float, default=0.5, help="plant step in seconds (default 0.5)")
    p.add_argument("--day-script", action="store_true",
                   help="play the demo's plant day: alarms that come and go on a schedule "
                        "(docs/simulator.md); without it the plant is steady")
    p.add_argument("--token-ttl", type=float, default=3600,
                   help="lifetime of Unified login tokens in seconds (default 3600)")
    p.add_argument("--system-name", default="WinCC_Sim_RT", help="Unified system name")
    p.add_argument("--cache-answers", action="store_true",
                   help="load benchmarks: a Classic tag read repeated within one plant tick is "
                        "answered with the bytes already made; a write or an admin change "
                        "shows from the next tick only")
    p.add_argument("--classic-local-times", metavar="ZONE", default="",
                   help="the Classic face sends local times in this IANA zone (e.g. "
                        "Europe/Berlin) without an offset, as many Classic servers do; "
                        "default UTC with Z")
    p.add_argument("--clock-start", metavar="TIME",
                   help="the plant's clock starts at this ISO-8601 time and runs on at the "
                        "wall clock's rate (e.g. to cross a daylight-saving change); "
                        "default the wall clock")
    p.add_argument("--no-classic-alarms", action="store_true",
                   help="hide the V8.1 alarmLogging endpoints (a V7.5/V8.0 server)")
    p.add_argument("--face", dest="faces", action="append", choices=FACES, metavar="FACE",
                   help="serve only this face, as a real server speaks one dialect "
                        "(repeatable; default all three: classic, unified, rest-v1)")
    p.add_argument("--ready-file", type=Path,
                   help="write {url, admin_url, ca_file} as JSON here once listening")
    p.add_argument("--parent-pid", type=int, metavar="PID",
                   help="stop when this process (the one starting the simulator) has ended")
    p.add_argument("--log-level", default="info",
                   choices=["debug", "info", "warning", "error"],
                   help="debug logs one line per request")
    r = p.add_argument_group("REST Connector: post tag changes and alarm transitions to a URL "
                             "(docs/simulator.md)")
    r.add_argument("--rest-connector", metavar="URL",
                   help="post changes here, e.g. http://127.0.0.1:8000/ingest/rest-connector/line/")
    r.add_argument("--rest-connector-token-env", metavar="NAME",
                   help="send the token in this environment variable as Authorization: Bearer")
    r.add_argument("--rest-connector-signature-env", metavar="NAME",
                   help="sign each body with HMAC-SHA256 keyed with this environment "
                        "variable's secret (header X-Signature-256)")
    r.add_argument("--rest-connector-tag", action="append", default=[], metavar="TAG",
                   help="a tag whose changes are posted (repeatable; default every named tag)")
    r.add_argument("--rest-connector-scan", type=float, default=0.05, metavar="SECONDS",
                   help="how often the plant is looked at for changes (default 0.05)")
    f = p.add_argument_group("faults at start (all switchable later on the admin listener)")
    f.add_argument("--latency-ms", type=float, default=0.0)
    f.add_argument("--error-rate", type=float, default=0.0, help="share of requests answered "
                   "with --error-status")
    f.add_argument("--error-status", type=int, default=500)
    f.add_argument("--drop-rate", type=float, default=0.0, help="share of connections dropped")
    f.add_argument("--malformed-rate", type=float, default=0.0)
    f.add_argument("--truncated-rate", type=float, default=0.0)
    f.add_argument("--expired-tokens", action="store_true", help="refuse every Bearer token")
    f.add_argument("--bad-quality", action="append", default=[], metavar="TAG",
                   help="report this tag with bad quality (repeatable)")
    f.add_argument("--freeze", action="store_true", help="freeze all values")
    f.add_argument("--no-alarm-list", action="append", default=[], choices=FACES,
                   metavar="FACE", help="this face publishes no alarm list: it answers 404 "
                   "(Unified: no activeAlarms query); repeatable, one of " + ", ".join(FACES))
    f.add_argument("--stopped", action="store_true", help="start with the main listener stopped")
    s = p.add_argument_group("scenarios at start")
    s.add_argument("--flood", action="store_true", help="an alarm flood")
    s.add_argument("--chatter", action="store_true", help="Conveyor_Fault chatters")
    s.add_argument("--stuck", metavar="TAG", help="this tag's value sticks")
    return p


def build(args: argparse.Namespace, environ) -> Simulation:
    """The simulation the arguments describe; ValueError names a bad argument."""
    if not 1 <= args.tags <= MAX_TAGS:
        raise ValueError(f"--tags must be from 1 to {MAX_TAGS}")
    if not 0.05 <= args.tick <= 10:
        raise ValueError("--tick must be from 0.05 to 10 seconds")
    if args.token_ttl <= 0:
        raise ValueError("--token-ttl must be positive")
    if args.classic_local_times:
        try:
            zone(args.classic_local_times)
        except ValueError as exc:
            raise ValueError(f"--classic-local-times: {exc}") from None
    plant = Plant(seed=args.seed, tags=args.tags, tick=args.tick, day_script=args.day_script,
                  clock=clock(args.clock_start))
    faults = Faults()
    faults.update({
        "classic_local_times": args.classic_local_times,
        "latency_ms": args.latency_ms, "error_rate": args.error_rate,
        "error_status": args.error_status, "drop_rate": args.drop_rate,
        "malformed_rate": args.malformed_rate, "truncated_rate": args.truncated_rate,
        "expired_tokens": args.expired_tokens, "no_alarm_list": args.no_alarm_list,
    })
    for tag in args.bad_quality:
        if plant.spec(tag) is None:
            raise ValueError(f"--bad-quality: unknown tag {tag!r}")
    plant.bad_quality = set(args.bad_quality)
    plant.frozen = args.freeze
    if args.flood:
        plant.start_scenario("flood")
    if args.chatter:
        plant.start_scenario("chatter")
    if args.stuck:
        plant.start_scenario("stuck", tag=args.stuck)
    return Simulation(plant=plant, users=Users.from_env(environ), faults=faults,
                      token_ttl=args.token_ttl, system_name=args.system_name,
                      classic_alarms=not args.no_classic_alarms,
                      faces=tuple(dict.fromkeys(args.faces or FACES)),
                      answer_cache={} if args.cache_answers else None)


def clock(start: str | None) -> Callable[[], datetime]:
    """The plant's clock: the wall clock, or one that was at `start` when the simulator
    started; ValueError names a bad --clock-start."""
    if not start:
        return lambda: datetime.now(UTC)
    try:
        offset = parse_ts(start) - datetime.now(UTC)
    except ValueError:
        raise ValueError("--clock-start must be an ISO-8601 time, e.g. "
                         "2026-10-25T00:59:00Z") from None
    return lambda: datetime.now(UTC) + offset


def connector_settings(args: argparse.Namespace, sim: Simulation,
                       environ) -> ConnectorSettings | None:
    """The REST Connector the arguments ask for, if any; ValueError names a bad argument."""
    token_env, signature_env = args.rest_connector_token_env, args.rest_connector_signature_env
    if not args.rest_connector:
        if token_env or signature_env or args.rest_connector_tag:
            raise ValueError("--rest-connector-* options need --rest-connector URL")
        return None
    if not args.rest_connector.startswith(("http://", "https://")):
        raise ValueError("--rest-connector must be an http:// or https:// URL")
    if bool(token_env) == bool(signature_env):
        raise ValueError("--rest-connector needs exactly one of --rest-connector-token-env and "
                         "--rest-connector-signature-env (the target is never open)")
    name = token_env or signature_env
    secret = environ.get(name, "")
    if not secret:
        # The name is the operator's own choice, never the secret: it may be shown.
        raise ValueError(f"the environment variable {name} (the REST Connector's secret) is "
                         "not set")
    if not 0.01 <= args.rest_connector_scan <= 10:
        raise ValueError("--rest-connector-scan must be from 0.01 to 10 seconds")
    for tag in args.rest_connector_tag:
        if sim.plant.spec(tag) is None:
            raise ValueError(f"--rest-connector-tag: unknown tag {tag!r}")
    return ConnectorSettings(url=args.rest_connector, secret=secret, signed=bool(signature_env),
                             tags=args.rest_connector_tag or list(sim.plant.named),
                             scan=args.rest_connector_scan)


_FACE_PATHS = {"classic": "Classic /WinCCRestService", "unified": "Unified /graphql",
               "rest-v1": "REST v1 /api/v1"}


def served_faces(sim: Simulation, without_alarm_list: list[str]) -> str:
    """The faces this simulator answers, as its start line names them."""
    return ", ".join(_FACE_PATHS[face] + (" without alarm list" if face in without_alarm_list
                                          else "") for face in sim.faces)


# An archive answer builds hundreds of thousands of objects, none in cycles; with Python's
# default thresholds the cyclic collector took about 40 % of that work, walking the whole
# process again and again. Collect less often, and leave the objects loaded at start out.
GC_THRESHOLD = (20_000, 10, 10)


def tune_gc() -> None:
    gc.freeze()
    gc.set_threshold(*GC_THRESHOLD)


async def run(args: argparse.Namespace, sim: Simulation,
              connector: ConnectorSettings | None = None) -> None:
    certfile = keyfile = None
    if not args.http:
        certfile, keyfile = ensure_certificate(args.cert_dir)
    main = Listener(None, args.host, args.port, certfile=certfile, keyfile=keyfile)
    main.app = main_app(sim, main.drop)
    control = Listener(admin.app(sim, main), "127.0.0.1", args.admin_port)
    await control.start()
    await main.start()  # also resolves --port 0, so a stopped listener comes back there
    if args.stopped:
        await main.stop()
    scheme = "http" if args.http else "https"
    shown_host = "127.0.0.1" if args.host in ("0.0.0.0", "") else args.host  # noqa: S104
    ready = {
        "url": f"{scheme}://{shown_host}:{main.port}",
        "admin_url": f"http://127.0.0.1:{control.port}",
        "ca_file": str(certfile.resolve()) if certfile else None,
    }
    log.info("WinCC simulator: %s (%s), admin %s, %d tags, seed %d", ready["url"],
             served_faces(sim, args.no_alarm_list), ready["admin_url"], sim.plant.tag_count,
             args.seed)
    if args.ready_file:
        temporary = args.ready_file.with_suffix(".tmp")
        temporary.write_text(json.dumps(ready))
        temporary.replace(args.ready_file)  # atomic: a reader never sees half a file

    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    tasks = [asyncio.create_task(tick(sim))]
    if connector is not None:
        log.info("REST Connector: posting changes of %d tags and alarm transitions to %s",
                 len(connector.tags), connector.url)
        tasks.append(asyncio.create_task(RestConnector(sim, connector).run()))
    if args.parent_pid:
        tasks.append(asyncio.create_task(watch_parent(args.parent_pid, stop)))
    await stop.wait()
    for task in tasks:
        task.cancel()
    await main.stop()
    await control.stop()


async def tick(sim: Simulation) -> None:
    """Advance the plant at a fixed rate of wall-clock time."""
    loop = asyncio.get_running_loop()
    due = loop.time()
    while True:
        due += sim.plant.dt
        await asyncio.sleep(max(0.0, due - loop.time()))
        sim.plant.tick()


async def watch_parent(parent: int, stop: asyncio.Event) -> None:
    """A killed test run must not leave its simulator behind on a shared machine."""
    # Once the parent ends, this process is handed to another one (init or a subreaper).
    while os.getppid() == parent:
        await asyncio.sleep(1)
    log.info("the parent process ended; stopping")
    stop.set()


def main(argv: list[str] | None = None) -> int:
    args = parser().parse_args(argv)
    logging.basicConfig(level=args.log_level.upper(),
                        format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    if args.log_level != "debug":
        # uvicorn's start and stop lines would repeat on every listener stop/start.
        logging.getLogger("uvicorn.error").setLevel(logging.WARNING)
    try:
        sim = build(args, os.environ)
        connector = connector_settings(args, sim, os.environ)
    except ValueError as exc:
        print(f"wincc-sim: {exc}", file=sys.stderr)
        return 2
    tune_gc()
    try:
        asyncio.run(run(args, sim, connector))
    except OSError as exc:
        print(f"wincc-sim: cannot listen: {exc}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
