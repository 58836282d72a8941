"""The sample database's schema (version 2), its rollup levels, and how connections open.

Layout (about 10 bytes per 1 Hz sample on disk, measured by ``tests/test_store_size.py``):

* ``meters``: the meters samples belong to, an integer key for each text id (``m1``, ``in``).
* ``chunks``: one row per meter and minute holding that minute's samples as one compressed
  blob (``chunk.py``): times as deltas of deltas, values as deltas or residuals of a
  prediction, every field at the meter's resolution, exactly. ``open_chunks`` holds the
  minute each meter is writing, until it moves on (``blobs.py``).
* ``minutes``, ``five_minutes``, ``half_hours``, ``hours``, ``days``: the rollup levels.
  One row per meter and unit of time that has samples: count; min, max and sum of every
  quantity; trapezoid integrals of power and current; the longest steps between samples;
  the first and last sample. Statistics and charts over long windows read a few rows per
  level instead of every sample (``stats.py``, ``buckets.py``).
* ``devices``: product, firmware, serial and power-on count; each sample refers to one row.
* ``extras``: per meter and minute, the fields a UM meter adds to those samples (data groups
  2-9, charging mode, threshold recording, screen settings) as one compressed blob
  (``extras.py``). Added to version 2 by a named step (``ADDED_V2``).

Rows are keyed by a *slot*: ``meter key * 2**32 + unit``, the unit counting minutes (or
five minutes, half hours, hours, days) since the Unix epoch, so one meter's rows of a level
are one contiguous range of an integer primary key: no separate index, and range scans in
time order.

The writer updates the current minute's chunk (a segment more) and rollups at every commit
(once a second in the server), so readers on other connections see samples as soon as they
are committed, in the same form as older ones.

Version 1 (rows per sample, one meter) is upgraded by ``upgrade.py`` into a new file.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

from .. import quantities as q

US_PER_S = 1_000_000
US_PER_MINUTE = 60 * US_PER_S
#: The values kept for each sample, in storage order: device id, then ``quantities.ALL``.
VALUE_COLUMNS: tuple[str, ...] = ("device", *(quantity.key for quantity in q.ALL))
BUSY_TIMEOUT_S = 10.0
#: The meter samples belong to when a caller names none: the seed's single meter.
DEFAULT_METER = "m1"
#: Slots: ``meter key << SLOT_BITS | unit``.
SLOT_BITS = 32
SCHEMA_VERSION = 2


class SchemaError(RuntimeError):
    """The database cannot be used by this program as it is (too new, or not upgraded)."""


@dataclass(frozen=True, slots=True)
class Level:
    """A rollup level: the table holding it and the width of its units."""

    table: str
    width_s: int

    @property
    def width_us(self) -> int:
        return self.width_s * US_PER_S


#: Rollup levels, finest first; each width divides the next. Chart buckets read the
#: coarsest level that tiles them: five minutes serve buckets of 5 to 15 minutes, half
#: hours those of 30 minutes (a month in 2,000 points reads 1,440 rows, not 43,200).
LEVELS: tuple[Level, ...] = (
    Level("minutes", 60),
    Level("five_minutes", 300),
    Level("half_hours", 1800),
    Level("hours", 3600),
    Level("days", 86_400),
)
MINUTES = LEVELS[0]


def slot(meter_key: int, unit: int) -> int:
    """The primary key of a meter's row for ``unit`` (a minute, an hour, ... since 1970)."""
    return (meter_key << SLOT_BITS) + unit


def slot_range(meter_key: int, first_unit: int, last_unit: int) -> tuple[int, int]:
    """The slots of a meter's units ``first_unit..last_unit`` (clamped to the meter's)."""
    top = (1 << SLOT_BITS) - 1
    base = meter_key << SLOT_BITS
    return base + min(max(first_unit, 0), top), base + min(max(last_unit, -1), top)


# The quantities of version 2, frozen: adding one to quantities.py needs a new version.
_V2_QUANTITIES = (
    *("voltage", "current", "power", "resistance", "temperature", "d_plus", "d_minus"),
    *("group0_mah", "group0_mwh", "group1_mah", "group1_mwh"),
)


def _rollup_table(name: str, *, steps: bool = True) -> str:
    # n, *_min, *_max, *_sum: over the unit's samples, in raw integers.
    # energy_raw2 / charge_raw2: the sum over consecutive samples inside the unit of
    # (a + b) * dt_us in raw power / current units (twice the trapezoid integral, an exact
    # integer). gap_max_us: the longest such dt, which tells a query whether the sums hold
    # for its gap threshold. first_* / last_*: time, current and power of the first and
    # last sample, which join a row to its neighbours. step1_* (its length is gap_max_us)
    # to step4_*: the four longest steps and their terms of the two sums; step5_us: the
    # longest other step. A query whose threshold excludes only those four subtracts them.
    # The minutes table has none (a minute is read from its chunk instead): they would cost
    # half a byte per sample.
    aggregates = ", ".join(
        f"{key}_min INTEGER, {key}_max INTEGER, {key}_sum INTEGER" for key in _V2_QUANTITIES
    )
    long_steps = """,
        step1_e2 INTEGER, step1_q2 INTEGER,
        step2_us INTEGER, step2_e2 INTEGER, step2_q2 INTEGER,
        step3_us INTEGER, step3_e2 INTEGER, step3_q2 INTEGER,
        step4_us INTEGER, step4_e2 INTEGER, step4_q2 INTEGER,
        step5_us INTEGER"""
    return f"""CREATE TABLE {name} (
        slot INTEGER PRIMARY KEY,
        n INTEGER NOT NULL,
        {aggregates},
        energy_raw2 INTEGER, charge_raw2 INTEGER, gap_max_us INTEGER,
        first_us INTEGER, first_current INTEGER, first_power INTEGER,
        last_us INTEGER, last_current INTEGER, last_power INTEGER{long_steps if steps else ""}
    )"""


