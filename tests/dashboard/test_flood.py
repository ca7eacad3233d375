"""Alarm floods: more than 10 new alarms in 10 minutes on a site. The list and the banner
say so, priority 1 stays on top, and the list can be grouped by alarm class."""

from __future__ import annotations

from datetime import timedelta

from dashboard.panels.alarm_list import filter_alarms, flooded_sites, group_by_class
from tests.dashboard.livedata import PlantTestCase, alarm, healthy_plant, now, put_alarm
from wincc_bridge.models import AlarmState


def burst(count, *, site="oven-unified", minutes_ago=1, **fields):
    return [alarm(site=site, name=f"Burst_{i:02d}", priority=5,
                  raise_time=now() - timedelta(minutes=minutes_ago), **fields)
            for i in range(count)]


def test_more_than_ten_in_ten_minutes_is_a_flood():
    at = now()
    assert flooded_sites(burst(10), at) == {}
    assert flooded_sites(burst(11), at) == {"oven-unified": 11}
    # Raised longer ago than the window: no longer new.
    assert flooded_sites(burst(11, minutes_ago=11), at) == {}
    # Per site: ten on each of two sites is no flood on either.
    assert flooded_sites(burst(10) + burst(10, site="line-classic"), at) == {}
    # The clock moves on (an explicit time, nobody waits): the same burst leaves the window.
    assert flooded_sites(burst(11), at + timedelta(minutes=10)) == {}


def test_in_a_flood_priority_one_stays_on_top_whatever_its_state():
    top = alarm(name="Top", priority=16, state=AlarmState.ACKNOWLEDGED,
                raise_time=now() - timedelta(hours=1))
    quiet = [top, *burst(3)]
    assert [a.name for a in filter_alarms(quiet, {})][-1] == "Top"  # state first, normally
    flood = [top, *burst(11)]
    assert filter_alarms(flood, {})[0].name == "Top"


def test_grouped_by_class_most_important_class_first():
    rows = filter_alarms([*burst(3, alarm_class="Warning"),
                          alarm(name="Fire", priority=16, alarm_class="Alarm")], {})
    groups = group_by_class(rows)
    assert [(name, len(members)) for name, members in groups] == [("Alarm", 1), ("Warning", 3)]


class FloodPageTestCase(PlantTestCase):
    def setUp(self):
        super().setUp()
        healthy_plant(self.redis)
        for a in burst(12, alarm_class="Warning"):
            put_alarm(self.redis, a)
        put_alarm(self.redis, alarm(name="Fire", priority=16, alarm_class="Alarm",
                                    state=AlarmState.ACKNOWLEDGED))

    def test_the_list_and_the_banner_say_so(self):
        html = self.get_as(self.viewer, "/alarms/").content.decode()
        # The twelve, the fire and the plant's own alarm, all raised a minute ago.
        assert "Alarm flood on <b>Curing oven</b>: 14 new alarms in the last 10 minutes." in html
        assert "Group by alarm class" in html
        banner = html[html.index("data-annunciator"):]
        assert 'data-flood="14"' in banner[:banner.index("</div>")]
        order = [part.split('"')[0] for part in html.split('data-alarm="')[1:]]
        assert order[0] == "oven-unified:Fire:1"

    def test_grouped_view_by_alarm_class(self):
        html = self.get_as(self.viewer, "/alarms/?group=class").content.decode()
        assert html.index('data-alarm-class="Alarm"') < html.index('data-alarm-class="Warning"')
        assert "Warning (12)" in html
        assert "Group by alarm class" not in html  # already grouped
        assert self.get_as(self.viewer, "/alarms/?group=site").status_code == 400

    def test_no_flood_no_notice(self):
        self.redis.flushall()
        healthy_plant(self.redis)
        html = self.get_as(self.viewer, "/alarms/").content.decode()
        assert "Alarm flood" not in html and "data-flood" not in html
