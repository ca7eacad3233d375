"""The API's one error: a status and a plain sentence, answered as {"detail": sentence}."""

from __future__ import annotations


class ApiError(Exception):
    def __init__(self, status: int, detail: str) -> None:
        super().__init__(detail)
        self.status = status
        self.detail = detail


def no_such_site(site_id: str) -> ApiError:
    # The same answer whether the site does not exist or the token may not read it: a
    # token learns nothing about sites outside its scope.
    return ApiError(404, f"There is no site {site_id[:64]!r} that this token may read.")


STORE_DOWN = ApiError(
    503, "The dashboard cannot read its data store (Redis) just now; try again shortly."
)
