"""Three answers every view shares, each in one place:

- BadParameter (dashboard.params) raised by a view is HTTP 400 with its sentence, never 500:
  the page with the sentence, or the sentence alone for the live transports. A NUL
  character anywhere in the address, query or form is answered so before any view runs.
- What a signed-in person (or a wall screen) is shown is theirs: `Cache-Control: private,
  no-store`, so no shared cache keeps it and the browser's back button does not show it
  after sign-out. Static files never get here (WhiteNoise answers them first), so they stay
  cacheable.
- A request carrying an API token (an Authorization header) to an action (acknowledge,
  shelve, comment, write) is refused with 403 and an audit row (dashboard.api.guard), before
  Django's CSRF check could refuse it without one.

Both work under ASGI without a thread per request (Django's async-capable middleware).
"""

from __future__ import annotations

from asgiref.sync import iscoroutinefunction, markcoroutinefunction, sync_to_async
from django.http import HttpResponse, JsonResponse
from django.shortcuts import render
from django.utils import translation
from django.utils.cache import patch_cache_control

from dashboard.api import guard
from dashboard.params import BadParameter, nul_problem
from dashboard.sessions import LIVE_PREFIX
from dashboard.views.wall import SESSION_KEY as WALL_SESSION_KEY

# The read-only API answers every error as JSON.
API_PREFIX = "/api/"


def _signed_in(user, session) -> bool:
    return bool(user is not None and user.is_authenticated) or (
        session is not None and WALL_SESSION_KEY in session
    )


def _private(response: HttpResponse) -> HttpResponse:
    # An answer its view marked public is the same for everyone and holds nothing of the
    # person (the service worker, the app manifest): it keeps its caching, or a tablet would
    # fetch the worker again on every page.
    if "public" in response.get("Cache-Control", ""):
        return response
    patch_cache_control(response, private=True, no_store=True)
    return response


class _EitherWay:
    """Async-capable middleware: Django calls it without a thread hop under ASGI."""

    sync_capable = True
    async_capable = True

    def __init__(self, get_response):
        self.get_response = get_response
        if iscoroutinefunction(get_response):
            markcoroutinefunction(self)  # type: ignore[type-var]  # Django's documented pattern


class PrivatePagesMiddleware(_EitherWay):
    def __call__(self, request):
        if iscoroutinefunction(self):
            return self.__acall__(request)
        response = self.get_response(request)
        if _signed_in(getattr(request, "user", None), getattr(request, "session", None)):
            _private(response)
        return response

    async def __acall__(self, request):
        response = await self.get_response(request)
        user = await request.auser() if hasattr(request, "auser") else None
        session = getattr(request, "session", None)
        if user is not None and user.is_authenticated:
            return _private(response)
        # The session was read already when the view looked for a wall screen (or not).
        if session is not None and await session.ahas_key(WALL_SESSION_KEY):
            return _private(response)
        return response


class BadParameterMiddleware(_EitherWay):
    def __call__(self, request):
        return self.get_response(request)

    def process_view(self, request, view_func, view_args, view_kwargs):
        if request.path.startswith(API_PREFIX):
            with translation.override("en"):  # the API speaks English (docs/languages.md)
                problem = nul_problem(request)
        else:
            problem = nul_problem(request)
        return None if problem is None else self.process_exception(request, BadParameter(problem))

    def process_exception(self, request, exception):
        if not isinstance(exception, BadParameter):
            return None
        if request.path.startswith(LIVE_PREFIX):
            return HttpResponse(str(exception), status=400, content_type="text/plain")
        if request.path.startswith(API_PREFIX):
            # 422, as the API answers any other parameter it cannot take (docs/api.md).
            return JsonResponse({"detail": str(exception)}, status=422)
        return render(request, "pages/bad_request.html", {"message": str(exception)}, status=400)


class TokenActionGuardMiddleware(_EitherWay):
    def __call__(self, request):
        if iscoroutinefunction(self):
            return self.__acall__(request)
        action = guard.token_action(request)
        if action is not None:
            return guard.refuse(request, action)
        return self.get_response(request)

    async def __acall__(self, request):
        action = guard.token_action(request)
        if action is not None:
            return await sync_to_async(guard.refuse)(request, action)
        return await self.get_response(request)
