"""The configuration in use, for the admin's pages: its version and a refused change."""

from __future__ import annotations

from django import template

from dashboard import siteconfig
from wincc_ingest.config import ConfigError

register = template.Library()


@register.inclusion_tag("admin/includes/configuration_status.html")
def configuration_status() -> dict:
    try:
        return {"version": siteconfig.config_version(), "refusal": siteconfig.refused(),
                "source": siteconfig.get_config().source}
    except ConfigError as exc:
        return {"unreadable": exc.problems}
