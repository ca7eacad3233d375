"""Installable on tablets: the manifest, the service worker at /sw.js and its offline page."""

import json

from django.contrib.auth.models import User
from django.test import SimpleTestCase, TestCase

from dashboard.views.offline import OFFLINE_FILES, worker_source


class ManifestTestCase(SimpleTestCase):
    def test_the_manifest_names_the_app_its_icons_and_its_start(self):
        response = self.client.get("/manifest.webmanifest")
        assert response.status_code == 200
        assert response["Content-Type"] == "application/manifest+json"
        assert "max-age=86400" in response["Cache-Control"]
        manifest = json.loads(response.content)
        assert manifest["start_url"] == "/" and manifest["display"] == "standalone"
        assert {icon["sizes"] for icon in manifest["icons"]} == {"192x192", "512x512", "any"}
        for icon in manifest["icons"]:
            assert self.client.get(icon["src"]).status_code == 200, icon["src"]


class ServiceWorkerTestCase(TestCase):
    def test_served_from_the_root_as_javascript_with_a_short_cache(self):
        response = self.client.get("/sw.js")
        assert response.status_code == 200
        assert response["Content-Type"] == "text/javascript"
        assert response["Cache-Control"] == "public, max-age=600"
        assert response["ETag"].startswith('"')

    def test_signed_in_it_keeps_its_caching(self):
        """Signed-in pages are private and not stored; the worker, the same for everyone, is
        (else a tablet would fetch it again at every page)."""
        user = User.objects.create_user("tablet")
        self.client.force_login(user)
        assert self.client.get("/sw.js")["Cache-Control"] == "public, max-age=600"
        assert "no-store" not in self.client.get("/manifest.webmanifest")["Cache-Control"]
        assert "no-store" in self.client.get("/preferences/")["Cache-Control"]

    def test_an_unchanged_worker_answers_304(self):
        etag = self.client.get("/sw.js")["ETag"]
        again = self.client.get("/sw.js", headers={"If-None-Match": etag})
        assert again.status_code == 304 and again.content == b""
        assert again["ETag"] == etag
        assert self.client.get("/sw.js", headers={"If-None-Match": '"other"'}).status_code == 200

    def test_it_keeps_only_the_offline_page_and_its_files(self):
        source = worker_source()
        precache = json.loads(source.split("var PRECACHE = ")[1].split(";")[0])
        assert precache == ["/offline/"] + [f"/static/{name}?offline" for name in OFFLINE_FILES]
        for path in precache:
            assert self.client.get(path).status_code == 200, path
        # Nothing live is ever put in its cache: only install adds, and only PRECACHE.
        assert source.count("cache.addAll(PRECACHE)") == 1
        assert ".put(" not in source

    def test_a_new_offline_file_makes_a_new_cache(self):
        def cache_name(source: str) -> str:
            return source.split('var CACHE = "')[1].split('"')[0]

        with self.settings(STATIC_URL="/assets/"):
            moved = worker_source()
        assert cache_name(moved) != cache_name(worker_source())

    def test_only_get(self):
        assert self.client.post("/sw.js").status_code == 405


class OfflinePageTestCase(TestCase):
    def test_the_offline_page_says_nothing_is_live_and_holds_no_value(self):
        response = self.client.get("/offline/")
        assert response.status_code == 200
        assert response["Cache-Control"] == "no-cache"
        html = response.content.decode()
        assert "values are not live" in html and "data-offline-since" in html
        assert '<script src="/static/dashboard/offline.js?offline"></script>' in html
        # Kept on the device: no stream, no value, no form, no person.
        for absent in ("sse-connect", "data-tag", "csrfmiddlewaretoken", "nonce"):
            assert absent not in html
