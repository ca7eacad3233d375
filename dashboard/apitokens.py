"""The checks an API token's scope passes, the same from the admin and from the shell."""

from __future__ import annotations

from dashboard.models import SiteAccess, split_ids
from dashboard.siteconfig import get_config
from wincc_ingest.config import ConfigError


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
    try:
        config = get_config()
    except ConfigError as exc:
        raise UnknownSite(f"The configuration cannot be read: {exc}") from None
    for site_id in ids:
        if config.site(site_id) is None:
            known = ", ".join(s.id for s in config.sites)
            raise UnknownSite(f"No site {site_id!r} in the configuration. It has: {known}.")
    return ", ".join(dict.fromkeys(ids))
