"""The dashboard's ASGI app served in a subprocess: under uvicorn (the tests) or as production
runs it, gunicorn with uvicorn workers (the benchmarks).

    server = WebServer(folder, env, argv=uvicorn_argv)
    server.manage("migrate", "--noinput")
    server.start()                   # answers /accounts/login/ now
    server.stop(); server.start()    # the same port: a browser's stream reconnects
"""

from __future__ import annotations

import sys
import time
import urllib.error
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from tests.harness.processes import Proc, free_port, manage, spawn


def uvicorn_argv(port: int) -> list[str]:
    return ["-m", "uvicorn", "dashboard.asgi:application", "--host", "127.0.0.1",
            "--port", str(port), "--lifespan", "off", "--no-access-log",
            # No address rewriting here: Django alone applies TRUSTED_PROXIES.
            "--no-proxy-headers",
            "--timeout-graceful-shutdown", "1"]


def gunicorn_argv(port: int, workers: int | None = None) -> list[str]:
    """As docker-compose.yml runs it (dashboard/gunicorn_conf.py; its worker count unless
    `workers` is given); the access log goes to the log file."""
    argv = ["-m", "gunicorn", "dashboard.asgi:application",
            "--config=python:dashboard.gunicorn_conf", f"--bind=127.0.0.1:{port}",
            "--graceful-timeout=5"]
    return argv + ([f"--workers={workers}"] if workers else [])


@dataclass
class WebServer:
    directory: Path
    env: dict[str, str]
    argv: Callable[[int], list[str]] = uvicorn_argv  # python's arguments for a port
    port: int = field(default_factory=free_port)
    proc: Proc | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def log_path(self) -> Path:
        return self.directory / "web.log"

    @property
    def database_url(self) -> str:
        return self.env["DATABASE_URL"]

    def start(self, timeout: float = 30.0) -> Proc:
        """Serve, and wait until the sign-in page answers."""
        self.proc = spawn("web", [sys.executable, *self.argv(self.port)], log=self.log_path,
                          env=self.env)
        deadline = time.monotonic() + timeout
        while True:
            try:
                urllib.request.urlopen(f"{self.url}/accounts/login/", timeout=2).close()
                return self.proc
            except (urllib.error.URLError, ConnectionError, TimeoutError):
                if not self.proc.alive() or time.monotonic() > deadline:
                    log = self.logs()
                    self.stop()
                    raise RuntimeError(f"the dashboard did not start:\n{log}") from None
                time.sleep(0.1)

    def stop(self) -> None:
        if self.proc is not None:
            self.proc.stop(timeout=5)
            self.proc = None

    def manage(self, *args: str, timeout: float = 120) -> str:
        return manage(self.env, *args, timeout=timeout)

    def logs(self) -> str:
        try:
            return self.log_path.read_text(errors="replace")[-6000:]
        except OSError:
            return ""
