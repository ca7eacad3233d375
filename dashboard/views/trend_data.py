"""The trend's data: /trend/data/ (JSON for the chart) and /trend/export.csv (the same pens
and window, every value, streamed). The contract is docs/trend.md."""

from __future__ import annotations

import csv
import time
from collections.abc import AsyncIterator, Iterator
from datetime import UTC, datetime
from typing import Any

import redis
from asgiref.sync import sync_to_async
from django import forms
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse, JsonResponse, StreamingHttpResponse
from django.utils.translation import gettext, gettext_lazy, pgettext_lazy
from django.views.decorators.http import require_GET

from dashboard import moments
from dashboard.history import sources, trend
from dashboard.history.trend import MAX_PENS, Pen
from dashboard.redis_client import sync_redis
from dashboard.siteconfig import get_config
from wincc_ingest.config import ConfigError

COMPARE_SECONDS = {"1d": 86400, "7d": 7 * 86400}
# The longest window a trend draws or exports: a month, as the KPIs. A longer one (now-99999d)
# is refused in words rather than drawn as if it were a live chart of everything.
LONGEST_DAYS = 31
NO_SUCH_PEN = gettext_lazy("There is no pen {pen!r} that you may see. A pen is SITE:TAG, a "
                           "configured tag of a site you may view.")


class TrendForm(forms.Form):
    """The pens and the window of a trend, checked; `pens` and `start`/`end` (epoch
    seconds) once valid. Pens are repeated `pen` parameters, read in clean()."""

    start = moments.MomentField(required=False, label=gettext_lazy("From (UTC)"))
    end = moments.MomentField(required=False, label=gettext_lazy("To (UTC)"))
    width = forms.IntegerField(
        required=False, min_value=100, max_value=4000,
        error_messages={k: gettext_lazy("width must be a whole number of pixels from 100 to "
                                        "4000.")
                        for k in ("invalid", "min_value", "max_value")})
    compare = forms.ChoiceField(
        required=False, choices=[("", gettext_lazy("none")),
                                 ("1d", gettext_lazy("one day earlier")),
                                 ("7d", gettext_lazy("one week earlier"))],
        error_messages={"invalid_choice": gettext_lazy("compare must be 1d or 7d.")})

    def __init__(self, query, user, now: float) -> None:
        # The trend page sends its window twice: the live span (hidden) and the date-and-time
        # boxes; a filled box counts over the span.
        query = query.copy()
        for name in ("start", "end"):
            query.setlist(name, [v for v in query.getlist(name) if v.strip()][-1:])
        super().__init__(query)
        self.query = query
        self.user = user
        self.now = now
        self.pens: list[Pen] = []
        moments.set_now(self, datetime.fromtimestamp(now, UTC))

    def clean_start(self) -> float:
        start = self.cleaned_data.get("start")
        return start.timestamp() if start else self.now - 3600

    def clean_end(self) -> float:
        end = self.cleaned_data.get("end")
        return end.timestamp() if end else self.now

    def clean_width(self) -> int:
        return self.cleaned_data.get("width") or 1000

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if self.errors:
            return data
        ids = [pen.strip() for pen in self.query.getlist("pen") if pen.strip()]
        if not ids:
            raise forms.ValidationError(gettext("Choose at least one pen: pen=SITE:TAG."))
        if len(ids) > MAX_PENS:
            raise forms.ValidationError(
                gettext("A trend shows at most %(most)d pens; %(asked)d were asked for.")
                % {"most": MAX_PENS, "asked": len(ids)})
        try:
            config = get_config()
        except ConfigError as exc:
            raise forms.ValidationError(
                gettext("The configuration cannot be read: %(problem)s") % {"problem": exc}
            ) from None
        for pen_id in dict.fromkeys(ids):
            pen = trend.find_pen(config, self.user, pen_id)
            if pen is None:
                raise forms.ValidationError(NO_SUCH_PEN.format(pen=pen_id[:80]))
            self.pens.append(pen)
        start, end = data["start"], data["end"]
        if start >= end:
            raise forms.ValidationError(gettext("The range's start must be before its end."))
        if end - start > LONGEST_DAYS * 86400:
            raise forms.ValidationError(
                gettext("A trend shows at most %(days)d days; choose a shorter range.")
                % {"days": LONGEST_DAYS})
        compare = COMPARE_SECONDS.get(data.get("compare") or "")
        if sources.beyond_retention(end, self.now) and not any(
                sources.has_archive(pen.site) for pen in self.pens):
            raise forms.ValidationError(
                gettext("The range ends before the oldest values the dashboard keeps "
                        "(%(days)s days); choose a later range.")
                % {"days": f"{sources.retention_days():g}"})
        data["compare_s"] = compare
        return data

    def sentence(self) -> str:
        """The first problem, as one plain sentence."""
        for errors in self.errors.values():
            for error in errors:
                return str(error)
        return gettext("The trend's parameters are not valid.")


