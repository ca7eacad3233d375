"""Small HTTP helpers shared by the faces."""

from __future__ import annotations

import json
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response


class HttpError(Exception):
    """Answered as `{"error": message}` with the given status."""

    def __init__(self, status: int, message: str, headers: dict[str, str] | None = None) -> None:
        super().__init__(message)
        self.status = status
        self.message = message
        self.headers = headers or {}

    def response(self) -> Response:
        return JSONResponse({"error": self.message}, self.status, headers=self.headers)


async def json_body(request: Request) -> Any:
    raw = await request.body()
    if not raw.strip():
        raise HttpError(400, "the request body is empty; send JSON")
    try:
        return json.loads(raw)
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise HttpError(400, f"the request body is not valid JSON: {exc}") from None


def int_param(request: Request, name: str, default: int | None, *, minimum: int = 0) -> int | None:
    text = request.query_params.get(name)
    if text is None or text == "":
        return default
    try:
        value = int(text)
    except ValueError:
        raise HttpError(400, f"query parameter {name} must be a whole number, got {text!r}") \
            from None
    if value < minimum:
        raise HttpError(400, f"query parameter {name} must be at least {minimum}")
    return value
