"""Shared fixtures. A private Redis starts before Django reads its settings' REDIS_URL use."""

from __future__ import annotations

import os

import pytest
import redis

from tests.fixtures.redis_server import RedisServer, start_redis

pytest_plugins = [
    "tests.fixtures.celery_worker",
    "tests.fixtures.simulator",
    "tests.fixtures.live_server",
    "tests.fixtures.browser",
]

_REDIS: RedisServer | None = None


def pytest_configure(config: pytest.Config) -> None:
    global _REDIS
    _REDIS = start_redis()
    os.environ["REDIS_URL"] = _REDIS.url
    os.environ["CELERY_BROKER_URL"] = _REDIS.url
    from django.conf import settings

    settings.REDIS_URL = _REDIS.url
    settings.CELERY_BROKER_URL = _REDIS.url


def pytest_collection_modifyitems(session: pytest.Session, config, items: list) -> None:
    """Browser tests run last: Playwright's sync API keeps an event loop running in the main
    thread for the rest of the session, which async code in later tests would trip over."""
    items.sort(key=lambda item: "browser" in item.path.parts)


def pytest_unconfigure(config: pytest.Config) -> None:
    if _REDIS is not None:
        _REDIS.stop()


@pytest.fixture(scope="session")
def redis_url() -> str:
    assert _REDIS is not None
    return _REDIS.url


@pytest.fixture
def redis_client(redis_url: str):
    """A client on the private test Redis, emptied before each test."""
    client = redis.Redis.from_url(redis_url, decode_responses=True)
    client.flushall()
    yield client
    client.close()
