"""`manage.py wincc_config add-tags`: browses the real simulator with the read-only user, prints
the changed configuration, writes it only where allowed; a real worker and beat poll the
added tags without a restart."""

from __future__ import annotations

import io
import json
import os
import subprocess
import time
from pathlib import Path
from unittest import mock

import pytest
import redis
from django.core.management import CommandError, call_command

from dashboard import siteconfig
from dashboard.models import AuditEntry
from tests.fixtures.simulator import Simulator, write_config
from tests.harness.processes import wait_until
from wincc_ingest import codec
from wincc_ingest import config as bridge_config

OVEN_TAGS = [f"Oven_Zone{z}_{kind}" for z in (1, 2, 3) for kind in ("Setpoint", "Temp")]


@pytest.fixture
def plant(sim: Simulator, tmp_path, settings):
    """The three test sites on the shared simulator as WINCC_CONFIG, its secrets set."""
    path = write_config(sim, tmp_path / "wincc.json")
    settings.WINCC_CONFIG = str(path)
    settings.CONFIG_RELOAD_SECONDS = 0.2
    with mock.patch.dict(os.environ, sim.env):
        siteconfig.get_config.cache_clear()
        yield path
    siteconfig.get_config.cache_clear()


def add_tags(*args: str) -> tuple[str, str]:
    out, err = io.StringIO(), io.StringIO()
    call_command("wincc_config", "add-tags", *args, stdout=out, stderr=err)
    return out.getvalue(), err.getvalue()


def test_prints_the_configuration_with_the_matching_tags_and_leaves_the_file(plant, sim):
    before = plant.read_bytes()
    out, err = add_tags("--site", "line-classic", "--pattern", "Oven_*")
    assert plant.read_bytes() == before
    data = json.loads(out)
    line = next(s for s in data["sites"] if s["id"] == "line-classic")
    names = [t["name"] for t in line["tags"]]
    assert names[-6:] == OVEN_TAGS
    # The tags configured before keep every setting.
    assert line["tags"][0] == json.loads(before)["sites"][1]["tags"][0]
    assert "6 tag(s) added to site line-classic, 0 already configured" in err
    # The printed file is a valid configuration (the same checks as at start-up).
    config = bridge_config.load_bytes(out.encode(), str(plant))
    assert config.known_site("line-classic").tag("Oven_Zone1_Temp") is not None
    # Browsing wrote nothing to WinCC.
    assert sim.requests_log() == []


def test_a_dashboard_gets_tiles_of_the_tags_and_whole_numbers_no_decimals(plant):
    out, err = add_tags("--site", "utilities-restv1", "--pattern", "Line_*_Count",
                        "--dashboard", "counts", "--title", "Line counters")
    data = json.loads(out)
    board = next(d for d in data["dashboards"] if d["id"] == "counts")
    assert board == {"id": "counts", "title": "Line counters", "panels": [
        {"kind": "tiles", "title": "Utilities (REST v1)", "site": "utilities-restv1",
         "tags": ["Line_Produced_Count", "Line_Reject_Count"]}]}
    site = next(s for s in data["sites"] if s["id"] == "utilities-restv1")
    added = {t["name"]: t for t in site["tags"]}
    assert added["Line_Produced_Count"] == {"name": "Line_Produced_Count",
                                            "label": "Parts produced", "decimals": 0}
    # Tags the site has already are shown too, with their own settings.
    out, err = add_tags("--site", "utilities-restv1", "--pattern", "Tank_*",
                        "--dashboard", "tank")
    board = next(d for d in json.loads(out)["dashboards"] if d["id"] == "tank")
    assert board["panels"][0]["tags"] == ["Tank_InletPump_On", "Tank_Level", "Tank_Outflow"]
    assert "0 tag(s) added to site utilities-restv1, 3 already configured" in err


def test_diff_applies_to_the_file_with_patch(plant, tmp_path):
    out, _ = add_tags("--site", "line-classic", "--pattern", "Oven_Zone1_*", "--diff")
    assert out.startswith("--- a/wincc.json\n+++ b/wincc.json\n")
    (tmp_path / "change.diff").write_text(out)
    subprocess.run(["patch", "-s", "-p1", "-i", "change.diff"], cwd=tmp_path, check=True)
    names = [t.name for t in bridge_config.load(plant).known_site("line-classic").tags]
    assert names[-2:] == ["Oven_Zone1_Setpoint", "Oven_Zone1_Temp"]


