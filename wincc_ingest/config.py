"""The JSON configurator: sites (WinCC servers), their tags, and dashboards.

One file, named by WINCC_CONFIG. It holds no secrets: each API user names the
environment variable that carries its password or token.

The frozen dataclasses below are the contract the poller and the dashboard read.
"""

from __future__ import annotations

import json
import os
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from datetime import UTC, tzinfo
from pathlib import Path
from typing import Any

from wincc_bridge.client import AckTag, ConnectionSettings, capabilities_of
from wincc_bridge.localtime import zone_named
from wincc_bridge.models import Capabilities
from wincc_ingest.triggers import Trigger, build_triggers

SCHEMA_PATH = Path(__file__).with_name("config.schema.json")


class ConfigError(Exception):
    """The configuration is broken; `problems` lists each with its JSON path."""

    def __init__(self, source: str, problems: list[str]) -> None:
        self.source = source
        self.problems = problems
        lines = "\n".join(f"  - {p}" for p in problems)
        super().__init__(f"configuration {source} has {len(problems)} problem(s):\n{lines}")


@dataclass(frozen=True)
class Limits:
    ll: float | None = None
    l: float | None = None  # noqa: E741 - the plant's own name for the low limit
    h: float | None = None
    hh: float | None = None


@dataclass(frozen=True)
class TagConfig:
    name: str
    label: str
    unit: str = ""
    limits: Limits = field(default_factory=Limits)
    # Display range of the limit band; derived from the limits when absent.
    range_min: float | None = None
    range_max: float | None = None
    writable: bool = False
    write_min: float | None = None
    write_max: float | None = None
    write_step: float | None = None
    decimals: int = 1

    @property
    def on_off(self) -> bool:
        """A writable tag without a write range takes on/off only (a switch, not a setpoint)."""
        return self.writable and self.write_min is None


@dataclass(frozen=True)
class ApiUser:
    username: str = ""
    password_env: str | None = None
    token_env: str | None = None

    def secret(self, environ: Mapping[str, str]) -> tuple[str, str]:
        """(password, token) read from the environment."""
        password = environ.get(self.password_env, "") if self.password_env else ""
        token = environ.get(self.token_env, "") if self.token_env else ""
        return password, token


@dataclass(frozen=True)
class RestConnector:
    """How a Classic site's REST Connector proves its pushes: an HMAC-SHA256 of the body in
    `signature_header` keyed with the secret in `signature_env`, or a Bearer token in
    `token_env`. Exactly one of the two (config_validation.py)."""

    signature_env: str | None = None
    signature_header: str = "X-Signature-256"
    token_env: str | None = None

    def secret(self, environ: Mapping[str, str]) -> str:
        """The secret from the environment; "" when unset (then nothing is accepted)."""
        name = self.signature_env or self.token_env
        return environ.get(name, "") if name else ""


