"""The reconnect-storm benchmark's own arithmetic (bench/p2_storm.py)."""

from bench.p2_storm import killed_workers, settled_at


def second(p99):
    return {"n": 10, "median": p99, "p99": p99, "max": p99}


def test_settled_is_the_first_second_from_which_the_p99_stays_under_the_limit():
    series = {1: second(0.2), 2: second(0.9), 3: second(0.4), 4: second(0.3), 5: second(0.45)}
    assert settled_at(series) == 3


def test_a_late_spike_unsettles_and_no_values_is_not_settled():
    assert settled_at({1: second(0.1), 2: second(0.1), 3: second(0.7)}) is None
    assert settled_at({}) is None
    assert settled_at({1: {"n": 0, "median": None, "p99": None, "max": None}}) is None


def test_a_killed_worker_is_found_in_gunicorns_log():
    log = (
        "[2026-12-01 06:00:00 +0000] [10] [CRITICAL] WORKER TIMEOUT (pid:11)\n"
        "[2026-12-01 06:00:00 +0000] [10] [ERROR] Worker (pid:11) was sent SIGABRT!\n"
        "[2026-12-01 06:00:01 +0000] [12] [INFO] Booting worker with pid: 12\n"
    )
    assert killed_workers(log) == 1
    assert killed_workers("[INFO] Booting worker with pid: 12\n") == 0
