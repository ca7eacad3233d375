"""The HTTP plumbing every dialect shares: one httpx.Client per server and user.

It owns the things that must be the same whatever a server speaks: TLS (verified by
default, a pinned certificate, or insecure on request), explicit timeouts, a bound on the
answer's size, retries with backoff for reads only, and the translation of every failure
into the error classes of wincc_bridge.client with a sentence a plant engineer can act on.
"""

from __future__ import annotations

import json
import logging
import socket
import ssl
import time
from collections.abc import Mapping
from pathlib import Path
from typing import Any, Protocol
from urllib.parse import urlsplit, urlunsplit

import httpx

from wincc_bridge import certificates
from wincc_bridge.client import (
    AuthError,
    ConnectError,
    ConnectionSettings,
    NotSupportedError,
    ProtocolError,
    TimeoutError,
    TLSError,
)

logger = logging.getLogger("wincc_bridge")

SNIPPET_CHARS = 200
# First pause between read retries; it doubles each time, up to BACKOFF_MAX.
BACKOFF_START = 0.2
BACKOFF_MAX = 2.0
# Answers a proxy or a restarting server gives; a read may succeed a moment later.
_RETRY_STATUSES = frozenset({502, 503, 504})
# Answers meaning "no such endpoint here" (not found, method not allowed, not implemented).
_MISSING_STATUSES = frozenset({404, 405, 501})
# Redirects followed with the same method and body, on the same scheme, host and port only
# (`/graphql` -> `/graphql/`); another host would receive the credentials, so that is an error.
_FOLLOWED_REDIRECTS = frozenset({301, 302, 307, 308})
_PERMANENT_REDIRECTS = frozenset({301, 308})
MAX_REDIRECTS = 3
_PARSED_URLS = 256  # addresses kept parsed; a few per dialect, more where a path names a tag


class PermissionRefused(AuthError):
    """The credentials are fine but lack the right; logging in again would not help."""

    reason = "permission refused"