@dataclass(frozen=True)
class SiteConfig:
    id: str
    name: str
    dialect: str
    url: str
    read_user: ApiUser
    write_user: ApiUser | None = None
    verify_tls: bool = True
    ca_file: str | None = None
    insecure: bool = False
    timeout: float = 2.0
    poll_interval: float = 1.0
    batch_size: int = 500
    alarm_filter: str | None = None
    ack_tags: Mapping[str, AckTag] = field(default_factory=dict)
    # Classic: the tag a connection check reads when the server refuses an empty request.
    ping_tag: str = ""
    # Classic: the tag logging archive trends read; empty: looked up per tag (docs/bridge.md).
    tag_archive: str = ""
    # Classic: the zone of the server's times without an offset (docs/configuration.md).
    timezone: tzinfo = UTC
    # Unified: the endpoint's path, and the object types a browse asks for.
    graphql_path: str = "/graphql"
    browse_object_types: tuple[str, ...] = ("TAG",)
    tags: tuple[TagConfig, ...] = ()
    queue: str | None = None  # Celery queue for scale-out; default queue when None
    # What the configuration turns off of what the dialect offers (never turns anything on).
    alarms: bool = True
    acknowledge: bool = True
    # False: the trend never asks the server's archive (tag logging not set up for these
    # tags); the dashboard's own store answers (docs/trend.md).
    archive: bool = True
    # A person types their password again before each write to a tag of this site.
    confirm_password_for_writes: bool = False
    # How values arrive (docs/configuration.md): "poll" (every poll_interval); "subscribe"
    # (Unified pushes them to the subscriber; polling takes over while no subscription is
    # live); "rest-connector" (a Classic server also posts its changes; polling goes on).
    ingest: str = "poll"
    rest_connector: RestConnector | None = None

    def tag(self, name: str) -> TagConfig | None:
        for tag in self.tags:
            if tag.name == name:
                return tag
        return None

    def capabilities(self) -> Capabilities:
        """What the site's server offers, from its dialect and configuration alone.

        Whether the server really publishes an alarm list is only known by asking it: the
        poller records that in the site's health (codec.SiteHealth.alarm_list).
        """
        return self.restrict(
            capabilities_of(
                ConnectionSettings(
                    dialect=self.dialect, url=self.url, alarm_filter=self.alarm_filter,
                    ack_tags=self.ack_tags, site=self.id,
                )
            )
        )

    def restrict(self, offered: Capabilities) -> Capabilities:
        """What the server `offered`, less what this site's configuration turns off."""
        if not self.archive:
            offered = replace(offered, history=False)
        if self.alarms and self.acknowledge:
            return offered
        off = (
            "This site's configuration reads no alarm list (alarms: false)"
            if not self.alarms
            else "This site's configuration turns acknowledging off (acknowledge: false)"
        )
        return replace(
            offered,
            active_alarms=offered.active_alarms and self.alarms,
            acknowledge=False,
            acknowledge_off=f"{off}. Acknowledge it in WinCC.",
        )

    def connection(self, *, write: bool = False, environ: Mapping[str, str] | None = None):
        """ConnectionSettings for the read-only user, or the read-write one when `write`."""
        env = os.environ if environ is None else environ
        user = self.write_user if write else self.read_user
        if user is None:
            from wincc_bridge.client import NotSupportedError

            raise NotSupportedError(
                f"site {self.id!r} has no read-write API user configured", server=self.url
            )
        password, token = user.secret(env)
        return ConnectionSettings(
            dialect=self.dialect,
            url=self.url,
            username=user.username,
            password=password,
            token=token,
            verify_tls=self.verify_tls and not self.insecure,
            ca_file=self.ca_file,
            insecure=self.insecure,
            timeout=self.timeout,
            batch_size=self.batch_size,
            alarm_filter=self.alarm_filter,
            ack_tags=self.ack_tags,
            site=self.id,
            ping_tag=self.ping_tag,
            tag_archive=self.tag_archive,
            timezone=self.timezone,
            graphql_path=self.graphql_path,
            browse_object_types=self.browse_object_types,
        )


@dataclass(frozen=True)
class PanelConfig:
    kind: str  # "tiles" | "trend" | "alarms" | "site_health"
    title: str = ""
    site: str | None = None
    tags: tuple[str, ...] = ()
    sites: tuple[str, ...] = ()
    minutes: int = 10


@dataclass(frozen=True)
class DashboardConfig:
    id: str
    title: str
    panels: tuple[PanelConfig, ...] = ()


