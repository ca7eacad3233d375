"""A small OpenID Connect provider for the sign-in tests, run as its own process.

It speaks the protocol as Keycloak or Entra ID do for a confidential client: discovery,
the authorization code flow with PKCE (S256) behind a sign-in form, a token endpoint that
authenticates the client, ID tokens signed RS256 with joserfc (the JOSE library of authlib's
author) and published as a JWKS, and a user info endpoint. Its people and their groups are
read from a JSON file at every sign-in, so a test changes someone's groups by rewriting it:

    {"alice": {"password": "...", "groups": ["line-operators"], "email": "alice@plant.test"}}

    provider = start_oidc_provider(folder, client_id="dashboard", client_secret="...",
                                   redirect_uri="http://127.0.0.1:8000/oidc/callback/")
    provider.set_people({...}); provider.set_redirect_uri(...); provider.issuer
    provider.settings_env(); provider.stop()
"""

from __future__ import annotations

import argparse
import base64
import hashlib
import html
import json
import secrets
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import parse_qsl, urlencode

from tests.harness.processes import Proc, free_port, python_env, spawn, wait_for_port

CODE_SECONDS = 60


def create_app(issuer: str, people_file: Path, client_id: str, client_secret: str,
               redirect_uri_file: Path):
    from joserfc import jwt
    from joserfc.jwk import RSAKey
    from starlette.applications import Starlette
    from starlette.requests import Request
    from starlette.responses import HTMLResponse, JSONResponse, RedirectResponse
    from starlette.routing import Route

    key = RSAKey.generate_key(2048, parameters={"kid": "test-key", "alg": "RS256", "use": "sig"})
    public = key.as_dict(private=False)
    codes: dict[str, dict] = {}
    tokens: dict[str, str] = {}

    async def posted(request: Request) -> dict[str, str]:
        # Starlette's own form parsing needs python-multipart; these forms are urlencoded.
        return dict(parse_qsl((await request.body()).decode()))

    def people() -> dict:
        return json.loads(people_file.read_text())

    def claims(username: str) -> dict:
        person = people()[username]
        return {"sub": f"sub-{username}", "preferred_username": username,
                "email": person.get("email", f"{username}@plant.test"),
                "given_name": person.get("given_name", "Plant"),
                "family_name": person.get("family_name", "Person"),
                "groups": person.get("groups", [])}

    async def discovery(request: Request):
        return JSONResponse({
            "issuer": issuer, "authorization_endpoint": f"{issuer}/authorize",
            "token_endpoint": f"{issuer}/token", "userinfo_endpoint": f"{issuer}/userinfo",
            "jwks_uri": f"{issuer}/jwks", "response_types_supported": ["code"],
            "subject_types_supported": ["public"],
            "id_token_signing_alg_values_supported": ["RS256"],
            "code_challenge_methods_supported": ["S256"],
            "token_endpoint_auth_methods_supported": ["client_secret_post",
                                                      "client_secret_basic"],
        })

    async def jwks(request: Request):
        return JSONResponse({"keys": [public]})

    def form(params: dict, error: str = "", status: int = 200):
        hidden = "".join(f'<input type="hidden" name="{html.escape(k)}" '
                         f'value="{html.escape(v)}">' for k, v in params.items())
        notice = f'<p role="alert">{html.escape(error)}</p>' if error else ""
        return HTMLResponse(
            f"<!doctype html><title>Plant directory</title><h1>Plant directory</h1>{notice}"
            f'<form method="post" action="/authorize">{hidden}'
            '<label>Username <input name="username" id="username"></label>'
            '<label>Password <input type="password" name="password" id="password"></label>'
            '<button type="submit" id="kc-login">Sign in</button></form>', status_code=status)

    async def authorize(request: Request):
        if request.method == "GET":
            params = dict(request.query_params)
            if (params.get("client_id") != client_id
                    or params.get("redirect_uri") != redirect_uri_file.read_text()
                    or params.get("response_type") != "code"
                    or "openid" not in params.get("scope", "").split()):
                return HTMLResponse("invalid authorization request", status_code=400)
            return form(params)
        data = await posted(request)
        if data.get("redirect_uri") != redirect_uri_file.read_text():
            return HTMLResponse("invalid authorization request", status_code=400)
        username, password = data.pop("username", ""), data.pop("password", "")
        person = people().get(username)
        if person is None or not secrets.compare_digest(person["password"], password):
            return form(data, "Invalid username or password.", status=401)
        code = secrets.token_urlsafe(24)
        codes[code] = {"username": username, "nonce": data.get("nonce"),
                       "challenge": data.get("code_challenge"),
                       "redirect_uri": data["redirect_uri"], "at": time.time()}
        query = urlencode({"code": code, "state": data.get("state", "")})
        return RedirectResponse(f"{data['redirect_uri']}?{query}", status_code=302)

    def token_error(error: str, status: int = 400):
        return JSONResponse({"error": error}, status_code=status)

    async def token(request: Request):
        data = await posted(request)
        given_id, given_secret = data.get("client_id"), data.get("client_secret")
        header = request.headers.get("authorization", "")
        if header.startswith("Basic "):
            given_id, _, given_secret = base64.b64decode(header[6:]).decode().partition(":")
        if given_id != client_id or not secrets.compare_digest(given_secret or "", client_secret):
            return token_error("invalid_client", 401)
        grant = codes.pop(data.get("code", ""), None)  # a code is good once
        if (data.get("grant_type") != "authorization_code" or grant is None
                or time.time() - grant["at"] > CODE_SECONDS
                or data.get("redirect_uri") != grant["redirect_uri"]):
            return token_error("invalid_grant")
        if grant["challenge"]:
            verifier = data.get("code_verifier", "").encode()
            expected = base64.urlsafe_b64encode(hashlib.sha256(verifier).digest())
            if expected.rstrip(b"=").decode() != grant["challenge"]:
                return token_error("invalid_grant")
        now = int(time.time())
        # "audience" in a person's entry: a token meant for another client (a test of the
        # dashboard's audience check).
        audience = people()[grant["username"]].get("audience", client_id)
        id_claims = {**claims(grant["username"]), "iss": issuer, "aud": audience,
                     "iat": now, "exp": now + 300}
        if grant["nonce"]:
            id_claims["nonce"] = grant["nonce"]
        id_token = jwt.encode({"alg": "RS256", "kid": "test-key"}, id_claims, key)
        access = secrets.token_urlsafe(24)
        tokens[access] = grant["username"]
        return JSONResponse({"access_token": access, "token_type": "Bearer",
                             "expires_in": 300, "id_token": id_token})

    async def userinfo(request: Request):
        username = tokens.get(request.headers.get("authorization", "").removeprefix("Bearer "))
        if username is None:
            return JSONResponse({"error": "invalid_token"}, status_code=401)
        return JSONResponse(claims(username))

    return Starlette(routes=[
        Route("/.well-known/openid-configuration", discovery),
        Route("/jwks", jwks),
        Route("/authorize", authorize, methods=["GET", "POST"]),
        Route("/token", token, methods=["POST"]),
        Route("/userinfo", userinfo),
    ])


