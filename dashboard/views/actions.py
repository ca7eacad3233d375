"""POST /alarms/ack/ and /alarms/ack-all/: the HTTP side of dashboard.acknowledge (parse,
answer, render the row or the rows)."""

from __future__ import annotations

import dataclasses

from django import forms
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils.translation import gettext_lazy as _
from django.views.decorators.http import require_POST

from dashboard import acknowledge as ack
from dashboard import alarm_notes, params, permissions
from dashboard.layouts import FILTER_CHOICES
from dashboard.panels.alarm_list import MAX_ALARM_ROWS
from dashboard.siteconfig import get_config
from dashboard.step_messages import StepMessage, malformed, unknown_site
from dashboard.views.auth import client_address, client_device
from wincc_bridge.models import Alarm, AlarmState

COMMENT_MAX = 1000
NAME_MAX = 256
SITE_MAX = 64


class PlainProblem:
    """A form's first problem as a plain sentence naming the field (Django's own words for
    it, read in the language asked: the record's in English, the person's in theirs)."""

    errors: forms.utils.ErrorDict

    def problem(self) -> StepMessage:
        field, errors = next(iter(self.errors.items()))
        return StepMessage(_("the field %(field)s: %(error)s"), field=repr(field),
                           error=first_error(errors))


def first_error(errors: forms.utils.ErrorList) -> StepMessage:
    """A field's first error, read when shown: its ValidationError keeps the lazy text."""
    error = errors.as_data()[0]
    return StepMessage(error.message, **(error.params or {}))


class AcknowledgeForm(PlainProblem, forms.Form):
    """The acknowledge POST: which alarm, in which state the person saw it, and a comment."""

    site = forms.CharField(max_length=SITE_MAX)
    name = forms.CharField(max_length=NAME_MAX)
    # A WinCC alarm instance id: 0 or more, at most 18 ASCII digits (the column's range).
    instance = forms.RegexField(regex=r"\A[0-9]{1,18}\Z")
    state = forms.ChoiceField(choices=[(state.value, state.label) for state in AlarmState])
    comment = forms.CharField(required=False, max_length=COMMENT_MAX)

    def ack_request(self, request: HttpRequest) -> ack.AckRequest:
        data = self.cleaned_data
        return ack.AckRequest(
            site_id=data["site"],
            name=data["name"],
            instance_id=int(data["instance"]),
            seen_state=AlarmState(data["state"]),
            comment=data["comment"],
            remote_addr=client_address(request),
            device=client_device(request),
        )


class AcknowledgeAllForm(PlainProblem, forms.Form):
    """Acknowledge all shown: the site, the list's filters, and how many rows the person
    confirmed (the confirmation states the number; a changed list sends nothing)."""

    site = forms.CharField(max_length=SITE_MAX)
    priority = forms.ChoiceField(required=False, choices=[
        ("", _("all")), *((p, p) for p in FILTER_CHOICES["priority"])])
    state = forms.ChoiceField(required=False, choices=[
        ("", _("active list")), *((s, s) for s in FILTER_CHOICES["state"])])
    count = forms.IntegerField(min_value=1, max_value=MAX_ALARM_ROWS)

    def filters(self) -> dict[str, str]:
        return {key: self.cleaned_data[key] for key in ("priority", "state")
                if self.cleaned_data[key]}


def _partial_request(request: HttpRequest) -> ack.AckRequest:
    """What a refused request named, cut to the columns' sizes, for its audit row."""
    try:
        instance_id = params.whole_number(request.POST, "instance", default=0) or 0
    except params.BadParameter:
        instance_id = 0  # the row still records the refusal
    return ack.AckRequest(
        site_id=params.clipped(request.POST, "site", SITE_MAX),
        name=params.clipped(request.POST, "name", NAME_MAX),
        instance_id=instance_id,
        seen_state=AlarmState.NORMAL,
        comment=params.clipped(request.POST, "comment", COMMENT_MAX),
        remote_addr=client_address(request),
        device=client_device(request),
    )


