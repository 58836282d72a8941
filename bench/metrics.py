"""``GET /metrics`` with eight meters at 10 Hz and four pairs: Prometheus scrape latency.

One server polls eight emulator processes (the meter's 90 ms replies) at 10 Hz, with the
meters paired two by two; after 20 s of samples (so each pair has data for its last-minute
efficiency), ``/metrics`` is timed on one kept-alive connection, alternating with
``/api/meters`` (the same bench as JSON) as the reference. The exposition is also rendered
in-process from a snapshot, to show what the formatting alone costs.
"""

from __future__ import annotations

import contextlib
import json
import tempfile
import time
from pathlib import Path

from tc66c_server.emulator.signal import BenchSession
from tc66c_server.energy import EnergyTotals
from tc66c_server.exporters.prometheus import MeterView, PairView, render
from tc66c_server.poll_durations import PollDurations
from tc66c_server.poller import Counters, LinkState
from tc66c_server.reading import Sample

from . import procs
from .client import KeepAlive
from .common import Figure, per_call_s, percentiles_ms

SECTION = "Prometheus /metrics (issue: into the ecosystem)"
METHODS = {
    SECTION: (
        "Eight emulator processes (90 ms replies) and one server with eight "
        "`--device mN=LINK` at `--interval 0.1`, meters paired two by two through "
        "`POST /api/pairs`; after the meters answer, 20 s of samples (5 s in quick mode). "
        "Then `GET /metrics` and `GET /api/meters` alternate on one kept-alive `http.client` "
        "connection (after 5 warm-up requests) until the time budget is spent; times run from "
        "sending the request to the last byte. The p99 includes the pairs' refresh (their "
        "last minute from the store, at most every 5 s). The render figure is "
        "`exporters.prometheus.render` alone on a snapshot of the same size, in-process."
    )
}
METERS = 8
INTERVAL_S = 0.1
TARGET_MS = 2.0


def _wait_samples(client: KeepAlive, ids: list[str], timeout_s: float = 60.0) -> None:
    deadline = time.monotonic() + timeout_s
    for meter_id in ids:
        while client.get(f"/api/meters/{meter_id}/data/latest")[0] != 200:
            if time.monotonic() > deadline:
                raise RuntimeError(f"no sample from {meter_id} after {timeout_s} s")
            time.sleep(0.1)


def _render_ms() -> float:
    """Milliseconds to render the exposition of 8 live meters and 4 pairs, in-process."""
    now = time.time()
    durations = PollDurations()
    for i in range(1000):
        durations = durations.observe(0.09 + (i % 7) / 1000)
    meters = []
    for i in range(METERS):
        reading = BenchSession(i + 1).reading_at(100.0)
        meters.append(
            MeterView(
                id=f"m{i + 1}",
                port=f"/dev/tc66c-{i}",
                demo=False,
                polling_interval_s=INTERVAL_S,
                gap_s=2.0,
                state=LinkState(True, "/dev/x", product="TC66", firmware="1.14", serial=i),
                latest=Sample(now, reading),
                counters=Counters(polls=1000, samples=990, timeouts=5, bad_packets=5),
                durations=durations,
                totals=EnergyTotals(1234.5, 456.7),
            )
        )
    pairs = [PairView(f"m{i}-m{i + 1}", f"m{i}", f"m{i + 1}", 0.9, 0.1) for i in range(1, 9, 2)]
    return per_call_s(lambda: render(meters, pairs, now=now, version="0", started_at=now)) * 1000


def run(quick: bool = False) -> list[Figure]:
    settle_s, budget_s, min_n, max_n = (5.0, 2.0, 30, 200) if quick else (20.0, 8.0, 200, 2000)
    ids = [f"m{i + 1}" for i in range(METERS)]
    with (
        tempfile.TemporaryDirectory(prefix="tc66c-bench-metrics-") as tmp,
        contextlib.ExitStack() as stack,
    ):
        root = Path(tmp)
        for meter_id in ids:
            emulator = procs.start_emulator(root / f"tty-{meter_id}", log_dir=root)
            stack.callback(emulator.stop)
        devices = [f"{m}={root / f'tty-{m}'}" for m in ids]
        server = procs.start_ours(
            root / "data", devices[0], interval_s=INTERVAL_S, log_dir=root, more=devices
        )
        stack.callback(server.stop)
        server.wait_ready()
        client = KeepAlive(server.port)
        stack.callback(client.close)
        for a, b in zip(ids[::2], ids[1::2], strict=True):
            status, body = client.request(
                "POST", "/api/pairs", json.dumps({"input": a, "output": b}).encode()
            )
            if status != 201:
                raise RuntimeError(f"POST /api/pairs: {status} {body[:200]!r}")
        _wait_samples(client, ids)
        time.sleep(settle_s)
        for _ in range(5):
            client.timed("/metrics")
            client.timed("/api/meters")
        mine: list[float] = []
        reference: list[float] = []
        deadline = time.monotonic() + budget_s
        while len(mine) < max_n and (len(mine) < min_n or time.monotonic() < deadline):
            mine.append(client.timed("/metrics"))
            reference.append(client.timed("/api/meters"))
        body = client.get("/metrics")[1].decode()
    series = sum(1 for line in body.splitlines() if line and not line.startswith("#"))
    pairs = sum(1 for line in body.splitlines() if line.startswith("tc66c_pair_efficiency_ratio"))
    p50, p99 = percentiles_ms(mine)
    r50, r99 = percentiles_ms(reference)
    render_ms = _render_ms()
    print(f"   /metrics p50 {p50:.3f} ms p99 {p99:.3f} ms; /api/meters p50 {r50:.3f} ms")
    print(f"   render alone {render_ms:.3f} ms; {series} series, {pairs} pair efficiencies")
    note = (
        f"{len(mine)} requests; {series} series, {len(body):,} bytes; {pairs} of 4 pairs measured"
    )
    return [
        Figure(
            SECTION,
            f"GET /metrics p50, {METERS} meters at 10 Hz, 4 pairs",
            p50,
            "ms",
            baseline=r50,
            baseline_label="GET /api/meters, same bench",
            target=f"p50 ≤ {TARGET_MS:g} ms",
            met=p50 <= TARGET_MS,
            note=note,
        ),
        Figure(
            SECTION,
            f"GET /metrics p99, {METERS} meters at 10 Hz, 4 pairs",
            p99,
            "ms",
            baseline=r99,
            baseline_label="GET /api/meters, same bench",
            note="includes the pairs' refresh from the store every 5 s",
        ),
        Figure(
            SECTION,
            f"render the exposition in-process, {METERS} meters and 4 pairs",
            render_ms,
            "ms",
            note="exporters.prometheus.render on a snapshot, no HTTP",
        ),
    ]
