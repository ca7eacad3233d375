"""The alarm journal's filter and pages: one form for the page and its exports, so an export
holds exactly the rows the page lists, of the sites the person may see.

Two lists from the same filter: occurrences (AlarmOccurrence, one line each: raised ->
acknowledged -> returned/cleared) and the raw transitions (JournalEntry). Both page by keyset
on (time, id), never by OFFSET: a page costs the same at the millionth row, and rows written
meanwhile neither repeat nor vanish between two pages.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import urlencode

from django import forms
from django.db.models import Q, QuerySet
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext, gettext_lazy, pgettext_lazy

from dashboard import moments, occurrences, permissions
from dashboard.models import AlarmOccurrence, JournalEntry
from dashboard.siteconfig import get_config
from wincc_bridge.models import PriorityBand
from wincc_ingest.config import ConfigError

PAGE_SIZE = 50
OCCURRENCES, TRANSITIONS = "occurrences", "transitions"
# WinCC priorities 0-16 by band (wincc_bridge.models.PriorityBand): (lowest, highest).
BANDS: dict[str, tuple[int | None, int | None]] = {
    PriorityBand.HIGHEST: (16, None),
    PriorityBand.HIGH: (11, 15),
    PriorityBand.MEDIUM: (6, 10),
    PriorityBand.LOW: (1, 5),
    PriorityBand.NONE: (None, 0),
}
# A cursor: the row's time in microseconds since 1970 (UTC), a dot, its id.
CURSOR = r"\A-?[0-9]{1,18}\.[0-9]{1,18}\Z"
EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
LONGEST_RANGE_DAYS = 3660
DAMAGED = gettext_lazy("The page link is damaged; start again from the first page.")
# The bands as the filter's list words them (the values stay the machine's words).
BAND_WORDS: dict[str, Any] = {
    PriorityBand.HIGHEST: pgettext_lazy("priority band", "highest"),
    PriorityBand.HIGH: pgettext_lazy("priority band", "high"),
    PriorityBand.MEDIUM: pgettext_lazy("priority band", "medium"),
    PriorityBand.LOW: pgettext_lazy("priority band", "low"),
    PriorityBand.NONE: pgettext_lazy("priority band", "none"),
}
# The transitions as the page words them (JournalEntry.Transition's labels).
_T = JournalEntry.Transition
TRANSITION_WORDS = {
    _T.RAISED: gettext_lazy("Raised"),
    _T.ACKNOWLEDGED: gettext_lazy("Acknowledged"),
    _T.RETURNED: gettext_lazy("Returned to normal"),
    _T.CLEARED: gettext_lazy("Cleared / removed"),
    _T.SHELVED: gettext_lazy("Shelved"),
    _T.UNSHELVED: gettext_lazy("Unshelved"),
    _T.SUPPRESSED: gettext_lazy("Suppressed"),
    _T.CHANGED: gettext_lazy("State changed"),
    _T.COMMENTED: gettext_lazy("Commented"),
}


def cursor_of(at: datetime, row_id: int) -> str:
    delta = at - EPOCH
    return f"{(delta.days * 86400 + delta.seconds) * 1_000_000 + delta.microseconds}.{row_id}"


def parse_cursor(text: str) -> tuple[datetime, int]:
    micros, _, row_id = text.partition(".")
    return EPOCH + timedelta(microseconds=int(micros)), int(row_id)


def text_matches(text: str) -> Q:
    """The text filter: in the alarm's text or its name, whatever the case. On PostgreSQL
    it compiles to `UPPER(col::text) LIKE UPPER(%s)`, the expression the trigram indexes of
    migration 0019 are built on (docs/journal.md)."""
    return Q(event_text__icontains=text) | Q(alarm_name__icontains=text)


class JournalFilter(forms.Form):
    """What the person asks for. Every mistake reads as a sentence (`problem`)."""

    since = moments.MomentField(required=False, label=gettext_lazy("From (UTC)"))
    until = moments.MomentField(required=False, label=gettext_lazy("To (UTC)"))
    site = forms.ChoiceField(required=False, label=gettext_lazy("Site"))
    priority = forms.ChoiceField(
        required=False, label=gettext_lazy("Priority"),
        choices=[("", gettext_lazy("any priority")),
                 *((str(band), BAND_WORDS[band]) for band in BANDS)],
        error_messages={"invalid_choice": gettext_lazy(
            "“%(value)s” is not a priority; choose highest, high, medium, low or none.")})
    transition = forms.ChoiceField(
        required=False, label=gettext_lazy("Transition"),
        choices=[("", gettext_lazy("any transition")), *TRANSITION_WORDS.items()],
        error_messages={"invalid_choice": gettext_lazy(
            "“%(value)s” is not a transition the journal records.")})
    text = forms.CharField(required=False, max_length=200, strip=True,
                           label=gettext_lazy("Text"), error_messages={
                               "max_length": gettext_lazy("Search for at most 200 characters.")})
    user = forms.CharField(required=False, max_length=150, strip=True,
                           label=gettext_lazy("Acknowledged by"), error_messages={
                               "max_length": gettext_lazy(
                                   "A user name has at most 150 characters.")})
    view = forms.ChoiceField(
        required=False, choices=[(OCCURRENCES, gettext_lazy("One line per occurrence")),
                                 (TRANSITIONS, gettext_lazy("Every transition"))],
        error_messages={"invalid_choice": gettext_lazy(
            "Choose the occurrences or the transitions view.")})
    after = forms.RegexField(regex=CURSOR, required=False, error_messages={"invalid": DAMAGED})
    before = forms.RegexField(regex=CURSOR, required=False, error_messages={"invalid": DAMAGED})

    def __init__(self, data, user) -> None:
        super().__init__(data)
        self.user = user
        try:
            configured = [site.id for site in get_config().sites]
        except ConfigError:  # an unreadable configuration shows no site
            configured = []
        self.sites = permissions.viewable_sites(user, configured)
        field = self.fields["site"]
        assert isinstance(field, forms.ChoiceField)
        field.choices = [("", gettext("every site")), *((s, s) for s in self.sites)]
        field.error_messages["invalid_choice"] = gettext(
            "There is no site “%(value)s” you may see.")
        moments.set_now(self, timezone.now())

    def _cursor(self, name: str) -> str:
        text = self.cleaned_data.get(name) or ""
        if text:
            try:
                parse_cursor(text)
            except (OverflowError, ValueError):
                raise forms.ValidationError(DAMAGED) from None
        return text

    def clean_after(self) -> str:
        return self._cursor("after")

    def clean_before(self) -> str:
        return self._cursor("before")

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        since, until = data.get("since"), data.get("until")
        if since and until:
            if since > until:
                raise forms.ValidationError(gettext("“From” is after “To”; swap them."))
            if until - since > timedelta(days=LONGEST_RANGE_DAYS):
                raise forms.ValidationError(gettext("Choose a range of at most ten years."))
        if data.get("after") and data.get("before"):
            raise forms.ValidationError(DAMAGED)
        return data

    def problem(self) -> str:
        """The first mistake, as a sentence; one about a field names the field."""
        for name, errors in self.errors.items():
            field = self.fields.get(name)
            if isinstance(field, moments.MomentField):
                return gettext("%(field)s: %(problem)s") % {"field": field.label,
                                                            "problem": errors[0]}
            return str(errors[0])
        return ""

    @property
    def mode(self) -> str:
        return self.cleaned_data.get("view") or OCCURRENCES

    def _sites(self) -> list[str]:
        chosen = self.cleaned_data.get("site")
        return [chosen] if chosen else self.sites

    def _priority(self, rows: QuerySet, field: str = "priority") -> QuerySet:
        band = self.cleaned_data.get("priority")
        if not band:
            return rows
        low, high = BANDS[band]
        if low is not None:
            rows = rows.filter(**{f"{field}__gte": low})
        if high is not None:
            rows = rows.filter(**{f"{field}__lte": high})
        return rows

    def occurrences(self) -> QuerySet:
        """The occurrences the filter matches (newest first), of visible sites only."""
        data = self.cleaned_data
        rows = AlarmOccurrence.objects.filter(site_id__in=self._sites())
        if data.get("since"):
            rows = rows.filter(started_at__gte=data["since"])
        if data.get("until"):
            rows = rows.filter(started_at__lte=data["until"])
        rows = self._priority(rows)
        if data.get("transition"):
            rows = rows.filter(transitions__contains=f" {data['transition']} ")
        if data.get("text"):
            rows = rows.filter(text_matches(data["text"]))
        if data.get("user"):
            rows = rows.filter(acknowledged_by=data["user"])
        return rows

    def transitions(self) -> QuerySet:
        """The journal entries the filter matches (newest first), of visible sites only."""
        data = self.cleaned_data
        rows: QuerySet = JournalEntry.objects.filter(site_id__in=self._sites())
        if data.get("since"):
            rows = rows.filter(at__gte=data["since"])
        if data.get("until"):
            rows = rows.filter(at__lte=data["until"])
        rows = self._priority(rows)
        if data.get("transition"):
            rows = rows.filter(transition=data["transition"])
        if data.get("text"):
            rows = rows.filter(text_matches(data["text"]))
        if data.get("user"):
            rows = rows.filter(Q(acknowledged_by=data["user"]) | Q(actor=data["user"]))
        return rows

    def rows(self) -> tuple[QuerySet, str]:
        """The chosen list and its time field."""
        if self.mode == TRANSITIONS:
            return self.transitions(), "at"
        return self.occurrences(), "started_at"


@dataclass
class Page:
    rows: list
    next_cursor: str  # "" on the last page
    prev_cursor: str  # "" on the first page


def older_than(rows: QuerySet, field: str, cursor: tuple[datetime, int]) -> QuerySet:
    """Rows after the cursor in the page's order (newest first). The plain `<=` on the time
    lets the index start at the cursor; the OR decides within the same time."""
    at, row_id = cursor
    return rows.filter(**{f"{field}__lte": at}).filter(
        Q(**{f"{field}__lt": at}) | Q(id__lt=row_id))


def newer_than(rows: QuerySet, field: str, cursor: tuple[datetime, int]) -> QuerySet:
    at, row_id = cursor
    return rows.filter(**{f"{field}__gte": at}).filter(
        Q(**{f"{field}__gt": at}) | Q(id__gt=row_id))


def page(rows: QuerySet, field: str, after: str = "", before: str = "",
         size: int = PAGE_SIZE) -> Page:
    """One page by keyset: `after` a cursor (the next page), `before` one (the previous)."""
    if before:
        found = list(newer_than(rows, field, parse_cursor(before))
                     .order_by(field, "id")[: size + 1])
        more_newer = len(found) > size
        shown = found[:size][::-1]
        return Page(shown, _cursor(shown[-1], field) if shown else "",
                    _cursor(shown[0], field) if shown and more_newer else "")
    ordered = rows.order_by(f"-{field}", "-id")
    if after:
        ordered = older_than(ordered, field, parse_cursor(after))
    found = list(ordered[: size + 1])
    shown = found[:size]
    return Page(shown, _cursor(shown[-1], field) if len(found) > size else "",
                _cursor(shown[0], field) if shown and after else "")


def _cursor(row: Any, field: str) -> str:
    return cursor_of(getattr(row, field), row.pk)


def duration(start: datetime | None, end: datetime | None) -> str:
    """"45 s", "3 min 20 s", "2 h 05 min", "3 d 4 h": how long from `start` to `end`."""
    if start is None or end is None:
        return ""
    return lasting((end - start).total_seconds())


def lasting(seconds: float) -> str:
    """"45 s", "3 min 20 s", "2 h 05 min", "3 d 4 h": a span of time, in units both
    languages write alike."""
    seconds = max(0, int(seconds))
    if seconds < 60:
        return f"{seconds} s"
    minutes, seconds = divmod(seconds, 60)
    if minutes < 60:
        return f"{minutes} min {seconds:02d} s"
    hours, minutes = divmod(minutes, 60)
    if hours < 24:
        return f"{hours} h {minutes:02d} min"
    days, hours = divmod(hours, 24)
    return f"{days} d {hours} h"


def _shown(at: datetime | None, clock_only: bool = False) -> tuple[str, str]:
    """(as shown in the page's language, ISO for <time datetime>) in UTC; ("", "") for no
    time. `clock_only`: the time of day alone (beside the raise's date)."""
    if at is None:
        return "", ""
    at = at.astimezone(UTC)
    return (at.strftime("%H:%M:%S") if clock_only else moments.shown(at)), at.isoformat()


@dataclass(frozen=True)
class Line:
    """One occurrence as the page and the exports word it, worked out once per row (the
    page lists 50: plain values render fast)."""

    occ: AlarmOccurrence
    band: str
    acknowledged: str  # "by alice via the dashboard", "by op1 in WinCC"; "" when not
    # (the words of dashboard.alarm_notes.acknowledged_by, in the page's language)
    ack_after: str
    ended_at: datetime | None  # the condition went (returned), or it left the list (cleared)
    lasted: str
    url: str
    started: tuple[str, str]
    acknowledged_time: tuple[str, str]
    ended_time: tuple[str, str]

    @classmethod
    def of(cls, occ: AlarmOccurrence, page: str = "") -> Line:
        """`page`: the occurrence page's path (reversed once for many lines)."""
        ended = occ.returned_at or occ.cleared_at
        query = urlencode({"site": occ.site_id, "name": occ.alarm_name,
                           "instance": occ.instance_id})
        return cls(
            occ=occ, band=PriorityBand.of(occ.priority).value,
            acknowledged=_acknowledged(occ), ack_after=duration(occ.raised_at,
                                                                occ.acknowledged_at),
            ended_at=ended, lasted=duration(occ.raised_at, ended),
            url=f"{page or reverse('alarm-occurrence')}?{query}",
            started=_shown(occ.started_at),
            acknowledged_time=_shown(occ.acknowledged_at, clock_only=True),
            ended_time=_shown(ended, clock_only=True),
        )


def _acknowledged(occ: AlarmOccurrence) -> str:
    if occ.acknowledged_at is None:
        return ""
    who = occ.acknowledged_by
    if occ.acknowledged_via == occurrences.VIA_DASHBOARD:
        return (gettext("by %(person)s via the dashboard") % {"person": who} if who
                else gettext("via the dashboard"))
    return gettext("by %(user)s in WinCC") % {"user": who} if who else gettext("in WinCC")
