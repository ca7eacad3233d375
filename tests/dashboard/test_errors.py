"""The 404 and 403 pages: the site's layout, a plain sentence, a link home; with DEBUG off,
as in production."""

from __future__ import annotations

from django.test import override_settings

from tests.dashboard.acksupport import SitesConfigured
from tests.dashboard.base import BaseTestCase


@override_settings(DEBUG=False)
class ErrorPagesTestCase(SitesConfigured, BaseTestCase):
    def assert_styled(self, response, status: int, sentence: str) -> str:
        assert response.status_code == status
        html = response.content.decode()
        assert sentence in html
        assert 'class="top"' in html  # the site's header, not Django's bare page
        assert '<a href="/">Go to the overview</a>' in html
        assert "Django" not in html and "technical" not in html.lower()
        return html

    def test_an_unknown_address_is_the_sites_404(self):
        self.client.force_login(self.viewer)
        html = self.assert_styled(self.client.get("/no/such/page/"), 404,
                                  "There is no page at this address.")
        assert "Pages" in html  # the signed-in person's menu is there to go on from

    def test_a_views_own_sentence_is_shown(self):
        self.client.force_login(self.viewer)
        self.assert_styled(self.client.get("/d/no-such-dashboard/"), 404,
                           "There is no such dashboard in the configuration.")

    def test_signed_out_the_404_is_styled_too(self):
        self.assert_styled(self.client.get("/no/such/page/"), 404,
                           "There is no page at this address.")

    def test_a_refused_page_is_the_sites_403(self):
        self.client.force_login(self.viewer)
        self.assert_styled(self.client.get("/audit/"), 403, "You may not view the audit log.")

    def test_a_403_without_a_sentence_says_so_plainly(self):
        self.client.force_login(self.outsider)
        self.assert_styled(self.client.get("/alarms/"), 403, "You may not see this page.")
