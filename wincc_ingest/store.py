"""The Redis key layout, in one place. docs/redis-keys.md documents it as a table.

What each key holds, and how it is encoded and read back, is wincc_ingest.codec.
Writers: wincc_ingest.poller (values, alarms, health, journal stream, change channel).
Readers: the dashboard (it never calls WinCC; it reads these keys).
Every key starts with PREFIX so one Redis can be shared with other applications.
"""

from __future__ import annotations

from typing import Any

from wincc_bridge.models import alarm_key

PREFIX = "wdash"

# One PUBLISH per poll that changed something (codec.Change). The web's live hub is the only
# subscriber per web process.
CHANGES_CHANNEL = f"{PREFIX}:changes"

# Alarm transitions, capped, replayable; the journal consumer persists them to the database.
JOURNAL_STREAM = f"{PREFIX}:journal"
JOURNAL_GROUP = "journal-writers"
JOURNAL_MAXLEN = 100_000
# Stream entries the journal consumer could not persist, kept with the reason (never dropped).
JOURNAL_REJECTED_STREAM = f"{PREFIX}:journal:rejected"

# Liveness of the scheduler and the workers, for /health/.
BEAT_HEARTBEAT = f"{PREFIX}:beat:heartbeat"
HEARTBEAT_TTL = 60  # seconds; refreshed at least every 10 s
# Liveness of a subscriber process (wincc_ingest.subscriber), per host: its healthcheck.
def subscriber_heartbeat(host: str) -> str:
    return f"{PREFIX}:subscriber:heartbeat:{host}"


def subscriber_heartbeat_pattern() -> str:
    return f"{PREFIX}:subscriber:heartbeat:*"


# Held (with a TTL, renewed on every tick) by the one running beat; a second beat waits for it.
BEAT_LOCK = f"{PREFIX}:beat:lock"

# Samples kept per tag for the small trends: the longest trend at the fastest poll.
TREND_LENGTH = 600
# A trend's list may hold this many samples more before it is cut back to TREND_LENGTH:
# one LTRIM per 60 samples instead of one per sample, which was a fifth of Redis' CPU per
# poll of 200 changing tags. Readers read the newest TREND_LENGTH.
TREND_SLACK = 60

# A site is current while its last success is younger than this many poll intervals.
CURRENT_INTERVALS = 3


def site_values(site: str) -> str:
    """Hash: tag name -> codec.encode_value."""
    return f"{PREFIX}:site:{site}:values"


def site_alarms(site: str) -> str:
    """Hash: models.alarm_key(name, instance) -> codec.encode_alarm."""
    return f"{PREFIX}:site:{site}:alarms"


def site_notes(site: str) -> str:
    """Hash: models.alarm_key(name, instance) -> codec.encode_note: what the dashboard itself
    knows of an occurrence (its shelving here, its latest comments). Written by the web and
    beat (dashboard.alarm_notes); read with the alarms."""
    return f"{PREFIX}:site:{site}:notes"


def site_health(site: str) -> str:
    """Hash of strings: codec.encode_health."""
    return f"{PREFIX}:site:{site}:health"


def site_polls(site: str) -> str:
    """Hash of counters, only growing: the site's poll attempts, failures and durations
    (codec.count_poll), for the metrics endpoint."""
    return f"{PREFIX}:site:{site}:polls"


# The poll duration histogram's upper bounds, in seconds (codec.count_poll): from a fast
# local server to a poll that ran into two WinCC timeouts.
POLL_SECONDS_BUCKETS = (0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)


def site_triggers(site: str) -> str:
    """Hash: integration trigger state of one site, field = trigger id (alarm triggers:
    "trigger id|alarm name"); codec.encode_trigger_state."""
    return f"{PREFIX}:site:{site}:triggers"


def site_lock(site: str) -> str:
    """String with a TTL: held while one poll of the site runs, so polls never overlap."""
    return f"{PREFIX}:site:{site}:lock"


def site_subscriber(site: str) -> str:
    """String with a TTL (the site's poll interval): the subscriber that owns the site's
    live subscription. Renewed only while the subscription is heard from; while it exists
    the poll of the site stands aside (wincc_ingest.subscriber)."""
    return f"{PREFIX}:site:{site}:subscriber"


def site_subscribed_since(site: str) -> str:
    """String with the TTL of site_subscriber, set and deleted with it: when (ISO UTC) the
    owner's live subscription of the site began, for /health/ and /metrics."""
    return f"{PREFIX}:site:{site}:subscriber:since"


# Take the key if free or ours, and set its TTL: one owner per site. A new owner starts
# the subscription's "since"; the same owner keeps it.
_CLAIM = """
local owner = redis.call('GET', KEYS[1])
if owner == false or owner == ARGV[1] then
  redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2])
  if owner == false then
    redis.call('SET', KEYS[2], ARGV[3], 'PX', ARGV[2])
  else
    redis.call('SET', KEYS[2], ARGV[3], 'NX')
    redis.call('PEXPIRE', KEYS[2], ARGV[2])
  end
  return 1
end
return 0
"""
# Delete the keys only if they are ours.
_RELEASE = """
if redis.call('GET', KEYS[1]) == ARGV[1] then
  return redis.call('DEL', KEYS[1], KEYS[2])
end
return 0
"""


