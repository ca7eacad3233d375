"""A private redis-server on a free port: nothing saved to disk, never the machine's own Redis."""

from __future__ import annotations

import shutil
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

import redis

from tests.harness.processes import Proc, free_port, spawn


@dataclass
class RedisServer:
    port: int
    proc: Proc
    directory: Path
    owns_directory: bool = False

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def client(self, **options) -> redis.Redis:
        return redis.Redis.from_url(self.url, **options)

    def stop(self) -> None:
        self.proc.stop(timeout=5)
        if self.owns_directory:
            shutil.rmtree(self.directory, ignore_errors=True)


def start_redis(
    directory: str | Path | None = None, *, maxclients: int | None = None, timeout: float = 10,
    port: int | None = None,
) -> RedisServer:
    """Start redis-server in `directory` (default: a temporary one, removed on stop) and wait
    until it answers PING. `port` restarts one where a stopped one listened."""
    binary = shutil.which("redis-server")
    if binary is None:
        raise RuntimeError(
            "redis-server is not installed; run `make test` (it installs it) "
            "or `apt-get install redis-server`."
        )
    owns = directory is None
    folder = Path(directory or tempfile.mkdtemp(prefix="wdash-redis-"))
    folder.mkdir(parents=True, exist_ok=True)
    port = port or free_port()
    argv = [binary, "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly",
            "no", "--dir", str(folder)]
    if maxclients:
        argv += ["--maxclients", str(maxclients)]
    server = RedisServer(port, spawn("redis", argv, log=folder / "redis.log"), folder, owns)
    client = server.client()
    deadline = time.monotonic() + timeout
    try:
        while True:
            try:
                client.ping()
                return server
            except redis.ConnectionError:
                if time.monotonic() > deadline or not server.proc.alive():
                    log = server.proc.tail()
                    server.stop()
                    raise RuntimeError(f"the private redis-server did not start:\n{log}") from None
                time.sleep(0.05)
    finally:
        client.close()
