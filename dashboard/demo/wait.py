"""Wait until Redis and the local WinCC servers accept connections, then exec a command.

honcho starts the demo's processes all at once; the web and Celery processes use this so
that their first seconds are not a burst of connection errors while the private Redis and
the simulators start. Only servers on this machine are waited for: a real plant that is
down must show as down on the dashboard, not keep it from starting. When the time is up the
command starts anyway, with a warning.

Usage: python -m dashboard.demo.wait [--timeout SECONDS] -- COMMAND [ARGS...]
"""

from __future__ import annotations

import argparse
import ipaddress
import json
import os
import socket
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


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--timeout", type=float, default=60.0)
    parser.add_argument("command", nargs=argparse.REMAINDER)
    args = parser.parse_args(argv)
    command = args.command[1:] if args.command[:1] == ["--"] else args.command
    if not command:
        parser.error("name the command to run after --")
    missing = wait_for(endpoints(), args.timeout)
    if missing:
        names = ", ".join(f"{host}:{port}" for host, port in missing)
        print(
            f"{names} still refused connections after {args.timeout:.0f} s; "
            f"starting {command[0]} anyway.",
            file=sys.stderr,
            flush=True,
        )
    # Replace this process, so that signals reach the command itself.
    os.execvp(command[0], command)  # noqa: S606 - the command line is our own Procfile


if __name__ == "__main__":
    sys.exit(main())
