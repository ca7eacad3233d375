"""How a moment reads in an alarm row: the time of day for today, the date too for older
ones, so an alarm raised days ago does not look like one raised this morning."""

from __future__ import annotations

from datetime import UTC, datetime

from django import template
from django.utils import formats, timezone
from django.utils.translation import pgettext

register = template.Library()


@register.filter
def moment(value: datetime | None, now: datetime | None = None) -> str:
    """"14:03:22" on the current day (UTC, as shown); before it, the date as the active
    language writes it: "2026-11-28 14:03", in German "28.11.2026 14:03"."""
    if value is None:
        return ""
    shown = value.astimezone(UTC)
    today = (now or timezone.now()).astimezone(UTC).date()
    if shown.date() == today:
        return shown.strftime("%H:%M:%S")
    # The format is the catalogue's: German reads "d.m.Y H:i".
    return formats.date_format(shown, pgettext("alarm time on an earlier day", "Y-m-d H:i"))
