"""The poller in a child process: samples, states and control cross the process boundary."""

from __future__ import annotations

import os
import signal
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from tc66c_server.emulator import EmulatorHost
from tc66c_server.poller import Counters
from tc66c_server.poller_process import ProcessPoller

from .test_poller import Recorder


@pytest.fixture
def recorder() -> Recorder:
    return Recorder()


@pytest.fixture
def process_poller(emulator: EmulatorHost, recorder: Recorder) -> Iterator[ProcessPoller]:
    poller = ProcessPoller(
        str(emulator.link), 0.1, on_sample=recorder.sample, on_state=recorder.state
    )
    poller.start()
    try:
        yield poller
    finally:
        poller.stop()


def test_samples_and_states_come_back_from_the_child(
    process_poller: ProcessPoller, recorder: Recorder, emulator: EmulatorHost
) -> None:
    recorder.wait(lambda: len(recorder.samples) >= 5, timeout_s=10)
    assert process_poller.state.connected
    assert process_poller.state.product == "TC66"
    assert process_poller.counters.samples >= 5
    assert recorder.states and recorder.states[-1].connected
    assert process_poller.sample_rate_hz() > 3
    assert recorder.samples[-1].reading.voltage > 4


def test_port_change_reaches_the_child(
    process_poller: ProcessPoller, recorder: Recorder, tmp_path: Path
) -> None:
    recorder.wait(lambda: process_poller.state.connected, timeout_s=10)
    process_poller.set_port(str(tmp_path / "absent"))
    recorder.wait(lambda: process_poller.state.error_code == "port_not_found")
    assert process_poller.port == str(tmp_path / "absent")


def test_stop_delivers_every_sample_taken(emulator: EmulatorHost, recorder: Recorder) -> None:
    poller = ProcessPoller(str(emulator.link), 0.1, on_sample=recorder.sample)
    poller.start()
    recorder.wait(lambda: len(recorder.samples) >= 3, timeout_s=10)
    poller.stop()
    assert len(recorder.samples) == poller.counters.samples


def test_a_crashed_child_is_restarted(process_poller: ProcessPoller, recorder: Recorder) -> None:
    recorder.wait(lambda: len(recorder.samples) >= 2, timeout_s=10)
    process = process_poller._process
    assert process is not None and process.pid is not None
    os.kill(process.pid, signal.SIGKILL)
    count = len(recorder.samples)
    recorder.wait(lambda: len(recorder.samples) >= count + 3, timeout_s=15)
    assert process_poller._process is not process


def _alive(pid: int) -> bool:
    """True while ``pid`` runs (a zombie nobody has reaped yet counts as gone)."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except FileNotFoundError:
        return False
    return stat.rsplit(")", 1)[1].split()[0] != "Z"


def test_counters_never_go_backwards_across_a_crash_and_the_restart_is_counted(
    process_poller: ProcessPoller, recorder: Recorder
) -> None:
    recorder.wait(lambda: len(recorder.samples) >= 3, timeout_s=10)
    seen: list[Counters] = []
    done = threading.Event()

    def watch() -> None:
        while not done.is_set():
            seen.append(process_poller.counters)
            time.sleep(0.005)

    watcher = threading.Thread(target=watch)
    watcher.start()
    try:
        before = process_poller.counters
        pid = process_poller.pid
        assert pid is not None
        os.kill(pid, signal.SIGKILL)
        recorder.wait(lambda: process_poller.counters.samples >= before.samples + 3, timeout_s=15)
    finally:
        done.set()
        watcher.join()
    after = process_poller.counters
    assert after.poller_restarts == 1
    assert after.polls >= before.polls + 3
    samples = [c.samples for c in seen]
    assert samples == sorted(samples)
    process_poller.stop()
    assert len(recorder.samples) == process_poller.counters.samples  # counted = delivered


def test_the_child_ignores_sigterm_and_sigint_its_life_is_the_parents(
    process_poller: ProcessPoller, recorder: Recorder
) -> None:
    recorder.wait(lambda: len(recorder.samples) >= 2, timeout_s=10)
    pid = process_poller.pid
    assert pid is not None
    os.kill(pid, signal.SIGTERM)
    os.kill(pid, signal.SIGINT)
    count = len(recorder.samples)
    recorder.wait(lambda: len(recorder.samples) >= count + 3, timeout_s=10)
    assert process_poller.pid == pid and _alive(pid)
    assert process_poller.counters.poller_restarts == 0
    process_poller.stop()
    assert not _alive(pid)


def test_nothing_is_restarted_once_stopping_has_begun(
    emulator: EmulatorHost, recorder: Recorder
) -> None:
    poller = ProcessPoller(str(emulator.link), 0.1, on_sample=recorder.sample)
    poller.start()
    recorder.wait(lambda: len(recorder.samples) >= 2, timeout_s=10)
    pid = poller.pid
    assert pid is not None
    os.kill(pid, signal.SIGKILL)  # dies just as the server begins to stop
    poller.stop()
    time.sleep(1.5)  # longer than the restart delay
    assert poller.pid == pid
    assert poller.counters.poller_restarts == 0
    assert not _alive(pid)
