"""/preferences/: how a person's pages look (the theme, the language), kept with their account."""

from __future__ import annotations

from typing import cast

from django import forms
from django.contrib.auth.decorators import login_required
from django.contrib.auth.models import User
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.urls import reverse
from django.utils.translation import gettext_lazy as _
from django.views.decorators.http import require_http_methods

from dashboard import themes
from dashboard.models import DisplayPreference
from dashboard.views import pages


class DisplayForm(forms.ModelForm):
    class Meta:
        model = DisplayPreference
        fields = ["theme", "language"]
        widgets = {"theme": forms.RadioSelect, "language": forms.RadioSelect}
        labels = {"theme": _("Theme"), "language": _("Language")}


@login_required
@require_http_methods(["GET", "POST"])
def preferences(request: HttpRequest) -> HttpResponse:
    user = cast(User, request.user)  # signed in: login_required
    current = DisplayPreference.objects.filter(user=user).first()
    instance = current or DisplayPreference(user=user)
    if request.method == "POST":
        form = DisplayForm(request.POST, instance=instance)
        if form.is_valid():
            form.save()
            return HttpResponseRedirect(reverse("preferences") + "?saved=1")
        status = 400
    else:
        form = DisplayForm(instance=instance)
        status = 200
    context = {"form": form, "saved": request.GET.get("saved") == "1",
               "ui_theme": current.theme if current else themes.AUTO}
    return render(request, "pages/preferences.html", pages.with_banner(request, context),
                  status=status)
