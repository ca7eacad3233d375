"""The site cache: the watched sites as last read from Redis, and their freshness.

A change message says what a poll changed; the cache reads only that (the changed tags'
values, their trends if watched, the alarm list or the health) and reports a SiteEvent.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from redis.exceptions import RedisError

from dashboard.panels.fragments import SiteEvent
from dashboard.panels.state import Freshness, SiteState
from wincc_ingest import codec
from wincc_ingest.config import Config


class SiteCache:
    def __init__(self) -> None:
        self.states: dict[str, SiteState] = {}
        self._freshness: dict[str, Freshness] = {}
        self.redis_ok = True

    def __contains__(self, site: str) -> bool:
        return site in self.states

    def drop(self, site: str) -> None:
        self.states.pop(site, None)
        self._freshness.pop(site, None)

    def clear(self) -> None:
        self.states.clear()
        self._freshness.clear()

    async def load(self, redis: Any, config: Config, reads: list[codec.SiteRead],
                   now: datetime) -> None:
        """Read sites whole; while Redis is away they are kept empty and shown as unknown."""
        reads = [read for read in reads if config.site(read.site) is not None]
        if not reads:
            return
        pipe = redis.pipeline(transaction=False)
        codec.queue_reads(pipe, reads)
        try:
            answers = await pipe.execute()
        except (RedisError, OSError):
            self.redis_ok = False
            answers = None
        shares = dict(codec.split_answers(reads, answers)) if answers is not None else {}
        for read in reads:
            state = SiteState(config=config.known_site(read.site))
            if read in shares:
                read.apply(shares[read], state, now)
            self.states[read.site] = state
            self._freshness[read.site] = state.freshness(now, self.redis_ok)

    async def apply(self, redis: Any, change: codec.Change, watched_trends: set[str],
                    now: datetime) -> SiteEvent | None:
        """Read what `change` names; None when nobody watches the site (or stopped meanwhile)."""
        state = self.states.get(change.site)
        if state is None:
            return None
        read = codec.SiteRead(
            change.site,
            values=change.tags,
            alarms=change.alarms,
            health=change.health,
            trends=tuple(t for t in change.tags if t in watched_trends),
        )
        pipe = redis.pipeline(transaction=False)
        read.queue(pipe)
        answers = await pipe.execute() if read.commands else []
        if self.states.get(change.site) is not state:
            return None  # its last watcher left while we read
        read.apply(answers, state, now)
        return SiteEvent(
            tags=frozenset(change.tags),
            alarms=change.alarms,
            health=change.health,
            freshness=self.freshness_flipped(change.site, now) if change.health else False,
        )

    async def refresh_health(self, redis: Any, now: datetime) -> dict[str, SiteEvent]:
        """Re-read every watched site's health: a stopped poller publishes nothing, yet its
        tiles must turn stale."""
        sites = list(self.states)
        if not sites:
            return {}
        reads = [codec.SiteRead(s, values=False, alarms=False) for s in sites]
        pipe = redis.pipeline(transaction=False)
        codec.queue_reads(pipe, reads)
        answers = await pipe.execute()
        self.redis_ok = True
        events = {}
        for read, share in codec.split_answers(reads, answers):
            state = self.states.get(read.site)
            if state is None:
                continue  # its last watcher left while we read
            read.apply(share, state, now)
            events[read.site] = self.event_of_health(read.site, now)
        return events

    def set_redis_ok(self, ok: bool, now: datetime) -> dict[str, SiteEvent]:
        """Every site's event when the data store was lost or came back; {} otherwise."""
        if self.redis_ok == ok:
            return {}
        self.redis_ok = ok
        return {site: self.event_of_health(site, now) for site in self.states}

    def event_of_health(self, site: str, now: datetime) -> SiteEvent:
        return SiteEvent(health=True, freshness=self.freshness_flipped(site, now))

    def freshness_flipped(self, site: str, now: datetime) -> bool:
        fresh = self.states[site].freshness(now, self.redis_ok)
        flipped = self._freshness.get(site) != fresh
        self._freshness[site] = fresh
        return flipped

