"""Settings come from the environment with safe production defaults; a broken configuration
stops `manage.py check` and the web process with its JSON paths.

Each case runs in a fresh interpreter: settings are read once per process.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
SHOW = """
import json
import dashboard.settings as s
db = s.DATABASES["default"]
print(json.dumps({
    "DEBUG": s.DEBUG, "ALLOWED_HOSTS": s.ALLOWED_HOSTS,
    "CSRF_TRUSTED_ORIGINS": s.CSRF_TRUSTED_ORIGINS,
    "SESSION_COOKIE_SECURE": s.SESSION_COOKIE_SECURE, "CSRF_COOKIE_SECURE": s.CSRF_COOKIE_SECURE,
    "SESSION_COOKIE_HTTPONLY": s.SESSION_COOKIE_HTTPONLY,
    "SECURE_HSTS_SECONDS": s.SECURE_HSTS_SECONDS, "X_FRAME_OPTIONS": s.X_FRAME_OPTIONS,
    "ENGINE": db["ENGINE"], "NAME": str(db["NAME"]), "HOST": db.get("HOST", ""),
    "CONN_MAX_AGE": db["CONN_MAX_AGE"], "REDIS_URL": s.REDIS_URL,
    "CELERY_BROKER_URL": s.CELERY_BROKER_URL, "WINCC_CONFIG": s.WINCC_CONFIG,
}))
"""


def clean_env(**extra: str) -> dict[str, str]:
    """The process environment without any of the product's settings, plus `extra`."""
    keep = ("PATH", "HOME", "LANG", "LC_ALL", "SYSTEMROOT")
    env = {k: v for k, v in os.environ.items() if k in keep}
    env["DJANGO_SETTINGS_MODULE"] = "dashboard.settings"
    env.update(extra)
    return env


def run(args: list[str], timeout: float = 60, **env: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        args, cwd=ROOT, env=clean_env(**env), capture_output=True, text=True, timeout=timeout
    )


def settings_with(**env: str) -> dict:
    result = run([sys.executable, "-c", SHOW], **env)
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)


def good_config(tmp_path: Path) -> Path:
    path = tmp_path / "wincc.json"
    path.write_text(
        json.dumps(
            {
                "sites": [
                    {
                        "id": "line",
                        "dialect": "rest-v1",
                        "url": "https://wincc01:8443",
                        "read_user": {"username": "", "token_env": "LINE_TOKEN"},
                        "tags": [{"name": "Tank_Level"}],
                    }
                ]
            }
        )
    )
    return path


SECRET_KEY_SENTENCE = (
    "DJANGO_SECRET_KEY is not set: a real installation needs its own key in its environment "
    "(file), e.g. the output of python3 -c 'import secrets; print(secrets.token_urlsafe(50))' "
    "(docs/install.md); to try the demo instead, run `make run` or set WDASH_DEMO=1."
)


@pytest.mark.process
def test_the_secret_key_is_required_when_debug_is_off():
    result = run([sys.executable, "-c", "import dashboard.settings"])
    assert result.returncode != 0
    assert SECRET_KEY_SENTENCE in result.stderr


@pytest.mark.process
@pytest.mark.parametrize("command", [["manage.py", "check"], ["manage.py", "migrate"]])
def test_a_command_without_the_secret_key_says_so_in_one_sentence(tmp_path, command):
    """No traceback: the sentence alone, and how to set the key or try the demo."""
    result = run([sys.executable, *command], DEBUG="0",
                 WINCC_CONFIG=str(good_config(tmp_path)), WDASH_VAR_DIR=str(tmp_path))
    assert result.returncode == 1
    assert result.stdout == ""
    assert result.stderr == SECRET_KEY_SENTENCE + "\n"
    assert not (tmp_path / "dashboard.sqlite3").exists()


@pytest.mark.process
def test_make_check_without_the_secret_key_says_so_in_one_sentence(tmp_path):
    env = {k: v for k, v in clean_env().items() if k != "DJANGO_SETTINGS_MODULE"}
    result = subprocess.run(
        ["make", "--no-print-directory", "check", f"WINCC_CONFIG={good_config(tmp_path)}"],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=300,
    )
    assert result.returncode != 0
    assert "Traceback" not in result.stderr
    assert result.stderr.splitlines()[0] == SECRET_KEY_SENTENCE


@pytest.mark.process
@pytest.mark.parametrize("word", ["1", "true", "Yes", " on "])
def test_on_words_turn_a_switch_on(word):
    assert settings_with(DEBUG=word)["DEBUG"] is True


