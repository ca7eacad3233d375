"""The trend store: the poller's minutes in Redis (wincc_ingest.minutes), their flush to the
database (dashboard.history.minutes.flush) and the pruning, against a real Redis."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from dashboard.history import minutes as store_minutes
from dashboard.models import TagMinute
from tests.poller.stub import Clock, StubPlant, site_config
from wincc_bridge.models import Quality, TagValue
from wincc_ingest import minutes, store
from wincc_ingest.poller import SitePoller, TimeLimits

NAMES = ["Tank_Level", "Conveyor_Running", "Batch_Name"]
pytestmark = pytest.mark.django_db


def make_poller(redis_client, plant, clock):
    site = site_config(names=NAMES)
    return SitePoller(site, redis_client, TimeLimits.for_sites([site]), connect=plant.connect,
                      clock=clock)


def poll_minute(poller, plant, clock, levels, running=True):
    """One poll per value of `levels`, 10 s apart."""
    for level in levels:
        plant.values["Tank_Level"] = level
        plant.values["Conveyor_Running"] = running
        assert poller.poll().status == "ok"
        clock.advance(10)


def rows():
    return {(row.tag, row.minute): row for row in TagMinute.objects.all()}


def test_every_poll_counts_towards_its_minute_and_closed_minutes_are_flushed(redis_client):
    plant, clock = StubPlant(NAMES), Clock()  # 10:00:00
    plant.values["Batch_Name"] = "B-17"  # not a number: counted for quality only
    poller = make_poller(redis_client, plant, clock)
    poll_minute(poller, plant, clock, [10.0, 80.5, 10.0, -3.25, 12.0, 12.0])  # unchanged too
    poll_minute(poller, plant, clock, [50.0, 51.0])  # 10:01:00, 10:01:10
    minute = datetime(2026, 11, 26, 10, 0, tzinfo=UTC)

    # At 10:01:05 the first minute is closed but within its grace; at 10:01:20 it is flushed.
    at = clock.now.timestamp()
    assert store_minutes.flush(redis_client, ["plant-a"], now=at - 15) == 0
    assert store_minutes.flush(redis_client, ["plant-a"], now=at) == 3
    found = rows()
    level = found[("Tank_Level", minute)]
    assert (level.minimum, level.maximum, level.last, level.count) == (-3.25, 80.5, 12.0, 6)
    assert level.average == pytest.approx((10 + 80.5 + 10 - 3.25 + 12 + 12) / 6)
    assert level.quality == "g"
    running = found[("Conveyor_Running", minute)]
    assert (running.minimum, running.maximum, running.last) == (1.0, 1.0, 1.0)
    text = found[("Batch_Name", minute)]
    assert text.count == 0 and text.minimum is None and text.last is None
    # The open minute stays in Redis until it closes.
    assert redis_client.zrange(store.site_minutes("plant-a"), 0, -1) == [
        str(int(minute.timestamp()) + 60)]
    assert not redis_client.exists(store.site_minute("plant-a", int(minute.timestamp())))


def add_polls(redis_client, minute, polls):
    """(epoch, tags) each written as a poll writes them: one pipeline, then committed."""
    for epoch, tags in polls:
        pipe = redis_client.pipeline()
        added = minute.add(pipe, redis_client, epoch, tags)
        pipe.execute()
        minute.commit(added)


def test_the_worst_quality_of_the_minute_is_kept(redis_client):
    start = 1_800_000_000 - 1_800_000_000 % 60
    add_polls(redis_client, minutes.OpenMinute("plant-a"), [
        (start + 1, [TagValue("T", 5.0, Quality.GOOD)]),
        (start + 2, [TagValue("T", 9.0, Quality.UNCERTAIN)]),
        (start + 3, [TagValue("T", None, Quality.BAD, error="no value")]),
        (start + 4, [TagValue("T", float("nan"), Quality.GOOD)]),
    ])
    store_minutes.flush(redis_client, ["plant-a"], now=start + 120)
    (row,) = TagMinute.objects.all()
    assert (row.minimum, row.maximum, row.last, row.count, row.quality) == (
        5.0, 9.0, 9.0, 2, "b")


def test_the_stored_form_of_a_minute(redis_client):
    start = 1_800_000_000 - 1_800_000_000 % 60
    add_polls(redis_client, minutes.OpenMinute("plant-a"), [
        (start + 1, [TagValue("T", 0.1, Quality.GOOD), TagValue("S", True, Quality.GOOD),
                     TagValue("X", "text", Quality.UNCERTAIN), TagValue("N", 7, Quality.GOOD)]),
        (start + 2, [TagValue("T", 0.2, Quality.GOOD), TagValue("S", False, Quality.GOOD),
                     TagValue("X", "more", Quality.GOOD),
                     TagValue("N", float("inf"), Quality.GOOD)]),  # not a finite number
        (start + 3, [TagValue("T", -1e20, Quality.GOOD)]),
    ])
    assert redis_client.hgetall(store.site_minute("plant-a", start)) == {
        "T": f"-1e+20 0.2 {0.1 + 0.2 - 1e20!r} 3 -1e+20 g",
        "S": "0.0 1.0 1.0 2 0.0 g",
        "X": "- - 0.0 0 - u",
        "N": "7.0 7.0 7.0 1 7.0 g",
    }
    assert redis_client.zrange(store.site_minutes("plant-a"), 0, -1) == [str(start)]
    assert 0 < redis_client.ttl(store.site_minute("plant-a", start)) <= store.MINUTE_TTL


def test_a_minute_polled_by_two_processes_in_turn_is_neither_lost_nor_split(redis_client):
    # Two worker processes (two pollers of one site) take turns, and a third starts afresh
    # (a restarted worker): each reads back what the others wrote into the open minute.
    plant, clock = StubPlant(NAMES), Clock()
    first, second = (make_poller(redis_client, plant, clock) for _ in range(2))
    levels = [3.0, 1.0, 8.0, 2.0, 5.0]
    for poller, level in zip([first, first, second, first, second], levels, strict=True):
        plant.values["Tank_Level"] = level
        assert poller.poll().status == "ok"
        clock.advance(10)
    plant.values["Tank_Level"] = 4.0
    assert make_poller(redis_client, plant, clock).poll().status == "ok"  # 10:00:50
    start = int(Clock().now.timestamp())
    found = store_minutes.open_minutes(redis_client, "plant-a", ["Tank_Level"], since=start)
    ((_, values),) = found["Tank_Level"]
    assert (values.minimum, values.maximum, values.last, values.count) == (1.0, 8.0, 4.0, 6)
    assert values.average == pytest.approx(sum(levels, 4.0) / 6)


def test_a_flush_cut_short_and_run_again_adds_nothing_twice(redis_client):
    plant, clock = StubPlant(NAMES), Clock()
    poller = make_poller(redis_client, plant, clock)
    poll_minute(poller, plant, clock, [1.0, 2.0])
    start = int(Clock().now.timestamp())
    raw = redis_client.hgetall(store.site_minute("plant-a", start))
    store_minutes.flush(redis_client, ["plant-a"], now=start + 120)
    assert TagMinute.objects.count() == 3
    # As if the worker was killed after the insert, before Redis was cleared.
    redis_client.hset(store.site_minute("plant-a", start), mapping=raw)
    redis_client.zadd(store.site_minutes("plant-a"), {str(start): start})
    store_minutes.flush(redis_client, ["plant-a"], now=start + 130)
    assert TagMinute.objects.count() == 3
    assert not redis_client.zcard(store.site_minutes("plant-a"))


def test_open_minutes_are_read_for_the_live_edge(redis_client):
    plant, clock = StubPlant(NAMES), Clock()
    poller = make_poller(redis_client, plant, clock)
    poll_minute(poller, plant, clock, [4.0, 6.0])
    start = int(Clock().now.timestamp())
    found = store_minutes.open_minutes(redis_client, "plant-a", ["Tank_Level", "Nope"],
                                       since=start)
    ((minute, values),) = found["Tank_Level"]
    assert minute == start and (values.minimum, values.maximum) == (4.0, 6.0)
    assert found["Nope"] == []


def test_pruning_deletes_only_minutes_beyond_the_retention_in_batches():
    now = datetime(2026, 11, 26, 12, 0, tzinfo=UTC)
    TagMinute.objects.bulk_create(
        TagMinute(site_id="plant-a", tag="T", minute=now - timedelta(days=d, minutes=m),
                  quality="g")
        for d in (1, 29, 31, 40) for m in range(5))
    assert store_minutes.prune(30, now=now, batch=3) == 10
    assert sorted({(now - row.minute).days for row in TagMinute.objects.all()}) == [1, 29]


def test_unreadable_entries_are_skipped_not_fatal(redis_client):
    start = 1_800_000_000 - 1_800_000_000 % 60
    redis_client.hset(store.site_minute("plant-a", start), mapping={"A": "garbage",
                                                                    "B": "1 2 3 1 2 g"})
    redis_client.zadd(store.site_minutes("plant-a"), {str(start): start})
    store_minutes.flush(redis_client, ["plant-a"], now=start + 120)
    assert [row.tag for row in TagMinute.objects.all()] == ["B"]
