"""/integrations/: who sees it, what it shows (never a secret), and the dead-letter retry."""

from __future__ import annotations

import pytest
from django.conf import settings
from django.urls import reverse

from dashboard import siteconfig
from dashboard.models import Delivery
from tests.dashboard.base import BaseTestCase
from tests.dashboard.livedata import ORIGINAL_CONFIG, write_config
from tests.harness.processes import free_port

URL = reverse("integrations")
RETRY = reverse("integrations-retry")


def delivery(**fields) -> Delivery:
    values = {"event_id": "e1", "trigger_id": "oven-hot", "action_index": 0, "kind": "webhook",
              "target": "http://127.0.0.1:9/erp/hook", "site_id": "oven-unified",
              "event_name": "entered", "subject": "Oven_Zone1_Temp", "event": {"value": 1},
              "status": Delivery.Status.DEAD, "attempts": 8, "allowed_attempts": 8,
              "last_error": "http://127.0.0.1:9/erp/hook answered HTTP 500 (Internal Server "
                            "Error)"}
    values.update(fields)
    return Delivery.objects.create(**values)


class ConfiguredTestCase(BaseTestCase):
    """With the small plant's configuration, which has two triggers."""

    @pytest.fixture(autouse=True)
    def _config(self, tmp_path, redis_server):
        # The page's annunciation banner reads the alarms from the tests' own Redis.
        write_config(tmp_path)
        yield
        settings.WINCC_CONFIG = ORIGINAL_CONFIG
        siteconfig.get_config.cache_clear()


class IntegrationsPageTestCase(ConfiguredTestCase):
    def get_as(self, user, url=URL, **query):
        self.client.force_login(user)
        return self.client.get(url, query)

    def test_anonymous_is_sent_to_sign_in_and_viewers_and_operators_are_refused(self):
        assert self.client.get(URL).status_code == 302
        for user in (self.viewer, self.operator, self.outsider):
            assert self.get_as(user).status_code == 403

    def test_auditors_and_admins_see_each_trigger_and_its_deliveries(self):
        delivery()
        delivery(event_id="e2", status=Delivery.Status.DELIVERED, attempts=3, last_error="",
                 detail="HTTP 200")
        for user in (self.auditor, self.admin):
            response = self.get_as(user)
            assert response.status_code == 200
            page = response.content.decode()
            assert 'data-trigger="oven-hot"' in page
            assert 'data-trigger="line-alarms"' in page
            assert "Oven_Zone1_Temp on oven-unified above 200 (hysteresis 2)" in page
            assert "alarm raised; on line-classic; priority ≥ 5" in page
            assert "answered HTTP 500 (Internal Server Error)" in page
            assert 'data-status="delivered"' in page and 'data-status="dead"' in page
            assert "at most one delivery every 30 s" in page

    def test_times_are_utc_as_the_page_says_whatever_the_time_zone(self):
        from datetime import UTC, datetime

        made = delivery()
        Delivery.objects.filter(pk=made.pk).update(
            created_at=datetime(2026, 3, 1, 23, 30, 5, tzinfo=UTC))
        with self.settings(TIME_ZONE="Europe/Berlin"):
            page = self.get_as(self.auditor).content.decode()
        assert "2026-03-01 23:30:05" in page
        assert "2026-03-02 00:30:05" not in page

    def test_no_secret_and_no_header_value_is_ever_shown(self):
        page = self.get_as(self.admin).content.decode()
        assert "Authorization (from $WDASH_TEST_TRIGGER_SECRET)" in page
        assert "X-Plant" in page
        assert "north-plant-header" not in page  # header values are never shown
        assert "trigger-secret-value" not in page  # nor what a variable holds
        assert "the address in $WDASH_TEST_TRIGGER_SECRET" in page

    def test_filters_by_trigger_and_status_and_refuses_a_bad_one(self):
        delivery()
        page = self.get_as(self.admin, trigger="line-alarms").content.decode()
        assert 'data-trigger="oven-hot"' not in page
        page = self.get_as(self.admin, status="delivered").content.decode()
        assert 'data-delivery="' not in page
        assert self.get_as(self.admin, status="bogus").status_code == 400
        assert self.get_as(self.admin, trigger="x" * 65).status_code == 400

    def test_only_admins_get_the_send_again_button_and_may_post(self):
        record = delivery()
        assert "Send again" in self.get_as(self.admin).content.decode()
        assert "Send again" not in self.get_as(self.auditor).content.decode()
        self.client.force_login(self.auditor)
        assert self.client.post(RETRY, {"delivery": record.pk}).status_code == 403
        record.refresh_from_db()
        assert record.status == Delivery.Status.DEAD

    def test_a_delivery_that_is_not_dead_or_does_not_exist_is_not_sent_again(self):
        record = delivery(status=Delivery.Status.DELIVERED)
        self.client.force_login(self.admin)
        answer = self.client.post(RETRY, {"delivery": record.pk})
        assert answer.status_code == 409
        assert "Only a dead letter can be sent again" in answer.content.decode()
        assert self.client.post(RETRY, {"delivery": record.pk + 100}).status_code == 404
        assert self.client.post(RETRY, {"delivery": "²"}).status_code == 400
        assert self.client.get(RETRY).status_code == 405



