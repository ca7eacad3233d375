"""The machine, the versions, and a dated Markdown section appended to docs/benchmarks.md."""

from __future__ import annotations

import contextlib
import json
import os
import platform
import re
import subprocess
import sys
from dataclasses import dataclass, field
from datetime import UTC, datetime
from importlib import metadata
from pathlib import Path

import psutil

REPO = Path(__file__).resolve().parent.parent
DOC = REPO / "docs" / "benchmarks.md"
RESULTS = REPO / "bench" / "results"

HEADER = """# Benchmarks

How fresh the screens are and how many browsers one server feeds, measured with
`make bench` (bench/, `python -m bench`) on a 2-core machine against the simulator over HTTPS,
a private Redis, real Celery worker and beat processes, gunicorn with uvicorn workers, and a
real Chromium. Each run appends a dated section below; the newest is last. The raw numbers of
each run are in bench/results/. How each figure is measured: bench/README.md.
"""


@dataclass
class Figure:
    name: str
    unit: str
    stats: dict  # n, median, p95, p99, max
    target: str = ""
    ok: bool | None = None  # None: no target for this figure

    def to_json(self) -> dict:
        return {
            "name": self.name,
            "unit": self.unit,
            "stats": self.stats,
            "target": self.target,
            "ok": self.ok,
        }


@dataclass
class Table:
    title: str
    columns: list[str]
    rows: list[list]


@dataclass
class Result:
    id: str
    title: str
    status: str = "ok"  # "ok" | "not run" | "error"
    reason: str = ""
    figures: list[Figure] = field(default_factory=list)
    tables: list[Table] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    raw: dict = field(default_factory=dict)

    def to_json(self) -> dict:
        return {
            "id": self.id,
            "title": self.title,
            "status": self.status,
            "reason": self.reason,
            "figures": [f.to_json() for f in self.figures],
            "tables": [
                {"title": t.title, "columns": t.columns, "rows": t.rows} for t in self.tables
            ],
            "notes": self.notes,
            "raw": self.raw,
        }


def _run(argv: list[str]) -> str:
    try:
        out = subprocess.run(argv, capture_output=True, text=True, timeout=30, check=False)
        return (out.stdout or out.stderr).strip()
    except (OSError, subprocess.TimeoutExpired):
        return ""


def machine() -> dict:
    cpu = ""
    with contextlib.suppress(OSError):
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    return {
        "nproc": os.cpu_count(),
        "cpu": cpu,
        "memory_gib": round(psutil.virtual_memory().total / 2**30, 1),
        "kernel": platform.release(),
        "os": _os_name(),
        "load": [round(x, 2) for x in os.getloadavg()],
    }


def _os_name() -> str:
    with contextlib.suppress(OSError):
        for line in Path("/etc/os-release").read_text().splitlines():
            if line.startswith("PRETTY_NAME="):
                return line.split("=", 1)[1].strip('"')
    return platform.platform()


def _version(dist: str) -> str:
    try:
        return metadata.version(dist)
    except metadata.PackageNotFoundError:
        return "not installed"


def versions() -> dict:
    redis_v = _run(["redis-server", "--version"])
    match = re.search(r"v=(\S+)", redis_v)
    chromium = _run(["/usr/bin/chromium", "--version"])
    return {
        "python": platform.python_version(),
        "django": _version("django"),
        "celery": _version("celery"),
        "redis-server": match.group(1) if match else redis_v or "not installed",
        "redis-py": _version("redis"),
        "gunicorn": _version("gunicorn"),
        "uvicorn": _version("uvicorn"),
        "uvicorn-worker": _version("uvicorn-worker"),
        "httpx": _version("httpx"),
        "aiohttp": _version("aiohttp"),
        "playwright": _version("playwright"),
        "chromium": chromium.replace("Chromium", "").strip() or "not installed",
        "git": _run(["git", "-C", str(REPO), "rev-parse", "--short", "HEAD"])
        + (
            " (with uncommitted changes)"
            if _run(["git", "-C", str(REPO), "status", "--porcelain", "--untracked-files=no"])
            else ""
        ),
    }


