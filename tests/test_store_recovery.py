"""A damaged database at start is moved aside (with its -wal and -shm) and a new one started;
a newer version's database is left alone and refused with a clear message."""

from __future__ import annotations

import os
import random
import sqlite3
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import httpx2 as httpx
import pytest

from tc66c_server.store import SampleStore, SchemaError
from tc66c_server.store.recovery import damage, move_aside, open_or_recover

from .serverproc import ROOT, free_port, start_server
from .storehelpers import T0, sample

PAGE = 4096


def build(path: Path, count: int = 5000) -> None:
    """A real store of ``count`` samples, closed (so everything is in the main file)."""
    with SampleStore(path) as store:
        store.add_many(sample(T0 + k, current=(k % 500) / 1000) for k in range(count))
    for suffix in ("-wal", "-shm"):
        path.with_name(path.name + suffix).unlink(missing_ok=True)


def root_page(path: Path, table: str) -> int:
    with sqlite3.connect(path) as conn:
        page: int = conn.execute(
            "SELECT rootpage FROM sqlite_schema WHERE name = ?", (table,)
        ).fetchone()[0]
    conn.close()
    return page


def bad_header(path: Path) -> None:
    data = bytearray(path.read_bytes())
    data[:16] = b"not a database!!"
    path.write_bytes(bytes(data))


def bad_table_page(path: Path) -> None:
    """Scribble over the b-tree header of the ``chunks`` table's root page."""
    offset = (root_page(path, "chunks") - 1) * PAGE
    data = bytearray(path.read_bytes())
    data[offset : offset + 12] = b"\xff" * 12
    path.write_bytes(bytes(data))


def truncated(path: Path) -> None:
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 2 + 100])


def random_bytes(path: Path) -> None:
    size = path.stat().st_size
    path.write_bytes(random.Random(3).randbytes(size))


DAMAGES: dict[str, Callable[[Path], None]] = {
    "header": bad_header,
    "table page": bad_table_page,
    "truncated": truncated,
    "random bytes": random_bytes,
}


@pytest.mark.parametrize("how", list(DAMAGES))
def test_damaged_database_is_moved_aside_and_a_new_store_starts(how: str, tmp_path: Path) -> None:
    path = tmp_path / "samples.sqlite3"
    build(path)
    DAMAGES[how](path)
    damaged = path.read_bytes()

    store, moved = open_or_recover(path)
    with store:
        assert store.summary() == (0, None, None)
        store.add(sample(T0))
        store.flush()
        assert store.summary()[0] == 1
    assert moved is not None
    assert moved.parent == tmp_path and moved.name.startswith("samples.sqlite3.corrupt-")
    assert moved.read_bytes() == damaged  # kept as it was, to be examined or salvaged


def test_each_damage_is_found_by_the_check_before_the_store_opens(tmp_path: Path) -> None:
    for how, spoil in DAMAGES.items():
        path = tmp_path / f"{how}.sqlite3"
        build(path, 3000)
        assert damage(path) is None, how
        spoil(path)
        assert damage(path) is not None, how


def test_side_files_move_with_the_database(tmp_path: Path) -> None:
    path = tmp_path / "samples.sqlite3"
    build(path)
    bad_header(path)
    wal, shm = (path.with_name(path.name + s) for s in ("-wal", "-shm"))
    wal.write_bytes(b"old wal")
    shm.write_bytes(b"old shm")

    moved = move_aside(path, now=1_700_000_000)

    assert moved.name == "samples.sqlite3.corrupt-20231114T221320Z"
    assert not path.exists() and not wal.exists() and not shm.exists()
    assert moved.with_name(moved.name + "-wal").read_bytes() == b"old wal"
    assert moved.with_name(moved.name + "-shm").read_bytes() == b"old shm"
    path.write_bytes(b"")
    assert move_aside(path, now=1_700_000_000).name.endswith("Z-2")  # never overwrites


def test_a_sound_or_missing_database_is_opened_as_it_is(tmp_path: Path) -> None:
    path = tmp_path / "samples.sqlite3"
    store, moved = open_or_recover(path)
    store.close()
    assert moved is None
    build(path, 100)
    store, moved = open_or_recover(path)
    with store:
        assert moved is None and store.summary()[0] == 100
    memory, moved = open_or_recover(None)
    memory.close()
    assert moved is None


def test_a_newer_versions_database_is_refused_and_not_moved(tmp_path: Path) -> None:
    path = tmp_path / "samples.sqlite3"
    build(path, 10)
    with sqlite3.connect(path) as conn:
        conn.execute("PRAGMA user_version = 99")
    conn.close()
    with pytest.raises(SchemaError):
        open_or_recover(path)
    assert [p.name for p in tmp_path.iterdir()] == ["samples.sqlite3"]


def test_a_check_that_runs_out_of_time_trusts_the_file(tmp_path: Path) -> None:
    path = tmp_path / "samples.sqlite3"
    build(path, 20_000)
    assert damage(path, budget_s=0.0) is None


@pytest.mark.e2e
def test_server_starts_on_a_corrupt_database_and_names_both_files(tmp_path: Path) -> None:
    data = tmp_path / "data"
    data.mkdir()
    path = data / "samples.sqlite3"
    build(path)
    random_bytes(path)

    server = start_server("--device", str(tmp_path / "absent"), "--data-dir", str(data))
    try:
        status = httpx.get(f"{server.url}/api/status", timeout=5).json()
        assert status["data_count"] == 0 and status["store_error"] is None
    finally:
        output = server.stop()
    moved = [p for p in data.iterdir() if ".corrupt-" in p.name and p.name.endswith("Z")]
    assert len(moved) == 1
    line = next(line for line in output.splitlines() if "damaged" in line)
    assert str(path) in line and str(moved[0]) in line


@pytest.mark.e2e
def test_server_refuses_a_newer_versions_database_with_exit_status_2(tmp_path: Path) -> None:
    path = tmp_path / "samples.sqlite3"
    build(path, 10)
    with sqlite3.connect(path) as conn:
        conn.execute("PRAGMA user_version = 99")
    conn.close()
    env = {k: v for k, v in os.environ.items() if not k.startswith("TC66C_")}
    args = ["--device", "/nonexistent", "--data-dir", str(tmp_path)]
    done = subprocess.run(
        [sys.executable, "api_server.py", str(free_port()), *args],
        cwd=ROOT,
        env={**env, "LC_ALL": "C.UTF-8", "LANG": "C.UTF-8"},
        capture_output=True,
        text=True,
        timeout=30,
        check=False,
    )
    assert done.returncode == 2, done.stdout + done.stderr
    assert "newer version" in done.stderr and str(path) in done.stderr
    assert "Traceback" not in done.stderr
    assert sorted(p.name for p in tmp_path.iterdir()) == ["samples.sqlite3"]
