"""P1-push's configuration (bench/p1_push.py): a valid one, with one subscribing Unified
site and one polled, each on its own dashboard."""

from __future__ import annotations

from types import SimpleNamespace

from bench.p1_push import POLL, PUSH, config
from wincc_ingest.config_validation import validate


def test_one_site_subscribes_and_one_is_polled_and_the_configuration_is_valid():
    stack = SimpleNamespace(sim=None, env={"WINCC_SIM_RO_USER": "bench-reader"})
    data = config(stack)
    by_id = {site["id"]: site for site in data["sites"]}
    assert by_id[PUSH]["ingest"] == "subscribe" and "ingest" not in by_id[POLL]
    assert {site["dialect"] for site in data["sites"]} == {"unified"}
    assert [board["id"] for board in data["dashboards"]] == [PUSH, POLL]
    assert validate(data, {"WINCC_SIM_RO_PASSWORD": "x" * 12}) == []