#: Version 2 from an empty file. Never edit once shipped: a later version adds a step.
CREATE_V2: tuple[str, ...] = (
    "CREATE TABLE meters (id INTEGER PRIMARY KEY, name TEXT NOT NULL UNIQUE)",
    """CREATE TABLE devices (
        id INTEGER PRIMARY KEY,
        product TEXT NOT NULL,
        firmware TEXT NOT NULL,
        serial INTEGER NOT NULL,
        runs INTEGER NOT NULL,
        UNIQUE (product, firmware, serial, runs)
    )""",
    "CREATE TABLE chunks (slot INTEGER PRIMARY KEY, data BLOB NOT NULL)",
    "CREATE TABLE open_chunks (slot INTEGER PRIMARY KEY, data BLOB NOT NULL)",
    _rollup_table("minutes", steps=False),
    *(_rollup_table(name) for name in ("five_minutes", "half_hours", "hours", "days")),
)


#: Tables added to version 2 after it shipped, each by a named step run when a file lacks
#: it. Additive only: a program that predates a step ignores its table and keeps opening
#: the file, so the version stays 2.
ADDED_V2: tuple[tuple[str, str], ...] = (
    ("extras", "CREATE TABLE extras (slot INTEGER PRIMARY KEY, data BLOB NOT NULL)"),
)


def connect(target: str, *, uri: bool = False, wal: bool = True) -> sqlite3.Connection:
    """Open a connection in autocommit mode (transactions are explicit) with our pragmas."""
    conn = sqlite3.connect(
        target,
        uri=uri,
        timeout=BUSY_TIMEOUT_S,
        isolation_level=None,
        # Each connection is used by one thread at a time; the store closes them all at the
        # end from the closing thread, which the default check would refuse.
        check_same_thread=False,
    )
    if wal:
        conn.execute("PRAGMA journal_mode = WAL")
        # WAL keeps the database consistent on power loss with NORMAL; only the last
        # commits may be lost, which is fine for a sample log.
        conn.execute("PRAGMA synchronous = NORMAL")
        # Checkpoint at ~1 MiB and cut the WAL file back to that size afterwards, so it adds
        # little to what the samples take in the database itself.
        conn.execute("PRAGMA wal_autocheckpoint = 256")
        conn.execute("PRAGMA journal_size_limit = 1048576")
    conn.execute("PRAGMA temp_store = MEMORY")
    return conn


@contextmanager
def transaction(conn: sqlite3.Connection, *, write: bool) -> Iterator[None]:
    """Run the block in one transaction: IMMEDIATE for writers, a read snapshot otherwise.

    Nested use joins the outer transaction, so query functions can be composed.
    """
    if conn.in_transaction:
        yield
        return
    conn.execute("BEGIN IMMEDIATE" if write else "BEGIN")
    try:
        yield
        conn.execute("COMMIT")
    except BaseException:
        # SQLite may already have rolled back (disk full...); a failed COMMIT has not.
        if conn.in_transaction:
            conn.execute("ROLLBACK")
        raise


def migrate(conn: sqlite3.Connection) -> int:
    """Create the schema in an empty database, or check an existing one is current; return
    the version found (0 for an empty database).

    ``SchemaError`` for a newer version, and for version 1, which ``upgrade.upgrade_file``
    turns into a new file before a connection is opened.
    """
    with transaction(conn, write=True):
        found = user_version(conn)
        if found > SCHEMA_VERSION:
            raise SchemaError(
                f"database schema version {found} is newer than this program's "
                f"({SCHEMA_VERSION}): upgrade tc66c-server or use another data directory"
            )
        if 0 < found < SCHEMA_VERSION:
            raise SchemaError(
                f"database schema version {found} must be upgraded to {SCHEMA_VERSION} "
                "(SampleStore does it when it opens the file)"
            )
        if found == 0:
            for statement in CREATE_V2:
                conn.execute(statement)
            conn.execute(f"PRAGMA user_version = {SCHEMA_VERSION:d}")
        add_missing_tables(conn)
    return found


def add_missing_tables(conn: sqlite3.Connection) -> list[str]:
    """Run the steps of ``ADDED_V2`` whose table the file lacks; return their names."""
    present = {
        row[0] for row in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")
    }
    added = [name for name, _ in ADDED_V2 if name not in present]
    for name, statement in ADDED_V2:
        if name in added:
            conn.execute(statement)
    return added


def user_version(conn: sqlite3.Connection) -> int:
    """The schema version recorded in the database (0 for a new one)."""
    version: int = conn.execute("PRAGMA user_version").fetchone()[0]
    return version
