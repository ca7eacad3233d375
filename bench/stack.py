"""Start and stop the product's real pieces for a benchmark, all on 127.0.0.1.

The pieces come from the tests' process harness (tests/harness): every process runs in its own
process group, logs into the run's temporary folder and is ended (SIGTERM, then SIGKILL) when
the Stack closes, also on error. Nothing here touches the machine's own Redis or database: the
Redis is private, on a free port, and the database is a migrated SQLite file under the
temporary folder. What only a benchmark needs is here: CPU and memory of process trees.
"""

from __future__ import annotations

import contextlib
import functools
import json
import resource
import secrets
import shutil
import tempfile
import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import psutil

from tests.harness.celery_worker import CeleryProcesses, start_celery
from tests.harness.processes import Proc, manage, python_env, run_python
from tests.harness.redis_server import RedisServer, start_redis
from tests.harness.simulator import Simulator, start_simulator
from tests.harness.web import WebServer, gunicorn_argv

SIM_ENV_PREFIX = "WINCC_SIM_"


def raise_fd_limit(wanted: int = 65536) -> int:
    """Raise the soft open-files limit as far as the hard limit allows; return it."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    target = wanted if hard == resource.RLIM_INFINITY else min(wanted, hard)
    if soft < target:
        with contextlib.suppress(ValueError, OSError):
            resource.setrlimit(resource.RLIMIT_NOFILE, (target, hard))
    return resource.getrlimit(resource.RLIMIT_NOFILE)[0]


def tree(pid: int) -> list[psutil.Process]:
    """The process and all its descendants that are alive now."""
    try:
        root = psutil.Process(pid)
        return [root, *root.children(recursive=True)]
    except psutil.NoSuchProcess:
        return []


class CpuMeter:
    """CPU seconds (user + system) used by process trees between start() and stop().

    Processes are sampled at both ends by pid; a process that is born in between counts
    from zero, one that dies in between counts up to its last sample (taken by sample()).
    """

    def __init__(self, pids: Iterable[int]) -> None:
        self.roots = list(pids)
        self.first: dict[int, float] = {}
        self.last: dict[int, float] = {}

    def _read(self) -> dict[int, float]:
        out = {}
        for root in self.roots:
            for proc in tree(root):
                with contextlib.suppress(psutil.Error):
                    t = proc.cpu_times()
                    out[proc.pid] = t.user + t.system
        return out

    def start(self) -> None:
        self.first = self._read()
        self.last = dict(self.first)

    def sample(self) -> None:
        self.last.update(self._read())

    def stop(self) -> float:
        self.sample()
        return sum(v - self.first.get(pid, 0.0) for pid, v in self.last.items())


def rss_bytes(pids: Iterable[int]) -> int:
    total = 0
    for root in pids:
        for proc in tree(root):
            with contextlib.suppress(psutil.Error):
                total += proc.memory_info().rss
    return total


@dataclass
class Stack:
    """The pieces of one benchmark run. Use as a context manager."""

    label: str = "bench"
    keep: bool = False
    workdir: Path = field(init=False)
    env: dict[str, str] = field(init=False)
    redis_server: RedisServer | None = field(default=None, init=False)
    sim: Simulator | None = field(default=None, init=False)
    # More simulators beside `sim` (start_simulators), each its own process and port.
    sims: list[Simulator] = field(default_factory=list, init=False)
    celery: CeleryProcesses | None = field(default=None, init=False)
    # More workers beside `celery`'s (start_more_workers), without a beat.
    more_workers: list[CeleryProcesses] = field(default_factory=list, init=False)
    web: WebServer | None = field(default=None, init=False)

    def __post_init__(self) -> None:
        self.workdir = Path(tempfile.mkdtemp(prefix=f"wdash-{self.label}-"))
        # The children inherit the raised limit: thousands of streams need as many sockets.
        raise_fd_limit()
        self.env = python_env(
            PYTHONUNBUFFERED="1",
            DJANGO_SETTINGS_MODULE="dashboard.settings",
            # A throwaway key per run; production settings otherwise.
            DJANGO_SECRET_KEY=secrets.token_urlsafe(40),
            ALLOWED_HOSTS="127.0.0.1,localhost",
            # Plain HTTP on loopback: cookies must travel without TLS.
            SECURE_COOKIES="0",
            WDASH_VAR_DIR=str(self.workdir / "var"),
            DATABASE_URL=f"sqlite:///{self.workdir / 'var' / 'dashboard.sqlite3'}",
            SESSION_IDLE_SECONDS="7200",
        )
        (self.workdir / "var").mkdir()

    # --- lifecycle ----------------------------------------------------------------------

    def __enter__(self) -> Stack:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        """Stop every piece, the last started first."""
        for piece in (self.web, *self.more_workers, self.celery, *reversed(self.sims), self.sim,
                      self.redis_server):
            if piece is not None:
                piece.stop()
        self.web = self.celery = self.sim = self.redis_server = None
        self.sims, self.more_workers = [], []
        if not self.keep:
            shutil.rmtree(self.workdir, ignore_errors=True)

    def proc(self, name: str) -> Proc:
        """The process `name`: redis, simulator, worker, beat or web."""
        procs = {
            "redis": self.redis_server and self.redis_server.proc,
            "simulator": self.sim and self.sim.proc,
            "worker": self.celery and self.celery.worker,
            "beat": self.celery and self.celery.beat,
            "web": self.web and self.web.proc,
        }
        if not procs.get(name):
            raise KeyError(name)
        return procs[name]

    # --- Redis ----------------------------------------------------------------------------

    @property
    def redis_url(self) -> str:
        assert self.redis_server is not None, "start_redis() first"
        return self.redis_server.url

    def start_redis(self) -> Proc:
        self.redis_server = start_redis(self.workdir / "redis", maxclients=20000)
        self.env["REDIS_URL"] = self.redis_url
        self.env["CELERY_BROKER_URL"] = self.redis_url
        return self.redis_server.proc

    def redis(self):
        return self.redis_server.client(decode_responses=True)

    # --- the simulator --------------------------------------------------------------------

    def start_simulator(self, *, tags: int = 0, seed: int = 7, **options: Any) -> Proc:
        """The WinCC simulator over HTTPS with its own certificate, plus its admin endpoint,
        with the API users of the stack's environment (bench.sites.simulator_secrets)."""
        users = {k: v for k, v in self.env.items() if k.startswith(SIM_ENV_PREFIX)}
        self.sim = start_simulator(
            self.workdir / "simulator", seed=seed, tags=tags or None, log_level="warning",
            env=users, start_timeout=60, **options,
        )
        return self.sim.proc

    def start_simulators(self, count: int, *, tags: int = 0, **options: Any) -> list[Simulator]:
        """`count` simulators, each its own process on its own ports with its own certificate
        (a plant of many WinCC servers), all with the stack's API users."""
        users = {k: v for k, v in self.env.items() if k.startswith(SIM_ENV_PREFIX)}
        for i in range(count):
            self.sims.append(start_simulator(
                self.workdir / f"simulator-{i}", seed=7 + i, tags=tags or None,
                log_level="warning", env=users, start_timeout=60, **options,
            ))
        return self.sims

    # --- configuration ----------------------------------------------------------------------

    def write_config(self, config: dict) -> Path:
        path = self.workdir / "config.json"
        path.write_text(json.dumps(config, indent=1))
        self.env["WINCC_CONFIG"] = str(path)
        return path

    # --- Django: database, users, sessions --------------------------------------------------

    def manage(self, *args: str, timeout: float = 300) -> str:
        return manage(self.env, *args, timeout=timeout)

    def prepare_database(self, sessions: int = 1) -> list[str]:
        """Migrate, create a viewer, and return `sessions` signed-in session keys for it.

        Each load client gets its own session, as each browser would have.
        """
        self.manage("migrate", "--noinput")
        # As a production deployment does: static files collected for whitenoise.
        self.manage("collectstatic", "--noinput")
        out = run_python(
            ["-m", "bench.viewers", "bench-viewer", "--sessions", str(int(sessions))], self.env,
            what="creating the bench user", timeout=600,
        )
        return json.loads(out.strip().splitlines()[-1])

    def create_login_user(self, username: str, password: str, role: str = "") -> None:
        """A viewer (or one of `role`) who signs in through the login form (the browser
        benchmarks)."""
        run_python(["-m", "bench.viewers", username, "--password-stdin", "--role", role],
                   self.env, what="creating the login user", stdin=password)

    # --- the ASGI server ----------------------------------------------------------------

    def start_web(self, workers: int = 2, port: int | None = None) -> Proc:
        """gunicorn with uvicorn workers, as in production; on `port` when a piece started
        before it must know where (a simulator that posts to it)."""
        self.web = WebServer(
            self.workdir, self.env, argv=functools.partial(gunicorn_argv, workers=workers)
        )
        if port is not None:
            self.web.port = port
        proc = self.web.start(timeout=60)
        # Every worker is ready once it answers; give them a moment to import Django.
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline and len(tree(proc.pid)) < workers + 1:
            time.sleep(0.2)
        return proc

    @property
    def web_url(self) -> str:
        return self.web.url

    # --- Celery ---------------------------------------------------------------------------

    def start_celery(
        self, concurrency: int = 1, worker_args: Sequence[str] = ()
    ) -> CeleryProcesses:
        """One worker (prefork, `concurrency` pool processes, unless `worker_args` say
        otherwise) and the beat."""
        self.celery = start_celery(
            self.redis_url, concurrency=concurrency, hostname="bench-worker@%h",
            directory=self.workdir, env=self.env, beat_args=["--loglevel", "INFO"],
            worker_args=worker_args,
        )
        return self.celery

    def start_worker(self, name: str, worker_args: Sequence[str] = ()) -> CeleryProcesses:
        """One more worker (no beat) on the stack's Redis and configuration, logging under
        its own folder."""
        workers = start_celery(
            self.redis_url, beat=False, hostname=f"bench-{name}@%h",
            directory=self.workdir / name, env=self.env, worker_args=worker_args,
        )
        self.more_workers.append(workers)
        return workers
