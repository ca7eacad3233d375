"""Helpers for the simulator's own tests: clients on the shared simulator, GraphQL calls."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from tests.fixtures.simulator import Simulator

LOGIN = ("mutation($u:String!,$p:String!){login(username:$u,password:$p)"
         "{token expires user{name groups{name}} error{code description}}}")


@pytest.fixture
def client(sim: Simulator):
    """An HTTPS client on the shared simulator that trusts only its pinned certificate."""
    with sim.client() as c:
        yield c


def gql(client: httpx.Client, query: str, variables: dict | None = None,
        token: str | None = None) -> dict[str, Any]:
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    response = client.post("/graphql", json={"query": query, "variables": variables or {}},
                           headers=headers)
    assert response.status_code == 200, response.text
    return response.json()


def login(client: httpx.Client, username: str, password: str) -> str:
    body = gql(client, LOGIN, {"u": username, "p": password})
    session = body["data"]["login"]
    assert session["error"] == {"code": "0", "description": ""}, session
    return session["token"]


def basic(sim: Simulator, who: str = "ro") -> tuple[str, str]:
    user = getattr(sim.users, who)
    return (user.username, user.password)


def bearer(sim: Simulator, who: str = "ro") -> dict[str, str]:
    return {"Authorization": f"Bearer {getattr(sim.users, who).token}"}