@pytest.mark.process
@pytest.mark.parametrize("word", ["0", "false", "No", "off", ""])
def test_off_words_turn_a_switch_off(word):
    assert settings_with(DEBUG=word, DJANGO_SECRET_KEY="k" * 50)["DEBUG"] is False


@pytest.mark.process
def test_a_switch_with_an_unknown_value_stops_the_start():
    result = run([sys.executable, "-c", "import dashboard.settings"],
                 DJANGO_SECRET_KEY="k" * 50, SECURE_COOKIES="ture")
    assert result.returncode != 0
    assert "SECURE_COOKIES must be one of 1/true/yes/on or 0/false/no/off, not 'ture'." in (
        result.stderr)


@pytest.mark.process
@pytest.mark.parametrize(("env", "sentence"), [
    ({"TRUST_X_FORWARDED_FOR": "1"}, "TRUST_X_FORWARDED_FOR is no longer read."),
    ({"TRUSTED_PROXIES": "10.0.0.1,*"}, "TRUSTED_PROXIES must list the reverse proxies'"),
])
def test_proxy_settings_that_cannot_be_right_stop_the_start(env, sentence):
    """Both the web (settings) and gunicorn (its config module) refuse to start."""
    for program in ("import dashboard.settings", "import dashboard.gunicorn_conf"):
        result = run([sys.executable, "-c", program], DJANGO_SECRET_KEY="k" * 50, **env)
        assert result.returncode != 0, program
        assert sentence in result.stderr, program


@pytest.mark.process
@pytest.mark.parametrize(("env", "sentence"), [
    ({"METRICS_TOKEN": "too-short"}, "METRICS_TOKEN is 9 characters long; it needs at least 16"),
    ({"METRICS_ALLOW_FROM": "prometheus.plant"}, "METRICS_ALLOW_FROM must list the Prometheus"),
])
def test_metrics_access_that_cannot_be_right_stops_the_start(env, sentence):
    result = run([sys.executable, "-c", "import dashboard.settings"],
                 DJANGO_SECRET_KEY="k" * 50, **env)
    assert result.returncode != 0
    assert sentence in result.stderr
    assert "too-short" not in result.stderr  # the sentence never repeats the token


@pytest.mark.process
def test_production_defaults_are_the_safe_ones():
    settings = settings_with(DJANGO_SECRET_KEY="production-secret")
    assert settings["DEBUG"] is False
    assert settings["ALLOWED_HOSTS"] == []
    assert settings["SESSION_COOKIE_SECURE"] is True
    assert settings["CSRF_COOKIE_SECURE"] is True
    assert settings["SESSION_COOKIE_HTTPONLY"] is True
    assert settings["SECURE_HSTS_SECONDS"] >= 31536000
    assert settings["X_FRAME_OPTIONS"] == "DENY"
    assert settings["CONN_MAX_AGE"] == 0


@pytest.mark.process
def test_debug_relaxes_only_what_local_development_needs():
    settings = settings_with(DEBUG="1")
    assert settings["DEBUG"] is True
    assert settings["ALLOWED_HOSTS"] == ["127.0.0.1", "localhost"]
    assert settings["SESSION_COOKIE_SECURE"] is False
    assert settings["SECURE_HSTS_SECONDS"] == 0


@pytest.mark.process
def test_everything_else_comes_from_the_environment():
    settings = settings_with(
        DJANGO_SECRET_KEY="production-secret",
        ALLOWED_HOSTS="dashboard.plant.example, wall.plant.example",
        CSRF_TRUSTED_ORIGINS="https://dashboard.plant.example",
        DATABASE_URL="postgres://wdash:pw@db.plant.example:5432/wdash",
        REDIS_URL="redis://cache.plant.example:6380/2",
        WINCC_CONFIG="/etc/wdash/wincc.json",
    )
    assert settings["ALLOWED_HOSTS"] == ["dashboard.plant.example", "wall.plant.example"]
    assert settings["CSRF_TRUSTED_ORIGINS"] == ["https://dashboard.plant.example"]
    assert settings["ENGINE"] == "django.db.backends.postgresql"
    assert (settings["HOST"], settings["NAME"]) == ("db.plant.example", "wdash")
    assert settings["REDIS_URL"] == "redis://cache.plant.example:6380/2"
    assert settings["CELERY_BROKER_URL"] == "redis://cache.plant.example:6380/2"
    assert settings["WINCC_CONFIG"] == "/etc/wdash/wincc.json"


