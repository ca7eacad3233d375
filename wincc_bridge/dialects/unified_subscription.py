"""WinCC Unified pushes: the `tagValues` and `activeAlarms` subscriptions over the GraphQL
endpoint's WebSocket, protocol graphql-transport-ws.

The socket is opened with the session of the HTTP client (`UnifiedClient`), whose token
goes both at the upgrade and in `connection_init`, as WinCC's own clients send it. The
session is extended over HTTP before it expires (the token stays the same); when the
server refuses the subscription for authentication, one fresh login is tried and the
socket opened again. A graphql-transport-ws `ping` goes out every `keepalive` seconds: its
`pong` proves the server alive while nothing changes.

`websockets` (its synchronous client) does the WebSocket framing, the upgrade and TLS;
the bridge adds only the few graphql-transport-ws messages (docs/bridge.md says why).
"""

from __future__ import annotations

import contextlib
import json
import logging
import ssl
import time
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from websockets.exceptions import ConnectionClosed, InvalidHandshake, InvalidStatus
from websockets.sync.client import ClientConnection, connect

from wincc_bridge.client import AuthError, ConnectError, NotSupportedError, ProtocolError
from wincc_bridge.client import TimeoutError as NoAnswer
from wincc_bridge.dialects.unified import (
    _is_auth,
    _is_forbidden,
    _message,
    _name,
    _tag_value,
    _without_system,
)
from wincc_bridge.models import Alarm, Notification, TagValue
from wincc_bridge.transport import PermissionRefused, tls_context, untrusted_certificate

if TYPE_CHECKING:
    from wincc_bridge.dialects.unified import UnifiedClient

logger = logging.getLogger("wincc_bridge")

SUBPROTOCOL = "graphql-transport-ws"
TAG_VALUES = (
    "subscription($n:[String!]!){tagValues(names:$n){name value{value timestamp "
    "quality{quality}} error{code description} notificationReason}}"
)
ACTIVE_ALARMS = (
    "subscription($l:[String]){activeAlarms(languages:$l){name instanceID path state "
    "stateMachine userResponse suppressionState priority alarmClassName eventText infoText "
    "area origin raiseTime acknowledgmentTime clearTime userName notificationReason}}"
)
# Close codes of graphql-transport-ws that mean "who are you?".
_AUTH_CLOSE_CODES = frozenset({4401, 4403})
# At most this many messages are gathered into one notification.
_BATCH = 500


