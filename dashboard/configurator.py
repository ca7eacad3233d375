"""A changed configuration from tags picked on a WinCC server: one function for the tag
browser (dashboard/views/tag_browser.py) and `manage.py wincc_config add-tags`.

The change is made on the file's JSON document, so every key it does not touch stays as it
was, and it is validated by the same schema and checks as the file at start-up before anyone
sees it. The result is offered as a unified diff against the file, and written to the file
(atomically, the old content kept beside it) only where CONFIG_WRITES_ALLOWED says so. Every
process then picks the written file up by itself (dashboard/siteconfig.py).
"""

from __future__ import annotations

import copy
import difflib
import json
import os
import re
import tempfile
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from django.conf import settings
from django.utils.translation import gettext

from dashboard.siteconfig import get_config, version_of
from wincc_ingest import config as bridge_config

LIMIT_KEYS = ("ll", "l", "h", "hh")
# Data types whose values are whole numbers: shown without decimals. Unified names its types
# (Bool, DInt, UInt...); Classic gives a DM_VARTYPE number (1 bit ... 7 unsigned double word).
_WHOLE_TYPES = re.compile(r"bool|int|byte|word", re.IGNORECASE)
_CLASSIC_WHOLE = {"1", "2", "3", "4", "5", "6", "7"}


def whole_number_type(data_type: str) -> bool:
    return data_type in _CLASSIC_WHOLE or bool(_WHOLE_TYPES.search(data_type))


@dataclass(frozen=True)
class PickedTag:
    """A tag as it is to be configured. Empty settings are left out of the file (the tag then
    shows its name, no unit, no limits); settings the picker does not know (writable, write
    range) stay as the file has them."""

    name: str
    label: str = ""
    unit: str = ""
    limits: Mapping[str, float] = field(default_factory=dict)
    range_min: float | None = None
    range_max: float | None = None
    decimals: int | None = None


@dataclass(frozen=True)
class Change:
    """The file before and after; `config` is the validated configuration after."""

    source: str
    old_version: str  # of the file's bytes, as siteconfig counts it
    old_text: str
    new_text: str
    config: bridge_config.Config
    added: tuple[str, ...]
    updated: tuple[str, ...]

    @property
    def new_version(self) -> str:
        return version_of(self.new_text.encode())

    @property
    def changed(self) -> bool:
        return self.old_text != self.new_text

    def diff(self) -> str:
        name = Path(self.source).name
        return "".join(difflib.unified_diff(
            _lines(self.old_text), _lines(self.new_text), f"a/{name}", f"b/{name}"))


def _lines(text: str) -> list[str]:
    """Lines for a diff that `patch` applies: a last line without its newline says so."""
    lines = text.splitlines(keepends=True)
    if lines and not lines[-1].endswith("\n"):
        lines[-1] += "\n\\ No newline at end of file\n"
    return lines


class WriteRefused(Exception):
    """The file was not written; the message says why."""


def add_tags(
    source: str,
    site_id: str,
    tags: Sequence[PickedTag],
    *,
    dashboard: str = "",
    dashboard_title: str = "",
    also_show: Sequence[str] = (),
) -> Change:
    """The configuration in the file `source` with `tags` configured on site `site_id` (added,
    or their settings replaced), and, with `dashboard`, shown as tiles on that dashboard (made
    when missing) with the site's tags `also_show`. Raises ConfigError with every problem of
    the result (or of the file)."""
    old_bytes = bridge_config.read_bytes(source)
    try:
        old_text = old_bytes.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise bridge_config.ConfigError(source, ["$: not UTF-8 text"]) from None
    data = bridge_config.parse(old_text, source)
    new = copy.deepcopy(data)
    site = _site(new, site_id, source)
    entries = site.setdefault("tags", [])
    by_name = {entry.get("name"): entry for entry in entries if isinstance(entry, dict)}
    added, updated = [], []
    for tag in tags:
        if tag.name in by_name:
            _set(by_name[tag.name], tag)
            updated.append(tag.name)
        else:
            entry = _set({"name": tag.name}, tag)
            entries.append(entry)
            by_name[tag.name] = entry
            added.append(tag.name)
    if dashboard:
        _show(new, dashboard, dashboard_title, site_id,
              [*also_show, *(tag.name for tag in tags)])
    new_text = json.dumps(new, indent=2, ensure_ascii=False) + "\n"
    config = bridge_config.load_bytes(new_text.encode(), source)
    return Change(source, version_of(old_bytes), old_text, new_text, config, tuple(added),
                  tuple(updated))


