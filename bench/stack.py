"""Start and stop the product's real pieces for a benchmark, all on 127.0.0.1.

Every process runs in its own process group, logs into the run's temporary folder and is
ended (SIGTERM, then SIGKILL) when the Stack closes, also on error. Nothing here touches the
machine's own Redis or database: the Redis is private, on a free port, and the database is a
migrated SQLite file under the temporary folder.
"""

from __future__ import annotations

import contextlib
import json
import os
import resource
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import psutil

REPO = Path(__file__).resolve().parent.parent
PYTHON = sys.executable
BIN = Path(PYTHON).parent

# Names of the environment variables that carry the simulator's API users' secrets. The
# values are made up per run and never written to a file.
READ_PASSWORD_ENV = "BENCH_WINCC_READ_PASSWORD"
READ_TOKEN_ENV = "BENCH_WINCC_READ_TOKEN"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def raise_fd_limit(wanted: int = 65536) -> int:
    """Raise the soft open-files limit as far as the hard limit allows; return it."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    target = wanted if hard == resource.RLIM_INFINITY else min(wanted, hard)
    if soft < target:
        with contextlib.suppress(ValueError, OSError):
            resource.setrlimit(resource.RLIMIT_NOFILE, (target, hard))
    return resource.getrlimit(resource.RLIMIT_NOFILE)[0]


def wait_for_port(port: int, timeout: float, process: subprocess.Popen | None = None) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process is not None and process.poll() is not None:
            raise RuntimeError(f"process {process.args!r} exited with {process.returncode}")
        with socket.socket() as sock:
            sock.settimeout(0.5)
            if sock.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.1)
    raise RuntimeError(f"nothing listens on 127.0.0.1:{port} after {timeout:.0f} s")


@dataclass
class Proc:
    name: str
    popen: subprocess.Popen
    log: Path

    @property
    def pid(self) -> int:
        return self.popen.pid

    def alive(self) -> bool:
        return self.popen.poll() is None

    def tail(self, lines: int = 30) -> str:
        try:
            return "\n".join(self.log.read_text(errors="replace").splitlines()[-lines:])
        except OSError:
            return ""

    def stop(self, timeout: float = 10.0) -> None:
        """SIGTERM the whole process group, then SIGKILL what is left."""
        if self.popen.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.popen.pid, signal.SIGTERM)
            with contextlib.suppress(subprocess.TimeoutExpired):
                self.popen.wait(timeout=timeout)
        # Children that outlived their parent still sit in the group.
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(self.popen.pid, signal.SIGKILL)
        with contextlib.suppress(subprocess.TimeoutExpired):
            self.popen.wait(timeout=5)


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
    procs: list[Proc] = field(default_factory=list, init=False)
    env: dict[str, str] = field(init=False)
    redis_port: int = 0
    web_port: int = 0
    sim: dict = field(default_factory=dict, init=False)

    def __post_init__(self) -> None:
        self.workdir = Path(tempfile.mkdtemp(prefix=f"wdash-{self.label}-"))
        raise_fd_limit()
        self.env = {
            **os.environ,
            "PYTHONPATH": str(REPO),
            "PYTHONUNBUFFERED": "1",
            "DJANGO_SETTINGS_MODULE": "dashboard.settings",
            # A throwaway key per run; production settings otherwise.
            "DJANGO_SECRET_KEY": secrets.token_urlsafe(40),
            "ALLOWED_HOSTS": "127.0.0.1,localhost",
            # Plain HTTP on loopback: cookies must travel without TLS.
            "SECURE_COOKIES": "0",
            "WDASH_VAR_DIR": str(self.workdir / "var"),
            "DATABASE_URL": f"sqlite:///{self.workdir / 'var' / 'dashboard.sqlite3'}",
            "SESSION_IDLE_SECONDS": "7200",
            READ_PASSWORD_ENV: secrets.token_urlsafe(16),
            READ_TOKEN_ENV: secrets.token_urlsafe(24),
        }
        (self.workdir / "var").mkdir()

    # --- lifecycle ----------------------------------------------------------------------

    def __enter__(self) -> Stack:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        for proc in reversed(self.procs):
            proc.stop()
        self.procs.clear()
        if not self.keep:
            shutil.rmtree(self.workdir, ignore_errors=True)

    def spawn(self, name: str, argv: Sequence[str], env: dict[str, str] | None = None) -> Proc:
        log = self.workdir / f"{name}.log"
        handle = open(log, "ab")  # noqa: SIM115 - the child owns it
        popen = subprocess.Popen(
            list(argv),
            cwd=REPO,
            env=env or self.env,
            stdin=subprocess.DEVNULL,
            stdout=handle,
            stderr=subprocess.STDOUT,
            start_new_session=True,
            preexec_fn=_child_limits,
        )
        handle.close()
        proc = Proc(name, popen, log)
        self.procs.append(proc)
        return proc

    def stop(self, name: str) -> None:
        for proc in list(self.procs):
            if proc.name == name:
                proc.stop()
                self.procs.remove(proc)

    def proc(self, name: str) -> Proc:
        for proc in self.procs:
            if proc.name == name:
                return proc
        raise KeyError(name)

    # --- Redis ----------------------------------------------------------------------------

    @property
    def redis_url(self) -> str:
        return f"redis://127.0.0.1:{self.redis_port}/0"

    def start_redis(self) -> Proc:
        binary = shutil.which("redis-server")
        if binary is None:
            raise RuntimeError("redis-server is not installed (apt-get install redis-server)")
        self.redis_port = free_port()
        rdir = self.workdir / "redis"
        rdir.mkdir()
        proc = self.spawn(
            "redis",
            [
                binary,
                "--port",
                str(self.redis_port),
                "--bind",
                "127.0.0.1",
                "--save",
                "",
                "--appendonly",
                "no",
                "--dir",
                str(rdir),
                "--maxclients",
                "20000",
            ],
        )
        wait_for_port(self.redis_port, 10, proc.popen)
        self.env["REDIS_URL"] = self.redis_url
        self.env["CELERY_BROKER_URL"] = self.redis_url
        return proc

    def redis(self):
        import redis

        return redis.Redis.from_url(self.redis_url, decode_responses=True)

    # --- the simulator --------------------------------------------------------------------

    def start_simulator(self, *, tags: int = 0, seed: int = 7, extra: Sequence[str] = ()) -> Proc:
        """The WinCC simulator over HTTPS with its own certificate, plus its admin endpoint."""
        port, admin = free_port(), free_port()
        cert_dir = self.workdir / "sim-certs"
        argv = [
            PYTHON,
            "-m",
            "wincc_sim",
            "--port",
            str(port),
            "--cert-dir",
            str(cert_dir),
            "--seed",
            str(seed),
            "--admin-port",
            str(admin),
        ]
        if tags:
            argv += ["--tags", str(tags)]
        # The simulator ends by itself should this process die without stopping it.
        argv += ["--log-level", "warning", "--parent-pid", str(os.getpid()), *extra]
        proc = self.spawn("simulator", argv)
        wait_for_port(port, 60, proc.popen)
        wait_for_port(admin, 30, proc.popen)
        self.sim = {
            "port": port,
            "admin_port": admin,
            "cert_dir": cert_dir,
            "url": f"https://127.0.0.1:{port}",
            "admin_url": f"http://127.0.0.1:{admin}",
        }
        return proc

    # --- configuration ----------------------------------------------------------------------

    def write_config(self, config: dict) -> Path:
        path = self.workdir / "config.json"
        path.write_text(json.dumps(config, indent=1))
        self.env["WINCC_CONFIG"] = str(path)
        return path

    # --- Django: database, users, sessions --------------------------------------------------

    def manage(self, *args: str, timeout: float = 300) -> str:
        out = subprocess.run(
            [PYTHON, "manage.py", *args],
            cwd=REPO,
            env=self.env,
            capture_output=True,
            text=True,
            timeout=timeout,
            check=False,
        )
        if out.returncode:
            raise RuntimeError(f"manage.py {' '.join(args)} failed:\n{out.stdout}\n{out.stderr}")
        return out.stdout

    def prepare_database(self, sessions: int = 1) -> list[str]:
        """Migrate, create a viewer, and return `sessions` signed-in session keys for it.

        Each load client gets its own session, as each browser would have.
        """
        self.manage("migrate", "--noinput")
        # As a production deployment does: static files collected for whitenoise.
        self.manage("collectstatic", "--noinput")
        script = f"""
