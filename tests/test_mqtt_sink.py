"""The MQTT sink against a real mosquitto, fed by a real poller on the emulator.

The sink is driven as the runtime drives it (samples and link states from the poller's
thread, events from the bench); a stand-in bench gives it the meters and energy totals.
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import pytest

from tc66c_server import quantities as q
from tc66c_server.emulator import EmulatorHost
from tc66c_server.emulator.signal import BenchSession
from tc66c_server.emulator.source import LoggedSource
from tc66c_server.energy import EnergyTotals, accumulate
from tc66c_server.exporters import METER_REMOVED
from tc66c_server.exporters.mqtt import MAX_EVENTS, MqttSink
from tc66c_server.exporters.mqtt_settings import MqttSettings
from tc66c_server.poller import LinkState, Poller
from tc66c_server.reading import Reading, Sample
from tc66c_server.timefmt import iso
from tests.mqtthelpers import Broker, Subscriber
from tests.serverproc import free_port

SEED = 11
READING_KEYS = [quantity.key for quantity in q.ALL if quantity.key != "resistance"]


@dataclass
class StandInMeter:
    id: str
    state: LinkState = field(default_factory=LinkState)


class Bench:
    """What the sink reads from the runtime: the version, the meters, the energy totals."""

    version = "9.9.9"

    def __init__(self, sink: MqttSink) -> None:
        self.sink = sink
        self.meters: dict[str, StandInMeter] = {}
        self.energy: dict[str, EnergyTotals] = {}

    def __iter__(self) -> Iterator[StandInMeter]:
        return iter(list(self.meters.values()))

    def energy_of(self, meter_id: str) -> EnergyTotals:
        return self.energy.get(meter_id) or EnergyTotals()

    def sample(self, meter_id: str, sample: Sample) -> None:
        self.energy[meter_id] = accumulate(self.energy_of(meter_id), sample, 2.0)
        self.sink.publish_sample(meter_id, sample)

    def state(self, meter_id: str, state: LinkState) -> None:
        self.meters[meter_id].state = state
        self.sink.publish_state(meter_id, state)


@pytest.fixture
def broker(tmp_path: Path) -> Iterator[Broker]:
    broker = Broker(tmp_path).start()
    yield broker
    broker.stop()


@pytest.fixture
def source() -> LoggedSource:
    return LoggedSource(BenchSession(SEED))


@pytest.fixture
def emulator(tmp_path: Path, source: LoggedSource) -> Iterator[EmulatorHost]:
    host = EmulatorHost(tmp_path / "ttyTC66", reply_delay_s=0.0, session=source)
    host.start()
    yield host
    host.stop()


class Rig:
    """A sink with a stand-in bench, and the pollers feeding it."""

    def __init__(self, settings: MqttSettings) -> None:
        self.sink = MqttSink(settings)
        self.bench = Bench(self.sink)
        self.pollers: list[Poller] = []

    def add_meter(self, meter_id: str, link: Path, interval_s: float = 0.1) -> None:
        self.bench.meters[meter_id] = StandInMeter(meter_id)
        poller = Poller(
            str(link),
            interval_s,
            on_sample=lambda s: self.bench.sample(meter_id, s),
            on_state=lambda s: self.bench.state(meter_id, s),
        )
        self.pollers.append(poller)

    def start(self) -> Rig:
        self.sink.start(self.bench)  # type: ignore[arg-type]
        for poller in self.pollers:
            poller.start()
        return self

    def stop(self) -> None:
        for poller in self.pollers:
            poller.stop()
        self.sink.close()


@pytest.fixture
def rig(broker: Broker, emulator: EmulatorHost) -> Iterator[Rig]:
    rig = Rig(MqttSettings(host="127.0.0.1", port=broker.port))
    rig.add_meter("m1", emulator.link)
    rig.start()
    yield rig
    rig.stop()


def config_topics(subscriber: Subscriber) -> dict[str, Any]:
    return {
        m.topic: json.loads(m.payload)
        for m in subscriber.messages
        if m.topic.endswith("/config") and m.payload
    }


def wait_configs(subscriber: Subscriber, count: int = 10) -> dict[str, Any]:
    subscriber.wait(lambda: len(config_topics(subscriber)) >= count, what="discovery configs")
    return config_topics(subscriber)


def test_discovery_configs_are_retained_json_naming_the_emulated_meter(
    rig: Rig, broker: Broker, source: LoggedSource
) -> None:
    first = Subscriber(broker.port, "tc66c/m1/state")
    first.wait_for("tc66c/m1/state")  # the meter answered, so its serial is known
    late = Subscriber(broker.port, "homeassistant/#")  # joins after: gets the retained ones
    configs = wait_configs(late)
    session = source.source
    assert isinstance(session, BenchSession)
    assert all(m.retain for m in late.messages)
    sensors = {t: c for t, c in configs.items() if t.startswith("homeassistant/sensor/")}
    assert len(sensors) == 9
    for topic, config in sensors.items():
        assert topic.startswith(f"homeassistant/sensor/tc66c_{session.serial}/")
        assert {"name", "unique_id", "state_topic", "availability", "device", "origin"} <= set(
            config
        )
        device = config["device"]
        assert device["identifiers"] == [f"tc66c_{session.serial}"]
        assert device["model"] == session.product
        assert device["sw_version"] == session.firmware
        assert device["via_device"] == "tc66c_server_tc66c"
    bridge = [t for t in configs if t.startswith("homeassistant/binary_sensor/")]
    assert bridge == ["homeassistant/binary_sensor/tc66c_server_tc66c/connection/config"]
    first.close()
    late.close()


def test_state_messages_carry_the_values_the_emulator_served(
    rig: Rig, broker: Broker, source: LoggedSource
) -> None:
    subscriber = Subscriber(broker.port, "tc66c/m1/state")
    messages = subscriber.wait_for("tc66c/m1/state", count=8)
    subscriber.close()
    served = [s.reading for s in source.served()]
    states = [json.loads(m.payload) for m in messages]
    for state in states:
        matches = [r for r in served if all(getattr(r, k) == state[k] for k in READING_KEYS)]
        assert matches, f"no served reading has the values of {state}"
        reading: Reading = matches[0]
        open_circuit = reading.current == 0 or reading.resistance >= 9999.9
        expected = None if open_circuit else reading.resistance
        assert state["resistance"] == expected
    energies = [state["energy_wh"] for state in states]
    assert energies == sorted(energies) and energies[-1] > 0
    assert all(m.retain is False for m in messages)


def test_availability_says_online_then_offline_when_the_meter_is_unplugged(
    rig: Rig, broker: Broker, emulator: EmulatorHost
) -> None:
    subscriber = Subscriber(broker.port, "tc66c/availability", "tc66c/m1/availability")
    subscriber.wait(
        lambda: [m.payload for m in subscriber.on("tc66c/m1/availability")][-1:] == [b"online"],
        what="meter online",
    )
    assert subscriber.on("tc66c/availability")[-1].payload == b"online"
    emulator.unplug()
    subscriber.wait(
        lambda: subscriber.on("tc66c/m1/availability")[-1].payload == b"offline",
        what="meter offline",
    )
    subscriber.close()


def test_discovery_is_sent_again_when_home_assistant_says_online(rig: Rig, broker: Broker) -> None:
    subscriber = Subscriber(broker.port, "homeassistant/#", "tc66c/m1/state")
    wait_configs(subscriber)
    subscriber.clear()
    subscriber.publish("homeassistant/status", "online")
    configs = wait_configs(subscriber)
    assert len(configs) == 10
    assert not any(m.retain for m in subscriber.messages if m.topic.endswith("/config"))
    subscriber.close()


def test_the_sink_reconnects_after_the_broker_restarts(rig: Rig, broker: Broker) -> None:
    before = Subscriber(broker.port, "tc66c/m1/state")
    before.wait_for("tc66c/m1/state")
    before.close()
    broker.stop()
    time.sleep(0.5)
    broker.start()  # without persistence: every retained message is gone
    after = Subscriber(broker.port, "homeassistant/#", "tc66c/#")
    after.wait_for("tc66c/m1/state", count=3, timeout_s=20)
    assert len(wait_configs(after)) == 10
    assert after.on("tc66c/availability")[-1].payload == b"online"
    after.close()


def test_a_removed_meter_s_configs_and_availability_are_emptied(rig: Rig, broker: Broker) -> None:
    subscriber = Subscriber(broker.port, "homeassistant/#", "tc66c/#")
    topics = set(wait_configs(subscriber))
    sensors = {t for t in topics if "/sensor/" in t}
    rig.pollers[0].stop()
    rig.sink.publish_event("m1", METER_REMOVED, {})
    subscriber.wait(
        lambda: (
            {m.topic for m in subscriber.messages if m.payload == b"" and m.retain is False}
            >= sensors | {"tc66c/m1/availability"}
        ),
        what="empty configs",
    )
    event = json.loads(subscriber.wait_for("tc66c/m1/event")[0].payload)
    assert event["event"] == METER_REMOVED and event["meter"] == "m1"
    subscriber.close()
    fresh = Subscriber(broker.port, "homeassistant/#", "tc66c/m1/availability")
    time.sleep(0.5)  # retained messages come at once after the subscription
    assert {m.topic for m in fresh.messages} == topics - sensors  # the server's own config
    fresh.close()


def test_closing_says_offline_on_the_bridge_topic(rig: Rig, broker: Broker) -> None:
    subscriber = Subscriber(broker.port, "tc66c/availability")
    subscriber.wait(lambda: subscriber.on("tc66c/availability")[-1:] != [], what="online")
    rig.stop()
    subscriber.wait(
        lambda: subscriber.on("tc66c/availability")[-1].payload == b"offline", what="offline"
    )
    subscriber.close()
    fresh = Subscriber(broker.port, "tc66c/availability")
    assert fresh.wait_for("tc66c/availability")[0].payload == b"offline"  # retained
    fresh.close()


def test_nothing_piles_up_while_the_broker_is_down_and_the_latest_goes_out_after(
    tmp_path: Path,
) -> None:
    port = free_port()  # nothing listens there yet
    sink = MqttSink(MqttSettings(host="127.0.0.1", port=port))
    bench = Bench(sink)
    reading = BenchSession(SEED).reading_at(10.0)
    for meter_id in ("a", "b", "c"):
        bench.meters[meter_id] = StandInMeter(meter_id, LinkState(True, "/dev/x", serial=1))
    sink.start(bench)  # type: ignore[arg-type]
    try:
        for i in range(30_000):
            bench.sample("abc"[i % 3], Sample(1000.0 + i / 30, replace(reading, runs=i)))
        for i in range(MAX_EVENTS * 3):
            sink.publish_event("a", "annotation", {"n": i})
        assert sink.backlog() == (3, MAX_EVENTS)
        assert sink.dropped == MAX_EVENTS * 2
        broker = Broker(tmp_path)
        broker.port = port
        broker.config.write_text(f"listener {port} 127.0.0.1\nallow_anonymous true\n")
        subscriber = None
        broker.start()
        try:
            subscriber = Subscriber(port, "tc66c/+/state", "tc66c/+/availability")
            subscriber.wait(
                lambda: (
                    {m.topic for m in subscriber.messages if m.topic.endswith("/state")}
                    == {"tc66c/a/state", "tc66c/b/state", "tc66c/c/state"}
                ),
                timeout_s=20,
                what="one state per meter",
            )
            last = json.loads(subscriber.on("tc66c/c/state")[-1].payload)
            assert last["timestamp"] == iso(1000.0 + 29_999 / 30)  # the newest, not the first
            assert sink.backlog() == (0, 0)
        finally:
            if subscriber is not None:
                subscriber.close()
            broker.stop()
    finally:
        sink.close()


def test_states_are_throttled_to_the_configured_interval(
    broker: Broker, emulator: EmulatorHost
) -> None:
    rig = Rig(MqttSettings(host="127.0.0.1", port=broker.port, interval_s=0.5))
    rig.add_meter("m1", emulator.link, interval_s=0.1)
    subscriber = Subscriber(broker.port, "tc66c/m1/state")
    rig.start()
    try:
        first = subscriber.wait_for("tc66c/m1/state")[0]
        start = time.monotonic()
        time.sleep(2.0)
        sent = len(subscriber.on("tc66c/m1/state")) - 1
        elapsed = time.monotonic() - start
    finally:
        rig.stop()
        subscriber.close()
    assert first is not None
    assert 1 <= sent <= elapsed / 0.5 + 1