@dataclass
class OIDCProvider:
    port: int
    proc: Proc
    people_file: Path
    redirect_uri_file: Path
    client_id: str
    client_secret: str

    @property
    def issuer(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def set_redirect_uri(self, uri: str) -> None:
        """The one address the provider sends people back to (the dashboard's callback)."""
        self.redirect_uri_file.write_text(uri)

    def set_people(self, people: dict) -> None:
        self.people_file.write_text(json.dumps(people))

    def settings_env(self, name: str = "Plant directory") -> dict[str, str]:
        """The dashboard's variables for this provider (docs/sign-in.md)."""
        return {
            "OIDC_PROVIDER_NAME": name, "OIDC_ISSUER": self.issuer,
            "OIDC_CLIENT_ID": self.client_id, "OIDC_CLIENT_SECRET": self.client_secret,
            "OIDC_AUTHORIZATION_ENDPOINT": f"{self.issuer}/authorize",
            "OIDC_TOKEN_ENDPOINT": f"{self.issuer}/token",
            "OIDC_USERINFO_ENDPOINT": f"{self.issuer}/userinfo",
            "OIDC_JWKS_ENDPOINT": f"{self.issuer}/jwks",
        }

    def stop(self) -> None:
        self.proc.stop(timeout=5)


def start_oidc_provider(folder: Path, *, client_id: str, client_secret: str,
                        redirect_uri: str) -> OIDCProvider:
    folder.mkdir(parents=True, exist_ok=True)
    people_file = folder / "people.json"
    people_file.write_text("{}")
    redirect_uri_file = folder / "redirect_uri"
    redirect_uri_file.write_text(redirect_uri)
    port = free_port()
    argv = [sys.executable, "-m", "tests.harness.oidc_provider", "--port", str(port),
            "--people", str(people_file), "--client-id", client_id,
            "--redirect-uri-file", str(redirect_uri_file)]
    # The secret by environment, as a real provider's would be kept off the command line.
    proc = spawn("oidc-provider", argv, log=folder / "oidc-provider.log",
                 env=python_env(OIDC_TEST_CLIENT_SECRET=client_secret))
    try:
        wait_for_port(port, 20, proc)
    except Exception:
        proc.stop(timeout=5)
        raise
    return OIDCProvider(port, proc, people_file, redirect_uri_file, client_id, client_secret)


def main() -> None:
    import os

    import uvicorn

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--people", type=Path, required=True)
    parser.add_argument("--client-id", required=True)
    parser.add_argument("--redirect-uri-file", type=Path, required=True)
    args = parser.parse_args()
    app = create_app(f"http://127.0.0.1:{args.port}", args.people, args.client_id,
                     os.environ["OIDC_TEST_CLIENT_SECRET"], args.redirect_uri_file)
    uvicorn.run(app, host="127.0.0.1", port=args.port, log_level="warning")


if __name__ == "__main__":
    main()
