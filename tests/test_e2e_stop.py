"""Clean stops of the real server process, however the signal comes.

``systemctl stop`` (default KillMode=control-group) and Ctrl+C in a terminal signal the
whole process group, the acquisition child included; ``kill`` signals the server alone.
Each way: exit status 0 within 3 s, every sample taken before the signal in the store, the
HTTP port closed, the child gone and never restarted, an open live stream no obstacle.
"""

from __future__ import annotations

import os
import signal
import socket
import threading
import time
from collections.abc import Callable
from pathlib import Path

import httpx2 as httpx
import pytest

from tc66c_server.store import SampleStore
from tc66c_server.timefmt import parse_iso

from .serverproc import Server, start_server

pytestmark = pytest.mark.e2e
STOP_LIMIT_S = 3.0


def children_of(pid: int) -> list[int]:
    """Process ids whose parent is ``pid`` (read from /proc)."""
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
        except (FileNotFoundError, ProcessLookupError):
            continue
        if int(fields[1]) == pid:
            found.append(int(entry.name))
    return found


def alive(pid: int) -> bool:
    """True while ``pid`` runs (a zombie nobody has reaped yet counts as gone)."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except (FileNotFoundError, ProcessLookupError):
        return False
    return stat.rsplit(")", 1)[1].split()[0] != "Z"


def wait_gone(pids: list[int], timeout_s: float) -> list[int]:
    """The pids still alive after up to ``timeout_s``."""
    deadline = time.monotonic() + timeout_s
    while any(alive(pid) for pid in pids) and time.monotonic() < deadline:
        time.sleep(0.05)
    return [pid for pid in pids if alive(pid)]


def port_open(url: str) -> bool:
    host, port = url.removeprefix("http://").rsplit(":", 1)
    with socket.socket() as sock:
        sock.settimeout(1.0)
        return sock.connect_ex((host, int(port))) == 0


class LiveStream:
    """An SSE client in a thread: counts events, notes when the server ended the stream."""

    def __init__(self, url: str) -> None:
        self.events = 0
        self.ended = threading.Event()
        self.error: str | None = None
        self._thread = threading.Thread(target=self._run, args=(url,), daemon=True)
        self._thread.start()

    def _run(self, url: str) -> None:
        try:
            with httpx.stream("GET", f"{url}/api/stream", timeout=10) as response:
                for line in response.iter_lines():
                    if line.startswith("event: sample"):
                        self.events += 1
        except httpx.HTTPError as exc:
            self.error = type(exc).__name__
        finally:
            self.ended.set()


def run_until_sampled(data_dir: Path) -> tuple[Server, LiveStream]:
    server = start_server(
        "--demo", "--interval", "0.2", "--data-dir", str(data_dir), new_session=True
    )
    deadline = time.monotonic() + 15
    while httpx.get(f"{server.url}/api/status", timeout=2).json()["counters"]["samples"] < 5:
        assert time.monotonic() < deadline, "no samples from the demo meter"
        time.sleep(0.1)
    stream = LiveStream(server.url)
    while stream.events < 2:
        assert time.monotonic() < deadline, "the live stream sent no sample"
        time.sleep(0.05)
    return server, stream


def signal_server(pid: int, sig: signal.Signals) -> None:
    os.kill(pid, sig)


def signal_group(pid: int, sig: signal.Signals) -> None:
    os.killpg(pid, sig)  # the server leads its own session: its group is its pid


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGINT], ids=["SIGTERM", "SIGINT"])
@pytest.mark.parametrize(
    "send", [signal_server, signal_group], ids=["to-server", "to-process-group"]
)
def test_a_stop_signal_exits_0_quickly_with_every_sample_written_and_nothing_left(
    tmp_path: Path, sig: signal.Signals, send: Callable[[int, signal.Signals], None]
) -> None:
    data_dir = tmp_path / "d"
    server, stream = run_until_sampled(data_dir)
    pid = server.process.pid
    try:
        children = children_of(pid)
        assert children, "the acquisition child process was not found"
        status = httpx.get(f"{server.url}/api/status", timeout=2).json()
        taken, meter = status["counters"]["samples"], status["meter"]  # the first meter's
        latest = httpx.get(f"{server.url}/api/data/latest", timeout=2).json()
        started = time.monotonic()
        send(pid, sig)
        output, _ = server.process.communicate(timeout=15)
        elapsed = time.monotonic() - started
    finally:
        if server.process.poll() is None:
            os.killpg(pid, signal.SIGKILL)
            server.process.communicate()
    assert server.process.returncode == 0, output
    assert elapsed < STOP_LIMIT_S, f"stopped in {elapsed:.2f} s"
    assert stream.ended.wait(2.0), "the live stream was still open"
    assert not port_open(server.url)
    assert wait_gone(children, 0.5) == [], "a child process outlived the server"
    assert "restarting" not in output and "Traceback" not in output, output
    assert output.rstrip().endswith("Stopped."), output
    store = SampleStore(data_dir / "demo.sqlite3")
    try:
        count, _, stored_newest = store.summary(meter)
    finally:
        store.close()
    assert count >= taken  # the open batch was written at the stop
    assert stored_newest is not None and stored_newest >= parse_iso(latest["timestamp"])


def test_after_kill_9_of_the_server_its_acquisition_child_exits_by_itself(
    tmp_path: Path,
) -> None:
    server, _ = run_until_sampled(tmp_path / "d")
    pid = server.process.pid
    children = children_of(pid)
    assert children
    server.process.kill()
    server.process.communicate(timeout=10)
    assert wait_gone(children, 2.5) == [], "the acquisition child outlived a killed parent"
