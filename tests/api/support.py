"""The API tests' base: the three test sites (tests/dashboard/acksupport.py), the users of
each role (tests/dashboard/base.py), and tokens issued for them."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from django.db.models import QuerySet

from dashboard.models import ApiToken, JournalEntry
from tests.dashboard.acksupport import SitesConfigured
from tests.dashboard.base import BaseTestCase
from wincc_bridge.models import Quality, TagValue
from wincc_ingest import codec, store

API = "/api/v1"


def health(site: str, *, failures: int = 0, age: float = 0.0, error: str = "") -> dict:
    """A site's health as the poller writes it: its last success `age` seconds ago."""
    now = datetime.now(UTC).timestamp()
    success = datetime.fromtimestamp(now - age, UTC)
    return codec.encode_health(codec.SiteHealth(
        site=site, interval=1.0, last_attempt=datetime.fromtimestamp(now, UTC),
        last_success=success, duration_ms=5.0, latency_ms=3.0, failures=failures,
        last_error=error, backoff_until=None, tag_count=1, alarm_count=0,
        reason="login refused" if failures else ""))


def journal_row(n: int, site: str = "oven-unified") -> JournalEntry:
    return JournalEntry.objects.create(
        key=f"{site}|{n}", site_id=site, alarm_name=f"Alarm_{n}", instance_id=n,
        transition=JournalEntry.Transition.RAISED, at=datetime.now(UTC), state="unacknowledged",
        priority=12, event_text=f"event {n}")


def age_journal(seconds: float = 10.0) -> None:
    """The journal's rows as if recorded `seconds` ago, past the API's settle time (the
    append-only manager refuses updates; the plain queryset is the test's own way in)."""
    QuerySet(JournalEntry).update(recorded_at=datetime.now(UTC) - timedelta(seconds=seconds))


class ApiTestCase(SitesConfigured, BaseTestCase):
    """A viewer's token for every site; `get(path)` sends it."""

    def setUp(self):
        super().setUp()
        self.token, self.secret = ApiToken.issue(name="MES", owner=self.viewer)

    def get(self, path: str, secret: str | None = None, **query):
        return self.client.get(f"{API}{path}", query,
                               HTTP_AUTHORIZATION=f"Bearer {secret or self.secret}")

    def seed_health(self, site: str = "oven-unified", **fields) -> None:
        self.redis.hset(store.site_health(site), mapping=health(site, **fields))

    def seed_value(self, site: str, tag: str, value, quality=Quality.GOOD,
                   read_at: datetime | None = None) -> None:
        stored = TagValue(tag, value, quality, timestamp=datetime.now(UTC))
        self.redis.hset(store.site_values(site), tag,
                        codec.encode_value(stored, read_at or datetime.now(UTC)))
