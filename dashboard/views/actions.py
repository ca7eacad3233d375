"""POST /alarms/ack/: the HTTP side of dashboard.acknowledge (parse, answer, render the row)."""

from __future__ import annotations

from django import forms
from django.http import HttpRequest, HttpResponse, HttpResponseBadRequest
from django.shortcuts import render
from django.views.decorators.http import require_POST

from dashboard import acknowledge as ack
from dashboard import params, permissions
from dashboard.siteconfig import get_config
from dashboard.views.auth import client_address, client_device
from wincc_bridge.models import Alarm, AlarmState

COMMENT_MAX = 1000
NAME_MAX = 256
SITE_MAX = 64


class AcknowledgeForm(forms.Form):
    """The acknowledge POST: which alarm, in which state the person saw it, and a comment."""

    site = forms.CharField(max_length=SITE_MAX)
    name = forms.CharField(max_length=NAME_MAX)
    # A WinCC alarm instance id: 0 or more, at most 18 ASCII digits (the column's range).
    instance = forms.RegexField(regex=r"\A[0-9]{1,18}\Z")
    state = forms.ChoiceField(choices=[(state.value, state.label) for state in AlarmState])
    comment = forms.CharField(required=False, max_length=COMMENT_MAX)

    def problem(self) -> str:
        """The first problem in plain words, naming the field."""
        field, errors = next(iter(self.errors.items()))
        return f"the field {field!r}: {errors[0]}"

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


def _forbidden() -> HttpResponse:
    return HttpResponse(
        "You may not acknowledge alarms on this site.", status=403, content_type="text/plain"
    )


def limit_refusals(request: HttpRequest, response: HttpResponse) -> HttpResponse:
    """The refusal's answer, or 429 once this address was refused too often this minute."""
    wait = ack.refusal_limit(client_address(request))
    if wait is None:
        return response
    limited = HttpResponse(
        f"Too many refused requests from this address; try again in {wait} seconds.",
        status=429, content_type="text/plain",
    )
    limited["Retry-After"] = str(wait)
    return limited


@require_POST
def acknowledge_alarm(request: HttpRequest) -> HttpResponse:
    user = request.user
    if not permissions.can_acknowledge_any(user):
        ack.record_refusal(user, _partial_request(request), ack.Result.DENIED,
                           "No permission to acknowledge alarms.")
        return limit_refusals(request, _forbidden())
    form = AcknowledgeForm(request.POST)
    if not form.is_valid():
        message = f"Malformed request: {form.problem()}"
        ack.record_refusal(user, _partial_request(request), ack.Result.ERROR, message)
        return limit_refusals(request, HttpResponseBadRequest(message, content_type="text/plain"))
    req = form.ack_request(request)
    try:
        outcome = ack.acknowledge(user, req)
    except ack.NotPermitted:
        return limit_refusals(request, _forbidden())
    except ack.UnknownSite:
        return limit_refusals(request, HttpResponse(f"Unknown site {req.site_id!r}.", status=404,
                                              content_type="text/plain"))
    if outcome.alarm is None and outcome.entry.result == ack.Result.ERROR:
        return HttpResponse(outcome.message, status=503, content_type="text/plain")
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
    }
    return render(request, "partials/alarm_row.html", context)
