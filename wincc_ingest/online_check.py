"""The online check of a site: what only its server can tell (`manage.py wincc_check`).

The configuration's validator works offline; this asks each site's server, with the site's
READ-ONLY user, whether it is reachable, whether its certificate is the one pinned, whether
the login works, whether it speaks the configured dialect, whether every configured tag
exists, and what it offers (alarms, acknowledge, browse). It only reads: nothing is written
and nothing acknowledged, and the read-write user is never used.

Plain Python without Django, so the management command and the admin page stay thin. The
sentences are the bridge's own (its error classes carry them); none repeats a secret.
"""

from __future__ import annotations

import dataclasses
import logging
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from wincc_bridge.client import (
    AuthError,
    ConnectError,
    NotSupportedError,
    TLSError,
    WinCCClient,
    WinCCError,
    open_client,
)
from wincc_bridge.models import TagValue
from wincc_bridge.probe import dialects_spoken, wrong_dialect
from wincc_bridge.transport import PermissionRefused, ca_file_problem, shown_url
from wincc_ingest.config import Config, SiteConfig

logger = logging.getLogger("wincc_ingest.online_check")

OK, PROBLEM, INFO = "ok", "problem", "info"
# Up to this many tags are browsed by name for their data types; more, by one browse of all.
BROWSE_BY_NAME = 20
# A browse pattern that matches nothing: proves the browser answers without listing a plant.
NO_SUCH_TAG = "WinCC_Bridge_Check_No_Such_Tag"
_MARKS = {OK: "ok", PROBLEM: "PROBLEM", INFO: "info"}


@dataclass(frozen=True)
class Finding:
    """One thing found about a site: `status` ok, problem (counts against the exit code),
    or info (not offered, or not tried because the check writes nothing)."""

    check: str  # reachable, tls, login, dialect, tag, ack_tag, alarms, acknowledge, ...
    status: str
    text: str
    subject: str = ""  # the tag or alarm the finding is about
    data: Mapping[str, Any] = field(default_factory=dict)

    def line(self) -> str:
        return f"{_MARKS[self.status]:<7} {self.check:<11} {self.text}"

    def to_json(self) -> dict[str, Any]:
        found = {"check": self.check, "status": self.status, "text": self.text}
        if self.subject:
            found["subject"] = self.subject
        return {**found, **self.data}


@dataclass(frozen=True)
class SiteReport:
    site: str
    name: str
    dialect: str
    server: str
    findings: tuple[Finding, ...]

    @property
    def problems(self) -> list[Finding]:
        return [f for f in self.findings if f.status == PROBLEM]

    @property
    def ok(self) -> bool:
        return not self.problems

    def summary(self) -> str:
        if self.ok:
            return f"all good ({len(self.findings)} findings)"
        named = "; ".join(
            f"{f.check} {f.subject}".strip() for f in self.problems[:5]
        ) + ("; ..." if len(self.problems) > 5 else "")
        return f"{len(self.problems)} problem(s): {named}"

    def lines(self) -> list[str]:
        head = f"site {self.site} ({self.dialect}, {self.server})"
        return [head, *(f"  {f.line()}" for f in self.findings), f"  summary: {self.summary()}"]

    def to_json(self) -> dict[str, Any]:
        return {
            "site": self.site,
            "name": self.name,
            "dialect": self.dialect,
            "server": self.server,
            "ok": self.ok,
            "summary": self.summary(),
            "findings": [f.to_json() for f in self.findings],
        }


def check_sites(
    config: Config, site_ids: Iterable[str] = (), environ: Mapping[str, str] | None = None
) -> list[SiteReport]:
    """A report per site (the named ones, or all), in configuration order."""
    wanted = set(site_ids)
    return [
        check_site(site, environ) for site in config.sites if not wanted or site.id in wanted
    ]


def check_site(site: SiteConfig, environ: Mapping[str, str] | None = None) -> SiteReport:
    """Ask the site's server what it offers; never raises for what the server does."""
    findings: list[Finding] = []
    try:
        _Check(site, environ, findings.append).run()
    except Exception as exc:  # a report, not a crash, whatever happens
        # Only the class: an unexpected error's text could hold anything.
        logger.exception("site %s: the online check failed", site.id)
        findings.append(
            Finding("check", PROBLEM, f"the check stopped on an unexpected {type(exc).__name__}")
        )
    return SiteReport(
        site.id, site.name, site.dialect, shown_url(site.url), tuple(findings)
    )


def exit_code(reports: Sequence[SiteReport]) -> int:
    """0 when every site is as configured, 1 when anything configured is missing."""
    return 0 if all(report.ok for report in reports) else 1


