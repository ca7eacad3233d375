"""Validation of the JSON configuration: every problem, with its JSON path and a plain sentence.

Two passes over the parsed document. The JSON Schema (config.schema.json, checked by the
`jsonschema` package) catches shape errors: missing keys, wrong types, typos in key names.
The checks below catch what a schema cannot say: duplicates, references between dashboards
and sites, the order of limits, TLS settings that contradict each other, and the secrets'
environment variables. Both passes always run, so one run reports everything.

Pure and fast: no Django, no network; the only I/O is reading a `ca_file` to check that it
is a PEM certificate.

No sentence repeats a value that may be a secret: a `*_env` value that is not a variable
name, a URL's user name, password or query, or a variable's content.
"""

from __future__ import annotations

import difflib
import itertools
import json
import os
from collections.abc import Iterator, Mapping
from functools import lru_cache
from pathlib import Path
from typing import Any, TypeGuard
from urllib.parse import urlsplit

from jsonschema import Draft202012Validator, FormatChecker
from jsonschema.exceptions import ValidationError

from wincc_bridge.localtime import zone_named
from wincc_bridge.secrets import VARIABLE_NAME, shown_name
from wincc_bridge.transport import ca_file_problem

SCHEMA_PATH = Path(__file__).with_name("config.schema.json")

Problem = tuple[list[Any], str]  # (JSON path parts, plain sentence)

# Keys that would put a secret into the file; each names the key to use instead.
_INLINE_SECRETS = {
    "password": "password_env",
    "passwd": "password_env",
    "token": "token_env",
    "api_key": "token_env",
    "apikey": "token_env",
    "secret": "password_env or token_env",
}

_LIMIT_ORDER = ("ll", "l", "h", "hh")

# The shortest secret a REST Connector's pushes may be checked with.
MIN_PUSH_SECRET = 16

# The path each dialect adds to the URL; a URL may already end in it (docs/bridge.md).
DIALECT_PATHS = {"classic": "/WinCCRestService", "unified": "/graphql", "rest-v1": "/api/v1"}

# The API user each dialect needs, and why.
_SECRET_BY_DIALECT = {
    "classic": ("password_env", "Classic WinCC signs in with HTTP Basic (user name and password)"),
    "unified": ("password_env", "WinCC Unified signs in with a user name and password"),
    "rest-v1": ("token_env", "a rest-v1 server authenticates with a Bearer token"),
}


@lru_cache(maxsize=1)
def schema() -> dict[str, Any]:
    return json.loads(SCHEMA_PATH.read_text(encoding="utf-8"))


# The formats the schema names beyond JSON Schema's own; a format the checker does not know
# would pass unchecked.
_FORMATS = FormatChecker(())


@_FORMATS.checks("iana-time-zone", raises=ValueError)
def _is_zone(value: object) -> bool:
    if isinstance(value, str):  # other types: the schema's "type" says so
        zone_named(value)
    return True


@lru_cache(maxsize=1)
def _validator() -> Draft202012Validator:
    return Draft202012Validator(schema(), format_checker=_FORMATS)


def validate(
    data: Any, environ: Mapping[str, str], *, base_dir: str | os.PathLike[str] | None = None
) -> list[str]:
    """Every problem in the parsed configuration `data`, each "<JSON path>: <sentence>".

    `environ` is where the secrets' variables are looked up. `base_dir` is the folder that
    relative `ca_file` paths are resolved against (the configuration file's folder);
    the current directory when None. An empty list means the configuration is usable.
    """
    found = [item for error in _schema_errors(data) for item in _schema_problems(error)]
    found += _Checker(environ, Path(base_dir) if base_dir else Path.cwd()).check(data)
    # Group by place in the file so a reader can fix them top to bottom; drop repeats.
    found.sort(key=lambda item: _place(data, item[0]))
    return list(dict.fromkeys(f"{json_path(path)}: {sentence}" for path, sentence in found))


def _place(data: Any, path: list[Any]) -> list[int]:
    """Where `path` is in the document: list indexes, and the order of keys in objects."""
    place = []
    node = data
    for part in path:
        if isinstance(node, dict):
            keys = list(node)
            place.append(keys.index(part) if part in node else len(keys))
            node = node.get(part)
        elif isinstance(node, list) and isinstance(part, int):
            place.append(part)
            node = node[part] if part < len(node) else None
        else:
            place.append(0)
            node = None
    return place


