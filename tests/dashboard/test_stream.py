import asyncio

from tests.dashboard.livedata import PlantTestCase, healthy_plant, publish, put_value


async def next_chunk_with(chunks, needle: bytes, timeout: float = 5.0) -> bytes:
    """The first chunk of the stream that holds `needle`."""
    async with asyncio.timeout(timeout):
        async for chunk in chunks:
            if needle in chunk:
                return chunk
    raise AssertionError(f"the stream ended without {needle!r}")


class StreamTestCase(PlantTestCase):
    async def test_snapshot_first_then_only_what_changed(self):
        healthy_plant(self.redis)
        await self.async_client.aforce_login(self.viewer)
        response = await self.async_client.get("/live/stream/dashboard/overview/")
        assert response.status_code == 200
        assert response["Content-Type"].startswith("text/event-stream")
        assert response["Cache-Control"] == "no-cache, private, no-store"
        assert response["X-Accel-Buffering"] == "no"
        chunks = aiter(response.streaming_content)
        try:
            snapshot = await anext(chunks)
            assert snapshot.startswith(b"retry: ")
            assert b'data-tag="oven-unified:Oven_Zone1_Temp"' in snapshot
            assert b'data-tag="line-classic:Conveyor_Speed"' in snapshot
            assert b"event: pulse" in snapshot
            put_value(self.redis, "oven-unified", "Oven_Zone1_Temp", 205.25)
            publish(self.redis, "oven-unified", tags=["Oven_Zone1_Temp"])
            change = await next_chunk_with(chunks, b"205.2")
            # the tile and the trend of that tag, not the other tiles
            assert b'data-tag="oven-unified:Oven_Zone1_Temp"' in change
            assert b'data-limit="h"' in change
            assert b"Conveyor_Speed" not in change
        finally:
            await chunks.aclose()

    async def test_keepalive_while_nothing_happens(self):
        healthy_plant(self.redis)
        await self.async_client.aforce_login(self.viewer)
        with self.settings(LIVE_KEEPALIVE_SECONDS=0.2):
            response = await self.async_client.get("/live/stream/sites/")
            chunks = aiter(response.streaming_content)
            try:
                await anext(chunks)
                chunk = await next_chunk_with(chunks, b": keepalive")
                assert b"event: keepalive" in chunk
            finally:
                await chunks.aclose()

    async def test_viewer_rows_have_no_button_operator_rows_do(self):
        healthy_plant(self.redis)
        streams = {}
        for user in (self.viewer, self.operator):
            await self.async_client.aforce_login(user)
            response = await self.async_client.get("/live/stream/alarms/")
            chunks = aiter(response.streaming_content)
            streams[user.username] = (await anext(chunks), chunks)
        try:
            viewer_snapshot, _ = streams["viewer"]
            operator_snapshot, _ = streams["operator"]
            assert b'data-alarm="oven-unified:Oven_Zone1_Temp_HH:1"' in viewer_snapshot
            assert b'data-action="ack"' not in viewer_snapshot
            assert b'data-action="ack"' in operator_snapshot
        finally:
            for _, chunks in streams.values():
                await chunks.aclose()

    async def test_refused_without_view_permission(self):
        await self.async_client.aforce_login(self.outsider)
        response = await self.async_client.get("/live/stream/overview/")
        assert response.status_code == 403

    async def test_refused_when_signed_out(self):
        response = await self.async_client.get("/live/stream/overview/")
        assert response.status_code == 403

    async def test_unknown_page_or_dashboard_is_404(self):
        await self.async_client.aforce_login(self.viewer)
        assert (await self.async_client.get("/live/stream/nothing/")).status_code == 404
        assert (await self.async_client.get("/live/stream/dashboard/nope/")).status_code == 404

    async def test_bad_filter_is_a_clear_400(self):
        await self.async_client.aforce_login(self.viewer)
        response = await self.async_client.get("/live/stream/alarms/?priority=urgent")
        assert response.status_code == 400
        assert b"There is no priority 'urgent'" in response.content
