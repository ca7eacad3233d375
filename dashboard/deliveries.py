"""Delivering trigger events: queueing (from the poller), one attempt with its record, the
backoff between attempts, the dead letter, and an administrator's retry.

At least once: the task is acknowledged only after it ran, a failure is tried again after
DELIVERY_BACKOFF_SECONDS x 2^(attempt-1) (at most DELIVERY_BACKOFF_MAX_SECONDS), and after
DELIVERY_MAX_ATTEMPTS attempts the record becomes a dead letter that an administrator can
send again. Every attempt carries the event's id as its idempotency key.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from datetime import timedelta
from typing import Any

from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext

from dashboard.celery import DELIVER_TASK, DELIVERIES_QUEUE, app
from dashboard.models import Delivery
from wincc_ingest import delivery
from wincc_ingest.triggers import Firing, Trigger

log = logging.getLogger(__name__)


def dispatch(firings: Sequence[Firing]) -> None:
    """Queue one delivery task per firing and action (the poller calls this; a broker
    that is away raises, and the poll is repeated)."""
    for firing in firings:
        for index in range(len(firing.trigger.then)):
            app.send_task(DELIVER_TASK, args=[firing.trigger.id, index, firing.event],
                          queue=DELIVERIES_QUEUE)


def backoff(attempts: int) -> float:
    start = settings.DELIVERY_BACKOFF_SECONDS
    return float(min(settings.DELIVERY_BACKOFF_MAX_SECONDS, start * 2 ** max(0, attempts - 1)))


def _trigger(trigger_id: str) -> Trigger | None:
    from dashboard.siteconfig import get_config

    for trigger in get_config().triggers:
        if trigger.id == trigger_id:
            return trigger
    return None


def _subject(event: dict[str, Any]) -> str:
    alarm = event.get("alarm")
    if isinstance(alarm, dict):
        return f"{alarm.get('name', '')} #{alarm.get('instance_id', '')}"
    return str(event.get("tag") or "")


def _record(trigger: Trigger | None, trigger_id: str, index: int, event: dict) -> Delivery:
    action = trigger.then[index] if trigger and index < len(trigger.then) else None
    defaults = {
        "kind": action.kind if action else "",
        "target": delivery.target(action)[:300] if action else "",
        "site_id": str(event.get("site", ""))[:64],
        "event_name": str(event.get("event", ""))[:32],
        "subject": _subject(event)[:300],
        "event": event,
        "allowed_attempts": settings.DELIVERY_MAX_ATTEMPTS,
    }
    key = {"event_id": str(event.get("event_id", ""))[:64], "trigger_id": trigger_id,
           "action_index": index}
    try:
        with transaction.atomic():
            record, _ = Delivery.objects.get_or_create(**key, defaults=defaults)
    except IntegrityError:  # the same event's task ran twice at once
        record = Delivery.objects.get(**key)
    return record


def attempt(trigger_id: str, index: int, event: dict) -> tuple[str, float | None]:
    """One attempt: (status, seconds until the next attempt, or None for no further one)."""
    trigger = _trigger(trigger_id)
    record = _record(trigger, trigger_id, index, event)
    if record.status in (Delivery.Status.DELIVERED, Delivery.Status.DEAD):
        return record.status, None  # a task delivered twice by the broker: done already
    now = timezone.now()
    record.attempts += 1
    record.updated_at = now
    if trigger is None or index >= len(trigger.then):
        record.status = Delivery.Status.DEAD
        record.last_error = "the trigger or its action is no longer in the configuration"
        record.next_attempt_at = None
        record.save()
        return record.status, None
    try:
        sent = delivery.send(trigger.then[index], event)
    except delivery.DeliveryError as exc:
        error = str(exc)
    except Exception as exc:  # a bug must not lose the event: it is recorded and retried
        log.exception("delivery %s of trigger %s failed", record.pk, trigger_id)
        error = f"unexpected error ({type(exc).__name__})"
    else:
        record.status = Delivery.Status.DELIVERED
        record.detail = sent.detail[:300]
        record.delivered_at = now
        record.next_attempt_at = None
        record.save()
        return record.status, None
    record.last_error = error
    if record.attempts >= record.allowed_attempts:
        record.status = Delivery.Status.DEAD
        record.next_attempt_at = None
        record.save()
        log.warning("delivery %s of trigger %s given up after %d attempts: %s", record.pk,
                    trigger_id, record.attempts, error)
        return record.status, None
    delay = backoff(record.attempts)
    record.status = Delivery.Status.RETRYING
    record.next_attempt_at = now + timedelta(seconds=delay)
    record.save()
    log.info("delivery %s of trigger %s failed (attempt %d), again in %g s: %s", record.pk,
             trigger_id, record.attempts, delay, error)
    return record.status, delay


class NotQueued(Exception):
    """The delivery could not be queued again; the message says why, `status` as HTTP."""

    def __init__(self, message: str, status: int) -> None:
        super().__init__(message)
        self.status = status


def retry(record: Delivery) -> None:
    """An administrator sends a dead letter again, with a fresh budget of attempts."""
    if record.status != Delivery.Status.DEAD:
        raise NotQueued(gettext("only a dead letter can be sent again; this one is "
                                "%(status)s") % {"status": record.get_status_display()}, 409)
    before = (record.allowed_attempts, record.updated_at)
    record.status = Delivery.Status.PENDING
    record.allowed_attempts = record.attempts + settings.DELIVERY_MAX_ATTEMPTS
    record.updated_at = timezone.now()
    record.save()
    try:
        app.send_task(DELIVER_TASK, args=[record.trigger_id, record.action_index, record.event],
                      queue=DELIVERIES_QUEUE, retry=False)
    except Exception as exc:
        record.status = Delivery.Status.DEAD
        record.allowed_attempts, record.updated_at = before
        record.save()
        log.warning("delivery %s not queued again", record.pk, exc_info=True)
        raise NotQueued(gettext("the task queue is not reachable (%(error)s); try again when "
                                "it is") % {"error": type(exc).__name__}, 503) from None
