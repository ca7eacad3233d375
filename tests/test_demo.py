"""The demo behind `make run`: its configuration, its processes and its users."""

from __future__ import annotations

import json
import os
import re
import shlex
import shutil
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path
from urllib.parse import urlsplit

import httpx
import pytest
import redis
from django.contrib.auth.models import User
from django.core.management import call_command
from django.core.management.base import CommandError
from django.test import override_settings

from dashboard import permissions
from dashboard.demo import prepare, wait
from tests.test_compose import command_problems
from wincc_ingest import store
from wincc_ingest.config import load
from wincc_sim.tls import CERT_NAME

ROOT = Path(__file__).resolve().parent.parent
DEMO_CONFIG = ROOT / "dashboard" / "demo" / "config.json"
MAKEFILE = (ROOT / "Makefile").read_text(encoding="utf-8")


def procfile() -> dict[str, str]:
    entries = {}
    for line in (ROOT / "Procfile").read_text(encoding="utf-8").splitlines():
        if line.strip() and not line.startswith("#"):
            name, command = line.split(":", 1)
            entries[name] = command.strip()
    return entries


def makefile_defaults() -> dict[str, str]:
    return dict(re.findall(r"^export (WINCC_SIM_\w+) \?= (\S+)$", MAKEFILE, re.M))


def procfile_argv(command: str) -> list[str]:
    argv = shlex.split(command)
    assert argv[0] == "exec", f"{command!r} must exec so that signals reach the process"
    return argv[1:]


# -- the demo configuration -----------------------------------------------------------


def test_the_demo_configuration_is_valid_with_the_makefiles_values(tmp_path):
    """A copy laid out like the repository, certificates made as `make run` makes them."""
    config = tmp_path / "dashboard" / "demo" / "config.json"
    config.parent.mkdir(parents=True)
    shutil.copy(DEMO_CONFIG, config)
    prepare.prepare(tmp_path / "var", environ={"REDIS_URL": "redis://127.0.0.1:1/0"})

    loaded = load(config, environ=makefile_defaults())

    assert [s.id for s in loaded.sites] == list(prepare.DEMO_SITES)
    assert [s.dialect for s in loaded.sites] == ["unified", "classic", "rest-v1"]
    for site in loaded.sites:
        assert site.ca_file == str(tmp_path / "var" / "sim" / site.id / CERT_NAME)
        assert site.verify_tls and not site.insecure
        assert site.write_user is not None
    assert [d.id for d in loaded.dashboards] == ["overview", *prepare.DEMO_SITES]
    for board in loaded.dashboards[1:]:
        kinds = {p.kind for p in board.panels}
        assert kinds == {"tiles", "trend", "alarms", "site_health"}
    tiles = [p for b in loaded.dashboards for p in b.panels if p.kind == "tiles"]
    limited = [loaded.site(p.site).tag(t) for p in tiles for t in p.tags]
    assert any(tag.limits.hh is not None for tag in limited)


def test_the_classic_line_acknowledges_through_tags():
    data = json.loads(DEMO_CONFIG.read_text(encoding="utf-8"))
    line = next(s for s in data["sites"] if s["id"] == "line-classic")
    assert line["alarm_filter"] == "ActiveAlarms"
    assert line["ack_tags"]
    for alarm, target in line["ack_tags"].items():
        assert target == {"tag": f"Ack_{alarm}", "value": 1}


def test_the_configuration_names_only_variables_the_makefile_sets_for_the_simulator():
    defaults = makefile_defaults()
    data = json.loads(DEMO_CONFIG.read_text(encoding="utf-8"))
    for site in data["sites"]:
        for role, user_var in (
            ("read_user", "WINCC_SIM_RO_USER"),
            ("write_user", "WINCC_SIM_RW_USER"),
        ):
            user = site[role]
            assert user["username"] == defaults[user_var]
            for key in ("password_env", "token_env"):
                if key in user:
                    assert "simulator-only" in defaults[user[key]]
    assert "for the simulator only" in data["description"]


# -- the processes of `make run` ------------------------------------------------------


