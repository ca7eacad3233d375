"""dashboard.access_log: secrets in query strings never reach a handler.
(tests/dashboard/test_gunicorn_conf.py reads a real server's log.)"""

from __future__ import annotations

import logging

import pytest

from dashboard.access_log import SecretQueryFilter, install, scrub


@pytest.mark.parametrize(("line", "scrubbed"), [
    ("/wall/a/?token=s3cr3t", "/wall/a/?token=[removed]"),
    ("/wall/a/?rotate=30&token=s3cr3t&x=1", "/wall/a/?rotate=30&token=[removed]&x=1"),
    ("/wall/a/?TOKEN=s3cr3t", "/wall/a/?TOKEN=[removed]"),
    ("/wall/a/?to%6Ben=s3cr3t", "/wall/a/?to%6Ben=[removed]"),
    ('1.2.3.4:5 - "GET /w/?token=abc HTTP/1.1" 302',
     '1.2.3.4:5 - "GET /w/?token=[removed] HTTP/1.1" 302'),
    ("/wall/a/?tokens=kept&mytoken=kept", "/wall/a/?tokens=kept&mytoken=kept"),
    ("/wall/a/", "/wall/a/"),
])
def test_scrub(line, scrubbed):
    assert scrub(line) == scrubbed


def test_the_filter_rewrites_arguments_and_keeps_the_record():
    record = logging.LogRecord("uvicorn.access", logging.INFO, __file__, 1,
                               '%s - "%s %s HTTP/%s" %d',
                               ("1.2.3.4:5", "GET", "/wall/a/?token=abc", "1.1", 302), None)
    assert SecretQueryFilter().filter(record) is True
    assert record.getMessage() == '1.2.3.4:5 - "GET /wall/a/?token=[removed] HTTP/1.1" 302'


def test_install_puts_one_filter_on_each_access_logger():
    install()
    install()
    for name in ("uvicorn.access", "gunicorn.access"):
        filters = logging.getLogger(name).filters
        assert sum(isinstance(f, SecretQueryFilter) for f in filters) == 1
