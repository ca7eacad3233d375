"""The Classic client against a simulator that sends Europe/Berlin local times without an
offset, its clock started just before the autumn change (2026-10-25, 03:00 CEST becomes
02:00 CET at 01:00 UTC): alarms, values and the archive come out as the instants they were,
in their order, over real HTTP."""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta
from itertools import pairwise
from zoneinfo import ZoneInfo

import pytest

from tests.bridge.test_simulator import settings
from tests.harness.simulator import start_simulator
from wincc_bridge.client import open_client
from wincc_bridge.localtime import LocalTimes
from wincc_sim.timefmt import parse_ts

BERLIN = ZoneInfo("Europe/Berlin")
CHANGE = datetime(2026, 10, 25, 1, 0, tzinfo=UTC)
# Far enough before the change for a slow start, near enough to wait for it.
CLOCK_START = CHANGE - timedelta(seconds=12)


pytestmark = pytest.mark.process


@pytest.fixture(scope="module")
def berlin_sim(tmp_path_factory):
    sim = start_simulator(
        tmp_path_factory.mktemp("berlin-sim"), http=True, face=["classic"], tick=0.25,
        classic_local_times="Europe/Berlin", clock_start=CLOCK_START.isoformat(),
    )
    yield sim
    sim.stop()


def _messages(sim) -> dict[str, str]:
    user = sim.users.ro
    with sim.client() as http:
        answer = http.get("/WinCCRestService/alarmlogging/messagelist/ActiveAlarms",
                          auth=(user.username, user.password))
    return {m["Name"]: m["DateTime"] for m in answer.json()}


def test_alarms_values_and_archive_keep_their_order_across_the_autumn_change(berlin_sim):
    sim = berlin_sim
    first, second = [d["name"] for d in sim.alarm_definitions()][:2]
    [raised] = sim.raise_alarm(first)
    first_at = parse_ts(raised["raise_time"])
    assert first_at < CHANGE, "the simulator took too long to start"
    # The client's clock, set to the simulator's (whose clock started in 2026-10-25).
    offset = first_at - datetime.now(UTC)

    def clock() -> datetime:
        return datetime.now(UTC) + offset

    zoned = settings(sim, "classic", timezone=BERLIN)
    with open_client(zoned) as client:
        client.local_times.clock = clock
        before = {a.name: a.raise_time for a in client.active_alarms()}
        [value] = client.read_tags(["Tank_Level"])
        assert before[first] == first_at
        assert value.timestamp is not None
        assert abs(value.timestamp - clock()) < timedelta(seconds=2)

        while clock() < CHANGE + timedelta(seconds=1):
            time.sleep(0.2)
        [raised] = sim.raise_alarm(second)
        second_at = parse_ts(raised["raise_time"])
        texts = _messages(sim)
        # The server's own words: no offset, and the later alarm's text sorts first.
        assert texts[first].startswith("2026-10-25T02:59:") and "Z" not in texts[first]
        assert texts[second].startswith("2026-10-25T02:00:"), texts

        after = {a.name: a.raise_time for a in client.active_alarms()}
        assert after[first] == first_at
        assert after[second] == second_at > first_at
    # A trend opened two hours later, when both readings of 02:59 have happened: the
    # archive's order tells them apart.
    with open_client(zoned) as later:
        later.local_times = LocalTimes(BERLIN, lambda: clock() + timedelta(hours=2))
        [history] = later.history(["Tank_Level"], first_at - timedelta(seconds=3), clock())

    stamps = [point.timestamp for point in history.points]
    assert stamps == sorted(stamps) and len(set(stamps)) == len(stamps)
    assert stamps[0] < CHANGE < stamps[-1]
    assert max(b - a for a, b in pairwise(stamps)) <= timedelta(seconds=2)

    # A client that starts after the change has no memory of the first alarm: its reading is
    # still the earlier instant, since the later one has not yet happened.
    with open_client(zoned) as fresh:
        fresh.local_times = LocalTimes(BERLIN, clock)
        assert {a.name: a.raise_time for a in fresh.active_alarms()} == after

    # Without the zone the same texts are taken as UTC, an hour or two off, and reordered.
    with open_client(settings(sim, "classic")) as utc_client:
        as_utc = {a.name: a.raise_time for a in utc_client.active_alarms()}
    assert as_utc[second] < as_utc[first]
