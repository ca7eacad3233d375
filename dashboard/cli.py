"""`wdash`: run a real installation from the command line (docs/install.md).

    wdash check       --env-file /etc/wincc-dashboard/env   the settings and the configuration
    wdash createadmin --env-file ... --username anna --password-env ADMIN_PASSWORD
    wdash serve       --env-file ... [--bind 127.0.0.1:8000]  web, worker, beat, subscriber

Every subcommand reads the environment file, then the process environment, which wins
(dashboard/environment.py, which also checks what they hold). Nothing of the demo runs here:
no simulator, no demo users, no private Redis. Problems end the command with one sentence that
names the variables concerned and never prints their values.
"""

from __future__ import annotations

import argparse
import getpass
import os
import sys
from pathlib import Path

from dashboard import environment

# What a real installation cannot run without; each is explained in docs/install.md.
SERVE_NEEDS = ("DJANGO_SECRET_KEY", "ALLOWED_HOSTS", "DATABASE_URL", "REDIS_URL", "WINCC_CONFIG")
ADMIN_NEEDS = ("DJANGO_SECRET_KEY", "DATABASE_URL")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="wdash", description="Run the WinCC live dashboard with your own configuration."
    )
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    def command(name: str, text: str) -> argparse.ArgumentParser:
        sub = commands.add_parser(name, help=text, description=text)
        sub.add_argument("--env-file", type=Path, help="KEY=VALUE lines (secrets, settings)")
        sub.add_argument("--config", help="the configuration file (sets WINCC_CONFIG)")
        return sub

    check = command("check", "Check the settings and the configuration file (offline).")
    check.add_argument("--deploy", action="store_true", help="also Django's deployment checks")
    check.add_argument("--online", action="store_true",
                       help="then ask each site's server with its read-only user "
                            "(manage.py wincc_check): reachable, login, dialect, tags")
    check.add_argument("--site", action="append", default=[], metavar="SITE",
                       help="with --online: only this site (repeatable)")
    admin = command("createadmin", "Create the first administrator (a superuser).")
    admin.add_argument("--username", required=True)
    admin.add_argument("--email", default="")
    admin.add_argument("--password-env", metavar="VARIABLE",
                       help="the environment variable holding the password (else a prompt)")
    serve = command("serve", "Run web, worker, beat and the subscriber in the foreground "
                             "until stopped.")
    serve.add_argument("--bind", default="127.0.0.1:8000", help="the web's address (host:port)")
    serve.add_argument("--stop-timeout", type=float, default=30.0,
                       help="seconds each process has to stop before it is killed")
    args = parser.parse_args(argv)

    environment.load_file(args.env_file, args.config)
    try:
        if args.command == "check":
            return run_check(args.deploy, args.online, args.site)
        if args.command == "createadmin":
            return create_admin(args.username, args.email, args.password_env)
        return serve_all(args.bind, args.stop_timeout)
    except KeyboardInterrupt:  # Ctrl-C before the processes run (during the migrations)
        return 130


def setup_django(what: str) -> None:
    """Settings loaded (or one sentence), Django set up; refuses the demo's relaxed modes."""
    environment.settings_or_exit()
    import django
    from django.conf import settings

    django.setup()
    require_checkout(Path(settings.BASE_DIR))
    environment.refuse_relaxed(what)


def require_checkout(base_dir: Path) -> None:
    """The templates and static files live beside the packages, not in them: the code must
    run from its checkout (an editable install, as the Docker image does)."""
    missing = [name for name in ("templates", "static") if not (base_dir / name).is_dir()]
    if missing:
        raise SystemExit(
            f"The dashboard's {' and '.join(missing)} are not beside its code in {base_dir}: "
            "install the checkout editable (pip install -e /opt/wincc-dashboard/app, "
            "docs/install.md)."
        )


def system_checks(deploy: bool = False) -> None:
    """Django's system checks, which include the configuration file's (wdash.E001)."""
    from django.core.management import call_command
    from django.core.management.base import SystemCheckError

    try:
        call_command("check", deploy=deploy)
    except SystemCheckError as exc:
        raise SystemExit(str(exc)) from None


