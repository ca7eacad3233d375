"""The API's interactive docs in a real browser: Swagger UI from the server's own files,
under the product's Content-Security-Policy without one violation, nothing fetched from
another origin, and a request tried with a token from the page answers from the live stack."""

from __future__ import annotations

from urllib.parse import urlsplit

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import new_page
from tests.browser.test_csp_browser import record_violations

pytestmark = pytest.mark.browser


# It may be the session's first browser test, paying the live stack's start, and it runs
# manage.py once: on a loaded machine that takes longer than the suite's 120 s.
@pytest.mark.timeout(240)
def test_the_docs_run_under_the_policy_and_try_a_request(browser, stack):
    text = stack.server.manage("apitoken", "create", "Docs check", "--owner", "viewer")
    token = text.strip().splitlines()[-1]
    violations: list[str] = []
    elsewhere: list[str] = []
    page = new_page(browser)
    record_violations(page, violations)
    origin = urlsplit(stack.url).netloc
    page.on("request", lambda request: elsewhere.append(request.url)
            if urlsplit(request.url).netloc not in (origin, "") else None)
    page.goto(f"{stack.url}/api/v1/docs")
    # Swagger UI's bundle is large: a loaded machine parses it for seconds.
    expect(page.locator(".opblock")).to_have_count(6, timeout=30_000)
    # Authorize with the token, then try GET /sites/.
    page.get_by_role("button", name="Authorize").first.click()
    page.locator(".auth-container input").fill(token)
    page.locator(".auth-btn-wrapper button.authorize").click()
    page.locator(".btn-done").click()
    sites = page.locator(".opblock", has_text="/api/v1/sites/").first
    sites.locator(".opblock-summary").click()
    sites.get_by_role("button", name="Try it out").click()
    sites.get_by_role("button", name="Execute").click()
    answer = sites.locator(".live-responses-table tbody .response-col_status").first
    expect(answer).to_have_text("200", timeout=30_000)
    expect(sites.locator(".live-responses-table tbody .microlight").first).to_contain_text(
        "oven-unified")
    page.wait_for_timeout(300)
    page.context.close()
    assert violations == []
    assert elsewhere == []
