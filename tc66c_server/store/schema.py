"""The sample database's schema as numbered migrations, and how connections are opened.

Layout (about 36 bytes per 1 Hz sample on disk, measured by ``tests/test_store_size.py``):

* ``samples``: one row per reading, keyed by its time in integer microseconds (the rowid,
  so the key needs no index). Values are the device's raw integers, stored as differences
  (see ``frames.py``), which SQLite packs into 0-2 bytes each.
* ``minutes``: one row per minute that has samples: the base its differences start from,
  and a rollup (count; min, max and sum of every quantity; trapezoid integrals of power and
  current; first and last sample; the step from the previous minute), so statistics and
  charts over long windows read one row per minute instead of sixty.
* ``devices``: product, firmware, serial and power-on count, which change rarely; each
  sample refers to one row.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

from .. import quantities as q

US_PER_S = 1_000_000
US_PER_MINUTE = 60 * US_PER_S
#: The value columns of ``samples`` (and ``minutes.base_*``), in storage order.
VALUE_COLUMNS: tuple[str, ...] = ("device", *(quantity.key for quantity in q.ALL))
BUSY_TIMEOUT_S = 10.0


class SchemaError(RuntimeError):
    """The database was written by a newer version of this program."""


@dataclass(frozen=True, slots=True)
class Migration:
    """One schema step: applied once, in order, and recorded in ``PRAGMA user_version``."""

    version: int
    name: str
    statements: tuple[str, ...]


# A migration is history: never edit one that has shipped, append a new one instead.
MIGRATIONS: tuple[Migration, ...] = (
    Migration(
        1,
        "samples as differences, minute bases and rollups, device identities",
        (
            """CREATE TABLE devices (
                id INTEGER PRIMARY KEY,
                product TEXT NOT NULL,
                firmware TEXT NOT NULL,
                serial INTEGER NOT NULL,
                runs INTEGER NOT NULL,
                UNIQUE (product, firmware, serial, runs)
            )""",
            """CREATE TABLE samples (
                ts_us INTEGER PRIMARY KEY,
                device INTEGER NOT NULL,
                voltage INTEGER NOT NULL,
                current INTEGER NOT NULL,
                power INTEGER NOT NULL,
                resistance INTEGER NOT NULL,
                temperature INTEGER NOT NULL,
                d_plus INTEGER NOT NULL,
                d_minus INTEGER NOT NULL,
                group0_mah INTEGER NOT NULL,
                group0_mwh INTEGER NOT NULL,
                group1_mah INTEGER NOT NULL,
                group1_mwh INTEGER NOT NULL
            )""",
            # n, *_min, *_max, *_sum: over the minute's samples, in raw integers.
            # energy_raw2 / charge_raw2: the sum over consecutive samples inside the minute
            # of (a + b) * dt_us in raw power / current units (twice the trapezoid integral,
            # an exact integer). gap_max_us: the longest such dt, which tells a query whether
            # the sums hold for its gap threshold. link_*: the step from the previous
            # minute's last sample and that sample's current and power.
            """CREATE TABLE minutes (
                minute INTEGER PRIMARY KEY,
                base_device INTEGER NOT NULL,
                base_voltage INTEGER NOT NULL,
                base_current INTEGER NOT NULL,
                base_power INTEGER NOT NULL,
                base_resistance INTEGER NOT NULL,
                base_temperature INTEGER NOT NULL,
                base_d_plus INTEGER NOT NULL,
                base_d_minus INTEGER NOT NULL,
                base_group0_mah INTEGER NOT NULL,
                base_group0_mwh INTEGER NOT NULL,
                base_group1_mah INTEGER NOT NULL,
                base_group1_mwh INTEGER NOT NULL,
                n INTEGER NOT NULL DEFAULT 0,
                voltage_min INTEGER, voltage_max INTEGER, voltage_sum INTEGER,
                current_min INTEGER, current_max INTEGER, current_sum INTEGER,
                power_min INTEGER, power_max INTEGER, power_sum INTEGER,
                resistance_min INTEGER, resistance_max INTEGER, resistance_sum INTEGER,
                temperature_min INTEGER, temperature_max INTEGER, temperature_sum INTEGER,
                d_plus_min INTEGER, d_plus_max INTEGER, d_plus_sum INTEGER,
                d_minus_min INTEGER, d_minus_max INTEGER, d_minus_sum INTEGER,
                group0_mah_min INTEGER, group0_mah_max INTEGER, group0_mah_sum INTEGER,
                group0_mwh_min INTEGER, group0_mwh_max INTEGER, group0_mwh_sum INTEGER,
                group1_mah_min INTEGER, group1_mah_max INTEGER, group1_mah_sum INTEGER,
                group1_mwh_min INTEGER, group1_mwh_max INTEGER, group1_mwh_sum INTEGER,
                energy_raw2 INTEGER, charge_raw2 INTEGER, gap_max_us INTEGER,
                first_us INTEGER, first_current INTEGER, first_power INTEGER,
                last_us INTEGER, last_current INTEGER, last_power INTEGER,
                link_us INTEGER, link_current INTEGER, link_power INTEGER
            )""",
        ),
    ),
)
SCHEMA_VERSION = MIGRATIONS[-1].version


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
        # little to the ~36 bytes a sample takes in the database itself.
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
    """Bring the schema up to ``SCHEMA_VERSION``; return the version found before."""
    with transaction(conn, write=True):
        found = user_version(conn)
        if found > SCHEMA_VERSION:
            raise SchemaError(
                f"database schema version {found} is newer than this program's "
                f"({SCHEMA_VERSION}): upgrade tc66c-server or use another data directory"
            )
        for migration in MIGRATIONS[found:]:
            for statement in migration.statements:
                conn.execute(statement)
            conn.execute(f"PRAGMA user_version = {migration.version:d}")
    return found


def user_version(conn: sqlite3.Connection) -> int:
    """The schema version recorded in the database (0 for a new one)."""
    version: int = conn.execute("PRAGMA user_version").fetchone()[0]
    return version