@pytest.mark.process
def test_the_default_database_is_sqlite_under_var(tmp_path):
    settings = settings_with(DEBUG="1", WDASH_VAR_DIR=str(tmp_path))
    assert settings["ENGINE"] == "django.db.backends.sqlite3"
    assert settings["NAME"] == str(tmp_path / "dashboard.sqlite3")
    assert settings["WINCC_CONFIG"] == str(ROOT / "dashboard" / "demo" / "config.json")


@pytest.mark.process
def test_check_fails_on_a_broken_configuration_naming_each_json_path(tmp_path):
    config = good_config(tmp_path)
    data = json.loads(config.read_text())
    data["sites"][0]["dialect"] = "opc"
    config.write_text(json.dumps(data))
    result = run(
        [sys.executable, "manage.py", "check"],
        DEBUG="1",
        WINCC_CONFIG=str(config),
        WDASH_VAR_DIR=str(tmp_path),
    )
    assert result.returncode == 1
    assert '$.sites[0].dialect: must be one of "classic", "unified", "rest-v1", not "opc"' in (
        result.stderr
    )
    assert "$.sites[0].read_user.token_env: environment variable LINE_TOKEN is not set" in (
        result.stderr
    )
    assert "(wdash.E001)" in result.stderr


@pytest.mark.process
def test_check_fails_on_a_file_that_is_not_json(tmp_path):
    config = tmp_path / "wincc.json"
    config.write_text('{"sites": [')
    result = run(
        [sys.executable, "manage.py", "check"],
        DEBUG="1",
        WINCC_CONFIG=str(config),
        WDASH_VAR_DIR=str(tmp_path),
    )
    assert result.returncode == 1
    assert "$: not valid JSON at line 1, column 12" in result.stderr


@pytest.mark.process
def test_check_passes_on_a_good_configuration(tmp_path):
    result = run(
        [sys.executable, "manage.py", "check"],
        DEBUG="1",
        WINCC_CONFIG=str(good_config(tmp_path)),
        LINE_TOKEN="token",
        WDASH_VAR_DIR=str(tmp_path),
    )
    assert result.returncode == 0, result.stderr
    assert "System check identified no issues" in result.stdout


@pytest.mark.process
def test_demo_mode_open_to_the_network_is_flagged(tmp_path):
    result = run(
        [sys.executable, "manage.py", "check"],
        WDASH_DEMO="1",
        ALLOWED_HOSTS="dashboard.plant.example",
        WINCC_CONFIG=str(good_config(tmp_path)),
        LINE_TOKEN="token",
        WDASH_VAR_DIR=str(tmp_path),
    )
    assert "(wdash.W001) WDASH_DEMO is on while ALLOWED_HOSTS admits dashboard.plant.example" in (
        result.stderr
    )


@pytest.mark.process
@pytest.mark.timeout(90)
def test_the_web_server_refuses_to_start_on_a_broken_configuration(tmp_path):
    """The real production command: gunicorn with uvicorn workers exits and says why."""
    config = good_config(tmp_path)  # LINE_TOKEN is not set
    result = run(
        [
            str(Path(sys.executable).with_name("gunicorn")),
            "dashboard.asgi:application",
            "-k",
            "uvicorn_worker.UvicornWorker",
            "--bind",
            "127.0.0.1:0",
        ],
        timeout=60,
        DJANGO_SECRET_KEY="production-secret",
        WINCC_CONFIG=str(config),
        WDASH_VAR_DIR=str(tmp_path),
    )
    assert result.returncode != 0
    assert "Refusing to start: configuration" in result.stderr
    assert "$.sites[0].read_user.token_env: environment variable LINE_TOKEN is not set" in (
        result.stderr
    )


def test_check_warns_about_links_that_expose_secrets(tmp_path, monkeypatch, settings):
    from dashboard.checks import check_wincc_config

    data = json.loads(good_config(tmp_path).read_text())
    plain = dict(data["sites"][0], id="plain", url="http://wincc02:8080")
    blind = dict(data["sites"][0], id="blind", tls={"verify": False, "insecure": True})
    data["sites"] += [plain, blind]
    path = tmp_path / "mixed.json"
    path.write_text(json.dumps(data))
    monkeypatch.setenv("LINE_TOKEN", "token")
    settings.WINCC_CONFIG = str(path)

    messages = check_wincc_config()

    assert [(m.id, m.msg.split(":")[0]) for m in messages] == [
        ("wdash.W002", "site 'plain' is reached over plain HTTP"),
        ("wdash.W003", "site 'blind' does not verify the server's certificate (tls.insecure)"),
    ]
    assert all(not m.is_serious() for m in messages)  # warnings: check still passes
