"""History import from CSV: this server's own export and rd-usb's export format.

Parsing is pure (rows in, samples and per-line errors out); the command feeds the store.
rd-usb's columns are documented in ``docs/formats/rd-usb-csv.md``.
"""

from __future__ import annotations

import argparse
import csv
import io
import math
import sys
import time
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

from . import quantities as q
from .reading import Reading, Sample
from .timefmt import parse_iso

#: rd-usb header -> our quantity key.
RD_USB_COLUMNS = {
    "Voltage (V)": "voltage",
    "Current (A)": "current",
    "Power (W)": "power",
    "Temperature (°C)": "temperature",
    "Data+ (V)": "d_plus",
    "Data- (V)": "d_minus",
    "Resistance (Ω)": "resistance",
    "Accumulated current (mAh)": "group0_mah",
    "Accumulated power (mWh)": "group0_mwh",
}
RD_USB_TIME_FORMAT = "%Y-%m-%d %H:%M:%S"


@dataclass
class ImportResult:
    """Samples read from one file and the lines that could not be read."""

    samples: list[Sample] = field(default_factory=list)
    errors: list[tuple[int, str]] = field(default_factory=list)  # (line number, message)


def _number(text: str, key: str) -> float:
    value = float(text)
    if not math.isfinite(value) or (value < 0 and key != "temperature"):
        raise ValueError(f"{key} value {text!r} is out of range")
    return value


def _reading(values: dict[str, float]) -> Reading:
    def at_resolution(key: str) -> float:
        quantity = q.BY_KEY[key]
        return quantity.from_raw(quantity.to_raw(values.get(key, 0.0)))

    def whole(key: str) -> int:
        return round(values.get(key, 0.0))

    return Reading(
        product="TC66",
        firmware="",
        serial=0,
        runs=0,
        voltage=at_resolution("voltage"),
        current=at_resolution("current"),
        power=at_resolution("power"),
        resistance=at_resolution("resistance"),
        group0_mah=whole("group0_mah"),
        group0_mwh=whole("group0_mwh"),
        group1_mah=whole("group1_mah"),
        group1_mwh=whole("group1_mwh"),
        temperature=whole("temperature"),
        d_plus=at_resolution("d_plus"),
        d_minus=at_resolution("d_minus"),
    )


def _timestamp(row: dict[str, str], rd_usb: bool) -> float:
    if rd_usb:
        unix = (row.get("Unix time") or "").strip()
        if unix:
            return float(unix)
        text = (row.get("Time") or "").strip()
        return time.mktime(datetime.strptime(text, RD_USB_TIME_FORMAT).timetuple())
    return parse_iso((row.get("timestamp") or "").strip())


def parse_rows(lines: Iterable[str]) -> ImportResult:
    """Parse CSV text lines (either format, detected from the header) into samples."""
    result = ImportResult()
    reader = csv.DictReader(lines)
    header = reader.fieldnames or []
    rd_usb = "Time" in header or "Unix time" in header
    if rd_usb:
        columns = {name: key for name, key in RD_USB_COLUMNS.items() if name in header}
    elif "timestamp" in header:
        columns = {name: name for name in header if name in q.BY_KEY}
    else:
        result.errors.append((1, "unknown CSV header: expected 'timestamp,...' or rd-usb's"))
        return result
    if not {"voltage", "current"} <= set(columns.values()):
        result.errors.append((1, "the header has no voltage and current columns"))
        return result
    for row in reader:
        line = reader.line_num
        try:
            ts = _timestamp(row, rd_usb)
            values = {
                key: _number(row[name], key)
                for name, key in columns.items()
                if (row.get(name) or "").strip()
            }
            if "power" not in values:
                values["power"] = values["voltage"] * values["current"]
            result.samples.append(Sample(ts, _reading(values)))
        except (ValueError, KeyError, TypeError) as exc:
            result.errors.append((line, str(exc) or exc.__class__.__name__))
    return result


def read_file(path: Path) -> ImportResult:
    """Parse one CSV file (UTF-8, BOM tolerated)."""
    with path.open(encoding="utf-8-sig", newline="") as handle:
        return parse_rows(io.StringIO(handle.read()))


def _store_path(args: argparse.Namespace) -> Path:
    from .config import default_data_dir

    data_dir = Path(args.data_dir) if args.data_dir else default_data_dir()
    return data_dir / ("demo.sqlite3" if args.demo else "samples.sqlite3")


def _batches(samples: list[Sample], size: int = 50_000) -> Iterator[list[Sample]]:
    for start in range(0, len(samples), size):
        yield samples[start : start + size]


def import_command(args: argparse.Namespace) -> int:
    """``tc66c-server import FILE...``: load samples; bad lines are listed, not fatal."""
    from .store import SampleStore

    path = _store_path(args)
    path.parent.mkdir(parents=True, exist_ok=True)
    store = SampleStore(path)
    failed = False
    try:
        for name in args.files:
            file = Path(name)
            try:
                result = read_file(file)
            except (OSError, UnicodeDecodeError, csv.Error) as exc:
                print(f"error: cannot read {file}: {exc}", file=sys.stderr)
                failed = True
                continue
            for line, message in result.errors[:20]:
                print(f"{file}:{line}: {message}", file=sys.stderr)
            if len(result.errors) > 20:
                print(f"{file}: ... {len(result.errors) - 20} more bad lines", file=sys.stderr)
            for batch in _batches(sorted(result.samples, key=lambda s: s.ts)):
                store.add_many(batch)
            print(
                f"imported {len(result.samples)} samples from {file} into {path} "
                f"({len(result.errors)} lines skipped)"
            )
    finally:
        store.close()
    return 1 if failed else 0
