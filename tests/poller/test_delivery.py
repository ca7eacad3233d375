"""One delivery attempt (wincc_ingest.delivery) to a real receiver on 127.0.0.1 and a real
Mosquitto broker: body, signature, idempotency key, secret headers, TLS, plain errors."""

from __future__ import annotations

import hashlib
import hmac
import json
import uuid

import pytest

from tests.fixtures.certificates import self_signed
from tests.harness.processes import free_port
from tests.harness.receiver import start_receiver
from wincc_ingest.delivery import DeliveryError, send, signature
from wincc_ingest.triggers import MqttAction, SecretHeader, TLSOptions, WebhookAction

EVENT = {
    "event_id": "0f7b8c7e-1f0a-5b7e-9a1d-3b2c4d5e6f70", "trigger": "tank-high",
    "site": "utilities", "event": "entered", "condition": "above", "tag": "Tank_Level",
    "value": 91.5, "quality": "good", "timestamp": "2026-11-26T10:00:00Z", "coalesced": 1,
    "alarm": None,
}
ENV = {"ERP_TOKEN": "token-from-env-1234", "ERP_SIGNING": "signing-secret-5678"}


@pytest.fixture
def receiver():
    with start_receiver() as server:
        yield server


def test_the_webhook_carries_the_body_the_key_the_signature_and_secret_headers(receiver):
    action = WebhookAction(
        url=receiver.url, headers=(("X-Plant", "north"),),
        secret_headers=(SecretHeader("Authorization", "ERP_TOKEN", "Bearer "),),
        body={"tag": "{tag}", "value": "{value}", "text": "{tag} is {value}"},
        signature_env="ERP_SIGNING",
    )
    sent = send(action, EVENT, ENV)
    [request] = receiver.delivered()
    assert sent.detail == "HTTP 200"
    assert request.method == "POST"
    assert json.loads(request.body) == {"tag": "Tank_Level", "value": 91.5,
                                        "text": "Tank_Level is 91.5"}
    assert request.headers["idempotency-key"] == EVENT["event_id"]
    assert request.headers["authorization"] == "Bearer token-from-env-1234"
    assert request.headers["x-plant"] == "north"
    assert request.headers["content-type"] == "application/json"
    expected = hmac.new(b"signing-secret-5678", request.body, hashlib.sha256).hexdigest()
    assert request.headers["x-signature-256"] == f"sha256={expected}"
    assert signature("signing-secret-5678", request.body) == f"sha256={expected}"


def test_without_a_template_the_whole_event_is_sent(receiver):
    send(WebhookAction(url=receiver.url, method="PUT"), EVENT, ENV)
    [request] = receiver.delivered()
    assert request.method == "PUT"
    assert json.loads(request.body) == EVENT


def test_an_error_answer_is_a_plain_sentence_without_secrets(receiver):
    receiver.status = 503
    action = WebhookAction(
        url=receiver.url, secret_headers=(SecretHeader("Authorization", "ERP_TOKEN"),),
        signature_env="ERP_SIGNING")
    with pytest.raises(DeliveryError) as failure:
        send(action, EVENT, ENV)
    assert str(failure.value) == f"{receiver.url} answered HTTP 503 (Service Unavailable)"
    assert len(receiver.answered(503)) == 1


def test_an_address_from_a_variable_is_shown_as_its_origin_only():
    port = free_port()  # nothing listens there
    action = WebhookAction(url_env="ERP_URL", timeout=2)
    env = {"ERP_URL": f"http://127.0.0.1:{port}/hooks/secret-path-token"}
    with pytest.raises(DeliveryError) as failure:
        send(action, EVENT, env)
    message = str(failure.value)
    assert message.startswith(f"cannot reach http://127.0.0.1:{port}: ")
    assert "secret-path-token" not in message


def test_a_missing_variable_is_named():
    action = WebhookAction(url="http://127.0.0.1:9/", signature_env="ERP_SIGNING")
    with pytest.raises(DeliveryError, match="the environment variable ERP_SIGNING"):
        send(action, EVENT, {})


def test_tls_is_verified_and_a_pinned_certificate_is_trusted(tmp_path):
    cert = self_signed(tmp_path, "erp", ["127.0.0.1"])
    with start_receiver(cert.cert_file, cert.key_file) as receiver:
        with pytest.raises(DeliveryError, match="certificate is not trusted"):
            send(WebhookAction(url=receiver.url), EVENT, ENV)
        pinned = WebhookAction(url=receiver.url, tls=TLSOptions(ca_file=cert.cert_file))
        assert send(pinned, EVENT, ENV).detail == "HTTP 200"
        assert len(receiver.delivered()) == 1


def test_mqtt_publishes_the_body_to_the_rendered_topic(mosquitto):
    topic = f"wdash-test/{uuid.uuid4().hex}"
    action = MqttAction(broker=mosquitto.url, topic=topic + "/{site}/{tag}", qos=1,
                        body={"value": "{value}", "id": "{event_id}"})
    with mosquitto.subscribe(f"{topic}/#") as messages:
        sent = send(action, EVENT, ENV)
        [message] = messages.wait_for(1)
    assert message.topic == f"{topic}/utilities/Tank_Level"
    assert json.loads(message.payload) == {"value": 91.5, "id": EVENT["event_id"]}
    assert sent.detail == f"published to {topic}/utilities/Tank_Level (QoS 1)"


def test_mqtt_to_a_broker_that_is_not_there_is_a_plain_error():
    action = MqttAction(broker=f"mqtt://127.0.0.1:{free_port()}", topic="x", timeout=2)
    with pytest.raises(DeliveryError, match=r"cannot reach the MQTT broker mqtt://127\.0\.0\.1:"):
        send(action, EVENT, ENV)
