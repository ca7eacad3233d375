"""Static files through the async-capable WhiteNoise, and a chain with no sync-only middleware."""

from django.conf import settings
from django.test import SimpleTestCase
from django.utils.module_loading import import_string


class StaticFilesTestCase(SimpleTestCase):
    def test_no_middleware_sends_requests_through_a_thread(self):
        """One sync-only middleware makes Django run every request's chain in a thread."""
        sync_only = [
            name for name in settings.MIDDLEWARE
            if not getattr(import_string(name), "async_capable", False)
        ]
        assert sync_only == []

    async def test_a_static_file_is_served_on_the_async_path(self):
        response = await self.async_client.get("/static/dashboard/live.js")
        assert response.status_code == 200
        assert response["Content-Type"].startswith("text/javascript")
        body = b"".join(response.streaming_content)  # a file, read in chunks
        assert b"htmx:sseOpen" in body

    async def test_other_paths_go_on_to_the_views(self):
        response = await self.async_client.get("/accounts/login/")
        assert response.status_code == 200
        assert b"csrfmiddlewaretoken" in response.content

    def test_the_sync_path_still_serves(self):
        response = self.client.get("/static/dashboard/live.js")
        assert response.status_code == 200
        assert b"htmx:sseOpen" in b"".join(response.streaming_content)
