"""The systemd units of a plain install (deploy/systemd/): each names code that exists here,
restarts what dies, runs as the dedicated user with the shared environment file."""

from __future__ import annotations

import re
import shlex
from pathlib import Path

import pytest

from tests.test_compose import command_problems, option

ROOT = Path(__file__).resolve().parent.parent
UNITS = ROOT / "deploy" / "systemd"
INSTALL = "/opt/wincc-dashboard"
SERVICES = sorted(UNITS.glob("*.service"))


# The keys systemd takes more than once, in order; any other key twice is a mistake.
REPEATABLE = {"ExecStartPre"}


def unit(path: Path) -> dict[str, dict[str, str]]:
    """The unit's sections; a repeatable key's values joined by newlines."""
    sections: dict[str, dict[str, str]] = {}
    section: dict[str, str] | None = None
    for line in path.read_text(encoding="utf-8").splitlines():
        line = line.strip()
        if not line or line.startswith(("#", ";")):
            continue
        if line.startswith("[") and line.endswith("]"):
            assert line[1:-1] not in sections, f"{path.name}: section {line} twice"
            section = sections[line[1:-1]] = {}
            continue
        key, sep, value = line.partition("=")
        assert section is not None and sep, f"{path.name}: {line!r} is not a key in a section"
        if key in section:
            assert key in REPEATABLE, f"{path.name}: {key} twice"
            value = f"{section[key]}\n{value}"
        section[key] = value
    return sections


def project_argv(command: str) -> list[str]:
    """The command line with the installation's virtual environment taken off its program."""
    argv = shlex.split(command)
    prefix = f"{INSTALL}/venv/bin/"
    assert argv[0].startswith(prefix), f"{argv[0]} is not the installation's own program"
    return [argv[0].removeprefix(prefix), *argv[1:]]


def test_web_worker_beat_and_subscriber_each_have_a_unit():
    assert [p.name for p in SERVICES] == [
        "wincc-dashboard-beat.service",
        "wincc-dashboard-subscriber.service",
        "wincc-dashboard-web.service",
        "wincc-dashboard-worker.service",
    ]
    wants = unit(UNITS / "wincc-dashboard.target")["Unit"]["Wants"].split()
    assert sorted(wants) == [p.name for p in SERVICES]


@pytest.mark.parametrize("path", SERVICES, ids=lambda p: p.stem)
def test_each_command_names_existing_code(path):
    service = unit(path)["Service"]
    commands = [service["ExecStart"], *service.get("ExecStartPre", "").splitlines()]
    for command in commands:
        assert command_problems(project_argv(command)) == [], command


@pytest.mark.parametrize("path", SERVICES, ids=lambda p: p.stem)
def test_each_restarts_what_dies_as_the_dedicated_user(path):
    parsed = unit(path)
    service = parsed["Service"]
    assert service["Restart"] == "always"
    assert float(service["RestartSec"]) > 0
    assert service["User"] == service["Group"] == "wdash"
    assert service["EnvironmentFile"] == "/etc/wincc-dashboard/env"
    assert service["WorkingDirectory"] == f"{INSTALL}/app"
    assert parsed["Install"]["WantedBy"] == "wincc-dashboard.target"


def test_the_web_runs_as_compose_runs_it():
    argv = project_argv(unit(UNITS / "wincc-dashboard-web.service")["Service"]["ExecStart"])
    assert argv[:2] == ["gunicorn", "dashboard.asgi:application"]
    assert option(argv, "-c", "--config") == "python:dashboard.gunicorn_conf"


def test_beat_keeps_its_schedule_where_the_service_may_write():
    service = unit(UNITS / "wincc-dashboard-beat.service")["Service"]
    schedule = option(project_argv(service["ExecStart"]), "--schedule")
    assert schedule.startswith(service["ReadWritePaths"] + "/")


def test_the_environment_file_names_only_variables_the_app_reads():
    read = "".join(
        (ROOT / "dashboard" / name).read_text(encoding="utf-8")
        for name in ("settings.py", "gunicorn_conf.py", "proxies.py")
    )
    example = (UNITS / "env.example").read_text(encoding="utf-8")
    names = re.findall(r"^([A-Z_]+)=", example, re.M)
    assert "DJANGO_SECRET_KEY" in names and "WINCC_CONFIG" in names
    for name in names:
        assert f'"{name}"' in read, name


def test_the_web_migrates_and_collects_static_files_before_it_starts():
    pre = unit(UNITS / "wincc-dashboard-web.service")["Service"]["ExecStartPre"].splitlines()
    assert [project_argv(command)[2:] for command in pre] == [
        ["migrate", "--noinput"], ["collectstatic", "--noinput"]]
