"""Server-Sent Events on the wire: one event a fragment, a pulse per site, keepalives."""

from __future__ import annotations

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
