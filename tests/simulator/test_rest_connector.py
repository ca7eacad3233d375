"""The simulator as a REST Connector: it posts tag changes and alarm transitions to a URL,
signed or with a token, and tries again when the target fails (a real receiver, a real
simulator process)."""

from __future__ import annotations

import hashlib
import hmac
import json
import os
import subprocess
import sys
import time
from datetime import UTC, datetime

import httpx
import pytest

from tests.fixtures.live_server import start_live_server
from tests.harness.processes import wait_until
from tests.harness.receiver import Received, start_receiver
from tests.harness.simulator import start_simulator
from wincc_ingest import codec, store
from wincc_sim.rest_connector import RETRY_AFTER_MAX, retry_after

SECRET_ENV = "WDASH_TEST_CONNECTOR_SECRET"
SECRET = "connector-secret-for-tests-0123456"

pytestmark = pytest.mark.process


@pytest.fixture
def receiver():
    with start_receiver() as receiver:
        yield receiver


def connector(tmp_path, receiver, *, signed=True, **options):
    key = "rest_connector_signature_env" if signed else "rest_connector_token_env"
    return start_simulator(tmp_path, http=True, rest_connector=receiver.url,
                           env={SECRET_ENV: SECRET}, **{key: SECRET_ENV}, **options)


def bodies(requests: list[Received]) -> list[dict]:
    return [json.loads(request.body) for request in requests]


def pushed_values(receiver, tag: str) -> list:
    return [item["value"] for body in bodies(receiver.delivered())
            for item in body.get("tags", []) if item["variableName"] == tag]


def test_tag_changes_are_posted_signed(tmp_path, receiver):
    sim = connector(tmp_path, receiver, rest_connector_tag=["Tank_Level"])
    try:
        first = receiver.wait_for(1)[0]
        # The first post carries the tag's value as it stands, in Classic's value format.
        (item,) = json.loads(first.body)["tags"]
        assert set(item) == {"variableName", "dataType", "value", "timestamp", "qualityCode"}
        assert item["variableName"] == "Tank_Level" and item["qualityCode"] == 192
        sim.set_tag("Tank_Level", 12.25)
        wait_until(lambda: 12.25 in pushed_values(receiver, "Tank_Level"), timeout=5)
        for request in receiver.delivered():
            expected = "sha256=" + hmac.new(SECRET.encode(), request.body,
                                            hashlib.sha256).hexdigest()
            assert request.headers["x-signature-256"] == expected
            assert request.headers["content-type"] == "application/json"
            assert "authorization" not in request.headers
    finally:
        sim.stop()


def test_alarm_transitions_are_posted_with_a_token(tmp_path, receiver):
    sim = connector(tmp_path, receiver, signed=False, rest_connector_tag=["Tank_Level"])
    try:
        name = next(d["name"] for d in sim.alarm_definitions() if d["ack_required"])
        sim.raise_alarm(name)

        def messages(key: str) -> list[dict]:
            return [item for body in bodies(receiver.delivered()) for item in body.get(key, [])
                    if item["Name"] == name]

        came = wait_until(lambda: messages("alarms"), timeout=5)[0]
        assert came["State"] == 1 and came["MsgNr"] >= 1001 and came["AckRequired"] is True
        sim.clear_alarm(name)
        wait_until(lambda: any(m["State"] == 2 for m in messages("alarms")), timeout=5)
        # Acknowledged after it went out: it leaves the list, posted as gone.
        instance = sim.alarms()[0]["instance_id"]
        with sim.client(auth=(sim.users.rw.username, sim.users.rw.password)) as client:
            written = client.put(f"/WinCCRestService/tagManagement/Value/Ack_{name}",
                                 json={"value": 1})
        assert written.status_code == 200, written.text
        gone = wait_until(lambda: messages("gone"), timeout=5)[0]
        assert gone == {"Name": name, "InstanceID": instance, "MsgNr": came["MsgNr"]}
        assert all(r.headers["authorization"] == f"Bearer {SECRET}"
                   for r in receiver.delivered())
    finally:
        sim.stop()


def test_a_failing_target_gets_the_newest_values_later_and_a_refusal_is_not_repeated(
        tmp_path, receiver):
    receiver.status = 503
    sim = connector(tmp_path, receiver, rest_connector_tag=["Tank_Level"])
    try:
        wait_until(lambda: len(receiver.answered(503)) >= 2, timeout=10)
        sim.set_tag("Tank_Level", 33.5)
        receiver.status = 200
        delivered = receiver.wait_for(1, timeout=60)
        # What waited went with what changed meanwhile: the newest value only.
        assert [item["value"] for item in json.loads(delivered[-1].body)["tags"]] == [33.5]
        # The simulator's own server went on answering meanwhile.
        assert sim.value("Tank_Level") == 33.5

        receiver.status = 400
        sim.set_tag("Tank_Level", 44.5)
        wait_until(lambda: receiver.answered(400), timeout=5)
        refused = len(receiver.answered(400))
        sim.set_tag("Tank_Level", 44.5)  # unchanged: nothing new to post
        time.sleep(1.5)
        assert len(receiver.answered(400)) == refused == 1
        assert "refused a post with 400" in sim.log()
    finally:
        sim.stop()


