"""One alarm occurrence: its page (state, shelving, comments) and the steps taken on it:
shelve, unshelve, comment. The HTTP side of dashboard.shelving and dashboard.alarm_notes.

Each POST checks the person's right on the named site first (403 and a `denied` audit row,
nothing sent), then parses the form (a refusal names the problem in a plain sentence and is
an audit row too), then acts. Success redirects back to the occurrence page.
"""

from __future__ import annotations

from urllib.parse import urlencode

import redis
from django import forms
from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse, QueryDict
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext_lazy as _
from django.views.decorators.http import require_POST

from dashboard import alarm_history, alarm_notes, layouts, params, permissions, shelving
from dashboard.alarm_notes import COMMENT_MAX, Occurrence, Result, refusal
from dashboard.models import AlarmComment, Shelving
from dashboard.siteconfig import get_config
from dashboard.step_messages import StepMessage, malformed, unknown_site
from dashboard.views import pages
from dashboard.views.actions import NAME_MAX, SITE_MAX, PlainProblem, first_error, plain, refused
from dashboard.views.auth import client_address, client_device
from wincc_ingest import codec


class OccurrenceForm(PlainProblem, forms.Form):
    """Which occurrence: site, alarm name, WinCC instance id."""

    site = forms.CharField(max_length=SITE_MAX)
    name = forms.CharField(max_length=NAME_MAX)
    instance = forms.RegexField(regex=r"\A[0-9]{1,18}\Z")

    def occurrence(self, request: HttpRequest) -> Occurrence:
        data = self.cleaned_data
        return Occurrence(data["site"], data["name"], int(data["instance"]),
                          client_address(request), client_device(request))


class ShelveForm(OccurrenceForm):
    minutes = forms.IntegerField(min_value=1)
    reason = forms.CharField(max_length=COMMENT_MAX, error_messages={
        "required": _("Give a reason for shelving."),
    })

    def clean_minutes(self) -> int:
        minutes = self.cleaned_data["minutes"]
        if minutes > shelving.max_minutes():
            raise forms.ValidationError(
                _("At most %(most)s minutes may be chosen, not %(minutes)s."),
                params={"most": shelving.max_minutes(), "minutes": minutes})
        return minutes

    def problem(self) -> StepMessage:
        # The person's own words first: these are the mistakes a person makes.
        for field in ("reason", "minutes"):
            if field in self.errors:
                return first_error(self.errors[field])
        return super().problem()


class CommentForm(OccurrenceForm):
    text = forms.CharField(max_length=COMMENT_MAX, error_messages={
        "required": _("Write a comment first."),
        "max_length": _("A comment may be at most %(limit_value)s characters long."),
    })

    def problem(self) -> StepMessage:
        if "text" in self.errors:
            return first_error(self.errors["text"])
        return super().problem()


def occurrence_url(occ: Occurrence) -> str:
    query = urlencode({"site": occ.site_id, "name": occ.name, "instance": occ.instance_id})
    return f"{reverse('alarm-occurrence')}?{query}"


@login_required
def occurrence(request: HttpRequest) -> HttpResponse:
    form = OccurrenceForm(request.GET)
    if not form.is_valid():
        return render(request, "pages/bad_request.html",
                      {"message": malformed(form.problem())}, status=400)
    occ = form.occurrence(request)
    if not permissions.can_view(request.user, occ.site_id):
        raise PermissionDenied
    site = get_config().site(occ.site_id)
    if site is None:
        return render(request, "pages/bad_request.html",
                      {"message": no_site(occ.site_id)}, status=404)
    return render(request, "pages/alarm.html", {**_live(request, occ),
                                                **_context(request, occ, site)})


def _live(request: HttpRequest, occ: Occurrence) -> dict:
    """The page's live parts (the occurrence's state, the header, the banner) over its one
    stream, which names the occurrence as the page does."""
    config = get_config()
    viewer = layouts.Viewer.for_user(request.user, config)
    query = QueryDict(mutable=True)
    query.update({"site": occ.site_id, "name": occ.name, "instance": str(occ.instance_id)})
    layout = layouts.occurrence(viewer, query)
    return pages.page_context(request, "occurrence", "", layout, viewer, query)


@login_required
def history(request: HttpRequest) -> HttpResponse:
    """The occurrence's History section alone; the page fetches it again as it changes."""
    form = OccurrenceForm(request.GET)
    if not form.is_valid():
        return plain(malformed(form.problem()), 400)
    occ = form.occurrence(request)
    if not permissions.can_view(request.user, occ.site_id):
        return plain(_("You may not see this site's alarms."), 403)
    site = get_config().site(occ.site_id)
    if site is None:
        return plain(no_site(occ.site_id), 404)
    return render(request, "partials/alarm_history.html",
                  {"steps": _history(occ, site)})


def no_site(site_id: str) -> StepMessage:
    return StepMessage(_("There is no site %(site)s."), site=repr(site_id))


