"""Listening to the change channel in the benchmark's own process: when did the PUBLISH a
benchmark waits for arrive, and what did Redis hold with it?

One loop for every benchmark that listens (P1 and its push variants, P8): a subclass says
which changes it wants and what it reads when one arrives.
"""

from __future__ import annotations

import threading
import time
from typing import Any

from wincc_ingest import codec, store


class ChangeListener(threading.Thread):
    """Subscribes to store.CHANGES_CHANNEL until `stop` is set; for each change `wanted`
    passes, calls `seen` with the time (time.time()) the message arrived. `self.r` is the
    thread's own Redis client, for what `seen` reads."""

    def __init__(self, stack: Any, stop: threading.Event) -> None:
        super().__init__(daemon=True)
        self.r = stack.redis()
        self.stop_event = stop

    def wanted(self, change: codec.Change) -> bool:
        raise NotImplementedError

    def seen(self, change: codec.Change, at: float) -> None:
        raise NotImplementedError

    def run(self) -> None:
        pubsub = self.r.pubsub(ignore_subscribe_messages=True)
        pubsub.subscribe(store.CHANGES_CHANNEL)
        try:
            while not self.stop_event.is_set():
                message = pubsub.get_message(timeout=0.5)
                if message is None:
                    continue
                at = time.time()
                change = codec.decode_change(message["data"])
                if self.wanted(change):
                    self.seen(change, at)
        finally:
            pubsub.close()
            self.r.close()
