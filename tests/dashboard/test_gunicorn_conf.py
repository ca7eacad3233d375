"""The dashboard as production serves it (gunicorn + uvicorn workers, dashboard/gunicorn_conf.py):
whose X-Forwarded-For is believed, by the access log, the audit and the lock-out alike, and
no wall-screen token in the access log."""

from __future__ import annotations

import functools
import re
from pathlib import Path

import httpx
import pytest

from tests.fixtures.live_server import LIVE_PASSWORD, start_live_server, unpolled_plant
from tests.harness.processes import wait_until
from tests.harness.web import WebServer, gunicorn_argv

CLAIMED = "203.0.113.9"
ACCESS_LINE = re.compile(r'^(\S+):\d+ - "(\S+) (\S+) HTTP/[\d.]+" (\d+)', re.M)

pytestmark = pytest.mark.process


def serve(tmp_path: Path, redis_url: str, **env: str) -> WebServer:
    """One gunicorn worker; a plant of one site that nobody polls (no request here needs it)."""
    return start_live_server(tmp_path, redis_url=redis_url, wincc_config=unpolled_plant(tmp_path),
                             env={"LINE_TOKEN": "unused", **env},
                             argv=functools.partial(gunicorn_argv, workers=1))


def access_lines(server: WebServer, path_start: str) -> list[tuple[str, str, str, str]]:
    return [m for m in ACCESS_LINE.findall(server.log_path.read_text(errors="replace"))
            if m[2].startswith(path_start)]


def query(server: WebServer, script: str) -> str:
    return server.manage("shell", "-c", script).strip().splitlines()[-1]


def sign_in(client: httpx.Client, username: str, password: str, **headers: str) -> httpx.Response:
    client.get("/accounts/login/", headers=headers)
    return client.post("/accounts/login/", headers=headers, data={
        "username": username, "password": password,
        "csrfmiddlewaretoken": client.cookies["csrftoken"],
    })


def visit(server: WebServer) -> None:
    """A failed sign-in, a sign-in, and a refused acknowledgement (an audit row), each
    claiming to come from CLAIMED."""
    forged = {"X-Forwarded-For": CLAIMED}
    with httpx.Client(base_url=server.url, timeout=10) as client:
        assert sign_in(client, "admin", "wrong", **forged).status_code == 200
        assert sign_in(client, "viewer", LIVE_PASSWORD, **forged).status_code == 302
        response = client.post("/alarms/ack/", headers={
            **forged, "X-CSRFToken": client.cookies["csrftoken"],
        }, data={"site": "line", "name": "x", "instance": "1", "state": "unacknowledged"})
        assert response.status_code == 403


def recorded(server: WebServer) -> dict[str, str]:
    """The address each part of the product recorded for those requests."""
    wait_until(lambda: access_lines(server, "/alarms/ack/"), timeout=10)
    return {
        "access log": access_lines(server, "/alarms/ack/")[-1][0],
        "audit": query(server, "from dashboard.models import AuditEntry; "
                               "print(AuditEntry.objects.get().remote_addr)"),
        "lock-out": query(server, "from axes.models import AccessAttempt; "
                                  "print(AccessAttempt.objects.get().ip_address)"),
    }


def test_forwarded_for_from_an_unconfigured_peer_is_ignored_everywhere(tmp_path, redis_url):
    server = serve(tmp_path, redis_url)
    try:
        visit(server)
        assert recorded(server) == dict.fromkeys(["access log", "audit", "lock-out"],
                                                 "127.0.0.1")
    finally:
        server.stop()


def test_forwarded_for_from_a_configured_proxy_names_the_client_everywhere(tmp_path, redis_url):
    server = serve(tmp_path, redis_url, TRUSTED_PROXIES="127.0.0.1")
    try:
        visit(server)
        assert recorded(server) == dict.fromkeys(["access log", "audit", "lock-out"], CLAIMED)
    finally:
        server.stop()


def test_the_wall_screen_token_never_reaches_the_access_log(tmp_path, redis_url):
    server = serve(tmp_path, redis_url)
    try:
        token = query(server, "from dashboard.models import WallScreen; "
                              "print(WallScreen.issue(name='Hall', dashboard_id='hall')[1])")
        with httpx.Client(base_url=server.url, timeout=10) as client:
            # exchanged on first use: a session, and an address without the token
            first = client.get(f"/wall/hall/?rotate=30&token={token}")
            assert first.status_code == 302
            assert first.headers["Location"] == "/wall/hall/?rotate=30"
            assert client.get(first.headers["Location"]).status_code == 200
            # spelled another way, Django still reads the name as "token"
            assert client.get(f"/wall/hall/?to%6Ben={token}").status_code == 302
        lines = wait_until(lambda: len(access_lines(server, "/wall/")) == 3
                           and access_lines(server, "/wall/"), timeout=10)
        assert [line[2] for line in lines] == [
            "/wall/hall/?rotate=30&token=[removed]",
            "/wall/hall/?rotate=30",
            "/wall/hall/?to%6Ben=[removed]",
        ]
        assert token not in server.log_path.read_text(errors="replace")
    finally:
        server.stop()


def test_a_worker_collects_cycles_less_often_and_leaves_its_start_alone():
    """Large trend answers build hundreds of thousands of objects: the worker's collector
    runs less often and no longer walks what was loaded at start (gunicorn_conf.tune_gc)."""
    import gc

    from dashboard import gunicorn_conf

    before = gc.get_threshold()
    try:
        gunicorn_conf.tune_gc()
        assert gc.get_threshold() == gunicorn_conf.GC_THRESHOLD
        assert gc.get_threshold()[0] > before[0]
        assert gc.get_freeze_count() > 0
    finally:
        gc.unfreeze()
        gc.set_threshold(*before)
