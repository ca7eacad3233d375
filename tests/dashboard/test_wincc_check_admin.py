"""/admin/wincc-check/: the online check of one site from the admin, staff only, by POST."""

from __future__ import annotations

import json
from pathlib import Path

from django.test import Client
from django.utils.html import escape

from dashboard.siteconfig import get_config, reload_config
from tests.dashboard.acksupport import SimulatorSites
from tests.dashboard.base import BaseTestCase
from tests.fixtures.simulator import acknowledged_or_reset

URL = "/admin/wincc-check/"


class WinccCheckAdminTestCase(SimulatorSites, BaseTestCase):
    def setUp(self):
        super().setUp()
        self.client.force_login(self.admin)

    def test_the_page_lists_each_site_with_a_check_button_and_runs_nothing(self):
        response = self.client.get(URL)
        assert response.status_code == 200
        html = response.content.decode()
        for site in get_config().sites:
            assert f'<button type="submit">Check {site.id}</button>' in html
        assert 'name="csrfmiddlewaretoken"' in html
        assert "wincc-check-report" not in html
        assert f'href="{URL}"' in self.client.get("/admin/").content.decode()

    def test_a_check_shows_every_finding_and_writes_nothing(self):
        self.sim.raise_alarm("Oven_Zone1_Temp_H")
        response = self.client.post(URL, {"site": "oven-unified"})
        assert response.status_code == 200
        html = response.content.decode()
        report = response.context["report"]
        assert report.ok and report.site == "oven-unified"
        assert f"oven-unified (unified, {self.sim.url}): all good" in html
        for finding in report.findings:
            assert f"<td>{finding.check}</td><td>{escape(finding.text)}</td>" in html
        assert "Oven_Zone1_Temp exists, data type LReal, quality good" in html
        assert self.wincc_writes() == []
        assert acknowledged_or_reset(self.sim) == []

    def test_a_missing_tag_and_a_server_that_is_down_are_shown_not_a_500(self):
        path = Path(get_config().source)
        data = json.loads(path.read_text())
        data["sites"][2]["tags"].append({"name": "No_Such_Tag"})
        path.write_text(json.dumps(data))
        reload_config()
        html = self.client.post(URL, {"site": "utilities-restv1"}).content.decode()
        assert "utilities-restv1 (rest-v1, " in html and "1 problem(s): tag No_Such_Tag" in html
        self.sim.stop_listener()
        response = self.client.post(URL, {"site": "line-classic"})
        assert response.status_code == 200
        assert "1 problem(s): reachable" in response.content.decode()
        assert "not reachable: cannot connect to" in response.content.decode()

    def test_an_unknown_or_missing_site_is_a_400_with_a_sentence(self):
        for data in ({"site": "nowhere"}, {}, {"site": "<script>"}):
            response = self.client.post(URL, data)
            assert response.status_code == 400, data
            assert "wincc-check-report" not in response.content.decode()
        assert "No site nowhere is configured." in self.client.post(
            URL, {"site": "nowhere"}).content.decode()

    def test_staff_only_and_post_needs_the_csrf_token(self):
        for user in (self.operator, self.viewer):
            self.client.force_login(user)
            response = self.client.post(URL, {"site": "oven-unified"})
            assert response.status_code == 302
            assert response["Location"].startswith("/admin/login/")
        self.client.logout()
        assert self.client.get(URL).status_code == 302
        strict = Client(enforce_csrf_checks=True)
        strict.force_login(self.admin)
        assert strict.post(URL, {"site": "oven-unified"}).status_code == 403
        assert self.client.put(URL).status_code in (302, 405)
        assert self.wincc_writes() == []

    def test_a_broken_configuration_is_said_on_the_page(self):
        Path(get_config().source).write_text('{"sites": []}')
        get_config.cache_clear()
        for response in (self.client.get(URL), self.client.post(URL, {"site": "x"})):
            assert response.status_code == 200
            assert "$.sites: must list at least 1 item(s)" in response.content.decode()
