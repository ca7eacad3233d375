"""Sign-in and sign-out (Django's auth views), sign-in through an OpenID Connect provider
(mozilla-django-oidc's views, when it is on), lock-out after repeated failures (django-axes),
and where a request comes from (address and device) for axes and the audit log."""

from __future__ import annotations

from django.conf import settings
from django.contrib.auth import views as auth_views
from django.contrib.auth.forms import AuthenticationForm
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils.translation import gettext, ngettext
from mozilla_django_oidc import views as oidc_views

DEVICE_MAX = 256


def client_address(request: HttpRequest) -> str:
    """The client's address for the audit and django-axes: REMOTE_ADDR, or what
    X-Forwarded-For says when REMOTE_ADDR is one of settings.TRUSTED_PROXIES."""
    return settings.TRUSTED_PROXIES.client(
        request.META.get("REMOTE_ADDR", ""), request.META.get("HTTP_X_FORWARDED_FOR", "")
    )


def client_device(request: HttpRequest) -> str:
    return request.META.get("HTTP_USER_AGENT", "")[:DEVICE_MAX]


def _sign_in_context(request: HttpRequest) -> dict[str, object]:
    """The provider's button, and why the last provider sign-in came back refused."""
    if not settings.OIDC_ENABLED:
        return {}
    return {"oidc_provider": settings.OIDC_PROVIDER_NAME,
            "oidc_refused": request.GET.get("signin") == "refused"}


class LoginView(auth_views.LoginView):
    template_name = "registration/login.html"
    redirect_authenticated_user = True

    def get_context_data(self, **kwargs):
        return {**super().get_context_data(**kwargs), **_sign_in_context(self.request)}


def _when_oidc_is_on(view):
    """Without OpenID Connect its addresses do not exist (404), as before it was added."""
    def answer(request: HttpRequest, *args, **kwargs) -> HttpResponse:
        if not settings.OIDC_ENABLED:
            raise Http404(gettext("OpenID Connect sign-in is off."))
        return view(request, *args, **kwargs)
    return answer


oidc_authenticate = _when_oidc_is_on(oidc_views.OIDCAuthenticationRequestView.as_view())
oidc_callback = _when_oidc_is_on(oidc_views.OIDCAuthenticationCallbackView.as_view())


def locked_out(request: HttpRequest, original_response=None, credentials=None) -> HttpResponse:
    """django-axes' answer once a user name and address have failed too often."""
    minutes = round(settings.AXES_COOLOFF_TIME * 60)
    context = {
        **_sign_in_context(request),
        "form": AuthenticationForm(request),
        "locked_out": ngettext(
            "Too many failed sign-ins for this user from this address. "
            "Wait %(minutes)d minute, or ask an administrator to unlock the account.",
            "Too many failed sign-ins for this user from this address. "
            "Wait %(minutes)d minutes, or ask an administrator to unlock the account.",
            minutes,
        ) % {"minutes": minutes},
    }
    return render(request, "registration/login.html", context, status=429)
