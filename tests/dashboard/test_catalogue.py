"""The German catalogue holds every message the code and the templates mark: makemessages is
run over the product into a copy of the catalogue, and the copy must come out with nothing
untranslated, nothing fuzzy and nothing obsolete (a message the product no longer asks for).
"""

from __future__ import annotations

import contextlib
import os
import shutil
import subprocess

import pytest
from django.conf import settings
from django.core.management import call_command

CATALOGUE = settings.BASE_DIR / "locale" / "de" / "LC_MESSAGES" / "django.po"
# Not the product: its environment, its data, its tests and its tools.
IGNORED = [".venv", "var", "tests", "bench", "build", "dist", "docs", "node_modules", ".git",
           "locale"]

# `make test` installs gettext; on CI a missing one fails rather than skips.
pytestmark = [pytest.mark.process, pytest.mark.skipif(
    shutil.which("xgettext") is None and os.environ.get("CI") != "true",
    reason="gettext is not installed (make gettext)")]


def messages(po, *flags: str) -> list[str]:
    out = subprocess.run(["msgattrib", *flags, str(po)], capture_output=True, text=True,
                         check=True).stdout
    return [line for line in out.splitlines() if line.startswith(("msgid ", "#~ msgid "))
            and line not in ('msgid ""', '#~ msgid ""')]


def test_every_marked_message_has_its_german_and_nothing_more(tmp_path, settings):
    # makemessages writes beside the sources it reads: it runs over a copy of them.
    product = tmp_path / "product"
    shutil.copytree(settings.BASE_DIR, product,
                    ignore=shutil.ignore_patterns(*IGNORED, "*.pyc", "__pycache__", "*.mo"))
    copy = product / "locale" / "de" / "LC_MESSAGES" / "django.po"
    copy.parent.mkdir(parents=True)
    shutil.copy(CATALOGUE, copy)
    settings.LOCALE_PATHS = [product / "locale"]
    with contextlib.chdir(product):
        call_command("makemessages", locale=["de"], ignore_patterns=IGNORED, verbosity=0,
                     no_location=True)
    assert os.path.getsize(copy) > 0
    assert messages(copy, "--untranslated", "--no-obsolete") == []
    assert messages(copy, "--only-fuzzy", "--no-obsolete") == []
    assert messages(copy, "--only-obsolete") == []
