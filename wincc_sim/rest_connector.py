"""The simulator as a WinCC V8 REST Connector: it POSTs tag changes and alarm transitions to
a configured URL (`--rest-connector URL`), as a plant's engineer would set one up in
Configuration Studio to push to the dashboard.

The body is the format of docs/protocols.md#rest-connector-pushes (our own: Siemens publishes
the configurator, not a body): tag items as Classic's value endpoints answer, messages as its
message lists do. It proves itself with a Bearer token or an HMAC-SHA256 of the body, the
secret read from the environment variable named on the command line.

Never in the way of the server: a scan finds what changed and adds it to what is pending
(a tag's newest value replaces an older one not sent yet; alarm transitions queue up to a
bound), and one sender task posts whatever is pending as one body. A failed post (no
answer, 429 or 5xx) is tried again with a growing pause, merged with what came since; when
the answer says how long to wait (`Retry-After`, as the dashboard's limits send it), the pause
is at least that. A refusal (another 4xx) is logged and dropped, as posting it again would be
refused again.
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import json
import logging
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from typing import Any

import httpx

from wincc_sim.classic import (
    MESSAGE_STATES,
    local_zone,
    message_json,
    message_numbers,
    value_json,
)
from wincc_sim.simulation import Simulation

log = logging.getLogger("wincc_sim.rest_connector")

# Alarm transitions kept while the target does not answer; older ones are dropped (the
# dashboard's poll of the alarm list brings the truth anyway).
MAX_PENDING_ALARMS = 1000
RETRY_FIRST, RETRY_MAX = 0.5, 30.0
RETRY_AFTER_MAX = 600.0  # seconds: a longer Retry-After is taken as this
SIGNATURE_HEADER = "X-Signature-256"


@dataclass
class ConnectorSettings:
    url: str
    secret: str
    signed: bool  # True: HMAC-SHA256 of the body in X-Signature-256; False: Bearer token
    tags: Sequence[str]
    scan: float = 0.05  # seconds between looks at the plant
    timeout: float = 5.0


@dataclass(frozen=True)
class Answer:
    ok: bool
    permanent: bool  # refused for good: posting it again would be refused again
    retry_after: float = 0.0  # seconds the target asked to wait


def retry_after(header: str | None, now: datetime | None = None) -> float:
    """Seconds a `Retry-After` header asks for (a number or an HTTP date); 0 if none or bad."""
    if not header:
        return 0.0
    header = header.strip()
    if header.isdigit():
        seconds = float(header)
    else:
        try:
            when = parsedate_to_datetime(header)
        except (TypeError, ValueError):
            return 0.0
        if when.tzinfo is None:
            return 0.0
        seconds = (when - (now or datetime.now(UTC))).total_seconds()
    return min(max(seconds, 0.0), RETRY_AFTER_MAX)


@dataclass
class Pending:
    tags: dict[str, dict[str, Any]] = field(default_factory=dict)
    alarms: list[dict[str, Any]] = field(default_factory=list)
    gone: list[dict[str, Any]] = field(default_factory=list)

    def __bool__(self) -> bool:
        return bool(self.tags or self.alarms or self.gone)

    def body(self) -> dict[str, Any]:
        content: dict[str, Any] = {}
        if self.tags:
            content["tags"] = list(self.tags.values())
        if self.alarms:
            content["alarms"] = self.alarms
        if self.gone:
            content["gone"] = self.gone
        return content

    def merge_newer(self, newer: Pending) -> None:
        """`newer` on top of this unsent batch: a tag's newest value wins."""
        self.tags.update(newer.tags)
        self.alarms.extend(newer.alarms)
        self.gone.extend(newer.gone)
        del self.alarms[:-MAX_PENDING_ALARMS]
        del self.gone[:-MAX_PENDING_ALARMS]


