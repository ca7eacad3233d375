"""`wincc-bridge`: test a connection to a WinCC server before configuring a site.

Prints one JSON object per line on stdout; errors go to stderr as one sentence.
Exit codes: 0 all good, 1 some items failed, 2 usage, 3 authentication or permission
refused, 4 connection, TLS or timeout, 5 protocol error, 6 not supported by this dialect or
this server (a server without an alarm list, for one).
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import sys
import time
from collections.abc import Callable, Mapping, Sequence
from datetime import UTC, datetime, timedelta, tzinfo
from typing import Any, NoReturn
from urllib.parse import urlsplit

from wincc_bridge import selftest
from wincc_bridge.client import (
    AckTag,
    AuthError,
    ConnectError,
    ConnectionSettings,
    NotSupportedError,
    WinCCClient,
    WinCCError,
    open_client,
)
from wincc_bridge.localtime import zone_named
from wincc_bridge.models import Alarm, TagHistory
from wincc_bridge.secrets import VARIABLE_NAME
from wincc_bridge.transport import shown_url

OK, ITEMS_FAILED, USAGE, AUTH, CONNECTION, PROTOCOL, NOT_SUPPORTED = range(7)
DEFAULT_ALARM_FILTER = "ActiveAlarms"
# Writes one JSON line of the output.
Output = Callable[[dict[str, Any]], None]

ALARM_FIELDS = (
    "name",
    "instance_id",
    "state",
    "priority",
    "alarm_class",
    "event_text",
    "info_text",
    "area",
    "raise_time",
    "ack_time",
    "clear_time",
)


class _Parser(argparse.ArgumentParser):
    """argparse that reports a usage error as one line and exit code 2."""

    def error(self, message: str) -> NoReturn:
        self.exit(USAGE, f"{self.prog}: {message} (see {self.prog} --help)\n")


def _build_parser() -> argparse.ArgumentParser:
    # The commands' own class, as add_parser(parents=) is typed; it only lends its options.
    connection = _Parser(add_help=False)
    _connection_options(connection, argparse.SUPPRESS)
    parser = _Parser(
        prog="wincc-bridge",
        description="Test a connection to a WinCC server before configuring a site.",
        epilog="Exit codes: 0 all good, 1 some items failed, 2 usage, 3 login or permission "
        "refused, 4 connection/TLS/timeout, 5 protocol error, 6 not supported by this dialect "
        "or this server (e.g. no alarm list).",
    )
    _connection_options(parser, None)
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    add = _command_adder(commands, connection)
    add("ping", "prove the server answers and accepts the credentials")
    read = add("read", "read tag values")
    read.add_argument("tags", nargs="+", metavar="TAG")
    browse = add("browse", "list tags whose names match a pattern (* and ?)")
    browse.add_argument("pattern", nargs="?", default="*", metavar="PATTERN")
    add("alarms", "list active alarms")
    ack = add("ack", "acknowledge an alarm")
    ack.add_argument("name", metavar="NAME")
    ack.add_argument(
        "--instance",
        type=int,
        default=0,
        metavar="N",
        help="instance id from `alarms` (default 0: every active instance)",
    )
    ack.add_argument(
        "--ack-tag",
        type=_ack_tag,
        metavar="TAG[=VALUE]",
        help="classic: the tag whose write acknowledges NAME, and the value (default 1)",
    )
    history = add("history", "read tags' archived values (tag logging, logged tag values)")
    history.add_argument("tags", nargs="+", metavar="TAG")
    history.add_argument(
        "--start",
        type=_when,
        default=None,
        metavar="TIME",
        help="ISO-8601, e.g. 2026-01-01T10:00:00Z; no zone means UTC (default: an hour "
        "before --end)",
    )
    history.add_argument(
        "--end", type=_when, default=None, metavar="TIME", help="ISO-8601 (default: now)"
    )
    history.add_argument(
        "--max",
        dest="max_points",
        type=_count,
        default=1000,
        metavar="N",
        help="at most N values per tag (default 1000)",
    )
    watch = add("watch", "unified: print each change the server pushes, until Ctrl-C")
    watch.add_argument("tags", nargs="+", metavar="TAG")
    watch.add_argument(
        "--alarms", action="store_true", help="also print the active alarms' changes"
    )
    watch.add_argument(
        "--seconds",
        type=_seconds,
        default=None,
        metavar="SECONDS",
        help="stop after SECONDS (default: run until Ctrl-C)",
    )
    write = add("write", "write tag values")
    write.add_argument("assignments", nargs="+", type=_assignment, metavar="TAG=VALUE")
    selftest = add(
        "selftest",
        "run every read operation and print a report to send back (writes nothing, "
        "acknowledges nothing)",
    )
    selftest.add_argument(
        "--tag",
        dest="tags",
        action="append",
        default=[],
        metavar="TAG",
        help="a tag to read (repeatable; default: the first tags browse finds)",
    )
    selftest.add_argument(
        "--pattern", default="*", help="the browse pattern (default *)", metavar="PATTERN"
    )
    return parser


def _connection_options(parser: argparse.ArgumentParser, default: str | None) -> None:
    """The options before COMMAND; also accepted after it (then `default` is SUPPRESS)."""

    def given(value: Any) -> Any:
        return default if default is argparse.SUPPRESS else value

    parser.add_argument("--dialect", choices=("classic", "unified", "rest-v1"), default=given(None))
    parser.add_argument("--url", default=given(None), help="scheme, host and port of the server")
    parser.add_argument("--user", default=given(None), help="default: $WINCC_USER")
    parser.add_argument(
        "--password-env",
        default=given("WINCC_PASSWORD"),
        metavar="VAR",
        help="variable holding the password (default WINCC_PASSWORD)",
    )
    parser.add_argument(
        "--token-env",
        default=given("WINCC_TOKEN"),
        metavar="VAR",
        help="variable holding the token (default WINCC_TOKEN)",
    )
    tls = parser.add_mutually_exclusive_group()
    tls.add_argument(
        "--ca-file", default=given(None), metavar="PATH", help="pin the server's certificate"
    )
    tls.add_argument(
        "--insecure",
        action="store_true",
        default=given(False),
        help="do not check the certificate (logs a warning)",
    )
    parser.add_argument(
        "--timeout", type=_seconds, default=given(5.0), metavar="SECONDS", help="default 5"
    )
    parser.add_argument(
        "--graphql-path",
        default=given("/graphql"),
        metavar="PATH",
        help="unified: the GraphQL endpoint's path (default /graphql; some servers use /graphql/)",
    )
    parser.add_argument(
        "--object-type",
        dest="object_types",
        action="append",
        default=given(None),
        metavar="TYPE",
        help="unified: an object type browse asks for (repeatable; default TAG)",
    )
    parser.add_argument(
        "--ping-tag",
        default=given(""),
        metavar="TAG",
        help="classic: the tag ping reads when the server refuses an empty request",
    )
    parser.add_argument(
        "--archive",
        default=given(""),
        metavar="NAME",
        help="classic: the tag logging archive history reads (default: looked up per tag)",
    )
    parser.add_argument(
        "--alarm-filter",
        default=given(None),
        metavar="NAME",
        help="classic: the REST filter listing active alarms "
        f"(default $WINCC_ALARM_FILTER or {DEFAULT_ALARM_FILTER})",
    )
    parser.add_argument(
        "--timezone",
        type=_zone,
        default=given(UTC),
        metavar="ZONE",
        help="classic: the IANA zone (e.g. Europe/Berlin) of the times the server sends "
        "without an offset (default UTC); the output is UTC either way",
    )


def _command_adder(
    commands: argparse._SubParsersAction[_Parser], connection: _Parser
) -> Callable[[str, str], argparse.ArgumentParser]:
    def add(name: str, help_text: str) -> argparse.ArgumentParser:
        return commands.add_parser(name, help=help_text, parents=[connection])

    return add


def _seconds(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a number of seconds") from None
    if not value > 0 or value == float("inf"):
        raise argparse.ArgumentTypeError(f"the timeout must be above 0 seconds, not {text}")
    return value


def _when(text: str) -> datetime:
    try:
        stamp = datetime.fromisoformat(text.strip().replace("Z", "+00:00"))
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"{text!r} is not an ISO-8601 time, e.g. 2026-01-01T10:00:00Z"
        ) from None
    return stamp.replace(tzinfo=UTC) if stamp.tzinfo is None else stamp.astimezone(UTC)


def _zone(text: str) -> tzinfo:
    try:
        return zone_named(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def _count(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a whole number") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"--max must be at least 1, not {text}")
    return value


def _value(text: str) -> Any:
    """A JSON scalar (true, 12.5, "text", null) or, failing that, the text itself."""
    try:
        value = json.loads(text)
    except ValueError:
        return text
    return value if not isinstance(value, dict | list) else text


def _assignment(text: str) -> tuple[str, Any]:
    name, sep, value = text.partition("=")
    if not sep or not name:
        raise argparse.ArgumentTypeError(f"{text!r} is not TAG=VALUE")
    return name, _value(value)


def _ack_tag(text: str) -> AckTag:
    name, sep, value = text.partition("=")
    if not name:
        raise argparse.ArgumentTypeError(f"{text!r} is not TAG or TAG=VALUE")
    return AckTag(tag=name, value=_value(value) if sep else 1)


def _settings(args: argparse.Namespace, environ: Mapping[str, str]) -> ConnectionSettings:
    ack_tag = getattr(args, "ack_tag", None)
    return ConnectionSettings(
        dialect=args.dialect,
        url=args.url.rstrip("/"),
        username=args.user if args.user is not None else environ.get("WINCC_USER", ""),
        password=environ.get(args.password_env, ""),
        token=environ.get(args.token_env, ""),
        verify_tls=not args.insecure,
        ca_file=args.ca_file,
        insecure=args.insecure,
        timeout=args.timeout,
        alarm_filter=args.alarm_filter or environ.get("WINCC_ALARM_FILTER") or DEFAULT_ALARM_FILTER,
        ack_tags={args.name: ack_tag} if ack_tag else {},
        graphql_path=args.graphql_path,
        browse_object_types=tuple(args.object_types or ("TAG",)),
        ping_tag=args.ping_tag,
        tag_archive=args.archive,
        timezone=args.timezone,
    )


def _command(client: WinCCClient, args: argparse.Namespace, out: Output) -> int:
    """Carry out the command; the exit code for per-item outcomes (errors raise)."""
    if args.command == "ping":
        client.ping()
        out({"ok": True, "server": shown_url(client.settings.url), "dialect": client.dialect})
        return OK
    if args.command == "read":
        values = client.read_tags(args.tags)
        for value in values:
            out({**value.to_json(), "timestamp": _time(value.timestamp)})
        return ITEMS_FAILED if any(v.error is not None for v in values) else OK
    if args.command == "browse":
        for item in client.browse(args.pattern):
            out(
                {
                    "name": item.name,
                    "display_name": item.display_name,
                    "object_type": item.object_type,
                    "data_type": item.data_type,
                }
            )
        return OK
    if args.command == "alarms":
        for alarm in client.active_alarms():
            out(_alarm_line(alarm))
        return OK
    if args.command == "history":
        histories = client.history(args.tags, args.start, args.end, args.max_points)
        for history in histories:
            out(_history_line(history))
        return ITEMS_FAILED if any(h.error is not None for h in histories) else OK
    if args.command == "watch":
        return _watch(client, args, out)
    if args.command == "selftest":
        return OK if selftest.run(client, args.tags, args.pattern, out) else ITEMS_FAILED
    if args.command == "ack":
        results = client.acknowledge([(args.name, args.instance)])
    else:
        results = client.write_tags(dict(args.assignments))
    for result in results:
        out(result.to_json())
    return ITEMS_FAILED if not results or any(not r.ok for r in results) else OK


def _watch(client: WinCCClient, args: argparse.Namespace, out: Output) -> int:
    """One line per pushed change ("change": tag, alarm or alarm gone), until the time is
    up or Ctrl-C; a lost connection is an error like any other."""
    end = None if args.seconds is None else time.monotonic() + args.seconds
    subscription = client.subscribe(args.tags, alarms=args.alarms)
    try:
        subscription.open()
        while end is None or (left := end - time.monotonic()) > 0:
            notification = subscription.receive(1.0 if end is None else min(left, 1.0))
            if notification is None:
                continue
            for value in notification.tags:
                out({"change": "tag", **value.to_json(), "timestamp": _time(value.timestamp)})
            for alarm in notification.alarms:
                out({"change": "alarm", **_alarm_line(alarm)})
            for key in notification.gone:
                name, _, instance = key.rpartition("|")
                out({"change": "alarm gone", "name": name, "instance_id": int(instance)})
            sys.stdout.flush()
    except KeyboardInterrupt:
        pass
    finally:
        subscription.close()
    return OK


def _alarm_line(alarm: Alarm) -> dict[str, Any]:
    data = alarm.to_json()
    for key in ("raise_time", "ack_time", "clear_time"):
        data[key] = _time(getattr(alarm, key))
    return {key: data[key] for key in ALARM_FIELDS}


def _history_line(history: TagHistory) -> dict[str, Any]:
    return {
        "name": history.name,
        "error": history.error,
        "truncated": history.truncated,
        "points": [
            {
                "timestamp": _time(point.timestamp),
                "value": point.value,
                "quality": point.quality.value,
                "bounding": point.bounding,
            }
            for point in history.points
        ],
    }


def _time(stamp: datetime | None) -> str | None:
    """UTC with milliseconds and Z, as WinCC writes times; microseconds only if present."""
    if stamp is None:
        return None
    precision = "milliseconds" if stamp.microsecond % 1000 == 0 else "microseconds"
    return stamp.astimezone(UTC).replace(tzinfo=None).isoformat(timespec=precision) + "Z"


def _exit_code(exc: WinCCError) -> int:
    if isinstance(exc, AuthError):
        return AUTH
    if isinstance(exc, ConnectError):
        return CONNECTION
    if isinstance(exc, NotSupportedError):
        return NOT_SUPPORTED
    # ProtocolError, and any other server answer the bridge cannot use.
    return PROTOCOL


def main(argv: Sequence[str] | None = None, environ: Mapping[str, str] | None = None) -> int:
    environ = os.environ if environ is None else environ
    parser = _build_parser()
    args = parser.parse_args(argv)
    for option in ("dialect", "url"):
        if getattr(args, option) is None:
            parser.error(f"--{option} is required")
    # These sentences never repeat --url or a *-env value: either may hold the secret itself.
    if not args.url.lower().startswith(("http://", "https://")):
        parser.error("--url needs a scheme, e.g. https://host:34568")
    url = urlsplit(args.url)
    if "@" in url.netloc:
        parser.error(
            "--url must not hold a user name or password; use --user and --password-env"
        )
    if url.query or url.fragment or args.url.endswith(("?", "#")):
        parser.error("--url must not have a query or fragment; a token goes in --token-env")
    for option in ("password_env", "token_env"):
        if not VARIABLE_NAME.fullmatch(getattr(args, option)):
            flag = "--" + option.replace("_", "-")
            parser.error(f"{flag} must name an environment variable (letters, digits, underscore)")
    if args.command == "history":
        args.end = args.end or datetime.now(UTC)
        args.start = args.start or args.end - timedelta(hours=1)
        if args.start > args.end:
            parser.error("--start is after --end")
    if args.ca_file and not os.path.isfile(args.ca_file):
        parser.error(f"the certificate file {args.ca_file} does not exist")
    # Warnings (an insecure connection) go to stderr beside the errors, one line each.
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(logging.Formatter("wincc-bridge: %(levelname)s: %(message)s"))
    # The selftest records debug lines for its report; they are not for the terminal.
    handler.setLevel(logging.WARNING)
    bridge_logger = logging.getLogger("wincc_bridge")
    bridge_logger.addHandler(handler)
    try:
        return _run(args, environ)
    finally:
        bridge_logger.removeHandler(handler)


def _run(args: argparse.Namespace, environ: Mapping[str, str]) -> int:
    def out(data: dict[str, Any]) -> None:
        # ASCII with \u escapes: the same JSON whatever encoding the terminal uses.
        sys.stdout.write(json.dumps(data, default=str) + "\n")

    try:
        with open_client(_settings(args, environ)) as client:
            code = _command(client, args, out)
    except WinCCError as exc:
        sys.stdout.flush()
        sentence = " ".join(str(exc).split())  # one line, even with a server's words in it
        sys.stderr.write(f"wincc-bridge: {sentence}\n")
        return _exit_code(exc)
    sys.stdout.flush()
    return code
