"""Keeps secrets that arrive in query strings out of the access log.

A wall screen's token comes once as `?token=...` (dashboard/views/wall.py exchanges it for a
session at once); the access log line of that one request would still carry it. This
filter, on the access loggers of uvicorn and gunicorn (installed by dashboard/gunicorn_conf.py),
rewrites such values to `[removed]` before any handler sees the line. Names are compared
as Django decodes them, so `?to%6Ben=` is caught too.
"""

from __future__ import annotations

import logging
import re
from urllib.parse import unquote_plus

SECRET_PARAMETERS = frozenset({"token"})
REMOVED = "[removed]"
ACCESS_LOGGERS = ("uvicorn.access", "gunicorn.access")

# name=value inside a query string: after "?" or "&", up to the next "&", space or quote.
_PAIR = re.compile(r"(?<=[?&])([^=&\s\"]*)=([^&\s\"]*)")


def scrub(text: str) -> str:
    """`text` with the value of every secret query parameter replaced."""
    if "=" not in text:
        return text

    def replace(match: re.Match[str]) -> str:
        name = unquote_plus(match.group(1)).strip().lower()
        return f"{match.group(1)}={REMOVED}" if name in SECRET_PARAMETERS else match.group(0)

    return _PAIR.sub(replace, text)


def _scrubbed(value: object) -> object:
    return scrub(value) if isinstance(value, str) else value


class SecretQueryFilter(logging.Filter):
    """Rewrites the record's message and arguments; drops nothing."""

    def filter(self, record: logging.LogRecord) -> bool:
        if isinstance(record.msg, str):
            record.msg = scrub(record.msg)
        if isinstance(record.args, tuple):
            record.args = tuple(_scrubbed(arg) for arg in record.args)
        elif isinstance(record.args, dict):
            record.args = {key: _scrubbed(arg) for key, arg in record.args.items()}
        return True


def install() -> None:
    """Put the filter on the access loggers (once, however often it is called)."""
    for name in ACCESS_LOGGERS:
        logger = logging.getLogger(name)
        if not any(isinstance(f, SecretQueryFilter) for f in logger.filters):
            logger.addFilter(SecretQueryFilter())