def _site(data: Any, site_id: str, source: str) -> dict[str, Any]:
    for site in data.get("sites", []) if isinstance(data, dict) else []:
        if isinstance(site, dict) and site.get("id") == site_id:
            return site
    raise bridge_config.ConfigError(source, [f"$.sites: no site {site_id!r}"])


def _set(entry: dict[str, Any], tag: PickedTag) -> dict[str, Any]:
    for key, value in (("label", tag.label), ("unit", tag.unit)):
        if value:
            entry[key] = value
        else:
            entry.pop(key, None)
    limits = {k: tag.limits[k] for k in LIMIT_KEYS if tag.limits.get(k) is not None}
    if limits:
        entry["limits"] = limits
    else:
        entry.pop("limits", None)
    display = {k: v for k, v in (("min", tag.range_min), ("max", tag.range_max))
               if v is not None}
    if display:
        entry["range"] = display
    else:
        entry.pop("range", None)
    if tag.decimals is not None:
        entry["decimals"] = tag.decimals
    else:
        entry.pop("decimals", None)
    return entry


def _show(data: dict[str, Any], board_id: str, title: str, site_id: str,
          names: list[str]) -> None:
    """Tiles of `names` on the dashboard: appended to its first tiles panel of the site."""
    boards = data.setdefault("dashboards", [])
    board = next((b for b in boards if isinstance(b, dict) and b.get("id") == board_id), None)
    if board is None:
        board = {"id": board_id, "title": title or board_id, "panels": []}
        boards.append(board)
    elif title:
        board["title"] = title
    panels = board.setdefault("panels", [])
    panel = next((p for p in panels if isinstance(p, dict) and p.get("kind") == "tiles"
                  and p.get("site") == site_id), None)
    if panel is None:
        panel = {"kind": "tiles", "title": _site_name(data, site_id), "site": site_id,
                 "tags": []}
        panels.append(panel)
    shown = panel.setdefault("tags", [])
    shown.extend(name for name in names if name not in shown)


def _site_name(data: dict[str, Any], site_id: str) -> str:
    return next((s.get("name", site_id) for s in data["sites"] if s.get("id") == site_id),
                site_id)


def write(change: Change) -> Path:
    """Write the changed file when CONFIG_WRITES_ALLOWED, atomically, the file's old content
    kept as `<file>.<old version>.bak`; the backup's path. WriteRefused when not allowed or
    when the file changed since the change was made from it."""
    if not settings.CONFIG_WRITES_ALLOWED:
        raise WriteRefused(gettext(
            "Writing the configuration file is switched off (CONFIG_WRITES_ALLOWED): download "
            "the diff and apply it to the file; the dashboard takes it up without a restart."
        ))
    path = Path(change.source)
    current = bridge_config.read_bytes(path)
    if version_of(current) != change.old_version:
        raise WriteRefused(gettext(
            "The file %(path)s changed since this change was made from it (now version "
            "%(now)s, not %(was)s): nothing was written. Make the change again from the file "
            "as it is now."
        ) % {"path": path, "now": version_of(current), "was": change.old_version})
    backup = path.with_name(f"{path.name}.{change.old_version}.bak")
    _replace(backup, current, path)
    _replace(path, change.new_text.encode(), path)
    get_config.look_now()
    return backup


def audit(change: Change, site_id: str, *, username: str, user=None, remote_addr: str = "",
          device: str = "") -> None:
    """The written change as an audit row (action "configure"), beside acknowledgements and
    writes."""
    from dashboard.models import AuditEntry

    parts = [f"configuration {change.old_version} -> {change.new_version}"]
    if change.added:
        parts.append(f"added {', '.join(change.added)}")
    if change.updated:
        parts.append(f"changed {', '.join(change.updated)}")
    AuditEntry.objects.create(
        user=user, username=username, action="configure", site_id=site_id, alarm_name="",
        remote_addr=remote_addr, device=device[:256], result=AuditEntry.Result.OK,
        message="; ".join(parts),
    )


def _replace(target: Path, data: bytes, like: Path) -> None:
    """Write `target` whole or not at all: a temporary file beside it, renamed over it, with
    the mode of `like` (readers never see half a file)."""
    fd, tmp = tempfile.mkstemp(prefix=f".{target.name}.", dir=target.parent)
    try:
        with os.fdopen(fd, "wb") as out:
            out.write(data)
            out.flush()
            os.fsync(out.fileno())
        os.chmod(tmp, like.stat().st_mode & 0o777)
        os.replace(tmp, target)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
