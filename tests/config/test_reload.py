"""The configuration follows its file without a restart: a valid change is used within
CONFIG_RELOAD_SECONDS, a broken one is refused and the running one stays (siteconfig)."""

from __future__ import annotations

import json
import logging
import os
import time

import pytest

from dashboard import celery as celery_module
from dashboard import siteconfig
from dashboard.celery import SiteScheduler, app


def site(site_id, tags=("Tank_Level",), **extra):
    return {"id": site_id, "dialect": "rest-v1", "url": "http://127.0.0.1:9",
            "read_user": {"username": "api_ro", "token_env": "RELOAD_TEST_TOKEN"},
            "tags": [{"name": t} for t in tags], **extra}


def write(path, sites, dashboards=()):
    path.write_text(json.dumps({"sites": sites, "dashboards": list(dashboards)}))
    # A second write in the same clock tick of a coarse file system still shows as a change.
    os.utime(path, ns=(time.time_ns(), time.time_ns() + 1_000_000))


@pytest.fixture
def config_file(tmp_path, settings, monkeypatch):
    monkeypatch.setenv("RELOAD_TEST_TOKEN", "t")
    path = tmp_path / "config.json"
    write(path, [site("line")])
    settings.WINCC_CONFIG = str(path)
    settings.CONFIG_RELOAD_SECONDS = 0.2
    siteconfig.get_config.cache_clear()
    yield path
    siteconfig.get_config.cache_clear()


def after_reload_interval():
    time.sleep(0.25)


def test_a_changed_file_is_used_after_the_reload_interval_with_a_new_version(config_file):
    first = siteconfig.get_config()
    version = siteconfig.config_version()
    assert version == siteconfig.version_of(config_file.read_bytes())
    write(config_file, [site("line", tags=("Tank_Level", "Tank_Outflow"))],
          [{"id": "tank", "panels": [{"kind": "tiles", "site": "line", "tags": ["Tank_Outflow"]}]}])
    # Within the interval the running configuration is served without looking at the file.
    assert siteconfig.get_config() is first
    after_reload_interval()
    second = siteconfig.get_config()
    assert [t.name for t in second.known_site("line").tags] == ["Tank_Level", "Tank_Outflow"]
    assert second.dashboard("tank") is not None
    assert siteconfig.config_version() not in ("", version)
    assert siteconfig.refused() is None


def test_the_same_content_saved_again_is_no_new_configuration(config_file):
    first = siteconfig.get_config()
    config_file.write_bytes(config_file.read_bytes())
    os.utime(config_file, ns=(time.time_ns(), time.time_ns() + 5_000_000))
    after_reload_interval()
    assert siteconfig.get_config() is first


def test_a_broken_change_is_refused_logged_once_and_the_running_one_stays(config_file, caplog):
    first = siteconfig.get_config()
    version = siteconfig.config_version()
    write(config_file, [site("line", poll_interval=0.01)])
    after_reload_interval()
    with caplog.at_level(logging.ERROR, logger="dashboard.siteconfig"):
        assert siteconfig.get_config() is first
        after_reload_interval()
        assert siteconfig.get_config() is first
    refusal = siteconfig.refused()
    assert refusal is not None and refusal.version != version
    assert any("poll_interval" in p for p in refusal.problems)
    lines = [r.getMessage() for r in caplog.records]
    assert len(lines) == 1
    assert f"was refused, version {version} stays in use" in lines[0]
    assert "poll_interval" in lines[0]
    # Fixed: used, and the notice goes.
    write(config_file, [site("line", poll_interval=5)])
    after_reload_interval()
    assert siteconfig.get_config().known_site("line").poll_interval == 5
    assert siteconfig.refused() is None


def test_a_file_gone_for_a_moment_keeps_the_running_configuration(config_file):
    first = siteconfig.get_config()
    config_file.unlink()
    after_reload_interval()
    assert siteconfig.get_config() is first


def test_a_broken_file_at_start_still_refuses_to_start(config_file):
    config_file.write_text("{")
    siteconfig.get_config.cache_clear()
    with pytest.raises(siteconfig.bridge_config.ConfigError, match="not valid JSON"):
        siteconfig.get_config()


def test_beat_follows_a_reloaded_configuration(config_file, redis_client, tmp_path,
                                               monkeypatch):
    monkeypatch.setattr(celery_module, "BEAT_LOCK_TTL", 2)
    beat = SiteScheduler(app=app, schedule_filename=str(tmp_path / "beat"))
    try:
        beat.tick()
        assert {n for n in beat.schedule if n.startswith("poll ")} == {"poll line"}
        write(config_file, [site("line", poll_interval=2), site("oven")])
        after_reload_interval()
        beat._renewed = -float("inf")  # the next tick looks at the configuration
        beat.tick()
        assert {n for n in beat.schedule if n.startswith("poll ")} == {"poll line", "poll oven"}
        assert beat.schedule["poll line"].schedule.seconds == 2
        # The heap holds the new entries: the new site's poll is sent by the ticks.
        assert "poll oven" in {event[2].name for event in beat._heap}
        write(config_file, [site("oven")])
        after_reload_interval()
        beat._renewed = -float("inf")
        beat.tick()
        assert {n for n in beat.schedule if n.startswith("poll ")} == {"poll oven"}
        assert "persist journal" in beat.schedule
    finally:
        beat.close()


@pytest.mark.django_db
def test_the_admin_home_names_the_version_and_a_refused_change(config_file, admin_client):
    version = siteconfig.config_version()
    html = admin_client.get("/admin/").content.decode()
    assert f"version {version}." in html
    assert "configuration-refused" not in html
    write(config_file, [site("line", poll_interval=0.01)])
    after_reload_interval()
    html = admin_client.get("/admin/").content.decode()
    assert 'id="configuration-refused"' in html
    assert f"the change was refused: version {version} stays in use" in html
    assert "$.sites[0].poll_interval" in html
