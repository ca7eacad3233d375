"""The headers every answer carries: the Content-Security-Policy (django-csp) and
`Cache-Control: private, no-store` on what a signed-in person or a wall screen is shown."""

from __future__ import annotations

import re

from asgiref.sync import sync_to_async

from dashboard.models import WallScreen
from tests.dashboard.livedata import PlantTestCase

POLICY = {
    "default-src": "'self'",
    "script-src": "'self'",
    "style-src": "'self'",
    "img-src": "'self' data:",
    "connect-src": "'self'",
    "object-src": "'none'",
    "base-uri": "'none'",
    "form-action": "'self'",
    "frame-ancestors": "'none'",
}
# 'self', and on a page that opens its live stream early the opener's nonce (docs/live.md).
NONCED = r"'self'( 'nonce-[A-Za-z0-9+/=]{24}')?"


def policy(response) -> dict[str, str]:
    parts = (p.strip().split(" ", 1) for p in response["Content-Security-Policy"].split(";"))
    return {name: value for name, value in parts}


def cache_control(response) -> set[str]:
    return {d.strip() for d in response.get("Cache-Control", "").split(",") if d.strip()}


class ContentSecurityPolicyTestCase(PlantTestCase):
    def test_every_kind_of_page_has_the_strict_policy(self):
        answers = [self.client.get("/accounts/login/"), self.client.get("/health/")]
        self.client.force_login(self.auditor)
        answers += [self.client.get("/audit/"), self.client.get("/audit/?page=²")]
        self.client.force_login(self.admin)
        answers.append(self.client.get("/admin/"))
        for response in answers:
            found = policy(response)
            # A page with a live stream (the audit log's banner) has the opener's nonce.
            assert re.fullmatch(NONCED, found.pop("script-src")), response.request["PATH_INFO"]
            assert found == {k: v for k, v in POLICY.items() if k != "script-src"}
            assert "unsafe" not in response["Content-Security-Policy"]

    def test_a_live_page_opens_its_stream_by_one_inline_script_with_a_fresh_nonce(self):
        # The stream's opener (docs/live.md) is the one inline script: allowed by a nonce of
        # its own answer, and nothing else inline runs.
        self.client.force_login(self.viewer)
        nonces = []
        for _ in range(2):
            response = self.client.get("/")
            script_src = policy(response)["script-src"]
            assert re.fullmatch(NONCED, script_src) and "nonce" in script_src, script_src
            assert "unsafe" not in response["Content-Security-Policy"]
            nonce = script_src.split("'nonce-")[1].rstrip("'")
            inline = [tag for tag in re.findall(r"<script[^>]*>", response.content.decode())
                      if "src=" not in tag]
            assert inline == [f'<script nonce="{nonce}">']
            nonces.append(nonce)
        assert nonces[0] != nonces[1]
        # Polled instead of streamed: no opener, no nonce.
        response = self.client.get("/?transport=poll")
        assert policy(response) == POLICY
        assert "<script nonce" not in response.content.decode()

    def test_htmx_is_told_to_inject_no_style_and_evaluate_nothing(self):
        html = self.client.get("/accounts/login/").content.decode()
        assert '<meta name="htmx-config"' in html
        assert '"includeIndicatorStyles": false' in html
        assert '"allowEval": false' in html
        assert "<script>" not in html and " style=" not in html and " onclick=" not in html


class PrivateCacheTestCase(PlantTestCase):
    def test_signed_in_pages_are_private_and_not_stored(self):
        self.client.force_login(self.auditor)
        for url in ("/audit/", "/audit.csv", "/audit/?page=²", "/nowhere/"):
            response = self.client.get(url)
            assert {"private", "no-store"} <= cache_control(response), url

    def test_a_wall_screen_session_is_private_too(self):
        _, token = WallScreen.issue(name="Hall", dashboard_id="overview")
        response = self.client.get(f"/wall/overview/?token={token}")
        assert response.status_code == 302
        assert {"private", "no-store"} <= cache_control(response)
        assert {"private", "no-store"} <= cache_control(self.client.get("/health/"))

    async def test_the_same_under_asgi(self):
        """The middleware's async path (the test client above runs the sync one)."""
        assert "private" not in cache_control(await self.async_client.get("/health/"))
        _, token = await sync_to_async(WallScreen.issue)(name="Hall", dashboard_id="overview")
        assert (await self.async_client.get(f"/wall/overview/?token={token}")).status_code == 302
        assert {"private", "no-store"} <= cache_control(await self.async_client.get("/health/"))
        await self.async_client.aforce_login(self.viewer)
        response = await self.async_client.get("/live/poll/overview/")
        assert {"private", "no-store"} <= cache_control(response)

    def test_anonymous_answers_and_static_files_are_not_marked(self):
        assert "private" not in cache_control(self.client.get("/health/"))
        self.client.force_login(self.viewer)
        static = self.client.get("/static/dashboard/live.js")
        assert static.status_code == 200
        assert "private" not in cache_control(static)
        assert "no-store" not in cache_control(static)
