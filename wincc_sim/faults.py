"""Fault injection on the main listener: what the reliability tests of the product stand on.

Faults that change the plant (bad-quality tags, frozen values) live in the plant; faults of
the transport (latency, error statuses, dropped connections, broken bodies) live here.
"""

from __future__ import annotations

import asyncio
import random
from dataclasses import asdict, dataclass, field, fields
from typing import Any

from wincc_sim.timefmt import zone

FACES = ("classic", "unified", "rest-v1")
_RATES = ("error_rate", "drop_rate", "malformed_rate", "truncated_rate")
# Behaviours some real servers show and others do not (docs/conformance.md), off by default.
_VARIANT_SWITCHES = ("classic_dotnet_dates", "classic_refuse_empty_names",
                     "classic_no_connections", "classic_browse_post_only",
                     "unified_canonical_names", "graphql_redirect")
REDU_STATES = ("ACTIVE", "PASSIVE")


@dataclass
class Faults:
    latency_ms: float = 0.0
    error_rate: float = 0.0
    error_status: int = 500
    drop_rate: float = 0.0
    malformed_rate: float = 0.0
    truncated_rate: float = 0.0
    expired_tokens: bool = False
    faces: list[str] = field(default_factory=lambda: list(FACES))
    # Server variants: what the faces answer, not transport faults.
    classic_page_limit: int = 0  # the most items a configuration list page holds; 0 no cap
    classic_dotnet_dates: bool = False  # timestamps as .NET "/Date(ms)/"
    # Classic times as local times in this IANA zone without an offset; "" UTC with Z.
    classic_local_times: str = ""
    classic_refuse_empty_names: bool = False  # POST Values with [] is a 400
    classic_no_connections: bool = False  # no /tagManagement/Connections list (404)
    classic_browse_post_only: bool = False  # the variable list only by POST (GET is 405)
    unified_canonical_names: bool = False  # tagValues answers `System::Tag` names
    graphql_redirect: bool = False  # /graphql answers 308 to /graphql/
    redu_state: str = "ACTIVE"  # what reduState reports: ACTIVE or PASSIVE
    # Faces that publish no alarm list: it answers 404 (Unified: no activeAlarms query).
    no_alarm_list: list[str] = field(default_factory=list)
    # Faces whose tag logging archive answers an error for every tag asked.
    archive_error: list[str] = field(default_factory=list)

    def to_json(self) -> dict[str, Any]:
        return asdict(self)

    def update(self, changes: dict[str, Any]) -> None:
        """Apply changes atomically, or raise ValueError listing every bad key/value."""
        known = {f.name for f in fields(self)}
        problems = [f"unknown fault {key!r}" for key in changes if key not in known]
        clean: dict[str, Any] = {}
        for key, value in changes.items():
            if key not in known:
                continue
            try:
                clean[key] = _check(key, value)
            except ValueError as exc:
                problems.append(f"{key}: {exc}")
        if problems:
            raise ValueError("; ".join(problems))
        for key, value in clean.items():
            setattr(self, key, value)


def _check(key: str, value: Any) -> Any:
    if key in _RATES:
        if value is True:
            return 1.0
        if value is False:
            return 0.0
        if not isinstance(value, int | float) or not 0 <= value <= 1:
            raise ValueError("must be a number from 0 to 1 (or true/false)")
        return float(value)
    if key == "latency_ms":
        number = isinstance(value, int | float) and not isinstance(value, bool)
        if not number or not 0 <= value <= 60_000:
            raise ValueError("must be milliseconds from 0 to 60000")
        return float(value)
    if key == "error_status":
        if value not in (500, 502, 503, 504):
            raise ValueError("must be 500, 502, 503 or 504")
        return value
    if key == "classic_page_limit":
        if type(value) is not int or not 0 <= value <= 100_000:
            raise ValueError("must be a whole number from 0 (no cap) to 100000")
        return value
    if key == "classic_local_times":
        if not isinstance(value, str):
            raise ValueError("must be an IANA time zone name, or \"\" for UTC")
        if value:
            zone(value)
        return value
    if key == "redu_state":
        if value not in REDU_STATES:
            raise ValueError(f"must be one of {', '.join(REDU_STATES)}")
        return value
    if key == "expired_tokens" or key in _VARIANT_SWITCHES:
        if not isinstance(value, bool):
            raise ValueError("must be true or false")
        return value
    if key == "faces":
        if not isinstance(value, list) or not value or any(f not in FACES for f in value):
            raise ValueError(f"must be a non-empty list of {', '.join(FACES)}")
        return list(value)
    if key in ("no_alarm_list", "archive_error"):
        if not isinstance(value, list) or any(f not in FACES for f in value):
            raise ValueError(f"must be a list of {', '.join(FACES)} (empty: none)")
        return list(dict.fromkeys(value))
    raise ValueError("unknown")


def face_of(path: str) -> str:
    lowered = path.lower()
    if lowered.startswith("/winccrestservice"):
        return "classic"
    if lowered.startswith("/graphql"):
        return "unified"
    if lowered.startswith("/api/v1"):
        return "rest-v1"
    return "other"


class FaultMiddleware:
    """ASGI middleware that applies the current faults to each HTTP request."""

    def __init__(self, app, sim, rng: random.Random, drop) -> None:
        self.app = app
        self.sim = sim  # read its faults on each request: an admin reset replaces them
        self.rng = rng
        self.drop = drop  # callable(scope) that aborts the client's TCP connection

    async def __call__(self, scope, receive, send) -> None:
        f = self.sim.faults
        if scope["type"] != "http" or face_of(scope["path"]) not in f.faces:
            await self.app(scope, receive, send)
            return
        if f.latency_ms:
            await asyncio.sleep(f.latency_ms / 1000)
        if f.drop_rate and self.rng.random() < f.drop_rate:
            await self.drop(scope)
            return
        if f.error_rate and self.rng.random() < f.error_rate:
            await _send(send, f.error_status, b'{"error": "simulated server error"}')
            return
        malformed = f.malformed_rate and self.rng.random() < f.malformed_rate
        truncated = f.truncated_rate and self.rng.random() < f.truncated_rate
        if not (malformed or truncated):
            await self.app(scope, receive, send)
            return
        start: dict[str, Any] = {}
        body = bytearray()

        async def capture(message) -> None:
            if message["type"] == "http.response.start":
                start.update(message)
            else:
                body.extend(message.get("body", b""))

        await self.app(scope, receive, capture)
        if malformed:
            # A body that claims to be JSON and is not: what a broken proxy or server sends.
            broken = b'{"error": <html>Internal Error</html>,,}'
        else:
            broken = bytes(body[: max(1, len(body) // 2)])
        await _send(send, start.get("status", 200), broken)


async def _send(send, status: int, body: bytes) -> None:
    await send(
        {
            "type": "http.response.start",
            "status": status,
            "headers": [
                (b"content-type", b"application/json"),
                (b"content-length", str(len(body)).encode()),
            ],
        }
    )
    await send({"type": "http.response.body", "body": body})
