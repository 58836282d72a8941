"""API latency over a week of 1 Hz samples: ours against the baseline, request by request.

Both servers run as real processes on loopback with the same samples: ours imported with
``tc66c-server import``, the baseline preloaded from the same CSV. One kept-alive
``http.client`` connection per server; requests alternate ours / baseline so that noise on
the shared machine falls on both alike. Each endpoint gets a few warm-up requests, then as
many pairs as fit in its time budget (within a minimum and a maximum count).
"""

from __future__ import annotations

import contextlib
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

from . import procs
from .client import KeepAlive
from .common import Figure, percentiles_ms
from .dataset import prepared

SECTION = "API latency, 1 Hz samples over 7 days (issue: Performance)"
METHODS = {
    SECTION: (
        "7 days of 1 Hz samples (604,800, from the emulator's bench session, ending when the "
        "run starts) are written as a CSV in our export format and imported with "
        "`tc66c-server import`; the baseline preloads the same CSV into its list. Both run "
        "as real processes on loopback (ours: `api_server.py` with an absent meter and a "
        "week's retention). One kept-alive `http.client` connection per server; after two "
        "warm-up requests, requests alternate ours / baseline until the endpoint's time "
        "budget is spent (at least 15, at most 300 each). Times run from sending the request "
        "to the last byte of the body. The seed has no `max_points`: the baseline ignores it "
        "and returns every point of the window, which is what a client of the seed gets "
        "when it asks for a chart's worth of a day (ours returns min/max buckets)."
    )
}
ABSENT_DEVICE = "/dev/tc66c-bench-absent"
WARMUP = 2


@dataclass(frozen=True)
class Endpoint:
    """A request to time and the target its p50 is held to (None: reported only)."""

    path: str
    target_ms: float | None = None
    min_ratio: float | None = None

    @property
    def target(self) -> str:
        parts = []
        if self.target_ms is not None:
            parts.append(f"p50 ≤ {self.target_ms:g} ms")
        if self.min_ratio is not None:
            parts.append(f"≥ {self.min_ratio:g}x faster than baseline")
        return ", ".join(parts)


ENDPOINTS = (
    Endpoint("/api/data/10m"),
    Endpoint("/api/data/1h", target_ms=10),
    Endpoint("/api/data/24h", min_ratio=10),
    Endpoint("/api/data/10m?max_points=1000"),
    Endpoint("/api/data/1h?max_points=1000"),
    Endpoint("/api/data/24h?max_points=1000", min_ratio=10),
    Endpoint("/api/stats/1h"),
    Endpoint("/api/stats/24h", target_ms=5, min_ratio=10),
    Endpoint("/api/stats/7d"),
)


def _timings(
    ours: KeepAlive, base: KeepAlive, path: str, budget_s: float, min_n: int, max_n: int
) -> tuple[list[float], list[float]]:
    """Alternating ours/baseline timings of ``GET path`` within the budget."""
    for _ in range(WARMUP):
        ours.timed(path)
        base.timed(path)
    mine: list[float] = []
    theirs: list[float] = []
    deadline = time.monotonic() + budget_s
    while len(mine) < max_n and (len(mine) < min_n or time.monotonic() < deadline):
        # Alternate who goes first too, so neither always runs right after the other.
        if len(mine) % 2:
            theirs.append(base.timed(path))
            mine.append(ours.timed(path))
        else:
            mine.append(ours.timed(path))
            theirs.append(base.timed(path))
    return mine, theirs


def _figures(
    endpoint: Endpoint, mine: list[float], theirs: list[float], points: int
) -> list[Figure]:
    o50, o99 = percentiles_ms(mine)
    b50, b99 = percentiles_ms(theirs)
    met: bool | None = None
    if endpoint.target_ms is not None or endpoint.min_ratio is not None:
        met = (endpoint.target_ms is None or o50 <= endpoint.target_ms) and (
            endpoint.min_ratio is None or b50 / o50 >= endpoint.min_ratio
        )
    note = f"{len(mine)} requests each; {points:,} points in our answer"
    if "max_points" in endpoint.path:
        note += " (the baseline has no max_points and sends every point)"
    return [
        Figure(
            SECTION,
            f"GET {endpoint.path} p50",
            o50,
            "ms",
            baseline=b50,
            baseline_label="naive Flask",
            target=endpoint.target,
            met=met,
            note=note,
        ),
        Figure(
            SECTION,
            f"GET {endpoint.path} p99",
            o99,
            "ms",
            baseline=b99,
            baseline_label="naive Flask",
            note="",
        ),
    ]


def run(quick: bool = False) -> list[Figure]:
    """Start both servers on the prepared week and time every endpoint."""
    data = prepared(quick)
    budget_s, min_n, max_n = (1.0, 5, 40) if quick else (7.0, 15, 300)
    figures: list[Figure] = []
    with (
        tempfile.TemporaryDirectory(prefix="tc66c-bench-api-") as tmp,
        contextlib.ExitStack() as stack,
    ):
        logs = Path(tmp)
        ours_proc = procs.start_ours(data.data_dir, ABSENT_DEVICE, log_dir=logs)
        stack.callback(ours_proc.stop)
        base_proc = procs.start_baseline(ABSENT_DEVICE, preload=data.csv_path, log_dir=logs)
        stack.callback(base_proc.stop)
        ours_proc.wait_ready()
        base_proc.wait_ready()
        ours, base = KeepAlive(ours_proc.port), KeepAlive(base_proc.port)
        stack.callback(ours.close)
        stack.callback(base.close)
        for endpoint in ENDPOINTS:
            mine, theirs = _timings(ours, base, endpoint.path, budget_s, min_n, max_n)
            answer = ours.json(endpoint.path)
            points = int(answer.get("count", answer.get("sample_count", 0)))
            figures.extend(_figures(endpoint, mine, theirs, points))
            o50 = figures[-2].ours
            print(f"   {endpoint.path}: ours {o50:.2f} ms, baseline {figures[-2].baseline:.2f} ms")
    return figures
