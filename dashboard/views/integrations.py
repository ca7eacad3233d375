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
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST

from dashboard import deliveries, numbers, permissions, siteconfig
from dashboard.models import Delivery
from dashboard.views import pages
from wincc_ingest import delivery
from wincc_ingest.triggers import AlarmCondition, MqttAction, TagCondition, Trigger

RECENT = 20


class IntegrationsFilter(forms.Form):
    trigger = forms.CharField(label=gettext_lazy("Trigger"), required=False, max_length=64)
    status = forms.ChoiceField(label=gettext_lazy("Status"), required=False,
                               choices=[("", gettext_lazy("any status")), *Delivery.Status.choices])


class RetryForm(forms.Form):
    delivery = forms.IntegerField(min_value=1, max_value=2**62)


def _number(value: float | None) -> str:
    """Shortest form, with the language's decimal mark (200, 2.5 or 2,5)."""
    return "" if value is None else numbers.shortest(value)


def describe_condition(trigger: Trigger) -> str:
    when = trigger.when
    if isinstance(when, AlarmCondition):
        # The event, site, class and alarm names are the configuration's words, as written.
        parts = [_("alarm %(events)s") % {"events": ", ".join(when.events)},
                 _("on %(sites)s") % {"sites": ", ".join(when.sites)} if when.sites
                 else _("on every site")]
        if when.priority_min is not None:
            parts.append(_("priority ≥ %(priority)s") % {"priority": when.priority_min})
        if when.priority_max is not None:
            parts.append(_("priority ≤ %(priority)s") % {"priority": when.priority_max})
        if when.classes:
            parts.append(_("class %(classes)s") % {"classes": ", ".join(when.classes)})
        if when.name != "*":
            parts.append(_("name %(name)s") % {"name": when.name})
        return "; ".join(parts)
    assert isinstance(when, TagCondition)
    named = {"tag": when.tag, "site": when.site, "low": _number(when.low),
             "high": _number(when.high), "deadband": _number(when.deadband),
             "equals": when.equals, "seconds": _number(when.seconds)}
    words = {
        "above": _("%(tag)s on %(site)s above %(high)s"),
        "below": _("%(tag)s on %(site)s below %(low)s"),
        "outside_limits": _("%(tag)s on %(site)s outside %(low)s … %(high)s"),
        "change": _("%(tag)s on %(site)s changes by more than %(deadband)s"),
        "equals": _("%(tag)s on %(site)s equals %(equals)s"),
        "quality_not_good": _("%(tag)s on %(site)s: quality not good"),
        "stale": _("%(tag)s on %(site)s: no new value for %(seconds)s s"),
    }
    text = words[when.condition] % named
    if when.hysteresis:
        text += " " + _("(hysteresis %(hysteresis)s)") % {"hysteresis": _number(when.hysteresis)}
    if when.on_return:
        text += _(", and when it returns")
    return text


def describe_action(action: Any) -> dict[str, str]:
    if isinstance(action, MqttAction):
        flags = f"QoS {action.qos}" + (_(", retained") if action.retain else "")
        return {"kind": "MQTT", "target": delivery.target(action), "details": flags}
    headers = [name for name, _ in action.headers]
    headers += [_("%(header)s (from $%(variable)s)")
                % {"header": secret.name, "variable": secret.env}
                for secret in action.secret_headers]
    details = []
    if headers:
        details.append(_("headers %(names)s") % {"names": ", ".join(headers)})
    if action.signature_env:
        details.append(_("signed in %(header)s") % {"header": action.signature_header})
    return {"kind": f"webhook {action.method}", "target": delivery.target(action),
            "details": "; ".join(details)}


@login_required
def integrations(request: HttpRequest) -> HttpResponse:
    if not permissions.can_view_integrations(request.user):
        raise PermissionDenied(_("You may not view the integrations."))
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
        raise PermissionDenied(_("Only administrators may send a delivery again."))
    form = RetryForm(request.POST)
    if not form.is_valid():
        return render(request, "pages/bad_request.html",
                      {"message": _("Name the delivery to send again.")}, status=400)
    record = Delivery.objects.filter(pk=form.cleaned_data["delivery"]).first()
    if record is None:
        return render(request, "pages/bad_request.html",
                      {"message": _("There is no such delivery.")}, status=404)
    try:
        deliveries.retry(record)
    except deliveries.NotQueued as exc:
        message = str(exc)
        return render(request, "pages/bad_request.html",
                      {"message": message[0].upper() + message[1:] + "."}, status=exc.status)
    return redirect(f"{request.path.rsplit('retry/', 1)[0]}?trigger={record.trigger_id}")
