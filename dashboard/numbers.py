"""A number as the active language writes it: "2.5" in English, "2,5" in German. One place
for the decimal sign, so a value, a limit, a KPI and a sentence's number read alike; no
thousand separators anywhere (a reading, not an amount)."""

from __future__ import annotations

from django.utils import formats


def in_language(digits: str) -> str:
    """`digits` written with a decimal point ("182.5"), in the active language's sign."""
    return digits.replace(".", str(formats.get_format("DECIMAL_SEPARATOR")))


def shortest(value: float) -> str:
    """The shortest form of `value` (200, 2.5), in the active language's sign."""
    return in_language(f"{value:g}")
