"""/kpi/: the alarm KPIs (EEMUA 191 / ISA-18.2) of one site or the plant over a range."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any, cast

from django import forms
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils.translation import gettext, gettext_lazy

from dashboard import moments, permissions, siteconfig
from dashboard.journal_query import BAND_WORDS
from dashboard.kpi import figures as kpi
from dashboard.views import pages

PLANT = "plant"
PRESETS = {
    "8h": (gettext_lazy("Last shift (8 h)"), timedelta(hours=8)),
    "24h": (gettext_lazy("Last 24 hours"), timedelta(hours=24)),
    "7d": (gettext_lazy("Last 7 days"), timedelta(days=7)),
    "30d": (gettext_lazy("Last 30 days"), timedelta(days=30)),
}
CUSTOM = "custom"
DEFAULTS = {"range": "24h", "site": PLANT}
# The longest custom range: a month of 10-minute periods (EEMUA 191 asks for 30 days).
LONGEST = timedelta(days=31)


class KpiForm(forms.Form):
    range = forms.ChoiceField(
        label=gettext_lazy("Range"),
        choices=[*((key, label) for key, (label, _) in PRESETS.items()),
                 (CUSTOM, gettext_lazy("Custom"))],
        error_messages={"invalid_choice": gettext_lazy(
            "There is no range %(value)s; choose one of the list.")},
    )
    site = forms.ChoiceField(
        label=gettext_lazy("Site"),
        error_messages={"invalid_choice": gettext_lazy(
            "There is no site %(value)s that you may see.")},
    )
    start = moments.MomentField(required=False, label=gettext_lazy("From (UTC)"))
    end = moments.MomentField(required=False, label=gettext_lazy("To (UTC)"))

    def __init__(self, data, *, sites: list[tuple[str, str]], now: datetime):
        super().__init__(data)
        self.sites, self.now = sites, now
        moments.set_now(self, now)
        self.site_names = {PLANT: gettext("Plant (all your sites)"), **dict(sites)}
        cast(forms.ChoiceField, self.fields["site"]).choices = list(self.site_names.items())

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if "range" not in data:
            return data
        if data["range"] != CUSTOM:
            data["end"] = self.now
            data["start"] = self.now - PRESETS[data["range"]][1]
            return data
        start, end = data.get("start"), data.get("end")
        if self.errors:
            return data
        if start is None or end is None:
            raise forms.ValidationError(
                gettext("A custom range needs both a start and an end."))
        start, end = start.astimezone(UTC), min(end.astimezone(UTC), self.now)
        if start >= end:
            raise forms.ValidationError(
                gettext("The range must start before it ends, and before now."))
        if end - start > LONGEST:
            raise forms.ValidationError(
                gettext("The range may be at most %(days)d days long.") % {"days": LONGEST.days})
        data["start"], data["end"] = start, end
        return data

    def scope(self) -> kpi.Scope:
        site = self.cleaned_data["site"]
        sites = tuple(s for s, _ in self.sites) if site == PLANT else (site,)
        return kpi.Scope(sites=sites, start=self.cleaned_data["start"],
                         end=self.cleaned_data["end"])

    def site_name(self) -> str:
        return self.site_names[self.cleaned_data["site"]]


@login_required
def kpi_page(request: HttpRequest) -> HttpResponse:
    if not permissions.can_view_any(request.user):
        raise PermissionDenied(gettext("You may not view alarm KPIs."))
    config = siteconfig.get_config()
    visible = set(permissions.viewable_sites(request.user, [s.id for s in config.sites]))
    sites = [(s.id, s.name) for s in config.sites if s.id in visible]
    now = datetime.now(UTC).replace(microsecond=0)
    data = request.GET.copy()
    for key, value in DEFAULTS.items():
        data.setdefault(key, value)
    form = KpiForm(data, sites=sites, now=now)
    context: dict[str, Any] = {"page": "kpi", "form": form, "generated_at": now,
                               "limits": _limits(), "priority_words": BAND_WORDS}
    if not form.is_valid():
        return render(request, "kpi/page.html", pages.with_banner(request, context), status=400)
    figures = kpi.compute(form.scope(), now)
    context.update(figures=figures, site_name=form.site_name(), chart=_chart(figures))
    return render(request, "kpi/page.html", pages.with_banner(request, context))


def _limits() -> dict[str, Any]:
    return {"acceptable": kpi.VERY_LIKELY_ACCEPTABLE, "manageable": kpi.MANAGEABLE,
            "flood": kpi.FLOOD, "chatter_raises": kpi.CHATTER_RAISES,
            "chatter_seconds": kpi.CHATTER_SECONDS,
            "standing_hours": int(kpi.STANDING.total_seconds() // 3600), "listed": kpi.LISTED}


def _chart(figures: kpi.Figures) -> dict[str, Any]:
    """What kpi.js draws: the same figures the tables show, nothing more."""
    return {
        "periods": [t for t, _ in figures.series],
        "raises": [n for _, n in figures.series],
        "limits": {"acceptable": kpi.VERY_LIKELY_ACCEPTABLE, "manageable": kpi.MANAGEABLE,
                   "flood": kpi.FLOOD},
        "priorities": [{"priority": p["priority"], "share": round(p["share"], 1),
                        "target": p["target"]} for p in figures.priorities],
    }