def plain(message: object, status: int) -> HttpResponse:
    """A plain-text answer in the person's language (a StepMessage is read now)."""
    return HttpResponse(str(message), status=status, content_type="text/plain")


def _forbidden() -> HttpResponse:
    return plain(_("You may not acknowledge alarms on this site."), 403)


def refused(request: HttpRequest, response: HttpResponse) -> HttpResponse:
    """The refusal's answer, or 429 once this address was refused too often this minute."""
    wait = ack.refusal_limit(client_address(request))
    if wait is None:
        return response
    limited = plain(StepMessage(_(
        "Too many refused requests from this address; try again in %(wait)s seconds."),
        wait=wait), 429)
    limited["Retry-After"] = str(wait)
    return limited


@require_POST
def acknowledge_alarm(request: HttpRequest) -> HttpResponse:
    user = request.user
    if not permissions.can_acknowledge_any(user):
        ack.record_refusal(user, _partial_request(request), ack.Result.DENIED,
                           StepMessage(_("No permission to acknowledge alarms.")))
        return refused(request, _forbidden())
    form = AcknowledgeForm(request.POST)
    if not form.is_valid():
        message = malformed(form.problem())
        ack.record_refusal(user, _partial_request(request), ack.Result.ERROR, message)
        return refused(request, plain(message, 400))
    req = form.ack_request(request)
    try:
        outcome = ack.acknowledge(user, req)
    except ack.NotPermitted:
        return refused(request, _forbidden())
    except ack.UnknownSite:
        return refused(request, plain(unknown_site(req.site_id), 404))
    if outcome.alarm is None and outcome.entry.result == ack.Result.ERROR:
        return plain(outcome.message, 503)
    # An alarm that left the active list is shown as normal, with the reason.
    alarm = outcome.alarm or Alarm(req.site_id, req.name, req.instance_id, AlarmState.NORMAL)
    site = get_config().known_site(req.site_id)
    context = {
        "alarm": alarm,
        "site_name": site.name,
        "can_ack": alarm.can_acknowledge and permissions.can_acknowledge(user, req.site_id),
        "ack_message": outcome.message,
        "ack_ok": outcome.ok,
        "ack_checking": outcome.checking,
        "acknowledged": alarm_notes.acknowledged_by(
            user.get_username() if outcome.ok else "", alarm.acknowledged_by or "",
            site.write_user.username if site.write_user else ""),
    }
    return render(request, "partials/alarm_row.html", context)


@require_POST
def acknowledge_all(request: HttpRequest) -> HttpResponse:
    """Acknowledge every row a site's list shows, after one confirmation stating how many."""
    user = request.user
    named = dataclasses.replace(_partial_request(request), name=ack.ALL_SHOWN, comment="")
    if not permissions.can_acknowledge(user, named.site_id):
        ack.record_refusal(user, named, ack.Result.DENIED, ack.NOT_PERMITTED)
        return refused(request, _forbidden())
    form = AcknowledgeAllForm(request.POST)
    if not form.is_valid():
        message = malformed(form.problem())
        ack.record_refusal(user, named, ack.Result.ERROR, message)
        return refused(request, plain(message, 400))
    site_id = form.cleaned_data["site"]
    try:
        outcomes = ack.acknowledge_all(user, site_id, form.filters(), form.cleaned_data["count"],
                                       client_address(request), client_device(request))
    except ack.NotPermitted:
        return refused(request, _forbidden())
    except ack.UnknownSite:
        return refused(request, plain(unknown_site(site_id), 404))
    except ack.ListChanged as exc:
        return plain(exc.args[0], 409)
    done = sum(1 for o in outcomes if o.ok)
    return render(request, "partials/ack_all_result.html", {
        "outcomes": outcomes, "done": done, "site_name": get_config().known_site(site_id).name,
    })
