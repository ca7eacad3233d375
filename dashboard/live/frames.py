"""Server-Sent Events on the wire: one event a fragment, a pulse per site, keepalives."""

from __future__ import annotations

import base64
import hashlib
import json
from datetime import datetime
from typing import Any

from wincc_ingest import codec


def sse_frame(event: str, data: str) -> bytes:
    lines = "".join(f"data: {line}\n" for line in data.splitlines() or [""])
    return f"event: {event}\n{lines}\n".encode()


def pulse_frame(pulse: dict[str, Any]) -> bytes:
    return sse_frame("pulse", json.dumps(pulse, separators=(",", ":")))


def keepalive_frame(now: datetime) -> bytes:
    # A comment keeps proxies from timing out; the event lets the page's watchdog see it.
    return f": keepalive\nevent: keepalive\ndata: {codec.iso(now)}\n\n".encode()


def retry_frame(milliseconds: int) -> bytes:
    """How long the browser waits before it reconnects a lost stream."""
    return f"retry: {milliseconds}\n\n".encode()


# A page names the frames it already shows by a short digest each (`?seen=` on its stream),
# so the stream's first snapshot leaves those out. 48 bits: a changed frame that digests
# like the page's would be missed, so the digest is long enough to make that never happen.
DIGEST_CHARS = 8
SEEN_MAX = 256  # fragments; a page with more names none: its stream's URL would be long


def frame_digest(frame: bytes) -> str:
    return base64.urlsafe_b64encode(hashlib.blake2b(frame, digest_size=6).digest()).decode()


def snapshot_id_frame() -> bytes:
    """Sent before the first snapshot: the browser then names it (Last-Event-ID) when it
    reconnects by itself, and that reconnect gets the full snapshot, not the page's `seen`."""
    return b"event: snapshot\nid: snapshot\ndata: 1\n\n"
