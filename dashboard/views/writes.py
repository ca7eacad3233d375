"""/tags/write/: a tag's write dialog (GET) and one write (POST), the HTTP side of
dashboard.writes.

Only a person signed in with their password in this browser writes
(`permissions.signed_in_person`): not a wall screen, not an API token, not an anonymous
request. Everyone else gets 403, an audit row, and WinCC hears nothing.
"""

from __future__ import annotations

from typing import Any

import redis
from django import forms
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils import timezone
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _
from django.views.decorators.http import require_http_methods

from dashboard import params, permissions
from dashboard import writes as w
from dashboard.panels.renderers import format_value
from dashboard.panels.state import read_states
from dashboard.redis_client import sync_redis
from dashboard.siteconfig import get_config
from dashboard.step_messages import Number, StepMessage, malformed
from dashboard.views.actions import PlainProblem, plain, refused
from dashboard.views.auth import client_address, client_device
from wincc_ingest import codec
from wincc_ingest.config import SiteConfig, TagConfig

SITE_MAX = 64
TAG_MAX = 256
VALUE_MAX = 64
PASSWORD_MAX = 4096


class TagForm(PlainProblem, forms.Form):
    """Which tag: the dialog's query and the write's first two fields."""

    site = forms.CharField(max_length=SITE_MAX)
    tag = forms.CharField(max_length=TAG_MAX)


class WriteForm(TagForm):
    """The write POST. The value stays text here: dashboard.writes.parse_value checks it
    against the tag's configuration and answers in plain words."""

    value = forms.CharField(required=False, max_length=VALUE_MAX)
    password = forms.CharField(required=False, max_length=PASSWORD_MAX, strip=False)

    def write_request(self, request: HttpRequest) -> w.WriteRequest:
        data = self.cleaned_data
        return w.WriteRequest(
            site_id=data["site"], tag_name=data["tag"], value=data["value"],
            password=data["password"], remote_addr=client_address(request),
            device=client_device(request),
        )


def _forbidden() -> HttpResponse:
    return plain(_("You may not write tags on this site."), 403)


def _writable(site_id: str, tag_name: str) -> tuple[SiteConfig, TagConfig] | None:
    site = get_config().site(site_id)
    tag = site.tag(tag_name) if site else None
    if site is None or tag is None or not tag.writable:
        return None
    return site, tag


def _partial_request(request: HttpRequest) -> w.WriteRequest:
    """What a refused request named, cut to the columns' sizes, for its audit row."""
    return w.WriteRequest(
        site_id=params.clipped(request.POST, "site", SITE_MAX),
        tag_name=params.clipped(request.POST, "tag", TAG_MAX),
        value=params.clipped(request.POST, "value", VALUE_MAX),
        remote_addr=client_address(request),
        device=client_device(request),
    )


@require_http_methods(["GET", "POST"])
def tag_write(request: HttpRequest) -> HttpResponse:
    if request.method == "GET":
        return _dialog(request)
    user = request.user
    if not permissions.signed_in_person(request) or not permissions.can_write_any(user):
        w.record_refusal(user, _partial_request(request), w.Result.DENIED,
                         StepMessage(_("No permission to write tags.")))
        return refused(request, _forbidden())
    form = WriteForm(request.POST)
    if not form.is_valid():
        message = malformed(form.problem())
        w.record_refusal(user, _partial_request(request), w.Result.ERROR, message)
        return refused(request, plain(message, 400))
    req = form.write_request(request)
    try:
        outcome = w.write(user, req)
    except w.NotPermitted:
        return refused(request, _forbidden())
    except w.UnknownTag as exc:
        return refused(request, plain(exc.args[0], 404))
    found = _writable(req.site_id, req.tag_name)
    assert found is not None  # write() refused an unknown tag
    site, tag = found
    context = _context(site, tag, outcome.after if outcome.after is not None else outcome.before)
    context.update(
        entered="" if outcome.taken else req.value,
        message=outcome.message,
        outcome=_outcome_word(outcome),
    )
    response = render(request, "partials/write_form.html", context, status=_status(outcome))
    if outcome.entry.result == w.Result.DENIED:  # a wrong password: guessing is limited too
        return refused(request, response)
    return response


def _outcome_word(outcome: w.WriteOutcome) -> str:
    """The result line's class: taken, not-taken, checking, accepted (WinCC said yes, the
    read-back could not tell) or refused (nothing was sent)."""
    if outcome.checking:
        return "checking"
    if outcome.entry.completed_at is None:
        return "refused"
    if outcome.taken is None:
        return "accepted"
    return "taken" if outcome.taken else "not-taken"


_REFUSAL_STATUS: dict[str, int] = {
    w.Result.DENIED: 403, w.Result.STALE: 409, w.Result.DUPLICATE: 409,
}


def _status(outcome: w.WriteOutcome) -> int:
    """200 once WinCC was asked (the dialog shows its answer); otherwise why not."""
    entry = outcome.entry
    if entry.completed_at is not None:
        return 200
    if entry.result in _REFUSAL_STATUS:
        return _REFUSAL_STATUS[entry.result]
    return 400 if outcome.bad_value else 503


def _dialog(request: HttpRequest) -> HttpResponse:
    """The dialog for one tag: current value, limits, and the form."""
    form = TagForm(request.GET)
    if not form.is_valid():
        return plain(malformed(form.problem()), 400)
    site_id, tag_name = form.cleaned_data["site"], form.cleaned_data["tag"]
    if not (permissions.signed_in_person(request)
            and permissions.can_write_tag(request.user, site_id)):
        return _forbidden()
    found = _writable(site_id, tag_name)
    if found is None:
        return plain(StepMessage(_("%(tag)s is not a writable tag of site %(site)s."),
                                 tag=repr(tag_name), site=repr(site_id)), 404)
    site, tag = found
    now = timezone.now()
    try:
        state = read_states(sync_redis(), get_config(),
                            [codec.SiteRead(site.id, values=(tag.name,), alarms=False)],
                            now)[site.id]
        stored = state.values.get(tag.name)
        current, fresh = (stored.tag.value if stored else None), state.freshness(now)
        stale = fresh.reason if fresh.stale else ""
    except (redis.RedisError, codec.StoredDataError):
        current, stale = None, gettext("the dashboard cannot read its data store (Redis)")
    context = _context(site, tag, current)
    context.update(stale=stale, entered="", message="", outcome="")
    return render(request, "partials/write_dialog.html", context)


def _context(site: SiteConfig, tag: TagConfig, current: Any) -> dict[str, Any]:
    return {
        "site": site,
        "tag": tag,
        "current": format_value(current, tag),
        "unit": "" if tag.on_off else tag.unit,
        # The limits as the person's language writes numbers (a German 0,5).
        "low": Number(w.number_text(tag.write_min)),
        "high": Number(w.number_text(tag.write_max)),
        "step": Number(w.number_text(tag.write_step)),
    }