def _form(request: HttpRequest) -> TrendForm:
    form = TrendForm(request.GET, request.user, time.time())
    form.is_valid()
    return form


def _redis() -> redis.Redis | None:
    try:
        return sync_redis()
    except (redis.RedisError, ValueError):
        return None


def _refused(form: TrendForm) -> JsonResponse:
    return JsonResponse({"detail": form.sentence()}, status=400)


@require_GET
@login_required
def data(request: HttpRequest) -> HttpResponse:
    form = _form(request)
    if form.errors:
        return _refused(form)
    d = form.cleaned_data
    body = trend.answer(form.pens, d["start"], d["end"], d["width"], form.now,
                        d["compare_s"], _redis())
    response = JsonResponse(body)
    response["Cache-Control"] = "no-store"
    return response


# The header in the request's language; the cells stay machine-readable (ISO times, a
# decimal point, the words good/uncertain/bad and archive/store), docs/languages.md.
CSV_HEADER = [
    pgettext_lazy("trend export", "time"), pgettext_lazy("trend export", "site"),
    pgettext_lazy("trend export", "tag"), pgettext_lazy("trend export", "label"),
    pgettext_lazy("trend export", "unit"), pgettext_lazy("trend export", "value"),
    pgettext_lazy("trend export", "quality"), pgettext_lazy("trend export", "source"),
    pgettext_lazy("trend export", "minimum"), pgettext_lazy("trend export", "maximum"),
]
QUALITY_WORDS = {"g": "good", "u": "uncertain", "b": "bad"}


class _Line:
    """A file-like target that hands back what csv.writer wrote."""

    def write(self, text: str) -> str:
        return text


def utc_text(epoch: float) -> str:
    return datetime.fromtimestamp(epoch, UTC).isoformat().replace("+00:00", "Z")


def _cell(text: str) -> str:
    # Labels come from people: a leading formula sign is written as text in a spreadsheet.
    return f"'{text}" if text.startswith(("=", "+", "-", "@", "\t", "\r")) else text


def pen_rows(pen: Pen, start: float, end: float) -> Iterator[list[str]]:
    """Every value of one pen in the window, from the archive when the site has one and it
    answers, else from the store, a chunk at a time."""
    head = [pen.site.id, _cell(pen.tag.name), _cell(pen.tag.label), pen.tag.unit]
    if sources.has_archive(pen.site):
        try:
            for t, v, q in sources.archive_export(pen.site, pen.tag.name, start, end):
                yield [utc_text(t), *head, "" if v is None else repr(v), QUALITY_WORDS[q],
                       sources.ARCHIVE, "", ""]
            return
        except sources.ArchiveUnavailable:
            pass  # the store's rows follow; their source column says so
    for minute, low, high, _last, quality, average, _count in sources.store_rows(
            pen.site.id, pen.tag.name, start, end):
        yield [utc_text(minute), *head, "" if average is None else repr(average),
               QUALITY_WORDS[quality], sources.STORE,
               "" if low is None else repr(low), "" if high is None else repr(high)]


@require_GET
@login_required
def export_csv(request: HttpRequest) -> HttpResponse | StreamingHttpResponse:
    form = _form(request)
    if form.errors:
        return HttpResponse(form.sentence(), status=400, content_type="text/plain")
    start, end = form.cleaned_data["start"], form.cleaned_data["end"]
    writer = csv.writer(_Line())
    header = [str(word) for word in CSV_HEADER]  # worded now: the stream runs after the request
    chunk = 1000

    def take(rows: Iterator[list[str]]) -> list[list[str]]:
        return [row for _, row in zip(range(chunk), rows, strict=False)]

    async def lines() -> AsyncIterator[str]:
        # Async, so the ASGI server sends while the next chunk is read.
        yield writer.writerow(header)
        for pen in form.pens:
            rows = pen_rows(pen, start, end)
            while batch := await sync_to_async(take)(rows):
                yield "".join(writer.writerow(row) for row in batch)

    stamp = f"{_stamp(start)}-{_stamp(end)}"
    response = StreamingHttpResponse(lines(), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="trend-{stamp}.csv"'
    return response


def _stamp(epoch: float) -> str:
    return datetime.fromtimestamp(epoch, UTC).strftime("%Y%m%dT%H%M%SZ")
