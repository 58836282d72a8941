from __future__ import annotations

import itertools
import sqlite3
from pathlib import Path

import pytest

from tc66c_server import quantities as q
from tc66c_server.store import SampleStore, SchemaError, chunk, schema

from .storehelpers import memory_db


def _columns(conn: sqlite3.Connection, table: str) -> list[str]:
    return [row[1] for row in conn.execute(f"PRAGMA table_info({table})")]


def test_new_database_is_migrated_to_the_latest_version() -> None:
    conn = schema.connect(":memory:", wal=False)
    assert schema.migrate(conn) == 0
    assert schema.user_version(conn) == schema.SCHEMA_VERSION


def test_migrating_twice_changes_nothing() -> None:
    conn = memory_db()
    assert schema.migrate(conn) == schema.SCHEMA_VERSION
    assert schema.user_version(conn) == schema.SCHEMA_VERSION


def test_database_from_a_newer_program_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "future.sqlite3"
    conn = sqlite3.connect(path)
    conn.execute(f"PRAGMA user_version = {schema.SCHEMA_VERSION + 1}")
    conn.close()
    with pytest.raises(SchemaError, match="newer than this program"):
        SampleStore(path)


def test_every_quantity_has_a_rollup_at_every_level_and_a_column_in_chunks() -> None:
    # A quantity added to quantities.py needs a new schema version; this is the reminder.
    conn = memory_db()
    for level in schema.LEVELS:
        columns = _columns(conn, level.table)
        for quantity in q.ALL:
            for agg in ("min", "max", "sum"):
                assert f"{quantity.key}_{agg}" in columns
    values = tuple(range(len(schema.VALUE_COLUMNS)))
    assert chunk.rows(chunk.encode([(5, values)], 0), 0) == [(5, values)]


def test_levels_are_finest_first_and_each_width_divides_the_next() -> None:
    widths = [level.width_s for level in schema.LEVELS]
    assert widths[0] == 60
    assert all(b % a == 0 and b > a for a, b in itertools.pairwise(widths))


def test_file_store_uses_wal_with_normal_sync(tmp_path: Path) -> None:
    store = SampleStore(tmp_path / "s.sqlite3")
    store.close()
    conn = sqlite3.connect(tmp_path / "s.sqlite3")
    assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
