"""The live hub on its own: one render per change and variant, bounded queues, staleness
without any message, and a snapshot for everyone after Redis comes back."""

import asyncio
from dataclasses import replace
from datetime import timedelta

import pytest
import redis
from django.test import override_settings

from dashboard import siteconfig
from dashboard.live import RESYNC, LiveHub
from dashboard.live.fanout import Client, FanOut
from dashboard.live.frames import frame_digest, sse_frame
from dashboard.panels.drawing import TIME_STEP_SECONDS
from dashboard.panels.fragments import Fragment, site_reads
from dashboard.panels.renderers import RenderContext, render
from dashboard.panels.state import read_states
from tests.dashboard import livedata
from tests.fixtures.redis_server import start_redis
from wincc_ingest import store

TILE = Fragment("tile", ("oven-unified",), ("Oven_Zone1_Temp",))
VIEW_ALARMS = Fragment("alarms", ("oven-unified", "line-classic"))
OPERATE_ALARMS = Fragment(
    "alarms", ("oven-unified", "line-classic"), ack_sites=frozenset({"oven-unified"})
)


@pytest.fixture
def plant(redis_client, tmp_path, settings):
    livedata.write_config(tmp_path)
    livedata.healthy_plant(redis_client)
    yield redis_client
    settings.WINCC_CONFIG = livedata.ORIGINAL_CONFIG


async def frames_until(client, needle: bytes, timeout: float = 5.0) -> list[bytes]:
    seen = []
    async with asyncio.timeout(timeout):
        while True:
            frame = await client.queue.get()
            seen.append(frame)
            if needle in frame:
                return seen


def test_one_render_per_change_and_variant_shared_bytes(plant, redis_url):
    async def main():
        hub = LiveHub(redis_url)
        viewers = [await hub.connect([TILE, VIEW_ALARMS]) for _ in range(5)]
        operators = [await hub.connect([TILE, OPERATE_ALARMS]) for _ in range(3)]
        for c in viewers + operators:
            hub.snapshot(c)
        before = hub.renders
        livedata.put_alarm(plant, livedata.alarm(name="Oven_Zone2_Temp_H", priority=7))
        livedata.publish(plant, "oven-unified", alarms=True)
        got = [await frames_until(c, b"Oven_Zone2_Temp_H") for c in viewers + operators]
        # two variants of the alarm list, each rendered once, whatever the number of clients
        assert hub.renders - before == 2
        viewer_frames = {g[-1] for g in got[:5]}
        operator_frames = {g[-1] for g in got[5:]}
        assert len(viewer_frames) == 1 and len(operator_frames) == 1
        assert b'data-action="ack"' in operator_frames.pop()
        assert b'data-action="ack"' not in viewer_frames.pop()
        for c in viewers + operators:
            await hub.disconnect(c)
        assert not hub.running  # the last client stopped the subscriber

    asyncio.run(main())


def test_one_render_per_language_shared_by_its_viewers(plant, redis_url):
    german, english = replace(TILE, language="de"), replace(TILE, language="en")
    assert german.name == english.name == TILE.name  # the same place on the page

    async def main():
        hub = LiveHub(redis_url)
        germans = [await hub.connect([german]) for _ in range(2)]
        englishmen = [await hub.connect([english])]
        for c in germans + englishmen:
            hub.snapshot(c)
        before = hub.renders
        livedata.put_value(plant, "oven-unified", "Oven_Zone1_Temp", 190.75)
        livedata.publish(plant, "oven-unified", tags=["Oven_Zone1_Temp"])
        got = [(await frames_until(c, b'data-value="190.75"'))[-1] for c in germans + englishmen]
        assert hub.renders - before == 2  # one render a language, not one a client
        assert got[0] is got[1]  # the German viewers share one frame, the same bytes
        assert got[0] != got[2]
        assert b">190,8<" in got[0] and b">GUT<" in got[0]
        assert b">190.8<" in got[2] and b">GOOD<" in got[2]
        for c in germans + englishmen:
            await hub.disconnect(c)

    asyncio.run(main())


