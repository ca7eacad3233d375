"""No message repeats a secret typed where a variable's name belongs.

Secrets of several shapes (mixed case, capitals and digits, one capital word, words with
underscores and digits, a token) are put into every place that takes a variable's name: the
configuration's password_env / token_env, a trigger's secret variables, `wdash createadmin
--password-env` and `wincc-bridge --password-env`. Every output is searched for each secret.
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

import pytest

from tests.test_wdash import clean_env, env_file, installation, wdash
from wincc_bridge.secrets import shown_name
from wincc_ingest.config_validation import validate
from wincc_ingest.delivery import DeliveryError, _env

# Each is a valid variable name by the shell's rule, and each could be a password.
SECRETS = ["Summer2026", "Hunter2", "HUNTER2", "PASSWORD", "S3CR3T_K3Y", "Pw_Line_1",
           "hunter_2", "XKCDCORRECTHORSEBATTERY", "ZmFrZV90b2tlbl92YWx1ZQ", "A1B2C3D4_E5"]


def leaks(secret: str, text: str) -> bool:
    """The secret as a word of its own (PASSWORD inside LINE1_RO_PASSWORD is an example)."""
    return re.search(rf"(?<![A-Za-z0-9_]){re.escape(secret)}(?![A-Za-z0-9_])", text) is not None


NAMES = ["LINE1_RO_PASSWORD", "ADMIN_PASSWORD", "WINCC_SIM_RO_TOKEN", "ERP_TOKEN", "OVEN_RW2_PW"]


@pytest.mark.parametrize("value", SECRETS)
def test_a_secret_shape_is_not_taken_for_a_name(value):
    assert not shown_name(value)


@pytest.mark.parametrize("value", NAMES)
def test_a_name_in_capitals_with_underscores_is_shown(value):
    assert shown_name(value)


def site(secret: str) -> dict:
    return {"id": "line", "dialect": "classic", "url": "https://wincc01:34568",
            "read_user": {"username": "reader", "password_env": secret},
            "write_user": {"username": "operator", "password_env": secret},
            "tags": [{"name": "Tank_Level"}]}


@pytest.mark.parametrize("secret", SECRETS)
def test_validation_never_repeats_the_secret(secret):
    data = {"sites": [site(secret), {
        "id": "utilities", "dialect": "rest-v1", "url": "https://wincc02:8443",
        "read_user": {"token_env": secret}, "tags": [{"name": "Tank_Level"}]}],
        "triggers": [{"id": "erp", "when": {"alarm": {"site": "line"}},
                      "webhook": {"url_env": secret, "secret_env": secret}}]}
    problems = validate(data, {})
    assert problems
    assert any("the environment variable named here is not set" in p for p in problems)
    assert not [p for p in problems if leaks(secret, p)]


@pytest.mark.parametrize("secret", SECRETS)
def test_a_delivery_never_repeats_the_secret(secret):
    with pytest.raises(DeliveryError) as raised:
        _env(secret, {}, "the webhook's signing secret")
    assert not leaks(secret, str(raised.value))
    assert "named for it" in str(raised.value)


@pytest.mark.process
def test_wdash_never_prints_a_secret_typed_as_a_variable_name(tmp_path):
    """check (the configuration) and createadmin (--password-env), every secret at once."""
    # One configuration with a site per secret: one `check` (a Django start, the slow part)
    # reports every site, so each secret's problem is in the same output.
    sites = [{**site(secret), "id": f"line{index}"} for index, secret in enumerate(SECRETS)]
    config = tmp_path / "wincc.json"
    config.write_text(json.dumps({"sites": sites}))
    path = env_file(tmp_path, **installation(tmp_path, WINCC_CONFIG=str(config)))
    checked = wdash("check", "--env-file", str(path), env=clean_env())
    assert checked.returncode != 0
    reported = checked.stdout + checked.stderr
    for index in range(len(SECRETS)):
        for user in ("read_user", "write_user"):
            assert (f"$.sites[{index}].{user}.password_env: the environment variable named "
                    "here is not set") in reported, (index, user, reported)
    outputs = []
    for secret in SECRETS:
        created = wdash("createadmin", "--env-file", str(path), "--username", "anna",
                        "--password-env", secret, env=clean_env())
        assert created.returncode != 0
        assert "The variable named by --password-env is not set or empty" in created.stderr
        outputs.append((secret, reported + created.stdout + created.stderr))
    for secret, output in outputs:
        assert not leaks(secret, output), (secret, output)


@pytest.mark.process
def test_wdash_names_a_variable_that_looks_like_one(tmp_path):
    path = env_file(tmp_path, **installation(tmp_path))
    created = wdash("createadmin", "--env-file", str(path), "--username", "anna",
                    "--password-env", "ADMIN_PASSWORD", env=clean_env())
    assert created.stderr.strip() == ("ADMIN_PASSWORD is not set or empty; it must hold the "
                                      "administrator's password.")


@pytest.mark.process
@pytest.mark.parametrize("secret", SECRETS[:4])
def test_wincc_bridge_never_prints_a_secret_typed_as_a_variable_name(secret):
    bridge = str(Path(sys.executable).with_name("wincc-bridge"))
    result = subprocess.run(
        [bridge, "--dialect", "classic", "--url", "http://127.0.0.1:9", "--user", "reader",
         "--password-env", secret, "--timeout", "1", "ping"],
        capture_output=True, text=True, timeout=60, env=clean_env())
    assert result.returncode != 0
    assert not leaks(secret, result.stdout + result.stderr)