class Transport:
    """JSON over HTTP(S) to one server under one base path, with translated errors.

    `who` names the credentials in sentences ("user api_ro", "the token") and `check`
    says what to check when they are refused.
    """

    def __init__(
        self,
        settings: ConnectionSettings,
        *,
        base_path: str,
        who: str,
        check: str,
        headers: Mapping[str, str] | None = None,
    ) -> None:
        self.settings = settings
        origin = settings.url.rstrip("/")
        self.who = who
        self.check = check
        if origin.lower().endswith(base_path.lower()):
            # Tolerate a --url that already names the dialect's path.
            origin = origin[: len(origin) - len(base_path)]
        # The address without anything that may be a secret, for messages, logs and requests
        # alike: credentials travel only in the Authorization header the dialect sets.
        self.server = shown_url(origin)
        # Paths are joined by hand: httpx's base_url would turn "/graphql" into "/graphql/".
        self._base_path = base_path
        self._urls: dict[str, httpx.URL] = {}  # each address asked, parsed (_send)
        self._max_bytes = settings.max_response_bytes
        self._client = httpx.Client(
            base_url=self.server,
            headers={"Accept": "application/json", **(headers or {})},
            timeout=httpx.Timeout(settings.timeout),
            verify=tls_context(settings, self.server),
            follow_redirects=False,
        )

    def set_header(self, name: str, value: str | None) -> None:
        """Set (or with None, drop) a header sent with every later request."""
        if value is None:
            self._client.headers.pop(name, None)
        else:
            self._client.headers[name] = value

    def request(
        self,
        method: str,
        path: str,
        *,
        json_body: Any = None,
        params: Mapping[str, str] | None = None,
        headers: Mapping[str, str] | None = None,
        read: bool = False,
        missing: str | None = None,
        body_statuses: frozenset[int] = frozenset(),
    ) -> Any:
        """The decoded JSON answer (None for an empty body); failures raise WinCCError.

        `read` allows retries after a refused or dropped connection or a 502/503/504
        (never after a timeout); `missing` is the sentence for a missing endpoint (404, 405,
        501; raised as NotSupportedError); `body_statuses` are error statuses whose body
        the caller reads.
        """
        retries = max(self.settings.read_retries, 0) if read else 0
        pause = BACKOFF_START
        while True:
            try:
                return self._once(method, path, json_body, params, headers, missing, body_statuses)
            except (TLSError, TimeoutError):
                # A certificate does not heal by asking again, and a timeout has already
                # spent the caller's time budget (the poll's lock and task limits rest on it).
                raise
            except ConnectError as exc:
                if retries == 0:
                    raise
                retries -= 1
                logger.debug("retrying %s %s after: %s", method, path, exc)
                time.sleep(pause)
                pause = min(pause * 2, BACKOFF_MAX)

    def close(self) -> None:
        self._client.close()

    def auth_refused(self) -> AuthError:
        return AuthError(
            f"login refused for {self.who} at {self.server} (check {self.check})",
            server=self.server,
        )

    def forbidden(self) -> PermissionRefused:
        return PermissionRefused(
            f"{self.who} at {self.server} lacks the right for this request "
            "(use the read-write user, or check the user's rights in WinCC)",
            server=self.server,
        )

    def protocol_error(self, what: str, body: Any = None) -> ProtocolError:
        """A ProtocolError saying `what` was wrong, keeping the start of `body`."""
        snippet = body if isinstance(body, str) else _dump(body)
        snippet = snippet[:SNIPPET_CHARS]
        # The sentence stays on one line whatever the server put in its body.
        shown = f": {' '.join(snippet.split())}" if snippet.strip() else ""
        return ProtocolError(
            f"{self.server} answered {what} (check the URL and the dialect){shown}",
            server=self.server,
            snippet=snippet,
        )

    def _once(
        self,
        method: str,
        path: str,
        json_body: Any,
        params: Mapping[str, str] | None,
        headers: Mapping[str, str] | None,
        missing: str | None,
        body_statuses: frozenset[int],
    ) -> Any:
        started = time.perf_counter()
        target, query = self._base_path + path, params
        for hop in range(MAX_REDIRECTS + 1):
            request, response, raw = self._send(method, target, json_body, query, headers, path)
            moved = self._same_origin_redirect(response, request.url)
            if moved is None or hop == MAX_REDIRECTS:
                break
            logger.debug(
                "%s %s -> %s, following to %s", method, request.url, response.status_code, moved
            )
            if response.status_code in _PERMANENT_REDIRECTS and moved.path.endswith(path):
                # Later requests go to the new place directly.
                self._base_path = moved.path[: len(moved.path) - len(path)] if path else moved.path
            # The new place keeps the query unless the redirect names its own.
            target, query = str(moved), (None if moved.query else params)
        status = response.status_code
        logger.debug(
            "%s %s -> %s, %d bytes, %.1f ms",
            method,
            request.url,
            status,
            len(raw),
            (time.perf_counter() - started) * 1000,
        )
        if status < 300 or status in body_statuses:
            return self._decode(raw, status)
        if status == 401:
            raise self.auth_refused()
        if status == 403:
            raise self.forbidden()
        if 300 <= status < 400:
            elsewhere = response.headers.get("location", "elsewhere")
            raise self.protocol_error(
                f"HTTP {status}, a redirect to {elsewhere} (not followed: another host, "
                "scheme or port, or too many hops)"
            )
        if status in _MISSING_STATUSES and missing:
            raise NotSupportedError(missing, server=self.server)
        if status in _RETRY_STATUSES:
            # A proxy's 502/504 may come after WinCC got the request.
            raise ConnectError(
                f"{self.server} is unavailable (HTTP {status}); check the WinCC service "
                "and any proxy in between",
                server=self.server,
                sent=True,
            )
        text = raw[:SNIPPET_CHARS].decode("utf-8", "replace")
        error = self.protocol_error(f"HTTP {status} to {method} {request.url.path}", text)
        if status in _MISSING_STATUSES:
            error.reason = "no such endpoint"
        raise error

    def _send(
        self,
        method: str,
        target: str,
        json_body: Any,
        params: Mapping[str, str] | None,
        headers: Mapping[str, str] | None,
        path: str,
    ) -> tuple[httpx.Request, httpx.Response, bytes]:
        """One HTTP exchange: the request, the response and its bounded body."""
        try:
            url = self._urls.get(target)
            if url is None:
                # Parsed once per address: httpx parses a relative address twice per request,
                # a tenth of a poll's CPU.
                url = self._client.build_request(method, target).url
                if len(self._urls) >= _PARSED_URLS:
                    self._urls.clear()
                self._urls[target] = url
            request = self._client.build_request(
                method, url, json=json_body, params=params, headers=headers
            )
            response = self._client.send(request, stream=True)
            try:
                raw = self._read_bounded(response)
            finally:
                response.close()
        except httpx.TimeoutException as exc:
            # A connect or pool timeout: the request never left. A write or read timeout:
            # the server may have it and act on it.
            raise TimeoutError(
                f"timed out after {float(self.settings.timeout)} s waiting for {self.server} "
                "(check that the server is up, or raise the timeout)",
                server=self.server,
                sent=not isinstance(exc, httpx.ConnectTimeout | httpx.PoolTimeout),
            ) from None
        except httpx.TransportError as exc:
            raise self._transport_failure(exc) from None
        except httpx.DecodingError:
            raise self.protocol_error("a body its Content-Encoding cannot decode") from None
        except httpx.InvalidURL as exc:
            raise ConnectError(
                f"{self.server}{self._base_path}{path} is not a valid address ({exc}); "
                "check the URL",
                server=self.server,
            ) from None
        return request, response, raw

    def _same_origin_redirect(self, response: httpx.Response, url: httpx.URL) -> httpx.URL | None:
        """The target of a redirect to the same scheme, host and port; None otherwise."""
        location = response.headers.get("location")
        if response.status_code not in _FOLLOWED_REDIRECTS or not location:
            return None
        try:
            moved = url.join(location)
        except httpx.InvalidURL:
            return None
        if (moved.scheme, moved.host, moved.port) != (url.scheme, url.host, url.port):
            return None
        return moved

    def _read_bounded(self, response: httpx.Response) -> bytes:
        declared = response.headers.get("content-length", "")
        if declared.isascii() and declared.isdigit() and int(declared) > self._max_bytes:
            raise self._too_large()
        chunks = []
        size = 0
        for chunk in response.iter_bytes():
            size += len(chunk)
            if size > self._max_bytes:
                raise self._too_large()
            chunks.append(chunk)
        return b"".join(chunks)

    def _too_large(self) -> ProtocolError:
        return ProtocolError(
            f"the answer from {self.server} is larger than {self._max_bytes} bytes "
            "(ask for fewer tags per request, or raise max_response_bytes)",
            server=self.server,
        )

    def _decode(self, raw: bytes, status: int) -> Any:
        if raw.startswith(b"\xef\xbb\xbf"):
            raw = raw[3:]
        if not raw.strip():
            return None
        try:
            return json.loads(raw)
        except (ValueError, RecursionError):
            text = raw[:SNIPPET_CHARS].decode("utf-8", "replace")
            raise self.protocol_error(f"HTTP {status} with a body that is not JSON", text) from None

    def _transport_failure(self, exc: httpx.TransportError) -> ConnectError:
        cause = _root_cause(exc)
        if isinstance(cause, ssl.SSLCertVerificationError):
            if "hostname" in str(cause).lower() or "ip address mismatch" in str(cause).lower():
                return TLSError(
                    f"certificate of {self.server} is for another host name "
                    "(connect by the host name the certificate names)",
                    server=self.server,
                )
            return untrusted_certificate(self.settings, self.server, cause.verify_message)
        if isinstance(cause, ssl.SSLError):
            return TLSError(
                f"TLS handshake with {self.server} failed ({cause.reason or cause}); "
                "check that the address is https and the port is WinCC's TLS port",
                server=self.server,
            )
        if isinstance(cause, socket.gaierror):
            return ConnectError(
                f"cannot resolve the host of {self.server} (check the host name)",
                server=self.server,
            )
        # Reading or writing failed on an open connection: the request may have arrived.
        sent = isinstance(exc, httpx.RemoteProtocolError | httpx.ReadError | httpx.WriteError)
        if isinstance(exc, httpx.RemoteProtocolError):
            return ConnectError(
                f"{self.server} closed the connection or did not speak HTTP "
                "(check the scheme http/https and the port)",
                server=self.server,
                sent=sent,
            )
        reason = getattr(cause, "strerror", None) or str(cause) or type(cause).__name__
        return ConnectError(
            f"cannot connect to {self.server}: {reason} "
            "(check the address, the port, and that the WinCC web service is running)",
            server=self.server,
            sent=sent,
        )


