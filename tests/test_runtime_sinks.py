"""The runtime and its sinks: every sample, link change and event reaches each sink; a sink
that fails is logged and changes nothing for acquisition or the other sinks."""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Iterator, Mapping
from pathlib import Path
from typing import Any

import pytest

from tc66c_server.bench_config import BenchConfig, MeterSpec
from tc66c_server.emulator import EmulatorHost
from tc66c_server.exporters import METER_REMOVED, Sinks
from tc66c_server.poller import LinkState
from tc66c_server.reading import Sample
from tc66c_server.runtime import Runtime, ServerSettings
from tc66c_server.store import SampleStore


class Recording:
    """A sink that keeps what it is told."""

    name = "recording"

    def __init__(self) -> None:
        self.started = 0
        self.closed = 0
        self.samples: list[tuple[str, Sample]] = []
        self.states: list[tuple[str, LinkState]] = []
        self.events: list[tuple[str, str, dict[str, Any]]] = []
        self.lock = threading.Lock()

    def start(self, runtime: Runtime) -> None:
        self.started += 1

    def publish_sample(self, meter_id: str, sample: Sample) -> None:
        with self.lock:
            self.samples.append((meter_id, sample))

    def publish_state(self, meter_id: str, state: LinkState) -> None:
        with self.lock:
            self.states.append((meter_id, state))

    def publish_event(self, meter_id: str, name: str, payload: Mapping[str, Any]) -> None:
        with self.lock:
            self.events.append((meter_id, name, dict(payload)))

    def close(self) -> None:
        self.closed += 1


class Broken:
    """A sink whose every method raises."""

    name = "broken"

    def __getattr__(self, method: str) -> Callable[..., None]:
        def fail(*args: object) -> None:
            raise RuntimeError(f"{method} is broken")

        return fail


def wait_for(condition: Callable[[], bool], timeout_s: float = 10.0) -> None:
    deadline = time.monotonic() + timeout_s
    while not condition():
        assert time.monotonic() < deadline, "condition not reached in time"
        time.sleep(0.02)


@pytest.fixture
def emulators(tmp_path: Path) -> Iterator[dict[str, EmulatorHost]]:
    hosts = {
        i: EmulatorHost(tmp_path / f"tty-{i}", reply_delay_s=0.0, seed=s)
        for s, i in ((3, "a"), (4, "b"))
    }
    for host in hosts.values():
        host.start()
    yield hosts
    for host in hosts.values():
        host.stop()


@pytest.fixture
def runtime(emulators: dict[str, EmulatorHost]) -> Iterator[Runtime]:
    bench = BenchConfig(meters=tuple(MeterSpec(i, str(h.link), 0.1) for i, h in emulators.items()))
    runtime = Runtime(ServerSettings(), bench, SampleStore(None))
    yield runtime
    runtime.stop()


def test_every_sink_gets_every_meter_s_samples_and_link_states(runtime: Runtime) -> None:
    sink = Recording()
    runtime.add_sink(sink)
    runtime.start()
    wait_for(lambda: {m for m, _ in sink.samples} == {"a", "b"} and len(sink.samples) >= 6)
    assert sink.started == 1
    assert {(m, s.connected) for m, s in sink.states} >= {("a", True), ("b", True)}
    with sink.lock:
        by_meter = {m: [s for mm, s in sink.samples if mm == m] for m in ("a", "b")}
    for samples in by_meter.values():
        assert [s.ts for s in samples] == sorted(s.ts for s in samples)
    runtime.stop()
    assert sink.closed == 1


def test_a_failing_sink_is_logged_once_and_stops_nothing(
    runtime: Runtime, caplog: pytest.LogCaptureFixture
) -> None:
    sink = Recording()
    runtime.add_sink(Broken())  # type: ignore[arg-type]
    runtime.add_sink(sink)
    with caplog.at_level(logging.ERROR, logger="tc66c_server.exporters"):
        runtime.start()
        wait_for(lambda: len(sink.samples) >= 10)
        wait_for(lambda: runtime.store.summary(meter="a")[0] >= 5)
    failures = [r for r in caplog.records if "broken sink failed" in r.getMessage()]
    assert len(failures) == 1  # rate-limited: not one line per sample
    assert runtime.sinks.failures["broken"] >= 10


def test_a_sink_added_while_running_is_started_and_fed(runtime: Runtime) -> None:
    runtime.start()
    sink = Recording()
    runtime.add_sink(sink)
    assert sink.started == 1
    wait_for(lambda: len(sink.samples) >= 2)


def test_removing_a_meter_tells_the_sinks_and_forgets_its_energy(runtime: Runtime) -> None:
    sink = Recording()
    runtime.add_sink(sink)
    runtime.start()
    wait_for(lambda: runtime.energy_of("b").joules > 0)
    runtime.remove_meter("b")
    assert ("b", METER_REMOVED, {}) in sink.events
    assert runtime.energy_of("b").joules == 0


def test_events_published_by_the_bench_reach_the_sinks(runtime: Runtime) -> None:
    sink = Recording()
    runtime.add_sink(sink)
    runtime.publish_event("a", "recording_started", {"name": "charge test"})
    assert sink.events == [("a", "recording_started", {"name": "charge test"})]


def test_sinks_fan_out_in_order_and_survive_each_other() -> None:
    sinks = Sinks()
    first, second = Recording(), Recording()
    sinks.add(first)
    sinks.add(Broken())  # type: ignore[arg-type]
    sinks.add(second)
    sinks.publish_event("m1", "annotation", {"text": "x"})
    sinks.close()
    assert first.events == second.events == [("m1", "annotation", {"text": "x"})]
    assert first.closed == second.closed == 1
    assert sinks.failures == {"broken": 2}
