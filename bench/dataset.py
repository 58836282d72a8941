"""The benchmark data set: days of 1 Hz bench-session samples, ending now, prepared once.

The samples come from the emulator's ``BenchSession`` (the same signal the virtual meter
serves). They are written as a CSV in this server's export format, imported into a data
directory with the real ``tc66c-server import`` command (so the import path is exercised as
a user would), and the same CSV preloads the baseline. Everything lives in one temporary
directory per run and is built once, whichever suites ask for it.
"""

from __future__ import annotations

import atexit
import csv
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from tc66c_server import quantities as q
from tc66c_server.emulator import BenchSession
from tc66c_server.reading import Sample
from tc66c_server.timefmt import iso_many

ROOT = Path(__file__).resolve().parent.parent
FULL_DAYS = 7
QUICK_DAYS = 1
#: Our ``format=csv`` export with ``fields=all``: timestamp then every quantity.
CSV_HEADER = ("timestamp", *(quantity.key for quantity in q.ALL))


@dataclass(frozen=True)
class Dataset:
    """A prepared data set: its CSV, a data directory holding it, and how it was built."""

    days: int
    count: int
    end_ts: float
    csv_path: Path
    data_dir: Path
    generate_s: float
    import_s: float

    @property
    def store_file(self) -> Path:
        """The SQLite file the server opens for a real (non-demo) meter."""
        return self.data_dir / "samples.sqlite3"

    def copy_data_dir(self, name: str) -> Path:
        """A private copy of the data directory (for a server that will write to it)."""
        target = self.data_dir.parent / name
        if target.exists():
            shutil.rmtree(target)
        shutil.copytree(self.data_dir, target)
        return target


def bench_samples(count: int, end_ts: float, interval_s: float = 1.0) -> Iterator[Sample]:
    """``count`` samples of the bench session, ``interval_s`` apart, the last at ``end_ts``."""
    session = BenchSession(seed=1)
    start = end_ts - (count - 1) * interval_s
    for n in range(count):
        yield Sample(start + n * interval_s, session.reading_at(n * interval_s))


def write_csv(path: Path, samples: Iterator[Sample], chunk: int = 50_000) -> int:
    """Write samples as our CSV export (all fields); return how many rows were written."""
    written = 0
    keys = CSV_HEADER[1:]
    with path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle, lineterminator="\n")
        writer.writerow(CSV_HEADER)
        while True:
            batch = [s for _, s in zip(range(chunk), samples, strict=False)]
            if not batch:
                break
            stamps = iso_many([s.ts for s in batch])
            writer.writerows(
                (stamp, *(getattr(s.reading, key) for key in keys))
                for stamp, s in zip(stamps, batch, strict=True)
            )
            written += len(batch)
    return written


def import_csv(csv_path: Path, data_dir: Path) -> None:
    """Run ``python -m tc66c_server import --data-dir DIR FILE`` (the user's command)."""
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "tc66c_server",
            "import",
            "--data-dir",
            str(data_dir),
            str(csv_path),
        ],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=False,
    )
    if result.returncode != 0:
        raise RuntimeError(f"import failed ({result.returncode}): {result.stderr[-2000:]}")


_cache: dict[int, Dataset] = {}


def prepared(quick: bool) -> Dataset:
    """The run's data set (7 days, or 1 day in quick mode), built on first use."""
    days = QUICK_DAYS if quick else FULL_DAYS
    if days in _cache:
        return _cache[days]
    tmp = Path(tempfile.mkdtemp(prefix="tc66c-bench-"))
    atexit.register(shutil.rmtree, tmp, True)
    count = days * 86_400
    end_ts = time.time()
    print(f"   preparing {count:,} samples ({days} d at 1 Hz)...", flush=True)
    started = time.perf_counter()
    csv_path = tmp / "week.csv"
    write_csv(csv_path, bench_samples(count, end_ts))
    generated = time.perf_counter()
    data_dir = tmp / "data"
    import_csv(csv_path, data_dir)
    imported = time.perf_counter()
    dataset = Dataset(
        days=days,
        count=count,
        end_ts=end_ts,
        csv_path=csv_path,
        data_dir=data_dir,
        generate_s=generated - started,
        import_s=imported - generated,
    )
    print(
        f"   generated in {dataset.generate_s:.1f} s, imported in {dataset.import_s:.1f} s",
        flush=True,
    )
    _cache[days] = dataset
    return dataset