class _Check:
    def __init__(
        self,
        site: SiteConfig,
        environ: Mapping[str, str] | None,
        add: Callable[[Finding], None],
    ) -> None:
        self.site = site
        # No retries: the check reports what the server does on the first asking.
        self.settings = dataclasses.replace(
            site.connection(environ=environ), read_retries=0
        )
        self.add = add
        self.server = shown_url(site.url)

    def run(self) -> None:
        if not self._certificate_file():
            return
        with open_client(self.settings) as client:
            ping_ms = self._connect(client)
            if ping_ms is None:
                return
            read_ms = self._tags(client)
            self._alarms(client)
            self._acknowledge()
            self._history()
            timing = f"{ping_ms:.0f} ms for the connection check"
            if read_ms is not None:
                timing += f", {read_ms:.0f} ms to read the {len(self.site.tags)} tag(s)"
            self.add(Finding("round_trip", OK, timing, data={"ms": round(ping_ms, 1)}))

    # -- before connecting

    def _certificate_file(self) -> bool:
        """The pinned certificate checked on this machine; False when it cannot be used."""
        if not self.site.url.lower().startswith("https:") or not self.site.ca_file:
            return True
        problem = ca_file_problem(self.site.ca_file)
        if problem is None:
            return True
        self.add(Finding("tls", PROBLEM, f"{problem}; the server was not contacted"))
        return False

    # -- connecting, TLS, login, dialect

    def _connect(self, client: WinCCClient) -> float | None:
        """The connection check's milliseconds; None when nothing more can be checked."""
        started = time.perf_counter()
        try:
            client.ping()
        except TLSError as exc:
            self.add(Finding("reachable", OK, f"{self.server} accepts connections"))
            self.add(Finding("tls", PROBLEM, str(exc)))
            return None
        except ConnectError as exc:
            self.add(Finding("reachable", PROBLEM, f"not reachable: {exc}"))
            return None
        except PermissionRefused as exc:
            self._answered()
            self.add(Finding("login", PROBLEM, f"the login works, but {exc}"))
            return None
        except AuthError as exc:
            self._answered()
            said = str(exc)
            # The bridge's sentence usually says it already; the finding always begins so.
            text = said if said.startswith("login refused") else f"login refused: {said}"
            self.add(Finding("login", PROBLEM, text))
            return None
        except WinCCError as exc:
            self._answered()
            self._wrong_dialect(exc)
            return None
        elapsed = (time.perf_counter() - started) * 1000
        self._answered(elapsed)
        user = self.site.read_user
        # REST v1 sends only its token, whatever user name the file gives.
        token_only = self.site.dialect == "rest-v1" or not user.username
        who = "the token" if token_only else f"user {user.username}"
        self.add(Finding("login", OK, f"{who} (the read-only user) is accepted"))
        self.add(Finding("dialect", OK, f"the server answers as {self.site.dialect}"))
        return elapsed

    def _answered(self, elapsed: float | None = None) -> None:
        timing = f" ({elapsed:.0f} ms)" if elapsed is not None else ""
        self.add(Finding("reachable", OK, f"{self.server} answers{timing}"))
        if not self.site.url.lower().startswith("https:"):
            self.add(Finding("tls", INFO, "plain http: no TLS, the secrets cross unencrypted"))
        elif self.site.insecure:
            self.add(Finding("tls", INFO, "certificate not checked (tls.insecure)"))
        elif self.site.ca_file:
            self.add(Finding("tls", OK, f"certificate as pinned in {self.site.ca_file}"))
        else:
            self.add(Finding("tls", OK, "certificate trusted by this machine's trust store"))

    def _wrong_dialect(self, exc: WinCCError) -> None:
        configured = self.site.dialect
        # A Unified site with its own graphql_path may speak Unified at the usual one.
        own_path = configured == "unified" and self.site.graphql_path != "/graphql"
        try:
            spoken = dialects_spoken(self.settings, skip="" if own_path else configured)
        except ConnectError:
            spoken = []
        if configured in spoken:
            self.add(
                Finding(
                    "dialect",
                    PROBLEM,
                    f"this server speaks unified at /graphql, not at the configured "
                    f"graphql_path {self.site.graphql_path}",
                    data={"spoken": spoken},
                )
            )
        elif spoken:
            self.add(
                Finding(
                    "dialect",
                    PROBLEM,
                    wrong_dialect(spoken, configured),
                    data={"spoken": spoken},
                )
            )
        else:
            self.add(
                Finding(
                    "dialect",
                    PROBLEM,
                    f"the server does not answer as {configured}, nor as another WinCC "
                    f"dialect: {exc}",
                )
            )

    # -- tags

    def _tags(self, client: WinCCClient) -> float | None:
        """Every configured tag read once; the milliseconds of the read, None without tags."""
        names = [tag.name for tag in self.site.tags]
        elapsed = None
        if not names:
            self.add(Finding("tags", INFO, "no tags configured"))
        else:
            started = time.perf_counter()
            values = self._read(client, names, "tags")
            elapsed = (time.perf_counter() - started) * 1000
            if values is not None:
                types = self._data_types(client, [v.name for v in values if v.error is None])
                for value in values:
                    self._tag_finding("tag", value, types.get(value.name, ""))
        self._classic_tags(client)
        return elapsed

    def _classic_tags(self, client: WinCCClient) -> None:
        """Classic's acknowledge tags and ping tag: configured, so they must exist too."""
        ack_tags = {ack.tag: alarm for alarm, ack in self.site.ack_tags.items()}
        values = self._read(client, list(ack_tags), "ack_tag") if ack_tags else None
        if values:
            missing = [value for value in values if value.error is not None]
            for value in missing:
                self._tag_finding(
                    "ack_tag", value, "", f"; it acknowledges alarm {ack_tags[value.name]}"
                )
            if len(missing) < len(values):
                # One line for the many that exist: a project may map hundreds of alarms.
                self.add(
                    Finding("ack_tag", OK, f"{len(values) - len(missing)} acknowledge tag(s) exist")
                )
        if self.site.ping_tag:
            for value in self._read(client, [self.site.ping_tag], "ping_tag") or ():
                self._tag_finding("ping_tag", value, "")

    def _read(self, client: WinCCClient, names: list[str], check: str) -> list[TagValue] | None:
        try:
            return client.read_tags(names)
        except WinCCError as exc:
            what = check.replace("_", " ")
            self.add(Finding(check, PROBLEM, f"reading the {what}s failed: {exc}"))
            return None

    def _tag_finding(self, check: str, value: TagValue, data_type: str, note: str = "") -> None:
        if value.error is not None:
            self.add(
                Finding(
                    check,
                    PROBLEM,
                    f"{value.name}: missing or not readable on the server ({value.error}){note}",
                    subject=value.name,
                )
            )
            return
        typed = f", data type {data_type}" if data_type else ""
        self.add(
            Finding(
                check,
                OK,
                f"{value.name} exists{typed}, quality {value.quality.value}{note}",
                subject=value.name,
                data={"data_type": data_type} if data_type else {},
            )
        )

    def _data_types(self, client: WinCCClient, names: list[str]) -> dict[str, str]:
        """Each tag's data type from the tag browser; also the browse finding.

        A few tags are browsed by their exact names; many, by one browse of everything,
        rather than a request per tag.
        """
        if not self.site.capabilities().browse:
            self.add(Finding("browse", INFO, "not offered by this dialect"))
            return {}
        # Classic names ignore case; Unified may answer `System::Tag`.
        wanted = {name.lower(): name for name in names}
        patterns = names if len(names) <= BROWSE_BY_NAME else ["*"]
        types: dict[str, str] = {}
        try:
            for pattern in patterns or [NO_SUCH_TAG]:
                for item in client.browse(pattern):
                    found = item.name.lower()
                    name = wanted.get(found) or wanted.get(found.split("::", 1)[-1])
                    if name is not None and item.data_type:
                        types.setdefault(name, item.data_type)
        except NotSupportedError as exc:
            self.add(Finding("browse", INFO, f"not offered by this server: {exc}"))
            return types
        except WinCCError as exc:
            # The product does not need browsing; a failure is worth knowing, not a fault.
            self.add(Finding("browse", INFO, f"browsing failed: {exc}"))
            return types
        self.add(Finding("browse", OK, "the tag browser answers"))
        return types

    # -- what the server offers

    def _alarms(self, client: WinCCClient) -> None:
        if not self.site.capabilities().active_alarms:
            why = (
                "Classic lists alarms only through a REST filter named in alarm_filter"
                if self.site.dialect == "classic"
                else "not offered for this site"
            )
            self.add(Finding("alarms", INFO, f"alarm list not read: {why}"))
            return
        try:
            active = client.active_alarms()
        except NotSupportedError as exc:
            if self.site.dialect == "classic":
                # The alarm_filter is configured: a misspelt one looks the same to the server.
                self.add(Finding("alarms", PROBLEM, f"the alarm list cannot be read: {exc}"))
            else:
                # The dashboard works without one (docs/configuration.md, "What a site offers").
                self.add(Finding(
                    "alarms", INFO, f"no alarm list ({exc}): the site shows its tags, no alarms "
                    "(\"alarms\": false in the configuration says so and skips asking)"))
            return
        except WinCCError as exc:
            self.add(Finding("alarms", PROBLEM, f"the alarm list cannot be read: {exc}"))
            return
        self.add(
            Finding(
                "alarms",
                OK,
                f"the alarm list is readable ({len(active)} active now)",
                data={"active": len(active)},
            )
        )

    def _acknowledge(self) -> None:
        capabilities = self.site.capabilities()
        if not capabilities.acknowledge:
            why = (
                "Classic acknowledges only by writing a tag named in ack_tags"
                if self.site.dialect == "classic"
                else "this server offers no acknowledge call"
            )
            self.add(Finding("acknowledge", INFO, f"not offered: {why}"))
            return
        how = (
            f"by writing the acknowledge tags of {len(self.site.ack_tags)} alarm(s)"
            if capabilities.acknowledge_only is not None
            else "by the dialect's acknowledge call"
        )
        if self.site.write_user is None:
            self.add(
                Finding(
                    "acknowledge",
                    INFO,
                    f"possible {how}, but no write_user is configured: the site is read-only",
                )
            )
            return
        self.add(
            Finding(
                "acknowledge",
                INFO,
                f"possible {how} with the write_user; not tried (this check acknowledges "
                "nothing and does not use the read-write user)",
            )
        )

    def _history(self) -> None:
        self.add(
            Finding(
                "history",
                INFO,
                "not read from WinCC: trends show the samples this product records",
            )
        )
