"""The environment: reading the environment file, and every check of what it holds.

One place for the whole concern, used by dashboard/settings.py (yes/no and list variables),
manage.py and `wdash` (the settings loaded or one sentence, the variables a command needs,
the demo's relaxed modes refused).

The environment file has KEY=VALUE lines, as systemd's EnvironmentFile and
deploy/systemd/env.example; the process environment wins over it. A problem ends the command
with one sentence that names the variables concerned and never prints their values.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterable
from pathlib import Path

from django.core.exceptions import ImproperlyConfigured
from dotenv import dotenv_values

from wincc_bridge.secrets import shown_name

_TRUE = {"1", "true", "yes", "on"}
_FALSE = {"0", "false", "no", "off", ""}


def env_bool(name: str, default: bool = False) -> bool:
    """A yes/no variable; a value it does not know stops the start (a typo is not "no")."""
    value = os.environ.get(name)
    if value is None:
        return default
    word = value.strip().lower()
    if word in _TRUE:
        return True
    if word in _FALSE:
        return False
    # A short word is a typo worth showing; anything else may be a secret on the wrong line.
    shown = f", not {value!r}" if re.fullmatch(r"[A-Za-z]{1,6}", word) else ""
    raise ImproperlyConfigured(f"{name} must be one of 1/true/yes/on or 0/false/no/off{shown}.")


def env_list(name: str, default: str = "") -> list[str]:
    return [item.strip() for item in os.environ.get(name, default).split(",") if item.strip()]


def load_file(env_file: Path | None, config: str | None = None) -> None:
    """The environment file's variables, under those already set; --config sets WINCC_CONFIG."""
    if env_file is not None:
        if not env_file.is_file():
            raise SystemExit(f"The environment file {env_file} does not exist.")
        try:
            # Literally, as systemd reads it: a "$" in a password is a "$".
            values = dotenv_values(env_file, interpolate=False)
        except OSError as exc:
            raise SystemExit(f"Cannot read the environment file {env_file}: "
                             f"{exc.strerror}.") from None
        for name, value in values.items():
            if value is not None:
                os.environ.setdefault(name, value)
    if config:
        os.environ["WINCC_CONFIG"] = str(Path(config).resolve())


def listed(names: Iterable[str]) -> str:
    """"A", "A and B", "A, B and C"."""
    names = list(names)
    return ", ".join(names[:-1]) + (" and " if len(names) > 1 else "") + names[-1]


def require(names: Iterable[str], what: str) -> None:
    """Every variable in `names` set and not blank, or one sentence naming the missing ones."""
    missing = [name for name in names if not os.environ.get(name, "").strip()]
    if missing:
        one = len(missing) == 1
        raise SystemExit(
            f"Cannot {what}: {listed(missing)} {'is' if one else 'are'} not set; put "
            f"{'it' if one else 'them'} in the environment file (--env-file, see "
            "deploy/systemd/env.example and docs/install.md) or the environment."
        )


def named_value(variable: str, option: str, what: str) -> str:
    """The value of the variable a person named with `option` (--password-env), or one
    sentence; the name is repeated only when it looks like one (wincc_bridge.secrets)."""
    value = os.environ.get(variable, "")
    if value:
        return value
    if shown_name(variable):
        raise SystemExit(f"{variable} is not set or empty; it must hold {what}.")
    raise SystemExit(f"The variable named by {option} is not set or empty; it must hold {what}. "
                     "Its name is not repeated: it does not look like a variable name (such as "
                     "ADMIN_PASSWORD), so it may be the secret itself.")


def settings_or_exit() -> None:
    """Load DJANGO_SETTINGS_MODULE (default dashboard.settings); exit with its sentence if not.

    dashboard/settings.py raises ImproperlyConfigured for a missing DJANGO_SECRET_KEY, an
    on/off variable with an unknown word or an unreadable TRUSTED_PROXIES. The processes
    (gunicorn, Celery) show that with its traceback; a person at a command line
    (`manage.py`, `wdash`) gets the sentence alone.
    """
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "dashboard.settings")
    from django.conf import settings

    try:
        settings.INSTALLED_APPS  # noqa: B018 - reading a setting loads the module
    except ImproperlyConfigured as exc:
        raise SystemExit(str(exc)) from None


def refuse_relaxed(what: str) -> None:
    """A real installation runs with neither DEBUG nor WDASH_DEMO (they relax cookie security)."""
    from django.conf import settings

    relaxed = [name for name, on in (("DEBUG", settings.DEBUG), ("WDASH_DEMO", settings.DEMO_MODE))
               if on]
    if relaxed:
        raise SystemExit(
            f"Cannot {what}: {' and '.join(relaxed)} must be off for a real installation "
            "(they relax cookie security); the demo is `make run`."
        )
