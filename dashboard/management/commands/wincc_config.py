"""`manage.py wincc_config add-tags --site S --pattern 'Oven_*' [--dashboard D]`: configure a
site's tags found on its WinCC server, and print the changed configuration.

It browses the server with the site's read-only user, adds each matching tag the site does not
have yet (label from WinCC's display name, no decimals for whole numbers), optionally shows
them as tiles on a dashboard, validates the result like the file at start-up, and prints it
(or, with --diff, the unified diff against the file). With --write, and CONFIG_WRITES_ALLOWED
set, it writes the file; every process takes it up without a restart.

Exit codes: 0 done, 1 refused (bad input, nothing matched, the result invalid, writing not
allowed), 2 the configuration cannot be read, 3 the server could not be browsed.
"""

from __future__ import annotations

import getpass

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from dashboard import configurator
from dashboard.tag_browse import BrowseForm, browse, configured_tag, suggested
from wincc_bridge.client import WinCCError
from wincc_ingest import config as bridge_config


class Command(BaseCommand):
    help = "Configure tags found on a site's WinCC server (browsed with the read-only user)."

    # A broken configuration is this command's own report (exit code 2).
    requires_system_checks: list[str] = []

    def add_arguments(self, parser):
        sub = parser.add_subparsers(dest="action", required=True)
        add = sub.add_parser("add-tags", help="add the tags whose names match a pattern",
                             description=self.help)
        add.add_argument("--site", required=True, help="the site's id")
        add.add_argument("--pattern", required=True,
                         help="tag names to add: * any characters, ? one, e.g. 'Oven_*'")
        add.add_argument("--dashboard", default="",
                         help="show them as tiles on this dashboard (made when missing)")
        add.add_argument("--title", default="", help="the dashboard's title")
        add.add_argument("--max", type=int, default=200, dest="most",
                         help="refuse a pattern matching more new tags than this (200)")
        add.add_argument("--diff", action="store_true",
                         help="print the unified diff against the file, not the whole file")
        add.add_argument("--write", action="store_true",
                         help="write the file (only where CONFIG_WRITES_ALLOWED is set)")

    def handle(self, *args, **options):
        try:
            config = bridge_config.load(settings.WINCC_CONFIG)
        except bridge_config.ConfigError as exc:
            raise CommandError(str(exc), returncode=2) from None
        form = BrowseForm({"site": options["site"], "pattern": options["pattern"]},
                          sites=config.sites)
        if not form.is_valid():
            raise CommandError(" ".join(f"--{name.replace('_', '-')}: {' '.join(map(str, errors))}"
                                        for name, errors in form.errors.items()))
        site = config.known_site(form.cleaned_data["site"])
        dashboard = options["dashboard"]
        try:
            found = browse(site, form.cleaned_data["pattern"])
        except WinCCError as exc:
            raise CommandError(f"cannot browse site {site.id}: {exc}", returncode=3) from None
        new = [item for item in found if configured_tag(site, item.name) is None]
        if not found:
            raise CommandError(f"no tag of site {site.id} matches {options['pattern']!r}")
        if len(new) > options["most"]:
            raise CommandError(
                f"{len(new)} new tags match {options['pattern']!r}, more than --max "
                f"{options['most']}: narrow the pattern or raise --max")
        # Tags already configured keep their settings; on a dashboard they are shown too.
        picked = [suggested(item) for item in new]
        shown = [tag.name for item in found if (tag := configured_tag(site, item.name))]
        try:
            change = configurator.add_tags(
                config.source, site.id, picked, dashboard=dashboard,
                dashboard_title=options["title"], also_show=shown)
        except bridge_config.ConfigError as exc:
            raise CommandError(f"the changed configuration would be refused: {exc}") from None
        self.stdout.write(change.diff() if options["diff"] else change.new_text, ending="")
        self.stderr.write(
            f"{len(change.added)} tag(s) added to site {site.id}, {len(shown)} already "
            f"configured" + (f"; shown on dashboard {dashboard}" if dashboard else "")
            + f"; version {change.old_version} -> {change.new_version}")
        if options["write"] and change.changed:
            try:
                backup = configurator.write(change)
            except configurator.WriteRefused as exc:
                raise CommandError(str(exc)) from None
            configurator.audit(change, site.id, username=f"{getpass.getuser()} (manage.py)")
            self.stderr.write(f"written to {change.source}; the old file kept as {backup}")

