"""The packages keep to their jobs (docs/architecture.md): each may import only what its row
below allows, read from the source's import statements."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent

# package -> project packages and third-party roots it must never import
FORBIDDEN = {
    # The client library: no Django, no product pipeline, no simulator.
    "wincc_bridge": {"django", "dashboard", "wincc_ingest", "wincc_sim", "celery", "redis"},
    # The ingest pipeline: plain Python, run by thin Celery tasks.
    "wincc_ingest": {"django", "dashboard", "wincc_sim", "celery"},
    # The simulator is the protocol oracle: sharing the client's code would hide a shared
    # misunderstanding of the protocol.
    "wincc_sim": {"django", "dashboard", "wincc_bridge", "wincc_ingest", "celery", "redis"},
    # The process harness: the benchmarks run it outside pytest.
    "tests/harness": {"pytest", "bench"},
}


def imported_roots(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    roots = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            roots.update(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            roots.add(node.module.split(".")[0])
    return roots


@pytest.mark.parametrize("package", sorted(FORBIDDEN))
def test_package_imports_only_what_its_job_allows(package):
    files = sorted((ROOT / package).rglob("*.py"))
    assert files, f"{package} has no modules"
    found = {
        f"{path.relative_to(ROOT)} imports {root}"
        for path in files
        for root in imported_roots(path) & FORBIDDEN[package]
    }
    assert not found, sorted(found)


def test_the_checker_sees_a_forbidden_import(tmp_path):
    module = tmp_path / "m.py"
    module.write_text("import os\nfrom django.conf import settings\nfrom . import sibling\n")
    assert imported_roots(module) == {"os", "django"}
