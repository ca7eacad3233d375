"""The `triggers` list: each mistake named by its JSON path, no secret repeated."""

from __future__ import annotations

import pytest

from tests.config.test_validation import ENV, minimal
from tests.fixtures.certificates import write_pem
from wincc_ingest.config import build
from wincc_ingest.config_validation import validate
from wincc_ingest.triggers import MqttAction, TagCondition, WebhookAction

HOOK_ENV = {**ENV, "ERP_TOKEN": "erp-token-value", "ERP_SIGNING": "signing-value"}


def with_triggers(*triggers: dict) -> dict:
    data = minimal()
    data["triggers"] = list(triggers)
    return data


def tank_high(**when) -> dict:
    return {
        "id": "tank-high",
        "when": {"site": "line", "tag": "Tank_Level", "condition": "above", **when},
        "then": [{"webhook": {"url": "https://erp.example/hook",
                              "headers": {"Authorization": {"env": "ERP_TOKEN",
                                                            "prefix": "Bearer "}},
                              "signature_env": "ERP_SIGNING"}},
                 {"mqtt": {"broker": "mqtt://127.0.0.1:1883",
                           "topic": "plant/{site}/{tag}", "qos": 1}}],
    }


def problems(*triggers: dict, env=HOOK_ENV) -> list[str]:
    return validate(with_triggers(*triggers), env)


def test_a_complete_trigger_is_valid_and_builds():
    data = with_triggers(tank_high(value="h", hysteresis=2),
                         {"id": "alarms", "when": {"alarm": ["raised", "acknowledged"],
                                                   "priority": {"min": 5}, "name": "Tank_*"},
                          "min_interval": 30,
                          "then": [{"mqtt": {"broker": "mqtt://127.0.0.1:1883",
                                             "topic": "plant/{site}/alarms/{alarm.name}"}}]})
    assert validate(data, HOOK_ENV) == []
    config = build(data, environ=HOOK_ENV)
    first, second = config.triggers
    assert isinstance(first.when, TagCondition)
    assert (first.when.high, first.when.hysteresis) == (85.0, 2.0)
    hook, mqtt = first.then
    assert isinstance(hook, WebhookAction) and isinstance(mqtt, MqttAction)
    assert [h.name for h in hook.secret_headers] == ["Authorization"]
    assert second.min_interval == 30


@pytest.mark.parametrize(("trigger", "expected"), [
    (tank_high(site="nowhere"),
     "$.triggers[0].when.site: names unknown site 'nowhere'; known sites: line, utilities"),
    (tank_high(tag="Nope"),
     "$.triggers[0].when.tag: tag 'Nope' is not configured for site 'line'"),
    (tank_high(value="hhh"),
     "$.triggers[0].when.value: must be a number or the name of one of the tag's limits"),
    (tank_high(deadband=1),
     "$.triggers[0].when.deadband: does not apply to the condition 'above'"),
    (tank_high(condition="hot"),
     '$.triggers[0].when.condition: must be one of "above", "below"'),
    (tank_high(alarm=["raised"]),
     "$.triggers[0].when: an alarm trigger takes no tag condition"),
    (tank_high(condition="stale"),
     "$.triggers[0].when: the condition stale needs seconds"),
    ({**tank_high(), "then": []}, "$.triggers[0].then: must list at least 1 item(s)"),
    ({**tank_high(), "then": [{"webhook": {"url": "ftp://erp.example/x"}}]},
     "$.triggers[0].then[0].webhook.url: must start with https:// (or http://)"),
    ({**tank_high(), "then": [{"webhook": {"url": "https://erp.example/x", "url_env": "ERP"}}]},
     "$.triggers[0].then[0].webhook: give the address in url, or in url_env"),
    ({**tank_high(), "then": [{"webhook": {"url": "https://e.example", "bogus": 1}}]},
     "$.triggers[0].then[0].webhook.bogus: unknown key 'bogus'"),
    ({**tank_high(), "then": [{"mqtt": {"broker": "tcp://x:1883", "topic": "a"}}]},
     "$.triggers[0].then[0].mqtt.broker: must be mqtt://host:port or mqtts://host:port"),
    ({**tank_high(), "then": [{"mqtt": {"broker": "mqtt://x:1883", "topic": "a/#"}}]},
     "$.triggers[0].then[0].mqtt.topic: a topic to publish to cannot hold the wildcards"),
    ({**tank_high(), "then": [{"mqtt": {"broker": "mqtt://x:1883", "topic": "a/{nope}"}}]},
     "$.triggers[0].then[0].mqtt.topic: unknown placeholder(s) {nope}"),
    ({**tank_high(), "then": [{"mqtt": {"broker": "mqtt://x", "topic": "a"},
                               "webhook": {"url": "https://e.example"}}]},
     "$.triggers[0].then[0]: each action is one object with either webhook or mqtt"),
])
def test_each_mistake_is_named_by_its_path(trigger, expected):
    found = problems(trigger)
    assert any(line.startswith(expected) for line in found), found


def test_a_missing_variable_is_named_and_its_value_never_shown():
    found = problems(tank_high(), env=ENV)
    assert "$.triggers[0].then[0].webhook.headers.Authorization.env: environment variable " \
           "ERP_TOKEN is not set" in found
    assert "$.triggers[0].then[0].webhook.signature_env: environment variable ERP_SIGNING " \
           "is not set" in found


def test_a_secret_written_into_a_header_or_url_is_refused_without_repeating_it():
    trigger = tank_high()
    trigger["then"][0]["webhook"]["headers"] = {"Authorization": "Bearer hunter2-secret"}
    trigger["then"][1]["mqtt"]["broker"] = "mqtt://user:hunter2-secret@broker:1883"
    found = problems(trigger, {**tank_high(), "id": "q",
                               "then": [{"webhook": {"url": "https://e.example/x?key=hunter2"}}]})
    assert any(line.startswith("$.triggers[0].then[0].webhook.headers.Authorization: a secret")
               for line in found), found
    assert any(line.startswith("$.triggers[0].then[1].mqtt.broker: must be only scheme")
               for line in found), found
    assert any(line.startswith("$.triggers[1].then[0].webhook.url: must not have a query")
               for line in found), found
    assert not any("hunter2" in line for line in found)


def test_duplicate_ids_and_header_shapes():
    bad_header = tank_high()
    bad_header["then"][0]["webhook"]["headers"] = {"X-Plant": 5}
    found = problems(tank_high(), bad_header)
    assert "$.triggers[1].id: trigger id 'tank-high' is already used by $.triggers[0]" in found
    assert any(line.startswith("$.triggers[1].then[0].webhook.headers[\"X-Plant\"]: must be "
                               "the header's text") for line in found), found


def test_tls_of_a_webhook_is_checked_as_a_sites(tmp_path):
    trigger = tank_high()
    trigger["then"][0]["webhook"]["tls"] = {"ca_file": str(tmp_path / "missing.pem")}
    trigger["then"][1]["mqtt"]["tls"] = {"insecure": True}
    found = problems(trigger)
    assert any(line.startswith("$.triggers[0].then[0].webhook.tls.ca_file: certificate file")
               for line in found), found
    assert "$.triggers[0].then[1].mqtt.tls: the broker is plain mqtt://, so TLS settings have " \
           "no effect; use mqtts://" in found
    pem = write_pem(tmp_path / "erp.pem")
    trigger["then"][0]["webhook"]["tls"] = {"ca_file": str(pem)}
    trigger["then"][1]["mqtt"]["broker"] = "mqtts://broker:8883"
    assert problems(trigger) == []
