"""Which peers may say who the client is (X-Forwarded-For), and who the client then is.

No Django import: gunicorn's configuration (dashboard/gunicorn_conf.py) reads the same list
from the environment, so the access log (uvicorn), the audit, the lock-out (django-axes)
and Django all name the same address. The rule is uvicorn's own: only when the connecting
peer is a trusted proxy is the header read, from its right end (each proxy appends the
address it saw), skipping trusted proxies; the first address that is not one is the client.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Mapping
from dataclasses import dataclass
from typing import ClassVar, Self

Network = ipaddress.IPv4Network | ipaddress.IPv6Network

ADDRESS_MAX = 64  # the audit column's width


class ProxyConfigError(ValueError):
    """A list of networks (TRUSTED_PROXIES, METRICS_ALLOW_FROM) names something that is not
    an address or a network."""


def _host(hop: str) -> str:
    """An X-Forwarded-For entry without a port: "1.2.3.4:56" and "[::1]:80" as proxies write."""
    hop = hop.strip()
    if hop.startswith("[") and "]" in hop:
        return hop[1:hop.index("]")]
    if hop.count(":") == 1:
        return hop.split(":", 1)[0]
    return hop


@dataclass(frozen=True)
class Networks:
    """Addresses and networks from a comma-separated setting; `address in networks`."""

    # The setting, and whose addresses it lists: for the sentence on a bad entry.
    SETTING: ClassVar[str] = "the setting"
    WHOSE: ClassVar[str] = "the"

    networks: tuple[Network, ...] = ()

    @classmethod
    def parse(cls, text: str, name: str = "") -> Self:
        name, whose = name or cls.SETTING, cls.WHOSE
        networks = []
        for item in (part.strip() for part in text.split(",")):
            if not item:
                continue
            try:
                networks.append(ipaddress.ip_network(item, strict=True))
            except ValueError:
                raise ProxyConfigError(
                    f"{name} must list {whose} addresses or networks, comma "
                    f"separated (e.g. 127.0.0.1,10.0.0.0/24); {item!r} is neither."
                ) from None
        return cls(tuple(networks))

    def __bool__(self) -> bool:
        return bool(self.networks)

    def __contains__(self, host: object) -> bool:
        if not isinstance(host, str):
            return False
        try:
            address = ipaddress.ip_address(host)
        except ValueError:
            return False
        return any(address in network for network in self.networks)


@dataclass(frozen=True)
class TrustedProxies(Networks):
    SETTING = "TRUSTED_PROXIES"
    WHOSE = "the reverse proxies'"

    def client(self, peer: str, forwarded_for: str = "") -> str:
        """The client's address: the peer itself, unless the peer is a trusted proxy."""
        if peer not in self or not forwarded_for.strip():
            return peer[:ADDRESS_MAX]
        hops = [_host(hop) for hop in forwarded_for.split(",") if hop.strip()]
        for hop in reversed(hops):
            if hop not in self:
                return hop[:ADDRESS_MAX]
        return (hops[0] if hops else peer)[:ADDRESS_MAX]  # every hop a proxy of ours

    def gunicorn_value(self) -> str:
        """gunicorn's --forwarded-allow-ips; empty: no peer's proxy headers are believed."""
        return ",".join(str(network) for network in self.networks)


def from_environ(environ: Mapping[str, str]) -> TrustedProxies:
    """TRUSTED_PROXIES from the environment. The old yes/no TRUST_X_FORWARDED_FOR said
    "trust whoever connects", which no list can express: set, it stops the start."""
    old = environ.get("TRUST_X_FORWARDED_FOR", "").strip().lower()
    if old not in {"", "0", "false", "no", "off"}:
        raise ProxyConfigError(
            "TRUST_X_FORWARDED_FOR is no longer read. Name the reverse proxies whose "
            "X-Forwarded-For is believed in TRUSTED_PROXIES instead (e.g. "
            "TRUSTED_PROXIES=127.0.0.1 for a proxy on the same machine), and unset it."
        )
    return TrustedProxies.parse(environ.get("TRUSTED_PROXIES", ""))
