import asyncio
import gzip
import html
import re
import zlib

import pytest
from asgiref.sync import sync_to_async
from django.core.cache import cache
from django.urls import resolve

from dashboard.live import get_hub
from dashboard.live.admission import Admission, Overloaded
from dashboard.live.gzipped import GzipStream, shared
from tests.dashboard.livedata import (
    PlantTestCase,
    alarm,
    first_stream_chunk,
    healthy_plant,
    publish,
    put_alarm,
    put_value,
)


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

    async def test_a_sent_chunk_is_followed_by_an_empty_one_that_releases_it(self):
        # Django's response loop holds the chunk it sent last until the next: the empty
        # one (nothing on the wire) lets a stream's joined frames go at once.
        healthy_plant(self.redis)
        await self.async_client.aforce_login(self.viewer)
        response = await self.async_client.get("/live/stream/dashboard/overview/")
        chunks = aiter(response.streaming_content)
        try:
            assert b"event: pulse" in await anext(chunks)
            assert await anext(chunks) == b""
            put_value(self.redis, "oven-unified", "Oven_Zone1_Temp", 206.5)
            publish(self.redis, "oven-unified", tags=["Oven_Zone1_Temp"])
            async with asyncio.timeout(5):
                change = await anext(chunks)
            assert b"206.5" in change
            assert await anext(chunks) == b""
        finally:
            await chunks.aclose()

    def test_a_streams_address_is_the_first_url_pattern_tried(self):
        # A stream's request, and the patterns tried before its own, live as long as it.
        assert len(resolve("/live/stream/dashboard/overview/").tried) <= 2
        assert len(resolve("/live/stream/sites/").tried) <= 2
        assert len(resolve("/alarms/").tried) > 10  # what a stream would hold otherwise

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

    async def test_each_stream_gets_its_own_reconnect_delay_within_the_jitter(self):
        """Streams a restart drops come back spread out, not in the same instant."""
        healthy_plant(self.redis)
        await self.async_client.aforce_login(self.viewer)
        delays = []
        with self.settings(LIVE_RETRY_MS=2000, LIVE_RETRY_JITTER_MS=3000):
            for _ in range(6):
                response = await self.async_client.get("/live/stream/sites/")
                chunks = aiter(response.streaming_content)
                try:
                    first = await anext(chunks)
                finally:
                    await chunks.aclose()
                delays.append(int(re.match(rb"retry: (\d+)\n\n", first).group(1)))
        assert all(2000 <= d <= 5000 for d in delays), delays
        assert len(set(delays)) > 1, delays

    async def test_a_storm_past_the_admission_bound_gets_503_with_retry_after(self):
        healthy_plant(self.redis)
        await self.async_client.aforce_login(self.viewer)
        hub = get_hub()
        bound, hub.admission.max_waiting = hub.admission.max_waiting, 0  # a full waiting room
        try:
            with self.settings(LIVE_RETRY_MS=2000, LIVE_RETRY_JITTER_MS=3000):
                response = await self.async_client.get("/live/stream/sites/")
        finally:
            hub.admission.max_waiting = bound
        assert response.status_code == 503
        assert 2 <= int(response["Retry-After"]) <= 5
        assert response["Content-Type"].startswith("text/plain")
        assert b"reconnects by itself" in response.content
        assert hub.admission.refused == 1

    async def test_a_viewers_rights_serve_their_streams_for_a_while(self):
        """One permission read for a storm of one viewer's streams; a change of rights
        applies to new streams after LIVE_RIGHTS_SECONDS."""
        healthy_plant(self.redis)
        await self.async_client.aforce_login(self.viewer)
        await sync_to_async(cache.clear)()
        with self.settings(LIVE_RIGHTS_SECONDS=60):
            response = await self.async_client.get("/live/stream/sites/")
            assert response.status_code == 200
            await response.streaming_content.aclose()
            await sync_to_async(self.viewer.groups.clear)()
            response = await self.async_client.get("/live/stream/sites/")
            assert response.status_code == 200  # the rights read a moment ago
            await response.streaming_content.aclose()
            await sync_to_async(cache.clear)()  # as when LIVE_RIGHTS_SECONDS have passed
            response = await self.async_client.get("/live/stream/sites/")
            assert response.status_code == 403

    def test_the_asgi_app_serves_a_stream_without_a_thread_of_its_own(self):
        """The production entry point: a live stream's sync steps run on the shared thread."""
        asyncio.run(_asgi_refusal())


def test_admission_lets_a_few_set_up_at_once_and_refuses_past_the_bound():
    asyncio.run(_admission_storm())


