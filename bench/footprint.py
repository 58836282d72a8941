"""Memory and disk with a week of 1 Hz samples: our process and file against the baseline.

RSS is read from ``/proc`` after the requests a dashboard makes (including
``/api/stats/7d``). Disk is the store file plus its WAL after a checkpoint, per sample; an
rd-usb-like table (one row per sample, its 17 CSV columns as REAL/TEXT) is built from the
same samples in the same run for comparison.
"""

from __future__ import annotations

import contextlib
import csv
import sqlite3
import tempfile
import time
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path

from . import procs
from .client import KeepAlive
from .common import Figure
from .dataset import Dataset, prepared

SECTION = "Memory and disk, 7 days of 1 Hz samples (issue: Performance)"
METHODS = {
    SECTION: (
        "Both servers hold the week of samples of the latency section (ours in its store "
        "with a week's retention, the baseline in its list of dicts) and answer the "
        "requests a dashboard makes: `/api/status`, `/api/data/latest`, `/api/data/1h`, "
        "`/api/data/24h?max_points=1000`, `/api/stats/24h` and `/api/stats/7d`; then "
        "the memory of the server and its child processes (our poller runs in one) is read "
        "as the sum of their proportional set sizes (`Pss` in `/proc/PID/smaps_rollup`, "
        "which counts shared library pages once; for a lone process it is close to its "
        "RSS). Disk: the imported store is checkpointed "
        "(`PRAGMA wal_checkpoint(TRUNCATE)`), then the database and WAL sizes are divided by "
        "the number of samples. For comparison, the same samples go into an rd-usb-like "
        "SQLite table: one row per sample with rd-usb's 17 CSV columns as REAL or TEXT."
    )
}
ABSENT_DEVICE = "/dev/tc66c-bench-absent"
REQUESTS = (
    "/api/status",
    "/api/data/latest",
    "/api/data/1h",
    "/api/data/24h?max_points=1000",
    "/api/stats/24h",
    "/api/stats/7d",
)
RSS_TARGET_MB = 100
DISK_TARGET_BYTES = 12
#: rd-usb's CSV columns (see docs/formats/rd-usb-csv.md) and their SQLite types.
RD_USB_COLUMNS = (
    ("time", "TEXT"),
    ("voltage", "REAL"),
    ("current", "REAL"),
    ("power", "REAL"),
    ("temperature", "REAL"),
    ("data_plus", "REAL"),
    ("data_minus", "REAL"),
    ("resistance", "REAL"),
    ("accumulated_current", "REAL"),
    ("accumulated_power", "REAL"),
    ("accumulated_time", "REAL"),
    ("run_time", "TEXT"),
    ("run_time_seconds", "REAL"),
    ("unix_time", "REAL"),
    ("zeroed_accumulated_current", "REAL"),
    ("zeroed_accumulated_power", "REAL"),
    ("zeroed_accumulated_time", "REAL"),
)


def _rss_after_requests(proc: procs.Proc) -> int:
    client = KeepAlive(proc.port)
    try:
        for path in REQUESTS:
            client.json(path)
        time.sleep(0.5)
        return procs.rss_bytes(proc.pid)
    finally:
        client.close()


def _store_bytes(data: Dataset) -> tuple[int, int]:
    """(database + WAL bytes after a checkpoint, samples) of a copy of the imported store."""
    copy = data.copy_data_dir("footprint-data")
    path = copy / "samples.sqlite3"
    conn = sqlite3.connect(path)
    try:
        conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        rows: int = conn.execute("SELECT COALESCE(SUM(n), 0) FROM days").fetchone()[0]
    finally:
        conn.close()
    size = sum(f.stat().st_size for f in copy.iterdir() if f.name.startswith(path.name))
    return size, rows


