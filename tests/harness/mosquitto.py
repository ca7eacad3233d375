"""A private Mosquitto broker on a free port of 127.0.0.1, never the machine's own 1883, and a
subscriber that collects what reaches a topic.

    broker = start_mosquitto()              # broker.url: mqtt://127.0.0.1:<port>
    with broker.subscribe("plant/#") as messages:
        ...
        messages.wait_for(1)
    broker.stop()
"""

from __future__ import annotations

import shutil
import tempfile
import threading
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import paho.mqtt.client as mqtt

from tests.harness.processes import Proc, free_port, spawn, wait_for_port, wait_until


@dataclass
class Messages:
    client: mqtt.Client
    received: list[mqtt.MQTTMessage] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def all(self) -> list[mqtt.MQTTMessage]:
        with self.lock:
            return list(self.received)

    def wait_for(self, count: int, timeout: float = 20.0) -> list[mqtt.MQTTMessage]:
        wait_until(lambda: len(self.all()) >= count, timeout=timeout)
        return self.all()

    def __enter__(self) -> Messages:
        return self

    def __exit__(self, *exc: Any) -> None:
        self.client.disconnect()
        self.client.loop_stop()


@dataclass
class Mosquitto:
    port: int
    proc: Proc
    directory: Path

    @property
    def url(self) -> str:
        return f"mqtt://127.0.0.1:{self.port}"

    def subscribe(self, topic: str) -> Messages:
        client = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2)
        messages = Messages(client)
        subscribed = threading.Event()

        def on_message(client: Any, userdata: Any, message: mqtt.MQTTMessage) -> None:
            with messages.lock:
                messages.received.append(message)

        client.on_message = on_message
        client.on_subscribe = lambda *args: subscribed.set()
        client.on_connect = lambda c, *args: c.subscribe(topic, qos=1)
        client.connect("127.0.0.1", self.port)
        client.loop_start()
        if not subscribed.wait(10):
            raise RuntimeError(f"could not subscribe to {topic} on {self.url}")
        return messages

    def stop(self) -> None:
        self.proc.stop(timeout=5)
        shutil.rmtree(self.directory, ignore_errors=True)


def start_mosquitto() -> Mosquitto:
    binary = shutil.which("mosquitto") or shutil.which("mosquitto", path="/usr/sbin")
    if binary is None:
        raise RuntimeError("mosquitto is not installed; run `make test` (it installs it) "
                           "or `apt-get install mosquitto`.")
    folder = Path(tempfile.mkdtemp(prefix="wdash-mosquitto-"))
    port = free_port()
    conf = folder / "mosquitto.conf"
    conf.write_text(f"listener {port} 127.0.0.1\nallow_anonymous true\npersistence false\n"
                    "log_dest stdout\n")
    proc = spawn("mosquitto", [binary, "-c", str(conf)], log=folder / "mosquitto.log")
    try:
        wait_for_port(port, 10, proc)
    except Exception:
        proc.stop(timeout=5)
        raise
    return Mosquitto(port, proc, folder)
