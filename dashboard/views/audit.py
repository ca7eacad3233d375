"""The audit log: /audit/ (filtered, paginated, UTC) and /audit.csv (the same rows, streamed)."""

from __future__ import annotations

import csv
from datetime import UTC, datetime, time, timedelta
from typing import Any

from asgiref.sync import sync_to_async
from django import forms
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse, StreamingHttpResponse
from django.shortcuts import render
from django.utils.translation import gettext, gettext_lazy, pgettext_lazy

from dashboard import alarm_notes, exports, params, permissions
from dashboard.models import AuditEntry
from dashboard.views import pages

PAGE_SIZE = 50
CSV_CHUNK = 500
# The header is in the request's language; the cells stay the recorded machine words
# (action "write", result "denied", ISO times), so a script reads any export alike.
CSV_COLUMNS = [
    ("created_at", pgettext_lazy("audit export", "time (UTC)")),
    ("completed_at", pgettext_lazy("audit export", "completed (UTC)")),
    ("username", pgettext_lazy("audit export", "user")),
    ("remote_addr", pgettext_lazy("audit export", "address")),
    ("device", pgettext_lazy("audit export", "device")),
    ("site_id", pgettext_lazy("audit export", "site")),
    ("alarm_name", pgettext_lazy("audit export", "alarm")),
    ("instance_id", pgettext_lazy("audit export", "instance")),
    ("action", pgettext_lazy("audit export", "action")),
    ("state_before", pgettext_lazy("audit export", "state before")),
    ("state_after", pgettext_lazy("audit export", "state after")),
    ("result", pgettext_lazy("audit export", "result")),
    ("message", pgettext_lazy("audit export", "message")),
    ("comment", pgettext_lazy("audit export", "comment")),
    ("settled_at", pgettext_lazy("audit export", "settled from WinCC (UTC)")),
    ("repeat_count", pgettext_lazy("audit export", "times")),
    ("last_at", pgettext_lazy("audit export", "last time (UTC)")),
    # A write's row (action "write"): the tag and its values.
    ("tag_name", pgettext_lazy("audit export", "tag")),
    ("value_before", pgettext_lazy("audit export", "value before")),
    ("value_requested", pgettext_lazy("audit export", "value written")),
    ("value_after", pgettext_lazy("audit export", "value read back")),
    # Added last, so the columns before keep their positions: dashboard or WinCC.
    ("via", pgettext_lazy("audit export", "via")),
]
# The recorded actions as the page words them; one not listed shows as recorded.
ACTION_WORDS = {
    "acknowledge": pgettext_lazy("audit action", "acknowledge"),
    "write": pgettext_lazy("audit action", "write"),
    "configure": pgettext_lazy("audit action", "configure"),
    "comment": pgettext_lazy("audit action", "comment"),
    "shelve": pgettext_lazy("audit action", "shelve"),
    "unshelve": pgettext_lazy("audit action", "unshelve"),
    "silence": pgettext_lazy("audit action", "silence"),
}
# The results as the page words them (AuditEntry.Result's labels).
RESULT_WORDS = {
    AuditEntry.Result.PENDING: gettext_lazy("Pending"),
    AuditEntry.Result.UNKNOWN: gettext_lazy("Unknown: WinCC's answer was lost"),
    AuditEntry.Result.OK: gettext_lazy("Done (acknowledged or written)"),
    AuditEntry.Result.REFUSED: gettext_lazy("Refused by WinCC"),
    AuditEntry.Result.DENIED: gettext_lazy("Denied (no permission)"),
    AuditEntry.Result.ERROR: gettext_lazy("Error"),
    AuditEntry.Result.DUPLICATE: gettext_lazy("Already in progress or done"),
    AuditEntry.Result.STALE: gettext_lazy("Not sent: stale or changed"),
}


class AuditFilter(forms.Form):
    site = forms.CharField(required=False, max_length=64)
    user = forms.CharField(required=False, max_length=150)
    result = forms.ChoiceField(
        required=False, choices=[("", gettext_lazy("any result")), *RESULT_WORDS.items()]
    )
    since = forms.DateField(required=False, label=gettext_lazy("From (UTC date)"))
    until = forms.DateField(required=False, label=gettext_lazy("To (UTC date, inclusive)"))

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        since, until = data.get("since"), data.get("until")
        if since and until and since > until:
            raise forms.ValidationError(gettext("The start date is after the end date."))
        return data

    def entries(self):
        entries = AuditEntry.objects.all()
        data = self.cleaned_data
        if data.get("site"):
            entries = entries.filter(site_id=data["site"])
        if data.get("user"):
            entries = entries.filter(username__iexact=data["user"])
        if data.get("result"):
            entries = entries.filter(result=data["result"])
        if data.get("since"):
            entries = entries.filter(created_at__gte=datetime.combine(data["since"], time(), UTC))
        if data.get("until"):
            end = datetime.combine(data["until"] + timedelta(days=1), time(), UTC)
            entries = entries.filter(created_at__lt=end)
        return entries


def _filter(request: HttpRequest) -> AuditFilter:
    if not permissions.can_view_audit(request.user):
        raise PermissionDenied(gettext("You may not view the audit log."))
    return AuditFilter(request.GET)


@login_required
def audit_log(request: HttpRequest) -> HttpResponse:
    form = _filter(request)
    valid = form.is_valid()
    entries = form.entries() if valid else AuditEntry.objects.none()
    number = params.whole_number(request.GET, "page", minimum=1, default=1)
    page = Paginator(entries, PAGE_SIZE).get_page(number)  # past the end: the last page
    query = request.GET.copy()
    query.pop("page", None)
    context = {
        "form": form,
        "page": page,
        "actions": ACTION_WORDS,
        "results": RESULT_WORDS,
        "query": query.urlencode(),
        "sites": AuditEntry.objects.order_by("site_id").values_list("site_id", flat=True)
        .distinct(),
    }
    return render(request, "audit/log.html", pages.with_banner(request, context),
                  status=200 if valid else 400)


def _cell(entry: AuditEntry, field: str) -> str:
    value = alarm_notes.via(entry) if field == "via" else getattr(entry, field)
    if isinstance(value, datetime):
        return value.astimezone(UTC).isoformat().replace("+00:00", "Z")
    text = "" if value is None else str(value)
    return exports.safe_text(text)


@login_required
def audit_csv(request: HttpRequest) -> HttpResponse | StreamingHttpResponse:
    form = _filter(request)
    if not form.is_valid():
        errors = "; ".join(str(e) for errs in form.errors.values() for e in errs)
        return HttpResponse(gettext("Bad filter: %(problem)s") % {"problem": errors},
                            status=400, content_type="text/plain")
    entries = form.entries().order_by("-id")
    # Worded now, in the request's language: the stream runs after the request's own.
    header_row = [(field, str(label)) for field, label in CSV_COLUMNS]
    writer = csv.writer(exports.Echo())

    def chunk(before: int | None) -> list[AuditEntry]:
        rows = entries if before is None else entries.filter(id__lt=before)
        return list(rows[:CSV_CHUNK])

    async def lines():
        # Async, so the ASGI server sends while it reads; no query holds the whole log.
        yield writer.writerow([header for _, header in header_row])
        before = None
        while rows := await sync_to_async(chunk)(before):
            for entry in rows:
                yield writer.writerow([_cell(entry, field) for field, _ in CSV_COLUMNS])
            before = rows[-1].id

    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
    response = StreamingHttpResponse(lines(), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="audit-{stamp}.csv"'
    return response
