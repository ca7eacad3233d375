"""No secret in any message: secrets put where names belong, and the secrets the
configuration's variables hold, never appear in what the product prints or logs.

Each test feeds distinctive secret strings to the validator, `manage.py check`,
`manage.py wincc_check`, the `wincc-bridge` command and a poll against the simulator,
captures everything they say (stdout, stderr, logs, the health stored in Redis) and
searches it for every secret.
"""

from __future__ import annotations

import json
import logging
import os
import subprocess
import sys
from pathlib import Path
from unittest import mock

import pytest
import redis

from tests.fixtures.simulator import Simulator, write_config
from tests.harness.processes import REPO
from wincc_ingest import store
from wincc_ingest.config import ConfigError, load
from wincc_ingest.config_validation import validate
from wincc_ingest.poller import Pollers

pytestmark = pytest.mark.process

# Secrets typed where a name belongs: one that is not a variable name, and one that is.
TYPED_PASSWORD = "Pa55-Typed!Secret"
TYPED_NAME_LIKE = "Hunter2Secret"
TYPED_TOKEN = "tok.TypedSecret=="
URL_PASSWORD = "UrlPa55Secret"
URL_TOKEN = "UrlTokenSecret"
WRONG_PASSWORD = "Wrong-Pa55-Secret"
WRONG_TOKEN = "Wrong-Token-Secret"
TYPED = (TYPED_PASSWORD, TYPED_NAME_LIKE, TYPED_TOKEN, URL_PASSWORD, URL_TOKEN)


def secrets_of(sim: Simulator) -> list[str]:
    """Every secret a run may know: the simulator's users' and the ones typed by mistake."""
    known = [value for key, value in sim.env.items() if not key.endswith("_USER")]
    return [*known, *TYPED, WRONG_PASSWORD, WRONG_TOKEN]


def assert_no_secret(secrets: list[str], *outputs: str) -> None:
    said = "\n".join(outputs)
    assert said.strip(), "nothing was captured: the search would prove nothing"
    leaked = [secret for secret in secrets if secret in said]
    assert not leaked, f"secrets in the output: {leaked}\n{said[-3000:]}"


def run(args: list[str], env: dict[str, str]) -> str:
    result = subprocess.run(args, cwd=REPO, env=env, capture_output=True, text=True,
                            timeout=120, check=False)
    return f"exit {result.returncode}\n{result.stdout}\n{result.stderr}"


def manage(env: dict[str, str], config: Path, *args: str) -> str:
    return run([sys.executable, "manage.py", *args],
               {**env, "WINCC_CONFIG": str(config), "DJANGO_SETTINGS_MODULE": "tests.settings"})


def misconfigured(sim: Simulator, tmp_path: Path) -> Path:
    """The test sites with secrets where names belong."""
    path = write_config(sim, tmp_path / "wincc.json")
    data = json.loads(path.read_text())
    oven, line, utilities = data["sites"]
    oven["read_user"]["password_env"] = TYPED_PASSWORD
    oven["write_user"]["password_env"] = TYPED_NAME_LIKE
    line["url"] = sim.url.replace("://", f"://{sim.users.ro.username}:{URL_PASSWORD}@")
    utilities["read_user"]["token_env"] = TYPED_TOKEN
    utilities["write_user"]["token_env"] = "WINCC_SIM_RW_TOKEN"
    utilities["url"] = f"{sim.url}/?token={URL_TOKEN}"
    path.write_text(json.dumps(data))
    return path


def test_secrets_where_names_belong_are_never_repeated(sim: Simulator, tmp_path):
    path = misconfigured(sim, tmp_path)
    env = {**os.environ, **sim.env}
    problems = validate(json.loads(path.read_text()), env, base_dir=tmp_path)
    # Each mistake is still reported, at its place.
    assert {p.split(":", 1)[0] for p in problems} == {
        "$.sites[0].read_user.password_env", "$.sites[0].write_user.password_env",
        "$.sites[1].url", "$.sites[2].read_user.token_env", "$.sites[2].url",
    }
    with pytest.raises(ConfigError) as caught:
        load(path, environ=env)
    check = manage(env, path, "check")
    online = manage(env, path, "wincc_check")
    assert check.startswith("exit 1") and online.startswith("exit 2")
    assert_no_secret(secrets_of(sim), "\n".join(problems), str(caught.value), check, online)


