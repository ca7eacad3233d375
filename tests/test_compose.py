"""docker-compose.yml and the Dockerfile name only code that exists in the project.

No Docker engine runs here, so the file is loaded and every service's command (and
healthcheck) is resolved against the project: modules, ASGI applications, Celery apps and
their sub-commands, management commands, and the names a `python -c` snippet uses.
"""

from __future__ import annotations

import ast
import importlib
import importlib.util
import json
import re
import shlex
import shutil
from pathlib import Path
from urllib.parse import urlsplit

import pytest
import yaml

from dashboard import gunicorn_conf
from wincc_ingest.config_validation import validate

ROOT = Path(__file__).resolve().parent.parent
GUNICORN_CONFIG = "python:dashboard.gunicorn_conf"
COMPOSE = yaml.safe_load((ROOT / "docker-compose.yml").read_text(encoding="utf-8"))
SERVICES = COMPOSE["services"]
PROJECT_SERVICES = {name: s for name, s in SERVICES.items() if "build" in s}
DEMO_ENV = {
    "WINCC_SIM_RO_PASSWORD": "x",
    "WINCC_SIM_RO_TOKEN": "x",
    "WINCC_SIM_RW_PASSWORD": "x",
    "WINCC_SIM_RW_TOKEN": "x",
}


# -- resolving a command line to the project's code -----------------------------------


def module_source(name: str) -> Path | None:
    """The file of module `name` (a package's __init__), or None when there is none."""
    try:
        spec = importlib.util.find_spec(name)
    except ModuleNotFoundError:
        return None
    if spec is None or spec.origin is None:
        return None
    return Path(spec.origin)


def defines(source: Path, name: str) -> bool:
    """`source` assigns, defines or imports `name` at module level."""
    tree = ast.parse(source.read_text(encoding="utf-8"))
    for node in tree.body:
        targets: list[str] = []
        if isinstance(node, ast.Assign):
            targets = [t.id for t in node.targets if isinstance(t, ast.Name)]
        elif isinstance(node, ast.AnnAssign | ast.FunctionDef | ast.ClassDef):
            target = node.target if isinstance(node, ast.AnnAssign) else node
            targets = [getattr(target, "id", getattr(target, "name", ""))]
        elif isinstance(node, ast.ImportFrom | ast.Import):
            targets = [alias.asname or alias.name for alias in node.names]
        if name in targets:
            return True
    return False


def project_module(name: str) -> bool:
    source = module_source(name)
    return source is not None and ROOT in source.parents


def python_snippet_problems(code: str) -> list[str]:
    """Imports and module attributes used by a `python -c` snippet must exist."""
    problems = []
    tree = ast.parse(code)
    aliases: dict[str, str] = {}
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                if module_source(alias.name) is None:
                    problems.append(f"imports missing module {alias.name}")
                aliases[alias.asname or alias.name] = alias.name
        elif isinstance(node, ast.ImportFrom):
            for alias in node.names:
                full = f"{node.module}.{alias.name}"
                if module_source(full) is not None:
                    aliases[alias.asname or alias.name] = full
                elif not hasattr(importlib.import_module(node.module), alias.name):
                    problems.append(f"imports missing name {full}")
    for node in ast.walk(tree):
        if isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name):
            module = aliases.get(node.value.id, "")
            ours = module.startswith(("wincc_bridge", "wincc_ingest", "wincc_sim", "dashboard"))
            if ours and not hasattr(importlib.import_module(module), node.attr):
                problems.append(f"uses missing name {module}.{node.attr}")
    return problems


def option(argv: list[str], *names: str) -> str | None:
    for index, arg in enumerate(argv):
        for name in names:
            if arg == name and index + 1 < len(argv):
                return argv[index + 1]
            if name.startswith("--") and arg.startswith(name + "="):
                return arg.split("=", 1)[1]
    return None


