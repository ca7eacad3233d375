"""The light and the dark (control-room) theme: which one a page is drawn in.

One stylesheet holds both (static/dashboard/dashboard.css, each colour a `light-dark()`
pair); the page's <html data-theme> picks one, and without it the device's own setting
(`prefers-color-scheme`) does. Chosen in the page, not by a script after it loads, so a
page never flashes in the other theme first.
"""

from __future__ import annotations

from django.http import HttpRequest

from dashboard.models import DisplayPreference

AUTO = "auto"
CHOICES = [key for key, _ in DisplayPreference.THEMES]


def for_user(user) -> str:
    """The person's chosen theme, or "auto" (the device's setting) if none."""
    if not getattr(user, "is_authenticated", False):
        return AUTO
    chosen = DisplayPreference.objects.filter(user=user).values_list("theme", flat=True).first()
    return chosen or AUTO


def context(request: HttpRequest) -> dict:
    """Template context processor: `ui_theme`, asked for only when a page draws <html> (a
    fragment rendered with the request costs no query)."""

    def theme() -> str:
        if not hasattr(request, "_ui_theme"):
            request._ui_theme = for_user(getattr(request, "user", None))  # type: ignore[attr-defined]
        return request._ui_theme  # type: ignore[attr-defined]

    return {"ui_theme": theme}
