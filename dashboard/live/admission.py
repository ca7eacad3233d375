"""Admission of new streams, so that a reconnect storm is spread instead of stalling the loop.

After a web restart or a network blip every wall screen and tablet reconnects at once. Each
new stream checks the viewer's rights (database, in a thread) and registers with the hub; a
semaphore lets a few do that at a time, so the streams already open keep getting their
frames between them. Past a bound on those waiting, a stream is refused at once with 503 and
a randomised Retry-After (the browser's EventSource then retries with the htmx SSE
extension's backoff), which costs far less than a stream set up late.

The SSE `retry:` each stream sends is randomised too, so the streams a restart drops come
back spread over seconds rather than in the same instant.
"""

from __future__ import annotations

import asyncio
import contextlib
import random
from collections.abc import AsyncIterator


class Overloaded(Exception):
    """Too many streams are waiting to be set up: refuse this one, ask it to come back."""


class Admission:
    def __init__(self, concurrency: int, max_waiting: int) -> None:
        self._slots = asyncio.Semaphore(concurrency)
        self.max_waiting = max_waiting
        self.waiting = 0
        self.refused = 0  # for tests and diagnostics

    @contextlib.asynccontextmanager
    async def slot(self) -> AsyncIterator[None]:
        """Hold one of the set-up slots; raise Overloaded when too many wait for one."""
        if self.waiting >= self.max_waiting:
            self.refused += 1
            raise Overloaded
        self.waiting += 1
        try:
            await self._slots.acquire()
        finally:
            self.waiting -= 1
        try:
            yield
        finally:
            self._slots.release()


def jittered(base_ms: int, jitter_ms: int) -> int:
    """A retry delay in [base, base + jitter] milliseconds, different for each client."""
    return base_ms + random.randint(0, max(0, jitter_ms))
