"""Wait until Redis and the local WinCC servers accept connections, then exec a command.

honcho starts the demo's processes all at once; the web and Celery processes use this so
that their first seconds are not a burst of connection errors while the private Redis and
the simulators start. Only servers on this machine are waited for: a real plant that is
down must show as down on the dashboard, not keep it from starting. When the time is up the
command starts anyway, with a warning.

With --restart the command runs as a child and is started again whenever it dies on its
own (after 1 s, doubling up to 30 s while it keeps dying within 10 s of its start), so one
crashed process does not end the whole demo: honcho stops everything when any of its
processes exits. SIGTERM and SIGINT go on to the command and end the loop, so Ctrl-C still
stops all of it. Production uses systemd or the compose file's restart policies instead.

The child runs in its own process group and only its main process is signalled. honcho
sends SIGTERM to each entry's whole group: Celery's pool children would get it too and die
in the middle of a poll (WorkerLostError) instead of the worker finishing its polls (a warm
shutdown). Should this process be killed outright (honcho's SIGKILL after 5 s), the child
gets SIGKILL too (Linux's parent-death signal), so nothing outlives the demo.

Usage: python -m dashboard.demo.wait [--timeout SECONDS] [--restart] -- COMMAND [ARGS...]
"""

from __future__ import annotations

import argparse
import ctypes
import ipaddress
import json
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path
from urllib.parse import urlsplit

DEFAULT_CONFIG = Path(__file__).resolve().parent / "config.json"


def _local(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def endpoints(environ=os.environ) -> list[tuple[str, int]]:
    """(host, port) of REDIS_URL and of each site in WINCC_CONFIG served on this machine."""
    urls = [environ.get("REDIS_URL", "redis://127.0.0.1:6379/0")]
    try:
        data = json.loads(Path(environ.get("WINCC_CONFIG", DEFAULT_CONFIG)).read_text("utf-8"))
        urls += [site["url"] for site in data["sites"]]
    except (OSError, ValueError, KeyError, TypeError):
        pass  # a broken configuration is reported by the process that loads it
    found = []
    for number, url in enumerate(urls):
        parts = urlsplit(url)
        default = {"https": 443, "http": 80, "redis": 6379}.get(parts.scheme, 0)
        if parts.hostname and (number == 0 or _local(parts.hostname)):
            found.append((parts.hostname, parts.port or default))
    return found


def wait_for(targets: list[tuple[str, int]], timeout: float) -> list[tuple[str, int]]:
    """The targets still refusing connections when `timeout` ran out (empty: all answer)."""
    deadline = time.monotonic() + timeout
    waiting = list(targets)
    while waiting:
        waiting = [target for target in waiting if not _answers(target)]
        if not waiting or time.monotonic() > deadline:
            break
        time.sleep(0.2)
    return waiting


def _answers(target: tuple[str, int]) -> bool:
    try:
        with socket.create_connection(target, timeout=1):
            return True
    except OSError:
        return False


# A command that dies this soon after its start is crash-looping: wait longer each time.
QUICK_DEATH = 10.0
FIRST_DELAY = 1.0
MAX_DELAY = 30.0


def wait_then_say(command: list[str], timeout: float) -> None:
    missing = wait_for(endpoints(), timeout)
    if missing:
        names = ", ".join(f"{host}:{port}" for host, port in missing)
        print(
            f"{names} still refused connections after {timeout:.0f} s; "
            f"starting {command[0]} anyway.",
            file=sys.stderr,
            flush=True,
        )


def how_it_ended(code: int) -> str:
    if code < 0:
        return f"was killed by {signal.Signals(-code).name}"
    return f"exited with status {code}"


PR_SET_PDEATHSIG = 1  # linux/prctl.h


def _die_with_parent() -> None:
    """In the child, before exec: SIGKILL when its parent (this process) dies."""
    if sys.platform.startswith("linux"):
        ctypes.CDLL(None, use_errno=True).prctl(PR_SET_PDEATHSIG, signal.SIGKILL)


def keep_running(command: list[str], timeout: float) -> int:
    """Run `command` until this process is told to stop; start it again when it dies."""
    stopping = False
    child: subprocess.Popen | None = None

    def stop(signum: int, frame: object) -> None:
        nonlocal stopping
        stopping = True
        if child is not None and child.poll() is None:
            child.send_signal(signum)

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    quick_deaths = 0
    while True:
        wait_then_say(command, timeout)
        if stopping:
            return 0
        started = time.monotonic()
        # Its own group: honcho's group-wide SIGTERM reaches this process alone (above).
        # preexec_fn is safe here: this process runs no threads.
        child = subprocess.Popen(command, process_group=0, preexec_fn=_die_with_parent)
        code = child.wait()
        if stopping:
            return code if code >= 0 else 128 - code
        if time.monotonic() - started >= QUICK_DEATH:
            quick_deaths = 0
        delay = min(MAX_DELAY, FIRST_DELAY * 2**quick_deaths)
        quick_deaths += 1
        print(
            f"{command[0]} {how_it_ended(code)}; starting it again in {delay:.0f} s.",
            file=sys.stderr,
            flush=True,
        )
        end = time.monotonic() + delay
        while not stopping and time.monotonic() < end:
            time.sleep(0.1)
        if stopping:
            return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--timeout", type=float, default=60.0)
    parser.add_argument("--restart", action="store_true", help="start it again when it dies")
    parser.add_argument("command", nargs=argparse.REMAINDER)
    args = parser.parse_args(argv)
    command = args.command[1:] if args.command[:1] == ["--"] else args.command
    if not command:
        parser.error("name the command to run after --")
    if args.restart:
        return keep_running(command, args.timeout)
    wait_then_say(command, args.timeout)
    # Replace this process, so that signals reach the command itself.
    os.execvp(command[0], command)  # noqa: S606 - the command line is our own Procfile


if __name__ == "__main__":
    sys.exit(main())