def command_problems(argv: list[str]) -> list[str]:
    """Why `argv` would not find its code in this project (empty when it would)."""
    program = Path(argv[0]).name
    if program in ("python", "python3"):
        if argv[1] == "-m":
            module = argv[2]
            if not project_module(module):
                return [f"python -m {module}: no such module in the project"]
            if module_source(module).name == "__init__.py" and not module_source(
                f"{module}.__main__"
            ):
                return [f"python -m {module}: the package has no __main__"]
            rest = argv[3:]
            if "--" in rest:  # a wrapper that runs a command after waiting
                return command_problems(rest[rest.index("--") + 1 :])
            return []
        if argv[1] == "-c":
            return [f"python -c: {p}" for p in python_snippet_problems(argv[2])]
        if argv[1] == "manage.py":
            from django.core.management import get_commands

            if argv[2] not in get_commands():
                return [f"manage.py {argv[2]}: no such management command"]
            return []
    if program == "gunicorn":
        problems = []
        target = next(a for a in argv[1:] if ":" in a and not a.startswith("-"))
        module, attribute = target.split(":")
        source = module_source(module)
        if source is None or not defines(source, attribute):
            problems.append(f"gunicorn {target}: the module does not define {attribute}")
        worker = option(argv, "-k", "--worker-class")
        config = option(argv, "-c", "--config")
        if config:
            if not config.startswith("python:") or not project_module(config[7:]):
                problems.append(f"gunicorn --config {config}: no such module in the project")
            else:
                worker = worker or importlib.import_module(config[7:]).worker_class
        if worker:
            worker_module, worker_class = worker.rsplit(".", 1)
            if not hasattr(importlib.import_module(worker_module), worker_class):
                problems.append(f"gunicorn worker class {worker} does not exist")
        if option(argv, "-c", "--config") != GUNICORN_CONFIG:
            problems.append(f"gunicorn without --config={GUNICORN_CONFIG} believes any local "
                            "X-Forwarded-For and logs wall-screen tokens")
        return problems
    if program == "celery":
        from celery.bin.celery import celery as celery_cli

        app = option(argv, "-A", "--app")
        source = module_source(f"{app}.celery")
        if source is None or not defines(source, "app"):
            return [f"celery -A {app}: {app}/celery.py with a Celery `app` does not exist"]
        command = next(a for a in argv[argv.index(app) + 1 :] if not a.startswith("-"))
        if command not in celery_cli.commands:
            return [f"celery {command}: no such celery command"]
        return []
    if shutil.which(argv[0]) is None:
        return [f"{argv[0]}: no such program here"]
    return []


def healthcheck_argv(test: list[str] | str) -> list[str]:
    if isinstance(test, str):
        return shlex.split(test)
    if test[0] == "CMD":
        return test[1:]
    assert test[0] == "CMD-SHELL", test
    return shlex.split(test[1].replace("$$", "$"))


# -- the compose file -----------------------------------------------------------------


@pytest.mark.parametrize("name", sorted(PROJECT_SERVICES))
def test_each_project_service_command_names_existing_code(name):
    command = PROJECT_SERVICES[name]["command"]
    argv = shlex.split(command) if isinstance(command, str) else command
    assert command_problems(argv) == []


@pytest.mark.parametrize(
    "name", sorted(n for n, s in PROJECT_SERVICES.items() if "healthcheck" in s)
)
def test_each_healthcheck_names_existing_code(name):
    assert command_problems(healthcheck_argv(PROJECT_SERVICES[name]["healthcheck"]["test"])) == []


def test_every_long_running_service_has_a_healthcheck():
    for name, service in SERVICES.items():
        if service.get("restart") == "no":
            continue  # a one-off job (migrate) that the others wait for
        assert "healthcheck" in service, f"{name} has no healthcheck"


def test_the_services_the_issue_asks_for():
    assert {"web", "worker", "beat", "redis", "postgres"} <= set(SERVICES)
    simulators = [n for n, s in SERVICES.items() if "demo" in s.get("profiles", [])]
    assert simulators == ["sim-oven", "sim-line", "sim-utilities"]
    for name in ("web", "worker", "beat", "redis", "postgres", "migrate"):
        assert "profiles" not in SERVICES[name]


def test_web_is_an_async_server_fit_for_long_lived_streams():
    argv = SERVICES["web"]["command"]
    assert argv[:2] == ["gunicorn", "dashboard.asgi:application"]
    assert option(argv, "-c", "--config") == "python:dashboard.gunicorn_conf"
    assert gunicorn_conf.worker_class == "uvicorn_worker.UvicornWorker"
    # The compose file's default worker count is the one the demo and the benchmarks use.
    default = f"${{WEB_WORKERS:-{gunicorn_conf.workers}}}"
    assert SERVICES["web"]["environment"]["WEB_WORKERS"] == default


def test_workers_scale_and_beat_stays_single():
    worker = SERVICES["worker"]
    assert "container_name" not in worker and "ports" not in worker
    assert SERVICES["beat"]["deploy"]["replicas"] == 1
    assert "container_name" not in SERVICES["web"]


def test_the_app_waits_for_its_database_migrations():
    assert SERVICES["migrate"]["command"] == ["python", "manage.py", "migrate", "--noinput"]
    for name in ("web", "worker"):
        assert SERVICES[name]["depends_on"]["migrate"]["condition"] == (
            "service_completed_successfully"
        )
        assert SERVICES[name]["depends_on"]["redis"]["condition"] == "service_healthy"


def test_production_settings_have_no_default_secrets():
    environment = SERVICES["web"]["environment"]
    assert environment["DJANGO_SECRET_KEY"].startswith("${DJANGO_SECRET_KEY:?")
    assert "${POSTGRES_PASSWORD:?" in environment["DATABASE_URL"]
    assert SERVICES["postgres"]["environment"]["POSTGRES_PASSWORD"].startswith(
        "${POSTGRES_PASSWORD:?"
    )
    for name, value in environment.items():
        if "_PASSWORD" in name or "_TOKEN" in name:
            assert name.startswith("WINCC_SIM_") and "simulator-only" in value


