"""A point in time as the history pages take it: /trend/ (and its data and export),
/journal/ (and its exports) and /kpi/ read From and To with this one parser and field, so
a time that one page takes, every page takes, and a mistake reads the same everywhere.

Taken: now; now-8h (s, min, h, d before now); a date and time as a browser's date-and-time
box sends it (2026-12-01T06:00) or as typed (2026-12-01 06:00, seconds optional), which is
UTC, as every page says; the same with a zone (Z, +01:00); a date alone (midnight UTC).
The sentence people read is templates/partials/time_hint.html; the contract is
docs/trend.md, "Times".
"""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from typing import Any

from django import forms
from django.utils import dateformat
from django.utils.translation import gettext_lazy, pgettext

_RELATIVE = re.compile(r"now(?:-([0-9]{1,9})(s|min|h|d))?")
_UNIT_SECONDS = {"s": 1, "min": 60, "h": 3600, "d": 86400}
EARLIEST = datetime(1970, 1, 1, tzinfo=UTC)
LATEST = datetime(9999, 12, 31, 23, 59, 59, tzinfo=UTC)
NOT_A_TIME = gettext_lazy(
    "“%(text)s” is not a time; write it as 2026-12-01T06:00 (UTC), "
    "2026-12-01T06:00+01:00, now, or now-8h (s, min, h, d).")
OUTSIDE = gettext_lazy("“%(text)s” is outside the years 1970 to 9999.")


def parse(text: str, now: datetime) -> datetime:
    """The moment `text` names, in UTC; a ValidationError with a sentence otherwise."""
    text = text.strip()
    shown = text[:40]
    relative = _RELATIVE.fullmatch(text)
    try:
        if relative:
            amount, unit = relative.groups()
            when = now - timedelta(seconds=int(amount) * _UNIT_SECONDS[unit] if amount else 0)
        else:
            when = datetime.fromisoformat(text)
            # Without a zone the time is UTC, as the pages say (a datetime-local box has none).
            when = when.replace(tzinfo=UTC) if when.tzinfo is None else when.astimezone(UTC)
    except ValueError:
        raise forms.ValidationError(NOT_A_TIME % {"text": shown}) from None
    except OverflowError:
        raise forms.ValidationError(OUTSIDE % {"text": shown}) from None
    if not EARLIEST <= when <= LATEST:
        raise forms.ValidationError(OUTSIDE % {"text": shown})
    return when


class DateTimeLocal(forms.DateTimeInput):
    """The browser's date-and-time box: it shows only 2026-12-01T06:00, so a time given
    otherwise (now-8h in a link) is shown empty and still counts."""

    input_type = "datetime-local"

    def __init__(self, attrs: dict[str, Any] | None = None) -> None:
        super().__init__({"aria-describedby": "time-hint", **(attrs or {})})

    def format_value(self, value: Any) -> str | None:
        return None if value in (None, "") else str(value)


class MomentField(forms.CharField):
    """A point in time (see the module); cleans to an aware UTC datetime, or None when
    left empty. The form sets `now` so that every field of one request reads one clock."""

    widget = DateTimeLocal

    def __init__(self, **kwargs: Any) -> None:
        kwargs.setdefault("max_length", 64)
        kwargs.setdefault("error_messages", {
            "max_length": gettext_lazy("A time is at most %(limit_value)d characters long.")})
        super().__init__(**kwargs)
        self.now: datetime | None = None

    def clean(self, value: Any) -> datetime | None:  # type: ignore[override]
        text = super().clean(value)
        if not text:
            return None
        return parse(text, self.now or datetime.now(UTC))


def set_now(form: forms.Form, now: datetime) -> None:
    """Give every moment field of `form` the request's one clock."""
    for field in form.fields.values():
        if isinstance(field, MomentField):
            field.now = now


def shown(at: datetime | None, seconds: bool = True) -> str:
    """A time as people read it on the history pages, in UTC: the format is the catalogue's
    ("2026-12-01 06:00:00" in English, "01.12.2026 06:00:00" in German); machines get ISO."""
    if at is None:
        return ""
    fmt = (pgettext("time shown", "Y-m-d H:i:s") if seconds
           else pgettext("time shown", "Y-m-d H:i"))
    return dateformat.format(at.astimezone(UTC), fmt)
