"""/admin/wincc-check/: the online check of one site's WinCC server, from the admin.

Staff only (the admin's own sign-in). Running the check contacts a server, so it is a POST
with the CSRF token; a GET only lists the sites. The check reads with the site's read-only
user and never writes or acknowledges (wincc_ingest/online_check.py does the work).
"""

from __future__ import annotations

from django import forms
from django.contrib import admin
from django.template.response import TemplateResponse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_http_methods

from dashboard.siteconfig import get_config
from wincc_ingest.config import ConfigError, SiteConfig
from wincc_ingest.online_check import check_site


class SiteCheckForm(forms.Form):
    """Which site to check: one of the configuration's, known only when the form is made."""

    def __init__(self, *args, sites: tuple[SiteConfig, ...], **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.fields["site"] = forms.ChoiceField(
            choices=[(site.id, site.name) for site in sites],
            error_messages={"invalid_choice": gettext_lazy("No site %(value)s is configured.")},
        )


@require_http_methods(["GET", "POST"])
def wincc_check(request):
    context = {**admin.site.each_context(request), "title": _("Check the WinCC sites")}
    try:
        config = get_config()
    except ConfigError as exc:
        context["config_problems"] = exc.problems
        return TemplateResponse(request, "admin/wincc_check.html", context)
    form = SiteCheckForm(request.POST or None, sites=config.sites)
    status = 200
    if request.method == "POST":
        if form.is_valid():
            context["report"] = check_site(config.known_site(form.cleaned_data["site"]))
        else:
            status = 400
    context.update(sites=config.sites, form=form)
    return TemplateResponse(request, "admin/wincc_check.html", context, status=status)
