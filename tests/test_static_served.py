"""Static files and compression as production serves them (docs/operations.md, "Static files
and compression"): the web under production settings after collectstatic, over real HTTP. Pages
name static files by their content's hash; those are immutable for years and gzip-compressed;
pages are compressed and never stored; the live stream is never compressed and its frames
arrive as they are written."""

from __future__ import annotations

import re
import time
import zlib

import httpx
import pytest

from tests.fixtures.live_server import LIVE_PASSWORD, start_live_server, unpolled_plant
from tests.harness.web import gunicorn_argv

HASHED = re.compile(r"\.[0-9a-f]{12}\.(?:js|css)$")
STATIC = re.compile(r'(?:src|href|data-uplot)="(/static/[^"]+)"')
KEEPALIVE_SECONDS = 1
pytestmark = [pytest.mark.process, pytest.mark.timeout(180)]


@pytest.fixture(scope="module")
def web(tmp_path_factory, redis_url):
    folder = tmp_path_factory.mktemp("static-served")
    server = start_live_server(
        folder / "web", redis_url=redis_url, wincc_config=unpolled_plant(folder),
        argv=lambda port: gunicorn_argv(port, workers=1),
        env={"DJANGO_SETTINGS_MODULE": "dashboard.settings", "WDASH_DEMO": "0",
             "DJANGO_SECRET_KEY": "test-only-" + "k" * 40, "ALLOWED_HOSTS": "127.0.0.1",
             "SECURE_COOKIES": "0", "LINE_TOKEN": "unused",
             "LIVE_KEEPALIVE_SECONDS": str(KEEPALIVE_SECONDS)},
    )
    yield server
    server.stop()


@pytest.fixture()
def signed_in(web):
    with httpx.Client(base_url=web.url, timeout=10) as client:
        login = client.get("/accounts/login/")
        token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', login.text).group(1)
        answer = client.post("/accounts/login/", follow_redirects=True, data={
            "csrfmiddlewaretoken": token, "username": "viewer", "password": LIVE_PASSWORD})
        assert answer.url.path == "/", answer.text[:500]
        yield client


def directives(response: httpx.Response) -> set[str]:
    return {d.strip() for d in response.headers.get("cache-control", "").split(",")}


def test_pages_name_hashed_files_that_are_immutable_and_compressed(signed_in):
    page = signed_in.get("/", headers={"accept-encoding": "gzip"})
    assert page.headers["content-encoding"] == "gzip"
    assert {"private", "no-store"} <= directives(page)
    names = sorted(set(STATIC.findall(page.text)))
    assert any(n.endswith(".js") for n in names) and any(n.endswith(".css") for n in names)
    for name in names:
        assert HASHED.search(name), name
        response = signed_in.get(name, headers={"accept-encoding": "gzip"})
        assert response.status_code == 200, name
        assert "immutable" in directives(response), name
        max_age = re.search(r"max-age=(\d+)", response.headers["cache-control"]).group(1)
        assert int(max_age) >= 365 * 86400, name
        assert response.headers["content-encoding"] == "gzip", name
        assert "private" not in directives(response), name  # any cache may keep them


def test_a_name_without_its_hash_is_served_but_not_immutable(web):
    response = httpx.get(f"{web.url}/static/dashboard/live.js", timeout=10)
    assert response.status_code == 200
    assert "immutable" not in directives(response)
    assert "htmx:sseOpen" in response.text


def test_the_live_stream_is_compressed_and_prompt_through_the_web(signed_in):
    """Asked for gzip, the stream comes compressed, and still the snapshot at once, then a
    keepalive every KEEPALIVE_SECONDS, each decodable as it is written: nothing waits in a
    compressor (dashboard/live/gzipped.py)."""
    headers = {"accept-encoding": "gzip, deflate, br"}
    decoder = zlib.decompressobj(wbits=31)
    with signed_in.stream("GET", "/live/stream/overview/", headers=headers) as stream:
        opened = time.monotonic()
        assert stream.status_code == 200
        assert stream.headers["content-type"].startswith("text/event-stream")
        assert stream.headers["content-encoding"] == "gzip"
        arrivals = []
        for chunk in stream.iter_raw():
            arrivals.append((time.monotonic() - opened, decoder.decompress(chunk)))
            if sum(b": keepalive" in c for _, c in arrivals) >= 2:
                break
    first_at, first = arrivals[0]
    assert first.startswith(b"retry: ") and first_at < 2.0
    keepalives = [at for at, text in arrivals if b": keepalive" in text]
    # Each within its interval (and a margin), not after a compressor's buffer filled.
    assert keepalives[0] < KEEPALIVE_SECONDS + 2.0
    assert keepalives[1] - keepalives[0] < KEEPALIVE_SECONDS + 2.0
