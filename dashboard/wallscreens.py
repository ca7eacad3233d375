"""The checks a wall screen's settings pass, the same from the admin and from the shell."""

from __future__ import annotations

from dashboard.models import split_ids
from dashboard.siteconfig import get_config
from wincc_ingest.config import ConfigError


class UnknownDashboard(ValueError):
    """A plain sentence naming the dashboard id the configuration does not have."""


def check_dashboards(ids: list[str]) -> list[str]:
    """`ids` unchanged when the configuration has every one; UnknownDashboard otherwise."""
    try:
        config = get_config()
    except ConfigError as exc:
        raise UnknownDashboard(f"The configuration cannot be read: {exc}") from None
    for dashboard_id in ids:
        if config.dashboard(dashboard_id) is None:
            known = ", ".join(d.id for d in config.dashboards)
            raise UnknownDashboard(
                f"No dashboard {dashboard_id!r} in the configuration. It has: {known}."
            )
    return ids


def check_rotation(text: str) -> str:
    """The rotation as the screen stores it (ids separated by ", "), every id checked."""
    return ", ".join(check_dashboards(split_ids(text)))
