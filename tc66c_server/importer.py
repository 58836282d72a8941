"""History import from CSV: this server's own export and rd-usb's export format.

Parsing is pure (rows in, samples and per-line errors out); the command feeds the store.
rd-usb's columns are documented in ``docs/formats/rd-usb-csv.md``.
"""

from __future__ import annotations

import argparse
import csv
import math
import sys
import time
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

from . import config as cfg
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
#: The meter's fields are 32-bit; the store refuses anything wider, so the parser does too.
RAW_LIMIT = 2**32
#: Bad lines printed per file; the rest are only counted.
SHOWN_ERRORS = 20
BATCH = 50_000


class RowError(ValueError):
    """A CSV row that cannot become a sample; the message says which column and why."""


@dataclass
class ImportResult:
    """Samples read from one file and the lines that could not be read."""

    samples: list[Sample] = field(default_factory=list)
    errors: list[tuple[int, str]] = field(default_factory=list)  # (line number, message)
    header_ok: bool = True


def _number(text: str, column: str, key: str) -> float:
    """The cell's value, refused when it is not a number the meter could have sent."""
    try:
        value = float(text)
    except ValueError:
        raise RowError(f"{column}: {text!r} is not a number") from None
    if not math.isfinite(value):
        raise RowError(f"{column}: {text!r} is not a finite number")
    if value < 0 and key != "temperature":
        raise RowError(f"{column}: {text!r} is negative")
    if abs(q.BY_KEY[key].to_raw(value)) >= RAW_LIMIT:
        raise RowError(f"{column}: {text!r} is out of the meter's range")
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
    """Unix seconds of the row: rd-usb's ``Unix time`` first, else its local ``Time``."""
    if rd_usb:
        unix = (row.get("Unix time") or "").strip()
        if unix:
            try:
                ts = float(unix)
            except ValueError:
                raise RowError(f"Unix time: {unix!r} is not a number") from None
        else:
            text = (row.get("Time") or "").strip()
            try:
                ts = time.mktime(datetime.strptime(text, RD_USB_TIME_FORMAT).timetuple())
            except (ValueError, OverflowError):
                raise RowError(f"Time: {text!r} is not a time like 2024-01-19 14:30:00") from None
    else:
        text = (row.get("timestamp") or "").strip()
        try:
            ts = parse_iso(text)
        except (ValueError, OverflowError):
            raise RowError(f"timestamp: {text!r} is not an ISO 8601 time") from None
    if not 0 <= ts < math.inf:
        raise RowError(f"time {ts!r} is not a Unix time")
    return ts


def _columns(header: list[str]) -> tuple[bool, dict[str, str]] | str:
    """(is rd-usb, header name -> quantity key), or why the header cannot be read."""
    rd_usb = "Time" in header or "Unix time" in header
    if rd_usb:
        columns = {name: key for name, key in RD_USB_COLUMNS.items() if name in header}
    elif "timestamp" in header:
        columns = {name: name for name in header if name in q.BY_KEY}
    else:
        return "unknown CSV header: expected 'timestamp,voltage,current,...' or rd-usb's export"
    if not {"voltage", "current"} <= set(columns.values()):
        return "the header has no voltage and current columns"
    return rd_usb, columns


def _sample(row: dict[str, str], rd_usb: bool, columns: dict[str, str]) -> Sample:
    ts = _timestamp(row, rd_usb)
    values: dict[str, float] = {}
    for name, key in columns.items():
        text = (row.get(name) or "").strip()
        if text:
            values[key] = _number(text, name, key)
    for name, key in columns.items():
        if key in ("voltage", "current") and key not in values:
            raise RowError(f"{name}: no value")
    if "power" not in values:
        values["power"] = values["voltage"] * values["current"]
    return Sample(ts, _reading(values))