class RetryQueueTestCase(ConfiguredTestCase):
    """The retry puts a real message on the session's Redis broker (process lane)."""

    @pytest.fixture(autouse=True)
    def _broker(self, redis_client):
        self.redis = redis_client

    def test_a_dead_letter_is_queued_again_with_a_fresh_budget(self):
        record = delivery()
        self.client.force_login(self.admin)
        answer = self.client.post(RETRY, {"delivery": record.pk})
        assert answer.status_code == 302
        assert answer["Location"] == f"{URL}?trigger=oven-hot"
        record.refresh_from_db()
        assert (record.status, record.allowed_attempts) == (Delivery.Status.PENDING, 16)
        assert self.redis.llen("deliveries") == 1

    def test_without_a_reachable_queue_the_dead_letter_stays_dead_and_says_why(self):
        from dashboard.celery import app

        record = delivery()
        self.client.force_login(self.admin)
        with pytest.MonkeyPatch.context() as patch:
            nowhere = f"redis://127.0.0.1:{free_port()}/0"
            patch.setattr(app.conf, "broker_url", nowhere)
            patch.setattr(app.conf, "broker_write_url", nowhere)
            patch.setattr(app, "_pool", None)  # the connection pools Celery keeps
            patch.setattr(app.amqp, "_producer_pool", None)
            answer = self.client.post(RETRY, {"delivery": record.pk})
        app._pool = app.amqp._producer_pool = None
        assert answer.status_code == 503
        assert "The task queue is not reachable" in answer.content.decode()
        record.refresh_from_db()
        assert (record.status, record.allowed_attempts) == (Delivery.Status.DEAD, 8)

    def test_the_admin_action_sends_dead_letters_again_and_skips_the_others(self):
        dead, delivered = delivery(), delivery(event_id="e2", status=Delivery.Status.DELIVERED)
        changelist = reverse("admin:dashboard_delivery_changelist")
        self.client.force_login(self.admin)
        answer = self.client.post(changelist, {"action": "send_again",
                                               "_selected_action": [dead.pk, delivered.pk]},
                                  follow=True)
        page = answer.content.decode()
        assert "1 queued again" in page
        assert f"#{delivered.pk}: only a dead letter can be sent again" in page
        dead.refresh_from_db()
        assert dead.status == Delivery.Status.PENDING
        assert self.redis.llen("deliveries") == 1

    def test_a_delivery_that_is_no_dead_letter_is_refused_in_the_persons_language(self):
        delivered = delivery(status=Delivery.Status.DELIVERED)
        self.client.force_login(self.admin)
        answer = self.client.post(RETRY, {"delivery": delivered.pk}, HTTP_ACCEPT_LANGUAGE="de")
        assert answer.status_code == 409
        assert ("Nur eine aufgegebene Zustellung kann erneut gesendet werden; diese ist "
                in answer.content.decode())
        assert self.redis.llen("deliveries") == 0
