"""POST /alarms/silence/: a screen silenced its alarm sound for a few minutes. Nothing is
sent to WinCC and no alarm changes; the silence is recorded (an audit row, action `silence`),
since a silenced control room is a decision someone answers for."""

from __future__ import annotations

from django import forms
from django.http import HttpRequest, HttpResponse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from dashboard import permissions
from dashboard.alarm_notes import Occurrence, Result, audit, refusal
from dashboard.step_messages import malformed
from dashboard.views.actions import PlainProblem, plain, refused
from dashboard.views.auth import client_address, client_device
from dashboard.views.wall import current_screen

SILENCE_MINUTES = (1, 2, 5, 10, 15)
SILENCED = "(alarm sound)"


class SilenceForm(PlainProblem, forms.Form):
    minutes = forms.TypedChoiceField(choices=[(m, m) for m in SILENCE_MINUTES], coerce=int)


@require_POST
def silence(request: HttpRequest) -> HttpResponse:
    user = request.user
    screen = current_screen(request)
    where = Occurrence("", SILENCED, 0, client_address(request), client_device(request))
    if screen is None and not permissions.can_view_any(user):
        refusal(user, where, "silence", Result.DENIED, "No permission to silence this screen.")
        return refused(request, HttpResponse(_("Sign in first."), status=403,
                                             content_type="text/plain"))
    form = SilenceForm(request.POST)
    if not form.is_valid():
        # The audit log keeps its record in English; the screen is answered in its language.
        said = malformed(form.problem())
        refusal(user, where, "silence", Result.ERROR, said)
        return refused(request, plain(said, 400))
    minutes = form.cleaned_data["minutes"]
    who = "" if user.is_authenticated else f" (wall screen {screen.name})" if screen else ""
    audit(user, where, "silence", Result.OK,
          f"Alarm sound silenced on this screen{who} for {minutes} min; nothing was sent "
          "to WinCC.")
    return HttpResponse(status=204)