def shown_url(url: str) -> str:
    """`url` as a message may show it: without a user name, password, query or fragment,
    any of which may carry a secret (and messages end up in logs and on pages)."""
    try:
        parts = urlsplit(url)
    except ValueError:
        return "the configured address"
    netloc = parts.netloc.rpartition("@")[2]
    return urlunsplit((parts.scheme, netloc, parts.path, "", ""))


PEM_CERTIFICATE = b"-----BEGIN CERTIFICATE-----"


def ca_file_problem(path: str) -> str | None:
    """Why the file cannot pin a server's certificate (not readable, not PEM); None if it can.

    Checked on the machine itself, so a DER file or a key in its place is named before any
    handshake fails with a vaguer sentence.
    """
    try:
        data = Path(path).read_bytes()
    except OSError as exc:
        return f"certificate file {path} cannot be read ({exc.strerror or type(exc).__name__})"
    if PEM_CERTIFICATE not in data:
        hint = (
            " (it looks like DER: convert it with openssl x509 -inform der -in FILE -out FILE.pem)"
            if data[:1] == b"\x30"
            else ""
        )
        return f"certificate file {path} is not a PEM certificate (no BEGIN CERTIFICATE){hint}"
    try:
        ssl.create_default_context(cafile=path)
    except (OSError, ssl.SSLError, ValueError):
        return f"certificate file {path} holds no PEM certificate that TLS can load"
    return None