import json, django
django.setup()
from django.contrib.auth import BACKEND_SESSION_KEY, HASH_SESSION_KEY, SESSION_KEY
from django.contrib.auth.models import User
from django.contrib.sessions.backends.db import SessionStore
from dashboard import roles
viewers = roles.ensure_role(roles.VIEWERS)
user, _ = User.objects.get_or_create(username="bench-viewer")
user.set_unusable_password(); user.save(); user.groups.add(viewers)
keys = []
for _ in range({int(sessions)}):
    s = SessionStore()
    s[SESSION_KEY] = str(user.pk)
    s[BACKEND_SESSION_KEY] = "django.contrib.auth.backends.ModelBackend"
    s[HASH_SESSION_KEY] = user.get_session_auth_hash()
    s.create()
    keys.append(s.session_key)
print(json.dumps(keys))
"""
        out = self._django_script(script, "creating the bench user", timeout=600)
        return json.loads(out.strip().splitlines()[-1])

    def create_login_user(self, username: str, password: str) -> None:
        """A viewer who signs in through the login form (the browser benchmark)."""
        script = f"""
import django
django.setup()
from django.contrib.auth.models import User
from dashboard import roles
viewers = roles.ensure_role(roles.VIEWERS)
user, _ = User.objects.get_or_create(username={username!r})
user.set_password({password!r}); user.save(); user.groups.add(viewers)
"""
        self._django_script(script, "creating the login user", timeout=120)

    def _django_script(self, script: str, what: str, *, timeout: float) -> str:
        """Run `script` with the stack's settings; its stdout, or an error saying `what` failed."""
        out = subprocess.run(
            [PYTHON, "-c", script],
            cwd=REPO,
            env=self.env,
            capture_output=True,
            text=True,
            timeout=timeout,
            check=False,
        )
        if out.returncode:
            raise RuntimeError(f"{what} failed:\n{out.stderr}")
        return out.stdout

    # --- the ASGI server ----------------------------------------------------------------

    def start_web(self, workers: int = 2) -> Proc:
        """gunicorn with uvicorn workers, as in production."""
        self.web_port = free_port()
        # As docker-compose.yml runs it (the access log goes to the log file).
        argv = [
            str(BIN / "gunicorn"),
            "dashboard.asgi:application",
            "--worker-class=uvicorn_worker.UvicornWorker",
            f"--bind=127.0.0.1:{self.web_port}",
            f"--workers={workers}",
            "--graceful-timeout=5",
            "--access-logfile=-",
        ]
        proc = self.spawn("web", argv)
        wait_for_port(self.web_port, 60, proc.popen)
        # Every worker is ready once it answers; give them a moment to import Django.
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline and len(tree(proc.pid)) < workers + 1:
            time.sleep(0.2)
        return proc

    @property
    def web_url(self) -> str:
        return f"http://127.0.0.1:{self.web_port}"

    # --- Celery ---------------------------------------------------------------------------

    def start_worker(self, concurrency: int = 1, name: str = "worker") -> Proc:
        argv = [
            str(BIN / "celery"),
            "-A",
            "dashboard",
            "worker",
            "--concurrency",
            str(concurrency),
            "--pool",
            "prefork",
            "--loglevel",
            "INFO",
            "--hostname",
            f"bench-{name}@%h",
            "--without-gossip",
            "--without-mingle",
        ]
        return self.spawn(name, argv)

    def start_beat(self) -> Proc:
        argv = [
            str(BIN / "celery"),
            "-A",
            "dashboard",
            "beat",
            "--loglevel",
            "INFO",
            "--schedule",
            str(self.workdir / "celerybeat-schedule"),
        ]
        return self.spawn("beat", argv)


def _child_limits() -> None:
    raise_fd_limit()
