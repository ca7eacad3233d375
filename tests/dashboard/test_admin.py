"""The admin: audit log and journal read-only for everyone, wall-screen tokens shown once,
sites granted per group."""

from __future__ import annotations

from datetime import UTC, datetime

from django.contrib.auth.models import Group, Permission, User

from dashboard import permissions
from dashboard.models import AuditEntry, JournalEntry, WallScreen
from tests.dashboard.acksupport import SitesConfigured
from tests.dashboard.base import BaseTestCase


class ReadOnlyRecordsTestCase(BaseTestCase):
    @classmethod
    def setUpTestData(cls):
        super().setUpTestData()
        cls.entry = AuditEntry.objects.create(
            username="operator", site_id="oven-unified", alarm_name="Oven_Zone1_Temp_HH",
            instance_id=1, result=AuditEntry.Result.DENIED, message="No permission.")
        cls.journal = JournalEntry.objects.create(
            key="oven-unified|Oven_Zone1_Temp_HH|1|raised|t", site_id="oven-unified",
            alarm_name="Oven_Zone1_Temp_HH", instance_id=1, transition="raised",
            at=datetime(2026, 11, 26, tzinfo=UTC), state="unacknowledged")

    def setUp(self):
        self.client.force_login(self.admin)

    def test_superuser_views_but_cannot_add_change_or_delete(self):
        for model, row in (("auditentry", self.entry), ("journalentry", self.journal)):
            base = f"/admin/dashboard/{model}/"
            with self.subTest(model=model):
                listing = self.client.get(base)
                assert listing.status_code == 200
                html = listing.content.decode()
                assert f'href="{base}add/"' not in html
                assert "delete_selected" not in html
                assert self.client.get(f"{base}add/").status_code == 403
                detail = self.client.get(f"{base}{row.pk}/change/")
                assert detail.status_code == 200
                assert 'name="_save"' not in detail.content.decode()
                assert self.client.post(f"{base}{row.pk}/change/", {}).status_code == 403
                assert self.client.get(f"{base}{row.pk}/delete/").status_code == 403
                deleted = self.client.post(f"{base}{row.pk}/delete/", {"post": "yes"})
                assert deleted.status_code == 403
        forged = self.client.post("/admin/dashboard/auditentry/",
                                  {"action": "delete_selected", "_selected_action": [self.entry.pk],
                                   "post": "yes"})
        assert forged.status_code in (200, 302)
        stored = AuditEntry.objects.get(pk=self.entry.pk)
        assert (stored.result, stored.message) == (AuditEntry.Result.DENIED, "No permission.")
        assert JournalEntry.objects.filter(pk=self.journal.pk).exists()

    def test_the_index_names_site_access_in_plain_words(self):
        html = self.client.get("/admin/").content.decode()
        assert "Site access rights" in html
        assert "accesss" not in html.lower()

    def test_staff_without_audit_permission_cannot_see_the_log(self):
        self.operator.is_staff = True
        self.operator.save()
        self.client.force_login(self.operator)
        assert self.client.get("/admin/dashboard/auditentry/").status_code == 403


# What the admin's add form sends with its defaults untouched.
SCREEN_DEFAULTS = {"rotation": "", "page_seconds": "30", "theme": "dark", "pause_on_alarm": "on",
                   "sound_priority": "5"}


