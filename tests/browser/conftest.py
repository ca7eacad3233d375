"""One live stack for every browser test of the session: the simulator, its own Redis, a real
Celery worker and beat polling it, and the dashboard under uvicorn. Each test gets a fresh
browser context (cookies, viewport) on the one shared Chromium."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

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

    def sites_current(self) -> bool:
        client = redis.Redis.from_url(self.redis.url, decode_responses=True)
        try:
            now = utcnow()
            return all(
                (h := codec.read_health(client, s)) is not None and h.is_current(now)
                for s in ("oven-unified", "line-classic", "utilities-restv1")
            )
        finally:
            client.close()


@pytest.fixture(scope="session")
def live_stack(browser, simulator, tmp_path_factory) -> Iterator[LiveStack]:
    directory = tmp_path_factory.mktemp("live-stack")
    config = write_config(simulator, directory / "config.json", poll_interval=POLL_INTERVAL)
    # Its own Redis: other tests empty the session's Redis between tests.
    redis_server = start_redis()
    server = celery = None
    try:
        server = start_live_server(
            directory / "web", redis_url=redis_server.url, wincc_config=config, env=simulator.env
        )
        # A server that gets its alarm list back is read at once (tests switch it off).
        celery = start_celery(
            redis_server.url, config, server.database_url,
            env={**simulator.env, "ALARM_LIST_REPROBE_SECONDS": "1"},
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
