"""Which WinCC dialects a server speaks, asked without credentials and without writing.

A site set to the wrong dialect fails with "HTTP 404" or "not a GraphQL answer", which says
what went wrong but not what to change. Each dialect has one harmless request that only a
server of that dialect answers in its own way: Classic's REST service and REST v1 ask for a
login (401) or answer their JSON; Unified answers a GraphQL document. No credentials are
sent: they belong to the dialect that was configured, not to whatever else answers.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable

from wincc_bridge.client import AuthError, ConnectError, ConnectionSettings, WinCCError
from wincc_bridge.transport import Transport

DIALECT_ORDER = ("classic", "unified", "rest-v1")


def _classic(http: Transport) -> bool:
    body = http.request("GET", "/tagManagement/Connections")
    return isinstance(body, list | dict)


def _unified(http: Transport) -> bool:
    body = http.request(
        "POST", "", json_body={"query": "{__typename}"}, body_statuses=frozenset({400})
    )
    return isinstance(body, dict) and ("data" in body or "errors" in body)


def _rest_v1(http: Transport) -> bool:
    body = http.request("GET", "/tags", params={"names": "WinCC_Bridge_Ping"})
    return isinstance(body, dict) and "tags" in body


# dialect -> (its path, the probe: True when the answer is that dialect's own)
_PROBES: dict[str, tuple[str, Callable[[Transport], bool]]] = {
    "classic": ("/WinCCRestService", _classic),
    "unified": ("/graphql", _unified),
    "rest-v1": ("/api/v1", _rest_v1),
}


def dialects_spoken(settings: ConnectionSettings, *, skip: str = "") -> list[str]:
    """The dialects (other than `skip`) whose probe the server at `settings.url` answers.

    ConnectError (the server cannot be reached at all) is raised; any other failure of a
    probe means the server does not speak that dialect.
    """
    anonymous = dataclasses.replace(
        settings, username="", password="", token="", read_retries=0, graphql_path="/graphql"
    )
    spoken = []
    for dialect in DIALECT_ORDER:
        if dialect == skip:
            continue
        path, probe = _PROBES[dialect]
        http = Transport(anonymous, base_path=path, who="a request without a user", check="-")
        try:
            if probe(http):
                spoken.append(dialect)
        except AuthError:
            # Asking for a login at this dialect's path is that dialect's answer.
            spoken.append(dialect)
        except ConnectError:
            raise
        except WinCCError:
            pass
        finally:
            http.close()
    return spoken


def wrong_dialect(spoken: list[str], configured: str) -> str:
    """The sentence for a server that answers another dialect than the configured one; the
    same words in the online check, on /sites/ and on the tiles."""
    return f"this server speaks {' and '.join(spoken)}, the configuration says {configured}"


def wrong_dialect_reason(spoken: list[str]) -> str:
    """The few words a tile shows for it."""
    return f"wrong dialect: server speaks {' and '.join(spoken)}"
