"""API tokens: scoped to sites and to what their owner may view, revocable, stored hashed,
and their last use written at most every API_TOKEN_LAST_USED_SECONDS."""

from __future__ import annotations

import hashlib
from datetime import timedelta

from django.db import connection
from django.test import override_settings
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from dashboard.models import ApiToken
from tests.api.support import ApiTestCase, age_journal, journal_row

UNAUTHORIZED = ("A valid API token is needed: send it as 'Authorization: Bearer wdash_…'; "
                "an unknown or revoked token is refused.")


class TokenScopeTestCase(ApiTestCase):
    def test_a_token_for_one_site_cannot_see_the_other(self):
        _, secret = ApiToken.issue(name="Line MES", owner=self.viewer, sites="line-classic")
        self.seed_health("oven-unified")
        self.seed_alarm("oven-unified")
        sites = self.get("/sites/", secret=secret).json()
        assert [s["id"] for s in sites] == ["line-classic"]
        for path in ("/sites/oven-unified/", "/sites/oven-unified/tags/",
                     "/sites/oven-unified/alarms/"):
            response = self.get(path, secret=secret)
            # As if it did not exist: the same answer as for a site nobody configured.
            assert response.status_code == 404, path
            assert response.json() == {
                "detail": "There is no site 'oven-unified' that this token may read."}
        assert self.get("/sites/oven-unified/trend/", secret=secret,
                        tag="Oven_Zone1_Temp").status_code == 404
        assert self.get("/journal/", secret=secret, site="oven-unified").status_code == 404

    def test_the_journal_holds_only_the_tokens_sites(self):
        _, secret = ApiToken.issue(name="Line MES", owner=self.viewer, sites="line-classic")
        journal_row(1, site="oven-unified")
        line = journal_row(2, site="line-classic")
        age_journal()
        entries = self.get("/journal/", secret=secret).json()["entries"]
        assert [e["id"] for e in entries] == [line.pk]

    def test_a_token_never_sees_more_than_its_owner(self):
        # line_operator views every site, but an outsider's token sees nothing at all.
        _, secret = ApiToken.issue(name="Nothing", owner=self.outsider)
        assert self.get("/sites/", secret=secret).json() == []
        assert self.get("/sites/line-classic/", secret=secret).status_code == 404

    def test_an_owner_switched_off_switches_the_token_off(self):
        self.viewer.is_active = False
        self.viewer.save()
        response = self.get("/sites/")
        assert response.status_code == 401
        assert response.json() == {"detail": UNAUTHORIZED}


class TokenAuthTestCase(ApiTestCase):
    def test_no_token_and_wrong_tokens_are_401_with_a_sentence(self):
        assert self.client.get("/api/v1/sites/").status_code == 401
        prefix = self.token.prefix
        for wrong in ("nonsense", f"wdash_{prefix}_wrong-secret", f"wdash_{prefix}_",
                      "wdash__x", self.secret + "x", self.secret.replace("wdash", "wdush")):
            response = self.get("/sites/", secret=wrong)
            assert response.status_code == 401, wrong
            assert response.json() == {"detail": UNAUTHORIZED}
            assert response["WWW-Authenticate"].startswith("Bearer")

    def test_a_revoked_token_is_401(self):
        assert self.get("/sites/").status_code == 200
        assert self.token.revoke(timezone.now()) is True
        assert self.token.revoke(timezone.now()) is False
        assert self.get("/sites/").status_code == 401

    def test_only_the_hash_of_the_secret_is_stored(self):
        scheme, prefix, secret = self.secret.split("_", 2)
        assert (scheme, prefix) == ("wdash", self.token.prefix)
        assert len(secret) >= 40
        stored = ApiToken.objects.get()
        assert stored.secret_hash == hashlib.sha256(secret.encode()).hexdigest()
        assert secret not in str(stored.__dict__)

    @override_settings(API_TOKEN_LAST_USED_SECONDS=60)
    def test_last_use_is_written_at_most_once_a_minute(self):
        assert self.token.last_used_at is None
        assert len(self.updates_of_a_read()) == 1  # the first use is written
        first = ApiToken.objects.get().last_used_at
        assert first is not None
        assert self.updates_of_a_read() == []  # within the minute: nothing written
        assert ApiToken.objects.get().last_used_at == first
        ApiToken.objects.update(last_used_at=first - timedelta(seconds=61))
        assert len(self.updates_of_a_read()) == 1
        assert ApiToken.objects.get().last_used_at > first

    def updates_of_a_read(self) -> list[str]:
        with CaptureQueriesContext(connection) as queries:
            assert self.get("/sites/").status_code == 200
        return [q["sql"] for q in queries.captured_queries if q["sql"].startswith("UPDATE")]
