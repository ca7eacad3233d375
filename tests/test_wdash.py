"""`wdash`: a real installation's commands (docs/install.md), run as the engineer runs them.

Each test runs the installed `wdash` script in a subprocess with a clean environment and an
environment file, never the demo's settings.
"""

from __future__ import annotations

import json
import os
import re
import shlex
import signal
import sqlite3
import subprocess
import sys
from pathlib import Path

import httpx
import pytest

from tests.fixtures.simulator import write_config
from tests.harness.processes import free_port, spawn, wait_until
from tests.test_demo import _processes_with
from wincc_ingest import store

ROOT = Path(__file__).resolve().parent.parent
WDASH = str(Path(sys.executable).with_name("wdash"))
SECRET = "test-only-secret-key-" + "x" * 40


def clean_env(**extra: str) -> dict[str, str]:
    """This process's environment without any of the product's settings."""
    keep = ("PATH", "HOME", "LANG", "LC_ALL")
    return {**{k: v for k, v in os.environ.items() if k in keep}, **extra}


def env_file(tmp_path: Path, **values: str) -> Path:
    path = tmp_path / "env"
    path.write_text("# as deploy/systemd/env.example\n"
                    + "".join(f"{name}={value}\n" for name, value in values.items()))
    return path


def installation(tmp_path: Path, **values: str) -> dict[str, str]:
    """The settings of a real installation on SQLite under tmp_path, without WINCC_CONFIG."""
    return {
        "DJANGO_SECRET_KEY": SECRET,
        "ALLOWED_HOSTS": "127.0.0.1",
        "DATABASE_URL": f"sqlite:///{tmp_path / 'wdash.sqlite3'}",
        "REDIS_URL": "redis://127.0.0.1:1/0",
        "WDASH_VAR_DIR": str(tmp_path / "var"),
        **values,
    }


def wdash(*args: str, env: dict[str, str], stdin: str | None = None,
          timeout: float = 120) -> subprocess.CompletedProcess:
    return subprocess.run(
        [WDASH, *args], cwd=ROOT, env=env, input=stdin, capture_output=True, text=True,
        timeout=timeout,
    )


def users(database: Path) -> list[tuple[str, int, int]]:
    with sqlite3.connect(database) as db:
        return db.execute(
            "SELECT username, is_superuser, is_staff FROM auth_user ORDER BY username"
        ).fetchall()


def token_config(tmp_path: Path, variable: str = "LINE_TOKEN") -> Path:
    path = tmp_path / "wincc.json"
    path.write_text(json.dumps({"sites": [{
        "id": "line", "dialect": "rest-v1", "url": "https://wincc01:8443",
        "read_user": {"username": "", "token_env": variable},
        "tags": [{"name": "Tank_Level"}],
    }]}))
    return path


def test_serve_runs_each_process_as_its_systemd_unit_does():
    from dashboard.cli import processes
    from tests.test_systemd import UNITS, project_argv, unit

    ours = processes("127.0.0.1:8000", Path("/var/lib/wincc-dashboard"), "INFO")
    for name, program in ours.items():
        service = unit(UNITS / f"wincc-dashboard-{name}.service")["Service"]
        theirs = project_argv(service["ExecStart"])
        if theirs[:2] == ["python", "manage.py"]:  # the subscriber: the checkout's manage.py
            assert program[0] == sys.executable and program[1] == str(ROOT / "manage.py")
            assert program[2:] == theirs[2:], name
            continue
        assert program[:2] == [sys.executable, "-m"]
        # The same program and options; the units write some as --option=value.
        split = [part for arg in theirs for part in arg.split("=", 1)]
        assert program[2:] == [arg.replace("worker@%H", "worker@%h") for arg in split], name


def test_serve_s_worker_also_consumes_every_site_queue():
    """A site with a `queue` is routed there; under `wdash serve` no other worker would poll it."""
    from dashboard.cli import processes

    worker = processes("127.0.0.1:8000", Path("/var/lib/w"), "INFO", ["hall-b", "hall-a", "hall-b"])
    queues = worker["worker"][worker["worker"].index("--queues") + 1]
    assert queues == "celery,deliveries,hall-b,hall-a"