class WallScreenAdminTestCase(SitesConfigured, BaseTestCase):
    def setUp(self):
        super().setUp()
        self.client.force_login(self.admin)

    def test_add_shows_the_token_once(self):
        response = self.client.post("/admin/dashboard/wallscreen/add/",
                                    {"name": "Control room", "dashboard_id": "overview",
                                     **SCREEN_DEFAULTS})
        assert response.status_code == 200
        token = response.context["token"]
        screen = WallScreen.objects.get()
        assert (screen.name, screen.created_by) == ("Control room", self.admin)
        assert WallScreen.for_token(token) == screen
        assert token not in screen.token_hash
        html = response.content.decode()
        assert f"http://testserver/wall/overview/?token={token}" in html
        detail = self.client.get(f"/admin/dashboard/wallscreen/{screen.pk}/change/")
        assert token not in detail.content.decode()

    def test_unknown_dashboard_is_refused(self):
        response = self.client.post("/admin/dashboard/wallscreen/add/",
                                    {"name": "Control room", "dashboard_id": "nope",
                                     **SCREEN_DEFAULTS})
        assert response.status_code == 200
        assert "No dashboard &#x27;nope&#x27; in the configuration." in response.content.decode()
        assert not WallScreen.objects.exists()

    def test_settings_are_changed_without_a_new_token(self):
        screen, token = WallScreen.issue(name="Hall", dashboard_id="overview")
        url = f"/admin/dashboard/wallscreen/{screen.pk}/change/"
        form = {"name": "Hall", "dashboard_id": "overview", "rotation": "overview",
                "page_seconds": "45", "theme": "light", "sound": "on", "sound_priority": "1"}
        assert self.client.post(url, form).status_code == 302
        screen.refresh_from_db()
        assert (screen.rotation, screen.page_seconds, screen.theme) == ("overview", 45, "light")
        assert (screen.pause_on_alarm, screen.sound, screen.sound_priority) == (False, True, 1)
        assert WallScreen.for_token(token) == screen  # still signed in

        for field, value, message in (
            ("rotation", "overview, nope", "No dashboard &#x27;nope&#x27; in the configuration"),
            ("page_seconds", "2", "greater than or equal to 5"),
            ("page_seconds", "99999999", "less than or equal to 86400"),
            ("theme", "neon", "Select a valid choice"),
        ):
            response = self.client.post(url, {**form, field: value})
            assert response.status_code == 200, field
            assert message in response.content.decode(), field
        screen.refresh_from_db()
        assert screen.page_seconds == 45

    def action(self, name: str, *screens: WallScreen):
        return self.client.post("/admin/dashboard/wallscreen/", {
            "action": name, "_selected_action": [s.pk for s in screens]})

    def test_revoke_and_reissue(self):
        left, left_token = WallScreen.issue(name="Left", dashboard_id="overview",
                                            page_seconds=90, theme="light", sound=True)
        right, right_token = WallScreen.issue(name="Right", dashboard_id="overview")
        assert self.action("revoke", left, right).status_code == 302
        assert WallScreen.for_token(left_token) is None
        assert WallScreen.for_token(right_token) is None

        refused = self.action("issue_new_token", left, right)
        assert refused.status_code == 302
        assert WallScreen.for_token(left_token) is None

        reissued = self.action("issue_new_token", left)
        assert reissued.status_code == 200
        token = reissued.context["token"]
        replacement = WallScreen.for_token(token)
        assert (replacement.name, replacement.dashboard_id) == ("Left", "overview")
        assert replacement.settings() == left.settings()  # the screen keeps its settings
        # A new record: sessions holding the old one stay signed out.
        assert replacement.pk != left.pk
        assert WallScreen.objects.get(pk=left.pk).revoked_at is not None
        assert WallScreen.for_token(left_token) is None

    def test_reissue_revokes_an_active_screen(self):
        screen, token = WallScreen.issue(name="Hall", dashboard_id="overview")
        new_token = self.action("issue_new_token", screen).context["token"]
        assert WallScreen.for_token(token) is None
        assert WallScreen.objects.get(pk=screen.pk).revoked_at is not None
        assert WallScreen.for_token(new_token).name == "Hall"


class GroupSiteAccessTestCase(BaseTestCase):
    def test_admin_grants_a_group_one_site(self):
        self.client.force_login(self.admin)
        perms = Permission.objects.filter(content_type__app_label="dashboard",
                                          codename__in=["view_dashboard", "acknowledge_alarm"])
        response = self.client.post("/admin/auth/group/add/", {
            "name": "Operators:utilities",
            "permissions": [p.pk for p in perms],
            "site_access-TOTAL_FORMS": "1", "site_access-INITIAL_FORMS": "0",
            "site_access-MIN_NUM_FORMS": "0", "site_access-MAX_NUM_FORMS": "1000",
            "site_access-0-site_id": "utilities-restv1",
        })
        assert response.status_code == 302
        person = User.objects.create_user("utilities_operator")
        person.groups.add(Group.objects.get(name="Operators:utilities"))
        assert permissions.can_acknowledge(person, "utilities-restv1")
        assert not permissions.can_acknowledge(person, "oven-unified")
