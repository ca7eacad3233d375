"""Sending one trigger event to one action: an HTTP webhook or an MQTT publish.

One attempt per call; the caller (the dashboard's delivery task) retries with backoff and
keeps the record. Every failure is a DeliveryError with a sentence that names no secret: the
address is shown without user, query or path when it came from an environment variable,
and header values are never repeated.

TLS is the WinCC connections' own (wincc_bridge.transport.tls_context): verified by default,
a pinned certificate with ca_file, or none with insecure.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import os
import socket
import ssl
import threading
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

import httpx
import paho.mqtt.client as mqtt

from wincc_bridge.client import TLSError
from wincc_bridge.secrets import shown_name
from wincc_bridge.transport import shown_url, tls_context
from wincc_ingest.triggers import Action, MqttAction, WebhookAction, render, render_text

USER_AGENT = "wincc-dashboard-integrations"
IDEMPOTENCY_HEADER = "Idempotency-Key"


class DeliveryError(Exception):
    """One attempt failed; the message says why in plain words, without secrets."""


@dataclass(frozen=True)
class Sent:
    detail: str  # "HTTP 200" / "published (QoS 1)"


def payload(action: Action, event: Mapping[str, Any]) -> bytes:
    """The body: the action's template filled in, or the whole event; compact UTF-8 JSON."""
    document = event if action.body is None else render(action.body, event)
    return json.dumps(document, ensure_ascii=False, separators=(",", ":")).encode("utf-8")


def signature(secret: str, body: bytes) -> str:
    """The signature header's value: "sha256=" and the hex HMAC-SHA256 of the body."""
    return "sha256=" + hmac.new(secret.encode("utf-8"), body, hashlib.sha256).hexdigest()


def _env(name: str, environ: Mapping[str, str], what: str) -> str:
    value = environ.get(name, "")
    if not value:
        named = f"the environment variable {name}" if shown_name(name) else (
            "the environment variable named for it")
        raise DeliveryError(f"{named} ({what}) is not set on the worker")
    return value


def target(action: Action) -> str:
    """Where the action sends, as a page may show it."""
    if isinstance(action, MqttAction):
        return f"{shown_url(action.broker)} topic {action.topic}"
    if action.url_env:
        return f"the address in ${action.url_env}"
    return shown_url(action.url)


def send(action: Action, event: Mapping[str, Any],
         environ: Mapping[str, str] | None = None) -> Sent:
    """One attempt; the event's event_id is the idempotency key (an MQTT receiver finds it
    in the message)."""
    env = os.environ if environ is None else environ
    if isinstance(action, WebhookAction):
        return _webhook(action, event, str(event.get("event_id", "")), env)
    return _publish(action, event, env)


# --- HTTP -----------------------------------------------------------------------------------


def _webhook(action: WebhookAction, event: Mapping[str, Any], key: str,
             env: Mapping[str, str]) -> Sent:
    url = _env(action.url_env, env, "the webhook's address") if action.url_env else action.url
    parts = urlsplit(url)
    # An address from a variable may carry a token in its path: show only its origin.
    shown = f"{parts.scheme}://{parts.netloc.rpartition('@')[2]}" if action.url_env \
        else shown_url(url)
    body = payload(action, event)
    headers = {"Content-Type": "application/json", "User-Agent": USER_AGENT,
               IDEMPOTENCY_HEADER: key}
    headers.update(dict(action.headers))
    for secret in action.secret_headers:
        headers[secret.name] = secret.prefix + _env(secret.env, env, f"header {secret.name}")
    if action.signature_env:
        headers[action.signature_header] = signature(
            _env(action.signature_env, env, "the signature secret"), body)
    try:
        verify = tls_context(action.tls, url)
        with httpx.Client(verify=verify, timeout=action.timeout, follow_redirects=False) as client:
            response = client.request(action.method, url, content=body, headers=headers)
    except TLSError as exc:
        raise DeliveryError(str(exc)) from None
    except httpx.TimeoutException:
        raise DeliveryError(f"{shown} did not answer within {action.timeout:g} s") from None
    except httpx.HTTPError as exc:
        raise DeliveryError(f"cannot reach {shown}: {_reason(exc)}") from None
    if 200 <= response.status_code < 300:
        return Sent(f"HTTP {response.status_code}")
    phrase = response.reason_phrase or "error"
    raise DeliveryError(f"{shown} answered HTTP {response.status_code} ({phrase})")


def _reason(exc: BaseException) -> str:
    cause: BaseException = exc
    while (earlier := cause.__cause__ or cause.__context__) is not None:
        cause = earlier
    if isinstance(cause, ssl.SSLCertVerificationError):
        return "its certificate is not trusted (pin it with tls.ca_file)"
    if isinstance(cause, ssl.SSLError):
        return f"the TLS handshake failed ({cause.reason or 'TLS error'})"
    if isinstance(cause, socket.gaierror):
        return "its host name does not resolve"
    return getattr(cause, "strerror", None) or type(cause).__name__


# --- MQTT -----------------------------------------------------------------------------------


def _publish(action: MqttAction, event: Mapping[str, Any], env: Mapping[str, str]) -> Sent:
    parts = urlsplit(action.broker)
    host = parts.hostname or ""
    secure = parts.scheme == "mqtts"
    port = parts.port or (8883 if secure else 1883)
    shown = shown_url(action.broker)
    topic = render_text(action.topic, event)
    client = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, client_id=action.client_id,
                         protocol=mqtt.MQTTv311, reconnect_on_failure=False)
    client.connect_timeout = action.timeout
    if action.username or action.password_env:
        password = _env(action.password_env, env, "the MQTT password") \
            if action.password_env else None
        client.username_pw_set(action.username, password)
    if secure:
        try:
            context = tls_context(action.tls, action.broker)
        except TLSError as exc:
            raise DeliveryError(str(exc)) from None
        if context is False:
            context = ssl.create_default_context()
            context.check_hostname = False
            context.verify_mode = ssl.CERT_NONE
        assert isinstance(context, ssl.SSLContext)
        client.tls_set_context(context)
    connected = threading.Event()
    refusal: list[str] = []

    def on_connect(client: Any, userdata: Any, flags: Any, reason: Any, properties: Any) -> None:
        if reason.is_failure:
            refusal.append(str(reason))
        connected.set()

    client.on_connect = on_connect
    try:
        client.connect(host, port, keepalive=max(10, int(action.timeout * 2)))
    except (OSError, ValueError) as exc:
        raise DeliveryError(f"cannot reach the MQTT broker {shown}: {_reason(exc)}") from None
    client.loop_start()
    try:
        if not connected.wait(action.timeout):
            raise DeliveryError(f"the MQTT broker {shown} did not accept the connection "
                                f"within {action.timeout:g} s")
        if refusal:
            raise DeliveryError(f"the MQTT broker {shown} refused the connection ({refusal[0]})")
        info = client.publish(topic, payload(action, event), qos=action.qos,
                              retain=action.retain)
        try:
            info.wait_for_publish(action.timeout)
        except (RuntimeError, ValueError) as exc:
            raise DeliveryError(f"publishing to {shown} failed: {exc}") from None
        if not info.is_published():
            raise DeliveryError(f"the MQTT broker {shown} did not confirm the message within "
                                f"{action.timeout:g} s")
    finally:
        client.disconnect()
        client.loop_stop()
    return Sent(f"published to {topic} (QoS {action.qos})")