def test_the_compose_demo_configuration_points_at_the_simulator_services():
    path = ROOT / "dashboard" / "demo" / "compose.json"
    data = json.loads(path.read_text(encoding="utf-8"))
    assert validate(data, DEMO_ENV, base_dir=path.parent) == []
    for site in data["sites"]:
        parts = urlsplit(site["url"])
        service = SERVICES[parts.hostname]
        assert "demo" in service["profiles"]
        assert option(service["command"], "--port") == str(parts.port)
        assert "--http" in service["command"]
    local = json.loads((ROOT / "dashboard" / "demo" / "config.json").read_text("utf-8"))
    # make run's line also takes its simulator's REST Connector pushes; compose's only polls.
    pushing = {"line-classic": {"ingest", "rest_connector"}}
    for site, same in zip(data["sites"], local["sites"], strict=True):
        differs = {k for k in site.keys() | same.keys() if site.get(k) != same.get(k)}
        assert differs == {"url", "tls", *pushing.get(site["id"], ())}, site["id"]
    assert data["dashboards"] == local["dashboards"]


def test_the_dockerfile_command_names_existing_code():
    dockerfile = (ROOT / "Dockerfile").read_text(encoding="utf-8")
    assert re.search(r"^FROM python:3\.11-slim$", dockerfile, re.M)
    assert re.search(r"^USER (?!root)\w+", dockerfile, re.M), "the image runs as root"
    assert "collectstatic" in dockerfile
    # Directory sign-in and German work in the image as they do from `make setup`.
    assert "pip install '.[sim,ldap]'" in dockerfile
    assert "libldap2-dev" in dockerfile
    assert re.search(r"msgfmt --check -o .*\.po", dockerfile)
    cmd = re.search(r"^CMD (\[.*?\])$", dockerfile, re.M | re.S).group(1)
    assert command_problems(json.loads(cmd.replace("\\\n", ""))) == []


def catalogue_step() -> str:
    """The Dockerfile's shell that compiles the catalogues, as the image's build runs it."""
    dockerfile = (ROOT / "Dockerfile").read_text(encoding="utf-8").replace("\\\n", "")
    step = re.search(r"&& (for po in .*?; done)", dockerfile)
    assert step, "the Dockerfile compiles no catalogue"
    return step.group(1)


@pytest.mark.process
@pytest.mark.skipif(shutil.which("msgfmt") is None, reason="gettext is not installed")
def test_the_image_build_stops_on_a_broken_catalogue(tmp_path):
    import subprocess

    good = tmp_path / "locale" / "de" / "LC_MESSAGES" / "django.po"
    good.parent.mkdir(parents=True)
    shutil.copy(ROOT / "locale" / "de" / "LC_MESSAGES" / "django.po", good)
    built = subprocess.run(["sh", "-c", catalogue_step()], cwd=tmp_path, capture_output=True)
    assert built.returncode == 0, built.stderr
    assert good.with_suffix(".mo").stat().st_size > 10_000
    broken = tmp_path / "locale" / "fr" / "LC_MESSAGES" / "django.po"
    broken.parent.mkdir(parents=True)
    broken.write_text('msgid "%(count)s site"\nmsgstr "%(nombre)s site"\n', encoding="utf-8")
    failed = subprocess.run(["sh", "-c", catalogue_step()], cwd=tmp_path, capture_output=True)
    assert failed.returncode != 0


# -- the checker itself must be able to fail ------------------------------------------


@pytest.mark.parametrize(
    ("argv", "problem"),
    [
        (["python", "-m", "dashboard.nope"], "no such module"),
        (["python", "-m", "json"], "no such module in the project"),
        (["gunicorn", "dashboard.asgi:app"], "does not define app"),
        (["gunicorn", "dashboard.asgi:application", "-k", "uvicorn.Nope"], "does not exist"),
        (["gunicorn", "dashboard.asgi:application"], "believes any local X-Forwarded-For"),
        (["gunicorn", "dashboard.asgi:application", "-c", "python:dashboard.nope"],
         "no such module"),
        (["celery", "-A", "wincc_bridge", "worker"], "with a Celery `app` does not exist"),
        (["python", "manage.py", "nope"], "no such management command"),
        (["python", "-c", "from wincc_ingest import store; store.NOPE"], "missing name"),
        (["python", "-c", "import nope_module"], "missing module"),
        (["no-such-program-here"], "no such program"),
    ],
)
def test_the_checker_catches_missing_code(argv, problem):
    problems = command_problems(argv)
    assert problems and problem in problems[0], problems


def test_every_variable_given_to_the_app_is_read_by_it():
    """A misspelt variable would be silently ignored; each must be read somewhere."""
    # settings.py, dashboard/proxies.py (which gunicorn's settings share with it) and
    # gunicorn's settings themselves (WEB_WORKERS).
    settings_source = "".join((ROOT / "dashboard" / name).read_text(encoding="utf-8")
                              for name in ("settings.py", "proxies.py", "gunicorn_conf.py"))
    demo_config = (ROOT / "dashboard" / "demo" / "compose.json").read_text(encoding="utf-8")
    for name in SERVICES["web"]["environment"]:
        assert f'"{name}"' in settings_source or f'"{name}"' in demo_config, name
