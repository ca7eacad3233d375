"""P7's byte count (bench/p7_light_pages.py): what DevTools reports for a tab, summed as the
benchmark documents it. The events are DevTools' own shapes; the browser run is the benchmark."""

from __future__ import annotations

from bench.p7_light_pages import Traffic


class Session:
    """Stands in for Playwright's CDP session: keeps the handlers, replays events."""

    def __init__(self) -> None:
        self.handlers: dict[str, object] = {}

    def on(self, name, handler) -> None:
        self.handlers[name] = handler

    def emit(self, name: str, **event) -> None:
        self.handlers[name](event)


def response(session: Session, request_id: str, url: str, kind: str, headers: int, **extra):
    session.emit("Network.responseReceived", requestId=request_id, type=kind, response={
        "url": url, "status": 200, "encodedDataLength": headers, "headers": extra})


def test_finished_requests_count_their_total_and_cached_ones_nothing():
    session = Session()
    traffic = Traffic(session)
    response(session, "1", "http://h/", "Document", 300, **{"Content-Encoding": "gzip"})
    session.emit("Network.dataReceived", requestId="1", timestamp=1.0, encodedDataLength=0)
    session.emit("Network.loadingFinished", requestId="1", encodedDataLength=5300)
    response(session, "2", "http://h/static/a.1234567890ab.js", "Script", 0)
    session.emit("Network.requestServedFromCache", requestId="2")
    session.emit("Network.loadingFinished", requestId="2", encodedDataLength=0)
    rows = {r["path"]: r for r in traffic.rows()}
    assert rows["/"]["to_live"] == 5300 and rows["/"]["encoding"] == "gzip"
    assert rows["/static/a.1234567890ab.js"]["to_live"] == 0
    assert rows["/static/a.1234567890ab.js"]["cache"] == "memory"


def test_the_live_stream_counts_its_headers_and_snapshot_and_its_whole_bytes_beside():
    session = Session()
    traffic = Traffic(session)
    response(session, "s", "http://h/live/stream/overview/", "EventSource", 500)
    session.emit("Network.dataReceived", requestId="s", timestamp=10.0, encodedDataLength=3000)
    session.emit("Network.dataReceived", requestId="s", timestamp=11.0, encodedDataLength=700)
    (row,) = traffic.rows(snapshot=2900)
    assert row["to_live"] == 500 + 2900  # the snapshot, not the frames after it
    assert row["bytes"] == 500 + 3000 + 700  # still open: headers and data so far
