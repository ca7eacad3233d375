"""write_config gives a configuration the product's loader accepts, on this simulator."""

from __future__ import annotations

from pathlib import Path

from tests.fixtures.simulator import write_config
from wincc_ingest import config


def test_three_sites_and_an_overview_that_load(sim, tmp_path):
    path = write_config(sim, tmp_path / "config.json", poll_interval=0.5)
    loaded = config.load(path, environ=sim.env)
    sites = {s.id: s for s in loaded.sites}
    assert {k: s.dialect for k, s in sites.items()} == {
        "oven-unified": "unified", "line-classic": "classic", "utilities-restv1": "rest-v1"}
    for site in sites.values():
        assert site.url == sim.url and site.poll_interval == 0.5
        assert Path(site.ca_file).is_absolute() and Path(site.ca_file).exists()
        password, token = site.read_user.secret(sim.env)
        assert (password or token) in (sim.users.ro.password, sim.users.ro.token)
        password, token = site.write_user.secret(sim.env)
        assert (password or token) in (sim.users.rw.password, sim.users.rw.token)
    classic = sites["line-classic"]
    assert classic.alarm_filter == "ActiveAlarms"
    needing_ack = {d["name"] for d in sim.alarm_definitions() if d["ack_required"]}
    assert set(classic.ack_tags) == needing_ack
    assert classic.ack_tags["Tank_Level_L"].tag == "Ack_Tank_Level_L"
    overview = loaded.dashboard("overview")
    assert {p.kind for p in overview.panels} == {"tiles", "trend", "alarms", "site_health"}
    served = {t["variableName"] for t in sim.client().get(
        "/WinCCRestService/tagManagement/variables",
        auth=(sim.users.ro.username, sim.users.ro.password)).json()}
    assert {t.name for s in loaded.sites for t in s.tags} <= served
