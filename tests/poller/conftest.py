"""Fixtures shared by the poller's tests."""

from __future__ import annotations

import json

import pytest

from tests.poller.stub import NAMES, Clock, StubPlant
from wincc_ingest import store


@pytest.fixture
def changes(redis_client):
    pubsub = redis_client.pubsub(ignore_subscribe_messages=True)
    pubsub.subscribe(store.CHANGES_CHANNEL)
    pubsub.get_message(timeout=1)  # the subscribe confirmation

    def received():
        messages = []
        while (message := pubsub.get_message(timeout=0.05)) is not None:
            messages.append(json.loads(message["data"]))
        return messages

    yield received
    pubsub.close()


@pytest.fixture
def plant():
    return StubPlant(NAMES)


@pytest.fixture
def clock():
    return Clock()
