"""POST /ingest/rest-connector/<site>/: what a Classic site's REST Connector pushes.

WinCC's REST Connector posts a site's tag changes and alarm transitions here
(docs/protocols.md#rest-connector-pushes); they go through the same diff, Redis write,
journal, triggers and PUBLISH as a poll (SitePoller.record_push), so a page shows them at
once. Polling goes on beside it (docs/configuration.md).

No session, no CSRF token: the REST Connector proves itself with the site's secret, an
HMAC of the body or a Bearer token, compared in constant time. Every answer is JSON, every
refusal a 4xx with a sentence, and nothing is stored unless the whole body is good. The body
is bounded (INGEST_MAX_BODY_BYTES): under ASGI the handler refuses a longer one before
reading it (dashboard/live/asgi.py), here the same bound holds for any other server. A site
takes a bounded number of pushes per window, and a flood of refused ones from one address is
answered 429 and logged once per window (dashboard.push_limits).

The parsing and the Redis write run on a worker thread, off the event loop the live streams
share: a push waits for the site's lock while a poll holds it.
"""

from __future__ import annotations

import logging
import os
from typing import Any

from asgiref.sync import sync_to_async
from django.conf import settings
from django.http import HttpRequest, JsonResponse
from django.views.decorators.csrf import csrf_exempt

from dashboard import push_limits
from dashboard.siteconfig import get_config
from dashboard.views.auth import client_address
from wincc_ingest.config import ConfigError, SiteConfig
from wincc_ingest.poller import PollOutcome
from wincc_ingest.push import Push, PushRefused, credentials_problem, read_push

log = logging.getLogger("dashboard.ingest")

SOURCE = "rest-connector"
# Seconds the REST Connector is asked to wait before posting again after a 503.
RETRY_AFTER = 1
# Unknown tags named in an answer; the count says how many there were.
MAX_NAMED = 100


def refusal(status: int, error: str, **extra: Any) -> JsonResponse:
    response = JsonResponse({"error": error, **extra}, status=status)
    if status == 401:
        response["WWW-Authenticate"] = 'Bearer realm="rest-connector"'
    if status == 503:
        response["Retry-After"] = str(RETRY_AFTER)
    return response


def too_many(wait: int, error: str) -> JsonResponse:
    response = refusal(429, f"{error}; post again in {wait} s", retry_after=wait)
    response["Retry-After"] = str(wait)
    return response


def too_large(limit: int) -> JsonResponse:
    return refusal(413, f"the body is larger than {limit} bytes; post fewer items at once")


def _site(site_id: str) -> SiteConfig | None:
    site = get_config().site(site_id)
    if site is None or site.ingest != "rest-connector" or site.rest_connector is None:
        return None
    return site


def _body(request: HttpRequest, limit: int) -> bytes | None:
    """The body, or None when it is longer than `limit` (read no further than that)."""
    try:
        declared = int(request.META.get("CONTENT_LENGTH") or 0)
    except ValueError:
        declared = 0
    if declared > limit:
        return None
    body = request.read(limit + 1)
    return None if len(body) > limit else body


def _record(site: SiteConfig, push: Push) -> PollOutcome:
    from dashboard.tasks import pollers  # the web's own, built as the worker's are

    return pollers().record_push(site.id, push.tags, push.alarms, push.gone, source=SOURCE)


def _take(site: SiteConfig, body: bytes) -> JsonResponse:
    wait = push_limits.site_over(site.id)
    if wait is not None:
        return too_many(wait, f"more than {settings.INGEST_SITE_PUSH_LIMIT} pushes for this "
                              f"site in {settings.INGEST_LIMIT_WINDOW_SECONDS} s")
    try:
        push = read_push(body, site)
    except PushRefused as exc:
        return refusal(400, "the push was not taken: " + exc.problems[0],
                       problems=exc.problems, more_problems=exc.more)
    try:
        outcome = _record(site, push)
    except Exception:  # Redis or the broker away: nothing was recorded, the sender retries
        log.exception("site %s: a REST Connector push could not be recorded", site.id)
        return refusal(503, "the push could not be recorded now; post it again")
    if outcome.status == "busy":
        return refusal(503, outcome.error or "the site is busy; post it again")
    return JsonResponse({
        "site": site.id,
        "taken": {"tags": len(push.tags) - len(outcome.unknown_tags) - len(outcome.outdated_tags),
                  "alarms": len(push.alarms), "gone": len(push.gone)},
        "changed_tags": len(outcome.changed_tags),
        # Named up to a bound, so a connector posting a whole project gets a short answer.
        "unknown_tags": list(outcome.unknown_tags[:MAX_NAMED]),
        "unknown_tag_count": len(outcome.unknown_tags),
        # Older (by their source time) than what a poll or an earlier push stored.
        "outdated_tags": list(outcome.outdated_tags[:MAX_NAMED]),
    })


@csrf_exempt
async def rest_connector(request: HttpRequest, site_id: str) -> JsonResponse:
    if request.method != "POST":
        response = refusal(405, "only POST is taken here")
        response["Allow"] = "POST"
        return response
    try:
        site = await sync_to_async(_site, thread_sensitive=False)(site_id)
    except ConfigError:
        return refusal(503, "the dashboard's configuration cannot be read")
    if site is None:
        return refusal(404, "no site here takes REST Connector pushes (ingest: rest-connector)")
    connector = site.rest_connector
    assert connector is not None  # _site checked it
    limit = settings.INGEST_MAX_BODY_BYTES
    body = _body(request, limit)
    if body is None:
        return too_large(limit)
    headers = {name.lower(): value for name, value in request.headers.items()}
    problem = credentials_problem(connector, os.environ, headers, body)
    if problem is not None:
        # Who and why, never what was offered; once per window (dashboard.push_limits).
        wait = await sync_to_async(push_limits.refusal_over, thread_sensitive=False)(
            site.id, client_address(request), problem)
        if wait is not None:
            return too_many(wait, "too many pushes with wrong or missing credentials from "
                                  "this address")
        if problem == "missing":
            what = (f"a {connector.signature_header} signature" if connector.signature_env
                    else "an Authorization: Bearer token")
            return refusal(401, f"the push carries no credentials; send {what}")
        return refusal(403, "the push's credentials are wrong")
    if request.content_type != "application/json":
        return refusal(415, "the body must be JSON (Content-Type: application/json)")
    response = await sync_to_async(_take, thread_sensitive=False)(site, body)
    if response.status_code not in (200, 429):  # 429s are logged once per window
        log.info("site %s: a push from %s answered %d", site.id, client_address(request),
                 response.status_code)
    return response
