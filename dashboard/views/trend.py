"""The trend page: pick pens and a window; static/dashboard/trend.js draws them from
/trend/data/ and keeps the live edge moving from the page's stream (docs/trend.md).

The page holds no history. It checks the request with the trend's one form (the data's
and the export's: a bad pen or range is a plain sentence and HTTP 400, never a 500), offers
only the pens of sites the person may see, and hands the chart its parameters.
"""

from __future__ import annotations

import json
import time
from datetime import UTC, datetime

from django.contrib.auth.decorators import login_required
from django.http import QueryDict
from django.shortcuts import render
from django.urls import reverse
from django.utils.translation import gettext, gettext_lazy

from dashboard import layouts, siteconfig, trend_query
from dashboard.history.trend import MAX_PENS
from dashboard.views import pages
from dashboard.views.trend_data import TrendForm, utc_text

# (label, start) of the ready-made windows, all ending now.
PRESETS = [("15 min", "now-15min"), ("1 h", "now-1h"), (gettext_lazy("8 h (shift)"), "now-8h"),
           ("24 h", "now-24h"), (gettext_lazy("7 days"), "now-7d")]
# The page's one compare control; the chart's toolbar has none of its own on this page.
COMPARE_CHOICES = [("", gettext_lazy("nothing")), ("1d", gettext_lazy("1 day earlier")),
                   ("7d", gettext_lazy("1 week earlier"))]
# The form's fields as the page names them, before each sentence about one.
FIELD_WORDS = {"start": gettext_lazy("From (UTC)"), "end": gettext_lazy("To (UTC)"),
               "compare": gettext_lazy("Compare"), "pen": gettext_lazy("Pens")}


def _errors(form: TrendForm) -> list[str]:
    return [gettext("%(field)s: %(problem)s") % {"field": FIELD_WORDS[field], "problem": error}
            if field in FIELD_WORDS else str(error)
            for field, errors in form.errors.items() for error in errors]


def _for_chart(typed: str, epoch: float) -> str:
    """A relative time as typed (the chart keeps a live window moving); any other in UTC
    with its Z, so that the browser never reads a time without a zone as its own local time."""
    return typed if typed.startswith("now") else utc_text(epoch)


def _fields(typed: str, epoch: float | None) -> dict[str, str]:
    """A window's end as the form holds it: a live span ("now-8h") in its hidden field, a
    fixed time in its date-and-time box (UTC, as the box has no zone)."""
    if typed.startswith("now"):
        return {"span": typed[:64], "box": ""}
    box = (datetime.fromtimestamp(epoch, UTC).strftime("%Y-%m-%dT%H:%M:%S")
           if isinstance(epoch, float) else "")
    return {"span": "", "box": box}


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
    asked = request.GET.getlist("pen")
    form = TrendForm(request.GET, request.user, time.time())
    # Without a pen the page offers the picker; that is no error.
    valid = form.is_valid() if asked else False
    errors = _errors(form) if asked else []
    pen_ids = [pen.id for pen in form.pens] if valid else []
    start = form.data.get("start", "").strip() or trend_query.DEFAULT_START
    end = form.data.get("end", "").strip() or trend_query.DEFAULT_END
    compare = form.cleaned_data.get("compare", "") if valid else ""
    chart_start = _for_chart(start, form.cleaned_data["start"]) if valid else start
    chart_end = _for_chart(end, form.cleaned_data["end"]) if valid else end
    cleaned = getattr(form, "cleaned_data", {})
    query = QueryDict(mutable=True)
    query.setlist("pen", pen_ids)
    layout = layouts.trend(config, viewer, query)
    context = pages.page_context(request, "trend", "", layout, viewer, query)
    context.update({
        "errors": errors,
        "picker": _picker(config, viewer, set(asked)),
        "pens": form.pens if valid else [],
        "max_pens": MAX_PENS,
        # What was typed, shown back; the chart gets it only once valid.
        "start": start[:64], "end": end[:64], "compare": compare,
        "window": {name: _fields(typed, cleaned.get(name))
                   for name, typed in (("start", start), ("end", end))},
        "compare_choices": COMPARE_CHOICES,
        "presets": [(label, span, trend_query.page_url(pen_ids, span, "now"))
                    for label, span in PRESETS],
        "chart": json.dumps({"pens": pen_ids, "start": chart_start, "end": chart_end,
                             "compare": compare,
                             "pageUrl": reverse("trend")}),
    })
    return render(request, "pages/trend.html", context, status=400 if errors else 200)
