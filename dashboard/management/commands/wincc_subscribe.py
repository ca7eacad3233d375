"""The subscriber: keeps a live WinCC Unified subscription for every site configured
`"ingest": "subscribe"` and records what it pushes (wincc_ingest.subscriber).

    manage.py wincc_subscribe

A process of its own beside the Celery worker and beat, under the same supervision
(Procfile, docker-compose.yml, deploy/systemd/); docs/scale-out.md says why. SIGTERM or
Ctrl-C ends it within a poll interval; its sites' polls take over at once. A reloaded
configuration (dashboard/siteconfig.py) ends the subscriptions and starts them again on it,
so added tags and sites are subscribed to without a restart.
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
from wincc_ingest.config import Config
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
        while not stop.is_set():
            self._subscribe(get_config(), stop)

    def _subscribe(self, config: Config, stop: threading.Event) -> None:
        """Keep the subscriptions `config` asks for until `stop`, or until the configuration
        is reloaded: meanwhile the sites' polls take over, for a moment."""
        changed = threading.Event()

        def follow() -> None:
            while not (stop.wait(settings.CONFIG_RELOAD_SECONDS) or get_config() is not config):
                pass
            if not stop.is_set():
                log.info("the configuration changed: subscribing again")
            changed.set()

        threading.Thread(target=follow, name="follow-configuration", daemon=True).start()
        sites = subscribed_sites(config.sites)
        if not sites:
            log.info("no site is configured to subscribe (ingest: subscribe); waiting")
        clients = [open_client(site.connection()) for site in sites]
        subscribers = [self._subscriber(site, client, changed)
                       for site, client in zip(sites, clients, strict=True)]
        for site in sites:
            log.info("site %s: subscribing to %d tags", site.id, len(site.tags))
        try:
            run_subscribers(subscribers, changed, connection())
        finally:
            for client in clients:
                client.close()

    def _subscriber(self, site, client, stop: threading.Event) -> SiteSubscriber:
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