def _history(occ: Occurrence, site) -> list[alarm_history.Step]:
    writer = site.write_user.username if site.write_user else ""
    return alarm_history.history(occ.site_id, occ.name, occ.instance_id, writer)


def _context(request: HttpRequest, occ: Occurrence, site) -> dict:
    user = request.user
    try:
        alarm = alarm_notes.live_alarm(occ.site_id, occ.name, occ.instance_id)
        unreadable = False
    except (redis.RedisError, codec.StoredDataError):
        alarm, unreadable = None, True
    running = alarm_notes.running_shelving(occ.site_id, occ.name, occ.instance_id)
    same = {"site_id": occ.site_id, "alarm_name": occ.name, "instance_id": occ.instance_id}
    never = shelving.why_not_shelvable(alarm) if alarm else ""
    return {
        "occ": occ,
        "site": site,
        "alarm": alarm,
        "unreadable": unreadable,
        "running": running,
        "history": Shelving.objects.filter(**same).exclude(pk=running.pk if running else None),
        "comments": AlarmComment.objects.filter(**same),
        "can_shelve": permissions.can_shelve(user, occ.site_id),
        "can_comment": permissions.can_comment(user, occ.site_id),
        "can_ack": (alarm is not None and alarm.can_acknowledge
                    and permissions.can_acknowledge(user, occ.site_id)),
        "never_shelve": never,
        "comment_required": alarm is not None and alarm_notes.comment_required(alarm),
        "presets": [m for m in settings.ALARM_SHELVE_PRESETS_MINUTES
                    if m <= shelving.max_minutes()],
        "max_minutes": shelving.max_minutes(),
        "in_wincc": site.capabilities().shelve,
        "comment_max": COMMENT_MAX,
        "back": occurrence_url(occ),
        "steps": _history(occ, site),
        "history_url": f"{reverse('alarm-history')}?{occurrence_url(occ).partition('?')[2]}",
        "acknowledged": alarm_notes.acknowledged_by(
            alarm_notes.acknowledged_here(occ.site_id, occ.name, occ.instance_id),
            alarm.acknowledged_by or "" if alarm else "",
            site.write_user.username if site.write_user else ""),
    }


def _posted(request: HttpRequest) -> Occurrence:
    """What a refused request named, cut to the columns' sizes, for its audit row."""
    try:
        instance = params.whole_number(request.POST, "instance", default=0) or 0
    except params.BadParameter:
        instance = 0
    return Occurrence(params.clipped(request.POST, "site", SITE_MAX),
                      params.clipped(request.POST, "name", NAME_MAX), instance,
                      client_address(request), client_device(request))


def _step(request: HttpRequest, action: str, form: OccurrenceForm, allowed, act) -> HttpResponse:
    """Check the right on the named site, parse, act; every refusal is an audit row."""
    user = request.user
    named = _posted(request)
    if not allowed(user, named.site_id):
        refusal(user, named, action, Result.DENIED,
                StepMessage(_("No permission to do this on this site.")),
                comment=params.clipped(request.POST, "reason", COMMENT_MAX)
                or params.clipped(request.POST, "text", COMMENT_MAX))
        return refused(request, plain(_("You may not do this on this site."), 403))
    if not form.is_valid():
        message = form.problem()
        refusal(user, named, action, Result.ERROR,
                StepMessage(_("Refused: %(problem)s"), problem=message))
        return refused(request, plain(message, 400))
    occ = form.occurrence(request)
    if get_config().site(occ.site_id) is None:
        refusal(user, occ, action, Result.ERROR, unknown_site(occ.site_id))
        return refused(request, plain(unknown_site(occ.site_id), 404))
    ok, message = act(user, occ, form.cleaned_data)
    if not ok:
        return plain(message, 409)
    # The flash is read on the next page, in the person's language then too.
    messages.success(request, str(message))
    done = redirect(occurrence_url(occ))
    done.status_code = 303  # after a POST, GET the page
    return done


@require_POST
def shelve_alarm(request: HttpRequest) -> HttpResponse:
    def act(user, occ, data):
        outcome = shelving.shelve(user, occ, data["minutes"], data["reason"])
        return outcome.ok, outcome.message

    return _step(request, shelving.SHELVE, ShelveForm(request.POST), permissions.can_shelve, act)


@require_POST
def unshelve_alarm(request: HttpRequest) -> HttpResponse:
    def act(user, occ, data):
        outcome = shelving.unshelve(user, occ)
        return outcome.ok, outcome.message

    return _step(request, shelving.UNSHELVE, OccurrenceForm(request.POST),
                 permissions.can_shelve, act)


@require_POST
def comment_alarm(request: HttpRequest) -> HttpResponse:
    def act(user, occ, data):
        alarm_notes.comment(user, occ, data["text"])
        return True, alarm_notes.COMMENT_ADDED

    return _step(request, "comment", CommentForm(request.POST), permissions.can_comment, act)
