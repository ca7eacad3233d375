"""Directory sign-in in a real browser: alice through LDAP (a slapd started here), bob through
OpenID Connect (a provider process started here), each with rights that differ per site, on
a dashboard that reads the live stack's plant (the shared simulator, Redis and Celery).

alice operates the line and may only view the oven: the line's alarm row has an Acknowledge
button, the oven's has none. bob operates the oven: he acknowledges there, WinCC (the
simulator) confirms, and the audit log names him."""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass

import pytest
from playwright.sync_api import expect

from dashboard.models import AuditEntry
from tests.browser.conftest import POLL_INTERVAL, new_page, sign_in
from tests.browser.test_acknowledge_browser import ALARM, POLLED, raise_alarm
from tests.dashboard.directorysupport import LINE, OVEN, require, rights
from tests.fixtures.browser import screenshot
from tests.fixtures.live_server import start_live_server
from tests.fixtures.simulator import write_config
from tests.harness import slapd
from tests.harness.oidc_provider import OIDCProvider, start_oidc_provider
from tests.harness.web import WebServer

pytestmark = pytest.mark.browser

ALICE_PASSWORD = "alice-directory-password"
BOB_PASSWORD = "bob-provider-password"


@dataclass
class DirectoryDashboard:
    server: WebServer
    directory: slapd.Slapd
    provider: OIDCProvider

    @property
    def url(self) -> str:
        return self.server.url


@pytest.fixture(scope="module")
def dashboard(live_stack, simulator, tmp_path_factory) -> Iterator[DirectoryDashboard]:
    require(slapd.SLAPD, "slapd")
    folder = tmp_path_factory.mktemp("directory-sign-in")
    directory = slapd.start_slapd()
    provider = server = None
    try:
        directory.add_person("alice", ALICE_PASSWORD)
        directory.add_group("line-operators", ["alice"])
        directory.add_group("oven-operators", [])
        provider = start_oidc_provider(folder / "provider", client_id="wincc-dashboard",
                                       client_secret="provider-client-secret-for-tests",
                                       redirect_uri="")
        provider.set_people({"bob": {"password": BOB_PASSWORD, "groups": ["oven-operators"]}})
        # LDAP's group by its DN, the provider's by its name in the groups claim.
        mapping = rights(directory.group_dn("line-operators"), "oven-operators", "admins")
        (folder / "groups.json").write_text(json.dumps(mapping))
        env = {
            **simulator.env, **provider.settings_env(),
            "DIRECTORY_GROUPS_FILE": str(folder / "groups.json"),
            "LDAP_SERVER_URI": directory.uri, "LDAP_USER_SEARCH_BASE": slapd.PEOPLE,
            "LDAP_GROUP_SEARCH_BASE": slapd.GROUPS, "LDAP_BIND_DN": slapd.ADMIN_DN,
            "LDAP_BIND_PASSWORD": slapd.ADMIN_PASSWORD,
        }
        config = write_config(simulator, folder / "config.json", poll_interval=POLL_INTERVAL)
        # The live stack's Redis: its worker polls the plant this dashboard shows.
        server = start_live_server(folder / "web", redis_url=live_stack.redis.url,
                                   wincc_config=config, env=env)
        provider.set_redirect_uri(f"{server.url}/oidc/callback/")
        yield DirectoryDashboard(server, directory, provider)
    finally:
        if server is not None:
            server.stop()
        if provider is not None:
            provider.stop()
        directory.stop()


def row(site: str, instance: int) -> str:
    return f'[data-alarm="{site}:{ALARM}:{instance}"]'


def test_ldap_person_acknowledges_on_one_site_and_only_views_another(browser, stack, dashboard):
    _, instance = raise_alarm(stack)
    page = new_page(browser)
    sign_in(page, dashboard.url, "alice", ALICE_PASSWORD)  # the ordinary form

    page.goto(f"{dashboard.url}/alarms/?site={LINE}")
    expect(page.locator(f'{row(LINE, instance)} [data-action="ack"]')).to_be_visible(
        timeout=POLLED)
    page.goto(f"{dashboard.url}/alarms/?site={OVEN}")
    expect(page.locator(row(OVEN, instance))).to_be_visible(timeout=POLLED)
    expect(page.locator(f'{row(OVEN, instance)} [data-action="ack"]')).to_have_count(0)
    screenshot(page, "directory-ldap-view-only-site")
    page.context.close()


def test_oidc_person_signs_in_at_the_provider_and_acknowledges(browser, stack, dashboard):
    _, instance = raise_alarm(stack)
    page = new_page(browser)
    page.goto(f"{dashboard.url}/accounts/login/")
    screenshot(page, "directory-sign-in-page")
    page.click("text=Sign in with Plant directory")
    page.wait_for_url(f"{dashboard.provider.issuer}/authorize?*")
    page.fill("#username", "bob")
    page.fill("#password", BOB_PASSWORD)
    page.click("#kc-login")
    page.wait_for_url(f"{dashboard.url}/")

    page.goto(f"{dashboard.url}/alarms/?site={OVEN}")
    target = page.locator(row(OVEN, instance))
    expect(target).to_have_attribute("data-state", "unacknowledged", timeout=POLLED)
    target.locator('[data-action="ack"]').click()
    expect(target).to_have_attribute("data-state", "acknowledged")
    # The line has polled the same plant alarm by now; bob may not see that site at all.
    page.goto(f"{dashboard.url}/alarms/")
    expect(page.locator(row(OVEN, instance))).to_be_visible()
    expect(page.locator(row(LINE, instance))).to_have_count(0)
    page.context.close()

    output = dashboard.server.manage(
        "shell", "-c",
        "import json; from dashboard.models import AuditEntry as A; "
        "print(json.dumps(list(A.objects.values_list('username', 'site_id', 'result'))))")
    entries = json.loads(output.strip().splitlines()[-1])  # after any line Django logs
    assert ["bob", OVEN, AuditEntry.Result.OK] in entries