def test_serve_refuses_code_installed_away_from_its_templates(tmp_path):
    from dashboard.cli import require_checkout

    require_checkout(ROOT)
    (tmp_path / "static").mkdir()
    with pytest.raises(SystemExit, match=r"^The dashboard's templates are not beside its code "
                                         rf"in {tmp_path}: install the checkout editable"):
        require_checkout(tmp_path)


# -- refusals: one sentence, non-zero, no values -----------------------------------------


@pytest.mark.process
def test_serve_names_every_missing_variable_and_prints_no_value(tmp_path):
    path = env_file(tmp_path, DJANGO_SECRET_KEY=SECRET, ALLOWED_HOSTS="127.0.0.1")
    result = wdash("serve", "--env-file", str(path), env=clean_env())
    assert result.returncode == 1
    assert result.stdout == ""
    assert result.stderr == (
        "Cannot start: DATABASE_URL, REDIS_URL and WINCC_CONFIG are not set; put them in the "
        "environment file (--env-file, see deploy/systemd/env.example and docs/install.md) "
        "or the environment.\n"
    )
    assert SECRET not in result.stderr


@pytest.mark.process
def test_serve_refuses_a_missing_environment_file(tmp_path):
    result = wdash("serve", "--env-file", str(tmp_path / "nope"), env=clean_env())
    assert result.returncode == 1
    assert result.stderr == f"The environment file {tmp_path / 'nope'} does not exist.\n"


@pytest.mark.process
@pytest.mark.parametrize(("command", "setting", "sentence"), [
    ("serve", {"WDASH_DEMO": "1"}, "Cannot start: WDASH_DEMO must be off for a real "
     "installation (they relax cookie security); the demo is `make run`."),
    ("check", {"SECURE_COOKIES": "ture"},
     "SECURE_COOKIES must be one of 1/true/yes/on or 0/false/no/off, not 'ture'."),
])
def test_a_setting_that_cannot_be_right_is_one_sentence(tmp_path, command, setting, sentence):
    config = token_config(tmp_path)
    path = env_file(tmp_path, **installation(tmp_path, WINCC_CONFIG=str(config),
                                             LINE_TOKEN="t", **setting))
    result = wdash(command, "--env-file", str(path), env=clean_env())
    assert result.returncode == 1
    assert result.stderr == sentence + "\n"
    assert not (tmp_path / "wdash.sqlite3").exists()


@pytest.mark.process
def test_a_database_url_that_cannot_be_read_is_one_sentence_without_its_password(tmp_path):
    config = token_config(tmp_path)
    path = env_file(tmp_path, **installation(
        tmp_path, WINCC_CONFIG=str(config), LINE_TOKEN="t",
        DATABASE_URL="postgres://wdash:pass/word@127.0.0.1:5432/wdash"))
    result = wdash("check", "--env-file", str(path), env=clean_env())
    assert result.returncode == 1
    assert len(result.stderr.splitlines()) == 1
    assert result.stderr.startswith("DATABASE_URL cannot be read (")
    assert "pass/word" not in result.stderr


# -- check ------------------------------------------------------------------------------


@pytest.mark.process
def test_check_lists_the_configurations_problems_offline(tmp_path):
    config = token_config(tmp_path)  # LINE_TOKEN is not set
    path = env_file(tmp_path, **installation(tmp_path, WINCC_CONFIG=str(config)))
    result = wdash("check", "--env-file", str(path), env=clean_env())
    assert result.returncode == 1
    assert "$.sites[0].read_user.token_env: environment variable LINE_TOKEN is not set" in (
        result.stderr)
    assert "Traceback" not in result.stderr


@pytest.mark.process
def test_check_passes_and_summarises_a_good_configuration(tmp_path):
    config = token_config(tmp_path)
    path = env_file(tmp_path, **installation(tmp_path, LINE_TOKEN="a-token"))
    # --config sets WINCC_CONFIG; the environment file's values fill in the rest.
    result = wdash("check", "--env-file", str(path), "--config", str(config), env=clean_env())
    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines()[-1] == (
        f"{config}: 1 site(s) (line), 0 dashboard(s). Settings and configuration are ready."
    )
    assert "AXES" not in result.stdout + result.stderr
    assert not (tmp_path / "wdash.sqlite3").exists()  # offline: not even the database


