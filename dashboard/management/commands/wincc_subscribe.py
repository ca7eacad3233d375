"""The subscriber: keeps a live WinCC Unified subscription for every site configured
`"ingest": "subscribe"` and records what it pushes (wincc_ingest.subscriber).

    manage.py wincc_subscribe

A process of its own beside the Celery worker and beat, under the same supervision
(Procfile, docker-compose.yml, deploy/systemd/); docs/scale-out.md says why. SIGTERM or
Ctrl-C ends it within a poll interval; its sites' polls take over at once.
"""

from __future__ import annotations

import logging
import signal
import threading

from django.conf import settings
from django.core.management.base import BaseCommand

from dashboard.siteconfig import get_config
from dashboard.tasks import connection, pollers
from wincc_bridge.client import open_client
from wincc_ingest.poller import Backoff
from wincc_ingest.subscriber import SiteSubscriber, run_subscribers, subscribed_sites

log = logging.getLogger("wincc_ingest.subscriber")

# Ask for the server's sign of life this often (at most), so silence shows within an interval.
KEEPALIVE_CAP = 5.0


class Command(BaseCommand):
    help = "Keep a live subscription for every site configured to subscribe (WinCC Unified)."

    def handle(self, *args, **options) -> None:
        stop = threading.Event()
        for signum in (signal.SIGTERM, signal.SIGINT):
            signal.signal(signum, lambda *_: stop.set())
        sites = subscribed_sites(get_config().sites)
        if not sites:
            log.info("no site is configured to subscribe (ingest: subscribe); waiting")
        subscribers = [self._subscriber(site, stop) for site in sites]
        for site in sites:
            log.info("site %s: subscribing to %d tags", site.id, len(site.tags))
        run_subscribers(subscribers, stop, connection())

    def _subscriber(self, site, stop: threading.Event) -> SiteSubscriber:
        client = open_client(site.connection())
        keepalive = min(site.poll_interval / 2, KEEPALIVE_CAP)
        names = [tag.name for tag in site.tags]

        def subscribe():
            return client.subscribe(names, alarms=site.capabilities().active_alarms,
                                    keepalive=keepalive)

        return SiteSubscriber(
            site=site, poller=pollers().poller(site.id), redis=connection(),
            subscribe=subscribe, stop=stop,
            backoff=Backoff(cap=settings.POLL_BACKOFF_CAP_SECONDS),
        )