class TLSSettings(Protocol):
    """What tls_context reads: ConnectionSettings, or another outbound connection's own."""

    @property
    def verify_tls(self) -> bool: ...
    @property
    def ca_file(self) -> str | None: ...
    @property
    def insecure(self) -> bool: ...


def tls_context(settings: TLSSettings, server: str) -> ssl.SSLContext | bool:
    """Verification by default; a pinned certificate with `ca_file`; none when `insecure`."""
    if not server.lower().startswith(("https:", "mqtts:")):
        # Plain HTTP has no certificate to check; skip building a trust store for nothing.
        return False
    if settings.insecure or not settings.verify_tls:
        logger.warning(
            "TLS certificate checks are OFF for %s: anyone on the network path can read "
            "and change this traffic; pin the certificate with ca_file instead",
            server,
        )
        return False
    try:
        context = ssl.create_default_context(cafile=settings.ca_file)
    except (OSError, ssl.SSLError) as exc:
        raise TLSError(
            f"cannot load the certificate file {settings.ca_file} for {server} "
            f"({getattr(exc, 'strerror', None) or exc}); check the path and that it is PEM",
            server=server,
        ) from None
    if settings.ca_file:
        # A pinned WinCC certificate is often a leaf without its issuer; trust it as is.
        context.verify_flags |= ssl.VERIFY_X509_PARTIAL_CHAIN
    return context


def untrusted_certificate(
    settings: ConnectionSettings, server: str, why: str | None = None
) -> TLSError:
    """The error for a certificate that failed verification, naming the one the server
    showed and, when a certificate is pinned, the pinned one: pinning again would not help.
    `why` is OpenSSL's word for the failure ("certificate has expired")."""
    shown = certificates.shown_by(server, settings.timeout)
    showed = f"the server showed {shown}" if shown else "its certificate could not be fetched"
    if settings.ca_file:
        pinned_list = certificates.pinned_in(settings.ca_file)
        if shown and shown in pinned_list:
            return TLSError(
                f"certificate of {server} is the pinned one, {shown}, but it does not verify: "
                f"{why or 'no reason given'} (check its validity dates; a renewed "
                "certificate must be pinned anew)",
                server=server,
            )
        pinned = ", ".join(pinned_list) or "no certificate"
        return TLSError(
            f"certificate of {server} does not match the pinned one: {settings.ca_file} holds "
            f"{pinned}, {showed} (if the server's certificate was renewed, check the new "
            "fingerprint with the server's administrator before replacing the pinned file)",
            server=server,
        )
    return TLSError(
        f"certificate of {server} is not trusted: {showed}, and no certificate is pinned "
        "(check the fingerprint with the server's administrator, then pin the certificate "
        "with --ca-file or ca_file)",
        server=server,
    )


def _root_cause(exc: BaseException) -> BaseException:
    seen = exc
    while (earlier := seen.__cause__ or seen.__context__) is not None:
        seen = earlier
    return seen


def _dump(body: Any) -> str:
    if body is None:
        return ""
    try:
        return json.dumps(body, ensure_ascii=False)[:SNIPPET_CHARS]
    except (TypeError, ValueError):
        return repr(body)[:SNIPPET_CHARS]
