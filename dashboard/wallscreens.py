"""The checks a wall screen's settings pass, the same from the admin and from the shell."""

from __future__ import annotations

from dashboard.models import split_ids
from dashboard.siteconfig import missing_ids


class UnknownDashboard(ValueError):
    """A plain sentence naming the dashboard id the configuration does not have."""


def check_dashboards(ids: list[str]) -> list[str]:
    """`ids` unchanged when the configuration has every one; UnknownDashboard otherwise."""
    problem = missing_ids(ids, "dashboard")
    if problem:
        raise UnknownDashboard(problem)
    return ids


def check_rotation(text: str) -> str:
    """The rotation as the screen stores it (ids separated by ", "), every id checked."""
    return ", ".join(check_dashboards(split_ids(text)))