def test_every_procfile_entry_execs_code_that_exists():
    entries = procfile()
    assert set(entries) == {
        "redis", "sim-oven", "sim-line", "sim-utilities", "web", "worker", "beat", "subscriber"
    }
    for name, command in entries.items():
        argv = procfile_argv(command)
        assert command_problems(argv) == [], name


def test_make_run_starts_every_procfile_entry():
    names = re.search(r"^RUN_PROCESSES := \$\(if \$\(REDIS_URL\),,redis\) (.*)$", MAKEFILE, re.M)
    assert set(names.group(1).split()) | {"redis"} == set(procfile())


def test_each_demo_site_has_its_own_simulator_port_seed_and_certificate_folder():
    data = json.loads(DEMO_CONFIG.read_text(encoding="utf-8"))
    simulators = {
        name: procfile_argv(command)
        for name, command in procfile().items()
        if name.startswith("sim-")
    }
    seen_seeds, seen_admin = set(), set()
    for site in data["sites"]:
        port = urlsplit(site["url"]).port
        argv = next(a for a in simulators.values() if a[a.index("--port") + 1] == str(port))
        assert argv[argv.index("--cert-dir") + 1] == f"var/sim/{site['id']}"
        assert "--http" not in argv
        assert site["tls"]["ca_file"] == f"../../var/sim/{site['id']}/{CERT_NAME}"
        seen_seeds.add(argv[argv.index("--seed") + 1])
        seen_admin.add(argv[argv.index("--admin-port") + 1])
    assert len(seen_seeds) == len(seen_admin) == len(data["sites"]) == 3


def test_the_web_server_listens_on_loopback_at_the_chosen_port():
    argv = procfile_argv(procfile()["web"])
    assert argv[argv.index("--bind") + 1] == "127.0.0.1:${WDASH_WEB_PORT:-8000}"
    assert "run: export WDASH_WEB_PORT := $(PORT)" in MAKEFILE


# -- prepare: var/ and the private Redis port -----------------------------------------


def test_prepare_picks_a_free_port_for_a_private_redis(tmp_path):
    env_file = prepare.prepare(tmp_path, environ={})
    values = dict(line.split("=", 1) for line in env_file.read_text().splitlines())
    port = int(values["REDIS_PORT"])
    assert values["REDIS_URL"] == values["CELERY_BROKER_URL"] == f"redis://127.0.0.1:{port}/0"
    assert port != 6379
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", port))  # still free
    assert (tmp_path / "redis").is_dir()
    for site in prepare.DEMO_SITES:
        assert (tmp_path / "sim" / site / CERT_NAME).read_text().startswith(
            "-----BEGIN CERTIFICATE-----"
        )


def test_prepare_uses_a_given_redis_url_and_keeps_the_certificates(tmp_path):
    prepare.prepare(tmp_path, environ={})
    first = (tmp_path / "sim" / "oven-unified" / CERT_NAME).read_bytes()
    env_file = prepare.prepare(tmp_path, environ={"REDIS_URL": "redis://cache:6379/1"})
    assert env_file.read_text() == ""
    assert (tmp_path / "sim" / "oven-unified" / CERT_NAME).read_bytes() == first


# -- wait: the web and Celery processes start after Redis and the servers answer ------


def test_wait_finds_redis_and_the_servers_on_this_machine(tmp_path):
    config = tmp_path / "c.json"
    sites = ["https://127.0.0.1:1", "http://localhost", "https://wincc01:34568", "https://[::1]:3"]
    config.write_text(json.dumps({"sites": [{"url": url} for url in sites]}))
    env = {"REDIS_URL": "redis://cache:7/0", "WINCC_CONFIG": str(config)}
    # A real plant that is down must not keep the dashboard from starting.
    assert wait.endpoints(env) == [("cache", 7), ("127.0.0.1", 1), ("localhost", 80), ("::1", 3)]
    config.write_text("{broken")
    assert wait.endpoints(env) == [("cache", 7)]


