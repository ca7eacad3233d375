"""The trend page: pick pens and a window; static/dashboard/trend.js draws them from
/trend/data/ and keeps the live edge moving from the page's stream (docs/trends.md).

The page itself holds no history: it validates the request (a bad pen or range is a plain
sentence and HTTP 400, never a 500), offers only the pens of sites the person may see, and
hands the chart its parameters.
"""

from __future__ import annotations

import json

from django import forms
from django.contrib.auth.decorators import login_required
from django.http import QueryDict
from django.shortcuts import render
from django.urls import NoReverseMatch, reverse

from dashboard import layouts, siteconfig, trend_query
from dashboard.params import BadParameter
from dashboard.views import pages
from wincc_bridge.models import utcnow

# (label, span) of the ready-made windows, all ending now.
PRESETS = [("15 min", "now-15min"), ("1 h", "now-1h"), ("8 h (shift)", "now-8h"),
           ("24 h", "now-24h"), ("7 days", "now-7d")]
DEFAULT_START, DEFAULT_END = trend_query.DEFAULT_START, trend_query.DEFAULT_END
COMPARE_CHOICES = [("", "No comparison"), ("1d", "1 day earlier"), ("7d", "1 week earlier")]
_TIME_HELP = "now, now-8h (s, min, h, d) or a date and time with its zone (2026-12-01T22:00Z)"


class TrendForm(forms.Form):
    pen = forms.Field(required=False, widget=forms.MultipleHiddenInput)
    start = forms.CharField(required=False, max_length=40, help_text=_TIME_HELP, error_messages={
        "max_length": "The start time may be at most 40 characters long."})
    end = forms.CharField(required=False, max_length=40, help_text=_TIME_HELP, error_messages={
        "max_length": "The end time may be at most 40 characters long."})
    compare = forms.ChoiceField(required=False, choices=COMPARE_CHOICES, error_messages={
        "invalid_choice": "Compare with 1d (a day earlier) or 7d (a week earlier), "
                          "or leave it empty."})

    def __init__(self, data, *, viewer: layouts.Viewer):
        super().__init__(data)
        self.viewer = viewer

    def clean_pen(self) -> list[trend_query.Pen]:
        try:
            return trend_query.pens(siteconfig.get_config(), self.viewer.visible,
                                    self.cleaned_data["pen"] or [])
        except BadParameter as exc:
            raise forms.ValidationError(str(exc)) from None

    def clean(self) -> dict:
        data = super().clean() or {}
        data["start"] = data.get("start") or DEFAULT_START
        data["end"] = data.get("end") or DEFAULT_END
        if "start" not in self.errors and "end" not in self.errors:
            try:
                trend_query.window(data["start"], data["end"], utcnow())
            except BadParameter as exc:
                raise forms.ValidationError(str(exc)) from None
        return data


def _url(name: str) -> str:
    """The address of a named URL; "" where it is not installed."""
    try:
        return reverse(name)
    except NoReverseMatch:
        return ""


def _picker(config, viewer: layouts.Viewer, chosen: set[str]) -> list[dict]:
    """The pens offered, site by site: only the sites the person may see."""
    by_site: dict[str, dict] = {}
    for pen in trend_query.offered_pens(config, viewer.visible):
        group = by_site.setdefault(pen.site.id, {"name": pen.site.name, "pens": []})
        group["pens"].append({"id": pen.id, "label": pen.tag.label, "unit": pen.tag.unit,
                              "checked": pen.id in chosen})
    return list(by_site.values())


@login_required
def trend(request):
    viewer = pages._viewer(request)
    config = siteconfig.get_config()
    form = TrendForm(request.GET, viewer=viewer)
    valid = form.is_valid()
    chosen = form.cleaned_data.get("pen", []) if valid else []
    pen_ids = [p.id for p in chosen]
    query = QueryDict(mutable=True)
    query.setlist("pen", pen_ids)
    layout = layouts.trend(config, viewer, query)
    context = pages.page_context(request, "trend", "", layout, viewer, query)
    start = form.cleaned_data["start"] if valid else DEFAULT_START
    end = form.cleaned_data["end"] if valid else DEFAULT_END
    compare = form.cleaned_data.get("compare", "") if valid else ""
    context.update({
        "form": form,
        "errors": [e for errors in form.errors.values() for e in errors],
        "picker": _picker(config, viewer, set(pen_ids) if valid else
                          set(request.GET.getlist("pen"))),
        "pens": chosen,
        "max_pens": trend_query.MAX_PENS,
        "start": start, "end": end, "compare": compare,
        "compare_choices": COMPARE_CHOICES,
        "presets": [(label, span, trend_query.page_url(pen_ids, span, "now"))
                    for label, span in PRESETS],
        "chart": json.dumps({
            "pens": pen_ids, "start": start, "end": end, "compare": compare,
            "dataUrl": _url("trend-data"), "exportUrl": _url("trend-export"),
            "pageUrl": _url("trend"),
        }),
    })
    return render(request, "pages/trend.html", context, status=200 if valid else 400)