async def _admission_storm() -> None:
    admission = Admission(concurrency=1, max_waiting=1)
    order = []

    async def setup(name: str, hold: asyncio.Event | None = None) -> None:
        async with admission.slot():
            order.append(name)
            if hold is not None:
                await hold.wait()

    release = asyncio.Event()
    first = asyncio.create_task(setup("first", release))
    await asyncio.sleep(0)
    second = asyncio.create_task(setup("second"))
    await asyncio.sleep(0)
    assert order == ["first"] and admission.waiting == 1
    with pytest.raises(Overloaded):
        async with admission.slot():
            raise AssertionError("a third stream was admitted past the bound")
    release.set()
    await asyncio.gather(first, second)
    assert order == ["first", "second"] and admission.refused == 1 and admission.waiting == 0


async def _asgi_refusal() -> None:
    import threading
    from unittest import mock

    from asgiref.sync import SyncToAsync
    from asgiref.testing import ApplicationCommunicator

    from dashboard.live.asgi import DashboardASGIHandler
    from dashboard.views import stream

    application = DashboardASGIHandler()
    scope = {
        "type": "http", "asgi": {"version": "3.0"}, "http_version": "1.1", "method": "GET",
        "scheme": "http", "path": "/live/stream/sites/", "raw_path": b"/live/stream/sites/",
        "query_string": b"", "headers": [(b"host", b"127.0.0.1")],
        "client": ("127.0.0.1", 50000), "server": ("127.0.0.1", 8000),
    }
    ran_on = []
    real = stream.live_layout

    def spy(*args):
        ran_on.append(threading.current_thread())
        return real(*args)

    with mock.patch.object(stream, "live_layout", spy):
        communicator = ApplicationCommunicator(application, scope)
        await communicator.send_input({"type": "http.request", "body": b""})
        start = await communicator.receive_output(10)
        body = await communicator.receive_output(10)
        await communicator.wait(10)
    # Signed out: refused by the rights check, which ran on asgiref's one shared thread
    # (Django's own handler would have started a thread for this request).
    assert start["type"] == "http.response.start" and start["status"] == 403
    assert body["body"] == b"You may not watch this page."
    assert len(ran_on) == 1
    assert ran_on[0] in SyncToAsync.single_thread_executor._threads


FRAGMENT_EVENT = re.compile(rb"^event: (?!pulse$|snapshot$)(\S+)$", re.MULTILINE)


class FirstSnapshotTestCase(PlantTestCase):
    """A freshly loaded page names the frames it shows (`?seen=`); its stream's first
    snapshot leaves those out, and any reconnect gets everything."""

    async def stream_url_of(self, path: str) -> str:
        page = await self.async_client.get(path)
        assert page.status_code == 200
        url = re.search(r'sse-connect="([^"]+)"', page.content.decode()).group(1)
        return html.unescape(url)

    async def first_chunk(self, url: str, **headers) -> bytes:
        return await first_stream_chunk(self.async_client, url, **headers)

    async def test_unchanged_fragments_are_left_out_a_change_is_sent(self):
        healthy_plant(self.redis)
        await self.async_client.aforce_login(self.viewer)
        for path in ("/alarms/", "/sites/", "/"):
            url = await self.stream_url_of(path)
            assert "seen=" in url
            first = await self.first_chunk(url)
            sent = FRAGMENT_EVENT.findall(first)
            # A tile's sparkline moves on a step of its time axis (TIME_STEP_SECONDS): one
            # that moved on between the page and its stream is sent; all else is left out.
            assert all(name.startswith(b"tile-") for name in sent), (path, sent)
            assert b"event: pulse" in first  # the pulses as always
            assert first.index(b"id: snapshot\n") < first.index(b"event: pulse")
            full = await self.first_chunk(url, last_event_id="snapshot")
            assert len(FRAGMENT_EVENT.findall(full)) == len(url.split("seen=")[1]) // 8 > len(sent)
        # An alarm that came between the page and its stream: what shows it is sent.
        url = await self.stream_url_of("/alarms/")
        put_alarm(self.redis, alarm(name="Oven_Zone2_Temp_HH"))
        publish(self.redis, "oven-unified", alarms=True)  # to a hub still running, if one is
        response = await self.async_client.get(url)
        chunks = aiter(response.streaming_content)
        try:
            await next_chunk_with(chunks, b'data-alarm="oven-unified:Oven_Zone2_Temp_HH:1"')
        finally:
            await chunks.aclose()

    async def test_a_reconnect_gets_the_full_snapshot(self):
        healthy_plant(self.redis)
        await self.async_client.aforce_login(self.viewer)
        url = await self.stream_url_of("/")
        first = await self.first_chunk(url, last_event_id="snapshot")
        assert b'data-tag="oven-unified:Oven_Zone1_Temp"' in first
        assert b'data-tag="line-classic:Conveyor_Speed"' in first

    async def test_a_bad_seen_means_everything_never_an_error(self):
        healthy_plant(self.redis)
        await self.async_client.aforce_login(self.viewer)
        url = await self.stream_url_of("/")
        digests = url.split("seen=")[1].split("&")[0]
        base = url.split("?")[0]
        for seen in ("!!!!!!!!", "abc", "A" * 8 * 300, digests[8:], digests + "AAAAAAAA", ""):
            first = await self.first_chunk(f"{base}?seen={seen}")
            assert b'data-tag="line-classic:Conveyor_Speed"' in first, seen[:20]

    async def test_the_poll_url_names_nothing_seen(self):
        healthy_plant(self.redis)
        await self.async_client.aforce_login(self.viewer)
        page = (await self.async_client.get("/?transport=poll")).content.decode()
        assert "seen=" not in page
        assert 'hx-get="/live/poll/overview/"' in page


