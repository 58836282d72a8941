"""The real server process with ``--mqtt``, against a real mosquitto and emulated meters.

The wiring end to end (flags, runtime, sink), and what only a process can show: the
broker's last will when the server is killed, ``offline`` on a clean stop.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx2 as httpx
import pytest

from tc66c_server import quantities as q
from tc66c_server.emulator import EmulatorHost
from tc66c_server.emulator.signal import BenchSession
from tc66c_server.emulator.source import LoggedSource
from tests.mqtthelpers import Broker, Subscriber
from tests.serverproc import ROOT, Server, free_port, start_server

pytestmark = pytest.mark.e2e

READING_KEYS = [quantity.key for quantity in q.ALL if quantity.key != "resistance"]


@pytest.fixture
def broker(tmp_path: Path) -> Iterator[Broker]:
    broker = Broker(tmp_path).start()
    yield broker
    broker.stop()


@pytest.fixture
def sources() -> dict[str, LoggedSource]:
    return {"m1": LoggedSource(BenchSession(21)), "m2": LoggedSource(BenchSession(22))}


@pytest.fixture
def emulators(tmp_path: Path, sources: dict[str, LoggedSource]) -> Iterator[dict[str, Path]]:
    hosts = [
        EmulatorHost(tmp_path / f"tty-{meter_id}", reply_delay_s=0.0, session=source)
        for meter_id, source in sources.items()
    ]
    for host in hosts:
        host.start()
    yield {meter_id: host.link for meter_id, host in zip(sources, hosts, strict=True)}
    for host in hosts:
        host.stop()


def serve(url: str, emulators: dict[str, Path], tmp_path: Path, **kw: bool) -> Server:
    devices = [arg for m, link in emulators.items() for arg in ("--device", f"{m}={link}")]
    return start_server(
        *devices,
        "--interval",
        "0.2",
        "--data-dir",
        str(tmp_path / "data"),
        "--mqtt",
        url,
        "--mqtt-base",
        "lab/bench1",
        **kw,
    )


def test_the_server_publishes_states_with_the_emulator_s_values_and_discovery(
    broker: Broker, emulators: dict[str, Path], sources: dict[str, LoggedSource], tmp_path: Path
) -> None:
    subscriber = Subscriber(broker.port, "lab/bench1/#", "homeassistant/#")
    server = serve(broker.url, emulators, tmp_path)
    try:
        states = subscriber.wait_for("lab/bench1/m1/state", count=5, timeout_s=20)
        subscriber.wait(
            lambda: sum(m.topic.endswith("/config") for m in subscriber.messages) >= 19,
            what="discovery of both meters and the server",
        )
    finally:
        output = server.stop()
        subscriber.close()
    assert "MQTT: mqtt://127.0.0.1" in output
    served = [s.reading for s in sources["m1"].served()]
    for message in states:
        state = json.loads(message.payload)
        assert any(all(getattr(r, k) == state[k] for k in READING_KEYS) for r in served), state
    serials = {
        json.loads(m.payload)["device"]["serial_number"]
        for m in subscriber.messages
        if "/sensor/" in m.topic and m.payload
    }
    session = sources["m2"].source
    assert isinstance(session, BenchSession)
    assert str(session.serial) in serials and len(serials) == 2
    assert subscriber.on("lab/bench1/availability")[-1].payload == b"offline"  # clean stop


def test_the_broker_says_offline_for_a_killed_server(
    broker: Broker, emulators: dict[str, Path], tmp_path: Path
) -> None:
    server = serve(broker.url, emulators, tmp_path, new_session=True)
    subscriber = Subscriber(broker.port, "lab/bench1/availability")
    try:
        subscriber.wait(
            lambda: (
                [m.payload for m in subscriber.on("lab/bench1/availability")][-1:] == [b"online"]
            ),
            what="online",
        )
        server.process.send_signal(signal.SIGKILL)
        server.process.wait(10)
        subscriber.wait(
            lambda: subscriber.on("lab/bench1/availability")[-1].payload == b"offline",
            what="the last will",
        )
    finally:
        subscriber.close()
        if server.process.poll() is None:
            os.killpg(server.process.pid, signal.SIGKILL)
        server.process.communicate(timeout=10)
    fresh = Subscriber(broker.port, "lab/bench1/availability")
    assert fresh.wait_for("lab/bench1/availability")[0].payload == b"offline"  # retained
    fresh.close()


def test_deleting_a_meter_through_the_api_withdraws_its_discovery(
    broker: Broker, emulators: dict[str, Path], tmp_path: Path
) -> None:
    subscriber = Subscriber(broker.port, "homeassistant/#", "lab/bench1/m2/#")
    server = serve(broker.url, emulators, tmp_path)
    try:
        subscriber.wait(
            lambda: (
                sum(m.topic.endswith("/config") and bool(m.payload) for m in subscriber.messages)
                >= 19
            ),
            timeout_s=20,
            what="discovery",
        )
        m2_topics = {
            m.topic
            for m in subscriber.messages
            if m.payload and '"lab/bench1/m2/state"' in m.payload.decode()
        }
        assert len(m2_topics) == 9
        assert httpx.delete(f"{server.url}/api/meters/m2", timeout=5).status_code == 204
        subscriber.wait(
            lambda: (
                {m.topic for m in subscriber.messages if m.payload == b""}
                >= m2_topics | {"lab/bench1/m2/availability"}
            ),
            what="empty configs",
        )
        event = json.loads(subscriber.wait_for("lab/bench1/m2/event")[0].payload)
        assert event["event"] == "meter_removed"
    finally:
        server.stop()
        subscriber.close()


def test_a_broker_that_is_down_slows_neither_acquisition_nor_the_api(
    emulators: dict[str, Path], tmp_path: Path
) -> None:
    nowhere = f"mqtt://127.0.0.1:{free_port()}"  # nothing listens there
    server = serve(nowhere, emulators, tmp_path)
    try:
        deadline = time.monotonic() + 10
        while httpx.get(f"{server.url}/api/meters/m1/data/latest", timeout=5).status_code != 200:
            assert time.monotonic() < deadline, "no sample"
            time.sleep(0.1)
        before = httpx.get(f"{server.url}/api/meters/m1", timeout=5).json()["counters"]
        time.sleep(2.0)
        after = httpx.get(f"{server.url}/api/meters/m1", timeout=5).json()["counters"]
        assert httpx.get(f"{server.url}/metrics", timeout=5).status_code == 200
    finally:
        output = server.stop()
    assert after["samples"] - before["samples"] >= 5  # polling goes on (10 expected in 2 s)
    assert "cannot reach mqtt://127.0.0.1" in output


@pytest.mark.parametrize(
    ("args", "field"),
    [
        (["--mqtt", "http://broker"], "--mqtt"),
        (["--mqtt", "mqtt://b", "--mqtt-base", "lab/#"], "--mqtt-base"),
        (["--mqtt", "mqtt://b", "--mqtt-interval", "-1"], "--mqtt-interval"),
    ],
)
def test_bad_mqtt_settings_stop_the_server_with_status_2(args: list[str], field: str) -> None:
    result = subprocess.run(
        [sys.executable, "api_server.py", str(free_port()), "--data-dir", ":memory:", *args],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
        env={**os.environ, "LANG": "C.UTF-8", "LC_ALL": "C.UTF-8"},
    )
    assert result.returncode == 2
    assert field in result.stderr and "Traceback" not in result.stderr
