"""`wincc-bridge ... selftest`: every read operation against a real server, as a report an
automation engineer can send back. Nothing is written and nothing acknowledged.

Each check is one JSON line: what was asked, whether it worked, how long it took, a sample
of the answer and, for a failure, the error class and sentence. The HTTP exchanges (method,
path, status, size, time; never a body, a header or a secret) are recorded as well, so
redirects, refused requests and paging show in the report. The last line sums it up.
"""

from __future__ import annotations

import logging
import platform
import time
from collections import Counter
from collections.abc import Callable, Sequence
from importlib.metadata import PackageNotFoundError, version
from typing import Any

from wincc_bridge.client import (
    AuthError,
    ConnectError,
    NotSupportedError,
    WinCCClient,
    WinCCError,
)
from wincc_bridge.models import Alarm, TagValue
from wincc_bridge.transport import shown_url

# Tags read when none are named: the first ones browse found.
READ_SAMPLE = 10
SHOWN = 5
# Checks after which the rest cannot work: no connection, no login.
_FATAL = (AuthError, ConnectError)

Output = Callable[[dict[str, Any]], None]


class _Exchanges(logging.Handler):
    """The transport's debug lines (one per HTTP exchange), kept for the report."""

    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.lines: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        if record.msg.startswith("%s %s -> "):
            self.lines.append(record.getMessage())

    def take(self) -> list[str]:
        taken, self.lines = self.lines, []
        return taken


def run(client: WinCCClient, tags: Sequence[str], pattern: str, out: Output) -> bool:
    """Run every read check in order; True when all worked."""
    logger = logging.getLogger("wincc_bridge")
    exchanges = _Exchanges()
    level = logger.level
    logger.addHandler(exchanges)
    logger.setLevel(logging.DEBUG)
    failed: list[str] = []
    try:
        out(_about(client))
        found: list[str] = []

        def check(
            name: str, action: Callable[[], dict[str, Any]], *, optional: bool = False
        ) -> WinCCError | None:
            started = time.perf_counter()
            line: dict[str, Any] = {"check": name}
            problem = None
            try:
                line.update(ok=True, **action())
            except WinCCError as exc:
                if optional and isinstance(exc, NotSupportedError):
                    # A server without a tag browser or an alarm list still works for the
                    # product: the report says what it lacks, and the check does not fail.
                    line.update(ok=None, not_offered=str(exc))
                else:
                    problem = exc
                    line.update(ok=False, error_class=type(exc).__name__, error=str(exc))
                    failed.append(name)
            line["ms"] = round((time.perf_counter() - started) * 1000, 1)
            line["http"] = exchanges.take()
            out(line)
            return problem

        def ping() -> dict[str, Any]:
            client.ping()
            return {}

        def browse() -> dict[str, Any]:
            items = client.browse(pattern)
            found.extend(item.name for item in items)
            return {
                "pattern": pattern,
                "count": len(items),
                "object_types": dict(Counter(item.object_type or "?" for item in items)),
                "sample": [
                    {"name": i.name, "object_type": i.object_type, "data_type": i.data_type}
                    for i in items[:SHOWN]
                ],
            }

        def read() -> dict[str, Any]:
            names = list(tags) or found[:READ_SAMPLE]
            values = client.read_tags(names)
            return {"tags_from": "--tag" if tags else "browse", **_values_report(values)}

        def alarms() -> dict[str, Any]:
            active = client.active_alarms()
            return _alarms_report(active)

        if isinstance(check("ping", ping), _FATAL):
            # Without a connection or a login every other check fails the same way.
            for name in ("browse", "read", "alarms"):
                out({"check": name, "ok": None, "skipped": "the ping failed"})
                failed.append(name)
        else:
            check("browse", browse, optional=True)
            check("read", read)
            if client.capabilities().active_alarms:
                check("alarms", alarms, optional=True)
            else:
                out(
                    {
                        "check": "alarms",
                        "ok": None,
                        "skipped": "not offered with these "
                        "settings (Classic needs --alarm-filter naming a REST filter)",
                    }
                )
    finally:
        logger.removeHandler(exchanges)
        logger.setLevel(level)
    out({"selftest": "done", "ok": not failed, "failed": failed})
    return not failed


def _about(client: WinCCClient) -> dict[str, Any]:
    settings = client.settings
    try:
        bridge_version = version("wincc-dashboard")
    except PackageNotFoundError:
        bridge_version = "unknown"
    about: dict[str, Any] = {
        "selftest": "start",
        "dialect": client.dialect,
        "server": shown_url(settings.url),
        "bridge_version": bridge_version,
        "python": platform.python_version(),
        "tls": "insecure" if settings.insecure else ("pinned" if settings.ca_file else "system"),
        "timeout": settings.timeout,
        "capabilities": {
            "read_tags": True,
            "browse": True,
            "active_alarms": client.capabilities().active_alarms,
        },
    }
    if client.dialect == "unified":
        about["graphql_path"] = settings.graphql_path
        about["browse_object_types"] = list(settings.browse_object_types)
    if client.dialect == "classic":
        about["alarm_filter"] = settings.alarm_filter
        about["browse_page_size"] = settings.browse_page_size
    return about


def _values_report(values: list[TagValue]) -> dict[str, Any]:
    return {
        "count": len(values),
        "errors": sum(1 for v in values if v.error is not None),
        "qualities": dict(Counter(v.quality.value for v in values)),
        "quality_codes": sorted({v.quality_code for v in values if v.quality_code is not None}),
        "without_timestamp": sum(1 for v in values if v.timestamp is None and v.error is None),
        "value_types": sorted({type(v.value).__name__ for v in values if v.error is None}),
        "sample": [v.to_json() for v in values[:SHOWN]],
    }


def _alarms_report(alarms: list[Alarm]) -> dict[str, Any]:
    return {
        "count": len(alarms),
        "server_states": dict(Counter(a.source_state or "?" for a in alarms)),
        "acknowledgeable": sum(1 for a in alarms if a.can_acknowledge),
        "sample": [
            {
                "name": a.name,
                "instance_id": a.instance_id,
                "state": a.state.value,
                "server_state": a.source_state,
                "priority": a.priority,
                "alarm_class": a.alarm_class,
                "raise_time": a.to_json()["raise_time"],
            }
            for a in alarms[:SHOWN]
        ],
    }