@dataclass(frozen=True)
class Config:
    sites: tuple[SiteConfig, ...]
    dashboards: tuple[DashboardConfig, ...] = ()
    source: str = ""
    # Integrations: what to send to other systems when (docs/integrations.md).
    triggers: tuple[Trigger, ...] = ()

    def site(self, site_id: str) -> SiteConfig | None:
        for site in self.sites:
            if site.id == site_id:
                return site
        return None

    def known_site(self, site_id: str) -> SiteConfig:
        """A site the caller knows is configured (it came from this configuration)."""
        site = self.site(site_id)
        if site is None:
            raise KeyError(f"site {site_id!r} is not in the configuration")
        return site

    def dashboard(self, dashboard_id: str) -> DashboardConfig | None:
        for dashboard in self.dashboards:
            if dashboard.id == dashboard_id:
                return dashboard
        return None

    def shortest_poll_interval(self) -> float:
        """Seconds between polls of the most often polled site: the pace of liveness checks."""
        return min((site.poll_interval for site in self.sites), default=1.0)


def load(path: str | os.PathLike[str], *, environ: Mapping[str, str] | None = None) -> Config:
    """Read, validate and build the configuration; raise ConfigError listing every problem."""
    return load_bytes(read_bytes(path), str(path), environ=environ)


def read_bytes(path: str | os.PathLike[str]) -> bytes:
    """The file's content; ConfigError when it cannot be read."""
    try:
        return Path(path).read_bytes()
    except OSError as exc:
        raise ConfigError(str(path), [f"$: cannot read the file ({exc.strerror})"]) from None


def load_bytes(
    data: bytes, source: str, *, environ: Mapping[str, str] | None = None
) -> Config:
    """Validate and build the configuration from the content of the file `source` (whose
    folder relative paths count from)."""
    try:
        # utf-8-sig: editors on Windows often save UTF-8 with a byte order mark.
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise ConfigError(
            source, [f"$: not UTF-8 text (byte {exc.object[exc.start]:#04x} at offset {exc.start})"]
        ) from None
    return build(
        parse(text, source), source=source, environ=environ, base_dir=Path(source).resolve().parent
    )


def parse(text: str, source: str = "<memory>") -> Any:
    """The JSON document in `text`, refusing what json.loads would silently accept or drop."""
    repeated: list[str] = []

    def pairs(items: list[tuple[str, Any]]) -> dict[str, Any]:
        seen: dict[str, Any] = {}
        for key, value in items:
            if key in seen:
                repeated.append(key)
            seen[key] = value
        return seen

    def constant(name: str) -> Any:
        raise ValueError(f"{name} is not a JSON number")

    try:
        data = json.loads(text, object_pairs_hook=pairs, parse_constant=constant)
    except json.JSONDecodeError as exc:
        raise ConfigError(
            source, [f"$: not valid JSON at line {exc.lineno}, column {exc.colno}: {exc.msg}"]
        ) from None
    except ValueError as exc:
        raise ConfigError(source, [f"$: not valid JSON: {exc}"]) from None
    if repeated:
        raise ConfigError(
            source,
            [
                f"$: the key {key!r} appears twice in one object; JSON would keep only the last"
                for key in dict.fromkeys(repeated)
            ],
        )
    return data


def build(
    data: Any,
    *,
    source: str = "<memory>",
    environ: Mapping[str, str] | None = None,
    base_dir: Path | None = None,
) -> Config:
    from wincc_ingest.config_validation import validate

    env = os.environ if environ is None else environ
    base = base_dir or Path.cwd()
    problems = validate(data, env, base_dir=base)
    if problems:
        raise ConfigError(source, problems)
    return _build(data, source, base)


def _user(data: Mapping[str, Any]) -> ApiUser:
    return ApiUser(
        username=data.get("username", ""),
        password_env=data.get("password_env"),
        token_env=data.get("token_env"),
    )


def _rest_connector(data: Mapping[str, Any] | None) -> RestConnector | None:
    if data is None:
        return None
    return RestConnector(
        signature_env=data.get("signature_env"),
        signature_header=data.get("signature_header", "X-Signature-256"),
        token_env=data.get("token_env"),
    )


