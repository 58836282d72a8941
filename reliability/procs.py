"""Real processes for the scenarios: the emulator and ``python api_server.py`` as a user runs them.

Each server runs in a session of its own, so a scenario can signal it alone or its whole
process group (what ``systemctl stop`` and Ctrl+C in a terminal do), and cleanup can end the
group, poller child included, by the server's process id. Output goes to a log file in the
scenario's work directory.
"""

from __future__ import annotations

import contextlib
import os
import resource
import shutil
import signal
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import httpx2 as httpx

from bench.procs import free_port, process_tree

from .served import EmulatorLog, read_log

ROOT = Path(__file__).resolve().parent.parent
START_TIMEOUT_S = 30.0
EMULATOR_NICENESS = -5


def _env() -> dict[str, str]:
    env = {**os.environ, "LANG": "C.UTF-8", "LC_ALL": "C.UTF-8", "PYTHONUNBUFFERED": "1"}
    for var in list(env):
        if var.startswith("TC66C_"):
            del env[var]
    return env


def alive(pid: int) -> bool:
    """True while ``pid`` runs (a zombie waiting to be reaped counts as gone)."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text(encoding="ascii")
    except OSError:
        return False
    return stat.rsplit(")", 1)[1].split()[0] != "Z"


def open_fds(pid: int) -> int:
    """How many file descriptors ``pid`` has open."""
    return len(os.listdir(f"/proc/{pid}/fd"))


def _status_kib(pid: int, key: str) -> int:
    for line in Path(f"/proc/{pid}/status").read_text(encoding="ascii").splitlines():
        if line.startswith(f"{key}:"):
            return int(line.split()[1])
    raise RuntimeError(f"no {key} for process {pid}")


def reset_peak_rss(pid: int) -> int:
    """Start measuring the peak resident memory afresh; the resident memory now (bytes)."""
    with contextlib.suppress(OSError):  # Linux >= 4.0; without it the peak is since start
        Path(f"/proc/{pid}/clear_refs").write_text("5", encoding="ascii")
    return _status_kib(pid, "VmRSS") * 1024


def peak_rss_bytes(pid: int) -> int:
    """The process's peak resident memory since the last reset (``VmHWM``)."""
    return _status_kib(pid, "VmHWM") * 1024


@dataclass
class Emulator:
    """``python -m tc66c_server.emulator`` in its own process, logging what it serves."""

    process: subprocess.Popen[bytes]
    link: Path
    log: Path

    def unplug(self) -> None:
        """Pull the virtual cable (SIGUSR1)."""
        self.process.send_signal(signal.SIGUSR1)

    def plug(self) -> None:
        """Plug it back in (SIGUSR2)."""
        self.process.send_signal(signal.SIGUSR2)

    def served(self) -> EmulatorLog:
        """Everything logged so far."""
        return read_log(self.log)

    def wait_event(self, event: str, after: float, timeout_s: float = 5.0) -> float:
        """The time of the first ``event`` logged after ``after``; ``TimeoutError`` if none."""
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            for t, name in self.served().events:
                if name == event and t > after:
                    return t
            time.sleep(0.02)
        raise TimeoutError(f"the emulator logged no {event!r} within {timeout_s} s")

    def stop(self) -> None:
        """SIGTERM, then SIGKILL if it does not exit; this process only."""
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=5)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=5)


def start_emulator(
    workdir: Path, *, name: str = "ttyTC66", fault_mix: str = "", seed: int = 1
) -> Emulator:
    """A virtual meter (90 ms replies, as a real one) at ``workdir/name``, once it is there."""
    link, log = workdir / name, workdir / f"{name}.jsonl"
    argv = [sys.executable, "-m", "tc66c_server.emulator", "--link", str(link), "--log", str(log)]
    argv += ["--seed", str(seed)]
    if os.geteuid() == 0 and shutil.which("nice"):
        # It stands for a meter, whose replies do not wait for the host's CPU: ahead of the
        # server and the load generators in the queue (the poller, under test, is not).
        argv = ["nice", "-n", str(EMULATOR_NICENESS), *argv]
    if fault_mix:
        argv += ["--fault-mix", fault_mix]
    with (workdir / f"{name}.out").open("wb") as out:
        process = subprocess.Popen(argv, cwd=ROOT, env=_env(), stdout=out, stderr=subprocess.STDOUT)
    emulator = Emulator(process, link, log)
    deadline = time.monotonic() + START_TIMEOUT_S
    while not link.exists():
        if process.poll() is not None or time.monotonic() > deadline:
            emulator.stop()
            raise RuntimeError(f"the emulator did not start (exit status {process.poll()})")
        time.sleep(0.02)
    return emulator


