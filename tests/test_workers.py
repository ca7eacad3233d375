"""The suite across pytest-xdist workers: the fault suite's table handed from the worker that
ran it to the controller that prints it."""

from __future__ import annotations

from types import SimpleNamespace

from tests.faults import report


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
