"""A real mosquitto broker on a free loopback port, and a subscriber that records messages."""

from __future__ import annotations

import contextlib
import shutil
import socket
import subprocess
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import paho.mqtt.client as mqtt
import pytest
from paho.mqtt.enums import CallbackAPIVersion

from tests.serverproc import free_port

START_TIMEOUT_S = 10.0


def _accepts(port: int) -> bool:
    with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", port), 0.2):
        return True
    return False


class Broker:
    """Debian's mosquitto, listening on 127.0.0.1 only, no persistence (a restart forgets)."""

    def __init__(self, folder: Path) -> None:
        binary = shutil.which("mosquitto") or "/usr/sbin/mosquitto"
        if not Path(binary).is_file():
            pytest.skip("mosquitto is not installed (scripts/test.sh installs it)")
        self.binary = binary
        self.port = free_port()
        self.url = f"mqtt://127.0.0.1:{self.port}"
        self.config = folder / "mosquitto.conf"
        self.config.write_text(
            f"listener {self.port} 127.0.0.1\nallow_anonymous true\npersistence false\n"
            "log_dest stderr\n"
        )
        self.log = folder / "mosquitto.log"
        self.process: subprocess.Popen[bytes] | None = None

    def start(self) -> Broker:
        with self.log.open("ab") as log:
            self.process = subprocess.Popen(
                [self.binary, "-c", str(self.config)], stdout=log, stderr=log
            )
        deadline = time.monotonic() + START_TIMEOUT_S
        while not _accepts(self.port):
            if self.process.poll() is not None or time.monotonic() > deadline:
                self.stop()
                raise AssertionError("mosquitto did not start: " + self.log.read_text())
            time.sleep(0.05)
        return self

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(5)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(5)
        self.process = None


@dataclass(frozen=True)
class Message:
    topic: str
    payload: bytes
    retain: bool


class Subscriber:
    """A paho client subscribed to ``topics`` that keeps every message it receives."""

    def __init__(self, port: int, *topics: str) -> None:
        self.messages: list[Message] = []
        self._changed = threading.Condition()
        self._subscribed = threading.Event()
        self.client = mqtt.Client(CallbackAPIVersion.VERSION2, client_id=f"test-{free_port()}")
        self.client.on_message = self._on_message
        self.client.on_subscribe = lambda *args: self._subscribed.set()
        self.client.connect("127.0.0.1", port)
        self.client.subscribe([(topic, 1) for topic in topics])
        self.client.loop_start()
        assert self._subscribed.wait(START_TIMEOUT_S), "subscription not acknowledged"

    def _on_message(self, client: mqtt.Client, userdata: object, message: mqtt.MQTTMessage) -> None:
        with self._changed:
            self.messages.append(Message(message.topic, message.payload, bool(message.retain)))
            self._changed.notify_all()

    def on(self, topic: str) -> list[Message]:
        with self._changed:
            return [m for m in self.messages if m.topic == topic]

    def wait(self, condition: Callable[[], bool], timeout_s: float = 10.0, what: str = "") -> None:
        with self._changed:
            if not self._changed.wait_for(condition, timeout_s):
                seen = sorted({m.topic for m in self.messages})
                raise AssertionError(f"timed out waiting for {what or condition}; topics: {seen}")

    def wait_for(self, topic: str, count: int = 1, timeout_s: float = 10.0) -> list[Message]:
        """The first ``count`` messages on ``topic``, waiting for them if needed."""
        self.wait(lambda: len(self._on_unlocked(topic)) >= count, timeout_s, topic)
        return self.on(topic)[:count]

    def _on_unlocked(self, topic: str) -> list[Message]:
        return [m for m in self.messages if m.topic == topic]

    def publish(self, topic: str, payload: str, retain: bool = False) -> None:
        self.client.publish(topic, payload, qos=1, retain=retain).wait_for_publish(5)

    def clear(self) -> None:
        with self._changed:
            self.messages.clear()

    def close(self) -> None:
        self.client.disconnect()
        self.client.loop_stop()
