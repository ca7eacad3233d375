"""The one interface every WinCC dialect implements, and the errors it raises.

The rest of the product acts on the error *class* (back off, show "login refused",
mark a site stale); the message is a plain sentence naming the server and what to check.
"""

from __future__ import annotations

import abc
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, tzinfo
from typing import Any, Protocol

from wincc_bridge.models import (
    Alarm,
    BrowseItem,
    Capabilities,
    ItemResult,
    Notification,
    TagHistory,
    TagValue,
)


class WinCCError(Exception):
    """Base of every error the bridge raises.

    `sent` is True when the request had reached the server when it failed (an answer was
    malformed or cut off, a read timed out, the connection dropped mid-answer): a write or
    acknowledge may then have happened, and only reading WinCC back can tell.
    """

    sent: bool = False
    # A few words for a tile or a status line ("login refused"); the message says the rest.
    reason: str = "WinCC error"

    def __init__(
        self,
        message: str,
        *,
        server: str = "",
        sent: bool | None = None,
        reason: str | None = None,
    ) -> None:
        super().__init__(message)
        self.server = server
        if sent is not None:
            self.sent = sent
        if reason is not None:
            self.reason = reason


class AuthError(WinCCError):
    """The server refused the credentials or the user lacks the right (401/403, GraphQL 101)."""

    reason = "login refused"


class ConnectError(WinCCError):
    """The server could not be reached: refused, reset, DNS, unreachable."""

    reason = "WinCC not answering"


class TLSError(ConnectError):
    """The TLS handshake failed, usually an untrusted or mismatched certificate."""

    reason = "certificate not trusted"


class TimeoutError(ConnectError):
    """The server did not answer within the configured timeout."""


class ProtocolError(WinCCError):
    """The body was not what the dialect promises; `snippet` keeps the start of it.
    The server answered, so the request had reached it."""

    sent = True
    reason = "unexpected answer"

    def __init__(
        self, message: str, *, server: str = "", snippet: str = "", reason: str | None = None
    ) -> None:
        super().__init__(message, server=server, reason=reason)
        self.snippet = snippet


class NotSupportedError(WinCCError):
    """The dialect (or this server's configuration) cannot do what was asked."""

    reason = "no such endpoint"


def short_reason(exc: BaseException) -> str:
    """The few words a tile shows for a failed poll; the same words everywhere."""
    return exc.reason if isinstance(exc, WinCCError) else "poll error"


@dataclass(frozen=True)
class AckTag:
    """Classic WinCC has no acknowledge endpoint: a project may acknowledge by writing a tag."""

    tag: str
    value: Any = 1


@dataclass(frozen=True)
class ConnectionSettings:
    """Everything needed to talk to one WinCC server as one API user."""

    dialect: str  # "classic" | "unified" | "rest-v1"
    url: str  # scheme, host and port; each dialect adds its own path
    username: str = ""
    password: str = ""  # Basic / GraphQL login password
    token: str = ""  # Bearer token (REST v1; Classic pass-through)
    verify_tls: bool = True
    ca_file: str | None = None
    insecure: bool = False
    timeout: float = 5.0
    batch_size: int = 500
    max_response_bytes: int = 32 * 1024 * 1024
    read_retries: int = 2
    # Classic V8.1: the REST filter whose MessageList holds the active alarms.
    alarm_filter: str | None = None
    # Classic: alarm name -> tag to write to acknowledge it.
    ack_tags: Mapping[str, AckTag] = field(default_factory=dict)
    language: str = "en-US"
    site: str = ""
    # Unified: the GraphQL endpoint's path ("/graphql/" on some V19 installations).
    graphql_path: str = "/graphql"
    # Unified: the object types `browse` asks for. Without a filter a real server returns
    # every named object (elements, alarms, types, logging tags) in one answer.
    browse_object_types: tuple[str, ...] = ("TAG",)
    # Classic: tags per page of the variable list (itemLimit / continuationPoint).
    browse_page_size: int = 1000
    # Classic: a tag the ping reads when the server refuses an empty value request;
    # empty: the first tag of the variable list.
    ping_tag: str = ""
    # Classic: the tag logging archive `history` reads (e.g. "ProcessValueArchive");
    # empty: the client looks each tag up in the archives' variable lists.
    tag_archive: str = ""
    # Classic: the zone of the times the server sends without an offset (its local time,
    # often); wincc_bridge.localtime says how the hours a clock change repeats are read.
    timezone: tzinfo = UTC