def claim_subscriber(r: Any, site: str, owner: str, ttl: float, since: str) -> bool:
    """Own the site's subscription for `ttl` seconds (again); False if another owns it.
    `since` (ISO UTC, now) is stored as the start of a new owner's subscription."""
    return bool(r.eval(_CLAIM, 2, site_subscriber(site), site_subscribed_since(site), owner,
                       max(1, int(ttl * 1000)), since))


def release_subscriber(r: Any, site: str, owner: str) -> None:
    r.eval(_RELEASE, 2, site_subscriber(site), site_subscribed_since(site), owner)


def site_trend(site: str, tag: str) -> str:
    """List, newest first, capped at TREND_LENGTH (+ TREND_SLACK): codec.encode_trend_sample."""
    return f"{PREFIX}:site:{site}:trend:{tag}"


# LPUSH (+ LTRIM) of many trends in one command: a poll that changes thousands of values
# would otherwise spend most of its time packing two commands per tag.
_PUSH_TRENDS = """
local length, most = tonumber(ARGV[1]), tonumber(ARGV[2])
for i, key in ipairs(KEYS) do
  if redis.call('LPUSH', key, ARGV[i + 2]) > most then
    redis.call('LTRIM', key, 0, length - 1)
  end
end
return #KEYS
"""


def push_trends(pipe: Any, site: str, samples: dict[str, str]) -> None:
    """Queue on `pipe` one sample per tag (tag -> codec.encode_trend_sample), newest first,
    capped."""
    if samples:
        pipe.eval(
            _PUSH_TRENDS,
            len(samples),
            *(site_trend(site, tag) for tag in samples),
            TREND_LENGTH,
            TREND_LENGTH + TREND_SLACK,
            *samples.values(),
        )


def worker_heartbeat(hostname: str) -> str:
    return f"{PREFIX}:worker:{hostname}:heartbeat"


def worker_heartbeat_pattern() -> str:
    return f"{PREFIX}:worker:*:heartbeat"


def alarm_ack_lock(site: str, name: str, instance_id: int) -> str:
    """String with a TTL: codec.encode_ack_holder while one acknowledgement of the alarm runs,
    kept briefly after success so a second click meets "already acknowledged"."""
    return f"{PREFIX}:site:{site}:ack:{alarm_key(name, instance_id)}"


def ack_refusals(address: str) -> str:
    """Integer counter with a TTL: acknowledge requests refused from one address in the
    current minute; beyond the limit the web answers 429 (dashboard.acknowledge)."""
    return f"{PREFIX}:ack-refusals:{address or 'unknown'}"


def site_pushes(site: str, window: int) -> str:
    """Integer counter with a TTL: REST Connector pushes of the site taken (their
    credentials good) in the rate window numbered `window` (dashboard.push_limits)."""
    return f"{PREFIX}:site:{site}:pushes:{window}"


def push_refusals(site: str, address: str, window: int) -> str:
    """Integer counter with a TTL: REST Connector pushes of the site refused for their
    credentials from one address in the rate window numbered `window`."""
    return f"{PREFIX}:site:{site}:push-refusals:{address or 'unknown'}:{window}"


# Count one in this window's counter; the previous window's count comes back beside it, so
# the first line logged in a window can say how many the last one had.
_COUNT_IN_WINDOW = """
local count = redis.call('INCR', KEYS[1])
if count == 1 then
  redis.call('EXPIRE', KEYS[1], ARGV[1])
end
return {count, tonumber(redis.call('GET', KEYS[2]) or '0')}
"""


def count_in_window(r: Any, key: str, previous: str, ttl: int) -> tuple[int, int]:
    """Add one to `key` (kept `ttl` seconds); (its count now, the count in `previous`)."""
    count, before = r.eval(_COUNT_IN_WINDOW, 2, key, previous, ttl)
    return int(count), int(before)


def tag_write_lock(site: str, tag: str) -> str:
    """String with a TTL: codec.encode_ack_holder (who writes) while one write of the tag runs,
    so a double click or two people make one call (dashboard.writes)."""
    return f"{PREFIX}:site:{site}:write:{tag}"


# The minute being read, per site, for the dashboard's trend store (wincc_ingest.minutes):
# the poller adds every poll's values; the worker flushes closed minutes to the database.
MINUTE_SECONDS = 60
# An open minute nobody flushed (no beat for a day) expires rather than filling Redis.
MINUTE_TTL = 24 * 3600


def site_minute(site: str, minute: int) -> str:
    """Hash: tag name -> minutes.encode (min, max, sum, count, last, worst quality) of the
    minute starting at epoch second `minute`."""
    return f"{PREFIX}:site:{site}:minute:{minute}"


def site_minutes(site: str) -> str:
    """Sorted set of the site's minutes (epoch seconds, as score and member) held in Redis
    and not yet flushed."""
    return f"{PREFIX}:site:{site}:minutes"
