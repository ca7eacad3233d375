"""The Fragment: one swappable part of a page, and what makes it render again.

A page is a list of Fragments. A Fragment is hashable: it names one swappable part of a
page and, with its variant (the sites whose alarms get an acknowledge button, a tile's edit
control, the language it speaks), the exact bytes every client watching it receives. What
each kind reacts to is decided here alone; the live hub asks `reacts_to` and renders what
says yes.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from dataclasses import dataclass
from functools import cached_property

from wincc_ingest import codec

# The tiles' small trend covers this many minutes.
TILE_TREND_MINUTES = 5


@dataclass(frozen=True)
class SiteEvent:
    """What happened to one site, as the live hub learned it."""

    tags: frozenset[str] = frozenset()  # tags whose value changed
    alarms: bool = False  # the active alarm list changed
    health: bool = False  # a poll's outcome is news (or its age moved on)
    freshness: bool = False  # the site turned stale, or current again


@dataclass(frozen=True)
class Reactions:
    values: bool = False  # re-render when one of the fragment's tags changes
    alarms: bool = False
    health: bool = False
    freshness: bool = False


REACTIONS = {
    "tile": Reactions(values=True, freshness=True),
    "trend": Reactions(values=True, freshness=True),
    "alarms": Reactions(alarms=True, freshness=True),
    "counts": Reactions(alarms=True),
    "banner": Reactions(alarms=True),
    "summary": Reactions(alarms=True, health=True),
    "status": Reactions(health=True),
    "health": Reactions(alarms=True, health=True),  # its alarm counts too
    "strip": Reactions(alarms=True),
    # One alarm occurrence (its key in `tags`): its state, shelving and newest comments.
    "occurrence": Reactions(alarms=True, freshness=True),
}
KINDS = frozenset(REACTIONS)


@dataclass(frozen=True)
class Fragment:
    """One swappable part of a page. `name` is its SSE event and its container's id."""

    kind: str  # one of KINDS
    sites: tuple[str, ...]
    tags: tuple[str, ...] = ()
    minutes: int = 0
    filters: tuple[tuple[str, str], ...] = ()
    title: str = ""
    # The variant: sites whose unacknowledged alarms get a button. Not part of `name`.
    ack_sites: frozenset[str] = frozenset()
    # The variant of a tile: it offers the edit control (a writable tag, a person who may
    # write it). Not part of `name`.
    write: bool = False
    # The variant of the viewer's language ("de", "en"): rendered in it, so a German and an
    # English viewer each get their own bytes and two German ones share theirs. Not part of
    # `name`: the page's containers are the same in every language.
    language: str = ""

    def __post_init__(self) -> None:
        if self.kind not in KINDS:
            raise ValueError(f"unknown fragment kind {self.kind!r}")

    @cached_property
    def name(self) -> str:
        text = repr((self.kind, self.sites, self.tags, self.minutes, self.filters, self.title))
        return f"{self.kind}-{hashlib.blake2s(text.encode(), digest_size=5).hexdigest()}"

    @property
    def trend_tags(self) -> tuple[str, ...]:
        """Tags whose small trend this fragment draws."""
        return self.tags if REACTIONS[self.kind].values else ()

    def reacts_to(self, site: str, event: SiteEvent) -> bool:
        """Whether `event` on `site` changes what this fragment shows."""
        if site not in self.sites:
            return False
        wants = REACTIONS[self.kind]
        return bool(
            (wants.values and not event.tags.isdisjoint(self.tags))
            or (wants.alarms and event.alarms)
            or (wants.health and event.health)
            or (wants.freshness and event.freshness)
        )


def site_reads(fragments: Iterable[Fragment]) -> list[codec.SiteRead]:
    """What to read from Redis to render `fragments`: each site whole, with the trends
    its fragments draw."""
    trends: dict[str, set[str]] = {}
    for fragment in fragments:
        for site in fragment.sites:
            trends.setdefault(site, set()).update(fragment.trend_tags)
    return [codec.SiteRead(site, trends=tuple(sorted(tags))) for site, tags in trends.items()]
