"""The live hub: ONE Redis subscriber per web process (per event loop), fanning out SSE frames.

- subscriber.py: the subscription to the change channel, its reconnects, the 1 s timer.
- cache.py: the watched sites as last read from Redis, and their freshness.
- fanout.py: who watches which fragment, each fragment's last frame, the bounded queues.
- hub.py: the three together; what a stream calls (connect, snapshot, disconnect).
- frames.py: the SSE wire format.
"""

from dashboard.live.fanout import RESYNC, Client
from dashboard.live.frames import keepalive_frame, sse_frame
from dashboard.live.hub import LiveHub, get_hub

__all__ = ["RESYNC", "Client", "LiveHub", "get_hub", "keepalive_frame", "sse_frame"]
