"""The checks an API token's scope passes, the same from the admin and from the shell."""

from __future__ import annotations

from dashboard.models import SiteAccess, split_ids
from dashboard.siteconfig import missing_ids


class UnknownSite(ValueError):
    """A plain sentence naming the site id the configuration does not have."""


def check_sites(text: str) -> str:
    """The scope as a token stores it ("*", or site ids separated by ", "), every id
    checked against the configuration; UnknownSite otherwise."""
    ids = split_ids(text)
    if not ids:
        raise UnknownSite('Name at least one site id, or "*" for every site.')
    if SiteAccess.ALL_SITES in ids:
        if len(ids) > 1:
            raise UnknownSite('"*" already means every site: give it alone.')
        return SiteAccess.ALL_SITES
    problem = missing_ids(ids, "site")
    if problem:
        raise UnknownSite(problem)
    return ", ".join(dict.fromkeys(ids))
