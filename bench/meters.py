"""Eight meters at 10 Hz in one server: missed slots, cadence error per meter, CPU per sample.

The baseline is what users of the peers do today: one server process per meter (rd-usb's
"multiple instances"), here eight of our own single-meter servers run the same way. Each
meter is an emulator process with the meter's 90 ms reply delay.
"""

from __future__ import annotations

import contextlib
import itertools
import tempfile
import time
from datetime import datetime
from pathlib import Path

from . import procs
from .client import KeepAlive
from .common import Figure, percentiles_ms

SECTION = "Several meters (issue: several meters, pairs and a year of history)"
METHODS = {
    SECTION: (
        "Eight emulator processes (90 ms replies, 64-byte USB chunks) and one server with "
        "eight `--device mN=LINK` at `--interval 0.1`, data in a fresh directory. After the "
        "meters answer and a second of settling, the window starts: missed slots are the "
        "change of each meter's `counters.missed_slots` (`/api/meters`), the cadence error "
        "is |interval between consecutive samples − 0.1 s| over each meter's samples of the "
        "window (`/api/meters/{id}/data/...`), and the CPU time of the server's whole "
        "process tree (utime + stime of every process in it, `/proc`) is divided by the "
        "samples of every meter. The baseline runs eight single-meter servers of ours, one "
        "per emulator, the same way, and adds their CPU times."
    )
}
METERS = 8
INTERVAL_S = 0.1
CPU_TARGET_MS = 0.5
CADENCE_TARGET_MS = 10.0


def _stamps(client: KeepAlive, path: str, start: float, end: float) -> list[float]:
    points = client.json(path)["data"]
    stamps = [datetime.fromisoformat(p["timestamp"]).timestamp() for p in points]
    return [ts for ts in stamps if start <= ts <= end]


def _errors(stamps: list[float]) -> list[float]:
    return [abs(b - a - INTERVAL_S) for a, b in itertools.pairwise(stamps)]


def _wait(client: KeepAlive, paths: list[str], timeout_s: float = 60.0) -> None:
    deadline = time.monotonic() + timeout_s
    for path in paths:
        while client.get(path)[0] != 200:
            if time.monotonic() > deadline:
                raise RuntimeError(f"no sample at {path} after {timeout_s} s")
            time.sleep(0.1)


def _window_path(prefix: str, window_s: float) -> str:
    return f"{prefix}/data/{int(window_s) + 30}s"


def _one_server(root: Path, window_s: float) -> tuple[float, int, list[int], list[float]]:
    """(cpu ms/sample, samples, missed slots per meter, cadence errors of every meter)."""
    ids = [f"m{i + 1}" for i in range(METERS)]
    with contextlib.ExitStack() as stack:
        for meter_id in ids:
            emulator = procs.start_emulator(root / f"tty-{meter_id}", log_dir=root)
            stack.callback(emulator.stop)
        devices = [f"{meter_id}={root / f'tty-{meter_id}'}" for meter_id in ids]
        server = procs.start_ours(
            root / "one-server", devices[0], interval_s=INTERVAL_S, log_dir=root, more=devices
        )
        stack.callback(server.stop)
        server.wait_ready()
        client = KeepAlive(server.port)
        stack.callback(client.close)
        _wait(client, [f"/api/meters/{m}/data/latest" for m in ids])
        time.sleep(1.0)
        missed0 = {
            m["id"]: m["counters"]["missed_slots"] for m in client.json("/api/meters")["meters"]
        }
        cpu0, start = procs.cpu_seconds(server.pid), time.time()
        time.sleep(window_s)
        cpu1, end = procs.cpu_seconds(server.pid), time.time()
        meters = client.json("/api/meters")["meters"]
        missed = [m["counters"]["missed_slots"] - missed0[m["id"]] for m in meters]
        time.sleep(1.2)  # the store commits once a second
        errors: list[float] = []
        samples = 0
        for meter_id in ids:
            stamps = _stamps(client, _window_path(f"/api/meters/{meter_id}", window_s), start, end)
            samples += len(stamps)
            errors.extend(_errors(stamps))
    return (cpu1 - cpu0) * 1000 / max(samples, 1), samples, missed, errors


def _many_servers(root: Path, window_s: float) -> tuple[float, int]:
    """(cpu ms/sample, samples) of eight single-meter servers."""
    with contextlib.ExitStack() as stack:
        servers = []
        for i in range(METERS):
            link = root / f"tty-base-{i}"
            emulator = procs.start_emulator(link, log_dir=root)
            stack.callback(emulator.stop)
            server = procs.start_ours(
                root / f"base-{i}", str(link), interval_s=INTERVAL_S, log_dir=root
            )
            stack.callback(server.stop)
            servers.append(server)
        clients = []
        for server in servers:
            server.wait_ready()
            client = KeepAlive(server.port)
            stack.callback(client.close)
            _wait(client, ["/api/data/latest"])
            clients.append(client)
        time.sleep(1.0)
        cpu0, start = sum(procs.cpu_seconds(s.pid) for s in servers), time.time()
        time.sleep(window_s)
        cpu1, end = sum(procs.cpu_seconds(s.pid) for s in servers), time.time()
        time.sleep(1.2)
        samples = sum(len(_stamps(c, _window_path("/api", window_s), start, end)) for c in clients)
    return (cpu1 - cpu0) * 1000 / max(samples, 1), samples


def run(quick: bool = False) -> list[Figure]:
    window_s = 20.0 if quick else 300.0
    with tempfile.TemporaryDirectory(prefix="tc66c-bench-meters-") as tmp:
        root = Path(tmp)
        ours_ms, ours_n, missed, errors = _one_server(root, window_s)
        base_ms, base_n = _many_servers(root, min(window_s, 60.0))
    _, p99 = percentiles_ms(errors or [0.0])
    print(f"   one server: {ours_ms:.3f} ms/sample ({ours_n}), missed {missed}, p99 {p99:.2f} ms")
    print(f"   {METERS} servers: {base_ms:.3f} ms/sample ({base_n})")
    return [
        Figure(
            SECTION,
            f"missed slots, {METERS} meters at 10 Hz in one server ({window_s:g} s)",
            float(sum(missed)),
            "slots",
            target="0",
            met=sum(missed) == 0,
            note="per meter: " + ", ".join(str(m) for m in missed),
        ),
        Figure(
            SECTION,
            f"cadence error p99, {METERS} meters at 10 Hz",
            p99,
            "ms",
            target=f"≤ {CADENCE_TARGET_MS:g} ms",
            met=p99 <= CADENCE_TARGET_MS,
            note=f"{len(errors):,} intervals over every meter",
        ),
        Figure(
            SECTION,
            f"server CPU time per sample, {METERS} meters at 10 Hz",
            ours_ms,
            "ms",
            baseline=base_ms,
            baseline_label=f"{METERS} single-meter servers",
            target=f"≤ {CPU_TARGET_MS} ms",
            met=ours_ms <= CPU_TARGET_MS,
            note=f"samples: one server {ours_n:,}, {METERS} servers {base_n:,}; whole process "
            "trees (pollers included)",
        ),
    ]
