"""The NinjaAPI of /api/v1/: GET only, every error a JSON sentence, unknown query
parameters refused by name."""

from __future__ import annotations

import functools
import inspect
import logging
from collections.abc import Callable
from typing import Any

from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.utils.cache import patch_cache_control
from ninja import NinjaAPI, Router
from ninja.errors import AuthenticationError, HttpError, ValidationError

from dashboard.api import alarms, journal, sites, tags, trends
from dashboard.api.auth import TokenAuth
from dashboard.api.errors import ApiError
from dashboard.api.schemas import ErrorOut

log = logging.getLogger(__name__)

# Every answer an operation may give besides its own, for the OpenAPI document.
ERRORS: dict[int, Any] = {401: ErrorOut, 404: ErrorOut, 422: ErrorOut, 503: ErrorOut}
NOT_READ = ("POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS", "TRACE")


def only_known_parameters(view: Callable[..., Any], path: str) -> Callable[..., Any]:
    """Refuse (422) a query parameter the operation does not take, naming it: a misspelt
    filter must not quietly return everything."""
    known = set(inspect.signature(view).parameters) - {"request"}

    @functools.wraps(view)
    def checked(request: HttpRequest, *args: Any, **kwargs: Any) -> Any:
        unknown = sorted(set(request.GET) - known)
        if unknown:
            names = ", ".join(repr(name[:40]) for name in unknown[:5])
            takes = ", ".join(sorted(known - set(kwargs) - _path_names(path))) or "none"
            raise ApiError(422, f"Unknown query parameter {names}; this address takes: {takes}.")
        return view(request, *args, **kwargs)

    return checked


def _path_names(path: str) -> set[str]:
    return {part.strip("{}").rpartition(":")[2] for part in path.split("/") if part[:1] == "{"}


def not_read(path: str) -> Callable[..., HttpResponse]:
    """The 405 answer of one path, taking the path's own parameters."""

    def refuse(request: HttpRequest, **kwargs: Any) -> HttpResponse:
        raise ApiError(405, f"The API only reads: {request.method} is not allowed; use GET.")

    parameters = [inspect.Parameter("request", inspect.Parameter.POSITIONAL_OR_KEYWORD)] + [
        inspect.Parameter(name, inspect.Parameter.KEYWORD_ONLY, annotation=str)
        for name in sorted(_path_names(path))
    ]
    refuse.__signature__ = inspect.Signature(parameters)  # type: ignore[attr-defined]
    return refuse


class ReadApi(NinjaAPI):
    def create_response(self, request: HttpRequest, data: Any, *args: Any,
                        **kwargs: Any) -> HttpResponse:
        # What a token reads is its own: no shared cache keeps it.
        response = super().create_response(request, data, *args, **kwargs)
        patch_cache_control(response, private=True, no_store=True)
        return response


class ReadRouter(Router):
    """A router of GET operations only; every other method answers 405 with a sentence."""

    def read(self, path: str, *, response: Any, summary: str) -> Callable[..., Any]:
        def register(view: Callable[..., Any]) -> Callable[..., Any]:
            self.add_api_operation(path, ["GET"], only_known_parameters(view, path),
                                   response={200: response, **ERRORS}, summary=summary,
                                   description=inspect.getdoc(view) or "")
            self.add_api_operation(path, list(NOT_READ), not_read(path), include_in_schema=False,
                                   auth=None)
            return view

        return register


def build() -> NinjaAPI:
    api = ReadApi(
        title="WinCC dashboard API",
        version="1",
        description=(
            "Read-only: sites with their health, current tag values, active alarms, the "
            "recent trend window and the alarm journal. Every request carries an API token "
            "(Authorization: Bearer wdash_…); a token reads only the sites it is scoped to, "
            "and never more than its owner may view. Errors answer {\"detail\": sentence}."
        ),
        auth=TokenAuth(),
        urls_namespace="api",
        docs_url="/docs",
        openapi_url="/openapi.json",
    )
    for module in (sites, tags, alarms, trends, journal):
        router = ReadRouter(tags=[module.TAG])
        module.register(router)
        api.add_router("/", router)
    _errors(api)
    return api


def _errors(api: NinjaAPI) -> None:
    def answer(request: HttpRequest, status: int, detail: str) -> HttpResponse:
        response = api.create_response(request, {"detail": detail}, status=status)
        if status == 405:
            response["Allow"] = "GET"
        elif status == 401:
            response["WWW-Authenticate"] = 'Bearer realm="api"'
        return response

    @api.exception_handler(ApiError)
    def api_error(request: HttpRequest, exc: ApiError) -> HttpResponse:
        return answer(request, exc.status, exc.detail)

    @api.exception_handler(AuthenticationError)
    def unauthenticated(request: HttpRequest, exc: Exception) -> HttpResponse:
        return answer(request, 401, (
            "A valid API token is needed: send it as 'Authorization: Bearer wdash_…'; "
            "an unknown or revoked token is refused."))

    @api.exception_handler(ValidationError)
    def invalid(request: HttpRequest, exc: ValidationError) -> HttpResponse:
        return answer(request, 422, validation_sentence(exc.errors))

    @api.exception_handler(Http404)
    def not_found(request: HttpRequest, exc: Exception) -> HttpResponse:
        return answer(request, 404, "There is no such address in the API.")

    @api.exception_handler(HttpError)
    def http_error(request: HttpRequest, exc: HttpError) -> HttpResponse:
        return answer(request, exc.status_code, str(exc))


def unknown_address(request: HttpRequest, rest: str = "") -> JsonResponse:
    """Any other address under /api/: a JSON 404 too, never an HTML page."""
    return JsonResponse({"detail": "There is no such address in the API; the addresses are "
                                   "listed at /api/v1/docs."}, status=404)


def validation_sentence(errors: list[dict[str, Any]]) -> str:
    """pydantic's first error as a sentence naming the parameter."""
    if not errors:
        return "The request does not fit this address."
    first = errors[0]
    where = [str(part) for part in first.get("loc", ())]
    kind = {"query": "query parameter", "path": "part of the address"}.get(
        where[0] if where else "", "parameter")
    name = where[-1] if len(where) > 1 else "?"
    message = str(first.get("msg", "is not valid")).rstrip(".")
    return f"The {kind} {name[:40]!r} does not fit: {message[:200]}."


api = build()