def run_check(deploy: bool, online: bool = False, only: list[str] | None = None) -> int:
    environment.require(SERVE_NEEDS, "check")
    setup_django("check")
    system_checks(deploy)
    from dashboard.siteconfig import get_config

    config = get_config()
    sites = ", ".join(site.id for site in config.sites)
    print(f"{config.source}: {len(config.sites)} site(s) ({sites}), "
          f"{len(config.dashboards)} dashboard(s). Settings and configuration are ready.")
    if online:
        from django.core.management import CommandError, call_command

        try:
            call_command("wincc_check", site=only or [])
        except CommandError as exc:
            print(f"wincc_check: {exc}")
            return exc.returncode
        except SystemExit as exc:  # something configured is missing or unreachable
            return int(exc.code or 1)
    return 0


def create_admin(username: str, email: str, password_env: str | None) -> int:
    environment.require(ADMIN_NEEDS, "create the administrator")
    password = read_password(password_env)
    setup_django("create the administrator")
    from django.contrib.auth import get_user_model
    from django.contrib.auth.password_validation import validate_password
    from django.core.exceptions import ValidationError
    from django.core.management import call_command

    call_command("migrate", interactive=False, verbosity=0)
    users = get_user_model()
    if users.objects.filter(username=username).exists():
        raise SystemExit(f"A user named {username!r} already exists; change an existing "
                         "user's password in /admin/ or with `manage.py changepassword`.")
    candidate = users(username=username, email=email)
    try:
        validate_password(password, candidate)
    except ValidationError as exc:
        raise SystemExit("The password is refused: " + " ".join(exc.messages)) from None
    users.objects.create_superuser(username=username, email=email, password=password)
    print(f"Administrator {username!r} created: sign in at /admin/ to add people and groups.")
    return 0


def read_password(password_env: str | None) -> str:
    """From the named variable, or asked twice at a terminal; never from the command line."""
    if password_env:
        return environment.named_value(password_env, "--password-env",
                                       "the administrator's password")
    if not sys.stdin.isatty():
        raise SystemExit("No password: name the variable that holds it with --password-env, "
                         "or run this at a terminal to be asked for it.")
    password = getpass.getpass("Password: ")
    if password != getpass.getpass("Password (again): "):
        raise SystemExit("The two passwords differ; nothing was created.")
    return password


def serve_all(bind: str, stop_timeout: float) -> int:
    environment.require(SERVE_NEEDS, "start")
    setup_django("start")
    system_checks()
    from django.conf import settings
    from django.core.management import call_command
    from django.db import connections

    from dashboard.supervisor import Supervisor

    call_command("migrate", interactive=False, verbosity=1)
    call_command("collectstatic", interactive=False, verbosity=0)
    connections.close_all()
    Path(settings.VAR_DIR).mkdir(parents=True, exist_ok=True)
    from dashboard.siteconfig import get_config

    site_queues = [site.queue for site in get_config().sites if site.queue]
    programs = processes(bind, Path(settings.VAR_DIR), os.environ.get("LOG_LEVEL", "INFO"),
                         site_queues)
    print(f"Serving on http://{bind}/ (put the TLS proxy in front, docs/install.md); "
          "Ctrl-C or SIGTERM stops every process.", flush=True)
    return Supervisor(programs, os.environ, stop_timeout=stop_timeout).run()


def processes(bind: str, var_dir: Path, level: str,
              site_queues: list[str] | tuple[str, ...] = ()) -> dict[str, list[str]]:
    """web, worker, beat and the subscriber as deploy/systemd/ runs them, with this Python's
    packages.
    The one worker also consumes the queue of every site that names one (a `queue` in the
    configuration), since no other worker is there to poll those sites."""
    python = sys.executable
    queues = ",".join(dict.fromkeys(["celery", "deliveries", *site_queues]))
    return {
        # gunicorn's options are in dashboard/gunicorn_conf.py.
        "web": [python, "-m", "gunicorn", "dashboard.asgi:application",
                "--config", "python:dashboard.gunicorn_conf", "--bind", bind],
        "worker": [python, "-m", "celery", "-A", "dashboard", "worker",
                   "--queues", queues, "--loglevel", level,
                   "--hostname", "worker@%h"],
        "beat": [python, "-m", "celery", "-A", "dashboard", "beat", "--loglevel", level,
                 "--schedule", str(var_dir / "celerybeat-schedule")],
        # The checkout's manage.py (wdash runs from one), as the systemd unit runs it.
        "subscriber": [python, str(Path(__file__).resolve().parents[1] / "manage.py"),
                       "wincc_subscribe"],
    }


if __name__ == "__main__":
    sys.exit(main())
