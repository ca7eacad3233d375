"""Directory sign-in's settings from the environment (read by dashboard/settings.py).

Each part is off while its first variable is empty: OIDC_CLIENT_ID for OpenID Connect,
LDAP_SERVER_URI for LDAP / Active Directory. Once on, what it cannot work without must be
set too, or the start stops with a sentence naming the missing variables.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from dashboard.directory import groups

LDAP_BACKEND = "dashboard.directory.ldap_backend.DirectoryLDAPBackend"
OIDC_BACKEND = "dashboard.directory.oidc_backend.DirectoryOIDCBackend"

# LDAP_GROUP_TYPE: django-auth-ldap's group type and the filter that finds such groups.
LDAP_GROUP_TYPES = {
    "groupOfNames": ("GroupOfNamesType", "(objectClass=groupOfNames)"),
    "groupOfUniqueNames": ("GroupOfUniqueNamesType", "(objectClass=groupOfUniqueNames)"),
    "posixGroup": ("PosixGroupType", "(objectClass=posixGroup)"),
    # Nested: a member of a group inside a mapped group has the mapped group's rights.
    "activeDirectory": ("NestedActiveDirectoryGroupType", "(objectClass=group)"),
}

_TRUE = {"1", "true", "yes", "on"}
_FALSE = {"0", "false", "no", "off", ""}


class DirectoryConfigError(ValueError):
    """A setting of directory sign-in is missing or wrong; one sentence says which."""


def _value(name: str, environ: Mapping[str, str], default: str = "") -> str:
    return environ.get(name, default).strip() or default


def _flag(name: str, environ: Mapping[str, str]) -> bool:
    word = _value(name, environ).lower()
    if word not in _TRUE | _FALSE:
        raise DirectoryConfigError(f"{name} must be one of 1/true/yes/on or 0/false/no/off.")
    return word in _TRUE


def _seconds(name: str, environ: Mapping[str, str], default: str) -> float:
    text = _value(name, environ, default)
    try:
        seconds = float(text)
    except ValueError:
        seconds = 0
    if not seconds > 0:
        raise DirectoryConfigError(f"{name} must be a number of seconds above 0, not {text!r}.")
    return seconds


def _require(environ: Mapping[str, str], names: list[str], part: str) -> None:
    missing = [name for name in names if not _value(name, environ)]
    if missing:
        raise DirectoryConfigError(f"{part} is on, but {', '.join(missing)} "
                                   f"{'is' if len(missing) == 1 else 'are'} not set "
                                   "(docs/sign-in.md).")


def group_map(environ: Mapping[str, str]) -> groups.GroupMap:
    """The mapping of DIRECTORY_GROUPS_FILE; none: directory users sign in with no rights."""
    path = _value("DIRECTORY_GROUPS_FILE", environ)
    if not path:
        return {}
    try:
        return groups.load(path)
    except groups.GroupMapError as exc:
        raise DirectoryConfigError(str(exc)) from None


def ldap_settings(environ: Mapping[str, str]) -> dict[str, Any]:
    """django-auth-ldap's AUTH_LDAP_* settings; empty while LDAP_SERVER_URI is not set."""
    uri = _value("LDAP_SERVER_URI", environ)
    if not uri:
        return {}
    _require(environ, ["LDAP_USER_SEARCH_BASE", "LDAP_GROUP_SEARCH_BASE"], "LDAP sign-in")
    group_type = _value("LDAP_GROUP_TYPE", environ, "groupOfNames")
    if group_type not in LDAP_GROUP_TYPES:
        raise DirectoryConfigError(f"LDAP_GROUP_TYPE must be one of "
                                   f"{', '.join(LDAP_GROUP_TYPES)}, not {group_type!r}.")
    try:
        import ldap
        from django_auth_ldap import config as ldap_config
    except ImportError:
        raise DirectoryConfigError(
            "LDAP sign-in is on, but django-auth-ldap is not installed: "
            "pip install 'wincc-dashboard[ldap]' (docs/sign-in.md)."
        ) from None
    type_name, group_filter = LDAP_GROUP_TYPES[group_type]
    options: dict[int, Any] = {
        # Active Directory's referrals lead to servers this bind is not valid for.
        ldap.OPT_REFERRALS: 0,
    }
    # A directory that accepts the connection and then hangs holds a sign-in no longer either.
    options[ldap.OPT_NETWORK_TIMEOUT] = options[ldap.OPT_TIMEOUT] = _seconds(
        "LDAP_TIMEOUT_SECONDS", environ, "5")
    ca_file = _value("LDAP_CA_FILE", environ)
    if ca_file:
        options[ldap.OPT_X_TLS_CACERTFILE] = ca_file
        options[ldap.OPT_X_TLS_NEWCTX] = 0  # must come last: makes the options above count
    return {
        "AUTH_LDAP_SERVER_URI": uri,
        "AUTH_LDAP_BIND_DN": _value("LDAP_BIND_DN", environ),
        "AUTH_LDAP_BIND_PASSWORD": environ.get("LDAP_BIND_PASSWORD", ""),
        "AUTH_LDAP_START_TLS": _flag("LDAP_START_TLS", environ),
        "AUTH_LDAP_CONNECTION_OPTIONS": options,
        "AUTH_LDAP_USER_SEARCH": ldap_config.LDAPSearch(
            _value("LDAP_USER_SEARCH_BASE", environ), ldap.SCOPE_SUBTREE,
            _value("LDAP_USER_FILTER", environ, "(uid=%(user)s)"),
        ),
        "AUTH_LDAP_GROUP_SEARCH": ldap_config.LDAPSearch(
            _value("LDAP_GROUP_SEARCH_BASE", environ), ldap.SCOPE_SUBTREE, group_filter,
        ),
        "AUTH_LDAP_GROUP_TYPE": getattr(ldap_config, type_name)(),
        "AUTH_LDAP_USER_ATTR_MAP": {"first_name": "givenName", "last_name": "sn",
                                    "email": "mail"},
        # Every sign-in asks the directory afresh (no cached group list).
        "AUTH_LDAP_ALWAYS_UPDATE_USER": True,
        "AUTH_LDAP_CACHE_TIMEOUT": 0,
    }