def test_the_variables_secrets_stay_out_of_checks_polls_and_logs(
    sim: Simulator, tmp_path, redis_url, caplog
):
    caplog.set_level(logging.DEBUG)
    path = write_config(sim, tmp_path / "wincc.json")
    env = {**os.environ, **sim.env}
    wrong = {**env, "WINCC_SIM_RO_PASSWORD": WRONG_PASSWORD, "WINCC_SIM_RO_TOKEN": WRONG_TOKEN}
    outputs = [manage(env, path, "check"), manage(env, path, "wincc_check"),
               manage(wrong, path, "wincc_check"), manage(wrong, path, "wincc_check", "--json")]
    assert outputs[1].startswith("exit 0") and outputs[2].startswith("exit 1")
    client = redis.Redis.from_url(redis_url, decode_responses=True)
    health = []
    try:
        for environ in (env, wrong):
            with mock.patch.dict(os.environ, environ):
                config = load(path)
                pollers = Pollers(config.sites, client)
                try:
                    outcomes = [pollers.poll(site.id) for site in config.sites]
                finally:
                    pollers.close()
            health += [repr(outcome) for outcome in outcomes]
            health += [json.dumps(client.hgetall(store.site_health(s.id))) for s in config.sites]
    finally:
        client.flushall()
        client.close()
    assert "login refused" in "\n".join(health)
    assert_no_secret(secrets_of(sim), *outputs, *health, caplog.text)


def bridge(env: dict[str, str], *args: str) -> str:
    return run([sys.executable, "-m", "wincc_bridge", *args], env)


def test_wincc_bridge_never_prints_a_secret(sim: Simulator):
    env = {**os.environ, **sim.env, "WINCC_USER": sim.users.ro.username}
    tls = ["--ca-file", sim.ca_file]
    classic = ["--dialect", "classic", "--url", sim.url, *tls, "--password-env",
               "WINCC_SIM_RO_PASSWORD"]
    unified = ["--dialect", "unified", "--url", sim.url, *tls, "--password-env",
               "WINCC_SIM_RO_PASSWORD"]
    rest_v1 = ["--dialect", "rest-v1", "--url", sim.url, *tls, "--token-env",
               "WINCC_SIM_RO_TOKEN"]
    wrong = {**env, "WINCC_SIM_RO_PASSWORD": WRONG_PASSWORD, "WINCC_SIM_RO_TOKEN": WRONG_TOKEN}
    outputs = [
        bridge(env, *classic, "ping"),
        bridge(env, *unified, "selftest", "--tag", "Tank_Level"),
        bridge(env, *rest_v1, "read", "Tank_Level"),
        bridge(env, *classic, "alarms"),
        bridge(wrong, *unified, "ping"),
        bridge(wrong, *rest_v1, "selftest"),
        bridge(env, "--dialect", "classic", "--url", sim.url, *tls, "--password-env",
               TYPED_PASSWORD, "ping"),
        bridge(env, "--dialect", "rest-v1", "--url", sim.url, *tls, "--token-env",
               TYPED_TOKEN, "ping"),
        bridge(env, "--dialect", "classic", *tls, "--url",
               sim.url.replace("://", f"://reader:{URL_PASSWORD}@"), "ping"),
        bridge(env, "--dialect", "classic", "--url", f"reader:{URL_PASSWORD}@127.0.0.1", "ping"),
        bridge(env, *rest_v1[:2], "--url", f"{sim.url}/?token={URL_TOKEN}", "ping"),
    ]
    assert [o.split("\n", 1)[0] for o in outputs] == [
        "exit 0", "exit 0", "exit 0", "exit 0", "exit 3", "exit 1",
        "exit 2", "exit 2", "exit 2", "exit 2", "exit 2",
    ]
    assert_no_secret(secrets_of(sim), *outputs)
    assert sim.requests_log() == []
