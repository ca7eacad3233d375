"""What every export shares: cells a spreadsheet will not run, and a CSV writer that hands
its lines back for streaming."""

from __future__ import annotations

# A cell starting with one of these is a formula to a spreadsheet; comments and alarm names
# come from people, so such a cell is written as text (a leading apostrophe).
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def safe_text(text: str) -> str:
    return f"'{text}" if text.startswith(FORMULA_START) else text


class Echo:
    """A file-like target that hands back what csv.writer wrote."""

    def write(self, text: str) -> str:
        return text
