"""API tokens in the admin: created with a checked scope, the token shown once, revoked."""

from __future__ import annotations

from dashboard.models import ApiToken
from tests.api.support import ApiTestCase

ADD = "/admin/dashboard/apitoken/add/"


class ApiTokenAdminTestCase(ApiTestCase):
    def setUp(self):
        super().setUp()
        self.client.force_login(self.admin)

    def test_add_shows_the_token_once(self):
        response = self.client.post(ADD, {"name": "ERP", "owner": self.viewer.pk,
                                          "sites": "oven-unified, line-classic"})
        assert response.status_code == 200
        text = response.context["token"]
        html = response.content.decode()
        assert text in html and "This token is shown only now." in html
        token = ApiToken.objects.get(name="ERP")
        assert (token.owner, token.created_by, token.sites) == (
            self.viewer, self.admin, "oven-unified, line-classic")
        assert ApiToken.for_text(text) == token
        assert text.split("_", 2)[2] not in token.secret_hash
        ids = [s["id"] for s in self.get("/sites/", secret=text).json()]
        assert ids == ["oven-unified", "line-classic"]
        # Never again: not on its page, not in the list.
        for url in (f"/admin/dashboard/apitoken/{token.pk}/change/",
                    "/admin/dashboard/apitoken/"):
            page = self.client.get(url).content.decode()
            assert f"wdash_{token.prefix}_…" in page
            assert text not in page

    def test_an_unknown_site_is_refused(self):
        response = self.client.post(ADD, {"name": "ERP", "owner": self.viewer.pk,
                                          "sites": "nowhere"})
        assert response.status_code == 200
        assert "No site &#x27;nowhere&#x27; in the configuration." in response.content.decode()
        assert not ApiToken.objects.filter(name="ERP").exists()

    def test_revoke_action(self):
        response = self.client.post("/admin/dashboard/apitoken/", {
            "action": "revoke", "_selected_action": [self.token.pk]}, follow=True)
        assert "Revoked 1 API token(s)" in response.content.decode()
        assert self.get("/sites/").status_code == 401
