"""The product's configuration (WINCC_CONFIG), loaded once per process."""

from __future__ import annotations

from functools import lru_cache

from django.conf import settings

from wincc_ingest import config as bridge_config


@lru_cache(maxsize=1)
def get_config() -> bridge_config.Config:
    return bridge_config.load(settings.WINCC_CONFIG)


def reload_config() -> bridge_config.Config:
    get_config.cache_clear()
    return get_config()


def missing_ids(ids: list[str], kind: str) -> str | None:
    """The sentence for the first of `ids` the configuration lacks among its `kind`s ("site"
    or "dashboard"), or for a configuration that cannot be read; None when it has them all.
    One wording for API token scopes and wall screen rotations."""
    try:
        config = get_config()
    except bridge_config.ConfigError as exc:
        return f"The configuration cannot be read: {exc}"
    items = config.sites if kind == "site" else config.dashboards
    known = [item.id for item in items]
    for item_id in ids:
        if item_id not in known:
            return f"No {kind} {item_id!r} in the configuration. It has: {', '.join(known)}."
    return None
