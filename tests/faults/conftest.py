"""The fault suite's stack (one for the module, faults cleared between cases), the people
looking at it, and the table of what was measured, printed at the end of the run and written
to $WDASH_FAULTS_REPORT (a Markdown file) when that is set."""

from __future__ import annotations

import os
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from tests.faults.stack import Probe, Stack, start_stack


@dataclass
class Measured:
    rows: list[dict] = field(default_factory=list)
    started: float = field(default_factory=time.monotonic)
    ended: float | None = None  # when the suite's stack stopped

    def add(self, **row) -> None:
        self.rows.append(row)

    def table(self) -> str:
        def seconds(value: float | None) -> str:
            return "-" if value is None else f"{value:.1f} s"

        lines = [
            "| Fault | What the page shows | Time to show | Time to recover | "
            "Acknowledgement and journal |",
            "|---|---|---|---|---|",
        ]
        for row in self.rows:
            cells = [row["fault"], row["shown"], seconds(row["time_to_show"]),
                     seconds(row["time_to_recover"]), row["check"]]
            lines.append("| " + " | ".join(c.replace("|", "/") for c in cells) + " |")
        total = (self.ended or time.monotonic()) - self.started
        lines.append("")
        lines.append(f"{len(self.rows)} faults in {total:.0f} s (the fault suite's whole run, "
                     "its stack's start included).")
        return "\n".join(lines)


_MEASURED = Measured()


@pytest.fixture(scope="session")
def measured() -> Measured:
    return _MEASURED


@pytest.fixture(scope="module")
def stack(tmp_path_factory) -> Iterator[Stack]:
    _MEASURED.started = time.monotonic()  # the suite's own time, its stack's start included
    running = start_stack(tmp_path_factory.mktemp("fault-stack"))
    try:
        yield running
    finally:
        running.stop()
        _MEASURED.ended = time.monotonic()


@pytest.fixture(scope="module")
def viewer(stack: Stack) -> Iterator[Probe]:
    probe = Probe(stack.web.url, "viewer")
    yield probe
    probe.close()


@pytest.fixture(scope="module")
def operator(stack: Stack) -> Iterator[Probe]:
    probe = Probe(stack.web.url, "operator", timeout=30)
    yield probe
    probe.close()


def pytest_terminal_summary(terminalreporter, exitstatus, config) -> None:
    if not _MEASURED.rows:
        return
    table = _MEASURED.table()
    terminalreporter.write_sep("=", "fault suite: what the page showed")
    terminalreporter.write_line(table)
    target = os.environ.get("WDASH_FAULTS_REPORT")
    if target:
        Path(target).write_text(table + "\n")