def test_a_429_with_retry_after_is_waited_out_before_the_next_post(tmp_path, receiver):
    receiver.status = 429
    receiver.answer_headers = {"Retry-After": "3"}
    sim = connector(tmp_path, receiver, rest_connector_tag=["Tank_Level"])
    try:
        wait_until(lambda: receiver.answered(429), timeout=10)
        refused_at = time.monotonic()
        sim.set_tag("Tank_Level", 55.5)  # news meanwhile: still no post before 3 s
        receiver.status = 200
        delivered = receiver.wait_for(1, timeout=20)
        waited = time.monotonic() - refused_at
        assert len(receiver.answered(429)) == 1
        assert waited >= 2.5, waited  # not the first retry's 0.5 s
        assert [item["value"] for item in json.loads(delivered[-1].body)["tags"]] == [55.5]
        assert "answered 429; trying again in 3 s (Retry-After)" in sim.log()
    finally:
        sim.stop()


@pytest.mark.parametrize(
    ("header", "seconds"),
    [
        (None, 0.0), ("", 0.0), ("7", 7.0), (" 12 ", 12.0), ("-3", 0.0), ("soon", 0.0),
        ("99999", RETRY_AFTER_MAX),
        ("Thu, 03 Dec 2026 12:00:30 GMT", 30.0),  # an HTTP date, 30 s after "now"
        ("Thu, 03 Dec 2026 11:59:00 GMT", 0.0),  # already past
    ],
)
def test_retry_after_reads_seconds_and_http_dates(header, seconds):
    now = datetime(2026, 12, 3, 12, 0, 0, tzinfo=UTC)
    assert retry_after(header, now) == seconds


@pytest.mark.parametrize(
    ("args", "words"),
    [
        (["--rest-connector", "http://127.0.0.1:9/x"], "exactly one of"),
        (["--rest-connector", "ftp://h/x", "--rest-connector-token-env", "X"], "http://"),
        (["--rest-connector", "http://127.0.0.1:9/x", "--rest-connector-token-env",
          "WDASH_TEST_UNSET_VARIABLE"], "WDASH_TEST_UNSET_VARIABLE (the REST Connector's secret) "
                                         "is not set"),
        (["--rest-connector-token-env", SECRET_ENV], "need --rest-connector URL"),
        (["--rest-connector", "http://127.0.0.1:9/x", "--rest-connector-token-env", SECRET_ENV,
          "--rest-connector-tag", "No_Such_Tag"], "unknown tag 'No_Such_Tag'"),
    ],
)
def test_bad_connector_options_end_with_a_clear_message(args, words):
    result = subprocess.run([sys.executable, "-m", "wincc_sim", *args], capture_output=True,
                            text=True, timeout=60, env={**os.environ, SECRET_ENV: SECRET},
                            check=False)
    assert result.returncode == 2
    assert words in result.stderr
    assert SECRET not in result.stderr


def test_the_simulator_pushes_to_the_dashboard_and_the_values_reach_redis(
        tmp_path, redis_url, redis_client):
    """A real simulator posting to the real endpoint under uvicorn; no poller runs, so what
    reaches Redis came by push."""
    site = {"id": "line", "dialect": "classic", "url": "https://127.0.0.1:1",
            "tls": {"insecure": True, "verify": False}, "alarm_filter": "ActiveAlarms",
            "read_user": {"username": "reader", "password_env": SECRET_ENV},
            "ingest": "rest-connector", "rest_connector": {"signature_env": SECRET_ENV},
            "tags": [{"name": "Tank_Level"}, {"name": "Conveyor_Speed"}]}
    config = tmp_path / "config.json"
    config.write_text(json.dumps({"sites": [site]}), encoding="utf-8")
    web = start_live_server(tmp_path / "web", redis_url=redis_url, wincc_config=config,
                            env={SECRET_ENV: SECRET, "INGEST_MAX_BODY_BYTES": "65536"})
    target = f"{web.url}/ingest/rest-connector/line/"
    # Tank_Level is configured, Motor1_Current is not: pushed, named and not stored.
    sim = start_simulator(tmp_path / "sim", http=True, rest_connector=target,
                          rest_connector_signature_env=SECRET_ENV, env={SECRET_ENV: SECRET},
                          rest_connector_tag=["Tank_Level", "Motor1_Current"])
    try:
        def stored(tag):
            raw = redis_client.hget(store.site_values("line"), tag)
            return raw and codec.decode_value(raw, tag).tag.value

        wait_until(lambda: stored("Tank_Level") is not None, timeout=20)
        sim.set_tag("Tank_Level", 12.25)
        wait_until(lambda: stored("Tank_Level") == 12.25, timeout=5)
        assert redis_client.hget(store.site_values("line"), "Motor1_Current") is None
        name = next(d["name"] for d in sim.alarm_definitions() if d["ack_required"])
        sim.raise_alarm(name)
        wait_until(lambda: any(key.startswith(f"{name}|") for key in
                               redis_client.hkeys(store.site_alarms("line"))), timeout=5)
        assert "refused" not in sim.log()

        # Under uvicorn, a body longer than the bound is refused before it is read, even
        # when it comes in pieces without a declared length.
        def pieces():
            for _ in range(100):
                yield b"x" * 4096

        with httpx.Client(timeout=10) as client:
            response = client.post(target, content=pieces(),
                                   headers={"Content-Type": "application/json"})
        assert response.status_code == 413
        assert "larger than 65536 bytes" in response.json()["error"]
    finally:
        sim.stop()
        web.stop()
