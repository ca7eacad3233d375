"""/admin/tags/: the tag browser on the real simulator: browse a page at a time with values,
pick tags into a dashboard, the change as a diff or written where allowed; staff with the
permission only."""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

from django.contrib.auth.models import Permission, User
from django.test import Client, override_settings
from django.urls import reverse
from django.utils.html import escape

from dashboard import siteconfig
from dashboard.models import AuditEntry
from dashboard.siteconfig import get_config
from tests.dashboard.acksupport import SimulatorSites
from tests.dashboard.base import PASSWORD, BaseTestCase

URL = "/admin/tags/"


def picks(*rows: dict, total: int | None = None, **extra) -> dict:
    """The POST of the change form: `rows` are the listed tags' forms in page order."""
    data = {"site": "line-classic", "pattern": "Oven_*", "page": "1", "per_page": "50",
            "form-TOTAL_FORMS": str(total if total is not None else len(rows)),
            "form-INITIAL_FORMS": str(len(rows)), "action": "preview"}
    for i, row in enumerate(rows):
        for key, value in row.items():
            data[f"form-{i}-{key}"] = value
    data.update(extra)
    return data


OVEN = ["Oven_Zone1_Setpoint", "Oven_Zone1_Temp", "Oven_Zone2_Setpoint", "Oven_Zone2_Temp",
        "Oven_Zone3_Setpoint", "Oven_Zone3_Temp"]


def oven_rows(**picked: dict) -> list[dict]:
    return [{"name": name, **({"pick": "on", **picked[name]} if name in picked else {})}
            for name in OVEN]


