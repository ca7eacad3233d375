"""The delivery task's attempts (dashboard.deliveries) against a real receiver: the record,
the backoff, the dead letter, and a task the broker hands out twice."""

from __future__ import annotations

import json

import pytest
from django.conf import settings

from dashboard import deliveries, siteconfig
from dashboard.models import Delivery
from tests.dashboard.livedata import ORIGINAL_CONFIG, write_config
from tests.harness.receiver import start_receiver

pytestmark = pytest.mark.django_db

EVENT = {"event_id": "7d1f6c1e-0c55-5d1e-8f3c-2f6e1c9b8a01", "trigger": "erp", "site":
         "oven-unified", "event": "entered", "condition": "above", "tag": "Oven_Zone1_Temp",
         "value": 231.5, "quality": "good", "timestamp": "2026-11-26T10:00:00Z",
         "coalesced": 1, "alarm": None}


@pytest.fixture
def receiver(tmp_path):
    with start_receiver() as server:
        path = write_config(tmp_path)
        data = json.loads(path.read_text())
        data["triggers"] = [{
            "id": "erp",
            "when": {"site": "oven-unified", "tag": "Oven_Zone1_Temp", "condition": "above"},
            "then": [{"webhook": {"url": server.url, "timeout": 5}}],
        }]
        path.write_text(json.dumps(data))
        siteconfig.reload_config()
        yield server
    settings.WINCC_CONFIG = ORIGINAL_CONFIG
    siteconfig.get_config.cache_clear()


def test_a_delivered_event_is_recorded_and_never_sent_twice(receiver):
    assert deliveries.attempt("erp", 0, EVENT) == ("delivered", None)
    record = Delivery.objects.get()
    assert (record.status, record.attempts, record.detail, record.kind) == (
        "delivered", 1, "HTTP 200", "webhook")
    assert (record.site_id, record.event_name, record.subject) == (
        "oven-unified", "entered", "Oven_Zone1_Temp")
    assert record.target == receiver.url
    # The broker hands the same task out again (a worker died after sending): no resend.
    assert deliveries.attempt("erp", 0, EVENT) == ("delivered", None)
    assert len(receiver.answered()) == 1


def test_failures_back_off_exponentially_then_become_a_dead_letter(receiver, settings):
    settings.DELIVERY_MAX_ATTEMPTS = 4
    settings.DELIVERY_BACKOFF_SECONDS = 2
    settings.DELIVERY_BACKOFF_MAX_SECONDS = 5
    receiver.status = 500
    delays = [deliveries.attempt("erp", 0, EVENT) for _ in range(4)]
    assert delays == [("retrying", 2.0), ("retrying", 4.0), ("retrying", 5.0), ("dead", None)]
    record = Delivery.objects.get()
    assert (record.status, record.attempts) == ("dead", 4)
    assert record.last_error == f"{receiver.url} answered HTTP 500 (Internal Server Error)"
    assert len(receiver.answered(500)) == 4
    # An administrator's retry gives it a fresh budget; the receiver is back.
    receiver.status = 200
    record.status = Delivery.Status.PENDING
    record.allowed_attempts = record.attempts + settings.DELIVERY_MAX_ATTEMPTS
    record.save()
    assert deliveries.attempt("erp", 0, EVENT) == ("delivered", None)
    assert Delivery.objects.get().attempts == 5


def test_an_action_no_longer_configured_is_a_dead_letter_that_says_so(receiver):
    assert deliveries.attempt("gone", 0, EVENT) == ("dead", None)
    assert deliveries.attempt("erp", 3, {**EVENT, "event_id": "other"}) == ("dead", None)
    assert set(Delivery.objects.values_list("last_error", flat=True)) == {
        "the trigger or its action is no longer in the configuration"}
    assert receiver.answered() == []


def test_the_metrics_count_deliveries_per_trigger_and_status_and_their_attempts(
        receiver, settings):
    from dashboard.delivery_metrics import samples

    settings.DELIVERY_MAX_ATTEMPTS = 2
    deliveries.attempt("erp", 0, EVENT)
    receiver.status = 500
    other = {**EVENT, "event_id": "second"}
    deliveries.attempt("erp", 0, other)
    deliveries.attempt("erp", 0, other)
    assert samples() == [
        ("wdash_deliveries", {"trigger": "erp", "kind": "webhook", "status": "dead"}, 1.0),
        ("wdash_deliveries", {"trigger": "erp", "kind": "webhook", "status": "delivered"}, 1.0),
        ("wdash_delivery_attempts", {"trigger": "erp", "kind": "webhook"}, 3.0),
    ]


def test_a_database_that_cannot_record_the_attempt_is_tried_again_not_lost(
        receiver, monkeypatch):
    # SQLite answers "database is locked" at once when two processes upgrade to a write
    # together; the task must come again rather than drop the event.
    from django.db import OperationalError

    from dashboard.tasks import deliver

    real = deliveries.attempt
    calls = []

    def locked_once(*args):
        calls.append(args)
        if len(calls) == 1:
            raise OperationalError("database is locked")
        return real(*args)

    monkeypatch.setattr(deliveries, "attempt", locked_once)
    result = deliver.apply(args=("erp", 0, EVENT))
    assert (result.state, result.result) == ("SUCCESS", "delivered")
    assert len(calls) == 2
    assert len(receiver.delivered()) == 1
    assert Delivery.objects.get().attempts == 1
