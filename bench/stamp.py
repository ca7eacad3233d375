"""Values that carry their own publish time, so a client can tell how old a value is.

The driver writes, as a tag's value, the publish time modulo 10,000 s with three
decimals (a tag configured with `decimals: 3`). A client reading the rendered tile turns
the number back into the absolute publish time, using its own clock (same machine).
"""

from __future__ import annotations

import re

MODULO = 10_000.0

# A rendered stamp: up to four digits, an optional thousands separator, three decimals.
# The tiles configured for stamps carry the unit STAMP_UNIT, which anchors the match.
STAMP_UNIT = "sx"
DEFAULT_PATTERN = (
    rb"(\d{1,2}(?:,|\xe2\x80\xaf|\xc2\xa0)?\d{0,3}\.\d{3})"
    rb"(?:\s|&nbsp;|&#160;|data:|<[^<>]{0,200}>){0,12}" + STAMP_UNIT.encode()
)


def encode(t: float) -> float:
    return round(t % MODULO, 3)


def decode(value: float, now: float) -> float:
    """The absolute time (near `now`, not after it by more than 1 s) a stamp stands for."""
    age = (now - value) % MODULO
    if age > MODULO - 1.0:  # a stamp slightly in the future (clock read order)
        age -= MODULO
    return now - age


def number(raw: bytes) -> float:
    return float(raw.replace(b",", b"").replace("\u202f".encode(), b"").replace(b"\xc2\xa0", b""))


# The tile markup of templates/partials/tile.html: a literal start lets the regex engine skip
# ahead fast, which matters when one load-client process reads hundreds of streams.
TILE_PATTERN = (
    r'class="value">(\d{1,2}(?:,|\xe2\x80\xaf|\xc2\xa0)?\d{0,3}\.\d{3})</span>'
    r'\s*<span class="unit">' + STAMP_UNIT + "<"
)


def pattern_for(page_html: str) -> str | None:
    """The tile pattern when the page's tiles use that markup; None (the default) otherwise."""
    if f'<span class="unit">{STAMP_UNIT}</span>' in page_html and 'class="value">' in page_html:
        return TILE_PATTERN
    return None


def compile_pattern(pattern: str | None) -> re.Pattern[bytes]:
    return re.compile(pattern.encode() if pattern else DEFAULT_PATTERN)
