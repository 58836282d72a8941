"""Upgrading a version 1 file (a row per sample, one meter) to version 2, in a new file.

The version 1 file is only read. Its samples are decoded minute by minute (version 1 kept
each value as the difference from the previous sample of its minute, the first from the
minute's base) and written as meter ``m1``'s into ``<name>.v2-upgrading``; that file is
checked (same number of samples) and closed, the old file is kept as ``<name>.v1-backup``
(a hard link, or a copy where links are refused), and the new file takes the old one's
name by an atomic rename. A crash at any moment leaves either the untouched version 1 file
(the upgrade starts again at the next start, over a leftover partial file) or the finished
version 2 file. The backup stays for the user to delete once satisfied (logged).
"""

from __future__ import annotations

import logging
import os
import shutil
import sqlite3
import time
from collections.abc import Iterator
from operator import add
from pathlib import Path

from . import schema, writes
from .codec import DeviceKey, RawSample

log = logging.getLogger(__name__)

BACKUP_SUFFIX = ".v1-backup"
PARTIAL_SUFFIX = ".v2-upgrading"
#: Samples written per transaction while upgrading.
BATCH = 50_000
#: Version 1's value columns, in its storage order (frozen: version 1 will not change).
_V1_COLUMNS = (
    *("device", "voltage", "current", "power", "resistance", "temperature", "d_plus"),
    *("d_minus", "group0_mah", "group0_mwh", "group1_mah", "group1_mwh"),
)
_US_PER_MINUTE = 60_000_000


def upgrade_file(path: Path) -> int | None:
    """Upgrade the database at ``path`` to the current version if it is version 1; return
    how many samples it held, or None when there was nothing to upgrade."""
    if not path.is_file() or _version(path) != 1:
        return None
    started = time.monotonic()
    log.warning("%s is a version 1 store: upgrading it (about 1 s per 100,000 samples)", path)
    partial = path.with_name(path.name + PARTIAL_SUFFIX)
    backup = path.with_name(path.name + BACKUP_SUFFIX)
    _remove(partial)
    try:
        count = _copy(path, partial)
    except BaseException:
        _remove(partial)
        raise
    if backup.exists():
        backup.unlink()
    try:
        os.link(path, backup)
    except OSError:  # no hard links on this file system: a copy, then
        shutil.copy2(path, backup)
    os.replace(partial, path)
    _sync_directory(path.parent)
    log.warning(
        "%s upgraded from store version 1 to %d (%d samples, %.1f s); the version 1 file "
        "is kept as %s: delete it once the data looks right",
        path,
        schema.SCHEMA_VERSION,
        count,
        time.monotonic() - started,
        backup.name,
    )
    return count


def _version(path: Path) -> int:
    """The file's schema version; for version 1, with its WAL checkpointed and gone."""
    conn = sqlite3.connect(path, timeout=schema.BUSY_TIMEOUT_S, isolation_level=None)
    try:
        version = schema.user_version(conn)
        if version == 1:
            conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    finally:
        conn.close()
    wal = path.with_name(path.name + "-wal")
    if version == 1 and wal.exists() and wal.stat().st_size > 0:
        # Another process still writes it: replacing the file now would lose its commits.
        raise schema.SchemaError(f"{path} is in use by another process: cannot upgrade it")
    return version


def _copy(source: Path, target: Path) -> int:
    """Write the samples of the version 1 file ``source`` into a new file ``target``;
    return how many there were."""
    old = sqlite3.connect(f"{source.resolve().as_uri()}?mode=ro", uri=True)
    new = schema.connect(str(target), wal=False)
    try:
        new.execute("PRAGMA synchronous = OFF")  # a crash discards the partial file anyway
        schema.migrate(new)
        expected: int = old.execute("SELECT COUNT(*) FROM samples").fetchone()[0]
        batch: list[RawSample] = []
        for sample in _samples(old):
            batch.append(sample)
            if len(batch) >= BATCH:
                writes.insert_samples(new, batch, schema.DEFAULT_METER)
                batch = []
        writes.insert_samples(new, batch, schema.DEFAULT_METER)
        copied: int = new.execute(
            f"SELECT COALESCE(SUM(n), 0) FROM {schema.LEVELS[-1].table}"
        ).fetchone()[0]
        if copied != expected:
            raise schema.SchemaError(
                f"upgrading {source} copied {copied} samples of {expected}: left unchanged"
            )
        new.execute("PRAGMA synchronous = FULL")
        new.execute("VACUUM")  # compact, and synced to disk before the rename
    finally:
        new.close()
        old.close()
    return expected


def _samples(conn: sqlite3.Connection) -> Iterator[RawSample]:
    """Every sample of a version 1 database in time order, decoded."""
    devices: dict[int, DeviceKey] = {
        row[0]: (row[1], row[2], row[3], row[4])
        for row in conn.execute("SELECT id, product, firmware, serial, runs FROM devices")
    }
    bases = conn.execute(
        f"SELECT minute, {', '.join(f'base_{c}' for c in _V1_COLUMNS)} FROM minutes ORDER BY minute"
    )
    minute, current = -1, tuple[int, ...]()
    for row in conn.execute(f"SELECT ts_us, {', '.join(_V1_COLUMNS)} FROM samples ORDER BY ts_us"):
        ts_us = row[0]
        if ts_us // _US_PER_MINUTE != minute:
            while minute < ts_us // _US_PER_MINUTE:
                base = bases.fetchone()
                if base is None:
                    raise schema.SchemaError(f"sample at {ts_us} µs has no minute in the file")
                minute, current = base[0], tuple(base[1:])
            if minute != ts_us // _US_PER_MINUTE:
                raise schema.SchemaError(f"sample at {ts_us} µs has no minute in the file")
        current = tuple(map(add, current, row[1:]))
        yield RawSample(ts_us, devices[current[0]], current[1:])


def _remove(path: Path) -> None:
    for leftover in (path, *(path.with_name(path.name + s) for s in ("-journal", "-wal", "-shm"))):
        leftover.unlink(missing_ok=True)


def _sync_directory(directory: Path) -> None:
    """Make the renames durable (where the platform allows syncing a directory)."""
    try:
        fd = os.open(directory, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)
