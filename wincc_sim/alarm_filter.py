"""A small part of WinCC Unified's ChromQueryLanguage: the WHERE part of `activeAlarms`.

Supported: `Attribute OP value` terms joined by AND and OR (AND binds tighter), OP one of
= <> != < <= > >= LIKE, values as numbers or 'quoted text' (LIKE takes * and ? or % and _).
Anything else is refused with error 301, as WinCC does for a syntax error.
"""

from __future__ import annotations

import fnmatch
import operator
import re
from collections.abc import Callable
from typing import Any

_TOKEN = re.compile(
    r"\s*(?:(?P<num>-?\d+(?:\.\d+)?)|'(?P<str>(?:[^']|'')*)'|(?P<op><>|!=|<=|>=|=|<|>)"
    r"|(?P<word>[A-Za-z_][A-Za-z0-9_]*))"
)
_OPS: dict[str, Callable[[Any, Any], bool]] = {
    "=": operator.eq, "<>": operator.ne, "!=": operator.ne, "<": operator.lt,
    "<=": operator.le, ">": operator.gt, ">=": operator.ge,
}


class FilterError(ValueError):
    """The filter string cannot be parsed (WinCC error 301)."""


Predicate = Callable[[dict[str, Any]], bool]


def compile_filter(text: str) -> Predicate:
    """A predicate over an alarm's attributes (keys compared case-insensitively)."""
    tokens = _tokenize(text)
    if not tokens:
        return lambda alarm: True
    alternatives: list[list[Predicate]] = [[]]
    pos = 0
    while True:
        if pos + 3 > len(tokens):
            raise FilterError(f"incomplete condition at the end of {text!r}")
        (kind_a, attr), (kind_o, op), (kind_v, value) = tokens[pos:pos + 3]
        if kind_a != "word" or kind_v not in ("num", "str"):
            raise FilterError(f"expected <attribute> <operator> <value> in {text!r}")
        if kind_o == "word" and op.upper() == "LIKE":
            alternatives[-1].append(_like(attr, str(value)))
        elif kind_o == "op":
            alternatives[-1].append(_compare(attr, _OPS[op], value))
        else:
            raise FilterError(f"unknown operator {op!r}")
        pos += 3
        if pos == len(tokens):
            break
        kind_j, joiner = tokens[pos]
        if kind_j != "word" or joiner.upper() not in ("AND", "OR"):
            raise FilterError(f"expected AND or OR, got {joiner!r}")
        if joiner.upper() == "OR":
            alternatives.append([])
        pos += 1
    return lambda alarm: any(all(p(alarm) for p in group) for group in alternatives)


def _tokenize(text: str) -> list[tuple[str, Any]]:
    tokens: list[tuple[str, Any]] = []
    pos = 0
    text = text.strip()
    while pos < len(text):
        match = _TOKEN.match(text, pos)
        # Every alternative is a named group, so a match always names its kind.
        if match is None or match.end() == pos or match.lastgroup is None:
            raise FilterError(f"cannot read the filter at {text[pos:]!r}")
        kind = match.lastgroup
        raw = match.group(kind)
        if kind == "num":
            tokens.append((kind, float(raw)))
        elif kind == "str":
            tokens.append((kind, raw.replace("''", "'")))
        else:
            tokens.append((kind, raw))
        pos = match.end()
    return tokens


def _get(alarm: dict[str, Any], attr: str) -> Any:
    for key, value in alarm.items():
        if key.lower() == attr.lower():
            return value[0] if isinstance(value, list) and value else value
    raise FilterError(f"unknown alarm attribute {attr!r}")


def _compare(attr: str, op, value) -> Predicate:
    def check(alarm: dict[str, Any]) -> bool:
        current = _get(alarm, attr)
        if isinstance(value, float):
            try:
                return op(float(current), value)
            except (TypeError, ValueError):
                return False
        return op(str(current), value)

    return check


def _like(attr: str, pattern: str) -> Predicate:
    glob = pattern.replace("%", "*").replace("_", "?")

    def check(alarm: dict[str, Any]) -> bool:
        return fnmatch.fnmatchcase(str(_get(alarm, attr)), glob)

    return check
