"""`manage.py wincc_check`: ask each site's WinCC server what only it can tell.

Exit codes: 0 every site as configured, 1 something configured is missing or unreachable,
2 the configuration cannot be read or --site names no site.
"""

from __future__ import annotations

import json

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from wincc_ingest import config as bridge_config
from wincc_ingest.online_check import check_sites, exit_code


class Command(BaseCommand):
    help = (
        "Connect to each site's WinCC server with its read-only user and report: reachable, "
        "TLS as pinned, login, dialect, every configured tag, alarms, acknowledge, browse, "
        "round-trip time. Writes nothing and acknowledges nothing."
    )

    # The configuration's problems are this command's own report (exit code 2), not the
    # system checks' failure before it starts.
    requires_system_checks: list[str] = []

    def add_arguments(self, parser):
        parser.add_argument(
            "--site", action="append", default=[], metavar="SITE",
            help="check only this site (repeatable; default: every site)",
        )
        parser.add_argument("--json", action="store_true", help="one JSON document on stdout")

    def handle(self, *args, **options):
        try:
            config = bridge_config.load(settings.WINCC_CONFIG)
        except bridge_config.ConfigError as exc:
            raise CommandError(str(exc), returncode=2) from None
        unknown = [s for s in options["site"] if config.site(s) is None]
        if unknown:
            known = ", ".join(site.id for site in config.sites)
            raise CommandError(
                f"no site {', '.join(unknown)} in the configuration; known sites: {known}",
                returncode=2,
            )
        reports = check_sites(config, options["site"])
        if options["json"]:
            document = {"ok": exit_code(reports) == 0, "sites": [r.to_json() for r in reports]}
            self.stdout.write(json.dumps(document, indent=2))
        else:
            for report in reports:
                self.stdout.write("\n".join(report.lines()))
        code = exit_code(reports)
        if code:
            raise SystemExit(code)
