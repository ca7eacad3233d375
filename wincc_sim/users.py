"""The API users of the simulated server, from the environment, with demo-only defaults."""

from __future__ import annotations

import base64
import binascii
import hmac
import logging
from collections.abc import Mapping
from dataclasses import dataclass

log = logging.getLogger("wincc_sim")

# Used only when the environment sets nothing; they say what they are.
DEMO_DEFAULTS = {
    "WINCC_SIM_RO_USER": "api_ro",
    "WINCC_SIM_RO_PASSWORD": "demo-ro-password-simulator-only",
    "WINCC_SIM_RW_USER": "api_rw",
    "WINCC_SIM_RW_PASSWORD": "demo-rw-password-simulator-only",
    "WINCC_SIM_RO_TOKEN": "demo-ro-token-simulator-only",
    "WINCC_SIM_RW_TOKEN": "demo-rw-token-simulator-only",
    "WINCC_SIM_ADMIN_TOKEN": "demo-admin-token-simulator-only",
}


@dataclass(frozen=True, slots=True)
class ApiUser:
    username: str
    password: str
    token: str  # static Bearer token (REST v1, Classic pass-through)
    can_write: bool  # writes and acknowledgements

    @property
    def full_name(self) -> str:
        return "API read-write user" if self.can_write else "API read-only user"


@dataclass(frozen=True, slots=True)
class Users:
    read_only: ApiUser
    read_write: ApiUser
    admin_token: str

    @classmethod
    def from_env(cls, environ: Mapping[str, str]) -> Users:
        values = {}
        defaulted = []
        for key, default in DEMO_DEFAULTS.items():
            values[key] = environ.get(key) or default
            if not environ.get(key):
                defaulted.append(key)
        if defaulted:
            log.warning("demo-only defaults in use for %s", ", ".join(defaulted))
        if values["WINCC_SIM_RO_USER"] == values["WINCC_SIM_RW_USER"]:
            raise ValueError("WINCC_SIM_RO_USER and WINCC_SIM_RW_USER must differ")
        return cls(
            read_only=ApiUser(values["WINCC_SIM_RO_USER"], values["WINCC_SIM_RO_PASSWORD"],
                              values["WINCC_SIM_RO_TOKEN"], can_write=False),
            read_write=ApiUser(values["WINCC_SIM_RW_USER"], values["WINCC_SIM_RW_PASSWORD"],
                               values["WINCC_SIM_RW_TOKEN"], can_write=True),
            admin_token=values["WINCC_SIM_ADMIN_TOKEN"],
        )

    @property
    def all(self) -> tuple[ApiUser, ApiUser]:
        return (self.read_only, self.read_write)

    def by_password(self, username: str, password: str) -> ApiUser | None:
        for user in self.all:
            if user.username == username and _same(user.password, password):
                return user
        return None

    def by_token(self, token: str) -> ApiUser | None:
        for user in self.all:
            if _same(user.token, token):
                return user
        return None


def _same(expected: str, given: str) -> bool:
    return hmac.compare_digest(expected.encode(), given.encode())


def bearer(header: str) -> str | None:
    """The token of an `Authorization: Bearer <token>` header, else None."""
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        return None
    return token.strip()


def basic(header: str) -> tuple[str, str] | None:
    """(user, password) of an `Authorization: Basic ...` header, else None."""
    scheme, _, encoded = header.partition(" ")
    if scheme.lower() != "basic":
        return None
    try:
        decoded = base64.b64decode(encoded.strip(), validate=True).decode("utf-8")
    except (binascii.Error, UnicodeDecodeError):
        return None
    user, sep, password = decoded.partition(":")
    return (user, password) if sep else None
