"""Throughput of ``/api/data/latest`` under 50 clients, and our poll cadence meanwhile.

Both servers poll their own emulator process (90 ms replies, like a meter) every 0.1 s and
start empty, so the load measures the HTTP path, not the data volume. The load is bounded
in time and goes to 127.0.0.1 only. While ours is loaded, its sample timestamps give the
cadence: each interval between consecutive samples minus the 0.1 s it should be.
"""

from __future__ import annotations

import contextlib
import itertools
import tempfile
import time
from datetime import datetime
from pathlib import Path
from typing import Any

from . import procs
from .client import KeepAlive, load
from .common import Figure, percentiles_ms

THROUGHPUT = "Throughput, 50 concurrent clients (issue: Performance)"
CADENCE = "Acquisition cadence under load (issue: Performance)"
METHODS = {
    THROUGHPUT: (
        "`wrk -t1 -c50` (Debian's `wrk`; a pool of 50 Python keep-alive clients when it is "
        "absent) sends `GET /api/data/latest` to each server in turn for the same duration "
        "on loopback. Both servers are real processes polling their own emulator process at "
        "10 Hz, so they answer with fresh samples while loaded. Requests/s count 200 answers "
        "only. The machine has 2 cores shared by the load generator, the server and the "
        "emulator, so absolute numbers are low; the ratio is the figure."
    ),
    CADENCE: (
        "Our server polls the emulator (90 ms reply delay) every 0.1 s. Its samples' "
        "timestamps (read back from `/api/data/2m`) are split into a quiet window and the "
        "window of the 50-client load above; the interval error is each gap between "
        "consecutive samples minus 0.1 s, whose p99 of the absolute value is reported. Missed "
        "polls are the change of `counters.missed_slots` in `/api/status` over the load."
    ),
}
INTERVAL_S = 0.1
CLIENTS = 50
PATH = "/api/data/latest"


def _wait_for_samples(client: KeepAlive, timeout_s: float = 30.0) -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        status, _ = client.get(PATH)
        if status == 200:
            return
        time.sleep(0.1)
    raise RuntimeError(f"no sample on port {client.port} after {timeout_s} s")


def _stamps(points: list[dict[str, Any]]) -> list[float]:
    return [datetime.fromisoformat(p["timestamp"]).timestamp() for p in points]


def _interval_errors(stamps: list[float], start: float, end: float) -> list[float]:
    """|gap - interval| in seconds for consecutive samples inside [start, end]."""
    inside = [ts for ts in stamps if start <= ts <= end]
    return [abs(b - a - INTERVAL_S) for a, b in itertools.pairwise(inside)]


def _missed(client: KeepAlive) -> int:
    missed: int = client.json("/api/status")["counters"]["missed_slots"]
    return missed


def run(quick: bool = False) -> list[Figure]:
    """Load each server in turn; read our cadence before and during our load."""
    quiet_s, load_s = (3.0, 3.0) if quick else (6.0, 10.0)
    with (
        tempfile.TemporaryDirectory(prefix="tc66c-bench-load-") as tmp,
        contextlib.ExitStack() as stack,
    ):
        root = Path(tmp)
        for name in ("ours", "base"):
            emulator = procs.start_emulator(root / f"tty-{name}", log_dir=root)
            stack.callback(emulator.stop)
        ours_proc = procs.start_ours(
            root / "data",
            str(root / "tty-ours"),
            interval_s=INTERVAL_S,
            retention_min=10,
            log_dir=root,
        )
        stack.callback(ours_proc.stop)
        base_proc = procs.start_baseline(
            str(root / "tty-base"), interval_s=INTERVAL_S, retention_min=10, log_dir=root
        )
        stack.callback(base_proc.stop)
        ours_proc.wait_ready()
        base_proc.wait_ready()
        ours, base = KeepAlive(ours_proc.port), KeepAlive(base_proc.port)
        stack.callback(ours.close)
        stack.callback(base.close)
        _wait_for_samples(ours)
        _wait_for_samples(base)

        quiet_start = time.time()
        time.sleep(quiet_s)
        quiet_end = time.time()
        missed_before = _missed(ours)
        load_start = time.time()
        mine = load(ours_proc.port, PATH, CLIENTS, load_s)
        load_end = time.time()
        missed_after = _missed(ours)
        theirs = load(base_proc.port, PATH, CLIENTS, load_s)
        stamps = _stamps(ours.json("/api/data/2m")["data"])

    ratio = mine.rate / theirs.rate if theirs.rate else float("inf")
    print(f"   ours {mine.rate:,.0f} req/s, baseline {theirs.rate:,.0f} req/s")
    figures = [
        Figure(
            THROUGHPUT,
            f"GET {PATH}, {CLIENTS} clients (requests/s)",
            mine.rate,
            "req/s",
            baseline=theirs.rate,
            baseline_label="naive Flask, threaded",
            higher_is_better=True,
            target="≥ 5x the baseline",
            met=ratio >= 5,
            note=(
                f"{mine.tool}, {load_s:g} s each; errors: ours {mine.errors}, "
                f"baseline {theirs.errors}"
            ),
        )
    ]
    quiet = _interval_errors(stamps, quiet_start, quiet_end)
    loaded = _interval_errors(stamps, load_start, load_end)
    _, quiet_p99 = percentiles_ms(quiet or [0.0])
    _, loaded_p99 = percentiles_ms(loaded or [0.0])
    missed = missed_after - missed_before
    figures.append(
        Figure(
            CADENCE,
            "interval error p99 at 10 Hz under the 50-client load",
            loaded_p99,
            "ms",
            target="≤ 10 ms",
            met=bool(loaded) and loaded_p99 <= 10,
            note=(
                f"{len(loaded)} intervals under load; without load p99 {quiet_p99:.2f} ms "
                f"({len(quiet)} intervals)"
            ),
        )
    )
    figures.append(
        Figure(
            CADENCE,
            "missed polls at 10 Hz under the 50-client load",
            float(missed),
            "polls",
            target="0",
            met=missed == 0,
            note=f"counters.missed_slots before {missed_before}, after {missed_after}",
        )
    )
    return figures
