import json
from datetime import timedelta

from dashboard.panels.alarm_list import MAX_ALARM_ROWS
from tests.dashboard.livedata import (
    PlantTestCase,
    alarm,
    change_site,
    healthy_plant,
    now,
    put_alarm,
    put_health,
)
from wincc_bridge.models import AlarmState
from wincc_ingest import store


class AlarmsPageTestCase(PlantTestCase):
    def setUp(self):
        super().setUp()
        healthy_plant(self.redis)
        put_alarm(self.redis, alarm(name="Oven_Zone2_Temp_H", priority=7,
                                    state=AlarmState.ACKNOWLEDGED))
        put_alarm(self.redis, alarm(name="Oven_Zone2_Temp_L", priority=3,
                                    state=AlarmState.RETURNED_UNACKNOWLEDGED))
        put_alarm(self.redis, alarm(site="line-classic", name="Conveyor_Fault", priority=16,
                                    raise_time=None))
        put_alarm(self.redis, alarm(name="Oven_Door", priority=2, state=AlarmState.SHELVED))

    def order(self, html):
        main = html.partition('class="shelved-list"')[0]
        return [part.split('"')[0] for part in main.split('data-alarm="')[1:]]

    def test_sorted_by_state_then_priority_then_time(self):
        html = self.get_as(self.viewer, "/alarms/").content.decode()
        assert self.order(html) == [
            "line-classic:Conveyor_Fault:1",      # unacknowledged, highest
            "oven-unified:Oven_Zone1_Temp_HH:1",  # unacknowledged, high
            "oven-unified:Oven_Zone2_Temp_L:1",   # returned to normal, still unacknowledged
            "oven-unified:Oven_Zone2_Temp_H:1",   # acknowledged
        ]  # the shelved one is kept off the main list, for the shelved list
        assert 'data-alarm="oven-unified:Oven_Door:1"' in html.partition('class="shelved-list"')[2]
        assert 'data-state="returned_unacknowledged"' in html
        assert "Check the burner." in html  # the operator instruction, on expand

    def test_filters_by_site_priority_and_state(self):
        html = self.get_as(self.viewer, "/alarms/?site=line-classic").content.decode()
        assert self.order(html) == ["line-classic:Conveyor_Fault:1"]
        html = self.get_as(self.viewer, "/alarms/?priority=medium").content.decode()
        assert self.order(html) == ["oven-unified:Oven_Zone2_Temp_H:1"]
        html = self.get_as(self.viewer, "/alarms/?state=shelved").content.decode()
        assert self.order(html) == ["oven-unified:Oven_Door:1"]
        assert 'sse-connect="/live/stream/alarms/?state=shelved&amp;seen=' in html

    def test_unknown_filter_value_is_a_clear_400(self):
        response = self.get_as(self.viewer, "/alarms/?state=panicking")
        assert response.status_code == 400
        assert "There is no state &#x27;panicking&#x27;" in response.content.decode()

    def test_buttons_only_where_the_user_may_acknowledge(self):
        assert 'data-action="ack"' not in self.get_as(self.viewer, "/alarms/").content.decode()
        html = self.get_as(self.operator, "/alarms/").content.decode()
        assert html.count('data-action="ack"') == 3  # the acknowledged one needs none
        html = self.get_as(self.line_operator, "/alarms/").content.decode()
        assert html.count('data-action="ack"') == 1
        vals = json.loads(html.split("hx-vals='")[1].split("'")[0])
        assert vals == {"site": "line-classic", "name": "Conveyor_Fault", "instance": "1",
                        "state": "unacknowledged"}

    def test_no_button_where_the_site_cannot_acknowledge(self):
        # Classic acknowledges only alarms mapped to an acknowledge tag.
        put_alarm(self.redis, alarm(site="line-classic", name="Motor_Overload", priority=10))
        html = self.get_as(self.operator, "/alarms/?site=line-classic").content.decode()
        rows = html.split('data-alarm="')[1:]
        assert [r.split('"')[0] for r in rows] == ["line-classic:Conveyor_Fault:1",
                                                   "line-classic:Motor_Overload:1"]
        assert 'data-action="ack"' in rows[0] and 'data-action="ack"' not in rows[1]
        change_site("oven-unified", acknowledge=False)
        html = self.get_as(self.operator, "/alarms/?site=oven-unified").content.decode()
        assert "Oven_Zone1_Temp_HH" in html and 'data-action="ack"' not in html

    def test_a_site_without_alarm_list_says_so_instead_of_no_alarms(self):
        self.redis.delete(store.site_alarms("oven-unified"))
        put_health(self.redis, "oven-unified", alarm_list="missing")
        html = self.get_as(self.viewer, "/alarms/?site=oven-unified").content.decode()
        assert "No alarms shown for <b>Curing oven</b>: this server publishes no alarm list." in (
            html)
        assert "No alarms." not in html and 'class="no-alarms"' not in html
        assert "not counted: <b>Curing oven</b> (no alarm list)" in html  # the header
        # Across sites, the others' alarms are listed and counted.
        html = self.get_as(self.viewer, "/alarms/").content.decode()
        assert "line-classic:Conveyor_Fault:1" in html
        assert 'data-count-band="highest" data-total="1"' in html
        assert "No alarms shown for <b>Curing oven</b>" in html

    def test_header_counts_by_priority(self):
        html = self.get_as(self.viewer, "/alarms/").content.decode()
        assert 'data-count-band="highest" data-total="1" data-unack="1"' in html
        assert 'data-count-band="medium" data-total="1" data-unack="0"' in html
        assert 'data-count-band="low" data-total="1" data-unack="1"' in html

    def test_raise_times_are_shown_in_utc(self):
        put_alarm(self.redis, alarm(name="Late", raise_time=now() - timedelta(hours=2)))
        html = self.get_as(self.viewer, "/alarms/").content.decode()
        assert "UTC" in html

    def test_a_flood_shows_the_most_important_rows_and_says_how_many_are_left_out(self):
        for i in range(MAX_ALARM_ROWS + 5):
            put_alarm(self.redis, alarm(name=f"Flood_{i:03d}", priority=1))
        html = self.get_as(self.viewer, "/alarms/").content.decode()
        # The shelved list below the main one is counted apart.
        assert html.partition('class="shelved-list"')[0].count("data-alarm=") == MAX_ALARM_ROWS
        assert 'data-alarm="line-classic:Conveyor_Fault:1"' in html  # highest first
        assert "Filter by site, priority or state to see the other 9." in html
        # the header still counts every alarm
        assert f'data-count-band="low" data-total="{MAX_ALARM_ROWS + 6}"' in html
