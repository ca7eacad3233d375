"""System checks: `python manage.py check` fails on a broken WINCC_CONFIG, naming each problem.

The web and worker processes call `require_valid_config()` at start-up and refuse to run
with a broken configuration instead of serving or polling half of a plant.
"""

from __future__ import annotations

import sys

from django.conf import settings
from django.core import checks
from django.core.exceptions import ImproperlyConfigured

from dashboard import roles
from wincc_ingest import config as bridge_config

LOOPBACK_HOSTS = {"127.0.0.1", "localhost", "::1", "[::1]"}


@checks.register("wincc")
def check_wincc_config(app_configs=None, **kwargs) -> list[checks.CheckMessage]:
    try:
        config = bridge_config.load(settings.WINCC_CONFIG)
    except bridge_config.ConfigError as exc:
        last = len(exc.problems) - 1
        return [
            checks.Error(
                problem,
                hint="docs/configuration.md explains every key." if number == last else None,
                obj=f"WINCC_CONFIG={exc.source}",
                id="wdash.E001",
            )
            for number, problem in enumerate(exc.problems)
        ]
    return _transport_warnings(config) + _directory_site_warnings(config)


def _directory_site_warnings(config: bridge_config.Config) -> list[checks.CheckMessage]:
    """A site in the directory mapping that the configuration lacks grants nothing: a typo
    there would leave people without the rights the file seems to give them."""
    known = {site.id for site in config.sites}
    return [
        checks.Warning(
            f"DIRECTORY_GROUPS_FILE gives {grant.role} on site {site!r} to {group!r}, "
            "but the configuration has no such site.",
            hint=f"The configuration's sites: {', '.join(sorted(known))} (or \"*\" for all).",
            obj=f"WINCC_CONFIG={config.source}",
            id="wdash.W004",
        )
        for group, grants in settings.DIRECTORY_GROUPS.items()
        for grant in grants
        for site in grant.sites
        if site != roles.ALL_SITES and site not in known
    ]


def _transport_warnings(config: bridge_config.Config) -> list[checks.CheckMessage]:
    """Allowed, but worth a line on every check: links whose secrets an eavesdropper could take."""
    warnings = []
    for site in config.sites:
        if site.url.startswith("http://"):
            warnings.append(
                checks.Warning(
                    f"site {site.id!r} is reached over plain HTTP: its API users' passwords "
                    "and tokens cross the network unencrypted.",
                    hint="Use https:// and pin the server's certificate with tls.ca_file.",
                    obj=f"WINCC_CONFIG={config.source}",
                    id="wdash.W002",
                )
            )
        elif site.insecure:
            warnings.append(
                checks.Warning(
                    f"site {site.id!r} does not verify the server's certificate "
                    "(tls.insecure): anyone in between can pose as the server.",
                    hint="Pin the server's certificate with tls.ca_file instead.",
                    obj=f"WINCC_CONFIG={config.source}",
                    id="wdash.W003",
                )
            )
    return list(warnings)


@checks.register(checks.Tags.security)
def check_demo_mode_stays_local(app_configs=None, **kwargs) -> list[checks.CheckMessage]:
    """The demo relaxes cookie security and knows a shared password; keep it on loopback."""
    if not settings.DEMO_MODE:
        return []
    exposed = [host for host in settings.ALLOWED_HOSTS if host not in LOOPBACK_HOSTS]
    if not exposed:
        return []
    return [
        checks.Warning(
            f"WDASH_DEMO is on while ALLOWED_HOSTS admits {', '.join(exposed)}.",
            hint="Demo mode turns off secure cookies and HSTS; unset WDASH_DEMO in production.",
            id="wdash.W001",
        )
    ]


def require_valid_config() -> bridge_config.Config:
    """Load WINCC_CONFIG, or print its problems on stderr and raise ImproperlyConfigured.

    An exception rather than SystemExit: gunicorn then reports "Worker failed to boot"
    and stops, instead of restarting the worker forever.
    """
    try:
        return bridge_config.load(settings.WINCC_CONFIG)
    except bridge_config.ConfigError as exc:
        print(f"Refusing to start: {exc}", file=sys.stderr, flush=True)
        raise ImproperlyConfigured(f"Refusing to start: {exc}") from None
