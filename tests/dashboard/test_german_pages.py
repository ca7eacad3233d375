"""Every page of the product in German: every URL the resolver knows (the walk of
tests/dashboard/test_fuzz.py, so a new view is covered without editing this file), as a
viewer and as an administrator, asks the German catalogue for nothing it lacks and shows no
English beside the German. Django's admin and the JSON API are left out: the admin is
Django's own (translated by Django), the API speaks to machines in English (docs/languages.md).
"""

from __future__ import annotations

from django.test import Client

from tests.dashboard.german import ENGLISH, GERMAN, english_left, untranslated
from tests.dashboard.livedata import PlantTestCase, healthy_plant
from tests.dashboard.test_fuzz import STREAMS, sweep_urls

# The health check answers 503 on purpose while the plant is not ready (load balancers read it).
DELIBERATE_503 = {"/health/"}


class GermanPagesTestCase(PlantTestCase):
    def setUp(self):
        super().setUp()
        healthy_plant(self.redis)

    def test_every_page_reads_german_to_the_end(self):
        problems: dict[str, object] = {}
        urls = [url for name, url in sweep_urls() if name not in STREAMS]
        assert len(urls) > 20
        for user in (self.viewer, self.admin):
            client = Client()
            client.force_login(user)
            for url in urls:
                with untranslated() as missing:
                    german = client.get(url, **GERMAN)
                if german.status_code >= 500 and url not in DELIBERATE_503:
                    problems[f"{user} {url} answered"] = german.status_code
                if missing:
                    problems[f"{user} {url} untranslated"] = sorted(missing)
                if not german.get("Content-Type", "").startswith("text/html"):
                    continue
                english = client.get(url, **ENGLISH)
                left = english_left(english.content, german.content)
                if left:
                    problems[f"{user} {url} English left"] = left
        assert problems == {}, "\n".join(f"{k}: {v}" for k, v in problems.items())
