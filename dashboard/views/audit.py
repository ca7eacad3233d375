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

from dashboard import alarm_notes, exports, params, permissions
from dashboard.models import AuditEntry
from dashboard.views import pages

PAGE_SIZE = 50
CSV_CHUNK = 500
CSV_COLUMNS = [
    ("created_at", "time (UTC)"),
    ("completed_at", "completed (UTC)"),
    ("username", "user"),
    ("remote_addr", "address"),
    ("device", "device"),
    ("site_id", "site"),
    ("alarm_name", "alarm"),
    ("instance_id", "instance"),
    ("action", "action"),
    ("state_before", "state before"),
    ("state_after", "state after"),
    ("result", "result"),
    ("message", "message"),
    ("comment", "comment"),
    ("settled_at", "settled from WinCC (UTC)"),
    ("repeat_count", "times"),
    ("last_at", "last time (UTC)"),
    # A write's row (action "write"): the tag and its values.
    ("tag_name", "tag"),
    ("value_before", "value before"),
    ("value_requested", "value written"),
    ("value_after", "value read back"),
    # Added last, so the columns before keep their positions: dashboard or WinCC.
    ("via", "via"),
]


class AuditFilter(forms.Form):
    site = forms.CharField(required=False, max_length=64)
    user = forms.CharField(required=False, max_length=150)
    result = forms.ChoiceField(
        required=False, choices=[("", "any result"), *AuditEntry.Result.choices]
    )
    since = forms.DateField(required=False, label="From (UTC date)")
    until = forms.DateField(required=False, label="To (UTC date, inclusive)")

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        since, until = data.get("since"), data.get("until")
        if since and until and since > until:
            raise forms.ValidationError("The start date is after the end date.")
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
        raise PermissionDenied("You may not view the audit log.")
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
        return HttpResponse(f"Bad filter: {errors}", status=400, content_type="text/plain")
    entries = form.entries().order_by("-id")
    writer = csv.writer(exports.Echo())

    def chunk(before: int | None) -> list[AuditEntry]:
        rows = entries if before is None else entries.filter(id__lt=before)
        return list(rows[:CSV_CHUNK])

    async def lines():
        # Async, so the ASGI server sends while it reads; no query holds the whole log.
        yield writer.writerow([label for _, label in CSV_COLUMNS])
        before = None
        while rows := await sync_to_async(chunk)(before):
            for entry in rows:
                yield writer.writerow([_cell(entry, field) for field, _ in CSV_COLUMNS])
            before = rows[-1].id

    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
    response = StreamingHttpResponse(lines(), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="audit-{stamp}.csv"'
    return response
