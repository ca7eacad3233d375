"""Request parameters outside a Form: one strict parser each, and one error.

Every view that reads request.GET or request.POST without a Django Form goes through
these. A value that does not fit raises BadParameter with a plain sentence naming the
parameter, in the person's language (the parameter's name stays as the address writes it);
the view answers it with HTTP 400. Only ASCII digits count as digits ("²" and
"٣" are refused, though str.isdigit() accepts them).

No request reaches a view with a NUL character in its address, query or form (PostgreSQL
refuses NUL in text, in a search as in a stored row): nul_problem() finds it and
dashboard.middleware.BadParameterMiddleware answers 400 before any view, the admin's too.
"""

from __future__ import annotations

import re
from collections.abc import Collection, Mapping

from django.http import HttpRequest
from django.utils.translation import gettext

_WHOLE_NUMBER = re.compile(r"[0-9]{1,18}")


class BadParameter(ValueError):
    """A request parameter that does not fit; the message is a sentence for the person."""


def text(query: Mapping[str, str], name: str, *, max_length: int, default: str = "") -> str:
    """A text parameter, stripped; at most max_length characters."""
    value = query.get(name, default).strip()
    if len(value) > max_length:
        raise BadParameter(gettext("%(name)s may be at most %(max_length)d characters long.")
                           % {"name": name, "max_length": max_length})
    return value


def nul_problem(request: HttpRequest) -> str | None:
    """The sentence for a NUL character in the request's path, query or form; else None."""
    if "\x00" in request.path:
        return gettext("The address may not contain a NUL character.")
    form = request.POST if request.method == "POST" else None
    for query in (request.GET, form):
        for key, values in (query.lists() if query is not None else ()):
            if "\x00" in key or any("\x00" in value for value in values):
                shown = key.replace("\x00", "")[:40]
                if not shown:
                    return gettext("A parameter may not contain a NUL character.")
                return gettext("%(name)s may not contain a NUL character.") % {"name": shown}
    return None


def clipped(query: Mapping[str, str], name: str, max_length: int) -> str:
    """What a refused request named, kept for its audit row: cut to size, never refused."""
    return query.get(name, "").replace("\x00", "").strip()[:max_length]


def choice(query: Mapping[str, str], name: str, allowed: Collection[str], default: str = "") -> str:
    """One of `allowed`; the default when absent or empty."""
    value = query.get(name, "").strip()
    if not value:
        return default
    if value not in allowed:
        shown = value if len(value) <= 40 else value[:40] + "…"
        raise BadParameter(gettext("There is no %(name)s %(value)r. Choose one of: %(choices)s.")
                           % {"name": name, "value": shown, "choices": ", ".join(allowed)})
    return value


def whole_number(query: Mapping[str, str], name: str, *, minimum: int = 0,
                 maximum: int = 10**18 - 1, default: int | None = None) -> int | None:
    """A whole number in ASCII digits between minimum and maximum; the default when absent."""
    value = query.get(name, "").strip()
    if not value:
        return default
    if not _WHOLE_NUMBER.fullmatch(value) or not minimum <= int(value) <= maximum:
        raise BadParameter(
            gettext("%(name)s must be a whole number from %(minimum)d to %(maximum)d, "
                    "not %(value)r.")
            % {"name": name, "minimum": minimum, "maximum": maximum, "value": value[:40]}
        )
    return int(value)
