"""Bytes on disk per sample, checked on the emulator's bench session.

Run as a script for the measurements behind the store's design (size, timings, memory):
``python -m tests.test_store_size [--days 7]``. The test itself asserts no timings.
"""

from __future__ import annotations

import argparse
import resource
import sqlite3
import tempfile
import time
from collections.abc import Callable, Iterator
from pathlib import Path

from tc66c_server.emulator.signal import BenchSession
from tc66c_server.reading import Sample
from tc66c_server.store import SampleStore

from .storehelpers import T0

MAX_BYTES_PER_SAMPLE = 12


def bench_samples(count: int, interval_s: float = 1.0) -> Iterator[Sample]:
    """``count`` samples of the emulator's bench session (V 5-20 V, loads, noise)."""
    session = BenchSession(seed=1)
    for k in range(count):
        yield Sample(T0 + k * interval_s, session.reading_at(k * interval_s))


def fill(path: Path, count: int) -> tuple[float, float]:
    """Store ``count`` bench samples in a new file; return the seconds add_many took in all
    and the part of them spent making the samples."""
    making = 0.0

    def timed(samples: Iterator[Sample]) -> Iterator[Sample]:
        nonlocal making
        while True:
            started = time.perf_counter()
            item = next(samples, None)
            making += time.perf_counter() - started
            if item is None:
                return
            yield item

    with SampleStore(path) as store:
        started = time.perf_counter()
        store.add_many(timed(bench_samples(count)))
        return time.perf_counter() - started, making


def bytes_per_sample(path: Path, count: int) -> float:
    """File size (database plus any WAL) over the number of samples."""
    files = [path, path.with_name(path.name + "-wal")]
    return sum(f.stat().st_size for f in files if f.exists()) / count


def test_a_sample_takes_at_most_12_bytes_on_disk(tmp_path: Path) -> None:
    path = tmp_path / "samples.sqlite3"
    fill(path, 100_000)
    assert bytes_per_sample(path, 100_000) <= MAX_BYTES_PER_SAMPLE


def _median_ms(action: Callable[[], object], runs: int = 30) -> float:
    action()
    times = []
    for _ in range(runs):
        started = time.perf_counter()
        action()
        times.append(time.perf_counter() - started)
    return sorted(times)[runs // 2] * 1000


def main() -> None:
    """Print the store's size, speed and memory on ``--days`` of 1 Hz bench samples."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--days", type=float, default=7.0)
    count = round(parser.parse_args().days * 86_400)
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "samples.sqlite3"
        seconds, making = fill(path, count)
        stored = seconds - making
        print(
            f"add_many: {count} samples in {seconds:.2f} s, of which {making:.2f} s making them"
            f" with the emulator: the store took {stored:.2f} s ({count / stored:,.0f}/s)"
        )
        print(f"on disk: {bytes_per_sample(path, count):.2f} bytes/sample")
        conn = sqlite3.connect(path)
        for name, size in conn.execute("SELECT name, SUM(pgsize) FROM dbstat GROUP BY name"):
            print(f"  {name}: {size / count:.2f} bytes/sample")
        conn.close()
        end = T0 + count - 1
        print(f"RSS after the bulk load: {_rss_mb():.0f} MB")
        with SampleStore(path) as store:
            extras = ["resistance", "temperature", "d_plus", "d_minus"]
            for label, action in {
                "stats, 24 h (86,400 samples)": lambda: store.stats(end - 86_400, end, 5.0),
                "stats, 24 h, edges mid-minute": lambda: store.stats(
                    end - 86_400.5, end - 0.5, 5.0
                ),
                "range, 1 h (3,600 samples)": lambda: store.range(end - 3600, end),
                "range, 1 h, 4 more fields": lambda: store.range(end - 3600, end, extras),
                "buckets, 1 h, 1000 points": lambda: store.buckets(end - 3600, end, 1000),
                "buckets, 24 h, 1000 points": lambda: store.buckets(end - 86_400, end, 1000),
                "buckets, 7 d, 1000 points": lambda: store.buckets(end - 7 * 86_400, end, 1000),
                "summary": store.summary,
                "latest": store.latest,
            }.items():
                print(f"{label}: {_median_ms(action):.2f} ms")
            print(f"RSS after these queries: {_rss_mb():.0f} MB")
        peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        print(f"peak RSS of this process (bulk load included): {peak_mb:.0f} MB")


def _rss_mb() -> float:
    with open("/proc/self/status", encoding="ascii") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return float("nan")


if __name__ == "__main__":
    main()
