"""API tokens never act: a request carrying one (an Authorization header) to any of the
dashboard's actions is refused with 403 and an audit row, before CSRF, before the view,
and so before anything could reach WinCC.

A middleware rather than a check in each view: a script's POST carries no CSRF token, and
Django's CSRF refusal would otherwise answer first, without an audit row.
"""

from __future__ import annotations

from django.contrib.auth.models import AnonymousUser
from django.http import HttpRequest, HttpResponse
from django.urls import Resolver404, resolve

from dashboard import acknowledge as ack
from dashboard import params
from dashboard.models import ApiToken, AuditEntry
from dashboard.views.actions import refused
from dashboard.views.auth import client_address, client_device

# URL name -> the audit row's action.
ACTIONS = {
    "alarm-ack": "acknowledge",
    "alarm-ack-all": "acknowledge",
    "alarm-shelve": "shelve",
    "alarm-unshelve": "unshelve",
    "alarm-comment": "comment",
    "tag-write": "write",
}
REFUSAL = "API tokens only read: they may not acknowledge, shelve, comment or write."


def token_action(request: HttpRequest) -> str | None:
    """The action a request carrying an Authorization header asks for; None otherwise."""
    if "HTTP_AUTHORIZATION" not in request.META:
        return None
    try:
        name = resolve(request.path_info).url_name
    except Resolver404:
        return None
    return ACTIONS.get(name or "")


def refuse(request: HttpRequest, action: str) -> HttpResponse:
    """Record the refused attempt and answer 403 (429 once the address was refused too
    often this minute, as the actions do)."""
    header = request.META.get("HTTP_AUTHORIZATION", "")
    scheme, _, text = header.partition(" ")
    token = ApiToken.for_text(text.strip()) if scheme.lower() == "bearer" else None
    post = request.POST
    every = resolve(request.path_info).url_name == "alarm-ack-all"
    named = ack.ALL_SHOWN if every else ""

    def create() -> AuditEntry:
        return AuditEntry.objects.create(
            user=token.owner if token else None,
            username=f"API token {token.name}"[:150] if token else ack.ANONYMOUS,
            action=action, remote_addr=client_address(request), device=client_device(request),
            site_id=params.clipped(post, "site", 64),
            alarm_name=named or params.clipped(post, "name", 256),
            tag_name=params.clipped(post, "tag", 256),
            value_requested=params.clipped(post, "value", 64),
            result=AuditEntry.Result.DENIED, message=REFUSAL,
        )

    if token is None:  # an unknown token: counted like any anonymous refusal
        ack.summarised_refusal(AnonymousUser(), client_address(request),
                               AuditEntry.Result.DENIED, REFUSAL, create)
    else:
        create()
    return refused(request, HttpResponse(REFUSAL, status=403, content_type="text/plain"))
