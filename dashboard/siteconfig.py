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
