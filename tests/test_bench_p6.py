"""P6's count of skipped polls: per site and interval, by beat's send time."""

from __future__ import annotations

from bench.p6_many_sites import polls_ran, sent_within


def line(site: str, outcome: str, sent: float | None) -> list:
    """A probe line: when, site, outcome, late, CPU, beat's send time."""
    return [0.0, site, outcome, 0.01, None, sent]


def test_every_interval_without_a_poll_that_ran_is_skipped_whatever_the_reason():
    start, due = 100.0, 4
    rows = [line("a", "ok", start + k + 0.3) for k in range(4)]
    rows += [line("b", "ok", start + 0.5), line("b", "failed", start + 1.5),  # ran, failed
             line("b", "busy", start + 2.5), line("b", "expired", start + 3.5)]
    rows += [line("c", "ok", start + 0.1)]  # three intervals never sent or lost
    rows += [line("a", "ok", start - 0.2), line("a", "ok", start + 4.0),  # outside the window
             line("c", "ok", None)]  # no send time: not counted as run
    probed = sent_within(rows, start, start + due)
    ran, skipped = polls_ran(probed, ["a", "b", "c", "d"], due)
    assert ran == {"a": 4, "b": 2, "c": 1, "d": 0}
    assert skipped == 0 + 2 + 3 + 4


def test_a_site_with_more_polls_than_intervals_makes_up_for_no_other_site():
    rows = [line("a", "ok", 0.1), line("a", "ok", 1.1), line("a", "ok", 1.9),
            line("b", "ok", 0.5)]
    ran, skipped = polls_ran(sent_within(rows, 0.0, 2.0), ["a", "b"], 2)
    assert ran == {"a": 3, "b": 1}
    assert skipped == 1
