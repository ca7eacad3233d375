"""The history pages (journal, audit, KPIs): a time as the page's language writes it, and a
recorded machine word (an audit action, a result) as the page words it."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime, timedelta

from django import template

from dashboard import journal_query, moments

register = template.Library()


@register.filter
def shown_time(value: datetime | None, precision: str = "seconds") -> str:
    """`precision`: "seconds" (06:00:00) or "minutes" (06:00)."""
    return moments.shown(value, seconds=precision != "minutes")


@register.filter
def word(words: Mapping[str, str], recorded: str) -> str:
    """`recorded` in the page's words; a word the mapping lacks, as recorded."""
    return str(words.get(recorded, recorded))


@register.filter
def lasting(value: timedelta | None) -> str:
    """A span of time: "3 min 20 s", "3 d 4 h"."""
    return "" if value is None else journal_query.lasting(value.total_seconds())
