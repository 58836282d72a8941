from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from tc66c_server import quantities as q
from tc66c_server.store import SampleStore, SchemaError, schema

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


def test_every_quantity_has_a_sample_column_a_base_and_a_rollup() -> None:
    # A quantity added to quantities.py needs a migration; this is the reminder.
    conn = memory_db()
    assert _columns(conn, "samples") == ["ts_us", *schema.VALUE_COLUMNS]
    minutes = _columns(conn, "minutes")
    for column in schema.VALUE_COLUMNS:
        assert f"base_{column}" in minutes
    for quantity in q.ALL:
        for agg in ("min", "max", "sum"):
            assert f"{quantity.key}_{agg}" in minutes


def test_file_store_uses_wal_with_normal_sync(tmp_path: Path) -> None:
    store = SampleStore(tmp_path / "s.sqlite3")
    store.close()
    conn = sqlite3.connect(tmp_path / "s.sqlite3")
    assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
