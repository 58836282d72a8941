"""``tc66c-server import FILE...``: stream CSV files into the store, never overwriting silently.

Each file is read as a stream (``importer.iter_rows``) in sorted batches; a sample at a time
already stored is skipped or replaces the stored one (``--on-conflict``), and the summary
line of each file says how many were imported, skipped and replaced.
"""

from __future__ import annotations

import argparse
import csv
import itertools
import math
import sqlite3
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from . import config as cfg
from .bench_config import DEFAULT_METER_ID
from .importer import ImportResult, iter_rows
from .reading import Sample
from .recordings.imported import ImportedRecording
from .store import SampleStore, SchemaError

#: Samples sorted and stored together.
BATCH = 50_000


def retention_note(oldest_ts: float, now: float, retention_min: int) -> str | None:
    """A warning when imported samples are older than the server will keep, else None.

    The retention it suggests is never beyond the longest one allowed (``MAX_RETENTION_MIN``).
    """
    age_min = math.ceil((now - oldest_ts) / 60)
    if age_min <= retention_min:
        return None
    note = (
        f"note: the server keeps {retention_min} min of samples and the oldest imported one "
        f"is {age_min} min old: older samples are pruned when it runs"
    )
    longest = cfg.MAX_RETENTION_MIN
    if retention_min < longest:
        note += (
            f" unless you raise the retention (serve --retention {min(age_min, longest)}, "
            "TC66C_RETENTION or the dashboard's settings)"
        )
    if age_min > longest:
        note += f"; no retention keeps samples older than {longest} min ({cfg.MAX_RETENTION_TEXT})"
    return note


def _data_dir(args: argparse.Namespace) -> Path:
    return Path(args.data_dir) if args.data_dir else cfg.default_data_dir()


def _retention_min(data_dir: Path) -> int | None:
    """The retention the server would use here (saved settings, environment), if readable."""
    try:
        saved = cfg.load_saved(data_dir / "config.json")
        return cfg.resolve(saved=saved, environ=cfg.from_environment()).data_retention_minutes
    except (cfg.ConfigError, OSError):
        return None


def _report(file: Path, result: ImportResult) -> None:
    for line, message in result.errors:
        print(f"{file}:{line}: {message}", file=sys.stderr)
    if result.error_count > len(result.errors):
        more = result.error_count - len(result.errors)
        print(f"{file}: ... {more} more bad lines", file=sys.stderr)


@dataclass
class FileImport:
    """What importing one file did."""

    result: ImportResult  # bad lines (``samples`` stays empty: they went to the store)
    stored: int = 0
    skipped: int = 0
    replaced: int = 0
    oldest: float | None = None

    @property
    def valid(self) -> int:
        """Lines read as samples, stored or not."""
        return self.stored + self.skipped + self.replaced

    def summary(self, file: Path, path: Path, replace: bool) -> str:
        """The line printed for the file: imported, bad, skipped or replaced."""
        taken = (
            f"{self.replaced} of them replaced samples already stored"
            if replace
            else f"{self.skipped} at times already stored skipped"
        )
        return (
            f"imported {self.stored} samples from {file} into {path} "
            f"({self.result.error_count} bad lines skipped; {taken})"
        )


def import_file(
    store: SampleStore,
    file: Path,
    *,
    replace: bool,
    now: float,
    meter: str = DEFAULT_METER_ID,
    on_batch: Callable[[list[Sample]], None] | None = None,
) -> FileImport:
    """Stream one CSV file into ``store`` in sorted batches, never holding all of it;
    ``on_batch`` sees each batch (a recording's summary follows them)."""
    done = FileImport(ImportResult())
    with file.open(encoding="utf-8-sig", newline="") as handle:
        rows = iter_rows(handle, done.result, now)
        while batch := sorted(itertools.islice(rows, BATCH), key=lambda s: s.ts):
            if on_batch is not None:
                on_batch(batch)
            merged = store.merge(batch, replace=replace, meter=meter)
            done.stored += merged.stored
            done.skipped += merged.skipped
            done.replaced += merged.replaced
            first = batch[0].ts
            done.oldest = first if done.oldest is None else min(done.oldest, first)
    return done


def _open_store(path: Path) -> SampleStore | int:
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        return SampleStore(path)
    except SchemaError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    except (OSError, sqlite3.Error) as exc:
        print(f"error: cannot open {path}: {exc}", file=sys.stderr)
        return 1


def import_command(args: argparse.Namespace) -> int:
    """``tc66c-server import FILE...``: load samples; bad lines are listed, not fatal.

    A sample at a time already stored is skipped (``--on-conflict skip``, the default) or
    replaces the stored one (``replace``); either is counted. Exit status 1 when a file
    cannot be read at all (missing, not UTF-8, unknown header) or has no valid line.
    """
    if args.data_dir == ":memory:":
        print("error: cannot import into ':memory:': give a data directory", file=sys.stderr)
        return 2
    data_dir = _data_dir(args)
    path = data_dir / ("demo.sqlite3" if args.demo else "samples.sqlite3")
    replace = args.on_conflict == "replace"
    store = _open_store(path)
    if isinstance(store, int):
        return store
    failed = False
    oldest: float | None = None
    now = time.time()
    recording = ImportedRecording() if args.recording else None
    feed = recording.add if recording is not None else None
    try:
        for name in args.files:
            file = Path(name)
            try:
                done = import_file(
                    store, file, replace=replace, now=now, meter=args.meter, on_batch=feed
                )
            except (OSError, UnicodeDecodeError, csv.Error) as exc:
                print(f"error: cannot read {file}: {exc}", file=sys.stderr)
                failed = True
                continue
            _report(file, done.result)
            if done.valid == 0 and done.result.header_ok:
                print(f"error: {file} has no line that could be imported", file=sys.stderr)
            failed = failed or done.valid == 0
            if done.oldest is not None:
                oldest = done.oldest if oldest is None else min(oldest, done.oldest)
            print(done.summary(file, path, replace))
    finally:
        store.close()
    if recording is not None and not failed:
        try:
            rid = recording.save(data_dir, args.recording, args.meter, demo=args.demo)
        except ValueError as exc:
            print(f"error: {exc}", file=sys.stderr)
            return 1
        print(f"recording {rid} “{args.recording}”: {recording.summary_line()}")
    retention = _retention_min(data_dir)
    if oldest is not None and retention is not None:
        note = retention_note(oldest, now, retention)
        if note:
            print(note, file=sys.stderr)
    return 1 if failed else 0
