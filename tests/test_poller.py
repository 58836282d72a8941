"""The poller against the emulator: cadence, counters, loss and recovery of the meter."""

from __future__ import annotations

import itertools
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from tc66c_server.emulator import EmulatorHost, FaultKind
from tc66c_server.poller import LinkState, Poller
from tc66c_server.reading import Sample


class Recorder:
    """Collects what the poller publishes, with a way to wait for a condition."""

    def __init__(self) -> None:
        self.samples: list[Sample] = []
        self.states: list[LinkState] = []
        self._changed = threading.Condition()

    def sample(self, sample: Sample) -> None:
        with self._changed:
            self.samples.append(sample)
            self._changed.notify_all()

    def state(self, state: LinkState) -> None:
        with self._changed:
            self.states.append(state)
            self._changed.notify_all()

    def wait(self, condition: Callable[[], bool], timeout_s: float = 5.0) -> None:
        with self._changed:
            assert self._changed.wait_for(condition, timeout_s), "condition not reached in time"


@pytest.fixture
def recorder() -> Recorder:
    return Recorder()


@pytest.fixture
def poller_factory(recorder: Recorder) -> Iterator[Callable[[str, float], Poller]]:
    pollers: list[Poller] = []

    def make(port: str, interval_s: float) -> Poller:
        poller = Poller(port, interval_s, on_sample=recorder.sample, on_state=recorder.state)
        pollers.append(poller)
        poller.start()
        return poller

    yield make
    for poller in pollers:
        poller.stop()


def test_samples_flow_at_the_configured_cadence(
    emulator: EmulatorHost, recorder: Recorder, poller_factory: Callable[[str, float], Poller]
) -> None:
    poller = poller_factory(str(emulator.link), 0.1)
    recorder.wait(lambda: len(recorder.samples) >= 11)
    stamps = [s.ts for s in recorder.samples[1:11]]
    gaps = [b - a for a, b in itertools.pairwise(stamps)]
    assert all(0.05 < gap < 0.2 for gap in gaps), gaps
    assert poller.state.connected
    assert poller.state.product == "TC66"
    assert poller.counters.samples >= 11
    assert 5 < poller.sample_rate_hz() < 15


def test_corrupt_reply_is_dropped_and_counted(
    emulator: EmulatorHost, recorder: Recorder, poller_factory: Callable[[str, float], Poller]
) -> None:
    poller = poller_factory(str(emulator.link), 0.1)
    recorder.wait(lambda: len(recorder.samples) >= 2)
    emulator.inject(FaultKind.FLIP)
    emulator.inject(FaultKind.SILENCE)
    recorder.wait(lambda: poller.counters.bad_packets >= 1 and poller.counters.timeouts >= 1)
    before = len(recorder.samples)
    recorder.wait(lambda: len(recorder.samples) >= before + 3)
    assert poller.state.connected  # isolated faults do not drop the link


def test_unplug_is_reported_once_and_replug_resumes(
    emulator: EmulatorHost, recorder: Recorder, poller_factory: Callable[[str, float], Poller]
) -> None:
    poller = poller_factory(str(emulator.link), 0.1)
    recorder.wait(lambda: poller.state.connected)
    emulator.unplug()
    recorder.wait(lambda: not poller.state.connected)
    assert poller.state.error_code in ("disconnected", "port_not_found")
    time.sleep(1.2)  # several retries while absent...
    disconnects = [s for s in recorder.states if not s.connected]
    assert len({(s.error_code, s.since) for s in disconnects}) <= 2  # ...no state spam
    emulator.replug()
    recorder.wait(lambda: poller.state.connected, timeout_s=3.0)  # found again within 2 s
    count = len(recorder.samples)
    recorder.wait(lambda: len(recorder.samples) > count + 2)
    assert poller.counters.reconnects == 1


def test_missing_port_keeps_retrying_with_the_seed_message(
    tmp_path: Path, recorder: Recorder, poller_factory: Callable[[str, float], Poller]
) -> None:
    path = tmp_path / "ttyACM0"
    poller = poller_factory(str(path), 0.1)
    recorder.wait(lambda: poller.state.error_code == "port_not_found")
    assert poller.state.error_message is not None
    assert poller.state.error_message.startswith(f"failed to open:{path}")
    with EmulatorHost(path, reply_delay_s=0.0):
        recorder.wait(lambda: poller.state.connected, timeout_s=3.0)


