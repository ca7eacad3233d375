"""/admin/tags/: the tag browser. Lists a site's tags as its WinCC server names them (browsed
with the site's read-only user, a page at a time, each with its data type and current value
and quality), lets an engineer pick tags, set how they show and put them on a dashboard, and
turns that into the changed configuration: a diff to download, or the file written where
CONFIG_WRITES_ALLOWED says so (dashboard/configurator.py does both, as for
`manage.py wincc_config`). Every process takes a written file up without a restart.

Staff with the configure_tags permission only (superusers have it). A GET only browses;
the change is a POST with the CSRF token.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django import forms
from django.conf import settings
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.http import HttpResponse, HttpResponseRedirect
from django.template.defaultfilters import floatformat
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils.http import urlencode
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_http_methods

from dashboard import configurator, permissions, siteconfig
from dashboard.tag_browse import (
    PAGE_SIZES,
    BrowseForm,
    browse,
    configured_tag,
    read_values,
    suggested,
)
from dashboard.views.auth import client_address, client_device
from wincc_bridge.client import WinCCError
from wincc_bridge.models import BrowseItem, TagValue
from wincc_ingest.config import Config, ConfigError, SiteConfig, TagConfig
from wincc_ingest.config_validation import schema

ACTIONS = ("preview", "download", "write")


class TagForm(forms.Form):
    """One listed tag: picked or not, and how it shows (empty: left out of the file)."""

    pick = forms.BooleanField(required=False)
    name = forms.CharField(max_length=256, widget=forms.HiddenInput)
    label = forms.CharField(max_length=200, required=False)
    unit = forms.CharField(max_length=20, required=False)
    ll = forms.FloatField(required=False, label="LL")
    l = forms.FloatField(required=False, label="L")  # noqa: E741 - the plant's name
    h = forms.FloatField(required=False, label="H")
    hh = forms.FloatField(required=False, label="HH")
    range_min = forms.FloatField(required=False)
    range_max = forms.FloatField(required=False)
    decimals = forms.IntegerField(required=False, min_value=0, max_value=6)

    def picked(self) -> configurator.PickedTag:
        data = self.cleaned_data
        return configurator.PickedTag(
            data["name"], label=data["label"].strip(), unit=data["unit"].strip(),
            limits={k: data[k] for k in configurator.LIMIT_KEYS if data[k] is not None},
            range_min=data["range_min"], range_max=data["range_max"],
            decimals=data["decimals"],
        )


TagFormSet = forms.formset_factory(TagForm, extra=0, max_num=max(PAGE_SIZES),
                                   absolute_max=max(PAGE_SIZES), validate_max=True)


class ChangeForm(forms.Form):
    """Where the picked tags go, and what to do with the change."""

    dashboard = forms.RegexField(
        regex=schema()["$defs"]["identifier"]["pattern"], required=False,
        help_text=gettext_lazy(
            "Show the picked tags as tiles on this dashboard (made when missing)."),
        error_messages={"invalid": "A dashboard id "
                        + schema()["$defs"]["identifier"]["x-message"] + "."},
    )
    title = forms.CharField(max_length=200, required=False)
    base_version = forms.CharField(max_length=12, required=False, widget=forms.HiddenInput)
    action = forms.ChoiceField(choices=[(a, a) for a in ACTIONS])


@dataclass
class Row:
    """A listed tag: what the server says about it, and its form."""

    item: BrowseItem
    value: TagValue | None
    configured: bool
    form: TagForm


@require_http_methods(["GET", "POST"])
def tag_browser(request):
    if not permissions.can_configure_tags(request.user):
        raise PermissionDenied
    context: dict[str, Any] = {
        **admin.site.each_context(request), "title": _("Tag browser"),
        "writes_allowed": settings.CONFIG_WRITES_ALLOWED,
        "reload_seconds": settings.CONFIG_RELOAD_SECONDS,
    }
    try:
        config = siteconfig.get_config()
    except ConfigError as exc:
        context["config_problems"] = exc.problems
        return TemplateResponse(request, "admin/tag_browser.html", context)
    posted = request.POST if request.method == "POST" else None
    query = posted or request.GET
    browse_form = BrowseForm(query if "site" in query else None, sites=config.sites,
                             initial={"pattern": "*"})
    context.update(browse_form=browse_form, dashboards=config.dashboards)
    if not browse_form.is_bound:
        return TemplateResponse(request, "admin/tag_browser.html", context)
    if not browse_form.is_valid():
        return TemplateResponse(request, "admin/tag_browser.html", context, status=400)
    site = config.known_site(browse_form.cleaned_data["site"])
    try:
        page, rows, formset = _listed(site, browse_form.cleaned_data, posted)
    except WinCCError as exc:
        context["browse_error"] = _("Cannot browse %(site)s (%(id)s): %(problem)s") % {
            "site": site.name, "id": site.id, "problem": exc}
        return TemplateResponse(request, "admin/tag_browser.html", context, status=502)
    change_form = ChangeForm(posted, initial={"action": "preview"})
    context.update(site=site, page=page, rows=rows, formset=formset, change_form=change_form,
                   pages_query=_query(browse_form.cleaned_data))
    if posted is None:
        return TemplateResponse(request, "admin/tag_browser.html", context)
    return _change(request, context, config, site, formset, change_form)


def _listed(site: SiteConfig, asked: dict[str, Any], posted) -> tuple[Any, list[Row], Any]:
    """The asked page of the site's matching tags, with their current values and forms
    (bound to `posted` when the engineer sent them)."""
    paginator = Paginator(browse(site, asked["pattern"]), asked["per_page"] or PAGE_SIZES[0])
    page = paginator.get_page(asked["page"] or 1)
    shown: list[BrowseItem] = list(page.object_list)
    values = read_values(site, [item.name for item in shown])
    configured = [configured_tag(site, item.name) for item in shown]
    initial = [_initial(item) if tag is None else _configured_initial(tag)
               for item, tag in zip(shown, configured, strict=True)]
    formset = TagFormSet(posted, initial=initial)
    by_name = {form["name"].value(): form for form in formset.forms}
    rows = [Row(item, values.get(item.name), tag is not None, by_name[first["name"]])
            for item, tag, first in zip(shown, configured, initial, strict=True)
            if first["name"] in by_name]
    return page, rows, formset


def _initial(item: BrowseItem) -> dict[str, Any]:
    picked = suggested(item)
    return {"name": picked.name, "label": picked.label, "decimals": picked.decimals}


def _configured_initial(tag: TagConfig) -> dict[str, Any]:
    return {
        "name": tag.name, "label": tag.label if tag.label != tag.name else "",
        "unit": tag.unit, "ll": tag.limits.ll, "l": tag.limits.l, "h": tag.limits.h,
        "hh": tag.limits.hh, "range_min": tag.range_min, "range_max": tag.range_max,
        "decimals": tag.decimals,
    }


def _query(asked: dict[str, Any]) -> str:
    """The browse's query string, without the page."""
    return urlencode({"site": asked["site"], "pattern": asked["pattern"],
                      "per_page": asked["per_page"] or PAGE_SIZES[0]})


