"""The alarm journal page, /journal/: one line per alarm occurrence (or every transition),
filtered, paged by keyset. The filter is dashboard.journal_query's, the exports' too."""

from __future__ import annotations

from typing import Any, cast

from django import forms
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils.safestring import SafeString, mark_safe
from django.utils.translation import gettext

from dashboard import journal_query, permissions
from dashboard.journal_query import BANDS, TRANSITION_WORDS, TRANSITIONS, JournalFilter, Line
from dashboard.views import pages


def journal_filter(request: HttpRequest) -> JournalFilter:
    """The request's filter; a person who may see no site is refused."""
    if not permissions.can_view_any(request.user):
        raise PermissionDenied(gettext("You may not see any site's alarms."))
    return JournalFilter(request.GET, request.user)


@login_required
def journal(request: HttpRequest) -> HttpResponse:
    form = journal_filter(request)
    valid = form.is_valid()
    context: dict = {"form": form, "problem": "" if valid else form.problem(),
                     "page": "journal", "filtered": _filtered(form) if valid else ""}
    if valid:
        rows, field = form.rows()
        data = form.cleaned_data
        found = journal_query.page(rows, field, after=data.get("after") or "",
                                   before=data.get("before") or "")
        if form.mode == TRANSITIONS:
            shown = found.rows
        else:
            page_url, badges = reverse("alarm-occurrence"), _badges()
            lines = [Line.of(o, page_url) for o in found.rows]
            shown = [(line, badges[line.band]) for line in lines]
        query = request.GET.copy()
        for name in ("after", "before"):
            query.pop(name, None)
        context.update({
            "mode": form.mode,
            "transition_words": TRANSITION_WORDS,
            "rows": shown,
            "query": query.urlencode(),
            "next_cursor": found.next_cursor,
            "prev_cursor": found.prev_cursor,
            "other_view": _with(query, "view", "occurrences" if form.mode == TRANSITIONS
                                else TRANSITIONS),
        })
    return render(request, "journal/journal.html", pages.with_banner(request, context),
                  status=200 if valid else 400)


# The filter's fields that narrow the list, as its folded summary names them.
NARROWING = ("since", "until", "site", "priority", "transition", "text", "user")


def _filtered(form: JournalFilter) -> str:
    """What the filter narrows to, in a line: "Site line-classic, Text pump"; "" for all.
    A chosen priority or transition reads in the page's words."""
    def shown(name: str) -> str:
        typed = str(form.data.get(name, "")).strip()[:40]
        field = form.fields[name]
        if isinstance(field, forms.ChoiceField):
            choices = cast(list[tuple[str, Any]], field.choices)
            typed = next((str(label) for value, label in choices if value == typed), typed)
        return typed

    return ", ".join(f"{form.fields[name].label} {shown(name)}"
                     for name in NARROWING if form.cleaned_data.get(name))


def _with(query, name: str, value: str) -> str:
    changed = query.copy()
    changed[name] = value
    return changed.urlencode()


def _badges() -> dict[str, SafeString]:
    """The priority badge of each band, drawn once per page, not once per line."""
    return {str(band): mark_safe(render_to_string(  # noqa: S308 - our own template
        "partials/priority_badge.html", {"band": str(band)})) for band in BANDS}
