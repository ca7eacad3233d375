"""/api/v1/openapi.json (OpenAPI 3.1) and /api/v1/docs (Swagger UI from the server's own
static files); every other address under /api/ is a JSON 404."""

from __future__ import annotations

import re

from django.test import SimpleTestCase


class DocsTestCase(SimpleTestCase):
    def test_the_document_is_openapi_3_1_with_bearer_tokens(self):
        response = self.client.get("/api/v1/openapi.json")
        assert response.status_code == 200
        doc = response.json()
        assert doc["openapi"].startswith("3.1")
        assert set(doc["paths"]) == {
            "/api/v1/sites/", "/api/v1/sites/{site_id}/", "/api/v1/sites/{site_id}/tags/",
            "/api/v1/sites/{site_id}/alarms/", "/api/v1/sites/{site_id}/trend/",
            "/api/v1/journal/"}
        for operations in doc["paths"].values():
            assert set(operations) == {"get"}
            assert {"200", "401", "404", "422", "503"} <= set(operations["get"]["responses"])
        schemes = doc["components"]["securitySchemes"]
        assert [s["scheme"] for s in schemes.values()] == ["bearer"]
        window = doc["components"]["schemas"]["TrendOut"]["properties"]["window"]
        assert window["description"].startswith("Only the recent window")

    def test_the_docs_load_only_this_servers_files(self):
        response = self.client.get("/api/v1/docs")
        assert response.status_code == 200
        html = response.content.decode()
        sources = re.findall(r'(?:src|href)="([^"]+)"', html)
        assert any(s.endswith("ninja/swagger-ui-bundle.js") for s in sources), sources
        assert all(s.startswith("/static/") for s in sources), sources
        assert "<script>" not in html  # no inline script: the page keeps the CSP

    def test_any_other_api_address_is_a_json_404(self):
        for path in ("/api/", "/api/v2/sites/", "/api/v1/nothing/"):
            response = self.client.get(path)
            assert response.status_code == 404, path
            assert response["Content-Type"] == "application/json"
            assert response.json()["detail"].startswith("There is no such address in the API")
