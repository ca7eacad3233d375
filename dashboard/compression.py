"""Pages, fragments and JSON answers go out gzip-compressed; the live stream compresses itself.

Django's own GZipMiddleware does the work (with its BREACH mitigation: random bytes in each
answer's gzip header, and Django's CSRF token is masked per answer anyway). A compressor
holds bytes back until it has enough to emit, so a Server-Sent Events frame (a value, a
keepalive) would wait in it: `text/event-stream` answers pass untouched here, and the stream
deflates each frame on its own instead (dashboard/live/gzipped.py). Static files never
get here: WhiteNoise answers them first, with the .gz it made at collectstatic. Downloads
(exports, `Content-Disposition: attachment`) go out as they are: a browser saves an
attachment's bytes, and a file saved still compressed would open as nonsense.
"""

from __future__ import annotations

from django.middleware.gzip import GZipMiddleware

EVENT_STREAM = "text/event-stream"


class CompressionMiddleware(GZipMiddleware):
    def process_response(self, request, response):
        if response.get("Content-Type", "").startswith(EVENT_STREAM):
            return response
        if response.get("Content-Disposition", "").startswith("attachment"):
            return response
        return super().process_response(request, response)
