"""`history` of every dialect against the simulator's archive over HTTPS.

The simulator's archive is a function of its seed and reset time (wincc_sim/archive.py),
so the test computes where a gap or a bad stretch lies and asks for a window around it.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import pytest

from tests.bridge.test_simulator import settings
from wincc_bridge import cli
from wincc_bridge.client import NotSupportedError, open_client
from wincc_bridge.models import Quality
from wincc_sim.archive import BLOCK_S, Archive, Stretch
from wincc_sim.tags import Fillers

DIALECTS = ["classic", "unified", "rest-v1"]
# Unified and REST v1 send the values just outside the window; Classic has no such thing.
BOUNDING = {"unified": True, "rest-v1": True, "classic": False}
TAG = "Tank_Level"


def archive_of(sim) -> Archive:
    """The simulator's archive, computed here from the seed and reset time it reports."""
    state = sim.admin("GET", "/admin/state", tags="none")
    return Archive(state["seed"], datetime.fromisoformat(state["archive_origin"]), Fillers(0, 1))


def stretch(archive: Archive, name: str, code: int | None) -> Stretch:
    """The newest stretch of that kind (None: a gap) that ended at least a minute before
    the reset."""
    block = int(archive.origin // BLOCK_S) - 1
    for _ in range(200):
        for found in archive.stretches(name, block):
            if found.code == code and found.end < archive.origin - 60:
                return found
        block -= 1
    raise AssertionError(f"no stretch with code {code} in 200 blocks")


def at(second: int) -> datetime:
    return datetime.fromtimestamp(second, UTC)


def inside(points, start: datetime, end: datetime):
    return [p for p in points if not p.bounding and start <= p.timestamp <= end]


@pytest.mark.parametrize("dialect", DIALECTS)
def test_a_window_of_the_last_minute_one_value_a_second(sim, dialect) -> None:
    end = datetime.now(UTC)
    start = end - timedelta(seconds=60)
    with open_client(settings(sim, dialect)) as client:
        assert client.capabilities().history
        [history] = client.history([TAG], start, end, max_points=1000)
    assert history.name == TAG and history.error is None and not history.truncated
    points = inside(history.points, start, end)
    assert 59 <= len(points) <= 61
    assert all(p.quality is Quality.GOOD and isinstance(p.value, float) for p in points)
    stamps = [p.timestamp for p in history.points]
    assert stamps == sorted(stamps) and stamps[0].tzinfo is UTC
    bounding = [p for p in history.points if p.bounding]
    if BOUNDING[dialect]:
        # Before the window; after it there is nothing yet, as the window ends now.
        assert [p.timestamp < start for p in bounding] == [True]
    else:
        assert bounding == []


@pytest.mark.parametrize("dialect", DIALECTS)
def test_a_window_in_the_past_has_bounding_values_on_both_sides(sim, dialect) -> None:
    end = datetime.now(UTC).replace(microsecond=0) - timedelta(hours=30)
    start = end - timedelta(minutes=2)
    with open_client(settings(sim, dialect)) as client:
        [history] = client.history([TAG], start, end, max_points=1000)
    bounding = [p for p in history.points if p.bounding]
    if BOUNDING[dialect]:
        before, after = bounding
        assert before.timestamp < start and after.timestamp > end
        assert history.points[0] is before and history.points[-1] is after
    else:
        assert bounding == []
    assert len(inside(history.points, start, end)) in (0, *range(60, 122))


@pytest.mark.parametrize("dialect", DIALECTS)
def test_a_gap_in_the_archive_holds_no_points(sim, dialect) -> None:
    gap = stretch(archive_of(sim), TAG, None)
    start, end = at(gap.start - 30), at(gap.end + 29)
    with open_client(settings(sim, dialect)) as client:
        [history] = client.history([TAG], start, end, max_points=10_000)
    points = inside(history.points, start, end)
    in_gap = [p for p in points if gap.start <= p.timestamp.timestamp() < gap.end]
    assert in_gap == []
    assert len(points) == 60  # thirty seconds on either side
    assert not history.truncated


@pytest.mark.parametrize("dialect", DIALECTS)
@pytest.mark.parametrize(("code", "quality"), [(0x18, Quality.BAD), (0x44, Quality.UNCERTAIN)])
def test_bad_and_uncertain_stretches_keep_their_quality(sim, dialect, code, quality) -> None:
    found = stretch(archive_of(sim), TAG, code)
    start, end = at(found.start - 10), at(found.end + 9)
    with open_client(settings(sim, dialect)) as client:
        [history] = client.history([TAG], start, end, max_points=10_000)
    points = inside(history.points, start, end)
    during = {p.quality for p in points if found.start <= p.timestamp.timestamp() < found.end}
    around = {p.quality for p in points if not found.start <= p.timestamp.timestamp() < found.end}
    assert during == {quality}
    # Around it: good, unless the stretch borders a gap or another stretch.
    assert Quality.GOOD in around or not around


@pytest.mark.parametrize("dialect", DIALECTS)
def test_a_week_with_a_limit_is_truncated_and_spans_the_window(sim, dialect) -> None:
    end = datetime.now(UTC)
    start = end - timedelta(days=7)
    with open_client(settings(sim, dialect)) as client:
        [history] = client.history(["Oven_Zone1_Temp"], start, end, max_points=500)
    points = inside(history.points, start, end)
    assert history.truncated
    # The simulator thins to evenly spaced seconds (gaps left out), so the week is covered.
    assert 450 <= len(points) <= 500
    assert points[0].timestamp - start < timedelta(minutes=30)
    assert end - points[-1].timestamp < timedelta(minutes=30)


@pytest.mark.parametrize("dialect", DIALECTS)
def test_an_unknown_tag_and_an_archive_error_are_per_tag_errors(sim, dialect) -> None:
    end = datetime.now(UTC)
    start = end - timedelta(seconds=10)
    with open_client(settings(sim, dialect)) as client:
        known, unknown = client.history([TAG, "No_Such_Tag"], start, end)
        assert known.error is None and known.points
        assert unknown.error and unknown.points == []
        sim.set_faults(archive_error=[dialect])
        [failed] = client.history([TAG], start, end)
    assert failed.error and "not available" in failed.error and failed.points == []


@pytest.mark.parametrize("dialect", DIALECTS)
def test_the_live_value_and_the_archive_agree_now(sim, dialect) -> None:
    with open_client(settings(sim, dialect)) as client:
        for name in ("Oven_Zone1_Temp", "Tank_Level", "Motor3_Current", "Aux_Sensor_0003"):
            [live] = client.read_tags([name])
            now = datetime.now(UTC)
            [history] = client.history([name], now - timedelta(seconds=5), now)
            newest = inside(history.points, now - timedelta(seconds=5), now)[-1]
            # Within the model's noise: a few tenths, plus what a second of the tank moves.
            assert abs(newest.value - live.value) < 1.5, (name, newest, live)


def test_classic_with_a_wrong_archive_name_says_so(sim) -> None:
    end = datetime.now(UTC)
    with (
        open_client(settings(sim, "classic", tag_archive="NoSuchArchive")) as client,
        pytest.raises(NotSupportedError) as caught,
    ):
        client.history([TAG], end - timedelta(seconds=10), end)
    assert "NoSuchArchive" in str(caught.value) and "archive name" in str(caught.value)


def test_classic_with_the_archive_named_asks_no_list(sim) -> None:
    end = datetime.now(UTC)
    config = settings(sim, "classic", tag_archive="ProcessValueArchive")
    with open_client(config) as client:
        [history] = client.history([TAG], end - timedelta(seconds=10), end)
    assert history.error is None and history.points


@pytest.mark.parametrize("dialect", DIALECTS)
def test_a_window_the_caller_got_wrong_is_a_plain_value_error(sim, dialect) -> None:
    end = datetime.now(UTC)
    with open_client(settings(sim, dialect)) as client:
        with pytest.raises(ValueError, match="after its end"):
            client.history([TAG], end, end - timedelta(seconds=1))
        with pytest.raises(ValueError, match="time zone"):
            client.history([TAG], datetime(2026, 1, 1), datetime(2026, 1, 2))
        with pytest.raises(ValueError, match="max_points"):
            client.history([TAG], end - timedelta(seconds=1), end, max_points=0)


def test_the_command_prints_one_line_per_tag(sim, capsys) -> None:
    user = sim.users.ro
    env = {"WINCC_USER": user.username, "WINCC_PASSWORD": user.password, "WINCC_TOKEN": ""}
    end = datetime.now(UTC).replace(microsecond=0)
    argv = ["--dialect", "unified", "--url", sim.url, "--ca-file", sim.ca_file, "history",
            TAG, "No_Such_Tag", "--start", (end - timedelta(seconds=30)).isoformat(),
            "--end", end.isoformat().replace("+00:00", "Z"), "--max", "10"]
    code = cli.main(argv, environ=env)
    lines = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert code == 1  # one tag failed
    known, unknown = lines
    assert (known["name"], known["error"], known["truncated"]) == (TAG, None, True)
    assert len([p for p in known["points"] if not p["bounding"]]) == 10
    assert known["points"][0]["bounding"] and known["points"][0]["timestamp"].endswith("Z")
    assert {p["quality"] for p in known["points"]} == {"good"}
    assert unknown["name"] == "No_Such_Tag" and unknown["error"] and unknown["points"] == []


@pytest.mark.parametrize(
    ("extra", "words"),
    [
        (["--start", "yesterday"], "not an ISO-8601 time"),
        (["--max", "0"], "--max must be at least 1"),
        (["--start", "2026-01-02T00:00:00Z", "--end", "2026-01-01T00:00:00Z"], "after --end"),
    ],
)
def test_the_command_refuses_a_bad_window_in_one_line(extra, words, capsys) -> None:
    argv = ["--dialect", "unified", "--url", "https://wincc.test", "history", TAG, *extra]
    with pytest.raises(SystemExit) as caught:
        cli.main(argv, environ={})
    err = capsys.readouterr().err
    assert caught.value.code == 2 and words in err and len(err.splitlines()) == 1