def test_a_tile_with_the_edit_control_is_its_own_variant(plant, redis_url):
    writable = Fragment("tile", ("oven-unified",), ("Oven_Zone1_Temp",), write=True)
    assert writable.name == TILE.name  # the same place on the page

    async def main():
        hub = LiveHub(redis_url)
        viewers = [await hub.connect([TILE]) for _ in range(3)]
        writers = [await hub.connect([writable]) for _ in range(2)]
        for c in viewers + writers:
            hub.snapshot(c)
        before = hub.renders
        livedata.put_value(plant, "oven-unified", "Oven_Zone1_Temp", 171.5)
        livedata.publish(plant, "oven-unified", tags=["Oven_Zone1_Temp"])
        got = [await frames_until(c, b"171.5") for c in viewers + writers]
        assert hub.renders - before == 2
        assert all(b'data-action="write"' not in g[-1] for g in got[:3])
        assert all(b'data-action="write"' in g[-1] for g in got[3:])
        assert b"tag=Oven_Zone1_Temp" in got[3][-1]
        for c in viewers + writers:
            await hub.disconnect(c)

    asyncio.run(main())


def test_a_client_that_falls_behind_gets_a_snapshot_not_a_backlog(plant, redis_url):
    async def main():
        with override_settings(LIVE_TICK_SECONDS=60):
            hub = LiveHub(redis_url)
            hub.queue_size = 3
            slow = await hub.connect([TILE])
            for value in range(10):
                livedata.put_value(plant, "oven-unified", "Oven_Zone1_Temp", 150.0 + value)
                livedata.publish(plant, "oven-unified", tags=["Oven_Zone1_Temp"])
                # the hub reads the latest value: give it each one (the client reads none)
                rendered = hub.renders
                async with asyncio.timeout(5):
                    while hub.renders == rendered:
                        await asyncio.sleep(0.01)
            async with asyncio.timeout(5):
                while not slow.resync:
                    await asyncio.sleep(0.02)
            assert slow.queue.qsize() <= 3
            assert RESYNC in [slow.queue.get_nowait() for _ in range(slow.queue.qsize())]
            await asyncio.sleep(0.3)  # let the remaining messages arrive
            assert b"159.0" in b"".join(hub.snapshot(slow))
            await hub.disconnect(slow)

    asyncio.run(main())


def test_tiles_turn_stale_without_any_message(plant, redis_url):
    async def main():
        with override_settings(LIVE_TICK_SECONDS=0.1):
            hub = LiveHub(redis_url)
            client = await hub.connect([TILE, Fragment("status", ("oven-unified",))])
            assert b'data-stale="false"' in b"".join(hub.snapshot(client))
            # the poller stopped 5 s ago: nothing is published, the hub notices by itself
            livedata.put_health(plant, "oven-unified", age=5.0)
            frames = await frames_until(client, b'data-stale="true"')
            assert any(b"is STALE: no successful poll" in f for f in frames) or (
                b"is STALE" in (await frames_until(client, b"is STALE"))[-1]
            )
            await hub.disconnect(client)

    asyncio.run(main())


def test_a_tile_follows_its_sites_reason_and_the_counts_a_lost_alarm_list(plant, redis_url):
    async def main():
        hub = LiveHub(redis_url)
        counts = Fragment("counts", ("oven-unified",))
        client = await hub.connect([TILE, counts])
        assert b'data-stale="false"' in b"".join(hub.snapshot(client))
        livedata.put_health(plant, "oven-unified", ok=False, reason="login refused",
                            error="login refused for user reader")
        livedata.publish(plant, "oven-unified", health=True)
        await frames_until(client, "STALE · login refused<".encode())
        livedata.put_health(plant, "oven-unified", ok=False, reason="certificate not trusted",
                            error="certificate of https://127.0.0.1:1 is not trusted")
        livedata.publish(plant, "oven-unified", health=True)
        await frames_until(client, "STALE · certificate not trusted<".encode())
        # The poller found no alarm list: it says so with the alarms and the health.
        plant.delete(store.site_alarms("oven-unified"))
        livedata.put_health(plant, "oven-unified", alarm_list="missing")
        livedata.publish(plant, "oven-unified", alarms=True, health=True)
        frames = await frames_until(client, b"this server publishes no alarm list")
        assert b"data-count-band" not in frames[-1]
        await hub.disconnect(client)

    asyncio.run(main())