def test_port_and_interval_changes_apply_without_restart(
    emulator: EmulatorHost,
    tmp_path: Path,
    recorder: Recorder,
    poller_factory: Callable[[str, float], Poller],
) -> None:
    poller = poller_factory(str(tmp_path / "absent"), 0.1)
    recorder.wait(lambda: poller.state.error_code == "port_not_found")
    poller.set_port(str(emulator.link))
    recorder.wait(lambda: poller.state.connected)
    poller.set_interval(0.5)
    count = len(recorder.samples)
    time.sleep(1.1)
    assert len(recorder.samples) - count <= 3


def test_overrun_skips_slots_and_counts_them(
    tmp_path: Path, recorder: Recorder, poller_factory: Callable[[str, float], Poller]
) -> None:
    with EmulatorHost(tmp_path / "slow", reply_delay_s=0.25, chunked=False) as slow:
        poller = poller_factory(str(slow.link), 0.1)
        recorder.wait(lambda: len(recorder.samples) >= 5)
        assert poller.counters.missed_slots >= 4
        stamps = [s.ts for s in recorder.samples[1:5]]
        # no burst of catch-up polls: samples stay about one reply time apart
        assert all(b - a > 0.2 for a, b in itertools.pairwise(stamps))


def test_a_corrupt_reply_is_asked_again_at_once_when_the_slot_leaves_time(
    emulator: EmulatorHost, recorder: Recorder, poller_factory: Callable[[str, float], Poller]
) -> None:
    poller = poller_factory(str(emulator.link), 0.5)
    recorder.wait(lambda: len(recorder.samples) >= 2)
    emulator.inject(FaultKind.FLIP)
    recorder.wait(lambda: poller.counters.retries >= 1)
    recorder.wait(lambda: len(recorder.samples) >= poller.counters.polls - 1)
    c = poller.counters
    assert (c.bad_packets, c.retries, c.missed_slots) == (1, 1, 0)
    assert c.samples == c.polls - 1  # the faulty slot still gave its sample, from the retry
    assert poller.state.connected


def test_a_corrupt_reply_is_not_retried_when_the_next_slot_is_too_close(
    tmp_path: Path, recorder: Recorder, poller_factory: Callable[[str, float], Poller]
) -> None:
    with EmulatorHost(tmp_path / "tty", reply_delay_s=0.05, seed=3) as host:
        poller = poller_factory(str(host.link), 0.1)
        recorder.wait(lambda: len(recorder.samples) >= 2)
        host.inject(FaultKind.FLIP)
        recorder.wait(lambda: poller.counters.bad_packets >= 1)
        count = len(recorder.samples)
        recorder.wait(lambda: len(recorder.samples) >= count + 2)
        assert poller.counters.retries == 0


def test_a_bad_first_reply_after_a_connect_is_counted(
    emulator: EmulatorHost, recorder: Recorder, poller_factory: Callable[[str, float], Poller]
) -> None:
    emulator.inject(FaultKind.RANDOM)
    poller = poller_factory(str(emulator.link), 0.5)
    recorder.wait(lambda: poller.state.connected and len(recorder.samples) >= 1)
    assert poller.counters.bad_packets == 1
    emulator.unplug()
    recorder.wait(lambda: not poller.state.connected)
    emulator.inject(FaultKind.FLIP)
    emulator.replug()
    recorder.wait(lambda: poller.state.connected, timeout_s=3.0)
    assert poller.counters.bad_packets == 2
    assert poller.counters.reconnects == 1


def test_lowering_the_interval_during_a_poll_does_not_count_missed_slots(
    tmp_path: Path, recorder: Recorder, poller_factory: Callable[[str, float], Poller]
) -> None:
    with EmulatorHost(tmp_path / "slow", reply_delay_s=0.2, chunked=False) as slow:
        poller = poller_factory(str(slow.link), 1.0)
        recorder.wait(lambda: len(recorder.samples) >= 4)
        count = len(recorder.samples)
        recorder.wait(lambda: len(recorder.samples) > count)
        time.sleep(0.9)  # the next poll is due 0.8 s after a sample and takes 0.2 s
        poller.set_interval(0.3)
        count = len(recorder.samples)
        recorder.wait(lambda: len(recorder.samples) >= count + 4)
        assert poller.counters.missed_slots <= 1  # an overrun on a loaded machine, not tens
