"""The fault suite's table of what was measured: printed at the end of the run and written to
$WDASH_FAULTS_REPORT (a Markdown file) when that is set.

A plugin of the whole run (tests/conftest.py), not of tests/faults alone: under pytest-xdist
the fault suite runs in a worker, which hands its rows over when it ends, and the table is
printed by the controller, which never loads tests/faults/conftest.py.
"""

from __future__ import annotations

import os
import time
from dataclasses import dataclass, field
from pathlib import Path

import pytest

WORKER_OUTPUT = "fault_suite"


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


MEASURED = Measured()


@pytest.fixture(scope="session")
def measured() -> Measured:
    return MEASURED


def pytest_sessionfinish(session: pytest.Session) -> None:
    """In a worker: hand the rows to the controller (time.monotonic is the machine's clock,
    the same in every process)."""
    output = getattr(session.config, "workeroutput", None)
    if output is not None and MEASURED.rows:
        output[WORKER_OUTPUT] = {"rows": MEASURED.rows, "started": MEASURED.started,
                                 "ended": MEASURED.ended}


@pytest.hookimpl(optionalhook=True)
def pytest_testnodedown(node, error) -> None:
    """In the controller: take over a worker's rows."""
    handed = getattr(node, "workeroutput", {}).get(WORKER_OUTPUT)
    if handed:
        MEASURED.rows.extend(handed["rows"])
        MEASURED.started, MEASURED.ended = handed["started"], handed["ended"]


def pytest_terminal_summary(terminalreporter, exitstatus, config) -> None:
    if not MEASURED.rows or hasattr(config, "workeroutput"):
        return
    table = MEASURED.table()
    terminalreporter.write_sep("=", "fault suite: what the page showed")
    terminalreporter.write_line(table)
    target = os.environ.get("WDASH_FAULTS_REPORT")
    if target:
        Path(target).write_text(table + "\n")