def _tag(data: Mapping[str, Any]) -> TagConfig:
    limits = data.get("limits", {})
    display = data.get("range", {})
    write = data.get("write", {})
    return TagConfig(
        name=data["name"],
        label=data.get("label", data["name"]),
        unit=data.get("unit", ""),
        limits=Limits(**{k: limits.get(k) for k in ("ll", "l", "h", "hh")}),
        range_min=display.get("min"),
        range_max=display.get("max"),
        writable=bool(data.get("writable", False)),
        write_min=write.get("min"),
        write_max=write.get("max"),
        write_step=write.get("step"),
        decimals=data.get("decimals", 1),
    )


def _site_address(raw: Mapping[str, Any]) -> tuple[str, str]:
    """(url, graphql_path): a URL written with the dialect's own path loses it; a Unified
    URL's path becomes the endpoint's path."""
    from wincc_ingest.config_validation import dialect_path, url_path

    url = raw["url"]
    graphql_path = raw.get("graphql_path", "/graphql")
    own = dialect_path(raw, raw["dialect"]) if url_path(url) else None
    if own is None:
        return url.rstrip("/"), graphql_path
    origin = url.rstrip("/")[: len(url.rstrip("/")) - len(own.rstrip("/"))]
    return origin, own if raw["dialect"] == "unified" else graphql_path


def _build(data: Mapping[str, Any], source: str, base_dir: Path) -> Config:
    sites = []
    for raw in data["sites"]:
        url, graphql_path = _site_address(raw)
        tls = raw.get("tls", {})
        ca_file = tls.get("ca_file")
        if ca_file and not os.path.isabs(ca_file):
            ca_file = os.path.normpath(base_dir / ca_file)
        sites.append(
            SiteConfig(
                id=raw["id"],
                name=raw.get("name", raw["id"]),
                dialect=raw["dialect"],
                url=url,
                read_user=_user(raw["read_user"]),
                write_user=_user(raw["write_user"]) if raw.get("write_user") else None,
                verify_tls=tls.get("verify", True),
                ca_file=ca_file,
                insecure=tls.get("insecure", False),
                timeout=raw.get("timeout", 2.0),
                poll_interval=raw.get("poll_interval", 1.0),
                batch_size=raw.get("batch_size", 500),
                alarm_filter=raw.get("alarm_filter"),
                ping_tag=raw.get("ping_tag", ""),
                tag_archive=raw.get("tag_archive", ""),
                timezone=zone_named(raw["timezone"]) if "timezone" in raw else UTC,
                graphql_path=graphql_path,
                browse_object_types=tuple(raw.get("browse_object_types", ("TAG",))),
                ack_tags={
                    name: AckTag(tag=v["tag"], value=v.get("value", 1))
                    for name, v in raw.get("ack_tags", {}).items()
                },
                tags=tuple(_tag(t) for t in raw.get("tags", [])),
                queue=raw.get("queue"),
                alarms=raw.get("alarms", True),
                acknowledge=raw.get("acknowledge", True),
                archive=raw.get("archive", True),
                confirm_password_for_writes=raw.get("confirm_password_for_writes", False),
                ingest=raw.get("ingest", "poll"),
                rest_connector=_rest_connector(raw.get("rest_connector")),
            )
        )
    dashboards = tuple(
        DashboardConfig(
            id=d["id"],
            title=d.get("title", d["id"]),
            panels=tuple(
                PanelConfig(
                    kind=p["kind"],
                    title=p.get("title", ""),
                    site=p.get("site"),
                    tags=tuple(p.get("tags", [])),
                    sites=tuple(p.get("sites", [])),
                    minutes=p.get("minutes", 10),
                )
                for p in d.get("panels", [])
            ),
        )
        for d in data.get("dashboards", [])
    )
    tag_limits = {(site.id, tag.name): tag.limits for site in sites for tag in site.tags}
    triggers = build_triggers(data.get("triggers", []), tag_limits, base_dir)
    return Config(sites=tuple(sites), dashboards=dashboards, source=source, triggers=triggers)