def _change(request, context, config: Config, site: SiteConfig, formset, change_form):
    if not (formset.is_valid() and change_form.is_valid()):
        return TemplateResponse(request, "admin/tag_browser.html", context, status=400)
    picked = [form.picked() for form in formset.forms if form.cleaned_data.get("pick")]
    if not picked:
        context["change_error"] = _("Pick at least one tag (the box at the start of its row).")
        return TemplateResponse(request, "admin/tag_browser.html", context, status=400)
    dashboard = change_form.cleaned_data["dashboard"]
    try:
        change = configurator.add_tags(
            config.source, site.id, picked, dashboard=dashboard,
            dashboard_title=change_form.cleaned_data["title"])
    except ConfigError as exc:
        context["change_problems"] = exc.problems
        return TemplateResponse(request, "admin/tag_browser.html", context, status=400)
    context["change"] = change
    action = change_form.cleaned_data["action"]
    if action == "download":
        response = HttpResponse(change.diff(), content_type="text/x-diff; charset=utf-8")
        response["Content-Disposition"] = (
            f'attachment; filename="wincc-config-{change.old_version}-{change.new_version}.diff"'
        )
        return response
    if action == "preview":
        return TemplateResponse(request, "admin/tag_browser.html", context)
    base = change_form.cleaned_data["base_version"]
    try:
        if base != change.old_version:
            raise configurator.WriteRefused(
                _("The file changed since this change was shown (version %(shown)s, now "
                  "%(now)s): nothing was written. Here is the change against the file as it "
                  "is now.") % {"shown": base or _("unknown"), "now": change.old_version})
        backup = configurator.write(change)
    except configurator.WriteRefused as exc:
        context["change_error"] = str(exc)
        return TemplateResponse(request, "admin/tag_browser.html", context, status=409)
    configurator.audit(change, site.id, username=request.user.get_username(),
                       user=request.user, remote_addr=client_address(request),
                       device=client_device(request))
    written = _(
        "Written: version %(version)s (%(added)d tag(s) added, %(changed)d changed; the old "
        "file kept as %(backup)s). Every process uses it within %(seconds)s s, without a "
        "restart.") % {"version": change.new_version, "added": len(change.added),
                       "changed": len(change.updated), "backup": backup.name,
                       "seconds": floatformat(settings.CONFIG_RELOAD_SECONDS, -3)}
    if dashboard:
        written += " " + _("Dashboard %(id)s: %(address)s") % {
            "id": dashboard, "address": reverse("dashboard", args=[dashboard])}
    messages.success(request, written)
    return HttpResponseRedirect(f"{reverse('tag-browser')}?{context['pages_query']}")