class TagBrowserTestCase(SimulatorSites, BaseTestCase):
    def setUp(self):
        super().setUp()
        self.client.force_login(self.admin)
        self.path = Path(get_config().source)

    def test_the_admin_links_it_and_a_first_visit_only_offers_the_form(self):
        assert f'href="{URL}"' in self.client.get("/admin/").content.decode()
        response = self.client.get(URL)
        assert response.status_code == 200
        html = response.content.decode()
        assert 'id="tag-browse-form"' in html and 'id="tag-table"' not in html
        for site in get_config().sites:
            assert f'<option value="{site.id}">' in html

    def test_a_page_of_tags_with_data_type_value_quality_and_what_is_configured(self):
        self.sim.set_tag("Oven_Zone2_Temp", 187.5, hold=True)
        response = self.client.get(URL, {"site": "line-classic", "pattern": "Oven_*"})
        assert response.status_code == 200
        html = response.content.decode()
        assert "6 tag(s) of Line (WinCC Classic) match Oven_*; page 1 of 1" in html
        rows = re.findall(r'<tr data-tag="([^"]+)"', html)
        assert rows == OVEN
        row = html[html.index('<tr data-tag="Oven_Zone2_Temp"'):]
        row = re.sub(r">\s+<", "><", row[:row.index("</tr>")])
        assert '<td>8</td><td class="value">187.5</td><td class="quality-good">good</td>' in row
        # Configured tags are marked and show their settings.
        html = self.client.get(URL, {"site": "line-classic", "pattern": "Conveyor_Speed"}
                               ).content.decode()
        assert "(configured)" in html and 'value="Conveyor speed"' in html
        assert self.sim.requests_log() == []

    def test_paging_through_every_tag(self):
        html = self.client.get(URL, {"site": "utilities-restv1", "pattern": "*",
                                     "per_page": "50", "page": "3"}).content.decode()
        count = int(re.search(r"(\d+) tag\(s\) of", html).group(1))
        assert count >= 200
        assert f"page 3 of {-(-count // 50)}" in html and "tags 101 to 150" in html
        assert len(re.findall(r'<tr data-tag="', html)) == 50
        assert 'rel="next"' in html and 'rel="prev"' in html

    def test_bad_input_is_a_400_with_a_sentence(self):
        cases = [
            ({"site": "line-classic", "pattern": "Oven_'; DROP"}, "A pattern holds tag name"),
            ({"site": "line-classic", "pattern": ""}, "Give a tag name pattern"),
            ({"site": "nowhere", "pattern": "*"}, "No site nowhere is configured."),
            ({"site": "line-classic", "pattern": "*", "per_page": "100"}, "Select a valid choice"),
            ({"site": "line-classic", "pattern": "*", "page": "x"},
             "The page is a whole number from 1."),
        ]
        for query, sentence in cases:
            response = self.client.get(URL, query)
            assert response.status_code == 400, query
            assert sentence in response.content.decode(), query

    def test_a_server_that_cannot_be_browsed_is_said_not_a_500(self):
        self.sim.stop_listener()
        response = self.client.get(URL, {"site": "line-classic", "pattern": "*"})
        assert response.status_code == 502
        assert "Cannot browse Line (WinCC Classic) (line-classic):" in response.content.decode()

    def test_the_change_is_shown_and_downloaded_as_a_diff_that_patch_applies(self):
        before = self.path.read_bytes()
        data = picks(*oven_rows(Oven_Zone1_Temp={"label": "Zone 1", "unit": "°C", "l": "160",
                                                 "h": "200", "decimals": "1"}),
                     dashboard="oven-line", title="Oven on the line")
        response = self.client.post(URL, data)
        assert response.status_code == 200
        html = response.content.decode()
        assert "1 tag(s) added, 0 changed" in html
        assert '+          &quot;name&quot;: &quot;Oven_Zone1_Temp&quot;' in html
        assert 'value="download"' in html and 'value="write"' not in html
        assert self.path.read_bytes() == before
        response = self.client.post(URL, {**data, "action": "download"})
        assert response["Content-Type"].startswith("text/x-diff")
        assert response["Content-Disposition"].startswith('attachment; filename="wincc-config-')
        diff = self.path.parent / "change.diff"
        diff.write_bytes(response.content)
        subprocess.run(["patch", "-s", "-p1", "-i", "change.diff"], cwd=self.path.parent,
                       check=True)
        config = siteconfig.reload_config()
        tag = config.known_site("line-classic").tag("Oven_Zone1_Temp")
        assert (tag.label, tag.unit, tag.limits.l, tag.limits.h) == ("Zone 1", "°C", 160, 200)
        board = config.dashboard("oven-line")
        assert board.title == "Oven on the line"
        assert board.panels[0].tags == ("Oven_Zone1_Temp",)

    def test_a_change_the_configuration_would_refuse_names_its_problems(self):
        data = picks(*oven_rows(Oven_Zone1_Temp={"h": "250", "hh": "200"}))
        response = self.client.post(URL, data)
        assert response.status_code == 400
        html = response.content.decode()
        assert "The changed configuration would be refused" in html
        assert "limits must rise in the order ll &lt; l &lt; h &lt; hh" in html
        response = self.client.post(URL, picks(*oven_rows()))
        assert response.status_code == 400
        assert "Pick at least one tag" in response.content.decode()
        response = self.client.post(URL, picks(*oven_rows(Oven_Zone1_Temp={"decimals": "9"}),
                                               dashboard="Not An Id"))
        assert response.status_code == 400
        html = response.content.decode()
        assert "A dashboard id must be 1 to 64 lowercase letters" in html
        assert "decimals: Ensure this value is less than or equal to 6." in html

    def test_writing_is_refused_while_switched_off(self):
        before = self.path.read_bytes()
        data = picks(*oven_rows(Oven_Zone1_Temp={}), action="write",
                     base_version=siteconfig.version_of(before))
        response = self.client.post(URL, data)
        assert response.status_code == 409
        assert "switched off (CONFIG_WRITES_ALLOWED)" in response.content.decode()
        assert self.path.read_bytes() == before
        assert not AuditEntry.objects.filter(action="configure").exists()

    # A long interval: the process that wrote the file shows the change on its next page at
    # once (the engineer follows the link); other processes follow within the interval.
    @override_settings(CONFIG_WRITES_ALLOWED=True, CONFIG_RELOAD_SECONDS=600)
    def test_written_the_dashboard_shows_without_a_restart_and_the_write_is_audited(self):
        before = self.path.read_bytes()
        old = siteconfig.version_of(before)
        data = picks(*oven_rows(Oven_Zone2_Temp={"label": "Zone 2", "unit": "°C"}),
                     action="write", base_version=old, dashboard="zone2")
        response = self.client.post(URL, data, HTTP_USER_AGENT="EngineeringLaptop/1.0")
        assert response.status_code == 302
        assert response["Location"].startswith(URL + "?site=line-classic")
        assert self.path.with_name(f"{self.path.name}.{old}.bak").read_bytes() == before
        html = self.client.get(response["Location"]).content.decode()
        new = siteconfig.version_of(self.path.read_bytes())
        assert f"Written: version {new} (1 tag(s) added, 0 changed" in html
        assert "Dashboard zone2: /d/zone2/" in html
        entry = AuditEntry.objects.get(action="configure")
        assert (entry.username, entry.site_id, entry.result) == ("admin", "line-classic", "ok")
        assert entry.device == "EngineeringLaptop/1.0"
        assert f"configuration {old} -> {new}; added Oven_Zone2_Temp" == entry.message
        audit = self.client.get(reverse("audit-log")).content.decode()
        assert "<td data-configure>the configuration</td>" in audit
        assert escape(entry.message) in audit
        page = self.client.get("/d/zone2/")
        assert page.status_code == 200
        assert "Zone 2" in page.content.decode()

    @override_settings(CONFIG_WRITES_ALLOWED=True)
    def test_a_file_changed_since_the_change_was_shown_is_not_overwritten(self):
        before = self.path.read_bytes()
        data = picks(*oven_rows(Oven_Zone1_Temp={}), action="write", base_version="0" * 12)
        response = self.client.post(URL, data)
        assert response.status_code == 409
        html = response.content.decode()
        assert "The file changed since this change was shown" in html
        assert 'id="change-diff"' in html
        assert self.path.read_bytes() == before

    def test_staff_with_the_permission_only_and_post_needs_the_csrf_token(self):
        for user in (self.operator, self.viewer):
            self.client.force_login(user)
            response = self.client.get(URL)
            assert response.status_code == 302
            assert response["Location"].startswith("/admin/login/")
        staff = User.objects.create_user("engineer", password=PASSWORD, is_staff=True)
        self.client.force_login(staff)
        assert self.client.get(URL).status_code == 403
        assert self.client.post(URL, picks(*oven_rows(Oven_Zone1_Temp={}))).status_code == 403
        staff.user_permissions.add(Permission.objects.get(codename="configure_tags"))
        staff = User.objects.get(pk=staff.pk)
        self.client.force_login(staff)
        assert self.client.get(URL).status_code == 200
        self.client.logout()
        assert self.client.get(URL).status_code == 302
        strict = Client(enforce_csrf_checks=True)
        strict.force_login(self.admin)
        assert strict.post(URL, picks(*oven_rows(Oven_Zone1_Temp={}))).status_code == 403