def json_path(parts: Any) -> str:
    """"$.sites[1].read_user" from ("sites", 1, "read_user")."""
    path = "$"
    for part in parts:
        if isinstance(part, int):
            path += f"[{part}]"
        elif part.isidentifier():
            path += f".{part}"
        else:
            path += "[" + json.dumps(part) + "]"
    return path


def url_path(url: str) -> str:
    """The path of a site's URL without its trailing slash ("" for none)."""
    return urlsplit(url).path.rstrip("/")


def dialect_path(site: Mapping[str, Any], dialect: str | None) -> str | None:
    """The dialect's own path that the site's URL ends in, as written; None for another path.

    Unified keeps the slash it was given ("/graphql/" on some installations): it is then
    the endpoint's path, as graphql_path would say.
    """
    url = site.get("url")
    if not isinstance(url, str) or dialect not in DIALECT_PATHS:
        return None
    written = urlsplit(url).path
    own = site.get("graphql_path") if dialect == "unified" else None
    for candidate in filter(None, (own, DIALECT_PATHS[dialect])):
        if written.rstrip("/").lower() == candidate.rstrip("/").lower():
            return written if dialect == "unified" else candidate
    return None


# -- pass 1: the schema ---------------------------------------------------------------


def _schema_errors(data: Any) -> Iterator[ValidationError]:
    return _validator().iter_errors(data)


