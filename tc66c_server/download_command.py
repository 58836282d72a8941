"""``tc66c-server download-recording``: the meter's own offline recording as a recording.

Opens the meter's port (while no server polls it), sends ``gtrec``, places the records in
time from the interval set on the meter and the time of the last record (``--end``, default
now; ``recordings/gtrec.py``), stores the samples (a sample at a time already stored is
kept) and adds a finished recording marked imported, which the server then lists.
"""

from __future__ import annotations

import argparse
import sqlite3
import sys
import time
from pathlib import Path

from . import config as cfg
from .bench_config import DEFAULT_METER_ID
from .errors import MeterError
from .recordings.bench import accumulate
from .recordings.db import FILE_NAME, RecordingDb
from .recordings.gtrec import (
    MAX_INTERVAL_S,
    MIN_INTERVAL_S,
    GtrecError,
    check_interval,
    imported_samples,
)
from .recordings.reasons import EndReason
from .store import SampleStore
from .timefmt import iso, parse_iso
from .transport import SerialMeter


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--device", default="auto", help="the meter's port (default auto)")
    parser.add_argument(
        "--interval",
        type=int,
        required=True,
        help=f"the recording interval set on the meter, {MIN_INTERVAL_S}-{MAX_INTERVAL_S} s",
    )
    parser.add_argument("--end", help="time of the last record (ISO 8601 or Unix s; default now)")
    parser.add_argument("--name", help="the recording's name (default: meter recording <time>)")
    parser.add_argument("--meter", default=DEFAULT_METER_ID, help="meter id to file it under")
    parser.add_argument("--data-dir", help="data directory (default as for serve)")
    parser.add_argument("--demo", action="store_true", help="store into the demo history")


def _end(text: str | None, now: float) -> float:
    if text is None:
        return now
    try:
        return float(text)
    except ValueError:
        return parse_iso(text)


def download_command(args: argparse.Namespace) -> int:
    """Download, store and file the meter's recording; the exit code."""
    if args.data_dir == ":memory:":
        print("error: cannot store into ':memory:': give a data directory", file=sys.stderr)
        return 2
    now = time.time()
    try:
        check_interval(args.interval)
    except GtrecError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    try:
        end = _end(args.end, now)
    except (ValueError, OverflowError):
        print(f"error: --end {args.end!r} is not a time", file=sys.stderr)
        return 2
    try:
        with SerialMeter(args.device) as meter:
            recording = meter.download_recording()
        placed = imported_samples(recording, args.interval, end, now=now)
    except MeterError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    except GtrecError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    if not placed.samples:
        print("error: the meter holds no recording", file=sys.stderr)
        return 1
    data_dir = Path(args.data_dir) if args.data_dir else cfg.default_data_dir()
    data_dir.mkdir(parents=True, exist_ok=True)
    name = args.name or f"meter recording {iso(placed.start_ts)[:16].replace('T', ' ')}"
    acc = accumulate(placed.samples, placed.gap_s, has_counters=False)
    acc.close(placed.end_ts, str(EndReason.IMPORTED))
    try:
        store = SampleStore(data_dir / ("demo.sqlite3" if args.demo else "samples.sqlite3"))
        try:
            merged = store.merge(placed.samples, meter=args.meter)
        finally:
            store.close()
        db = RecordingDb(data_dir / FILE_NAME)
        try:
            rid = db.create(
                name=name, meter=args.meter, start_ts=placed.start_ts, state=acc.to_state(),
                imported=True, demo=args.demo, end_ts=placed.end_ts, end_reason=acc.end_reason,
            )  # fmt: skip
        finally:
            db.close()
    except (OSError, sqlite3.Error) as exc:
        print(f"error: cannot store the recording in {data_dir}: {exc}", file=sys.stderr)
        return 1
    cut = (
        f"; {placed.trailing_bytes} bytes of a cut record dropped" if placed.trailing_bytes else ""
    )
    print(
        f"recording {rid} “{name}”: {len(placed.samples)} records every {placed.interval_s} s "
        f"({merged.stored} stored, {merged.skipped} already there), "
        f"{acc.energy_wh:.4f} Wh{cut}"
    )
    return 0