@pytest.mark.process
def test_wait_runs_the_command_once_everything_answers(tmp_path):
    with socket.socket() as server:
        server.bind(("127.0.0.1", 0))
        server.listen()
        port = server.getsockname()[1]
        config = tmp_path / "c.json"
        config.write_text(json.dumps({"sites": [{"url": f"https://127.0.0.1:{port}"}]}))
        result = subprocess.run(
            [sys.executable, "-m", "dashboard.demo.wait", "--timeout", "10", "--",
             sys.executable, "-c", "print('started')"],
            cwd=ROOT, capture_output=True, text=True, timeout=30,
            env={"REDIS_URL": f"redis://127.0.0.1:{port}/0", "WINCC_CONFIG": str(config)},
        )
    assert result.returncode == 0, result.stderr
    assert result.stdout == "started\n"


@pytest.mark.process
def test_wait_starts_the_command_anyway_after_the_timeout_and_says_so():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]  # bound, not listening: refuses connections
        assert wait.wait_for([("127.0.0.1", port)], timeout=0.5) == [("127.0.0.1", port)]
        result = subprocess.run(
            [sys.executable, "-m", "dashboard.demo.wait", "--timeout", "1", "--",
             sys.executable, "-c", "print('started')"],
            cwd=ROOT, capture_output=True, text=True, timeout=30,
            env={"REDIS_URL": f"redis://127.0.0.1:{port}/0", "WINCC_CONFIG": "/nonexistent"},
        )
    assert result.returncode == 0
    assert result.stdout == "started\n"
    assert result.stderr == (
        f"127.0.0.1:{port} still refused connections after 1 s; starting {sys.executable} anyway.\n"
    )


@pytest.mark.process
def test_wait_restarts_a_command_that_dies_and_stops_with_it(tmp_path):
    """`make run` keeps a crashed process going; SIGTERM (honcho's stop) still ends it all."""
    starts = tmp_path / "starts"
    # Dies at its first start, stays up at its second.
    script = (
        "import os, sys, time\n"
        f"path = {str(starts)!r}\n"
        "with open(path, 'a') as fh: fh.write(f'{os.getpid()}\\n')\n"
        "if len(open(path).read().split()) == 1: sys.exit(3)\n"
        "time.sleep(120)\n"
    )
    with socket.socket() as server:
        server.bind(("127.0.0.1", 0))
        server.listen()
        port = server.getsockname()[1]
        proc = subprocess.Popen(
            [sys.executable, "-m", "dashboard.demo.wait", "--timeout", "5", "--restart", "--",
             sys.executable, "-c", script],
            cwd=ROOT, stderr=subprocess.PIPE, text=True, start_new_session=True,
            env={"REDIS_URL": f"redis://127.0.0.1:{port}/0", "WINCC_CONFIG": "/nonexistent"},
        )
        try:
            _wait_until(lambda: starts.exists() and len(starts.read_text().split()) == 2, 20,
                        "the second start")
            second = int(starts.read_text().split()[1])
            os.killpg(proc.pid, signal.SIGTERM)  # as honcho stops each process's group
            assert proc.wait(timeout=10) == 128 + signal.SIGTERM
        finally:
            if proc.poll() is None:
                os.killpg(proc.pid, signal.SIGKILL)
    assert proc.stderr.read() == (
        f"{sys.executable} exited with status 3; starting it again in 1 s.\n"
    )
    proc.stderr.close()
    with pytest.raises(ProcessLookupError):
        os.kill(second, 0)
    assert len(starts.read_text().split()) == 2  # not started again once told to stop


# -- demo users -----------------------------------------------------------------------


@pytest.mark.django_db
def test_demo_setup_creates_the_four_users_with_the_demo_password(monkeypatch, capsys):
    monkeypatch.setenv("DEMO_PASSWORD", "plant-demo")
    with override_settings(DEMO_MODE=True):
        call_command("demo_setup")
    output = capsys.readouterr().out
    for name in ("viewer", "operator", "writer", "admin"):
        assert re.search(rf"^  {name} ", output, re.M)
    assert "'plant-demo'" in output

    viewer, operator, admin = (
        User.objects.get(username=name) for name in ("viewer", "operator", "admin")
    )
    assert all(u.check_password("plant-demo") and u.is_active for u in (viewer, operator, admin))
    assert permissions.can_view(viewer, "line-classic")
    assert not permissions.can_acknowledge(viewer, "line-classic")
    assert permissions.can_acknowledge(operator, "oven-unified")
    assert not operator.is_staff
    assert not permissions.can_write_tag(operator, "oven-unified")
    writer = User.objects.get(username="writer")
    assert writer.check_password("plant-demo")
    assert permissions.can_write_tag(writer, "oven-unified")
    assert not permissions.can_acknowledge(writer, "oven-unified")
    assert admin.is_superuser and admin.is_staff


