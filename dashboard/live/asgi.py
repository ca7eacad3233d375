"""The ASGI handler: Django's, with the live streams kept off Django's thread per request."""

from __future__ import annotations

from django.core.handlers.asgi import ASGIHandler

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
