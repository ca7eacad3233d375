"""The Unified subscription (graphql-transport-ws) against the real simulator: tags and
alarms pushed, keep-alives, the session renewed and re-established, clear errors."""

from __future__ import annotations

import json
import subprocess
import sys
import time

import pytest

from tests.bridge.test_simulator import settings
from tests.harness.simulator import start_simulator
from wincc_bridge.client import (
    AuthError,
    ConnectionSettings,
    NotSupportedError,
    ProtocolError,
    TLSError,
    open_client,
)
from wincc_bridge.dialects.unified_subscription import websocket_url
from wincc_bridge.models import Notification, Quality

WAIT = 10.0


def until(subscription, predicate, wait=WAIT) -> Notification:
    """The first notification that satisfies `predicate`, within `wait` seconds."""
    end = time.monotonic() + wait
    while (left := end - time.monotonic()) > 0:
        notification = subscription.receive(left)
        if notification is not None and predicate(notification):
            return notification
    raise AssertionError("the expected notification did not come")


def values(notification: Notification) -> dict:
    return {tag.name: tag for tag in notification.tags}


def test_every_tag_comes_once_then_each_change(sim) -> None:
    sim.set_tag("Tank_Level", 41.0)
    with open_client(settings(sim, "unified")) as client, \
            client.subscribe(["Tank_Level", "Nope"], alarms=False) as subscription:
        seen: dict = {}
        until(subscription, lambda n: seen.update(values(n)) or {"Tank_Level", "Nope"} <= {*seen})
        assert subscription.covers_all
        assert seen["Tank_Level"].value == 41.0 and seen["Tank_Level"].quality is Quality.GOOD
        assert seen["Tank_Level"].timestamp is not None  # the server's own time
        assert seen["Nope"].quality is Quality.BAD and seen["Nope"].error
        sim.set_tag("Tank_Level", 55.5)
        changed = until(subscription, lambda n: "Tank_Level" in values(n))
        assert values(changed)["Tank_Level"].value == 55.5


def test_alarms_raised_and_gone(sim) -> None:
    with open_client(settings(sim, "unified")) as client, \
            client.subscribe(["Tank_Level"]) as subscription:
        subscription.receive(2.0)
        sim.raise_alarm("Tank_Level_HH")
        raised = until(subscription, lambda n: any(a.name == "Tank_Level_HH"
                                                   for a in n.alarms))
        alarm = next(a for a in raised.alarms if a.name == "Tank_Level_HH")
        assert alarm.site == "sim" and alarm.raise_time is not None
        sim.reset()
        gone = until(subscription, lambda n: alarm.key in n.gone)
        assert alarm.key not in {a.key for a in gone.alarms}


def test_a_quiet_server_still_answers_the_keepalive(sim) -> None:
    sim.set_tag("Tank_Level", 7.0)
    with open_client(settings(sim, "unified")) as client, \
            client.subscribe(["Tank_Level"], alarms=False, keepalive=0.3) as subscription:
        until(subscription, lambda n: "Tank_Level" in values(n))
        before = subscription.heard
        quiet = subscription.receive(2.0)
        assert quiet == Notification()  # a pong: nothing changed, the server lives
        assert subscription.heard > before


def test_expired_session_logs_in_again_and_resubscribes(sim) -> None:
    with open_client(settings(sim, "unified")) as client, \
            client.subscribe(["Tank_Level"], alarms=False) as subscription:
        until(subscription, lambda n: "Tank_Level" in values(n))
        assert sim.expire_sessions() >= 1
        sim.set_tag("Tank_Level", 12.5)
        again = until(subscription, lambda n: values(n).get("Tank_Level") is not None
                      and values(n)["Tank_Level"].value == 12.5)
        assert again.tags


@pytest.mark.process
def test_a_short_session_is_extended_before_it_expires(tmp_path) -> None:
    server = start_simulator(tmp_path / "short-sessions", token_ttl=4)
    try:
        with open_client(settings(server, "unified")) as client, \
                client.subscribe(["Tank_Level"], alarms=False, keepalive=0.5) as subscription:
            until(subscription, lambda n: "Tank_Level" in values(n))
            token = client._token
            end = time.monotonic() + 9  # more than two lifetimes of the token
            while time.monotonic() < end:
                subscription.receive(0.5)
            server.set_tag("Tank_Level", 66.0)
            until(subscription, lambda n: "Tank_Level" in values(n)
                  and values(n)["Tank_Level"].value == 66.0)
            # Extended in time: the same token all along, never refused and logged in anew.
            assert client._token == token
    finally:
        server.stop()


