"""Prepare `make run`: folders under var/, the simulators' certificates, var/run.env for honcho.

Each simulator reuses the certificate made here, and the demo configuration pins it, so
the configuration is complete (and checked by `migrate`) before any process starts.
Without REDIS_URL the demo runs a private redis-server (a Procfile entry, so Ctrl-C stops
it too) on a free local port picked here; with REDIS_URL that server is used instead.

Usage: python -m dashboard.demo.prepare [--var DIR] [--check-ports]
"""

from __future__ import annotations

import argparse
import os
import re
import socket
import sys
from pathlib import Path

from wincc_sim.tls import ensure_certificate

BASE_DIR = Path(__file__).resolve().parent.parent.parent
DEMO_SITES = ("oven-unified", "line-classic", "utilities-restv1")


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on right now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def procfile_ports(procfile: Path) -> list[int]:
    """The fixed ports the Procfile's simulators listen on."""
    return [int(port) for port in re.findall(r"--(?:admin-)?port (\d+)", procfile.read_text())]


def busy_ports(ports: list[int]) -> list[int]:
    """Those of `ports` that another program listens on already (on 127.0.0.1)."""
    busy = []
    for port in ports:
        with socket.socket() as sock:
            if sock.connect_ex(("127.0.0.1", port)) == 0:
                busy.append(port)
    return busy


def run_env(environ: dict[str, str] | os._Environ, port: int | None = None) -> dict[str, str]:
    """The variables honcho adds for the demo's processes."""
    if environ.get("REDIS_URL"):
        return {}
    port = port or free_port()
    url = f"redis://127.0.0.1:{port}/0"
    return {"REDIS_PORT": str(port), "REDIS_URL": url, "CELERY_BROKER_URL": url}


def prepare(var_dir: Path, environ=os.environ) -> Path:
    (var_dir / "redis").mkdir(parents=True, exist_ok=True)
    for site in DEMO_SITES:
        ensure_certificate(var_dir / "sim" / site)
    env_file = var_dir / "run.env"
    lines = [f"{name}={value}" for name, value in run_env(environ).items()]
    env_file.write_text("".join(line + "\n" for line in lines), encoding="utf-8")
    return env_file


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--var", type=Path, default=BASE_DIR / "var", help="state folder")
    parser.add_argument(
        "--check-ports", action="store_true", help="fail when the demo's ports are taken"
    )
    args = parser.parse_args(argv)
    ports = [*procfile_ports(BASE_DIR / "Procfile"), int(os.environ.get("WDASH_WEB_PORT", 8000))]
    busy = busy_ports(ports) if args.check_ports else []
    if busy:
        names = ", ".join(str(port) for port in busy)
        print(
            f"Port(s) {names} on 127.0.0.1 are in use by another program (a demo still "
            "running?). Stop it, or choose the web port with PORT=...",
            file=sys.stderr,
        )
        return 1
    env_file = prepare(args.var)
    if os.environ.get("REDIS_URL"):
        print(f"Redis: using REDIS_URL ({os.environ['REDIS_URL']})")
    else:
        print(f"Redis: a private redis-server for the demo, {env_file} has its port")
    return 0


if __name__ == "__main__":
    sys.exit(main())