def _kind(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return "a number"
    if isinstance(value, str):
        return "a string"
    if isinstance(value, list):
        return "a list"
    return "an object"


_TYPE_WORDS = {
    "string": "a string",
    "number": "a number",
    "integer": "a whole number",
    "boolean": "true or false",
    "object": "an object ({...})",
    "array": "a list ([...])",
    "null": "null",
}


def problems_against(validator: Draft202012Validator, data: Any) -> list[str]:
    """Every way `data` breaks `validator`'s schema, each "<JSON path>: <sentence>", in the
    order of the document (for other JSON documents than the configuration)."""
    found = [
        item
        for error in validator.iter_errors(data)
        for item in _schema_problems(error, secrets_elsewhere=False)
    ]
    found.sort(key=lambda item: _place(data, item[0]))
    return list(dict.fromkeys(f"{json_path(path)}: {sentence}" for path, sentence in found))


def _schema_problems(error: ValidationError, *, secrets_elsewhere: bool = True) -> list[Problem]:
    path = list(error.absolute_path)
    kind = error.validator
    # jsonschema types these as possibly unset; a reported error always carries them.
    value: Any = error.validator_value
    instance: Any = error.instance
    schema: Mapping[str, Any] = error.schema if isinstance(error.schema, Mapping) else {}

    if kind == "required":
        missing = [key for key in value if isinstance(instance, dict) and key not in instance]
        return [([*path, key], "is required but missing") for key in missing]
    if kind == "additionalProperties":
        allowed = sorted(schema.get("properties", {}))
        lines = []
        for key in instance:
            if key in allowed or (secrets_elsewhere and key.lower() in _INLINE_SECRETS):
                continue  # inline secrets get their own, clearer message from pass 2
            hint = difflib.get_close_matches(key, allowed, n=1)
            advice = f"did you mean {hint[0]!r}?" if hint else "allowed keys: " + ", ".join(allowed)
            lines.append(([*path, key], f"unknown key {key!r}; {advice}"))
        return lines
    if kind == "type":
        types = value if isinstance(value, list) else [value]
        wanted = " or ".join(_TYPE_WORDS.get(str(t), str(t)) for t in types)
        return [(path, f"must be {wanted}, not {_kind(instance)}")]
    if kind == "enum":
        choices = ", ".join(json.dumps(v) for v in value)
        return [(path, f"must be one of {choices}, not {json.dumps(instance)}")]
    if kind == "pattern":
        sentence = schema.get("x-message", f"must match the pattern {value}")
        if schema.get("x-secret"):
            # What was typed where a name belongs may be the secret itself: never repeat it.
            return [(path, sentence)]
        return [(path, f"{sentence} (got {json.dumps(instance)})")]
    if kind == "format" and "x-message" in schema:
        return [(path, f"{schema['x-message']} (got {json.dumps(instance)})")]
    if kind in ("oneOf", "minProperties") and "x-message" in schema:
        return [(path, schema["x-message"])]
    if kind == "minItems":
        return [(path, f"must list at least {value} item(s)")]
    if kind == "maxItems":
        return [(path, f"must list at most {value} items")]
    if kind == "minLength":
        return [(path, "must not be empty" if value == 1 else "is too short")]
    if kind == "maxLength":
        return [(path, f"must be at most {value} characters long")]
    if kind == "minimum":
        return [(path, f"must be at least {value}, not {instance}")]
    if kind == "maximum":
        return [(path, f"must be at most {value}, not {instance}")]
    if kind == "exclusiveMinimum":
        return [(path, f"must be greater than {value}, not {instance}")]
    return [(path, error.message)]


# -- pass 2: what the schema cannot say -----------------------------------------------


def _is_number(value: Any) -> TypeGuard[int | float]:
    return isinstance(value, int | float) and not isinstance(value, bool)


class _Checker:
    def __init__(self, environ: Mapping[str, str], base_dir: Path) -> None:
        self.environ = environ
        self.base_dir = base_dir
        self.problems: list[Problem] = []

    def add(self, path: list[Any], sentence: str) -> None:
        self.problems.append((path, sentence))

    def check(self, data: Any) -> list[Problem]:
        self._inline_secrets(data, [])
        if not isinstance(data, dict):
            return self.problems  # the schema pass says the top level must be an object
        sites = data.get("sites")
        site_tags: dict[str, set[str]] = {}
        if isinstance(sites, list):
            seen: dict[str, int] = {}
            for index, site in enumerate(sites):
                if not isinstance(site, dict):
                    continue
                site_id = site.get("id")
                if isinstance(site_id, str):
                    if site_id in seen:
                        self.add(
                            ["sites", index, "id"],
                            f"site id {site_id!r} is already used by $.sites[{seen[site_id]}]",
                        )
                    else:
                        seen[site_id] = index
                    site_tags.setdefault(site_id, set())
                tags = self._site(site, ["sites", index])
                if isinstance(site_id, str):
                    site_tags[site_id] |= tags
        dashboards = data.get("dashboards")
        if isinstance(dashboards, list):
            self._dashboards(dashboards, site_tags)
        triggers = data.get("triggers")
        if isinstance(triggers, list):
            from wincc_ingest.trigger_validation import check_triggers

            check_triggers(self, triggers, sites)
        return self.problems

    def _inline_secrets(self, node: Any, path: list[Any]) -> None:
        if isinstance(node, dict):
            for key, value in node.items():
                if isinstance(key, str) and key.lower() in _INLINE_SECRETS:
                    instead = _INLINE_SECRETS[key.lower()]
                    self.add(
                        [*path, key],
                        "secrets do not belong in the configuration file; put the secret in "
                        f"an environment variable and name that variable with {instead}",
                    )
                else:
                    self._inline_secrets(value, [*path, key])
        elif isinstance(node, list):
            for index, item in enumerate(node):
                self._inline_secrets(item, [*path, index])

    # sites

    def _site(self, site: dict[str, Any], path: list[Any]) -> set[str]:
        dialect = site.get("dialect")
        if not isinstance(dialect, str):
            dialect = None  # the schema pass reports it
        for role in ("read_user", "write_user"):
            user = site.get(role)
            if isinstance(user, dict):
                self._user(user, dialect, [*path, role])
        self.tls(site, path)
        self._url(site, dialect, path)
        if dialect != "classic":
            for key in ("ack_tags", "alarm_filter", "ping_tag", "tag_archive", "timezone"):
                if key in site and dialect in _SECRET_BY_DIALECT:
                    self.add(
                        [*path, key],
                        f"applies to classic sites only; a {dialect} site has its own API",
                    )
        if dialect != "unified":
            for key in ("graphql_path", "browse_object_types"):
                if key in site and dialect in _SECRET_BY_DIALECT:
                    self.add([*path, key], f"applies to unified sites only, not {dialect}")
        self._capability_switches(site, path)
        self._ingest(site, dialect, path)
        ack_tags = site.get("ack_tags")
        if isinstance(ack_tags, dict) and ack_tags and "write_user" not in site:
            self.add(
                [*path, "ack_tags"],
                "acknowledging writes a tag, which needs a write_user (the read-write API user)",
            )
        tags = site.get("tags")
        if isinstance(tags, list) and "write_user" not in site:
            for index, tag in enumerate(tags):
                if isinstance(tag, dict) and tag.get("writable") is True:
                    self.add(
                        [*path, "tags", index, "writable"],
                        "a writable tag is written with the site's write_user (the read-write "
                        "API user), which is missing",
                    )
        return self._tags(tags, [*path, "tags"])

    def _capability_switches(self, site: dict[str, Any], path: list[Any]) -> None:
        """`alarms`, `acknowledge` and `archive: false` contradicted by settings that need them."""
        if site.get("archive") is False and "tag_archive" in site:
            self.add(
                [*path, "tag_archive"],
                "has no effect: archive is false, so trends never ask the server's archive; "
                "remove tag_archive or archive",
            )
        if site.get("alarms") is False:
            for key in ("alarm_filter", "ack_tags"):
                if key in site:
                    self.add(
                        [*path, key],
                        "has no effect: alarms is false, so the site reads no alarm list; "
                        f"remove {key} or alarms",
                    )
            if site.get("acknowledge") is True:
                self.add(
                    [*path, "acknowledge"],
                    "cannot be true while alarms is false: there is no alarm to acknowledge",
                )
        elif site.get("acknowledge") is False and "ack_tags" in site:
            self.add(
                [*path, "ack_tags"],
                "has no effect: acknowledge is false; remove ack_tags or acknowledge",
            )

    def _ingest(self, site: dict[str, Any], dialect: str | None, path: list[Any]) -> None:
        """A subscribe site: Unified only. A rest-connector site: Classic only, and never
        open (one secret, set and long)."""
        if (site.get("ingest") == "subscribe" and dialect in _SECRET_BY_DIALECT
                and dialect != "unified"):
            self.add([*path, "ingest"], f"subscribe needs a unified site: a {dialect} server "
                     "pushes no changes to subscribers; use poll")
        connector = site.get("rest_connector")
        if site.get("ingest") != "rest-connector":
            if "rest_connector" in site:
                self.add([*path, "rest_connector"],
                         "has no effect: ingest is not \"rest-connector\"; remove one or set both")
            return
        if dialect in _SECRET_BY_DIALECT and dialect != "classic":
            self.add([*path, "ingest"],
                     f"the REST Connector is Classic WinCC's (V8.0 and later); a {dialect} site "
                     "cannot use it")
        if not isinstance(connector, dict):
            if connector is None:
                self.add(path, "a rest-connector site needs rest_connector, naming the secret "
                         "its pushes prove themselves with (signature_env or token_env); the "
                         "endpoint is never open")
            return  # another type: the schema pass reports it
        path = [*path, "rest_connector"]
        named = [key for key in ("signature_env", "token_env") if key in connector]
        if len(named) != 1:
            self.add(path, "needs exactly one of signature_env (an HMAC-SHA256 of the body in "
                     "a header) and token_env (Authorization: Bearer)")
        if "signature_header" in connector and "signature_env" not in connector:
            self.add([*path, "signature_header"], "has no effect without signature_env")
        for key in named:
            self.env_variable(connector[key], [*path, key])
            self._long_secret(connector[key], [*path, key])

    def _long_secret(self, name: Any, path: list[Any]) -> None:
        """An inbound secret is guessed at from outside: refuse a short one."""
        value = self.environ.get(name) if isinstance(name, str) else None
        if not value or len(value) >= MIN_PUSH_SECRET:
            return  # unset or empty: env_variable says so
        which = f"environment variable {name}" if shown_name(name) else (
            "the environment variable named here")
        self.add(path, f"the secret in {which} is shorter than {MIN_PUSH_SECRET} characters; "
                 "use a long random one (python3 -c 'import secrets; "
                 "print(secrets.token_urlsafe(32))')")

    def _user(self, user: dict[str, Any], dialect: Any, path: list[Any]) -> None:
        for key in ("password_env", "token_env"):
            self.env_variable(user.get(key), [*path, key])
        if dialect not in _SECRET_BY_DIALECT:
            return
        needed, why = _SECRET_BY_DIALECT[dialect]
        if needed not in user:
            self.add(
                path,
                f"{why}; add {needed} naming the environment variable that holds the "
                f"{'token' if needed == 'token_env' else 'password'}",
            )
        if dialect != "rest-v1" and not user.get("username"):
            # rest-v1 sends only its token, so it needs no user name.
            state = "is required" if "username" not in user else "must not be empty"
            self.add([*path, "username"], f"{state}: {why}")

    def env_variable(self, name: Any, path: list[Any]) -> None:
        """The variable a `*_env` key names must be set and not empty."""
        if not isinstance(name, str) or not VARIABLE_NAME.fullmatch(name):
            return  # the schema pass says it must be a name, without repeating it
        if self.environ.get(name):
            return
        state = "is not set" if name not in self.environ else "is set but empty"
        # Repeated only when it cannot be the secret typed in its place (wincc_bridge.secrets).
        if shown_name(name):
            self.add(path, f"environment variable {name} {state}")
        else:
            self.add(
                path,
                f"the environment variable named here {state} (its name is not repeated: "
                "it does not look like a variable name, such as LINE1_RO_PASSWORD, so it may be "
                "the secret itself)",
            )

    def _url(self, site: dict[str, Any], dialect: str | None, path: list[Any]) -> None:
        url = site.get("url")
        if not isinstance(url, str) or not url:
            return  # the schema pass reports it
        path = [*path, "url"]
        example = "such as https://wincc01:34568"
        try:
            parts = urlsplit(url)
            parts.port  # noqa: B018 - raises ValueError for a port that is not a number
        except ValueError:
            self.add(path, f"is not a valid address; give scheme, host and port, {example}")
            return
        if parts.scheme not in ("http", "https") or not parts.netloc:
            self.add(path, f"must start with https:// (or http://), {example}")
            return
        if "@" in parts.netloc:
            # Not repeated: what stands before the @ is a user name and likely a password.
            self.add(
                path,
                "must not hold a user name or password (user@ or user:password@); name the "
                "user in read_user.username and the variable holding the secret in "
                "password_env or token_env",
            )
            return
        if parts.query or parts.fragment or url.endswith(("?", "#")):
            self.add(
                path,
                "must not have a query (?...) or fragment (#...): a token in a URL ends up in "
                "logs; name the variable holding it in token_env",
            )
            return
        if any(char.isspace() for char in url) or not parts.hostname:
            self.add(path, f"is not a valid address; give scheme, host and port, {example}")
            return
        if dialect in DIALECT_PATHS and url_path(url) and dialect_path(site, dialect) is None:
            own = DIALECT_PATHS[dialect]
            self.add(
                path,
                f"must be the server's scheme, host and port, {example}; a path is accepted "
                f"only if it is the dialect's own ({own} for {dialect}), and is then removed",
            )
        graphql_path = site.get("graphql_path")
        own_path = dialect_path(site, dialect) if dialect == "unified" else None
        if own_path and isinstance(graphql_path, str) and own_path != graphql_path:
            self.add(
                path,
                f"ends in {own_path} but graphql_path is {graphql_path}; give the path in one "
                "place",
            )

    def tls(self, site: dict[str, Any], path: list[Any]) -> None:
        tls = site.get("tls")
        if not isinstance(tls, dict):
            return
        path = [*path, "tls"]
        insecure = tls.get("insecure") is True
        ca_file = tls.get("ca_file")
        if insecure and ca_file is not None:
            self.add(
                path,
                "insecure: true turns certificate checks off, which contradicts pinning a "
                "certificate with ca_file; remove one of them",
            )
        if tls.get("verify") is False and not insecure:
            self.add(
                [*path, "verify"],
                "turning verification off must be explicit: set insecure: true as well "
                "(or better, pin the server's certificate with ca_file)",
            )
        url = site.get("url")
        if isinstance(url, str) and url.startswith("http://") and (ca_file or insecure):
            self.add(path, "the URL is plain http://, so TLS settings have no effect; use https://")
        if isinstance(ca_file, str) and ca_file:
            resolved = Path(os.path.normpath(self.base_dir / ca_file))
            if not resolved.is_file():
                self.add(
                    [*path, "ca_file"],
                    f"certificate file {resolved} does not exist "
                    "(relative paths count from the configuration file's folder)",
                )
            elif problem := ca_file_problem(str(resolved)):
                self.add([*path, "ca_file"], problem)

    def _tags(self, tags: Any, path: list[Any]) -> set[str]:
        names: set[str] = set()
        if not isinstance(tags, list):
            return names
        first: dict[str, int] = {}
        for index, tag in enumerate(tags):
            if not isinstance(tag, dict):
                continue
            name = tag.get("name")
            if isinstance(name, str):
                if name in first:
                    self.add(
                        [*path, index, "name"],
                        f"tag {name!r} is already listed at index {first[name]} of this site",
                    )
                else:
                    first[name] = index
                names.add(name)
            self._tag(tag, [*path, index])
        return names

    def _tag(self, tag: dict[str, Any], path: list[Any]) -> None:
        limits = tag.get("limits")
        if isinstance(limits, dict):
            present = [(k, limits[k]) for k in _LIMIT_ORDER if _is_number(limits.get(k))]
            for (low_key, low), (high_key, high) in itertools.pairwise(present):
                if not low < high:
                    self.add(
                        [*path, "limits"],
                        f"limits must rise in the order ll < l < h < hh, but {low_key} ({low}) "
                        f"is not below {high_key} ({high})",
                    )
        for key, sentence in (("range", "the display range"), ("write", "the write range")):
            bounds = tag.get(key)
            if not isinstance(bounds, dict):
                continue
            low, high = bounds.get("min"), bounds.get("max")
            if _is_number(low) and _is_number(high) and not low < high:
                self.add([*path, key], f"{sentence} needs min ({low}) below max ({high})")
        write = tag.get("write")
        if isinstance(write, dict):
            low, high, step = write.get("min"), write.get("max"), write.get("step")
            if (_is_number(low) and _is_number(high) and _is_number(step)
                    and low < high < step + low):
                self.add(
                    [*path, "write", "step"],
                    f"the step ({step}) is larger than the write range from {low} to {high}",
                )
        if "write" in tag and tag.get("writable") is not True:
            self.add(
                [*path, "write"], "a write range is given but the tag is not writable: true"
            )

    # dashboards

    def _dashboards(self, dashboards: list[Any], site_tags: dict[str, set[str]]) -> None:
        seen: dict[str, int] = {}
        for index, board in enumerate(dashboards):
            if not isinstance(board, dict):
                continue
            board_id = board.get("id")
            if isinstance(board_id, str):
                if board_id in seen:
                    self.add(
                        ["dashboards", index, "id"],
                        f"dashboard id {board_id!r} is already used by "
                        f"$.dashboards[{seen[board_id]}]",
                    )
                else:
                    seen[board_id] = index
            panels = board.get("panels")
            if isinstance(panels, list):
                for number, panel in enumerate(panels):
                    if isinstance(panel, dict):
                        self._panel(panel, ["dashboards", index, "panels", number], site_tags)

    def _panel(
        self, panel: dict[str, Any], path: list[Any], site_tags: dict[str, set[str]]
    ) -> None:
        kind = panel.get("kind")
        site = panel.get("site")
        known = ", ".join(sorted(site_tags)) or "none"
        if isinstance(site, str) and site not in site_tags:
            self.add([*path, "site"], f"names unknown site {site!r}; known sites: {known}")
        sites = panel.get("sites")
        if isinstance(sites, list):
            for number, other in enumerate(sites):
                if isinstance(other, str) and other not in site_tags:
                    self.add(
                        [*path, "sites", number],
                        f"names unknown site {other!r}; known sites: {known}",
                    )
        tags = panel.get("tags")
        if kind in ("tiles", "trend"):
            if site is None:
                self.add(path, f"a {kind} panel needs the site its tags belong to (site)")
            if not tags:
                self.add(path, f"a {kind} panel needs at least one tag (tags)")
        elif tags:
            self.add([*path, "tags"], f"a {kind} panel shows no tags; remove tags")
        if isinstance(site, str) and site in site_tags and isinstance(tags, list):
            for number, name in enumerate(tags):
                if isinstance(name, str) and name not in site_tags[site]:
                    self.add(
                        [*path, "tags", number],
                        f"tag {name!r} is not configured for site {site!r}; "
                        "add it to that site's tags first",
                    )
