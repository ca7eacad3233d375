"""Who may read /metrics: a bearer token (METRICS_TOKEN), an address allow-list
(METRICS_ALLOW_FROM), or both, when both are set. Neither set: there are no metrics (404).

No Django import: the settings read it from the environment, as they read TRUSTED_PROXIES.
The client's address is the one the audit and the lock-out see (dashboard.proxies).
"""

from __future__ import annotations

import hmac
import re
from collections.abc import Mapping
from dataclasses import dataclass, field

from dashboard.proxies import Networks, ProxyConfigError, TrustedProxies

TOKEN_MIN = 16
# What a bearer token may hold (RFC 6750's b64token): anything else cannot be sent.
_TOKEN = re.compile(r"[A-Za-z0-9\-._~+/]+=*")
_MAKE_ONE = "python3 -c 'import secrets; print(secrets.token_urlsafe(32))'"


class MetricsConfigError(ValueError):
    """METRICS_TOKEN or METRICS_ALLOW_FROM cannot be right; the message says why."""


class Scrapers(Networks):
    SETTING = "METRICS_ALLOW_FROM"
    WHOSE = "the Prometheus servers'"


@dataclass(frozen=True)
class MetricsAccess:
    token: str = ""
    allow_from: Scrapers = field(default_factory=Scrapers)

    @property
    def enabled(self) -> bool:
        return bool(self.token or self.allow_from)

    def refusal(self, peer: str, forwarded_for: str, authorization: str,
                proxies: TrustedProxies) -> tuple[int, str] | None:
        """None when the request may read the metrics, else (HTTP status, sentence)."""
        if not self.enabled:
            return 404, "Metrics are off: set METRICS_TOKEN or METRICS_ALLOW_FROM."
        if self.allow_from and proxies.client(peer, forwarded_for) not in self.allow_from:
            return 403, "This address may not read the metrics (METRICS_ALLOW_FROM)."
        if self.token:
            scheme, _, given = authorization.partition(" ")
            # Compared in constant time: the answer's timing says nothing about the token.
            if scheme.lower() != "bearer" or not hmac.compare_digest(
                given.strip().encode(), self.token.encode()
            ):
                return 401, "The metrics need the bearer token of METRICS_TOKEN."
        return None


def from_environ(environ: Mapping[str, str]) -> MetricsAccess:
    token = environ.get("METRICS_TOKEN", "").strip()
    if token and len(token) < TOKEN_MIN:
        raise MetricsConfigError(
            f"METRICS_TOKEN is {len(token)} characters long; it needs at least {TOKEN_MIN}, "
            f"so it cannot be guessed (e.g. the output of {_MAKE_ONE})."
        )
    if token and not _TOKEN.fullmatch(token):
        raise MetricsConfigError(
            "METRICS_TOKEN may hold only letters, digits and - . _ ~ + / (and = at its end), "
            f"as a bearer token does (e.g. the output of {_MAKE_ONE})."
        )
    try:
        allow_from = Scrapers.parse(environ.get("METRICS_ALLOW_FROM", ""))
    except ProxyConfigError as exc:
        raise MetricsConfigError(str(exc)) from None
    return MetricsAccess(token, allow_from)
