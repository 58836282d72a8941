"""Start-up: from launching the process to the first answered request, with a week stored.

Ours opens its store (the week imported for the latency section); the baseline has no
storage of its own, so it loads the same week from the CSV, as its preload function does.
"""

from __future__ import annotations

import statistics
import tempfile
from pathlib import Path

from . import procs
from .common import Figure
from .dataset import prepared

SECTION = "Start-up with 7 days of samples (issue: Performance)"
METHODS = {
    SECTION: (
        "Wall time from `subprocess.Popen` to the first 200 answer of `/api/data/latest` "
        "(polled every 10 ms), median of several starts. Ours opens the week's store with "
        "an absent meter; the baseline, which keeps nothing on disk, loads the same week "
        "from the CSV export before it listens."
    )
}
ABSENT_DEVICE = "/dev/tc66c-bench-absent"
PATH = "/api/data/latest"


def _started(proc: procs.Proc) -> float:
    try:
        return proc.wait_ready(PATH)
    finally:
        proc.stop()


def run(quick: bool = False) -> list[Figure]:
    """Median start-up times of both servers over a few starts each."""
    data = prepared(quick)
    starts = 1 if quick else 3
    ours: list[float] = []
    base: list[float] = []
    with tempfile.TemporaryDirectory(prefix="tc66c-bench-start-") as tmp:
        logs = Path(tmp)
        for _ in range(starts):
            ours.append(_started(procs.start_ours(data.data_dir, ABSENT_DEVICE, log_dir=logs)))
            base.append(
                _started(procs.start_baseline(ABSENT_DEVICE, preload=data.csv_path, log_dir=logs))
            )
    mine, theirs = statistics.median(ours), statistics.median(base)
    print(f"   ours {mine:.2f} s, baseline {theirs:.2f} s")
    return [
        Figure(
            SECTION,
            "process start to first answered request",
            mine,
            "s",
            baseline=theirs,
            baseline_label="naive Flask loading the CSV",
            note=f"{data.days} d, {data.count:,} samples; median of {starts} starts",
        )
    ]
