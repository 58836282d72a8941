"""Small builders shared by the store tests: readings, samples, a migrated connection."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterable

from tc66c_server import quantities as q
from tc66c_server.reading import Reading, Sample
from tc66c_server.store import SampleStore, schema
from tc66c_server.store.codec import encode
from tc66c_server.store.writes import insert_samples

#: A Tuesday afternoon in November 2024, on a minute boundary.
T0 = 1_732_000_020.0


def reading(
    voltage: float = 5.1609,
    current: float = 0.0199,
    power: float = 0.1026,
    **others: float | int | str,
) -> Reading:
    """A reading like the real capture (tests/data/captureA.json), with overrides."""
    fields: dict[str, float | int | str] = {
        "product": "TC66",
        "firmware": "1.18",
        "serial": 48724,
        "runs": 40,
        "voltage": voltage,
        "current": current,
        "power": power,
        "resistance": 259.3,
        "group0_mah": 0,
        "group0_mwh": 5,
        "group1_mah": 0,
        "group1_mwh": 0,
        "temperature": 27,
        "d_plus": 2.81,
        "d_minus": 2.8,
    }
    fields.update(others)
    return Reading(**fields)  # type: ignore[arg-type]


def sample(ts: float, **values: float | int | str) -> Sample:
    """A sample at ``ts`` with the capture's values, overridden by ``values``."""
    return Sample(ts, reading(**values))  # type: ignore[arg-type]


def raw_sample(ts_us: int, voltage: int, current: int, power: int) -> Sample:
    """A sample from raw device integers, so its values are exactly at resolution."""
    return sample(
        ts_us / 1_000_000,
        voltage=q.VOLTAGE.from_raw(voltage),
        current=q.CURRENT.from_raw(current),
        power=q.POWER.from_raw(power),
    )


def memory_db() -> sqlite3.Connection:
    """A migrated in-memory database, as the query functions expect."""
    conn = schema.connect(":memory:", wal=False)
    schema.migrate(conn)
    return conn


def insert(
    conn: sqlite3.Connection, samples: Iterable[Sample], meter: str = schema.DEFAULT_METER
) -> int:
    """Store the samples in one transaction (what the writer thread does per batch)."""
    return insert_samples(conn, [encode(s) for s in samples], meter)


def on_writer(store: SampleStore, sql: str) -> None:
    """Run ``sql`` on the store's write connection, in its writer thread: the seam where a
    test makes SQLite itself refuse writes (``PRAGMA query_only = ON`` answers "attempt to
    write a readonly database"; ``PRAGMA max_page_count`` answers "database or disk is
    full" once the file would grow)."""
    store._writer.submit(lambda conn: len(conn.execute(sql).fetchall())).wait(10)


def page_count(store: SampleStore) -> int:
    """Pages in the store's database file now."""
    count: list[int] = []
    store._writer.submit(
        lambda conn: count.append(conn.execute("PRAGMA page_count").fetchone()[0]) or 0
    ).wait(10)
    return count[0]
