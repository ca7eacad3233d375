"""POST /alarms/ack/: the HTTP side of dashboard.acknowledge (parse, answer, render the row)."""

from __future__ import annotations

import re

from django.http import HttpRequest, HttpResponse, HttpResponseBadRequest
from django.shortcuts import render
from django.views.decorators.http import require_POST

from dashboard import acknowledge as ack
from dashboard import permissions
from dashboard.siteconfig import get_config
from dashboard.views.auth import client_address, client_device
from wincc_bridge.models import Alarm, AlarmState

COMMENT_MAX = 1000
NAME_MAX = 256
SITE_MAX = 64


class BadRequest(ValueError):
    """A field is missing or malformed; the message names it."""


def _text(request: HttpRequest, field: str, limit: int) -> str:
    value = request.POST.get(field, "").strip()
    if not value:
        raise BadRequest(f"the field {field!r} is missing")
    if len(value) > limit:
        raise BadRequest(f"the field {field!r} is longer than {limit} characters")
    return value


def _instance(text: str) -> int | None:
    """A WinCC alarm instance id: 0 or more, at most 18 ASCII digits (the column's range)."""
    return int(text) if re.fullmatch(r"[0-9]{1,18}", text) else None


def _request(request: HttpRequest) -> ack.AckRequest:
    instance = _instance(request.POST.get("instance", "").strip())
    if instance is None:
        raise BadRequest("the field 'instance' must be a whole number")
    seen = _text(request, "state", 32)
    try:
        seen_state = AlarmState(seen)
    except ValueError:
        raise BadRequest(f"the field 'state' has an unknown alarm state {seen!r}") from None
    comment = request.POST.get("comment", "").strip()
    if len(comment) > COMMENT_MAX:
        raise BadRequest(f"the comment is longer than {COMMENT_MAX} characters")
    return ack.AckRequest(
        site_id=_text(request, "site", SITE_MAX),
        name=_text(request, "name", NAME_MAX),
        instance_id=instance,
        seen_state=seen_state,
        comment=comment,
        remote_addr=client_address(request),
        device=client_device(request),
    )


def _partial_request(request: HttpRequest) -> ack.AckRequest:
    """What a refused request named, cut to the columns' sizes, for its audit row."""
    return ack.AckRequest(
        site_id=request.POST.get("site", "")[:SITE_MAX],
        name=request.POST.get("name", "")[:NAME_MAX],
        instance_id=_instance(request.POST.get("instance", "").strip()) or 0,
        seen_state=AlarmState.NORMAL,
        comment=request.POST.get("comment", "")[:COMMENT_MAX],
        remote_addr=client_address(request),
        device=client_device(request),
    )


def _forbidden() -> HttpResponse:
    return HttpResponse(
        "You may not acknowledge alarms on this site.", status=403, content_type="text/plain"
    )


@require_POST
def acknowledge_alarm(request: HttpRequest) -> HttpResponse:
    user = request.user
    if not permissions.can_acknowledge_any(user):
        ack.record_refusal(user, _partial_request(request), ack.Result.DENIED,
                           "No permission to acknowledge alarms.")
        return _forbidden()
    try:
        req = _request(request)
    except BadRequest as exc:
        ack.record_refusal(user, _partial_request(request), ack.Result.ERROR,
                           f"Malformed request: {exc}.")
        return HttpResponseBadRequest(f"Malformed request: {exc}.", content_type="text/plain")
    try:
        outcome = ack.acknowledge(user, req)
    except ack.NotPermitted:
        return _forbidden()
    except ack.UnknownSite:
        return HttpResponse(f"Unknown site {req.site_id!r}.", status=404,
                            content_type="text/plain")
    if outcome.alarm is None and outcome.entry.result == ack.Result.ERROR:
        return HttpResponse(outcome.message, status=503, content_type="text/plain")
    # An alarm that left the active list is shown as normal, with the reason.
    alarm = outcome.alarm or Alarm(req.site_id, req.name, req.instance_id, AlarmState.NORMAL)
    site = get_config().site(req.site_id)
    context = {
        "alarm": alarm,
        "site_name": site.name,
        "can_ack": alarm.can_acknowledge and permissions.can_acknowledge(user, req.site_id),
        "ack_message": outcome.message,
        "ack_ok": outcome.ok,
    }
    return render(request, "partials/alarm_row.html", context)
