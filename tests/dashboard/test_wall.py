import re

from django.utils import timezone

from dashboard.models import WallScreen
from tests.dashboard.livedata import PlantTestCase, healthy_plant


class WallScreenTestCase(PlantTestCase):
    def setUp(self):
        super().setUp()
        healthy_plant(self.redis)
        self.screen, self.token = WallScreen.issue(name="Control room", dashboard_id="overview")

    def test_token_signs_the_screen_in_once_and_leaves_the_address(self):
        response = self.client.get(f"/wall/overview/?token={self.token}&rotate=30")
        assert response.status_code == 302
        assert response["Location"] == "/wall/overview/?rotate=30"
        page = self.client.get(response["Location"])
        assert page.status_code == 200
        html = page.content.decode()
        assert 'class="wall"' in html and 'data-rotate="30"' in html
        assert 'data-next="/wall/line/?rotate=30"' in html
        assert 'data-tag="oven-unified:Oven_Zone1_Temp"' in html
        # Its only controls are its own sound's (annunciator): nothing acts on the plant.
        assert 'data-sound="enable"' in html
        html = re.sub(r'<div class="sound-controls".*?</div>', "", html, flags=re.S)
        for control in ("<button", "<form", "<nav", 'data-action="ack"', "Sign out"):
            assert control not in html
        assert "_auth_user_id" not in self.client.session  # a screen, never a user login
        self.screen.refresh_from_db()
        assert self.screen.last_seen_at is not None

    def test_stream_accepts_the_screen(self):
        self.client.get(f"/wall/overview/?token={self.token}")
        assert self.client.get("/live/poll/wall/overview/").status_code == 200

    def test_revoked_screen_is_refused_on_the_next_load_and_stream(self):
        self.client.get(f"/wall/overview/?token={self.token}")
        WallScreen.objects.filter(pk=self.screen.pk).update(revoked_at=timezone.now())
        assert self.client.get("/live/poll/wall/overview/").status_code == 403
        response = self.client.get("/wall/overview/")
        assert response.status_code == 403
        assert "not signed in" in response.content.decode()

    def test_wrong_token_is_refused(self):
        response = self.client.get("/wall/overview/?token=guess")
        assert response.status_code == 403

    def test_rotation_must_be_sensible(self):
        self.client.get(f"/wall/overview/?token={self.token}")
        for rotate in ("1", "²", "9" * 5000, "86401", "-5", "5.5"):
            response = self.client.get(f"/wall/overview/?rotate={rotate}")
            assert response.status_code == 400, rotate
            assert "rotate must be a whole number from 5 to 86400" in response.content.decode()
        assert self.client.get("/wall/overview/?rotate=5").status_code == 200

    def test_wall_screen_never_gets_acknowledge_buttons_even_for_an_operator(self):
        html = self.get_as(self.operator, "/wall/overview/").content.decode()
        assert 'data-alarm="oven-unified:Oven_Zone1_Temp_HH:1"' in html
        assert 'data-action="ack"' not in html
