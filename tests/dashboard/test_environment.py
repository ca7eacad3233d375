"""dashboard/environment.py: the one place that reads the environment file and checks what
the environment holds."""

from __future__ import annotations

import os
import re
from pathlib import Path

import pytest
from django.core.exceptions import ImproperlyConfigured

from dashboard import environment

ROOT = Path(__file__).resolve().parents[2]


def test_only_the_environment_module_reads_an_environment_file():
    readers = [path.relative_to(ROOT).as_posix()
               for package in ("dashboard", "wincc_ingest", "wincc_bridge")
               for path in (ROOT / package).rglob("*.py")
               if re.search(r"^\s*(from|import) dotenv", path.read_text(), re.M)]
    assert readers == ["dashboard/environment.py"]


def test_a_yes_no_typo_is_shown_and_anything_longer_is_not(monkeypatch):
    monkeypatch.setenv("SECURE_COOKIES", "ture")
    with pytest.raises(ImproperlyConfigured, match=r"not 'ture'\.$"):
        environment.env_bool("SECURE_COOKIES")
    # A secret on the wrong line.
    monkeypatch.setenv("SECURE_COOKIES", "Op-Journey-Pw1")
    with pytest.raises(ImproperlyConfigured) as raised:
        environment.env_bool("SECURE_COOKIES")
    assert str(raised.value) == "SECURE_COOKIES must be one of 1/true/yes/on or 0/false/no/off."


def test_the_file_fills_in_what_the_environment_does_not_set(tmp_path, monkeypatch):
    path = tmp_path / "env"
    path.write_text("WDASH_ENV_TEST_A=from-file\nWDASH_ENV_TEST_B='va$lue # kept'\n")
    monkeypatch.setenv("WDASH_ENV_TEST_A", "from-environment")
    monkeypatch.delenv("WDASH_ENV_TEST_B", raising=False)
    environment.load_file(path)
    assert os.environ["WDASH_ENV_TEST_A"] == "from-environment"
    assert os.environ.pop("WDASH_ENV_TEST_B") == "va$lue # kept"


def test_require_names_every_missing_variable(monkeypatch):
    monkeypatch.delenv("WDASH_ENV_TEST_X", raising=False)
    monkeypatch.setenv("WDASH_ENV_TEST_Y", "  ")
    with pytest.raises(SystemExit) as raised:
        environment.require(("WDASH_ENV_TEST_X", "WDASH_ENV_TEST_Y"), "start")
    assert str(raised.value).startswith(
        "Cannot start: WDASH_ENV_TEST_X and WDASH_ENV_TEST_Y are not set; put them in")
