"""WCAG 2 contrast of both themes' text on its backgrounds, computed from the colours the
stylesheets declare (each a light-dark(light, dark) pair): AA is 4.5:1 for normal text and
3:1 for large text (the values). tests/browser/test_themes_browser.py measures the pages as
drawn."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

STATIC = Path(__file__).resolve().parents[2] / "static" / "dashboard"
AA_TEXT = 4.5
AA_LARGE = 3.0

# (text, background, least ratio): every pairing dashboard.css, wall.css and the partials draw.
PAIRS = [
    ("ink", "bg", AA_TEXT), ("ink", "panel", AA_TEXT), ("ink", "tile", AA_TEXT),
    ("muted", "bg", AA_TEXT), ("muted", "panel", AA_TEXT), ("muted", "tile", AA_TEXT),
    # the header: its current page, the counts, a button
    ("ink", "header", AA_TEXT), ("muted", "header", AA_TEXT), ("ink", "current", AA_TEXT),
    ("ink", "count", AA_TEXT), ("muted", "count", AA_TEXT), ("ink", "button", AA_TEXT),
    # results, limit words, the unacknowledged count, the offline notice
    ("emph-ink", "emph", AA_TEXT),
    # an unacknowledged alarm's state word: the tile's colour on the ink
    ("tile", "ink", AA_TEXT),
    # stale tiles, stale-site lines and trends are drawn on a two-tone hatch
    ("stale", "stripe-a", AA_TEXT), ("stale", "stripe-b", AA_TEXT),
    ("ink", "stripe-a", AA_TEXT), ("ink", "stripe-b", AA_TEXT),
    ("bad", "tile", AA_LARGE),  # a bad value: large text
    # the wall's strip, its counts, and the blinking alarm (the same pair, inverted)
    ("strip-ink", "strip", AA_TEXT), ("strip-ink", "count", AA_TEXT), ("muted", "count", AA_TEXT),
    ("muted", "strip", AA_TEXT),
    # the wall's "not live" notice, text on its panel and on the hatch around it
    ("dead-ink", "dead", AA_TEXT), ("dead-ink", "dead-stripe", AA_TEXT),
]
HEX = r"#[0-9a-fA-F]{3,6}\b"


def _block(css: str, selector: str) -> dict[str, tuple[str, str]]:
    """A block's colour variables as (light, dark): light-dark(a, b), or one colour for both."""
    match = re.search(re.escape(selector) + r"\s*\{([^}]*)\}", css)
    assert match, f"no {selector} block"
    colours = {}
    for name, value in re.findall(r"--([\w-]+):\s*([^;]+);", match.group(1)):
        pair = re.fullmatch(rf"light-dark\(\s*({HEX})\s*,\s*({HEX})\s*\)", value.strip())
        if pair:
            colours[name] = (pair.group(1), pair.group(2))
        elif re.fullmatch(HEX, value.strip()):
            colours[name] = (value.strip(), value.strip())
    return colours


def theme(name: str) -> dict[str, str]:
    """The theme's colours: the product's (dashboard.css), then the wall's own (wall.css)."""
    both = _block((STATIC / "dashboard.css").read_text(), ":root")
    both.update(_block((STATIC / "wall.css").read_text(), "body.wall"))
    which = 0 if name == "light" else 1
    return {key: pair[which] for key, pair in both.items()}


def luminance(hex_colour: str) -> float:
    digits = hex_colour.lstrip("#")
    if len(digits) == 3:
        digits = "".join(c * 2 for c in digits)
    channels = []
    for i in (0, 2, 4):
        c = int(digits[i:i + 2], 16) / 255
        channels.append(c / 12.92 if c <= 0.04045 else ((c + 0.055) / 1.055) ** 2.4)
    red, green, blue = channels
    return 0.2126 * red + 0.7152 * green + 0.0722 * blue


def contrast(a: str, b: str) -> float:
    light, dark = sorted((luminance(a), luminance(b)), reverse=True)
    return (light + 0.05) / (dark + 0.05)


def test_the_formula_matches_known_ratios():
    assert contrast("#000", "#fff") == pytest.approx(21.0)
    assert contrast("#777", "#fff") == pytest.approx(4.48, abs=0.01)
    assert contrast("#123456", "#123456") == pytest.approx(1.0)


@pytest.mark.parametrize("name", ["dark", "light"])
def test_theme_text_meets_wcag_aa(name):
    colours = theme(name)
    failing = []
    for text, background, least in PAIRS:
        ratio = contrast(colours[text], colours[background])
        if ratio < least:
            failing.append(f"--{text} {colours[text]} on --{background} {colours[background]}: "
                           f"{ratio:.2f} < {least}")
    assert not failing, "\n".join(failing)


def test_both_themes_define_every_colour_they_use():
    """A colour missing from a theme would fall back to the browser's default, unchecked."""
    css = "".join((STATIC / name).read_text() for name in ("dashboard.css", "wall.css",
                                                          "trend.css", "annunciator.css"))
    used = set(re.findall(r"var\(--([\w-]+)\)", css))
    assert used - set(theme("dark")) == set()
