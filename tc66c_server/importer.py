"""History import from CSV: this server's own export and rd-usb's export format.

Parsing is pure (rows in, samples and per-line errors out); ``import_command.py`` feeds the
store. rd-usb's columns are documented in ``docs/formats/rd-usb-csv.md``. A row is refused,
with its line number, when its time is not a time, lies in the future (beyond
``FUTURE_SLACK_S``) or before 1970, or when a value is not one the meter could have
reported (``quantities.Quantity.limits``). Rows are read as a stream and only the first
``SHOWN_ERRORS`` bad lines of a file are kept, so memory stays bounded whatever its size.
"""

from __future__ import annotations

import csv
import math
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
#: The meter's fields are 32-bit; the store refuses anything wider, so the parser does too.
RAW_LIMIT = 2**32
#: Bad lines printed per file; the rest are only counted.
SHOWN_ERRORS = 20
#: Times up to this far ahead of the clock are accepted (a meter's clock a little fast).
FUTURE_SLACK_S = 86_400.0


class RowError(ValueError):
    """A CSV row that cannot become a sample; the message says which column and why."""


@dataclass
class ImportResult:
    """Samples read from one file and the lines that could not be read."""

    samples: list[Sample] = field(default_factory=list)
    #: (line number, message) of the first ``SHOWN_ERRORS`` bad lines.
    errors: list[tuple[int, str]] = field(default_factory=list)
    header_ok: bool = True
    #: Every bad line, shown or not.
    error_count: int = 0

    def add_error(self, line: int, message: str) -> None:
        """Count a bad line; keep its message if it is among the first shown."""
        self.error_count += 1
        if len(self.errors) < SHOWN_ERRORS:
            self.errors.append((line, message))


def _number(text: str, column: str, key: str) -> float:
    """The cell's value, refused when it is not a number the meter could have sent."""
    try:
        value = float(text)
    except ValueError:
        raise RowError(f"{column}: {text!r} is not a number") from None
    if not math.isfinite(value):
        raise RowError(f"{column}: {text!r} is not a finite number")
    quantity = q.BY_KEY[key]
    if value < 0 and key != "temperature":
        raise RowError(f"{column}: {text!r} is negative")
    limits = quantity.limits
    if limits is not None and not limits[0] <= value <= limits[1]:
        raise RowError(
            f"{column}: {text!r} is out of the meter's range "
            f"({limits[0]:g} to {limits[1]:g} {quantity.unit})"
        )
    if abs(quantity.to_raw(value)) >= RAW_LIMIT:
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


def _timestamp(row: dict[str, str], rd_usb: bool, now: float) -> float:
    """Unix seconds of the row: rd-usb's ``Unix time`` first, else its local ``Time``."""
    if rd_usb:
        column, text = "Unix time", (row.get("Unix time") or "").strip()
        if text:
            try:
                ts = float(text)
            except ValueError:
                raise RowError(f"Unix time: {text!r} is not a number") from None
        else:
            column, text = "Time", (row.get("Time") or "").strip()
            try:
                ts = time.mktime(datetime.strptime(text, RD_USB_TIME_FORMAT).timetuple())
            except (ValueError, OverflowError):
                raise RowError(f"Time: {text!r} is not a time like 2024-01-19 14:30:00") from None
    else:
        column, text = "timestamp", (row.get("timestamp") or "").strip()
        try:
            ts = parse_iso(text)
        except (ValueError, OverflowError):
            raise RowError(f"timestamp: {text!r} is not an ISO 8601 time") from None
    if not math.isfinite(ts):
        raise RowError(f"{column}: {text!r} is not a Unix time")
    if ts < 0:
        raise RowError(f"{column}: {text!r} is before 1970")
    if ts > now + FUTURE_SLACK_S:
        raise RowError(f"{column}: {text!r} is in the future (more than a day after now)")
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


def _sample(row: dict[str, str], rd_usb: bool, columns: dict[str, str], now: float) -> Sample:
    ts = _timestamp(row, rd_usb, now)
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


def iter_rows(lines: Iterable[str], result: ImportResult, now: float) -> Iterator[Sample]:
    """The samples of CSV text lines (either format, detected from the header), as read.

    A row that cannot be read is counted in ``result`` with its line number and skipped. A
    header that is neither format leaves ``result.header_ok`` False and yields nothing.
    """
    reader = csv.DictReader(lines)
    found = _columns(list(reader.fieldnames or []))
    if isinstance(found, str):
        result.add_error(1, found)
        result.header_ok = False
        return
    rd_usb, columns = found
    for row in reader:
        try:
            yield _sample(row, rd_usb, columns, now)
        except RowError as exc:
            result.add_error(reader.line_num, str(exc))


def parse_rows(lines: Iterable[str], now: float | None = None) -> ImportResult:
    """Parse CSV text lines into samples (all kept in ``samples``) and bad lines.

    ``now`` (default: the clock) decides which times are in the future.
    """
    result = ImportResult()
    result.samples = list(iter_rows(lines, result, time.time() if now is None else now))
    return result


def read_file(path: Path) -> ImportResult:
    """Parse one CSV file (UTF-8, BOM tolerated)."""
    with path.open(encoding="utf-8-sig", newline="") as handle:
        return parse_rows(handle)