def test_wrong_password_is_refused_clearly(sim) -> None:
    with open_client(settings(sim, "unified", password="wrong")) as client, \
            pytest.raises(AuthError, match="login refused"):
        client.subscribe(["Tank_Level"]).open()


def test_unpinned_certificate_is_refused(sim) -> None:
    with open_client(settings(sim, "unified", username="", ca_file=None)) as client, \
            pytest.raises(TLSError, match="not trusted"):
        client.subscribe(["Tank_Level"]).open()


def test_other_dialects_push_nothing(sim) -> None:
    with open_client(settings(sim, "classic")) as client, \
            pytest.raises(NotSupportedError, match="pushes no changes"):
        client.subscribe(["Tank_Level"])


def test_websocket_address() -> None:
    assert websocket_url("https://h:34568", "/graphql") == "wss://h:34568/graphql"
    assert websocket_url("http://h:4000/graphql", "/graphql") == "ws://h:4000/graphql"


def test_cli_watch_prints_a_json_line_per_change(sim) -> None:
    env = {"WINCC_USER": sim.users.ro.username, "SIM_PW": sim.users.ro.password, "PATH": ""}
    sim.set_tag("Tank_Level", 23.0)
    done = subprocess.run(
        [sys.executable, "-m", "wincc_bridge", "--dialect", "unified", "--url", sim.url,
         "--password-env", "SIM_PW", "--ca-file", sim.ca_file,
         "watch", "Tank_Level", "--alarms", "--seconds", "2"],
        capture_output=True, text=True, timeout=60, env=env,
    )
    assert done.returncode == 0, done.stderr
    lines = [json.loads(line) for line in done.stdout.splitlines()]
    tank = next(line for line in lines if line.get("name") == "Tank_Level")
    assert (tank["change"], tank["value"], tank["quality"]) == ("tag", 23.0, "good")


def test_cli_watch_on_classic_says_not_supported(sim) -> None:
    env = {"WINCC_USER": sim.users.ro.username, "SIM_PW": sim.users.ro.password, "PATH": ""}
    done = subprocess.run(
        [sys.executable, "-m", "wincc_bridge", "--dialect", "classic", "--url", sim.url,
         "--password-env", "SIM_PW", "--ca-file", sim.ca_file, "watch", "Tank_Level"],
        capture_output=True, text=True, timeout=60, env=env,
    )
    assert done.returncode == 6 and "pushes no changes" in done.stderr


def pushed(subscription, *messages):
    return subscription._notification(list(messages))


def test_a_name_in_its_system_form_is_the_name_asked_for() -> None:
    client = open_client(ConnectionSettings(dialect="unified", url="https://hmi.invalid",
                                            username="reader", password="pw", site="hmi"))
    subscription = client.subscribe(["Tank_Level"], alarms=False)
    notification = pushed(subscription, {"id": "tags", "type": "next", "payload": {"data": {
        "tagValues": {"name": "HMI_RT_1::Tank_Level", "notificationReason": "Added",
                      "value": {"value": 5, "quality": {"quality": "GOOD"}}}}}})
    assert [tag.name for tag in notification.tags] == ["Tank_Level"]
    assert subscription._seen == {"Tank_Level"}


def test_a_message_that_is_not_graphql_transport_ws_is_a_protocol_error() -> None:
    client = open_client(ConnectionSettings(dialect="unified", url="https://hmi.invalid",
                                            username="reader", password="pw", site="hmi"))
    subscription = client.subscribe(["Tank_Level"])
    with pytest.raises(ProtocolError, match="without data"):
        pushed(subscription, {"id": "tags", "type": "next", "payload": "garbage"})
    with pytest.raises(ProtocolError, match="unknown kind"):
        pushed(subscription, {"id": "x", "type": "next", "payload": {"data": {"other": {}}}})
