"""The Redis key layout, in one place. docs/redis-keys.md documents it as a table.

Writers: wincc_bridge.poller (values, alarms, health, journal stream, change channel).
Readers: the dashboard (it never calls WinCC; it reads these keys).
Every key starts with PREFIX so one Redis can be shared with other applications.
"""

from __future__ import annotations

PREFIX = "wdash"

# One PUBLISH per poll that changed something: {"site": id, "tags": [...], "alarms": bool,
# "health": bool}. The web's live hub is the only subscriber per web process.
CHANGES_CHANNEL = f"{PREFIX}:changes"

# Alarm transitions, capped, replayable; the journal consumer persists them to the database.
JOURNAL_STREAM = f"{PREFIX}:journal"
JOURNAL_GROUP = "journal-writers"
JOURNAL_MAXLEN = 100_000

# Liveness of the scheduler and the workers, for /health/.
BEAT_HEARTBEAT = f"{PREFIX}:beat:heartbeat"


def site_values(site: str) -> str:
    """Hash: tag name -> JSON {value, quality, quality_code, timestamp, read_at, error}."""
    return f"{PREFIX}:site:{site}:values"


def site_alarms(site: str) -> str:
    """Hash: "<alarm name>|<instance id>" -> JSON of wincc_bridge.models.Alarm."""
    return f"{PREFIX}:site:{site}:alarms"


def site_health(site: str) -> str:
    """Hash: last_attempt, last_success, duration_ms, latency_ms, failures, last_error, ..."""
    return f"{PREFIX}:site:{site}:health"


def site_lock(site: str) -> str:
    """String with a TTL: held while one poll of the site runs, so polls never overlap."""
    return f"{PREFIX}:site:{site}:lock"


def site_trend(site: str, tag: str) -> str:
    """List, newest first, capped: "<epoch seconds> <value>" samples for the small trends."""
    return f"{PREFIX}:site:{site}:trend:{tag}"


def worker_heartbeat(hostname: str) -> str:
    return f"{PREFIX}:worker:{hostname}:heartbeat"


def worker_heartbeat_pattern() -> str:
    return f"{PREFIX}:worker:*:heartbeat"