class RestConnector:
    def __init__(self, sim: Simulation, settings: ConnectorSettings) -> None:
        self.sim = sim
        self.settings = settings
        self.pending = Pending()
        self.wake = asyncio.Event()
        self._last_tags: dict[str, tuple[Any, ...]] = {}
        self._last_alarms: dict[tuple[str, int], tuple[Any, ...]] = {}
        self._numbers = message_numbers(sim.plant)

    def headers(self, body: bytes) -> dict[str, str]:
        headers = {"Content-Type": "application/json"}
        if self.settings.signed:
            digest = hmac.new(self.settings.secret.encode(), body, hashlib.sha256).hexdigest()
            headers[SIGNATURE_HEADER] = f"sha256={digest}"
        else:
            headers["Authorization"] = f"Bearer {self.settings.secret}"
        return headers

    # --- finding changes ----------------------------------------------------------------

    def scan(self) -> None:
        """Add what changed since the last scan to what is pending."""
        plant = self.sim.plant
        local = local_zone(self.sim.faults)  # the pushes spell times as the Classic face does
        for name in self.settings.tags:
            reading = plant.read(name)
            if reading is None:
                continue
            marker = (reading.value, reading.quality_code)  # on change, as WinCC triggers
            if self._last_tags.get(name) != marker:
                self._last_tags[name] = marker
                self.pending.tags[name] = value_json(reading, local=local)
        current = {(a.name, a.instance_id): a for a in plant.alarms.visible
                   if a.state in MESSAGE_STATES}
        for key, alarm in current.items():
            moment = (alarm.state, alarm.modification_time)
            if self._last_alarms.get(key) != moment:
                self._last_alarms[key] = moment
                self.pending.alarms.append(message_json(alarm, self._numbers.get(key[0], 0),
                                                       local))
        for key in [k for k in self._last_alarms if k not in current]:
            del self._last_alarms[key]
            self.pending.gone.append({"Name": key[0], "InstanceID": key[1],
                                      "MsgNr": self._numbers.get(key[0], 0)})
        del self.pending.alarms[:-MAX_PENDING_ALARMS]
        del self.pending.gone[:-MAX_PENDING_ALARMS]
        if self.pending:
            self.wake.set()

    async def scanning(self) -> None:
        while True:
            try:
                self.scan()
            except Exception:  # a scan must never end the connector
                log.exception("REST Connector: the scan failed")
            await asyncio.sleep(self.settings.scan)

    # --- posting ------------------------------------------------------------------------

    async def sending(self) -> None:
        async with httpx.AsyncClient(timeout=self.settings.timeout) as client:
            retry = 0.0
            while True:
                await self.wake.wait()
                self.wake.clear()
                batch, self.pending = self.pending, Pending()
                if not batch:
                    continue
                body = json.dumps(batch.body()).encode()
                answer = await self._post(client, body)
                self.sim.counts[
                    "rest connector posted" if answer.ok else "rest connector failed"] += 1
                if answer.ok or answer.permanent:
                    retry = 0.0
                    continue
                # Try again after a pause, with whatever changed meanwhile on top.
                batch.merge_newer(self.pending)
                self.pending = batch
                retry = min(RETRY_MAX, retry * 2 or RETRY_FIRST)
                await asyncio.sleep(max(retry, answer.retry_after))
                self.wake.set()

    async def _post(self, client: httpx.AsyncClient, body: bytes) -> Answer:
        try:
            response = await client.post(self.settings.url, content=body,
                                         headers=self.headers(body))
        except httpx.HTTPError as exc:
            log.warning("REST Connector: no answer from %s (%s); trying again",
                        self.settings.url, type(exc).__name__)
            return Answer(ok=False, permanent=False)
        if response.is_success:
            return Answer(ok=True, permanent=False)
        if response.status_code == 429 or response.status_code >= 500:
            wait = retry_after(response.headers.get("Retry-After"))
            log.warning("REST Connector: %s answered %d; trying again%s", self.settings.url,
                        response.status_code, f" in {wait:g} s (Retry-After)" if wait else "")
            return Answer(ok=False, permanent=False, retry_after=wait)
        log.error("REST Connector: %s refused a post with %d: %s", self.settings.url,
                  response.status_code, response.text[:500])
        return Answer(ok=False, permanent=True)

    async def run(self) -> None:
        await asyncio.gather(self.scanning(), self.sending())
