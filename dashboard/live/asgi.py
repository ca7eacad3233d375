"""The ASGI handler: Django's, with the live streams kept off Django's thread per request."""

from __future__ import annotations

from django.core.handlers.asgi import ASGIHandler

# The live streams' own path (dashboard/urls_pages.py).
LIVE_STREAMS = "/live/stream/"
# Where WinCC's REST Connector posts (dashboard/views/rest_connector.py).
INGEST = "/ingest/"


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
        elif scope["type"] == "http" and scope["path"].startswith(INGEST):
            await self._bounded(scope, receive, send)
        else:
            await super().__call__(scope, receive, send)

    async def _bounded(self, scope, receive, send):
        """A push's body, read only up to INGEST_MAX_BODY_BYTES: Django would spool any
        length to disk before the view could refuse it. Longer: 413 at once."""
        from django.conf import settings

        limit = settings.INGEST_MAX_BODY_BYTES
        declared = dict(scope.get("headers") or ()).get(b"content-length", b"")
        if declared.isdigit() and int(declared) > limit:
            await _answer_too_large(send, limit)
            return
        chunks, size = [], 0
        while True:
            message = await receive()
            if message["type"] != "http.request":
                return  # the client went away
            chunks.append(message.get("body", b""))
            size += len(chunks[-1])
            if size > limit:
                await _answer_too_large(send, limit)
                return
            if not message.get("more_body", False):
                break
        replay = [{"type": "http.request", "body": b"".join(chunks), "more_body": False}]

        async def replayed():
            return replay.pop() if replay else await receive()

        await super().__call__(scope, replayed, send)


async def _answer_too_large(send, limit: int) -> None:
    from dashboard.views.rest_connector import too_large

    response = too_large(limit)
    headers = [(b"content-type", b"application/json"),
               (b"content-length", str(len(response.content)).encode()),
               (b"connection", b"close")]
    await send({"type": "http.response.start", "status": 413, "headers": headers})
    await send({"type": "http.response.body", "body": response.content})