def oidc_settings(environ: Mapping[str, str]) -> dict[str, Any]:
    """mozilla-django-oidc's OIDC_* settings; empty while OIDC_CLIENT_ID is not set."""
    client_id = _value("OIDC_CLIENT_ID", environ)
    if not client_id:
        return {}
    _require(environ, ["OIDC_CLIENT_SECRET", "OIDC_AUTHORIZATION_ENDPOINT",
                       "OIDC_TOKEN_ENDPOINT", "OIDC_JWKS_ENDPOINT", "OIDC_ISSUER"],
             "OpenID Connect sign-in")
    return {
        "OIDC_PROVIDER_NAME": _value("OIDC_PROVIDER_NAME", environ, "single sign-on"),
        "OIDC_ISSUER": _value("OIDC_ISSUER", environ),
        "OIDC_RP_CLIENT_ID": client_id,
        "OIDC_RP_CLIENT_SECRET": environ.get("OIDC_CLIENT_SECRET", ""),
        "OIDC_OP_AUTHORIZATION_ENDPOINT": _value("OIDC_AUTHORIZATION_ENDPOINT", environ),
        "OIDC_OP_TOKEN_ENDPOINT": _value("OIDC_TOKEN_ENDPOINT", environ),
        # Optional: Entra ID puts the groups in the ID token, which is always read.
        "OIDC_OP_USER_ENDPOINT": _value("OIDC_USERINFO_ENDPOINT", environ),
        "OIDC_OP_JWKS_ENDPOINT": _value("OIDC_JWKS_ENDPOINT", environ),
        "OIDC_RP_SIGN_ALGO": _value("OIDC_SIGN_ALGO", environ, "RS256"),
        "OIDC_RP_SCOPES": _value("OIDC_SCOPES", environ, "openid email profile"),
        "OIDC_USERNAME_CLAIM": _value("OIDC_USERNAME_CLAIM", environ, "preferred_username"),
        "OIDC_GROUPS_CLAIM": _value("OIDC_GROUPS_CLAIM", environ, "groups"),
        "OIDC_USE_PKCE": True,
        "OIDC_TIMEOUT": _seconds("OIDC_TIMEOUT_SECONDS", environ, "10"),
        # requests takes a CA file's path here, for a provider with a private CA.
        "OIDC_VERIFY_SSL": _value("OIDC_CA_FILE", environ) or True,
        "LOGIN_REDIRECT_URL_FAILURE": "/accounts/login/?signin=refused",
    }
