"""The integrations page: /integrations/ lists each trigger, what it sends where, and its
recent deliveries; administrators send dead letters again (POST /integrations/retry/).

Header values are never shown (only their names), nor an address taken from a variable.
"""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_POST

from dashboard import deliveries, permissions, siteconfig
from dashboard.models import Delivery
from dashboard.views import pages
from wincc_ingest import delivery
from wincc_ingest.triggers import AlarmCondition, MqttAction, TagCondition, Trigger

RECENT = 20


class IntegrationsFilter(forms.Form):
    trigger = forms.CharField(required=False, max_length=64)
    status = forms.ChoiceField(required=False,
                               choices=[("", "any status"), *Delivery.Status.choices])


class RetryForm(forms.Form):
    delivery = forms.IntegerField(min_value=1, max_value=2**62)


def _number(value: float | None) -> str:
    return "" if value is None else f"{value:g}"


def describe_condition(trigger: Trigger) -> str:
    when = trigger.when
    if isinstance(when, AlarmCondition):
        parts = ["alarm " + ", ".join(when.events)]
        parts.append("on " + (", ".join(when.sites) if when.sites else "every site"))
        if when.priority_min is not None:
            parts.append(f"priority ≥ {when.priority_min}")
        if when.priority_max is not None:
            parts.append(f"priority ≤ {when.priority_max}")
        if when.classes:
            parts.append("class " + ", ".join(when.classes))
        if when.name != "*":
            parts.append(f"name {when.name}")
        return "; ".join(parts)
    assert isinstance(when, TagCondition)
    words = {
        "above": f"above {_number(when.high)}",
        "below": f"below {_number(when.low)}",
        "outside_limits": f"outside {_number(when.low)} … {_number(when.high)}",
        "change": f"changes by more than {when.deadband:g}",
        "equals": f"equals {when.equals}",
        "quality_not_good": "quality not good",
        "stale": f"no new value for {when.seconds:g} s",
    }
    text = f"{when.tag} on {when.site} {words[when.condition]}"
    if when.hysteresis:
        text += f" (hysteresis {when.hysteresis:g})"
    if when.on_return:
        text += ", and when it returns"
    return text


def describe_action(action: Any) -> dict[str, str]:
    if isinstance(action, MqttAction):
        flags = f"QoS {action.qos}" + (", retained" if action.retain else "")
        return {"kind": "MQTT", "target": delivery.target(action), "details": flags}
    headers = [name for name, _ in action.headers]
    headers += [f"{secret.name} (from ${secret.env})" for secret in action.secret_headers]
    details = []
    if headers:
        details.append("headers " + ", ".join(headers))
    if action.signature_env:
        details.append(f"signed in {action.signature_header}")
    return {"kind": f"webhook {action.method}", "target": delivery.target(action),
            "details": "; ".join(details)}


@login_required
def integrations(request: HttpRequest) -> HttpResponse:
    if not permissions.can_view_integrations(request.user):
        raise PermissionDenied("You may not view the integrations.")
    form = IntegrationsFilter(request.GET)
    valid = form.is_valid()
    wanted = form.cleaned_data.get("trigger") if valid else ""
    status = form.cleaned_data.get("status") if valid else ""
    rows = []
    for trigger in siteconfig.get_config().triggers:
        if wanted and trigger.id != wanted:
            continue
        recent = Delivery.objects.filter(trigger_id=trigger.id)
        if status:
            recent = recent.filter(status=status)
        rows.append({
            "trigger": trigger,
            "condition": describe_condition(trigger),
            "actions": [describe_action(action) for action in trigger.then],
            "deliveries": list(recent[:RECENT]) if valid else [],
        })
    context = {
        "form": form,
        "rows": rows,
        "can_retry": permissions.can_retry_deliveries(request.user),
    }
    return render(request, "integrations/page.html", pages.with_banner(request, context),
                  status=200 if valid else 400)


@login_required
@require_POST
def retry_delivery(request: HttpRequest) -> HttpResponse:
    if not permissions.can_retry_deliveries(request.user):
        raise PermissionDenied("Only administrators may send a delivery again.")
    form = RetryForm(request.POST)
    if not form.is_valid():
        return render(request, "pages/bad_request.html",
                      {"message": "Name the delivery to send again."}, status=400)
    record = Delivery.objects.filter(pk=form.cleaned_data["delivery"]).first()
    if record is None:
        return render(request, "pages/bad_request.html",
                      {"message": "There is no such delivery."}, status=404)
    try:
        deliveries.retry(record)
    except deliveries.NotQueued as exc:
        message = str(exc)
        return render(request, "pages/bad_request.html",
                      {"message": message[0].upper() + message[1:] + "."}, status=exc.status)
    return redirect(f"{request.path.rsplit('retry/', 1)[0]}?trigger={record.trigger_id}")