@pytest.mark.django_db
def test_demo_setup_is_repeatable_and_follows_a_new_password(monkeypatch, capsys):
    with override_settings(DEMO_MODE=True):
        call_command("demo_setup")
        monkeypatch.setenv("DEMO_PASSWORD", "changed")
        call_command("demo_setup")
    operator = User.objects.get(username="operator")
    assert not operator.check_password("demo")
    assert operator.check_password("changed")
    assert User.objects.filter(username__in=["viewer", "operator", "admin"]).count() == 3
    assert [g.name for g in User.objects.get(username="operator").groups.all()] == ["Operators"]


@pytest.mark.django_db
def test_demo_setup_refuses_outside_demo_mode():
    with override_settings(DEMO_MODE=False), pytest.raises(CommandError, match="WDASH_DEMO=1"):
        call_command("demo_setup")
    assert not User.objects.exists()


# -- the whole demo, as `make run` starts it ------------------------------------------


def _free_ports(count: int) -> list[int]:
    sockets = [socket.socket() for _ in range(count)]
    try:
        for sock in sockets:
            sock.bind(("127.0.0.1", 0))
        return [sock.getsockname()[1] for sock in sockets]
    finally:
        for sock in sockets:
            sock.close()


def _pids_with(marker: str) -> list[tuple[int, list[str]]]:
    """(pid, argv) of the live processes whose environment carries `marker`."""
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            if marker.encode() in (entry / "environ").read_bytes():
                argv = (entry / "cmdline").read_bytes().decode().split("\0")[:-1]
                found.append((int(entry.name), argv))
        except OSError:
            continue  # gone meanwhile, or a zombie
    return found


def _parent(pid: int) -> int:
    return int(Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[1])


def _processes_with(marker: str) -> list[str]:
    """Command lines of the live processes whose environment carries `marker`."""
    return [" ".join(argv) for _, argv in _pids_with(marker)]


def demo_env(tmp_path: Path, config: Path, **extra: str) -> dict[str, str]:
    """The environment `make run` gives its processes, with var/ under tmp_path."""
    return {
        **{k: v for k, v in os.environ.items() if k in ("HOME", "LANG", "SYSTEMROOT")},
        "PATH": f"{Path(sys.executable).parent}:{os.environ['PATH']}",
        "PYTHONPATH": str(ROOT),
        "WDASH_DEMO": "1",
        "WDASH_VAR_DIR": str(tmp_path / "var"),
        "WINCC_CONFIG": str(config),
        **extra,
    }


def _wait_until(predicate, timeout: float, what: str):
    deadline = time.monotonic() + timeout
    last_error = None
    while time.monotonic() < deadline:
        try:
            result = predicate()
            if result:
                return result
        except (httpx.HTTPError, ValueError, KeyError) as exc:
            last_error = exc
        time.sleep(0.5)
    raise AssertionError(f"timed out waiting for {what} (last error: {last_error})")