class GzipStreamTestCase(PlantTestCase):
    """A browser that takes gzip gets the stream compressed, each frame decodable as it
    comes, with a trailer that checks out when the stream ends (dashboard/live/gzipped.py)."""

    async def open(self, path: str = "/live/stream/dashboard/overview/", **headers):
        await self.async_client.aforce_login(self.viewer)
        response = await self.async_client.get(path, headers=headers)
        assert response.status_code == 200
        return response

    async def test_a_change_arrives_compressed_and_decodable_on_its_own(self):
        healthy_plant(self.redis)
        response = await self.open(accept_encoding="gzip, deflate, br, zstd")
        assert response["Content-Encoding"] == "gzip"
        assert "Accept-Encoding" in response["Vary"]
        decoder = zlib.decompressobj(wbits=31)
        chunks = aiter(response.streaming_content)
        try:
            first = await anext(chunks)
            snapshot = decoder.decompress(first)
            assert snapshot.startswith(b"retry: ")
            assert b'data-tag="line-classic:Conveyor_Speed"' in snapshot
            assert len(first) < len(snapshot) / 2  # each frame alone still halves or better
            put_value(self.redis, "oven-unified", "Oven_Zone1_Temp", 207.75)
            publish(self.redis, "oven-unified", tags=["Oven_Zone1_Temp"])
            async with asyncio.timeout(5):
                while not (chunk := await anext(chunks)):
                    pass
            # Flushed to the byte: the change decodes from its own chunk, nothing held back.
            change = decoder.decompress(chunk)
            assert b"207.7" in change
            assert change.endswith(b"\n\n")
        finally:
            await chunks.aclose()

    async def test_a_stream_that_ends_is_a_whole_gzip_file(self):
        healthy_plant(self.redis)
        with self.settings(LIVE_STREAM_MAX_SECONDS=0.5, LIVE_KEEPALIVE_SECONDS=0.1):
            response = await self.open("/live/stream/sites/", accept_encoding="gzip")
            body = b"".join([chunk async for chunk in response.streaming_content])
        # gzip checks the CRC-32 and the length in the trailer.
        text = gzip.decompress(body)
        assert text.startswith(b"retry: ")
        assert b"event: keepalive" in text

    async def test_without_gzip_in_accept_encoding_the_stream_is_plain(self):
        healthy_plant(self.redis)
        for headers in ({}, {"accept_encoding": "identity"}, {"accept_encoding": "br"}):
            response = await self.open(**headers)
            assert not response.has_header("Content-Encoding"), headers
            chunks = aiter(response.streaming_content)
            try:
                assert (await anext(chunks)).startswith(b"retry: ")
            finally:
                await chunks.aclose()


def test_frames_are_deflated_once_for_every_stream_that_sends_them():
    frame = b"event: tile-x\ndata: <div>" + b"42.0 " * 200 + b"</div>\n\n"
    streams = [GzipStream() for _ in range(3)]
    before = shared.cache_info()
    bodies = [s.encode([frame], own=[b"retry: 2000\n\n"]) + s.encode([frame]) + s.end()
              for s in streams]
    after = shared.cache_info()
    assert after.misses - before.misses <= 1
    assert after.hits - before.hits >= 5
    for body in bodies:
        assert gzip.decompress(body) == b"retry: 2000\n\n" + frame + frame
    # A stream that ends before it sent anything is still a valid (empty) gzip file.
    assert gzip.decompress(GzipStream().end()) == b""
