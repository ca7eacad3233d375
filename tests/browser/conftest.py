"""One live stack for every browser test of the session: the simulator, its own Redis, a real
Celery worker and beat polling it, and the dashboard under uvicorn. Each test gets a fresh
browser context (cookies, viewport) on the one shared Chromium."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path

import pytest
import redis

from tests.fixtures.browser import DESKTOP
from tests.fixtures.live_server import LIVE_PASSWORD, start_live_server
from tests.fixtures.simulator import write_config
from tests.harness.celery_worker import CeleryProcesses, start_celery
from tests.harness.processes import wait_until
from tests.harness.redis_server import RedisServer, start_redis
from tests.harness.simulator import Simulator
from tests.harness.web import WebServer
from wincc_bridge.models import utcnow
from wincc_ingest import codec

POLL_INTERVAL = 1.0
# The demo's three sites are three faces of one simulator: an alarm raised there reaches each
# site at that site's next poll, a moment apart.
SITES = ("oven-unified", "line-classic", "utilities-restv1")

pytestmark = pytest.mark.browser


@dataclass
class LiveStack:
    sim: Simulator
    redis: RedisServer
    celery: CeleryProcesses
    server: WebServer

    @property
    def url(self) -> str:
        return self.server.url

    def _every_site(self, holds) -> bool:
        """Does `holds(client, site)` hold for every test site, read from the stack's Redis?"""
        with redis.Redis.from_url(self.redis.url, decode_responses=True) as client:
            return all(holds(client, site) for site in SITES)

    def sites_current(self) -> bool:
        now = utcnow()
        return self._every_site(
            lambda client, s: (h := codec.read_health(client, s)) is not None
            and h.is_current(now))

    def awaits_acknowledgement_everywhere(self, name: str, instance: int) -> bool:
        """Has every site polled alarm `name` (this instance) as awaiting acknowledgement?"""
        return self._every_site(
            lambda client, s: any(a.name == name and a.instance_id == instance
                                  and a.state.needs_acknowledgement
                                  for a in codec.read_alarms(client, s).values()))


@contextlib.contextmanager
def running_stack(simulator: Simulator, directory: Path,
                  env: Mapping[str, str] | None = None) -> Iterator[LiveStack]:
    """The dashboard, a worker and beat on the three test sites of `simulator`, with their
    own Redis (other tests empty the session's Redis between tests); `env` adds settings."""
    config = write_config(simulator, directory / "config.json", poll_interval=POLL_INTERVAL)
    redis_server = start_redis()
    server = celery = None
    settings = {**simulator.env, **(env or {})}
    try:
        server = start_live_server(
            directory / "web", redis_url=redis_server.url, wincc_config=config, env=settings
        )
        # A server that gets its alarm list back is read at once (tests switch it off).
        celery = start_celery(
            redis_server.url, config, server.database_url,
            env={**settings, "ALARM_LIST_REPROBE_SECONDS": "1"},
            directory=directory / "celery",
        )
        celery.wait_ready()
        stack = LiveStack(simulator, redis_server, celery, server)
        wait_until(stack.sites_current, timeout=30)
        yield stack
    finally:
        if celery is not None:
            celery.stop()
        if server is not None:
            server.stop()
        redis_server.stop()


@pytest.fixture(scope="session")
def live_stack(browser, simulator, tmp_path_factory) -> Iterator[LiveStack]:
    with running_stack(simulator, tmp_path_factory.mktemp("live-stack")) as stack:
        yield stack


@pytest.fixture
def stack(live_stack: LiveStack) -> Iterator[LiveStack]:
    """The shared stack with the simulator reset and every site polled again."""
    live_stack.sim.reset()
    if live_stack.server.proc is None:
        live_stack.server.start()
    wait_until(live_stack.sites_current, timeout=15)
    yield live_stack
    live_stack.sim.reset()


def new_page(browser, viewport=DESKTOP, **options):
    context = browser.new_context(viewport=viewport, **options)
    context.set_default_timeout(10_000)
    return context.new_page()


def sign_in(page, base_url: str, username: str, password: str = LIVE_PASSWORD) -> None:
    page.goto(f"{base_url}/accounts/login/")
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", password)
    page.click("button[type=submit], input[type=submit]")
    page.wait_for_url(f"{base_url}/")