@dataclass
class Server:
    """``python api_server.py PORT ...`` in a session of its own."""

    process: subprocess.Popen[bytes]
    port: int
    data_dir: Path
    log: Path

    @property
    def pid(self) -> int:
        return self.process.pid

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def tree(self) -> list[int]:
        """The server and its descendants (the poller child) still alive."""
        return [pid for pid in process_tree(self.pid) if alive(pid)] if self.running else []

    @property
    def running(self) -> bool:
        return self.process.poll() is None

    def output(self) -> str:
        """Everything the server printed so far."""
        return self.log.read_text(encoding="utf-8", errors="replace") if self.log.exists() else ""

    def wait_ready(self, timeout_s: float = START_TIMEOUT_S) -> float:
        """Block until ``GET /api/status`` answers 200; the seconds it took."""
        start = time.monotonic()
        while time.monotonic() - start < timeout_s:
            if not self.running:
                raise RuntimeError(f"the server exited early:\n{self.output()[-3000:]}")
            with contextlib.suppress(httpx.TransportError):
                if httpx.get(f"{self.url}/api/status", timeout=2).status_code == 200:
                    return time.monotonic() - start
            time.sleep(0.05)
        raise RuntimeError(f"the server did not answer in {timeout_s} s:\n{self.output()[-3000:]}")

    def send(self, signum: int, *, group: bool = False) -> None:
        """Send ``signum`` to the server alone, or to its whole process group."""
        if group:
            os.killpg(self.pid, signum)
        else:
            os.kill(self.pid, signum)

    def wait_exit(self, timeout_s: float) -> float | None:
        """Seconds until the server exited, or None if it still runs after ``timeout_s``."""
        start = time.monotonic()
        try:
            self.process.wait(timeout=timeout_s)
        except subprocess.TimeoutExpired:
            return None
        return time.monotonic() - start

    def kill_group(self) -> None:
        """SIGKILL the server's process group (its poller child and any orphan of it)."""
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(self.pid, signal.SIGKILL)
        with contextlib.suppress(subprocess.TimeoutExpired):
            self.process.wait(timeout=10)

    def stop(self) -> None:
        """SIGTERM and a bounded wait, then SIGKILL to whatever is left of the group."""
        if self.running:
            self.process.terminate()
            with contextlib.suppress(subprocess.TimeoutExpired):
                self.process.wait(timeout=10)
        self.kill_group()


def start_server(
    workdir: Path,
    data_dir: Path,
    device: str | None,
    *extra: str,
    interval_s: float = 0.25,
    retention_min: int = 10_080,
    max_open_files: int | None = None,
    wait: bool = True,
) -> Server:
    """Start the server on a free port with ``--device`` (or ``--demo`` for None) and wait."""
    port = free_port()
    argv = [sys.executable, "api_server.py", str(port), "--data-dir", str(data_dir)]
    argv += ["--device", device] if device is not None else ["--demo"]
    argv += ["--interval", str(interval_s), "--retention", str(retention_min), *extra]
    log = workdir / f"server-{port}.log"
    with log.open("wb") as out:
        process = subprocess.Popen(
            argv,
            cwd=ROOT,
            env=_env(),
            stdout=out,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            start_new_session=True,
        )
    if max_open_files is not None:  # before it opens anything: it is still importing
        resource.prlimit(process.pid, resource.RLIMIT_NOFILE, (max_open_files, max_open_files))
    server = Server(process, port, data_dir, log)
    if wait:
        try:
            server.wait_ready()
        except BaseException:
            server.kill_group()
            raise
    return server