def _rd_usb_rows(csv_path: Path) -> Iterator[tuple[object, ...]]:
    """rd-usb's 17 values per sample, derived from our CSV export."""
    with csv_path.open(encoding="utf-8", newline="") as handle:
        reader = csv.DictReader(handle)
        first: dict[str, float] = {}
        for row in reader:
            moment = datetime.fromisoformat(row["timestamp"])
            unix = moment.timestamp()
            mah, mwh = float(row["group0_mah"]), float(row["group0_mwh"])
            if not first:
                first = {"ts": unix, "mah": mah, "mwh": mwh}
            run_s = round(unix - first["ts"])
            yield (
                moment.astimezone().strftime("%Y-%m-%d %H:%M:%S"),
                float(row["voltage"]),
                float(row["current"]),
                float(row["power"]),
                float(row["temperature"]),
                float(row["d_plus"]),
                float(row["d_minus"]),
                float(row["resistance"]),
                mah,
                mwh,
                None,  # the TC66C has no accumulated time
                f"{run_s // 3600:02d}:{run_s // 60 % 60:02d}:{run_s % 60:02d}",
                float(run_s),
                unix,
                mah - first["mah"],
                mwh - first["mwh"],
                None,
            )


def _rd_usb_bytes(csv_path: Path, db_path: Path) -> tuple[int, int]:
    """(file bytes, rows) of an rd-usb-like table holding the same samples."""
    conn = sqlite3.connect(db_path)
    try:
        columns = ", ".join(f"{name} {kind}" for name, kind in RD_USB_COLUMNS)
        conn.execute(f"CREATE TABLE status (id INTEGER PRIMARY KEY, {columns})")
        marks = ", ".join("?" * len(RD_USB_COLUMNS))
        names = ", ".join(name for name, _ in RD_USB_COLUMNS)
        with conn:
            conn.executemany(
                f"INSERT INTO status ({names}) VALUES ({marks})", _rd_usb_rows(csv_path)
            )
        rows: int = conn.execute("SELECT COUNT(*) FROM status").fetchone()[0]
    finally:
        conn.close()
    return db_path.stat().st_size, rows


def run(quick: bool = False) -> list[Figure]:
    """RSS of both servers holding the week, bytes per sample of our store and rd-usb's."""
    data = prepared(quick)
    with (
        tempfile.TemporaryDirectory(prefix="tc66c-bench-mem-") as tmp,
        contextlib.ExitStack() as stack,
    ):
        root = Path(tmp)
        ours = procs.start_ours(data.data_dir, ABSENT_DEVICE, log_dir=root)
        stack.callback(ours.stop)
        base = procs.start_baseline(ABSENT_DEVICE, preload=data.csv_path, log_dir=root)
        stack.callback(base.stop)
        ours.wait_ready()
        base.wait_ready()
        ours_rss = _rss_after_requests(ours)
        base_rss = _rss_after_requests(base)
        raw = KeepAlive(ours.port)
        raw.json("/api/data/24h")
        raw.close()
        ours_after_raw = procs.rss_bytes(ours.pid)
        stack.close()
        store_size, store_rows = _store_bytes(data)
        rd_size, rd_rows = _rd_usb_bytes(data.csv_path, root / "rd-usb.sqlite3")
    mb = 1_000_000
    ours_per, rd_per = store_size / store_rows, rd_size / rd_rows
    days = f"{data.days} d, {data.count:,} samples"
    print(f"   RSS ours {ours_rss / mb:.1f} MB, baseline {base_rss / mb:.1f} MB")
    print(f"   disk ours {ours_per:.1f} B/sample, rd-usb-like {rd_per:.1f} B/sample")
    return [
        Figure(
            SECTION,
            "server RSS holding the samples, after dashboard requests",
            ours_rss / mb,
            "MB",
            baseline=base_rss / mb,
            baseline_label="naive list of dicts",
            target=f"≤ {RSS_TARGET_MB} MB",
            met=ours_rss <= RSS_TARGET_MB * mb,
            note=f"{days}; ours {ours_after_raw / mb:.1f} MB after also a raw /api/data/24h",
        ),
        Figure(
            SECTION,
            "bytes on disk per sample (database + WAL after checkpoint)",
            ours_per,
            "B/sample",
            baseline=rd_per,
            baseline_label="rd-usb-like row, 17 columns",
            target=f"≤ {DISK_TARGET_BYTES} B",
            met=ours_per <= DISK_TARGET_BYTES,
            note=(
                f"ours {store_size / mb:.1f} MB for {store_rows:,} samples; "
                f"rd-usb-like {rd_size / mb:.1f} MB"
            ),
        ),
    ]
