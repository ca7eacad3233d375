"""A small real HTTP(S) server for the bridge's tests, scripted per test.

The simulator speaks each dialect the way we chose; this server answers whatever a test
scripts, so the client meets what other WinCC servers might send over a real socket,
real TLS and real timeouts.
"""

from __future__ import annotations

import json
import ssl
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes

from tests.fixtures.certificates import Certificate, self_signed


@dataclass
class Reply:
    status: int = 200
    body: Any = None  # bytes and str go out as they are, anything else as JSON
    delay: float = 0.0
    headers: dict[str, str] = field(default_factory=dict)


@dataclass
class Seen:
    method: str
    path: str
    headers: dict[str, str]
    body: Any
    peer: tuple[str, int]


class ScriptedServer:
    """Answers (method, path) with a Reply or a function of the request; logs every request."""

    def __init__(self, tls: ssl.SSLContext | None) -> None:
        self.routes: dict[tuple[str, str], Reply | Callable[[Seen], Reply]] = {}
        self.seen: list[Seen] = []
        server = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args: Any) -> None:
                pass

            def _answer(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                raw = self.rfile.read(length) if length else b""
                seen = Seen(
                    self.command,
                    self.path,
                    {k.lower(): v for k, v in self.headers.items()},
                    json.loads(raw) if raw else None,
                    self.client_address,
                )
                server.seen.append(seen)
                path = self.path.split("?")[0]
                route = server.routes.get((self.command, path), Reply(404, {"error": "no route"}))
                reply = route(seen) if callable(route) else route
                if reply.delay:
                    time.sleep(reply.delay)
                body = reply.body
                if not isinstance(body, bytes):
                    body = (body if isinstance(body, str) else json.dumps(body)).encode()
                    if reply.body is None:
                        body = b""
                try:
                    self.send_response(reply.status)
                    for name, value in reply.headers.items():
                        self.send_header(name, value)
                    self.send_header("Content-Type", "application/json")
                    self.send_header("Content-Length", str(len(body)))
                    self.end_headers()
                    self.wfile.write(body)
                except OSError:
                    pass

            do_GET = do_POST = do_PUT = _answer

        self._httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._httpd.daemon_threads = True
        if tls is not None:
            self._httpd.socket = tls.wrap_socket(self._httpd.socket, server_side=True)
        scheme = "https" if tls else "http"
        self.url = f"{scheme}://127.0.0.1:{self._httpd.server_address[1]}"
        self._thread = threading.Thread(
            target=self._httpd.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        )
        self._thread.start()

    def route(self, method: str, path: str, reply: Reply | Callable[[Seen], Reply]) -> None:
        self.routes[(method, path)] = reply

    def stop(self) -> None:
        self._httpd.shutdown()
        self._httpd.server_close()


@pytest.fixture(scope="session")
def certificates(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Certificate]:
    """A WinCC-style self-signed certificate for 127.0.0.1, and one for another host."""
    directory = tmp_path_factory.mktemp("certs")
    return {
        "wincc": self_signed(directory, "wincc", ["127.0.0.1", "localhost"]),
        "elsewhere": self_signed(directory, "elsewhere", ["wincc.example"]),
        "expired": self_signed(directory, "expired", ["127.0.0.1"], expired=True),
    }


def _serve(tls: ssl.SSLContext | None) -> Iterator[ScriptedServer]:
    server = ScriptedServer(tls)
    try:
        yield server
    finally:
        server.stop()


def _tls(cert: Certificate) -> ssl.SSLContext:
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(cert.cert_file, cert.key_file)
    return context


@pytest.fixture
def plain_server() -> Iterator[ScriptedServer]:
    yield from _serve(None)


@pytest.fixture
def tls_server(certificates: dict[str, Certificate]) -> Iterator[ScriptedServer]:
    yield from _serve(_tls(certificates["wincc"]))


@pytest.fixture
def expired_tls_server(certificates: dict[str, Certificate]) -> Iterator[ScriptedServer]:
    yield from _serve(_tls(certificates["expired"]))


@pytest.fixture
def misnamed_tls_server(certificates: dict[str, Certificate]) -> Iterator[ScriptedServer]:
    yield from _serve(_tls(certificates["elsewhere"]))


@pytest.fixture(autouse=True)
def quick_backoff(monkeypatch: pytest.MonkeyPatch) -> None:
    """Read retries keep their count and order but not their pauses."""
    monkeypatch.setattr("wincc_bridge.transport.BACKOFF_START", 0.01)


def fingerprint(cert_file: str) -> str:
    """The SHA-256 fingerprint of a PEM certificate as the bridge writes it (AB:CD:...),
    worked out here with `cryptography` on its own."""
    cert = x509.load_pem_x509_certificate(Path(cert_file).read_bytes())
    return cert.fingerprint(hashes.SHA256()).hex(":").upper()