def parse_rows(lines: Iterable[str]) -> ImportResult:
    """Parse CSV text lines (either format, detected from the header) into samples.

    A row that cannot be read is reported with its line number and skipped; the others are
    kept. A header that is neither format leaves ``header_ok`` False and reads nothing.
    """
    result = ImportResult()
    reader = csv.DictReader(lines)
    found = _columns(list(reader.fieldnames or []))
    if isinstance(found, str):
        result.errors.append((1, found))
        result.header_ok = False
        return result
    rd_usb, columns = found
    for row in reader:
        try:
            result.samples.append(_sample(row, rd_usb, columns))
        except RowError as exc:
            result.errors.append((reader.line_num, str(exc)))
    return result


def read_file(path: Path) -> ImportResult:
    """Parse one CSV file (UTF-8, BOM tolerated)."""
    with path.open(encoding="utf-8-sig", newline="") as handle:
        return parse_rows(handle)


def retention_note(oldest_ts: float, now: float, retention_min: int) -> str | None:
    """A warning when imported samples are older than the server will keep, else None."""
    age_min = (now - oldest_ts) / 60
    if age_min <= retention_min:
        return None
    return (
        f"note: the server keeps {retention_min} min of samples and the oldest imported one "
        f"is {math.ceil(age_min)} min old: older samples are pruned when it runs unless you "
        f"raise the retention (serve --retention {math.ceil(age_min)}, TC66C_RETENTION or "
        "the dashboard's settings)"
    )


def _data_dir(args: argparse.Namespace) -> Path:
    return Path(args.data_dir) if args.data_dir else cfg.default_data_dir()


def _retention_min(data_dir: Path) -> int | None:
    """The retention the server would use here (saved settings, environment), if readable."""
    try:
        saved = cfg.load_saved(data_dir / "config.json")
        return cfg.resolve(saved=saved, environ=cfg.from_environment()).data_retention_minutes
    except (cfg.ConfigError, OSError):
        return None


def _batches(samples: list[Sample], size: int = BATCH) -> Iterator[list[Sample]]:
    for start in range(0, len(samples), size):
        yield samples[start : start + size]


def _report(file: Path, result: ImportResult) -> None:
    for line, message in result.errors[:SHOWN_ERRORS]:
        print(f"{file}:{line}: {message}", file=sys.stderr)
    if len(result.errors) > SHOWN_ERRORS:
        more = len(result.errors) - SHOWN_ERRORS
        print(f"{file}: ... {more} more bad lines", file=sys.stderr)


def import_command(args: argparse.Namespace) -> int:
    """``tc66c-server import FILE...``: load samples; bad lines are listed, not fatal.

    Exit status 1 when a file cannot be read at all (missing, not UTF-8, unknown header).
    """
    from .store import SampleStore

    if args.data_dir == ":memory:":
        print("error: cannot import into ':memory:': give a data directory", file=sys.stderr)
        return 2
    data_dir = _data_dir(args)
    path = data_dir / ("demo.sqlite3" if args.demo else "samples.sqlite3")
    path.parent.mkdir(parents=True, exist_ok=True)
    store = SampleStore(path)
    failed = False
    oldest: float | None = None
    try:
        for name in args.files:
            file = Path(name)
            try:
                result = read_file(file)
            except (OSError, UnicodeDecodeError, csv.Error) as exc:
                print(f"error: cannot read {file}: {exc}", file=sys.stderr)
                failed = True
                continue
            _report(file, result)
            failed = failed or not result.header_ok
            samples = sorted(result.samples, key=lambda s: s.ts)
            for batch in _batches(samples):
                store.add_many(batch)
            if samples:
                oldest = samples[0].ts if oldest is None else min(oldest, samples[0].ts)
            print(
                f"imported {len(samples)} samples from {file} into {path} "
                f"({len(result.errors)} lines skipped)"
            )
    finally:
        store.close()
    retention = _retention_min(data_dir)
    if oldest is not None and retention is not None:
        note = retention_note(oldest, time.time(), retention)
        if note:
            print(note, file=sys.stderr)
    return 1 if failed else 0
