"""The demo's journal of the last week, seeded from the simulators' day script."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from django.test import TestCase

from dashboard.demo.seed import DEMO_SEEDS, seed_journal, site_events
from dashboard.models import JournalEntry
from tests.fixtures.simulator import start_simulator, wait_until
from wincc_bridge.client import ConnectionSettings, open_client
from wincc_ingest.journal import alarm_events
from wincc_sim import dayscript

NOW = datetime(2026, 11, 20, 9, 30, tzinfo=UTC)


class SeedJournalTestCase(TestCase):
    def test_an_empty_journal_gets_each_demo_site_s_week_once(self):
        written = seed_journal(NOW)
        assert set(written) == set(DEMO_SEEDS) and all(n > 500 for n in written.values())
        assert JournalEntry.objects.count() == sum(written.values())
        oldest = JournalEntry.objects.order_by("at").first()
        assert oldest is not None and oldest.at >= NOW - timedelta(days=7)
        assert not JournalEntry.objects.filter(at__gt=NOW).exists()
        # Every acknowledgement by the simulated operator, and every raise answered.
        raised = JournalEntry.objects.filter(transition="raised").count()
        assert JournalEntry.objects.filter(transition="returned").count() > raised * 0.9
        assert JournalEntry.objects.filter(acknowledged_by=dayscript.OPERATOR).exists()
        assert seed_journal(NOW + timedelta(hours=1)) == dict.fromkeys(DEMO_SEEDS, 0)

    def test_a_site_that_has_a_journal_is_left_as_it_is(self):
        JournalEntry.objects.create(
            key="seen-by-the-dashboard", site_id="oven-unified", alarm_name="Tank_Level_L",
            transition="raised", at=NOW - timedelta(hours=2), state="unacknowledged",
        )
        written = seed_journal(NOW)
        assert written["oven-unified"] == 0 and written["line-classic"] > 0
        assert JournalEntry.objects.filter(site_id="oven-unified").count() == 1

    def test_a_chattering_alarm_s_unacknowledged_raises_are_removed_by_the_next(self):
        events = site_events("oven-unified", 1, int(NOW.timestamp()) - 7 * 86400,
                             int(NOW.timestamp()))
        chatter = [e for e in events if e.alarm.endswith(f"{dayscript.CHATTER:04d}_H")]
        assert [e.transition.value for e in chatter[:3]] == ["raised", "returned", "cleared"]


@pytest.mark.process
def test_the_running_simulator_gives_an_occurrence_the_seeded_id_and_times(tmp_path):
    """The poller's rows for an occurrence that began before the demo started have the keys
    of the seeded ones, so nothing is written twice."""
    sim = start_simulator(tmp_path, seed=1, day_script=True, face=["unified"])
    try:
        settings = ConnectionSettings(
            dialect="unified", url=sim.url, username=sim.users.ro.username,
            password=sim.users.ro.password, ca_file=sim.ca_file, site="oven-unified",
        )
        with open_client(settings) as client:
            alarms = wait_until(
                lambda: [a for a in client.active_alarms() if a.name.startswith("Aux_")],
                timeout=10,
            )
        now = datetime.now(UTC)
        seeded = {e.key for e in site_events(
            "oven-unified", 1, int((now - timedelta(days=7)).timestamp()), int(now.timestamp()))}
        standing = [a for a in alarms if a.raise_time and a.raise_time < now - timedelta(minutes=5)]
        assert standing, "no occurrence older than the simulator"
        for alarm in standing:
            keys = {e.key for e in alarm_events("oven-unified", None, alarm, now)}
            assert keys <= seeded, (alarm, keys - seeded)
    finally:
        sim.stop()
