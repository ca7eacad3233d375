"""ASGI entry point: SSE streams need an async server (gunicorn + uvicorn workers, or uvicorn)."""

import os

import django
from django.core.handlers.asgi import ASGIHandler

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "dashboard.settings")

# The live streams' own path (dashboard/urls_pages.py).
LIVE_STREAMS = "/live/stream/"


class DashboardASGIHandler(ASGIHandler):
    """Django's handler, except that a live stream's few sync steps (session, rights) run on
    one long-lived thread shared by the streams.

    Django gives every request a thread of its own for its sync code; the event loop starts
    that thread and, when the response ends, waits for it to finish. A stream does a few
    milliseconds of sync work when it opens; in a reconnect storm thousands open at once, and
    starting thousands of threads on the loop, each waiting for the GIL, stalls every open
    stream (measured: bench/p2_storm.py, docs/benchmarks.md).
    """

    async def __call__(self, scope, receive, send):
        if scope["type"] == "http" and scope["path"].startswith(LIVE_STREAMS):
            await self.handle(scope, receive, send)
        else:
            await super().__call__(scope, receive, send)


django.setup(set_prefix=False)
application = DashboardASGIHandler()

# A broken WINCC_CONFIG stops the web process at start-up with every problem listed.
from dashboard.checks import require_valid_config  # noqa: E402

require_valid_config()
