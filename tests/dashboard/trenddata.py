"""Stored minutes for the trend tests."""

from __future__ import annotations

import time
from datetime import UTC, datetime

from dashboard.models import TagMinute


def minute_ago(minutes: int, now: float | None = None) -> float:
    now = time.time() if now is None else now
    return (int(now // 60) - minutes) * 60.0


def store_minutes(site: str, tag: str, values: dict[float, float | None],
                  quality: str = "g") -> None:
    """One stored minute per epoch in `values` (value None: a minute with no number)."""
    TagMinute.objects.bulk_create(
        TagMinute(site_id=site, tag=tag, minute=datetime.fromtimestamp(epoch, UTC),
                  minimum=None if v is None else v - 1, maximum=None if v is None else v + 1,
                  average=v, last=v, count=0 if v is None else 60, quality=quality)
        for epoch, v in values.items())


# The simulator computes each archived second in Python: on a busy machine a week of
# several tags takes longer than a site's 2 s. The tests on it wait for it.
SLOW_ARCHIVE_SECONDS = 30


def patient_config(path):
    """The configuration written at `path` (tests.fixtures.simulator.write_config), with
    site timeouts that wait for the simulator's archive (TREND_ARCHIVE_TIMEOUT_SECONDS must
    be raised as well)."""
    import json

    data = json.loads(path.read_text())
    for site in data["sites"]:
        site["timeout"] = SLOW_ARCHIVE_SECONDS
    path.write_text(json.dumps(data))
    return path
