"""A real Celery worker and beat (`celery -A dashboard worker|beat`) as subprocesses.

    celery = start_celery(redis_url, wincc_config, database_url)   # worker + beat
    celery.wait_ready()      # both wrote their heartbeats
    celery.stop()

Each process runs in its own process group, so that stopping it also stops its pool children.
"""

from __future__ import annotations

import os
import shutil
import sys
import tempfile
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import redis

from tests.harness.processes import Proc, python_env, spawn
from wincc_ingest import store


@dataclass
class CeleryProcesses:
    """A worker (and usually a beat) running against one Redis and one configuration."""

    redis_url: str
    env: dict[str, str]
    directory: Path
    worker_args: Sequence[str]
    beat_args: Sequence[str] = ()
    hostname: str = ""
    worker: Proc | None = None
    beat: Proc | None = None
    _owns_directory: bool = field(default=False, repr=False)

    @property
    def worker_log(self) -> Path:
        return self.directory / "worker.log"

    @property
    def beat_log(self) -> Path:
        return self.directory / "beat.log"

    def start_worker(self) -> Proc:
        self.worker = _spawn(
            "worker", ["worker", "--hostname", self.hostname, *self.worker_args], self.env,
            self.worker_log,
        )
        return self.worker

    def start_beat(self) -> Proc:
        self.beat = _spawn(
            "beat",
            ["beat", "--schedule", str(self.directory / "beat-schedule"),
             "--pidfile", str(self.directory / "beat.pid"), *self.beat_args],
            self.env, self.beat_log,
        )
        return self.beat

    def wait_ready(self, timeout: float = 30.0) -> None:
        """Until the worker (and the beat) wrote their heartbeats; raise with the logs if not."""
        keys = [store.worker_heartbeat(self.hostname)]
        if self.beat is not None:
            keys.append(store.BEAT_HEARTBEAT)
        client = redis.Redis.from_url(self.redis_url, decode_responses=True)
        deadline = time.monotonic() + timeout
        try:
            while client.exists(*keys) < len(keys):
                for proc in (self.worker, self.beat):
                    if proc is not None and not proc.alive():
                        raise RuntimeError(f"celery {proc.name} exited:\n{self.logs()}")
                if time.monotonic() > deadline:
                    raise RuntimeError(f"celery did not start within {timeout} s:\n{self.logs()}")
                time.sleep(0.1)
        finally:
            client.close()

    def kill_worker(self) -> None:
        """SIGKILL the worker and its pool children at once, as a crash or OOM would."""
        if self.worker is not None:
            self.worker.kill()
            self.worker = None
            # A killed worker leaves its heartbeat behind; a restart must write a new one.
            client = redis.Redis.from_url(self.redis_url)
            client.delete(store.worker_heartbeat(self.hostname))
            client.close()

    def stop(self) -> None:
        for proc in (self.beat, self.worker):
            if proc is not None:
                proc.stop()
        self.beat = self.worker = None
        if self._owns_directory:
            shutil.rmtree(self.directory, ignore_errors=True)

    def logs(self) -> str:
        parts = []
        for path in (self.worker_log, self.beat_log):
            if path.exists():
                parts.append(f"--- {path.name} ---\n{path.read_text(errors='replace')[-4000:]}")
        return "\n".join(parts)


def start_celery(
    redis_url: str,
    wincc_config: str | os.PathLike[str] | None = None,
    database_url: str | None = None,
    *,
    beat: bool = True,
    queues: Sequence[str] = (),
    concurrency: int = 2,
    hostname: str = "test-worker@%h",
    directory: str | os.PathLike[str] | None = None,
    env: Mapping[str, str] | None = None,
    beat_args: Sequence[str] = (),
    worker_args: Sequence[str] = (),
) -> CeleryProcesses:
    """Start `celery -A dashboard worker` (and `beat`): settings from DJANGO_SETTINGS_MODULE
    (default the test settings), Redis, configuration and database as given; `env` overrides.
    `worker_args` come last on the worker's command line (a later option wins)."""
    owns = directory is None
    workdir = Path(directory or tempfile.mkdtemp(prefix="wdash-celery-"))
    workdir.mkdir(parents=True, exist_ok=True)
    process_env = python_env(
        DJANGO_SETTINGS_MODULE=os.environ.get("DJANGO_SETTINGS_MODULE", "tests.settings"),
        REDIS_URL=redis_url,
        CELERY_BROKER_URL=redis_url,
    )
    if wincc_config is not None:
        process_env["WINCC_CONFIG"] = str(wincc_config)
    process_env.update(env or {})
    if database_url is not None:
        process_env["DATABASE_URL"] = database_url
    argv = ["--loglevel", "INFO", "--concurrency", str(concurrency), "--without-mingle",
            "--without-gossip"]
    if queues:
        argv += ["--queues", ",".join(queues)]
    argv += worker_args
    processes = CeleryProcesses(
        redis_url=redis_url, env=process_env, directory=workdir, worker_args=argv,
        beat_args=beat_args, hostname=hostname.replace("%h", os.uname().nodename),
        _owns_directory=owns,
    )
    try:
        processes.start_worker()
        if beat:
            processes.start_beat()
    except Exception:
        processes.stop()
        raise
    return processes


def _spawn(name: str, args: Sequence[str], env: Mapping[str, str], log: Path) -> Proc:
    return spawn(name, [sys.executable, "-m", "celery", "-A", "dashboard", *args], log=log,
                 env=env)