class TagSubscription:
    """Tag values (and active alarms) as the server pushes them. Not thread-safe.

    `receive(timeout)` returns the next `Notification` (changes gathered from every message
    already waiting), or None when nothing came within `timeout`. The first notifications
    after `open()` carry every tag ("Added"); `covers_all` says when each has come once.
    Failures raise the bridge's errors: ConnectError (the socket is gone; `open()` again),
    AuthError, ProtocolError, NotSupportedError (no subscriptions at this address).
    """

    def __init__(
        self,
        client: UnifiedClient,
        names: Sequence[str],
        *,
        alarms: bool = True,
        keepalive: float = 5.0,
    ) -> None:
        self.client = client
        self.names = list(dict.fromkeys(names))
        # The names as asked, also by their form without `System::`.
        self._asked = {**{_without_system(n): n for n in self.names},
                       **{n: n for n in self.names}}
        self.alarms = alarms
        self.keepalive = keepalive
        self.server = client.server
        self._ws: ClientConnection | None = None
        self._stack = contextlib.ExitStack()  # the socket's own context: closes it
        self._token: str | None = None
        self._seen: set[str] = set()
        self._pinged = 0.0
        # When the server was last heard from (monotonic): a message or a pong.
        self.heard = 0.0

    @property
    def covers_all(self) -> bool:
        """Every tag has been pushed once since the socket opened."""
        return self._ws is not None and self._seen.issuperset(self.names)

    def open(self) -> None:
        """Connect, authenticate and subscribe; one fresh login if the token is refused."""
        self.close()
        self.client._ensure_session()  # a token to open the socket with
        try:
            self._open()
        except PermissionRefused:
            raise
        except AuthError:
            if not self.client.settings.username:
                raise
            logger.debug("re-login to %s for its subscription", self.server)
            self.client._login()
            self._open()

    def receive(self, timeout: float) -> Notification | None:
        try:
            return self._receive(timeout)
        except PermissionRefused:
            raise
        except AuthError:
            # The session ended under the socket (expired, or the server restarted): one
            # fresh login and a new socket, whose first messages bring every tag again.
            if not self.client.settings.username:
                raise
            logger.debug("re-login to %s after its subscription was refused", self.server)
            self.client._login()
            self._open()
            return self._receive(timeout)

    def _receive(self, timeout: float) -> Notification | None:
        if self._ws is None:
            self.open()
        deadline = time.monotonic() + timeout
        while True:
            self._renew_session()
            now = time.monotonic()
            if now - self._pinged >= self.keepalive:
                self._send({"type": "ping"})
                self._pinged = now
            wait = min(deadline, self._pinged + self.keepalive) - now
            message = self._recv(max(wait, 0.0))
            if message is None:
                if time.monotonic() >= deadline:
                    return None
                continue
            gathered = [message]
            while len(gathered) < _BATCH and (more := self._recv(0.0)) is not None:
                gathered.append(more)
            notification = self._notification(gathered)
            if notification is not None:
                return notification

    def close(self) -> None:
        self._ws = None
        try:
            self._stack.close()
        except Exception:  # a broken socket may fail to close; it is dropped anyway
            logger.debug("closing the subscription to %s failed", self.server, exc_info=True)

    def __enter__(self) -> TagSubscription:
        self.open()
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- the socket

    def _open(self) -> None:
        token = self.client._token
        settings = self.client.settings
        url = websocket_url(settings.url, settings.graphql_path)
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        try:
            ws = connect(
                url,
                ssl=_tls(self.client, url),
                subprotocols=[SUBPROTOCOL],  # type: ignore[list-item]
                additional_headers=headers,
                open_timeout=settings.timeout,
                close_timeout=settings.timeout,
                # graphql-transport-ws pings prove more (the GraphQL server answers).
                ping_interval=None,
                max_size=settings.max_response_bytes,
            )
            self._stack.enter_context(ws)
        except InvalidStatus as exc:
            status = exc.response.status_code
            if status in (401, 403):
                raise self.client._http.auth_refused() from None
            raise NotSupportedError(
                f"{self.server} refused the subscription socket at {settings.graphql_path} "
                f"(HTTP {status}); it may not offer GraphQL subscriptions",
                server=self.server,
            ) from None
        except InvalidHandshake as exc:
            raise NotSupportedError(
                f"{self.server} does not speak {SUBPROTOCOL} at {settings.graphql_path} "
                f"({exc})", server=self.server,
            ) from None
        except ssl.SSLCertVerificationError as exc:
            raise untrusted_certificate(settings, self.server, exc.verify_message) from None
        except (OSError, ssl.SSLError) as exc:
            raise self._lost(f"cannot open the subscription socket ({exc})") from None
        self._ws = ws
        self._token = token
        self._seen = set()
        self._send({"type": "connection_init",
                    "payload": {"Authorization": f"Bearer {token}"} if token else {}})
        ack = self._recv(settings.timeout)
        if ack is None:
            self.close()
            raise NoAnswer(
                f"{self.server} did not accept the subscription within "
                f"{settings.timeout:g} s", server=self.server,
            )
        if ack.get("type") != "connection_ack":
            self.close()
            raise self.client._http.protocol_error(
                "an answer to connection_init that is not an ack", ack)
        self._send({"id": "tags", "type": "subscribe",
                    "payload": {"query": TAG_VALUES, "variables": {"n": self.names}}})
        if self.alarms:
            self._send({"id": "alarms", "type": "subscribe",
                        "payload": {"query": ACTIVE_ALARMS, "variables": {"l": ["en-US"]}}})
        self._pinged = self.heard = time.monotonic()

    def _renew_session(self) -> None:
        """Extend the session before it expires; a new token needs a new socket."""
        self.client._ensure_session()
        if self.client._token != self._token:
            self.open()

    def _send(self, message: dict[str, Any]) -> None:
        assert self._ws is not None
        try:
            self._ws.send(json.dumps(message))
        except ConnectionClosed as exc:
            self._closed(exc)

    def _recv(self, timeout: float) -> dict[str, Any] | None:
        assert self._ws is not None
        try:
            text = self._ws.recv(timeout=timeout)
        except TimeoutError:
            return None
        except ConnectionClosed as exc:
            self._closed(exc)
        try:
            message = json.loads(text)
        except ValueError:
            message = None
        if not isinstance(message, dict) or not isinstance(message.get("type"), str):
            self.close()
            raise self.client._http.protocol_error("a subscription message that is not JSON", text)
        self.heard = time.monotonic()
        return message

    def _closed(self, exc: ConnectionClosed) -> Any:
        self.close()
        code = exc.rcvd.code if exc.rcvd is not None else None
        if code in _AUTH_CLOSE_CODES:
            raise self.client._http.auth_refused() from None
        reason = f" (code {code}{': ' + exc.rcvd.reason if exc.rcvd and exc.rcvd.reason else ''})"
        raise self._lost("the subscription socket closed" + (reason if code else ""))

    def _lost(self, what: str) -> ConnectError:
        return ConnectError(f"{what} at {self.server}", server=self.server)

    # -- messages

    def _notification(self, messages: list[dict[str, Any]]) -> Notification | None:
        """The changes in `messages`; an empty notification for a pong (the server lives);
        None for messages that say nothing."""
        tags: dict[str, TagValue] = {}
        alarms: dict[str, Alarm] = {}
        gone: dict[str, None] = {}
        alive = False
        for message in messages:
            kind = message["type"]
            if kind == "ping":
                self._send({"type": "pong"})
            if kind in ("pong", "ping"):
                alive = True
            elif kind == "next":
                alive = True
                self._next(message, tags, alarms, gone)
            elif kind == "error":
                self._error(message)
            elif kind == "complete":
                self.close()
                raise self._lost(f"the server ended the {message.get('id')} subscription")
        if not alive:
            return None
        return Notification(tuple(tags.values()), tuple(alarms.values()), tuple(gone))

    def _next(self, message: dict[str, Any], tags: dict[str, TagValue],
              alarms: dict[str, Alarm], gone: dict[str, None]) -> None:
        payload = message.get("payload")
        data = payload.get("data") if isinstance(payload, dict) else None
        if not isinstance(data, dict):
            if isinstance(payload, dict) and payload.get("errors"):
                self._error({"id": message.get("id"), "payload": payload["errors"]})
            raise self.client._http.protocol_error("a subscription message without data", message)
        if isinstance(item := data.get("tagValues"), dict):
            name = _name(item, "name")
            if name is None:
                raise self.client._http.protocol_error("a pushed tag value without a name", item)
            if name not in self._asked:
                # A server may answer in the canonical `System::Tag` form whatever was asked.
                name = self._asked.get(_without_system(name), name)
            self._seen.add(name)
            tags[name] = _tag_value(name, item, None)
        elif isinstance(item := data.get("activeAlarms"), dict):
            alarm = self.client._alarm(item)
            if str(item.get("notificationReason") or "").startswith("Removed"):
                alarms.pop(alarm.key, None)
                gone[alarm.key] = None
            else:
                gone.pop(alarm.key, None)
                alarms[alarm.key] = alarm
        else:
            raise self.client._http.protocol_error(
                "a subscription message of an unknown kind", data)

    def _error(self, message: dict[str, Any]) -> None:
        errors = message.get("payload")
        errors = errors if isinstance(errors, list) else [errors]
        errors = [e if isinstance(e, dict) else {"message": str(e)} for e in errors]
        self.close()
        if any(_is_forbidden(e) for e in errors):
            raise self.client._http.forbidden()
        if any(_is_auth(e) for e in errors):
            raise self.client._http.auth_refused()
        words = _message(errors[0]) if errors else "no reason given"
        raise ProtocolError(
            f"{self.server} refused the {message.get('id')} subscription: {words}",
            server=self.server,
        )


def websocket_url(url: str, path: str) -> str:
    """The GraphQL endpoint's WebSocket address: https -> wss, http -> ws."""
    base = url.rstrip("/")
    if not base.lower().endswith(path.lower()):
        base += path
    scheme, _, rest = base.partition("://")
    return ("wss" if scheme.lower() == "https" else "ws") + "://" + rest


def _tls(client: UnifiedClient, url: str) -> ssl.SSLContext | None:
    if not url.startswith("wss://"):
        return None
    context = tls_context(client.settings, client.server)
    if context is False:  # insecure, asked for in so many words (and warned about)
        context = ssl.create_default_context()
        context.check_hostname = False
        context.verify_mode = ssl.CERT_NONE
    assert isinstance(context, ssl.SSLContext)
    return context
