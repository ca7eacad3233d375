"""Celery's routine lines at DEBUG: a poll per site per second must not fill the log.

At INFO, Celery writes three lines for every task: beat's "Sending due task", the worker's
"received" and "succeeded". For the polls, the journal run and the end of shelvings, which
come every few seconds, that is millions of lines a day saying nothing; and at every start
the worker writes "Discarding revoked task" for each poll that expired while it was away.
This filter, on those loggers, turns such lines into DEBUG lines: shown with
LOG_LEVEL=DEBUG, dropped otherwise. Other tasks (acknowledgement read-backs, deliveries)
and every warning and error stay as they are; a failed poll is logged by the poller, a
site answering again too.
"""

from __future__ import annotations

import logging
from functools import cache

LOGGERS = ("celery.beat", "celery.worker.strategy", "celery.app.trace", "celery.worker.request")


@cache
def _routine() -> tuple[str, ...]:
    from dashboard.celery import JOURNAL_TASK, POLL_TASK, SHELVE_EXPIRY_TASK, TREND_FLUSH_TASK

    return POLL_TASK, JOURNAL_TASK, SHELVE_EXPIRY_TASK, TREND_FLUSH_TASK


class RoutineTasksAtDebug(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        if record.levelno != logging.INFO:
            return True
        message = record.getMessage()
        if not any(task in message for task in _routine()):
            return True
        record.levelno, record.levelname = logging.DEBUG, "DEBUG"
        return logging.getLogger().isEnabledFor(logging.DEBUG)