@pytest.mark.integration
@pytest.mark.timeout(240)
def test_the_demo_serves_live_values_and_ctrl_c_leaves_nothing_running(tmp_path):
    """The real Procfile under honcho, as `make run` starts it, on free ports in a temp folder."""
    ports = _free_ports(7)
    replace = dict(zip(["34568", "34569", "34570", "34578", "34579", "34580"], ports, strict=False))
    web_port = ports[6]
    text = (ROOT / "Procfile").read_text(encoding="utf-8")
    config_text = DEMO_CONFIG.read_text(encoding="utf-8")
    for old, new in replace.items():
        text = text.replace(f"--port {old} ", f"--port {new} ")
        text = text.replace(f"--admin-port {old} ", f"--admin-port {new} ")
        config_text = config_text.replace(f"127.0.0.1:{old}", f"127.0.0.1:{new}")
    (tmp_path / "Procfile").write_text(text, encoding="utf-8")
    config = tmp_path / "dashboard" / "demo" / "config.json"
    config.parent.mkdir(parents=True)
    config.write_text(config_text, encoding="utf-8")
    prepare.prepare(tmp_path / "var", environ={})

    marker = f"WDASH_DEMO_TEST_MARKER={tmp_path.name}"
    env = demo_env(
        tmp_path, config, **makefile_defaults(),
        WDASH_WEB_PORT=str(web_port), DEMO_PASSWORD="demo-test", LOG_LEVEL="WARNING",
        **dict([marker.split("=")]),
    )
    # As `make run` does before honcho starts (Makefile, target run).
    for step in (["migrate", "--noinput"], ["collectstatic", "--noinput", "--verbosity", "0"],
                 ["demo_setup"]):
        done = subprocess.run(
            [sys.executable, str(ROOT / "manage.py"), *step],
            cwd=tmp_path, env=env, capture_output=True, text=True, timeout=120,
        )
        assert done.returncode == 0, done.stderr

    log = (tmp_path / "honcho.log").open("w")
    honcho = subprocess.Popen(
        [str(Path(sys.executable).with_name("honcho")), "--procfile", "Procfile",
         "--env", "var/run.env", "start", *procfile()],
        cwd=tmp_path, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True,
    )
    base = f"http://127.0.0.1:{web_port}"
    try:
        with httpx.Client(base_url=base, timeout=5) as client:
            page = _wait_until(
                lambda: client.get("/accounts/login/").status_code == 200, 90, "the sign-in page"
            )
            assert page
            # A demo user signs in with the demo password.
            form = client.get("/accounts/login/")
            token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', form.text).group(1)
            signed_in = client.post(
                "/accounts/login/",
                data={"username": "operator", "password": "demo-test",
                      "csrfmiddlewaretoken": token, "next": "/"},
            )
            assert signed_in.status_code == 302, signed_in.text[:500]
            assert client.get("/").status_code == 200

            def every_site_current():
                sites = client.get("/health/").json()["sites"]
                return set(sites) == set(prepare.DEMO_SITES) and all(
                    s["current"] for s in sites.values()
                )

            _wait_until(every_site_current, 60, "every demo site polled")
            # The line's simulator also pushes its changes, as a REST Connector.
            run_env = dict(line.split("=", 1) for line in
                           (tmp_path / "var" / "run.env").read_text().splitlines())
            with redis.Redis.from_url(run_env["REDIS_URL"], decode_responses=True) as r:
                _wait_until(lambda: r.hget(store.site_health("line-classic"), "last_push"), 60,
                            "a push from the line's REST Connector")
            # The marker finds them all while they run (honcho, 7 entries and their children).
            assert len(_processes_with(marker)) > len(procfile())
            # A worker that dies is started again; the rest of the demo goes on.
            workers = {pid for pid, argv in _pids_with(marker)
                       if len(argv) > 1 and Path(argv[1]).name == "celery" and "worker" in argv}
            # The worker's main process, not one of its pool's children.
            worker = next(pid for pid in workers if _parent(pid) not in workers)
            os.kill(worker, signal.SIGKILL)
            _wait_until(lambda: "starting it again" in (tmp_path / "honcho.log").read_text(),
                        15, "the worker's restart")
            _wait_until(lambda: client.get("/health/").json()["workers"] >= 1
                        and worker not in dict(_pids_with(marker)), 60, "the new worker")
            assert honcho.poll() is None
    finally:
        # Ctrl-C: the terminal sends SIGINT to the foreground group (honcho); honcho stops the rest.
        os.killpg(honcho.pid, signal.SIGINT)
        try:
            honcho.wait(timeout=30)
        finally:
            log.close()
    _wait_until(lambda: not _processes_with(marker), 15, "every process to stop")
    output = (tmp_path / "honcho.log").read_text()
    for name in procfile():
        assert f"{name}.1 stopped" in output, output[-3000:]


