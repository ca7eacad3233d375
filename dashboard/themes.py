"""The light and the dark (control-room) theme: which one a page is drawn in.

One stylesheet holds both (static/dashboard/dashboard.css, each colour a `light-dark()`
pair); the page's <html data-theme> picks one, and without it the device's own setting
(`prefers-color-scheme`) does. Chosen in the page, not by a script after it loads, so a
page never flashes in the other theme first.
"""

from __future__ import annotations

from django.http import HttpRequest

from dashboard import languages
from dashboard.models import DisplayPreference

AUTO = "auto"
CHOICES = [key for key, _ in DisplayPreference.THEMES]


def context(request: HttpRequest) -> dict:
    """Template context processor: `ui_theme`, asked for only when a page draws <html> (a
    fragment rendered with the request costs no query)."""

    def theme() -> str:
        # The person's choice is read with their language, once per request.
        languages.chosen(request)
        return getattr(request, "_ui_theme", AUTO)

    return {"ui_theme": theme}
