"""The suite across pytest-xdist workers: how tests are grouped for a worker, and the fault
suite's table handed from the worker that ran it to the controller that prints it."""

from __future__ import annotations

from pathlib import Path
from types import SimpleNamespace

from tests.faults import report
from tests.fixtures.workers import BROWSER_GROUP, work_group


def item(nodeid: str) -> SimpleNamespace:
    return SimpleNamespace(nodeid=nodeid, path=Path.cwd() / nodeid.split("::", 1)[0])


def test_a_module_goes_to_one_worker_and_every_browser_test_to_one():
    assert work_group(item("tests/poller/test_integration.py::test_a[x]")) == (
        "tests/poller/test_integration.py")
    assert work_group(item("tests/poller/test_integration.py::test_b")) == (
        "tests/poller/test_integration.py")
    assert work_group(item("tests/browser/test_wall_browser.py::test_c")) == BROWSER_GROUP
    assert work_group(item("tests/browser/test_pages_browser.py::test_d")) == BROWSER_GROUP


def test_the_fault_table_is_handed_from_the_worker_to_the_controller(monkeypatch):
    row = {"fault": "WinCC stopped", "shown": "stale", "time_to_show": 1.0,
           "time_to_recover": 2.0, "check": "click answered HTTP 200"}
    in_worker = report.Measured(rows=[row], started=10.0, ended=70.0)
    monkeypatch.setattr(report, "MEASURED", in_worker)
    worker_config = SimpleNamespace(workeroutput={})
    report.pytest_sessionfinish(SimpleNamespace(config=worker_config))

    in_controller = report.Measured()
    monkeypatch.setattr(report, "MEASURED", in_controller)
    report.pytest_testnodedown(SimpleNamespace(workeroutput=worker_config.workeroutput), None)
    assert in_controller.rows == [row]
    assert in_controller.table().endswith("1 faults in 60 s (the fault suite's whole run, "
                                          "its stack's start included).")