@pytest.mark.process
def test_prepare_refuses_ports_already_in_use(tmp_path):
    assert prepare.procfile_ports(ROOT / "Procfile") == [34568, 34578, 34569, 34579, 34570, 34580]
    with socket.socket() as server:
        server.bind(("127.0.0.1", 0))
        server.listen()
        port = server.getsockname()[1]
        assert prepare.busy_ports([port]) == [port]
        result = subprocess.run(
            [sys.executable, "-m", "dashboard.demo.prepare", "--var", str(tmp_path),
             "--check-ports"],
            cwd=ROOT, capture_output=True, text=True, timeout=60,
            env={**os.environ, "WDASH_WEB_PORT": str(port)},
        )
    assert result.returncode == 1
    assert re.match(rf"Port\(s\) (\d+, )*{port} on 127.0.0.1 are in use by another program",
                    result.stderr), result.stderr
    assert not (tmp_path / "run.env").exists()
    assert prepare.busy_ports([port]) == []


# -- the README, the front door -------------------------------------------------------


def test_the_readme_opens_with_the_two_commands():
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    block = re.search(r"```\n(.*?)```", readme, re.S).group(1)
    assert [line.split()[:2] for line in block.splitlines()] == [["make", "run"], ["make", "test"]]
    assert readme.index("```") < readme.index("## ")


@pytest.mark.parametrize("document", ["README.md", "docs/configuration.md", "docs/architecture.md",
                                      "docs/install.md", "docs/operations.md", "docs/api.md"])
def test_the_documents_link_only_to_files_that_exist(document):
    path = ROOT / document
    links = re.findall(r"\]\(([^)#\s]+)\)", path.read_text(encoding="utf-8"))
    local = [link for link in links if "://" not in link]
    assert local, "no links found: the pattern is broken"
    missing = [link for link in local if not (path.parent / link).exists()]
    assert missing == []


# -- the Makefile ---------------------------------------------------------------------


def make_dry_run(*args: str, **env: str) -> str:
    skip = ("REDIS_URL", "MAKEFLAGS", "TEST_WORKERS")
    base = {k: v for k, v in os.environ.items() if k not in skip}
    result = subprocess.run(
        ["make", "--no-print-directory", "-n", *args], cwd=ROOT, capture_output=True,
        text=True, timeout=60, env={**base, **env},
    )
    assert result.returncode == 0, result.stderr
    return result.stdout


@pytest.mark.process
def test_make_run_starts_a_private_redis_only_without_redis_url():
    own = make_dry_run("run")
    assert re.search(r"start redis sim-oven sim-line sim-utilities web worker beat subscriber$",
                     own, re.M)
    given = make_dry_run("run", REDIS_URL="redis://cache.plant.example:6379/0")
    assert re.search(r"start\s+sim-oven sim-line sim-utilities web worker beat subscriber$",
                     given, re.M)
    assert "prepare --check-ports" in given and "migrate --noinput" in given


@pytest.mark.process
def test_make_test_lints_then_runs_pytest():
    commands = make_dry_run("test")
    assert commands.index("ruff check .") < commands.index("pytest")


@pytest.mark.process
def test_make_test_runs_both_lanes_in_one_process_unless_told_otherwise():
    single = make_dry_run("test")
    assert "pytest" in single and " -n " not in single and "loadfile" not in single
    commands = make_dry_run("test", TEST_WORKERS="2")
    parallel = "-n 2 --dist loadfile --no-loadscope-reorder"
    assert f"bin/pytest {parallel}" in commands, commands
    assert f"-m tests.postgres {parallel}" in commands, commands


@pytest.mark.process
def test_make_test_fast_runs_the_unit_lane_without_redis_or_chromium():
    commands = make_dry_run("test-fast")
    assert re.search(r'pytest -m "not process"', commands), commands
    assert "redis-server" not in commands and "chromium" not in commands


@pytest.mark.process
def test_make_refuses_a_python_older_than_3_11(tmp_path):
    fake = tmp_path / "python3"
    fake.write_text('#!/bin/sh\n[ "$1" = --version ] && echo "Python 3.9.2" && exit 0\nexit 1\n')
    fake.chmod(0o755)
    result = subprocess.run(
        ["make", "--no-print-directory", "-B", "setup", f"PYTHON={fake}"],
        cwd=ROOT, capture_output=True, text=True, timeout=60,
    )
    assert result.returncode != 0
    assert f"Python 3.11 or newer is needed; '{fake}' is Python 3.9.2." in result.stdout


