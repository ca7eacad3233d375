"""What a Classic site's REST Connector posts, checked and read into TagValues and Alarms
for SitePoller.record_push. Plain Python, no Django: the web's view (dashboard/views/
rest_connector.py) only carries the request here and the answer back.

The format is ours (docs/protocols.md#rest-connector-pushes): Siemens publishes the REST
Connector's configurator, not a body, so a project's engineer composes this one there. Tag
items are spelt as Classic's value endpoints answer, alarm items as its message lists do,
and the same code as the Classic dialect reads them (wincc_bridge.dialects.classic).

Strict, unlike the dialect: a push is composed by hand once, so a misspelt key or state is
refused at once with its JSON path, where a lenient reading would drop values unseen.
"""

from __future__ import annotations

import hmac
import json
from collections.abc import Mapping
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

from jsonschema import Draft202012Validator

from wincc_bridge.alarm_states import classic_state
from wincc_bridge.dialects._wire import wire_time
from wincc_bridge.dialects.classic import message_alarm, tag_item
from wincc_bridge.localtime import site_times
from wincc_bridge.models import Alarm, TagValue, alarm_key
from wincc_ingest.config import ConfigError, RestConnector, SiteConfig, parse
from wincc_ingest.config_validation import json_path, problems_against
from wincc_ingest.delivery import signature

SCHEMA_PATH = Path(__file__).with_name("push.schema.json")
# Problems named in one answer; a body with more is broken throughout anyway.
MAX_PROBLEMS = 20


class PushRefused(Exception):
    """The push is not taken; `problems` says why, each with its JSON path."""

    def __init__(self, problems: list[str]) -> None:
        self.problems = problems[:MAX_PROBLEMS]
        self.more = max(0, len(problems) - MAX_PROBLEMS)
        super().__init__("; ".join(self.problems))


@dataclass(frozen=True)
class Push:
    tags: tuple[TagValue, ...] = ()
    alarms: tuple[Alarm, ...] = ()
    gone: tuple[str, ...] = ()  # Alarm keys


@lru_cache(maxsize=1)
def _validator() -> Draft202012Validator:
    return Draft202012Validator(json.loads(SCHEMA_PATH.read_text(encoding="utf-8")))


def credentials_problem(
    connector: RestConnector,
    environ: Mapping[str, str],
    headers: Mapping[str, str],
    body: bytes,
) -> str | None:
    """None when the request proves itself with the site's secret; else "missing" (nothing
    offered: 401) or "wrong" (403). `headers` are looked up by lower-case name. Constant
    time, and an unset secret accepts nothing."""
    secret = connector.secret(environ)
    if connector.signature_env:
        offered = headers.get(connector.signature_header.lower(), "")
        expected = signature(secret, body)
    else:
        scheme, _, token = headers.get("authorization", "").partition(" ")
        offered = token.strip() if scheme.lower() == "bearer" else ""
        expected = secret
    if not offered:
        return "missing"
    if not secret or not hmac.compare_digest(offered.encode(), expected.encode()):
        return "wrong"
    return None


def read_push(body: bytes, site: SiteConfig) -> Push:
    """The push in `body` for `site`; PushRefused lists every problem."""
    try:
        text = body.decode("utf-8-sig")  # WinCC runs on Windows, where a BOM is common
    except UnicodeDecodeError as exc:
        raise PushRefused([f"$: not UTF-8 text (byte {exc.start})"]) from None
    try:
        data = parse(text, "the push")
    except ConfigError as exc:
        raise PushRefused(exc.problems) from None
    problems = problems_against(_validator(), data)
    if problems:
        raise PushRefused(problems)
    problems = []
    times = site_times(site.id, site.timezone)
    tags = []
    for index, raw in enumerate(data.get("tags", [])):
        path = ["tags", index]
        problems += _times(raw, path, ("timestamp",))
        tags.append(tag_item(raw, times))
    alarms = []
    for index, raw in enumerate(data.get("alarms", [])):
        path = ["alarms", index]
        problems += _times(raw, path, ("DateTime", "AckTime", "ClearTime"))
        problems += _named(raw, path)
        if classic_state(raw["State"]) is None:
            problems.append(
                f"{json_path([*path, 'State'])}: unknown alarm state {json.dumps(raw['State'])}; "
                "use 1 (came in), 2 (went out unacknowledged), 3 (acknowledged) or their "
                "symbols +, -, * (docs/protocols.md)"
            )
        alarms.append(message_alarm(raw, site.id, site.ack_tags, times))
    gone = []
    for index, raw in enumerate(data.get("gone", [])):
        problems += _named(raw, ["gone", index])
        name = raw.get("Name") or str(raw.get("MsgNr", ""))
        gone.append(alarm_key(name, raw.get("InstanceID", 0)))
    if problems:
        raise PushRefused(problems)
    return Push(tuple(tags), tuple(alarms), tuple(gone))


def _times(raw: Mapping[str, Any], path: list[Any], keys: tuple[str, ...]) -> list[str]:
    return [
        f"{json_path([*path, key])}: not a time; give ISO-8601 such as "
        "2026-01-01T10:00:00.000Z"
        for key in keys
        if raw.get(key) is not None and wire_time(raw[key]) is None
    ]


def _named(raw: Mapping[str, Any], path: list[Any]) -> list[str]:
    if raw.get("Name") or "MsgNr" in raw:
        return []
    return [f"{json_path(path)}: needs Name or MsgNr, the alarm's name as the site lists it"]
