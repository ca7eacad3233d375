"""Celery's per-task lines for the polls and the journal run are DEBUG lines
(dashboard/log_filters.py); other tasks' lines and every warning stay."""

from __future__ import annotations

import logging

import pytest

from dashboard.log_filters import LOGGERS, RoutineTasksAtDebug


@pytest.fixture
def celery_log():
    """The worker's 'received' logger with the filter, and the records that get through."""
    logger = logging.getLogger("test.celery.worker.strategy")
    records: list[logging.LogRecord] = []
    handler = logging.Handler()
    handler.emit = records.append  # type: ignore[method-assign]
    routine = RoutineTasksAtDebug()
    logger.addFilter(routine)
    logger.addHandler(handler)
    logger.setLevel(logging.INFO)
    root_level = logging.getLogger().level
    yield logger, records
    logging.getLogger().setLevel(root_level)
    logger.removeFilter(routine)
    logger.removeHandler(handler)


def received(logger: logging.Logger, task: str, level: int = logging.INFO) -> None:
    logger.log(level, "Task %(name)s[%(id)s] received", {"name": task, "id": "1"})


def test_at_info_a_poll_writes_no_line_and_a_delivery_does(celery_log):
    logger, records = celery_log
    logging.getLogger().setLevel(logging.INFO)
    received(logger, "dashboard.tasks.poll_site")
    logger.info("Scheduler: Sending due task %s (%s)", "persist journal",
                "dashboard.tasks.persist_journal")
    logger.info("Discarding revoked task: %s[%s]", "dashboard.tasks.poll_site", "2")
    received(logger, "dashboard.tasks.deliver")
    received(logger, "dashboard.tasks.poll_site", logging.ERROR)
    assert [(r.levelname, r.getMessage()) for r in records] == [
        ("INFO", "Task dashboard.tasks.deliver[1] received"),
        ("ERROR", "Task dashboard.tasks.poll_site[1] received"),
    ]


def test_at_debug_the_routine_lines_are_there_as_debug_lines(celery_log):
    logger, records = celery_log
    logging.getLogger().setLevel(logging.DEBUG)
    received(logger, "dashboard.tasks.poll_site")
    assert [(r.levelname, r.getMessage()) for r in records] == [
        ("DEBUG", "Task dashboard.tasks.poll_site[1] received")]


def test_the_settings_put_the_filter_on_celerys_three_loggers():
    from django.conf import settings

    for name in LOGGERS:
        assert settings.LOGGING["loggers"][name] == {"filters": ["routine_tasks"]}
    assert set(LOGGERS) == {"celery.beat", "celery.worker.strategy", "celery.app.trace",
                            "celery.worker.request"}
