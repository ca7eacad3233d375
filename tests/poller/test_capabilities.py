"""A site works with what its server offers: the real poller, real Redis, the simulator.

A server without an alarm list (REST v1 without `/alarms/active`, Classic V7.5 / V8.0,
a Unified schema without `activeAlarms`) still has its tags polled and shown; its alarms
are recorded as not offered, never as "0 alarms". A site whose configuration says
`"alarms": false` never asks for the list (the simulator's request counts are the witness).
"""

from __future__ import annotations

import json

import pytest

from tests.fixtures.simulator import write_config
from tests.harness.simulator import start_simulator
from wincc_ingest import codec, store
from wincc_ingest.config import build
from wincc_ingest.poller import Backoff, SitePoller, TimeLimits
from wincc_sim.tls import ensure_certificate

SITES = {"unified": "oven-unified", "classic": "line-classic", "rest-v1": "utilities-restv1"}
TAG = {"unified": "Oven_Zone1_Temp", "classic": "Conveyor_Speed", "rest-v1": "Tank_Level"}


@pytest.fixture(autouse=True)
def _secrets(sim, monkeypatch) -> None:
    """The poller reads the API users' secrets from the environment, as in production."""
    for name, value in sim.env.items():
        monkeypatch.setenv(name, value)


def site_of(sim, tmp_path, face: str, **changes):
    data = json.loads(write_config(sim, tmp_path / "config.json").read_text())
    for site in data["sites"]:
        site.update(changes)
        if changes.get("alarms") is False:
            site.pop("alarm_filter", None)
            site.pop("ack_tags", None)
    return build(data, environ=sim.env).known_site(SITES[face])


def poller_for(site, redis_client) -> SitePoller:
    return SitePoller(site, redis_client, TimeLimits.for_sites([site]))


def alarm_list_requests(sim, face: str) -> int:
    return sim.state("Tank_Level")["request_counts"].get(f"{face} alarm list", 0)


@pytest.mark.parametrize("face", list(SITES))
def test_tags_arrive_while_the_alarm_list_is_reported_not_offered(
    sim, tmp_path, redis_client, face
) -> None:
    sim.set_faults(no_alarm_list=[face])
    sim.raise_alarm("Tank_Level_HH")
    sim.set_tag(TAG[face], 123.0)
    site = site_of(sim, tmp_path, face)
    poller = poller_for(site, redis_client)
    try:
        assert poller.poll().status == "ok"
        assert poller.poll().status == "ok"
    finally:
        poller.close()
    values = codec.read_values(redis_client, site.id)
    assert values[TAG[face]].tag.value == 123.0
    assert set(values) == {tag.name for tag in site.tags}
    assert codec.read_alarms(redis_client, site.id) == {}
    health = codec.read_health(redis_client, site.id)
    assert (health.failures, health.last_error, health.alarm_list) == (0, "", "missing")
    assert not health.has_alarm_list and health.alarm_list_checked is not None
    # Unified refuses the query before any resolver runs: the simulator counts none.
    assert alarm_list_requests(sim, face) == (0 if face == "unified" else 1)


def test_a_server_that_gains_its_alarm_list_is_read_at_the_next_probe(
    sim, tmp_path, redis_client
) -> None:
    sim.set_faults(no_alarm_list=["rest-v1"])
    site = site_of(sim, tmp_path, "rest-v1")
    poller = SitePoller(site, redis_client, TimeLimits.for_sites([site]), alarm_reprobe=0)
    try:
        poller.poll()
        assert codec.read_health(redis_client, site.id).alarm_list == "missing"
        sim.set_faults(no_alarm_list=[])
        sim.raise_alarm("Tank_Level_HH")
        outcome = poller.poll()
    finally:
        poller.close()
    assert outcome.alarms_changed
    health = codec.read_health(redis_client, site.id)
    assert health.alarm_list == "offered" and health.alarm_count >= 1
    assert "Tank_Level_HH" in {a.name for a in codec.read_alarms(redis_client, site.id).values()}


@pytest.mark.parametrize("face", list(SITES))
def test_alarms_false_asks_nothing_of_the_alarm_endpoint(
    sim, tmp_path, redis_client, face
) -> None:
    sim.raise_alarm("Tank_Level_HH")
    site = site_of(sim, tmp_path, face, alarms=False)
    poller = poller_for(site, redis_client)
    try:
        for _ in range(3):
            assert poller.poll().status == "ok"
    finally:
        poller.close()
    assert alarm_list_requests(sim, face) == 0
    assert codec.read_alarms(redis_client, site.id) == {}
    health = codec.read_health(redis_client, site.id)
    assert (health.alarm_list, health.tag_count) == ("off", len(site.tags))
    assert set(codec.read_values(redis_client, site.id)) == {tag.name for tag in site.tags}