class WinCCClient(abc.ABC):
    """One WinCC server, one API user, one connection pool. Use as a context manager."""

    dialect: str = ""

    def __init__(self, settings: ConnectionSettings) -> None:
        self.settings = settings

    @classmethod
    @abc.abstractmethod
    def capabilities_for(cls, settings: ConnectionSettings) -> Capabilities:
        """What a server of this dialect offers with these settings, known without asking it."""

    def capabilities(self) -> Capabilities:
        return self.capabilities_for(self.settings)

    @abc.abstractmethod
    def read_tags(self, names: Sequence[str]) -> list[TagValue]:
        """Values in the order asked; an unknown tag comes back with `error` set."""

    @abc.abstractmethod
    def browse(self, pattern: str = "*") -> list[BrowseItem]: ...

    @abc.abstractmethod
    def active_alarms(self) -> list[Alarm]: ...

    @abc.abstractmethod
    def acknowledge(self, alarms: Iterable[tuple[str, int]]) -> list[ItemResult]:
        """Acknowledge (name, instance_id) pairs; per-item outcomes, never silent."""

    def acknowledge_many(self, alarms: Sequence[tuple[str, int]]) -> list[ItemResult]:
        """Acknowledge many alarms in as few calls as the dialect allows (one, where WinCC
        takes many names); an outcome per pair, in the order asked. By default: acknowledge."""
        return self.acknowledge(alarms)

    @abc.abstractmethod
    def write_tags(self, values: Mapping[str, Any]) -> list[ItemResult]: ...

    def shelve(self, names: Sequence[str], seconds: float) -> list[ItemResult]:
        """Shelve the named (configured) alarms for `seconds`; per-name outcomes.
        Only dialects whose capabilities say `shelve` implement it."""
        raise NotSupportedError(
            f"a {self.dialect} server has no shelve call", server=self.settings.url
        )

    def unshelve(self, names: Sequence[str]) -> list[ItemResult]:
        """Take the named alarms off the shelf; per-name outcomes."""
        raise NotSupportedError(
            f"a {self.dialect} server has no unshelve call", server=self.settings.url
        )

    def history(
        self, names: Sequence[str], start: datetime, end: datetime, max_points: int = 1000
    ) -> list[TagHistory]:
        """Archived values of each tag from `start` to `end` (aware datetimes), at most
        `max_points` per tag, with bounding values where the dialect has them; in the order
        asked. Only dialects whose capabilities say `history` implement it."""
        raise NotSupportedError(
            f"a {self.dialect} server has no history call", server=self.settings.url
        )

    def subscribe(
        self, names: Sequence[str], *, alarms: bool = True, keepalive: float = 5.0
    ) -> Subscription:
        """The server's pushes of these tags' changes (and of its active alarms), for
        dialects that push (Unified)."""
        raise NotSupportedError(
            f"a {self.dialect} server pushes no changes to subscribers", server=self.settings.url
        )

    def ping(self) -> None:
        """Prove the server answers and accepts the user; raise otherwise."""
        self.read_tags([])

    @abc.abstractmethod
    def close(self) -> None: ...

    def __enter__(self) -> WinCCClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


class Subscription(Protocol):
    """Changes a server pushes. `receive(timeout)`: the next Notification, or None when
    nothing came (not even a keep-alive) within `timeout`; `heard`: when the server was
    last heard from (time.monotonic); `covers_all`: every tag has come once since `open()`.
    Errors are the bridge's; after a ConnectError, `open()` again."""

    heard: float

    @property
    def covers_all(self) -> bool: ...

    def open(self) -> None: ...

    def receive(self, timeout: float) -> Notification | None: ...

    def close(self) -> None: ...


def _dialect(settings: ConnectionSettings) -> type[WinCCClient]:
    from wincc_bridge.dialects import DIALECTS

    try:
        return DIALECTS[settings.dialect]()
    except KeyError:
        known = ", ".join(sorted(DIALECTS))
        raise NotSupportedError(
            f"unknown dialect {settings.dialect!r}; use one of {known}", server=settings.url
        ) from None


def open_client(settings: ConnectionSettings) -> WinCCClient:
    """The client for the settings' dialect."""
    return _dialect(settings)(settings)


def capabilities_of(settings: ConnectionSettings) -> Capabilities:
    """What a server of the settings' dialect offers, known without connecting to it."""
    return _dialect(settings).capabilities_for(settings)