def _num(value, unit: str) -> str:
    if value is None:
        return "-"
    if unit == "s":
        return f"{value:.3f}"
    if unit == "ms":
        return f"{value:.1f}"
    if isinstance(value, float):
        return f"{value:.3g}" if abs(value) < 100 else f"{value:,.0f}"
    return f"{value:,}" if isinstance(value, int) else str(value)


def render(
    results: list[Result],
    *,
    started: datetime,
    finished: datetime,
    command: str,
    machine_info: dict,
    versions_info: dict,
    load_before: list[float],
    quick: bool,
) -> str:
    lines = [
        f"\n## {started:%Y-%m-%d %H:%M} UTC{' (quick smoke run, small sizes)' if quick else ''}",
        "",
        f"- Command: `{command}` (finished {finished:%H:%M} UTC)",
        f"- Machine: {machine_info['nproc']} cores ({machine_info['cpu']}), "
        f"{machine_info['memory_gib']} GiB memory, {machine_info['os']}, "
        f"Linux {machine_info['kernel']}",
        f"- Load average before the run (1/5/15 min): {' / '.join(str(x) for x in load_before)}",
        "- Versions: " + ", ".join(f"{k} {v}" for k, v in versions_info.items()),
        "",
        "| Benchmark | Figure | n | median | p95 | p99 | max | unit | target | result |",
        "|---|---|---|---|---|---|---|---|---|---|",
    ]
    for res in results:
        if res.status != "ok":
            lines.append(
                f"| {res.id} {res.title} | {res.status.upper()}: {res.reason} | | | | | | | | |"
            )
            continue
        for fig in res.figures:
            s = fig.stats
            verdict = "" if fig.ok is None else ("PASS" if fig.ok else "**MISS**")
            lines.append(
                f"| {res.id} | {fig.name} | {_num(s.get('n'), '')} | "
                f"{_num(s.get('median'), fig.unit)} | {_num(s.get('p95'), fig.unit)} | "
                f"{_num(s.get('p99'), fig.unit)} | {_num(s.get('max'), fig.unit)} | "
                f"{fig.unit} | {fig.target} | {verdict} |"
            )
    for res in results:
        lines += ["", f"### {res.id} {res.title}", ""]
        if res.status != "ok":
            lines.append(f"**{res.status.upper()}**: {res.reason}")
        for table in res.tables:
            lines += [
                "",
                f"{table.title}:",
                "",
                "| " + " | ".join(table.columns) + " |",
                "|" + "---|" * len(table.columns),
            ]
            for row in table.rows:
                lines.append("| " + " | ".join(_cell(c) for c in row) + " |")
        if res.notes:
            lines.append("")
            lines += [f"- {note}" for note in res.notes]
    lines.append("")
    return "\n".join(lines)


def _cell(value) -> str:
    if isinstance(value, float):
        return f"{value:.3f}" if abs(value) < 100 else f"{value:,.0f}"
    return str(value)


def write(
    results: list[Result],
    *,
    started: datetime,
    command: str,
    load_before: list[float],
    quick: bool,
    doc: Path = DOC,
) -> Path:
    finished = datetime.now(UTC)
    info, vers = machine(), versions()
    section = render(
        results,
        started=started,
        finished=finished,
        command=command,
        machine_info=info,
        versions_info=vers,
        load_before=load_before,
        quick=quick,
    )
    doc.parent.mkdir(parents=True, exist_ok=True)
    if not doc.exists():
        doc.write_text(HEADER, encoding="utf-8")
    with doc.open("a", encoding="utf-8") as fh:
        fh.write(section)
    results_dir = RESULTS if doc == DOC else doc.parent
    results_dir.mkdir(parents=True, exist_ok=True)
    raw = results_dir / f"{started:%Y%m%dT%H%M%SZ}{'-quick' if quick else ''}.json"
    raw.write_text(
        json.dumps(
            {
                "started": started.isoformat(),
                "finished": finished.isoformat(),
                "command": command,
                "machine": info,
                "versions": vers,
                "load_before": load_before,
                "quick": quick,
                "results": [r.to_json() for r in results],
            },
            indent=1,
            default=str,
        )
    )
    return raw


if __name__ == "__main__":
    json.dump({"machine": machine(), "versions": versions()}, sys.stdout, indent=1)
