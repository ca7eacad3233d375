"""Every environment variable the settings read has a row in the README's settings table and
in docs/configuration.md.

The names come from the source of dashboard/settings.py and the modules it reads the
environment through (and gunicorn's settings), so a new variable without its rows fails here.
"""

from __future__ import annotations

import ast
import os
import re
import runpy
from collections.abc import Iterator
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
SOURCES = [
    "dashboard/settings.py",
    "dashboard/environment.py",
    "dashboard/proxies.py",
    "dashboard/metrics/access.py",
    "dashboard/directory/config.py",
    "dashboard/gunicorn_conf.py",
]
VARIABLE = re.compile(r"[A-Z][A-Z0-9_]+")


def _constants(tree: ast.Module) -> dict[str, str]:
    """Module-level NAME = "TEXT" (a variable's name kept in a constant)."""
    found = {}
    for node in tree.body:
        if (isinstance(node, ast.Assign) and isinstance(node.value, ast.Constant)
                and isinstance(node.value.value, str)):
            found.update({t.id: node.value.value for t in node.targets if isinstance(t, ast.Name)})
    return found


def _is_environ(node: ast.expr) -> bool:
    """os.environ, or an `environ` mapping handed to a from_environ helper."""
    return (isinstance(node, ast.Name) and node.id == "environ") or (
        isinstance(node, ast.Attribute) and node.attr == "environ")


def _reads(path: Path) -> Iterator[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    constants = _constants(tree)
    # Helpers that take the variable's name first: env_bool, env_list, and any defined here.
    helpers = {n.name for n in ast.walk(tree) if isinstance(n, ast.FunctionDef)}

    def text(node: ast.expr) -> str | None:
        if isinstance(node, ast.Constant) and isinstance(node.value, str):
            return node.value
        if isinstance(node, ast.Name):
            return constants.get(node.id)
        return None

    for node in ast.walk(tree):
        name = None
        if isinstance(node, ast.Call) and node.args:
            func = node.func
            environ_get = isinstance(func, ast.Attribute) and (
                (func.attr == "get" and _is_environ(func.value)) or func.attr == "getenv")
            helper = isinstance(func, ast.Name) and (
                func.id.startswith("env_") or func.id in helpers)
            if environ_get or helper:
                name = text(node.args[0])
        elif (isinstance(node, ast.Subscript) and isinstance(node.ctx, ast.Load)
              and _is_environ(node.value)):
            name = text(node.slice)
        if name and VARIABLE.fullmatch(name):
            yield name


def read_variables() -> set[str]:
    return {name for source in SOURCES for name in _reads(ROOT / source)}


def table_variables(markdown: str) -> set[str]:
    """The `NAME`s in the first column of the document's table rows."""
    names = set()
    for line in markdown.splitlines():
        if line.startswith("| `"):
            names.update(re.findall(r"`([A-Z][A-Z0-9_]+)`", line.split("|")[1]))
    return names


def readme_settings_table() -> str:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    section = readme.split("### Settings (environment variables)\n", 1)[1]
    rows = []
    for line in section.lstrip("\n").splitlines():
        if not line.startswith("|"):
            break
        rows.append(line)
    return "\n".join(rows)


DOCUMENTS = {
    "README.md's settings table": readme_settings_table,
    "docs/configuration.md": lambda: (ROOT / "docs/configuration.md").read_text(encoding="utf-8"),
}


def test_the_source_reading_finds_the_variables_of_each_kind():
    found = read_variables()
    # os.environ.get, env_bool, env_list, a local helper (_ranks), the from_environ helpers
    # and a name kept in a constant (gunicorn's PROMETHEUS_MULTIPROC_DIR).
    assert {"DJANGO_SECRET_KEY", "DEBUG", "ALLOWED_HOSTS", "ALARM_NEVER_SHELVE_PRIORITIES",
            "TRUSTED_PROXIES", "METRICS_TOKEN", "WEB_WORKERS",
            "PROMETHEUS_MULTIPROC_DIR"} <= found
    assert len(found) >= 40


def test_the_source_reading_misses_nothing_the_settings_read(monkeypatch):
    """Loading dashboard/settings.py afresh, every name it asks the environment for is one the
    source reading found (a new way of reading a variable must not slip past the test)."""

    class Recording(dict):
        asked: set[str] = set()

        def get(self, key, default=None):
            self.asked.add(key)
            return super().get(key, default)

        def __getitem__(self, key):
            self.asked.add(key)
            return super().__getitem__(key)

        def __contains__(self, key):
            self.asked.add(key)
            return super().__contains__(key)

    environ = Recording({"DJANGO_SECRET_KEY": "only-for-this-test", "REDIS_URL": "redis://x/0"})
    monkeypatch.setattr(os, "environ", environ)
    runpy.run_path(str(ROOT / "dashboard" / "settings.py"))
    assert environ.asked, "nothing recorded: settings.py no longer reads os.environ"
    assert environ.asked - read_variables() == set()


@pytest.mark.parametrize("document", DOCUMENTS)
def test_every_variable_read_has_a_row(document):
    missing = sorted(read_variables() - table_variables(DOCUMENTS[document]()))
    assert not missing, f"{document} has no row for {', '.join(missing)}"


def test_a_removed_row_is_named():
    table = readme_settings_table()
    without = "\n".join(line for line in table.splitlines()
                        if not line.startswith("| `LIVE_TICK_SECONDS` |"))
    assert sorted(read_variables() - table_variables(without)) == ["LIVE_TICK_SECONDS"]
