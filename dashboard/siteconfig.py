"""The product's configuration (WINCC_CONFIG): loaded once per process, and again when the
file changes.

Every process (web, Celery worker, beat) looks at the file's size and modification time at
most every CONFIG_RELOAD_SECONDS, in the call that asks for the configuration, so a change
(from the tag browser, `manage.py wincc_config --write` or an editor) is in use everywhere
within a few seconds without a restart. A watcher thread or a Redis message would add a
moving part per process; a stat() every few seconds costs nothing. A changed file is
validated by the same schema and checks as at start-up: a broken one is refused with one log
line, the running configuration stays, and refused() says why for the admin pages.

The version is the first 12 hex digits of the file's SHA-256: the same file is the same
version on every host, and a file saved again unchanged is no new version.
"""

from __future__ import annotations

import hashlib
import logging
import os
import threading
import time
from dataclasses import dataclass
from datetime import datetime

from django.conf import settings

from wincc_bridge.models import utcnow
from wincc_ingest import config as bridge_config

log = logging.getLogger(__name__)


def version_of(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()[:12]


@dataclass(frozen=True)
class Refusal:
    """A changed file that failed validation: the running configuration stayed."""

    version: str
    problems: tuple[str, ...]
    at: datetime


@dataclass
class _Loaded:
    path: str
    config: bridge_config.Config
    version: str
    stamp: tuple[int, int, int]  # inode, size, mtime in ns
    checked: float  # time.monotonic() of the last look at the file


def _stamp(path: str) -> tuple[int, int, int] | None:
    try:
        st = os.stat(path)
    except OSError:
        return None
    return st.st_ino, st.st_size, st.st_mtime_ns


class WatchedConfig:
    """get_config(): the configuration in use, reloaded when its file changed."""

    def __init__(self) -> None:
        self._loaded: _Loaded | None = None
        self._refused: Refusal | None = None
        self._lock = threading.Lock()

    def __call__(self) -> bridge_config.Config:
        loaded = self._loaded
        path = settings.WINCC_CONFIG
        if (loaded is not None and loaded.path == path
                and time.monotonic() - loaded.checked < settings.CONFIG_RELOAD_SECONDS):
            return loaded.config
        with self._lock:
            return self._look(path)

    def look_now(self) -> None:
        """The next call looks at the file whatever the interval: this process wrote it, and
        the page it answers next must show the change (others follow within the interval)."""
        loaded = self._loaded
        if loaded is not None:
            loaded.checked = float("-inf")

    def cache_clear(self) -> None:
        """Forget the configuration: the next call reads the file (and raises if broken)."""
        with self._lock:
            self._loaded = None
            self._refused = None

    @property
    def version(self) -> str:
        self()
        assert self._loaded is not None
        return self._loaded.version

    def refused(self) -> Refusal | None:
        """The last changed file that was refused, while it is still the file's content."""
        self()
        return self._refused

    def _look(self, path: str) -> bridge_config.Config:
        loaded = self._loaded
        now = time.monotonic()
        if loaded is None or loaded.path != path:
            self._loaded = self._read(path, now)
            self._refused = None
            return self._loaded.config
        loaded.checked = now
        stamp = _stamp(path)
        if stamp is None or stamp == loaded.stamp:
            # A file gone for a moment (an editor's save) keeps what runs.
            return loaded.config
        try:
            data = bridge_config.read_bytes(path)
        except bridge_config.ConfigError:
            return loaded.config
        version = version_of(data)
        if version == loaded.version:
            loaded.stamp = stamp
            self._refused = None
            return loaded.config
        if self._refused is not None and self._refused.version == version:
            return loaded.config
        try:
            config = bridge_config.load_bytes(data, path)
        except bridge_config.ConfigError as exc:
            self._refused = Refusal(version, tuple(exc.problems), utcnow())
            log.error(
                "configuration %s changed (version %s) but was refused, version %s stays in "
                "use: %s", path, version, loaded.version, "; ".join(exc.problems),
            )
            return loaded.config
        log.info("configuration %s reloaded: version %s replaces %s", path, version,
                 loaded.version)
        self._loaded = _Loaded(path, config, version, stamp, now)
        self._refused = None
        return config

    def _read(self, path: str, now: float) -> _Loaded:
        stamp = _stamp(path) or (0, 0, 0)
        data = bridge_config.read_bytes(path)
        return _Loaded(path, bridge_config.load_bytes(data, path), version_of(data), stamp, now)


get_config = WatchedConfig()


def reload_config() -> bridge_config.Config:
    get_config.cache_clear()
    return get_config()


def config_version() -> str:
    """The version of the configuration in use (version_of its file)."""
    return get_config.version


def refused() -> Refusal | None:
    return get_config.refused()


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
