"""GET /api/v1/sites/ and /api/v1/sites/{id}/: sites with their health."""

from __future__ import annotations

from tests.api.support import ApiTestCase


class SitesTestCase(ApiTestCase):
    def test_every_site_with_its_health(self):
        self.seed_health("oven-unified", age=0.5)
        self.seed_health("line-classic", failures=2, error="401 from WinCC")
        response = self.get("/sites/")
        assert response.status_code == 200
        assert response["Content-Type"] == "application/json; charset=utf-8"
        assert "no-store" in response["Cache-Control"]
        sites = {s["id"]: s for s in response.json()}
        assert set(sites) == {"oven-unified", "line-classic", "utilities-restv1"}
        oven = sites["oven-unified"]
        assert (oven["name"], oven["dialect"]) == ("Test oven-unified", "unified")
        assert oven["health"]["status"] == "current"
        assert oven["health"]["reachable"] is True and oven["health"]["stale"] is False
        assert 0.5 <= oven["health"]["last_poll_age_seconds"] < 5
        line = sites["line-classic"]["health"]
        assert (line["status"], line["reachable"], line["failing"], line["failures"]) == (
            "failing", False, True, 2)
        assert line["reason"] == "2 failed polls: 401 from WinCC"
        never = sites["utilities-restv1"]["health"]
        assert (never["status"], never["stale"], never["last_poll_age_seconds"]) == (
            "never", True, None)

    def test_a_poll_too_old_is_stale(self):
        self.seed_health("oven-unified", age=10)
        health = self.get("/sites/oven-unified/").json()["health"]
        assert (health["status"], health["stale"], health["reachable"]) == ("stale", True, True)
        assert "no successful poll for more than 3 s" in health["reason"]

    def test_an_unknown_site_is_404_with_a_sentence(self):
        response = self.get("/sites/nowhere/")
        assert response.status_code == 404
        assert response.json() == {
            "detail": "There is no site 'nowhere' that this token may read."}

    def test_unknown_query_parameter_is_422_naming_it(self):
        response = self.get("/sites/", colour="red")
        assert response.status_code == 422
        assert "'colour'" in response.json()["detail"]

    def test_a_nul_in_a_parameter_is_422_as_json(self):
        # Caught before any view by the middleware every page shares; the API keeps to JSON.
        response = self.get("/sites/", colour="a\x00b")
        assert response.status_code == 422
        assert response.json() == {"detail": "colour may not contain a NUL character."}

    def test_only_get(self):
        for method in ("post", "put", "patch", "delete"):
            response = getattr(self.client, method)(
                "/api/v1/sites/", HTTP_AUTHORIZATION=f"Bearer {self.secret}")
            assert response.status_code == 405, method
            assert response["Allow"] == "GET"
            assert response.json()["detail"].startswith("The API only reads")

    def test_redis_down_is_503_with_a_sentence(self):
        with self.settings(REDIS_URL="redis://127.0.0.1:9/0"):
            response = self.get("/sites/")
        assert response.status_code == 503
        assert "Redis" in response.json()["detail"]


class EnglishForMachinesTestCase(ApiTestCase):
    def test_a_german_caller_still_reads_english(self):
        self.seed_health("oven-unified", age=10)
        response = self.client.get("/api/v1/sites/oven-unified/", HTTP_ACCEPT_LANGUAGE="de",
                                   HTTP_AUTHORIZATION=f"Bearer {self.secret}")
        assert response["Content-Language"] == "en"
        assert "no successful poll for more than 3 s" in response.json()["health"]["reason"]
