"""The fault suite's stack (one for the module, faults cleared between cases) and the people
looking at it; the table of what was measured is tests/faults/report.py's."""

from __future__ import annotations

import time
from collections.abc import Iterator

import pytest

from tests.faults.report import MEASURED
from tests.faults.stack import Probe, Stack, start_stack


@pytest.fixture(scope="module")
def stack(tmp_path_factory) -> Iterator[Stack]:
    MEASURED.started = time.monotonic()  # the suite's own time, its stack's start included
    running = start_stack(tmp_path_factory.mktemp("fault-stack"))
    try:
        yield running
    finally:
        running.stop()
        MEASURED.ended = time.monotonic()


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
