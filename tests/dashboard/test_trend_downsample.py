"""M4 downsampling (dashboard.history.downsample): spikes, gaps, bounds, time order."""

from __future__ import annotations

import math

from dashboard.history.downsample import Points, m4


def series(values, step=1.0, start=0.0, quality="g") -> Points:
    points = Points()
    for i, v in enumerate(values):
        points.add(start + i * step, v, quality)
    return points


def test_a_spike_of_one_sample_survives_a_thousandfold_reduction():
    values = [math.sin(i / 500) for i in range(100_000)]
    values[43_210] = 50.0
    values[77_777] = -50.0
    out = m4(series(values), 0, 99_999, 100)
    assert 50.0 in out.v and -50.0 in out.v
    assert out.t[out.v.index(50.0)] == 43_210
    assert len(out) <= 4 * 100


def test_never_more_than_four_points_per_pixel_whatever_the_range():
    for n in (10_000, 604_800):
        out = m4(series([float(i % 97) for i in range(n)]), 0, n - 1, 1000)
        assert len(out) <= 4000
        buckets: dict[int, int] = {}
        for t in out.t:
            bucket = min(999, int(t * 1000 / (n - 1)))
            buckets[bucket] = buckets.get(bucket, 0) + 1
        assert max(buckets.values()) <= 4


def test_points_stay_in_time_order_with_first_min_max_last_of_each_bucket():
    values = [5.0, 9.0, 1.0, 7.0, 3.0, 6.0] * 2  # two buckets of six samples
    out = m4(series(values), 0, 11.9, 2)
    assert out.t == sorted(out.t)
    assert out.v == [5.0, 9.0, 1.0, 6.0, 5.0, 9.0, 1.0, 6.0]


def test_a_gap_is_kept_as_one_null_between_the_values_around_it():
    values = [1.0] * 50 + [None] * 30 + [2.0] * 20
    out = m4(series(values), 0, 99, 10)
    assert None in out.v
    gap = out.v.index(None)
    assert out.t[gap] == 50
    assert out.v[gap - 1] == 1.0 and out.v[gap + 1] == 2.0
    assert out.v.count(None) == 1  # consecutive null buckets collapse into one gap


def test_a_gap_inside_a_busy_bucket_is_kept_with_the_bucket_s_extremes():
    values = [3.0, 8.0, 2.0, None, 4.0, 6.0, 1.0, 5.0]
    out = m4(series(values), 0, 7.5, 1)
    assert out.v == [8.0, None, 1.0]  # highest, the gap, lowest: in time order


def test_quality_travels_with_its_point():
    points = series([1.0, 2.0, 3.0])
    points.q[1] = "u"
    out = m4(points, 0, 2, 100)
    assert out.q == ["g", "u", "g"]


def test_the_nearest_points_outside_the_window_are_kept_for_the_edges():
    out = m4(series([1.0, 2.0, 3.0, 4.0, 5.0], step=10), 15, 35, 100)
    assert out.t == [10, 20, 30, 40]


def test_an_empty_or_inverted_window_gives_nothing():
    assert len(m4(series([1.0, 2.0]), 5, 5, 100)) == 0
    assert len(m4(Points(), 0, 10, 100)) == 0
