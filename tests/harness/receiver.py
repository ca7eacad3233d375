"""A webhook receiver on 127.0.0.1 (a thread, no process): records every request and answers
with the status a test sets, optionally over TLS with a test certificate.

    with start_receiver() as receiver:      # http://127.0.0.1:<port>/
        receiver.status = 500                # until the test sets it back to 200
        ...
        receiver.wait_for(1)                 # the requests it answered 2xx
"""

from __future__ import annotations

import ssl
import threading
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from tests.harness.processes import wait_until


@dataclass(frozen=True)
class Received:
    method: str
    path: str
    headers: dict[str, str]
    body: bytes
    status: int  # what the receiver answered


@dataclass
class Receiver:
    server: ThreadingHTTPServer
    scheme: str = "http"
    status: int = 200
    answer_headers: dict[str, str] = field(default_factory=dict)  # sent with every answer
    requests: list[Received] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    @property
    def url(self) -> str:
        return f"{self.scheme}://127.0.0.1:{self.server.server_address[1]}/hook"

    def answered(self, status: int | None = None) -> list[Received]:
        with self.lock:
            return [r for r in self.requests if status is None or r.status == status]

    def delivered(self) -> list[Received]:
        return [r for r in self.answered() if 200 <= r.status < 300]

    def wait_for(self, count: int, timeout: float = 20.0) -> list[Received]:
        wait_until(lambda: len(self.delivered()) >= count, timeout=timeout)
        return self.delivered()

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()

    def __enter__(self) -> Receiver:
        return self

    def __exit__(self, *exc: Any) -> None:
        self.stop()


def start_receiver(cert_file: str | None = None, key_file: str | None = None) -> Receiver:
    receiver: Receiver

    class Handler(BaseHTTPRequestHandler):
        def _handle(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            body = self.rfile.read(length)
            status = receiver.status
            with receiver.lock:
                receiver.requests.append(Received(
                    self.command, self.path, {k.lower(): v for k, v in self.headers.items()},
                    body, status))
            self.send_response(status)
            for name, value in receiver.answer_headers.items():
                self.send_header(name, value)
            self.send_header("Content-Length", "0")
            self.end_headers()

        do_POST = do_PUT = do_PATCH = _handle

        def log_message(self, *args: Any) -> None:  # quiet
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    scheme = "http"
    if cert_file:
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        context.load_cert_chain(cert_file, key_file)
        server.socket = context.wrap_socket(server.socket, server_side=True)
        scheme = "https"
    receiver = Receiver(server, scheme)
    threading.Thread(target=server.serve_forever, daemon=True, name="receiver").start()
    return receiver