@pytest.mark.parametrize(("args", "sentence"), [
    (["--site", "line-classic", "--pattern", "Oven_'*"],
     "--pattern: A pattern holds tag name characters and the wildcards * and ? only"),
    (["--site", "line-classic", "--pattern", ""], "--pattern: Give a tag name pattern"),
    (["--site", "nowhere", "--pattern", "*"], "--site: No site nowhere is configured."),
    (["--site", "line-classic", "--pattern", "No_Such_*"],
     "no tag of site line-classic matches 'No_Such_*'"),
    (["--site", "line-classic", "--pattern", "*", "--max", "50"],
     "new tags match '*', more than --max 50: narrow the pattern or raise --max"),
    (["--site", "line-classic", "--pattern", "Oven_*", "--dashboard", "Bad Id"],
     "would be refused: configuration"),
])
def test_bad_input_is_one_sentence_and_changes_nothing(plant, args, sentence):
    before = plant.read_bytes()
    with pytest.raises(CommandError) as raised:
        add_tags(*args)
    assert sentence in str(raised.value)
    assert raised.value.returncode == 1
    assert plant.read_bytes() == before


def test_a_server_that_cannot_be_browsed_is_exit_code_3(plant, sim):
    sim.stop_listener()
    with pytest.raises(CommandError) as raised:
        add_tags("--site", "line-classic", "--pattern", "Oven_*")
    assert raised.value.returncode == 3
    assert "cannot browse site line-classic" in str(raised.value)


def test_write_is_refused_unless_allowed(plant):
    before = plant.read_bytes()
    with pytest.raises(CommandError, match="switched off \\(CONFIG_WRITES_ALLOWED\\)"):
        add_tags("--site", "line-classic", "--pattern", "Oven_*", "--write")
    assert plant.read_bytes() == before
    assert list(plant.parent.glob("*.bak")) == []


@pytest.mark.django_db
def test_write_replaces_the_file_keeps_a_backup_audits_and_is_used(plant, settings):
    settings.CONFIG_WRITES_ALLOWED = True
    before = plant.read_bytes()
    old = siteconfig.config_version()
    out, err = add_tags("--site", "line-classic", "--pattern", "Oven_Zone1_*", "--dashboard",
                        "oven1", "--write")
    assert plant.read_text() == out
    backup = plant.with_name(f"wincc.json.{old}.bak")
    assert backup.read_bytes() == before
    assert f"the old file kept as {backup}" in err
    entry = AuditEntry.objects.get(action="configure")
    assert entry.site_id == "line-classic" and entry.result == "ok"
    assert "added Oven_Zone1_Setpoint, Oven_Zone1_Temp" in entry.message
    time.sleep(0.25)
    assert siteconfig.get_config().dashboard("oven1") is not None
    assert siteconfig.config_version() == siteconfig.version_of(out.encode())


@pytest.mark.django_db
def test_a_real_worker_polls_an_added_tag_without_a_restart(sim, tmp_path, redis_url,
                                                            celery_processes, settings):
    config = write_config(sim, tmp_path / "wincc.json", poll_interval=0.5)
    settings.WINCC_CONFIG = str(config)
    settings.CONFIG_WRITES_ALLOWED = True
    stack = celery_processes(redis_url, config, f"sqlite:///{tmp_path / 'db.sqlite3'}",
                             env={**sim.env, "CONFIG_RELOAD_SECONDS": "1"})
    stack.wait_ready()
    client = redis.Redis.from_url(redis_url, decode_responses=True)

    def polled(site: str, tag: str) -> bool:
        return tag in codec.read_values(client, site)

    wait_until(lambda: polled("line-classic", "Conveyor_Speed"), timeout=30)
    assert not polled("line-classic", "Oven_Zone2_Temp")
    with mock.patch.dict(os.environ, sim.env):
        siteconfig.get_config.cache_clear()
        add_tags("--site", "line-classic", "--pattern", "Oven_Zone2_Temp", "--write")
        # A new site too: beat schedules its polls.
        data = json.loads(config.read_text())
        extra = {**data["sites"][2], "id": "extra-restv1", "tags": [{"name": "Tank_Level"}]}
        data["sites"].append(extra)
        config.write_text(json.dumps(data))
        siteconfig.get_config.cache_clear()
    wait_until(lambda: polled("line-classic", "Oven_Zone2_Temp"), timeout=20)
    wait_until(lambda: polled("extra-restv1", "Tank_Level"), timeout=20)
    version = siteconfig.version_of(config.read_bytes())
    assert f"reloaded: version {version} replaces" in Path(stack.worker_log).read_text()
    client.close()
