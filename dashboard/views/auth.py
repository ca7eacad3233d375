"""Sign-in and sign-out (Django's auth views), lock-out after repeated failures (django-axes),
and where a request comes from (address and device) for axes and the audit log."""

from __future__ import annotations

from django.conf import settings
from django.contrib.auth import views as auth_views
from django.contrib.auth.forms import AuthenticationForm
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

DEVICE_MAX = 256


def client_address(request: HttpRequest) -> str:
    """The client's address for the audit and django-axes: REMOTE_ADDR, or what
    X-Forwarded-For says when REMOTE_ADDR is one of settings.TRUSTED_PROXIES."""
    return settings.TRUSTED_PROXIES.client(
        request.META.get("REMOTE_ADDR", ""), request.META.get("HTTP_X_FORWARDED_FOR", "")
    )


def client_device(request: HttpRequest) -> str:
    return request.META.get("HTTP_USER_AGENT", "")[:DEVICE_MAX]


class LoginView(auth_views.LoginView):
    template_name = "registration/login.html"
    redirect_authenticated_user = True


def locked_out(request: HttpRequest, original_response=None, credentials=None) -> HttpResponse:
    """django-axes' answer once a user name and address have failed too often."""
    minutes = round(settings.AXES_COOLOFF_TIME * 60)
    context = {
        "form": AuthenticationForm(request),
        "locked_out": (
            f"Too many failed sign-ins for this user from this address. "
            f"Wait {minutes} minutes, or ask an administrator to unlock the account."
        ),
    }
    return render(request, "registration/login.html", context, status=429)
