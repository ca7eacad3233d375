"""Shared fixtures and the two lanes of the suite (tests/fixtures/lanes.py)."""

from __future__ import annotations

import pytest

pytest_plugins = [
    "pytester",
    "tests.fixtures.lanes",
    "tests.fixtures.redis_server",
    "tests.fixtures.celery_worker",
    "tests.fixtures.mosquitto",
    "tests.fixtures.simulator",
    "tests.fixtures.live_server",
    "tests.fixtures.browser",
    "tests.faults.report",
]


def pytest_collection_modifyitems(session: pytest.Session, config, items: list) -> None:
    """Browser tests run last: Playwright's sync API keeps an event loop running in the main
    thread for the rest of the session, which async code in later tests would trip over."""
    items.sort(key=lambda item: "browser" in item.path.parts)
