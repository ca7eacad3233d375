"""The two lanes hold: process fixtures mark their tests, and a unit-lane test that starts a
process or reaches the session's Redis fails, even when it swallows the error."""

from __future__ import annotations

import os
import subprocess

import pytest
import redis
from django.conf import settings

from tests.dashboard.base import BaseTestCase
from tests.fixtures.lanes import NO_REDIS_URL, UnitLaneViolation, lane_marks, uses_database
from tests.postgres import answers


@pytest.mark.parametrize(
    ("fixtures", "own", "added"),
    [
        (["tmp_path", "settings"], [], set()),
        (["redis_client", "redis_url", "redis_server"], [], {"process"}),
        (["sim", "simulator"], [], {"process"}),
        (["celery_processes", "redis_server"], [], {"process", "integration"}),
        (["live_stack", "browser", "simulator"], ["browser"], {"process"}),
        (["tmp_path"], ["integration"], {"process"}),
        (["tmp_path"], ["process"], set()),
    ],
)
def test_process_fixtures_and_markers_put_a_test_in_the_process_lane(fixtures, own, added):
    assert lane_marks(fixtures, own) == added


def test_a_unit_test_sees_no_redis_url_whatever_ran_before():
    assert settings.REDIS_URL == settings.CELERY_BROKER_URL == NO_REDIS_URL
    assert os.environ["REDIS_URL"] == os.environ["CELERY_BROKER_URL"] == NO_REDIS_URL


def test_a_unit_test_cannot_start_a_subprocess(unit_lane_guard):
    with pytest.raises(UnitLaneViolation, match="started the subprocess"):
        subprocess.run(["true"], check=False)
    assert len(unit_lane_guard.violations) == 1
    unit_lane_guard.violations.clear()  # this test's own refusal is the expected one


def test_a_unit_test_cannot_reach_the_session_redis(unit_lane_guard):
    client = redis.Redis.from_url(settings.REDIS_URL)
    with pytest.raises(UnitLaneViolation, match="session's Redis without asking"):
        client.ping()
    assert unit_lane_guard.violations
    unit_lane_guard.violations.clear()


def test_a_swallowed_refusal_still_fails_the_test(pytester):
    pytester.makepyfile(
        """
        import subprocess

        def test_swallows():
            try:
                subprocess.run(["true"])
            except Exception:
                pass
        """
    )
    result = pytester.runpytest_inprocess("-p", "tests.fixtures.lanes", "-p", "no:django",
                                          "-p", "no:cacheprovider")
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines(["*started the subprocess *'true'*@pytest.mark.process*"])


def test_a_process_test_reaches_the_session_redis(redis_client, unit_lane_guard):
    assert unit_lane_guard is None
    assert settings.REDIS_URL != NO_REDIS_URL
    assert redis_client.ping()


@pytest.mark.parametrize(
    ("fixtures", "own", "cls", "expected"),
    [
        (["tmp_path"], [], None, False),
        (["client", "settings"], [], None, False),
        (["db"], [], None, True),
        (["admin_client", "client"], [], None, True),
        (["tmp_path"], ["django_db"], None, True),
        (["tmp_path"], [], BaseTestCase, True),
        (["tmp_path"], [], object, False),
    ],
)
def test_tests_that_use_the_database_are_marked_to_run_on_postgresql_too(
    fixtures, own, cls, expected
):
    assert uses_database(fixtures, own, cls) is expected


def test_a_postgresql_that_does_not_answer_is_told_apart_from_one_that_refuses():
    # The discard port: nothing listens, so the database tests stay on SQLite.
    assert answers("postgres://postgres@127.0.0.1:9/postgres") is False
