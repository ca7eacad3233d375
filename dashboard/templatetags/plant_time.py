"""How a moment reads in an alarm row: the time of day for today, the date too for older
ones, so an alarm raised days ago does not look like one raised this morning."""

from __future__ import annotations

from datetime import UTC, datetime

from django import template
from django.utils import timezone

register = template.Library()


@register.filter
def moment(value: datetime | None, now: datetime | None = None) -> str:
    """"14:03:22" on the current day (UTC, as shown), "2026-11-28 14:03" before."""
    if value is None:
        return ""
    shown = value.astimezone(UTC)
    today = (now or timezone.now()).astimezone(UTC).date()
    if shown.date() == today:
        return shown.strftime("%H:%M:%S")
    return shown.strftime("%Y-%m-%d %H:%M")
