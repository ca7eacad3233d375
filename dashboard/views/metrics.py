"""/metrics: Prometheus' text format for a Prometheus server, never for a person's browser.
Who may read it: dashboard.metrics.access (settings METRICS_TOKEN, METRICS_ALLOW_FROM)."""

from __future__ import annotations

from django.conf import settings
from django.http import HttpResponse
from django.views.decorators.http import require_safe
from prometheus_client import CONTENT_TYPE_LATEST

from dashboard.metrics.scrape import scrape


def _no_store(response: HttpResponse) -> HttpResponse:
    response["Cache-Control"] = "no-store"
    return response


@require_safe
async def metrics(request) -> HttpResponse:
    refusal = settings.METRICS_ACCESS.refusal(
        request.META.get("REMOTE_ADDR", ""), request.META.get("HTTP_X_FORWARDED_FOR", ""),
        request.headers.get("Authorization", ""), settings.TRUSTED_PROXIES)
    if refusal is not None:
        status, sentence = refusal
        response = HttpResponse(sentence + "\n", status=status, content_type="text/plain")
        if status == 401:
            response["WWW-Authenticate"] = 'Bearer realm="metrics"'
        return _no_store(response)
    return _no_store(HttpResponse(await scrape(), content_type=CONTENT_TYPE_LATEST))