@pytest.mark.process
def test_the_environment_wins_over_the_file(tmp_path):
    config = token_config(tmp_path)
    path = env_file(tmp_path, **installation(tmp_path, WINCC_CONFIG=str(config),
                                             LINE_TOKEN="a-token", ALLOWED_HOSTS=""))
    result = wdash("check", "--env-file", str(path), env=clean_env(ALLOWED_HOSTS="dash.example"))
    assert result.returncode == 0, result.stderr


# -- createadmin -------------------------------------------------------------------------


@pytest.mark.process
def test_createadmin_makes_a_superuser_with_the_password_from_the_variable(tmp_path):
    path = env_file(tmp_path, **installation(tmp_path))
    password = "correct horse battery staple 42"
    result = wdash("createadmin", "--env-file", str(path), "--username", "anna",
                   "--email", "anna@plant.example", "--password-env", "ADMIN_PASSWORD",
                   env=clean_env(ADMIN_PASSWORD=password))
    assert result.returncode == 0, result.stderr
    assert result.stdout == (
        "Administrator 'anna' created: sign in at /admin/ to add people and groups.\n"
    )
    assert password not in result.stdout + result.stderr
    assert users(tmp_path / "wdash.sqlite3") == [("anna", 1, 1)]

    again = wdash("createadmin", "--env-file", str(path), "--username", "anna",
                  "--password-env", "ADMIN_PASSWORD", env=clean_env(ADMIN_PASSWORD=password))
    assert again.returncode == 1
    assert again.stderr.startswith("A user named 'anna' already exists;")


@pytest.mark.process
@pytest.mark.parametrize(("args", "extra", "sentence"), [
    ([], {}, "No password: name the variable that holds it with --password-env, or run this "
             "at a terminal to be asked for it."),
    (["--password-env", "ADMIN_PASSWORD"], {},
     "ADMIN_PASSWORD is not set or empty; it must hold the administrator's password."),
    (["--password-env", "ADMIN_PASSWORD"], {"ADMIN_PASSWORD": "anna"},
     "The password is refused: This password is too short. It must contain at least 8 "
     "characters. This password is too common."),
])
def test_createadmin_refuses_without_a_good_password(tmp_path, args, extra, sentence):
    path = env_file(tmp_path, **installation(tmp_path))
    result = wdash("createadmin", "--env-file", str(path), "--username", "anna", *args,
                   env=clean_env(**extra), stdin="")
    assert result.returncode == 1
    assert result.stderr.splitlines() == [sentence]
    if (tmp_path / "wdash.sqlite3").exists():
        assert users(tmp_path / "wdash.sqlite3") == []


# -- serve: the whole product on a plant's configuration ---------------------------------