# --- a certificate the site refuses: the health's short reason, the pin named -----------


def tls_site(sim, tmp_path, tls: dict):
    data = json.loads(write_config(sim, tmp_path / "config.json").read_text())
    site = next(s for s in data["sites"] if s["id"] == SITES["rest-v1"])
    site["tls"] = tls
    return build(data, environ=sim.env).known_site(site["id"])


def poll_once(site, redis_client) -> codec.SiteHealth:
    poller = poller_for(site, redis_client)
    try:
        poller.poll()
    finally:
        poller.close()
    return codec.read_health(redis_client, site.id)


def test_no_pin_on_a_self_signed_server_reads_certificate_not_trusted(
    sim, tmp_path, redis_client
) -> None:
    health = poll_once(tls_site(sim, tmp_path, {"verify": True}), redis_client)
    assert (health.failures, health.reason) == (1, "certificate not trusted")
    assert "is not trusted: the server showed CN=WinCC simulator (SHA-256 " in health.last_error
    assert "no certificate is pinned" in health.last_error


def test_a_wrong_pin_reads_certificate_not_trusted_and_names_the_pin(
    sim, tmp_path, redis_client
) -> None:
    other, _ = ensure_certificate(tmp_path / "other")  # another key, another fingerprint
    health = poll_once(tls_site(sim, tmp_path, {"ca_file": str(other)}), redis_client)
    assert (health.failures, health.reason) == (1, "certificate not trusted")
    assert f"does not match the pinned one: {other} holds CN=WinCC simulator" in (
        health.last_error)
    assert "pin the certificate" not in health.last_error


def test_the_right_pin_polls(sim, tmp_path, redis_client) -> None:
    health = poll_once(tls_site(sim, tmp_path, {"ca_file": sim.ca_file}), redis_client)
    assert (health.failures, health.reason, health.last_error) == (0, "", "")



@pytest.fixture
def classic_only(tmp_path, monkeypatch):
    """A server that speaks Classic alone, as a real one does: the other paths answer 404."""
    server = start_simulator(tmp_path / "classic-only", face=["classic"])
    for name, value in server.env.items():
        monkeypatch.setenv(name, value)
    yield server
    server.stop()


def test_a_site_set_to_the_wrong_dialect_says_which_one_the_server_speaks(
    classic_only, tmp_path, redis_client
) -> None:
    """The reason a tile and /sites/ show names the dialect; the server is asked once."""
    site = site_of(classic_only, tmp_path, "rest-v1")
    asked = []

    def probe(settings, configured):
        asked.append(configured)
        return SitePoller.probe(settings, configured)  # the real probe, counted

    # No waiting between the failed polls (the backoff's cap is 0).
    poller = SitePoller(site, redis_client, TimeLimits.for_sites([site]), probe=probe,
                        backoff=Backoff(cap=0))
    try:
        for _ in range(3):
            assert poller.poll().status == "failed"
    finally:
        poller.close()
    health = codec.read_health(redis_client, site.id)
    assert (health.failures, health.reason) == (3, "wrong dialect: server speaks classic")
    assert health.last_error.endswith(
        "(check the URL and the dialect): {\"error\":\"no such resource: /api/v1/tags\"}; "
        "this server speaks classic, the configuration says rest-v1")
    assert asked == ["rest-v1"]

    # A worker started later (health written by one that never asked) asks once again.
    redis_client.hset(store.site_health(site.id), "reason", "no such endpoint")
    later = SitePoller(site, redis_client, TimeLimits.for_sites([site]), probe=probe,
                       backoff=Backoff(cap=0))
    try:
        later.poll()
    finally:
        later.close()
    assert asked == ["rest-v1", "rest-v1"]
    assert codec.read_health(redis_client, site.id).reason == (
        "wrong dialect: server speaks classic")


def test_a_server_that_speaks_no_other_dialect_keeps_the_reason(
    classic_only, tmp_path, redis_client
) -> None:
    site = site_of(classic_only, tmp_path, "rest-v1")
    poller = SitePoller(site, redis_client, TimeLimits.for_sites([site]),
                        probe=lambda settings, configured: [])
    try:
        assert poller.poll().status == "failed"
    finally:
        poller.close()
    health = codec.read_health(redis_client, site.id)
    assert health.reason == "no such endpoint"
    assert "speaks" not in health.last_error
