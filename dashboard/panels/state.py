"""A site as the dashboard last read it from Redis, and the rules of honest freshness."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, ngettext

from dashboard import numbers
from wincc_bridge.client import ConnectError
from wincc_ingest import codec, store
from wincc_ingest.config import Config, SiteConfig

# A tile has room for a few words; the page's status line gives the whole reason. A failing
# site's own words come from its health (wincc_bridge.client.short_reason); these stand in
# for health written without them.
SHORT_REASONS = {
    "failing": ConnectError.reason,
    "stale": gettext_lazy("no recent poll"),
    "never": gettext_lazy("not polled yet"),
    "unknown": gettext_lazy("data store lost"),
}
REDIS_LOST = gettext_lazy("the dashboard cannot read its data store (Redis)")
# The poller stores a failing site's few words in English (wincc_bridge.client): the ones it
# knows are shown in the viewer's language, any other as written.
POLL_WORDS = {
    "WinCC error": gettext_lazy("WinCC error"),
    "login refused": gettext_lazy("login refused"),
    "WinCC not answering": gettext_lazy("WinCC not answering"),
    "certificate not trusted": gettext_lazy("certificate not trusted"),
    "unexpected answer": gettext_lazy("unexpected answer"),
    "no such endpoint": gettext_lazy("no such endpoint"),
    "poll error": gettext_lazy("poll error"),
}


def poll_words(words: str) -> str:
    """A failing site's short reason in the active language."""
    return str(POLL_WORDS.get(words, words))


@dataclass(frozen=True)
class Freshness:
    stale: bool
    reason: str  # plain words, "" when current
    status: str  # current | stale | failing | never | unknown
    # The few words a tile has room for: a failing site's own reason ("login refused"),
    # the same words /sites/ shows. "" when current.
    short: str = ""


def _stale(reason: str, status: str) -> Freshness:
    return Freshness(True, str(reason), status, poll_words(str(SHORT_REASONS[status])))


@dataclass
class SiteState(codec.SiteData):
    """What the dashboard knows about one site: its configuration and what Redis holds."""

    config: SiteConfig = field(kw_only=True)

    def freshness(self, now: datetime, redis_ok: bool = True) -> Freshness:
        """One signal from the poll's outcome and age; a site that may be dead never looks
        current."""
        if not redis_ok:
            return _stale(str(REDIS_LOST), "unknown")
        health = self.health
        if health is None:
            # A site on a queue of its own is polled only by workers started for that queue.
            if self.config.queue:
                return _stale(_("never polled yet: no poller has reported on this site (is a "
                                "worker consuming its queue %(queue)s?)")
                              % {"queue": self.config.queue}, "never")
            return _stale(_("never polled yet: no poller has reported on this site"), "never")
        if health.is_failing:
            error = health.last_error or _("no reason given")
            return Freshness(
                True,
                ngettext("%(count)d failed poll: %(error)s", "%(count)d failed polls: %(error)s",
                         health.failures) % {"count": health.failures, "error": error},
                "failing",
                poll_words(health.reason or str(SHORT_REASONS["failing"])),
            )
        if not health.is_current(now):
            limit = store.CURRENT_INTERVALS * health.interval
            return _stale(
                _("no successful poll for more than %(seconds)s s; the poller may be stopped")
                % {"seconds": _seconds(limit)},
                "stale",
            )
        return Freshness(False, "", "current")

    def alarm_list_note(self) -> str:
        """Why the site shows no alarm list, in plain words; "" when it has one.

        Such a site's alarm count says nothing and is never shown as a number.
        """
        if not self.config.alarms:
            return _("alarms are switched off in this site's configuration (alarms: false)")
        if not self.config.capabilities().active_alarms:
            return _("no alarm list is configured for this site (alarm_filter)")
        if self.health is None or self.health.alarm_list != codec.ALARMS_MISSING:
            return ""
        if self.config.dialect == "classic":
            # Classic lists alarms through a named REST filter: the name may be wrong.
            return _(
                "this server publishes no alarm list under the REST filter %(filter)s (WinCC "
                "V7.5 and V8.0 have none; on V8.1, check the filter's name in alarm_filter)"
            ) % {"filter": repr(self.config.alarm_filter)}
        return _("this server publishes no alarm list")


def _seconds(value: float) -> str:
    """Seconds as "3" or "2.5" ("2,5" in German)."""
    return numbers.shortest(value)


def read_states(
    r: Any, config: Config, reads: Iterable[codec.SiteRead], now: datetime
) -> dict[str, SiteState]:
    """The sites' read sets on a sync client, in one pipeline round trip (a page's first
    render and the polling fallback)."""
    reads = [read for read in reads if config.site(read.site) is not None]
    pipe = r.pipeline(transaction=False)
    codec.queue_reads(pipe, reads)
    answers = pipe.execute()
    states = {}
    for read, share in codec.split_answers(reads, answers):
        state = SiteState(config=config.known_site(read.site))
        read.apply(share, state, now)
        states[read.site] = state
    return states