@pytest.mark.integration
@pytest.mark.timeout(240)
def test_serve_runs_the_product_on_a_plant_configuration_and_stops_cleanly(
    tmp_path, sim, redis_client, redis_url
):
    """web, worker and beat poll a (simulated) plant, a site on a queue of its own too, and
    the subscriber holds the Unified site's subscription; SIGTERM stops them with no
    traceback, even while polls are running."""
    config = write_config(sim, tmp_path / "wincc.json")
    plant = json.loads(config.read_text())
    plant["sites"][1]["queue"] = "hall-b"
    assert plant["sites"][0]["dialect"] == "unified"
    plant["sites"][0]["ingest"] = "subscribe"
    config.write_text(json.dumps(plant))
    port = free_port()
    marker = f"WDASH_SERVE_TEST={tmp_path.name}"
    path = env_file(tmp_path, **installation(tmp_path, REDIS_URL=redis_url,
                                             WINCC_CONFIG=str(config)), **sim.env)
    proc = spawn("wdash", [WDASH, "serve", "--env-file", str(path),
                           "--bind", f"127.0.0.1:{port}", "--stop-timeout", "60"],
                 log=tmp_path / "wdash.log",
                 # Its own HOME: gunicorn keeps its control socket there.
                 env=clean_env(**dict([marker.split("=")]), WEB_WORKERS="1",
                               HOME=str(tmp_path)))
    try:
        with httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=5) as client:

            def answers(path: str) -> httpx.Response | None:
                if not proc.alive():
                    raise AssertionError(proc.tail(60))
                try:
                    return client.get(path)
                except httpx.TransportError:
                    return None

            page = wait_until(lambda: answers("/accounts/login/"), timeout=120, interval=0.5)
            assert page.status_code == 200
            assert 'name="password"' in page.text

            def every_site_polled():
                health = answers("/health/").json()
                return health["workers"] >= 1 and health["beat"] and all(
                    site["current"] for site in health["sites"].values())

            wait_until(every_site_polled, timeout=90, interval=0.5)
            wait_until(lambda: redis_client.exists(store.site_subscriber(plant["sites"][0]["id"])),
                       timeout=30)
            assert users(tmp_path / "wdash.sqlite3") == []  # no demo users

            # A worker that dies is started again, as systemd's Restart=always would.
            worker = int(re.search(r"worker started \(pid (\d+)\)", proc.output(10**7))[1])
            os.kill(worker, signal.SIGKILL)
            wait_until(lambda: proc.output(10**7).count(" ready.") == 2, timeout=60)
            assert "worker was killed by SIGKILL; starting it again in 1 s" in proc.output(10**7)

        def requests_served() -> int:
            return sum(sim.admin("GET", "/admin/state", tags="none")["request_counts"].values())

        # Slow answers, and polls taken by the new worker: some run when the stop comes.
        sim.set_faults(latency_ms=400)
        enough = requests_served() + 3
        wait_until(lambda: requests_served() >= enough, timeout=30)
        proc.popen.send_signal(signal.SIGTERM)
        assert proc.popen.wait(timeout=90) == 0, proc.tail(60)
    finally:
        proc.stop()
    output = proc.output(10**7)
    assert "Traceback" not in output and "WorkerLostError" not in output, output[-6000:]
    for name in ("web", "worker", "beat", "subscriber"):
        # The prefixes are padded to the longest process name.
        assert re.search(rf"^wdash +\| {name} stopped$", output, re.M), output[-3000:]
    assert "Warm shutdown" in output
    assert "AXES" not in output
    # At INFO a poll writes no line of its own (dashboard/log_filters.py); beat's start does.
    assert "beat: Starting..." in output
    for routine in ("Sending due task", "] received", "] succeeded in", "Discarding revoked"):
        assert routine not in output, routine
    wait_until(lambda: not _processes_with(marker), timeout=15)


@pytest.mark.process
def test_make_serve_runs_wdash_serve_without_the_simulators_variables():
    result = subprocess.run(
        ["make", "--no-print-directory", "-n", "serve", "WINCC_CONFIG=/etc/w/wincc.json",
         "ENV_FILE=/etc/w/env", "PORT=8123"],
        cwd=ROOT, capture_output=True, text=True, timeout=60,
        env={k: v for k, v in os.environ.items() if k != "MAKEFLAGS"},
    )
    assert result.returncode == 0, result.stderr
    argv = shlex.split(result.stdout.replace("\\\n", " ").splitlines()[-1])
    program = next(i for i, arg in enumerate(argv) if arg.endswith("/wdash"))
    assert argv[0] == "env"
    unset = argv[1:program]
    assert unset[::2] == ["-u"] * (len(unset) // 2)
    assert {"WINCC_SIM_RO_PASSWORD", "WINCC_SIM_RW_TOKEN", "WINCC_SIM_ADMIN_TOKEN"} <= set(unset)
    assert argv[program + 1:] == ["serve", "--env-file", "/etc/w/env", "--bind", "127.0.0.1:8123"]
    assert "demo" not in result.stdout and "wincc_sim" not in result.stdout


@pytest.mark.process
def test_check_online_asks_each_server_and_fails_on_a_tag_it_does_not_have(tmp_path, sim):
    config = write_config(sim, tmp_path / "wincc.json")
    path = env_file(tmp_path, **installation(tmp_path, WINCC_CONFIG=str(config)), **sim.env)
    result = wdash("check", "--online", "--env-file", str(path), env=clean_env())
    assert result.returncode == 0, result.stdout + result.stderr
    assert "Settings and configuration are ready." in result.stdout
    assert re.search(r"^\s*ok\s+login\s", result.stdout, re.MULTILINE), result.stdout

    document = json.loads(config.read_text())
    document["sites"][0]["tags"].append({"name": "No_Such_Tag_On_This_Server"})
    config.write_text(json.dumps(document))
    result = wdash("check", "--online", "--site", document["sites"][0]["id"],
                   "--env-file", str(path), env=clean_env())
    assert result.returncode == 1
    assert "No_Such_Tag_On_This_Server" in result.stdout
    assert "Traceback" not in result.stdout + result.stderr