@pytest.mark.process
def test_everyone_gets_a_snapshot_after_redis_returns(tmp_path, settings):
    server = start_redis()
    try:
        livedata.write_config(tmp_path)
        r = redis.Redis.from_url(server.url, decode_responses=True)
        livedata.healthy_plant(r)

        async def main():
            with override_settings(LIVE_TICK_SECONDS=0.1):
                hub = LiveHub(server.url)
                client = await hub.connect([TILE, Fragment("status", ("oven-unified",))])
                hub.snapshot(client)
                r.client_kill_filter(_type="pubsub")
                r.client_kill_filter(_type="normal", skipme=True)
                # what changed while the subscriber was away arrives through the snapshot
                livedata.put_value(r, "oven-unified", "Oven_Zone1_Temp", 111.0)
                async with asyncio.timeout(10):
                    while True:
                        frame = await client.queue.get()
                        if frame == RESYNC:
                            break
                client.resync = False
                assert b"111.0" in b"".join(hub.snapshot(client))
                await hub.disconnect(client)

        asyncio.run(main())
        r.close()
    finally:
        server.stop()
        settings.WINCC_CONFIG = livedata.ORIGINAL_CONFIG


def test_a_stream_opening_while_the_last_one_leaves_still_gets_changes(plant, redis_url):
    async def main():
        hub = LiveHub(redis_url)
        first = await hub.connect([TILE])
        second, _ = await asyncio.gather(hub.connect([TILE]), hub.disconnect(first))
        assert hub.running  # the subscriber runs for the stream that stayed
        hub.snapshot(second)
        livedata.put_value(plant, "oven-unified", "Oven_Zone1_Temp", 171.5)
        livedata.publish(plant, "oven-unified", tags=["Oven_Zone1_Temp"])
        assert await frames_until(second, b"171.5")
        await hub.disconnect(second)

    asyncio.run(main())


def test_a_tile_the_page_drew_a_moment_before_is_left_out_of_the_first_snapshot(plant):
    # The page draws its tiles, then its stream opens a moment later: with the same state
    # and the drawing's time axis on the same step, the hub's frame is the page's, byte for
    # byte, and the first snapshot leaves it out (its sparkline held up to now included).
    config = siteconfig.get_config()
    now = livedata.now()
    plant.delete(store.site_trend("oven-unified", "Oven_Zone1_Temp"))
    for ago, value in ((60, 180.0), (30, 182.5)):
        livedata.put_value(plant, "oven-unified", "Oven_Zone1_Temp", value,
                           read_at=now - timedelta(seconds=ago))
    step = now - timedelta(seconds=now.timestamp() % TIME_STEP_SECONDS)
    page_at, hub_at = step + timedelta(seconds=0.2), step + timedelta(seconds=2.5)
    states = read_states(plant, config, site_reads([TILE]), page_at)
    page = sse_frame(TILE.name, render(TILE, RenderContext(config, states, page_at)))
    assert b'data-stale="false"' in page and b"<path" in page

    fanout = FanOut()
    client = Client([TILE], 10)
    fanout.watch(client)
    hub = RenderContext(config, states, hub_at)
    assert b"".join(fanout.snapshot(client, hub, [frame_digest(page)])) == b""
    assert b"".join(fanout.snapshot(client, hub, [""])) == page  # a reconnect: everything


def test_clients_watching_equal_fragments_share_one_object_until_the_last_leaves():
    # Each stream's page makes its own Fragment objects; thousands of streams of one
    # dashboard hold one of each, not one per stream.
    fanout = FanOut()
    first = Client([Fragment("tile", ("oven-unified",), ("Oven_Zone1_Temp",))], 10)
    second = Client([Fragment("tile", ("oven-unified",), ("Oven_Zone1_Temp",))], 10)
    assert first.fragments[0] is not second.fragments[0]
    fanout.watch(first)
    fanout.watch(second)
    assert second.fragments[0] is first.fragments[0]
    # a variant (the edit control) is a fragment of its own
    writer = Client([Fragment("tile", ("oven-unified",), ("Oven_Zone1_Temp",), write=True)], 10)
    fanout.watch(writer)
    assert writer.fragments[0] is not first.fragments[0]
    fanout.forget(first)
    fanout.forget(second)
    fanout.forget(writer)
    assert fanout._same == {} and fanout.watchers == {}
