"""The whole product running, for the fault suite: a simulator, a private Redis, a Celery
worker and beat, and the dashboard under uvicorn with its own SQLite database. A `Probe` reads
what a signed-in person's page shows (the live poll fragment of the sites page and /health/);
`Stack.audit` and `Stack.journal` read the database the web and the worker write."""

from __future__ import annotations

import re
import sqlite3
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import httpx

from tests.fixtures.live_server import LIVE_PASSWORD, start_live_server
from tests.fixtures.simulator import write_config
from tests.harness.celery_worker import CeleryProcesses, start_celery
from tests.harness.redis_server import RedisServer, start_redis
from tests.harness.simulator import Simulator, start_simulator
from tests.harness.web import WebServer

POLL_INTERVAL = 1.0
SITES = ("oven-unified", "line-classic", "utilities-restv1")

_STATUS = re.compile(r'data-site="([^"]+)" data-site-status="([^"]+)"')
_REASON = re.compile(r"is STALE: ([^<·]+)")


@dataclass(frozen=True)
class Seen:
    """What the page showed at one moment."""

    http: int  # the poll fragment's status (0: no answer within the probe's timeout)
    sites: dict[str, str]  # site -> "current" | "stale" | "failing" | ...
    reason: str  # the first stale site's reason, in the page's words
    health: str  # /health/ "status": ok | degraded | down | "" (no answer)

    @property
    def current(self) -> bool:
        return self.http == 200 and all(s == "current" for s in self.sites.values())

    def describe(self) -> str:
        if self.http != 200:
            shown = f"no page (HTTP {self.http})" if self.http else "no answer"
        elif self.current:
            shown = "all sites current"
        else:
            states = sorted({s for s in self.sites.values() if s != "current"})
            shown = "/".join(states).upper() + (f": {self.reason.strip()}" if self.reason else "")
        return f"{shown}; /health/ {self.health or 'no answer'}"


class Probe:
    """A viewer signed in on the dashboard, reading the live poll fragment like a tablet whose
    proxy breaks SSE (`?transport=poll`)."""

    def __init__(self, url: str, username: str = "viewer", timeout: float = 8.0) -> None:
        self.http = httpx.Client(base_url=url, timeout=timeout, follow_redirects=False)
        self.username = username
        self.sign_in()

    def sign_in(self) -> None:
        self.http.get("/accounts/login/")
        response = self.http.post("/accounts/login/", data={
            "username": self.username, "password": LIVE_PASSWORD,
            "csrfmiddlewaretoken": self.http.cookies["csrftoken"],
        })
        assert response.status_code == 302, f"sign-in of {self.username}: {response.text[:300]}"

    def post(self, path: str, data: dict) -> httpx.Response:
        return self.http.post(path, data=data,
                              headers={"X-CSRFToken": self.http.cookies["csrftoken"]})

    def look(self) -> Seen:
        try:
            page = self.http.get("/live/poll/sites/", params={"transport": "poll"})
            http, body = page.status_code, page.text
        except httpx.HTTPError:
            http, body = 0, ""
        try:
            health = self.http.get("/health/", timeout=4).json().get("status", "")
        except (httpx.HTTPError, ValueError):
            health = ""
        sites = dict.fromkeys(SITES, "current")
        sites.update(_STATUS.findall(body))
        reason = _REASON.search(body)
        if http != 200:
            sites = dict.fromkeys(SITES, "unknown")
        return Seen(http, sites, reason.group(1) if reason else "", health)

    def close(self) -> None:
        self.http.close()


@dataclass
class Stack:
    sim: Simulator
    redis: RedisServer
    celery: CeleryProcesses
    web: WebServer
    directory: Path

    @property
    def database(self) -> Path:
        return Path(self.web.database_url.removeprefix("sqlite:///"))

    def query(self, sql: str, params: tuple = ()) -> list[tuple]:
        db = sqlite3.connect(self.database, timeout=30)
        try:
            return db.execute(sql, params).fetchall()
        finally:
            db.close()

    def mark(self) -> tuple[int, str]:
        """The last audit row id and the time now (as SQLite holds Django's UTC times): a
        case reads only the rows after them (a reset simulator numbers alarm instances from
        the start again, and a journal row of an earlier case may be written late)."""
        audit = self.query("SELECT coalesce(max(id), 0) FROM dashboard_auditentry")[0][0]
        return audit, datetime.now(UTC).strftime("%Y-%m-%d %H:%M:%S.%f")

    def audit(self, since: tuple[int, str], alarm: str, instance: int
              ) -> list[tuple[str, str, str]]:
        """(result, state_after, message) of the alarm instance's audit rows after `since`."""
        return self.query(
            "SELECT result, state_after, message FROM dashboard_auditentry "
            "WHERE id > ? AND alarm_name = ? AND instance_id = ? ORDER BY id",
            (since[0], alarm, instance))

    def journal(self, since: tuple[int, str], site: str, alarm: str, instance: int
                ) -> list[str]:
        """The transitions since `since` journaled for the alarm instance on a site."""
        rows = self.query(
            "SELECT transition FROM dashboard_journalentry WHERE at >= ? AND site_id = ? "
            "AND alarm_name = ? AND instance_id = ? ORDER BY at, id",
            (since[1], site, alarm, instance))
        return [row[0] for row in rows]

    @contextmanager
    def database_locked(self) -> Iterator[None]:
        """An exclusive SQLite lock held by another connection (a backup tool, a migration)."""
        db = sqlite3.connect(self.database, timeout=30, isolation_level=None)
        try:
            db.execute("BEGIN EXCLUSIVE")
            yield
        finally:
            db.execute("ROLLBACK")
            db.close()

    def restart_redis(self) -> None:
        port = self.redis.port
        self.redis.stop()
        self.redis = start_redis(port=port)

    def stop(self) -> None:
        self.celery.stop()
        self.web.stop()
        self.redis.stop()
        self.sim.stop()


def start_stack(directory: Path) -> Stack:
    """Everything started and every site polled at least once."""
    sim = start_simulator(directory / "sim", http=True, tick=0.25, token_ttl=600)
    redis_server = web = celery = None
    try:
        config = write_config(sim, directory / "config.json", poll_interval=POLL_INTERVAL)
        redis_server = start_redis()
        web = start_live_server(directory / "web", redis_url=redis_server.url,
                                wincc_config=config, env=sim.env)
        celery = start_celery(redis_server.url, config, web.database_url, env=sim.env,
                              directory=directory / "celery")
        celery.wait_ready()
        stack = Stack(sim, redis_server, celery, web, directory)
    except Exception:
        for part in (celery, web, redis_server, sim):
            if part is not None:
                part.stop()
        raise
    return stack


def wait_for(check, timeout: float, interval: float = 0.25):
    """Poll `check()` until it returns something true; (value, seconds) or raise."""
    started = time.monotonic()
    while True:
        value = check()
        if value:
            return value, time.monotonic() - started
        if time.monotonic() - started > timeout:
            raise AssertionError(f"not within {timeout:.0f} s (last: {value!r})")
        time.sleep(interval)
