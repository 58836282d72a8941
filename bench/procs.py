"""Real processes for the benchmarks: our server, the baseline and the emulator.

Each is started with ``subprocess`` on loopback, waited for until it answers, measured
through ``/proc`` (CPU time, resident memory) and stopped by its own process id.
"""

from __future__ import annotations

import http.client
import os
import signal
import socket
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
CLOCK_TICKS = os.sysconf("SC_CLK_TCK")
START_TIMEOUT_S = 120.0


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on right now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def process_tree(pid: int) -> list[int]:
    """``pid`` and all its descendants (our server polls in a child process)."""
    found = [pid]
    for task in Path(f"/proc/{pid}/task").glob("*"):
        try:
            children = (task / "children").read_text(encoding="ascii").split()
        except OSError:
            continue
        for child in children:
            found.extend(process_tree(int(child)))
    return found


def _own_cpu_seconds(pid: int) -> float:
    stat = Path(f"/proc/{pid}/stat").read_text(encoding="ascii")
    # The command name may hold spaces; the fields after its closing parenthesis are fixed.
    fields = stat.rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / CLOCK_TICKS


def cpu_seconds(pid: int) -> float:
    """User + system CPU time used so far by the process and its live descendants."""
    return sum(_own_cpu_seconds(p) for p in process_tree(pid))


def _own_memory(pid: int) -> int:
    # Pss (proportional set size) shares each shared page among the processes mapping it,
    # so summing it over a process tree counts the interpreter's libraries once.
    for line in Path(f"/proc/{pid}/smaps_rollup").read_text(encoding="ascii").splitlines():
        if line.startswith("Pss:"):
            return int(line.split()[1]) * 1024
    raise RuntimeError(f"no Pss for process {pid}")


def rss_bytes(pid: int) -> int:
    """Memory of the process and its descendants: their Pss summed (the RSS for one)."""
    return sum(_own_memory(p) for p in process_tree(pid))


def answers(port: int, path: str = "/api/status", timeout_s: float = 1.0) -> bool:
    """True when an HTTP server on ``port`` answers ``GET path`` (any status)."""
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout_s)
    try:
        conn.request("GET", path)
        conn.getresponse().read()
        return True
    except OSError:
        return False
    finally:
        conn.close()


@dataclass
class Proc:
    """A started process, its HTTP port (if any) and where its output goes."""

    name: str
    process: subprocess.Popen[bytes]
    port: int = 0
    log: Path | None = None
    started_at: float = field(default_factory=time.perf_counter)

    @property
    def pid(self) -> int:
        return self.process.pid

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def wait_ready(self, path: str = "/api/status", timeout_s: float = START_TIMEOUT_S) -> float:
        """Block until the server answers; return seconds since the process was started."""
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"{self.name} exited early:\n{self.output()}")
            if answers(self.port, path, timeout_s=2.0):
                return time.perf_counter() - self.started_at
            time.sleep(0.01)
        raise RuntimeError(f"{self.name} did not answer in {timeout_s} s:\n{self.output()}")

    def output(self) -> str:
        """The tail of what the process printed."""
        if self.log is None or not self.log.exists():
            return ""
        return self.log.read_text(encoding="utf-8", errors="replace")[-3000:]

    def stop(self) -> None:
        """SIGTERM, then SIGKILL after a few seconds; this process only."""
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=10)


def _spawn(name: str, argv: list[str], log: Path, port: int = 0) -> Proc:
    env = {**os.environ, "LANG": "C.UTF-8", "LC_ALL": "C.UTF-8", "PYTHONUNBUFFERED": "1"}
    for var in list(env):
        if var.startswith("TC66C_"):
            del env[var]
    with log.open("wb") as out:
        process = subprocess.Popen(
            argv, cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL
        )
    return Proc(name, process, port, log)


def start_ours(
    data_dir: Path,
    device: str,
    *,
    interval_s: float = 1.0,
    retention_min: int = 10_080,
    log_dir: Path,
    more: list[str] | None = None,
) -> Proc:
    """``python api_server.py PORT --data-dir D --device X --interval S --retention MIN``.

    With ``more``, every entry of it is a ``--device NAME=PORT`` (``device`` is then unused).
    """
    port = free_port()
    argv = [sys.executable, "api_server.py", str(port), "--data-dir", str(data_dir)]
    for entry in more or [device]:
        argv += ["--device", entry]
    argv += ["--interval", str(interval_s), "--retention", str(retention_min)]
    argv += ["--log-level", "warning"]
    return _spawn("ours", argv, log_dir / f"ours-{port}.log", port)


def start_baseline(
    device: str,
    *,
    preload: Path | None = None,
    interval_s: float = 1.0,
    retention_min: int = 10_080,
    log_dir: Path,
) -> Proc:
    """``python -m bench.baseline PORT --device X ... [--preload CSV]`` (Flask, threaded)."""
    port = free_port()
    argv = [sys.executable, "-m", "bench.baseline", str(port), "--device", device]
    argv += ["--interval", str(interval_s), "--retention", str(retention_min)]
    if preload is not None:
        argv += ["--preload", str(preload)]
    return _spawn("baseline", argv, log_dir / f"baseline-{port}.log", port)


def start_emulator(link: Path, *, delay_ms: float = 90.0, log_dir: Path) -> Proc:
    """The virtual meter in its own process, ready once its link exists."""
    argv = [sys.executable, "-m", "tc66c_server.emulator", "--link", str(link)]
    argv += ["--delay-ms", str(delay_ms)]
    if delay_ms == 0:
        argv.append("--no-chunk")
    proc = _spawn("emulator", argv, log_dir / f"emulator-{link.name}.log")
    deadline = time.monotonic() + 20
    while not link.exists():
        if proc.process.poll() is not None or time.monotonic() > deadline:
            proc.stop()
            raise RuntimeError(f"the emulator did not start:\n{proc.output()}")
        time.sleep(0.02)
    return proc
