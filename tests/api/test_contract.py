"""The API against its own OpenAPI document (schemathesis): every operation with generated
paths and parameters, valid and not, with a valid token so the requests reach past 401.
No answer is a 5xx, and every answer fits the document (status, content type, schema)."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import pytest
import schemathesis
from django.core.signals import request_finished, request_started
from django.core.wsgi import get_wsgi_application
from django.db import close_old_connections
from hypothesis import HealthCheck, settings

from dashboard import roles
from dashboard.models import ApiToken
from dashboard.siteconfig import get_config, reload_config
from tests.api.support import age_journal, health, journal_row
from tests.dashboard.acksupport import DIALECTS, SECRETS, dead_url, site_entry
from wincc_bridge.models import Alarm, AlarmState, Quality, TagValue
from wincc_ingest import codec, store

EXAMPLES = 30


@pytest.fixture
def api_token(redis_client, db, tmp_path, monkeypatch, django_user_model):
    """A viewer's token for the three test sites, with data in Redis and the journal."""
    for name, value in SECRETS.items():
        monkeypatch.setenv(name, value)
    path = tmp_path / "config.json"
    url = dead_url()
    path.write_text(json.dumps({"sites": [site_entry(s, url) for s in DIALECTS],
                                "dashboards": [{"id": "overview"}]}))
    from django.conf import settings as django_settings

    monkeypatch.setattr(django_settings, "WINCC_CONFIG", str(path))
    reload_config()
    now = datetime.now(UTC)
    for n, site in enumerate(DIALECTS):
        redis_client.hset(store.site_health(site), mapping=health(site, failures=n % 2))
        value = TagValue("Level", 41.5 + n, Quality.GOOD, timestamp=now)
        redis_client.hset(store.site_values(site), "Level", codec.encode_value(value, now))
        alarm = Alarm(site, "Level_High", n, AlarmState.UNACKNOWLEDGED, priority=12,
                      raise_time=now - timedelta(minutes=n))
        redis_client.hset(store.site_alarms(site), alarm.key, codec.encode_alarm(alarm))
        pipe = redis_client.pipeline()
        store.push_trends(pipe, site, {"Level": f"{now.timestamp():.3f} 41.5"})
        pipe.execute()
        journal_row(n, site=site)
    age_journal()
    owner = django_user_model.objects.create_user("mes-owner")
    owner.groups.add(roles.ensure_role(roles.VIEWERS))
    _, secret = ApiToken.issue(name="Contract", owner=owner)
    # The WSGI handler closes the database connection after each request, as it should in
    # production; here that connection holds the test's transaction (Django's test client
    # makes the same exception).
    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    yield secret
    request_started.connect(close_old_connections)
    request_finished.connect(close_old_connections)
    get_config.cache_clear()


# The document as the application serves it (it needs neither the database nor Redis).
schema = schemathesis.openapi.from_wsgi("/api/v1/openapi.json", get_wsgi_application())


@schema.parametrize()
@settings(max_examples=EXAMPLES, deadline=None,
          suppress_health_check=list(HealthCheck))
def test_every_operation_fits_its_document(case, api_token):
    # The WSGI test client does not undo gzip as an HTTP client does: ask for plain bodies
    # (compression itself: tests/dashboard/test_light_pages.py).
    case.call_and_validate(headers={"Authorization": f"Bearer {api_token}",
                                    "Accept-Encoding": "identity"})