@pytest.mark.integration
@pytest.mark.timeout(180)
def test_ctrl_c_lets_the_demos_worker_finish_its_polls(tmp_path, sim, redis_client, redis_url):
    """honcho signals each entry's whole process group: the worker's pool children must not
    get that SIGTERM (they would die mid-poll: WorkerLostError), only its main process."""
    from tests.fixtures.simulator import write_config

    (tmp_path / "var").mkdir()
    config = write_config(sim, tmp_path / "wincc.json")
    entries = procfile()
    (tmp_path / "Procfile").write_text(
        "".join(f"{name}: {entries[name]}\n" for name in ("worker", "beat")), encoding="utf-8")
    # DEBUG: a successful poll writes its Celery lines only there.
    env = demo_env(tmp_path, config, **sim.env, REDIS_URL=redis_url, LOG_LEVEL="DEBUG")
    subprocess.run([sys.executable, str(ROOT / "manage.py"), "migrate", "--noinput"],
                   cwd=tmp_path, env=env, capture_output=True, check=True, timeout=120)
    sim.set_faults(latency_ms=400)  # every poll takes a while: some run when Ctrl-C comes
    log_path = tmp_path / "honcho.log"
    with log_path.open("w") as log:
        honcho = subprocess.Popen(
            [str(Path(sys.executable).with_name("honcho")), "start", "worker", "beat"],
            cwd=tmp_path, env=env, stdout=log, stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        try:
            _wait_until(lambda: log_path.read_text().count("poll_site") >= 6, 90,
                        "polls running")
            os.killpg(honcho.pid, signal.SIGINT)  # Ctrl-C
            assert honcho.wait(timeout=60) == 130
        finally:
            if honcho.poll() is None:
                # honcho starts each entry in a group of its own: stopped through honcho,
                # or those groups would outlive the test and load every test after it.
                os.killpg(honcho.pid, signal.SIGTERM)
                try:
                    honcho.wait(timeout=30)
                except subprocess.TimeoutExpired:
                    os.killpg(honcho.pid, signal.SIGKILL)
    output = log_path.read_text()
    assert "Warm shutdown" in output
    assert "Traceback" not in output and "WorkerLostError" not in output, output[-5000:]


@pytest.mark.process
@pytest.mark.parametrize("config", ["", "/etc/wincc-dashboard/wincc.json"])
def test_every_line_make_run_would_run_is_valid_shell(config):
    # A comma inside $(if ...) once split a message into a shell syntax error on every
    # fresh `make run`; the dry run prints each recipe line as the shell will get it.
    env = {k: v for k, v in os.environ.items() if k != "WINCC_CONFIG"}
    base = {k: v for k, v in env.items() if k not in ("REDIS_URL", "MAKEFLAGS")}
    result = subprocess.run(
        ["make", "--no-print-directory", "-n", "run",
         *([f"WINCC_CONFIG={config}"] if config else [])],
        cwd=ROOT, capture_output=True, text=True, timeout=60, env=base,
    )
    assert result.returncode == 0, result.stderr
    # A recipe line continued with a backslash is printed as it is written: join it again.
    joined = result.stdout.replace("\\\n", " ")
    lines = [line for line in joined.splitlines() if line.strip()]
    assert any("honcho" in line for line in lines)
    for line in lines:
        check = subprocess.run(["bash", "-n", "-c", line], capture_output=True, text=True)
        assert check.returncode == 0, f"{line!r}: {check.stderr}"


def test_the_demo_s_simulators_play_the_plant_day_and_the_tests_do_not():
    """A newcomer sees alarms come and go (wincc_sim/dayscript.py); the simulators the tests
    start stay quiet unless a test asks for the day script."""
    sims = [line for line in (ROOT / "Procfile").read_text(encoding="utf-8").splitlines()
            if line.startswith("sim-")]
    assert len(sims) == 3 and all("--day-script" in line for line in sims)
    harness = (ROOT / "tests" / "harness" / "simulator.py").read_text(encoding="utf-8")
    assert "day_script" not in harness and "--day-script" not in harness
