"""Storage faults: a full disk or a read-only store holds samples in a bounded backlog, shows
in the store's state and in ``/api/status``, and loses nothing it could keep.

The faults are real SQLite refusals, made at the store's seam (its write connection):
``PRAGMA max_page_count`` gives "database or disk is full" once the file would grow,
``PRAGMA query_only`` gives "attempt to write a readonly database". Where the tests run as
root, a full 1 MB tmpfs gives the same through the real file system and server process.
"""

from __future__ import annotations

import contextlib
import logging
import os
import sqlite3
import subprocess
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import httpx2 as httpx
import pytest
from fastapi.testclient import TestClient

from tc66c_server.api.app import create_app
from tc66c_server.config import MeterConfig
from tc66c_server.emulator import EmulatorHost
from tc66c_server.runtime import Runtime, ServerSettings
from tc66c_server.store import SampleStore
from tc66c_server.store.backlog import Backlog, fault_code
from tc66c_server.store.codec import encode

from .apihelpers import BASE_URL
from .serverproc import start_server
from .storehelpers import T0, on_writer, page_count, sample


def wait_for(condition: Callable[[], object], timeout_s: float = 10.0) -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if condition():
            return
        time.sleep(0.02)
    raise AssertionError("condition not reached in time")


def fast_backlog(max_samples: int = 36_000) -> Backlog:
    """A backlog that retries every few tens of milliseconds (tests wait for behaviour)."""
    return Backlog(max_samples, retry_first_s=0.02, retry_max_s=0.1)


@pytest.fixture
def store(tmp_path: Path) -> Iterator[SampleStore]:
    opened = SampleStore(tmp_path / "samples.sqlite3", batch_s=0.01, backlog=fast_backlog())
    try:
        yield opened
    finally:
        opened.close()


def add_range(store: SampleStore, first: int, last: int) -> None:
    """Samples at T0 + k s for first <= k < last, each with its own current (k mA)."""
    for k in range(first, last):
        store.add(sample(T0 + k, current=k / 1000))


def stored_currents(store: SampleStore) -> list[float]:
    return [row[2] for row in store.range(T0, T0 + 1e6)]


# -- the backlog alone --------------------------------------------------------------------


def test_backlog_drops_the_oldest_beyond_its_bound_and_counts_them() -> None:
    backlog = Backlog(3)
    raws = [sample(T0 + k) for k in range(5)]
    assert backlog.hold([encode(s) for s in raws[:2]]) == 0
    assert backlog.hold([encode(s) for s in raws[2:]]) == 2
    assert (len(backlog), backlog.lost) == (3, 2)
    assert [raw.ts_us for raw in backlog.peek(10)] == [encode(s).ts_us for s in raws[2:]]


def test_backlog_retry_delay_doubles_up_to_its_maximum() -> None:
    backlog = Backlog(10, retry_first_s=1.0, retry_max_s=5.0)
    delays = []
    for _ in range(5):
        before = time.monotonic()
        backlog.failed("disk_full", "database or disk is full")
        delays.append(round(backlog.retry_at - before))
    assert delays == [1, 2, 4, 5, 5]
    assert backlog.fault is not None and backlog.fault.code == "disk_full"
    ended = backlog.recovered()
    assert ended is not None and backlog.fault is None


def test_only_errors_that_waiting_cures_are_faults() -> None:
    conn = sqlite3.connect(":memory:")
    conn.execute("PRAGMA query_only = ON")
    with pytest.raises(sqlite3.Error) as read_only:
        conn.execute("CREATE TABLE t (x)")
    with pytest.raises(sqlite3.Error) as no_table:
        conn.execute("SELECT * FROM missing")
    assert fault_code(read_only.value) == "read_only"
    assert fault_code(no_table.value) is None
    assert fault_code(ValueError("not SQLite")) is None


# -- the store under a fault --------------------------------------------------------------


def test_disk_full_holds_samples_shows_the_fault_and_writes_them_in_order_later(
    store: SampleStore,
) -> None:
    add_range(store, 0, 100)
    store.flush()
    assert store.store_error is None
    on_writer(store, f"PRAGMA max_page_count = {page_count(store)}")

    add_range(store, 100, 3000)  # far more than the free space left in the file's pages
    store.flush()
    error = store.store_error
    assert error is not None
    assert error.code == "disk_full" and "full" in error.message
    assert error.backlog == store.backlog > 0
    assert error.lost == 0 and store.write_errors >= 1
    assert store.written + store.backlog == 3000

    add_range(store, 3000, 3100)  # still coming while the disk is full
    store.flush()
    assert store.backlog > error.backlog

    on_writer(store, "PRAGMA max_page_count = 1000000")  # space is back
    wait_for(lambda: store.store_error is None)
    add_range(store, 3100, 3200)
    store.flush()
    assert store.backlog == 0 and store.lost == 0
    assert stored_currents(store) == [k / 1000 for k in range(3200)]


def test_read_only_store_holds_samples_and_writes_them_when_writable_again(
    store: SampleStore,
) -> None:
    on_writer(store, "PRAGMA query_only = ON")
    add_range(store, 0, 50)
    store.flush()
    error = store.store_error
    assert error is not None and error.code == "read_only"
    assert "readonly" in error.message
    assert (store.backlog, store.written, store.summary()[0]) == (50, 0, 0)
    since = error.since

    add_range(store, 50, 60)
    store.flush()
    again = store.store_error
    assert again is not None and again.since == since and again.backlog == 60

    on_writer(store, "PRAGMA query_only = OFF")
    wait_for(lambda: store.store_error is None)
    assert stored_currents(store) == [k / 1000 for k in range(60)]
    assert (store.written, store.backlog, store.lost) == (60, 0, 0)


def test_a_full_backlog_drops_the_oldest_counts_them_lost_and_keeps_the_rest(
    tmp_path: Path,
) -> None:
    with SampleStore(tmp_path / "s.sqlite3", batch_s=0.01, backlog=fast_backlog(100)) as store:
        on_writer(store, "PRAGMA query_only = ON")
        add_range(store, 0, 250)
        store.flush()
        error = store.store_error
        assert error is not None and (error.backlog, error.lost) == (100, 150)

        on_writer(store, "PRAGMA query_only = OFF")
        wait_for(lambda: store.store_error is None)
        assert stored_currents(store) == [k / 1000 for k in range(150, 250)]
        assert (store.lost, store.backlog) == (150, 0)


def test_samples_still_held_at_close_are_counted_lost(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    store = SampleStore(tmp_path / "s.sqlite3", batch_s=0.01, backlog=fast_backlog())
    on_writer(store, "PRAGMA query_only = ON")
    add_range(store, 0, 20)
    with caplog.at_level(logging.ERROR):
        store.close()
    assert store.lost == 20
    assert "20 held samples could not be written" in caplog.text


def test_bulk_import_fails_loudly_instead_of_being_held(store: SampleStore) -> None:
    on_writer(store, "PRAGMA query_only = ON")
    with pytest.raises(sqlite3.OperationalError, match="readonly"):
        store.add_many([sample(T0 + k) for k in range(10)])
    assert store.backlog == 0 and store.store_error is None


def test_a_refusal_waiting_cannot_cure_is_counted_lost_not_held(tmp_path: Path) -> None:
    path = tmp_path / "samples.sqlite3"
    with SampleStore(path, batch_s=0.01, backlog=fast_backlog()) as store:
        other = sqlite3.connect(path)
        other.execute("ALTER TABLE minutes RENAME TO hidden")
        other.commit()
        store.add(sample(T0))
        store.flush()
        assert (store.lost, store.backlog, store.store_error) == (1, 0, None)
        other.execute("ALTER TABLE hidden RENAME TO minutes")
        other.commit()
        other.close()


def test_pruning_waits_while_the_store_refuses_writes(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    with SampleStore(
        tmp_path / "s.sqlite3",
        retention_s=60.0,
        batch_s=0.01,
        prune_every_s=0.02,
        backlog=fast_backlog(),
    ) as store:
        add_range(store, 0, 5)  # samples from 2024: older than the retention
        on_writer(store, "PRAGMA query_only = ON")
        add_range(store, 5, 10)
        store.flush()
        with caplog.at_level(logging.ERROR):
            time.sleep(0.3)  # several pruning periods pass during the fault
        assert "write failed" not in caplog.text
        assert store.backlog == 5
        on_writer(store, "PRAGMA query_only = OFF")
        wait_for(lambda: store.store_error is None)
        wait_for(lambda: store.summary()[0] == 0)  # pruning resumed


def test_retention_change_while_read_only_prunes_later_instead_of_failing(
    store: SampleStore,
) -> None:
    add_range(store, 0, 10)
    store.flush()
    on_writer(store, "PRAGMA query_only = ON")
    store.retention_s = 60.0
    assert store.prune_expired(T0 + 1000) == 0
    assert store.summary()[0] == 10
    on_writer(store, "PRAGMA query_only = OFF")
    assert store.prune_expired(T0 + 1000) == 10


# -- through the API ----------------------------------------------------------------------


def test_status_shows_store_error_while_the_store_is_read_only_and_loses_no_sample(
    emulator: EmulatorHost, tmp_path: Path
) -> None:
    path = tmp_path / "samples.sqlite3"
    store = SampleStore(path, batch_s=0.05, backlog=fast_backlog())
    runtime = Runtime(ServerSettings(), MeterConfig(str(emulator.link), 0.1, 10), store)
    with TestClient(create_app(runtime), base_url=BASE_URL) as client:
        healthy = client.get("/api/status").json()
        assert healthy["store_error"] is None
        assert set(healthy["store"]) == {"written", "backlog", "lost", "write_errors"}

        on_writer(store, "PRAGMA query_only = ON")
        wait_for(lambda: client.get("/api/status").json()["store_error"] is not None)
        wait_for(lambda: client.get("/api/status").json()["store"]["backlog"] >= 3)
        status = client.get("/api/status").json()
        error = status["store_error"]
        assert set(error) == {"code", "message", "since", "backlog", "lost"}
        assert error["code"] == "read_only" and error["lost"] == 0
        assert error["since"][10] == "T"
        assert status["connected"] is True  # the meter is fine; the disk is not

        on_writer(store, "PRAGMA query_only = OFF")
        wait_for(lambda: client.get("/api/status").json()["store_error"] is None)
        assert client.get("/api/status").json()["store"]["lost"] == 0
    taken = runtime.poller.counters.samples
    with SampleStore(path) as reopened:
        assert reopened.summary()[0] == taken  # every sample the poller took is stored


# -- a real full disk (root only) ----------------------------------------------------------


@contextlib.contextmanager
def tiny_tmpfs(where: Path) -> Iterator[Path]:
    """A 1 MB tmpfs mounted at ``where``; skips the test where mounting is not permitted."""
    where.mkdir()
    if os.geteuid() != 0:
        pytest.skip("mounting a tmpfs needs root; the seam tests above cover the behaviour")
    done = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", "size=1m", "tmpfs", str(where)],
        capture_output=True,
        text=True,
        check=False,
    )
    if done.returncode != 0:
        pytest.skip(f"mounting a tmpfs is not permitted here: {done.stderr.strip()}")
    try:
        yield where
    finally:
        if subprocess.run(["umount", str(where)], check=False).returncode != 0:
            subprocess.run(["umount", "-l", str(where)], check=False)


def fill(directory: Path) -> Path:
    """Write a file until the file system is full; return it."""
    filler = directory / "filler"
    with filler.open("wb", buffering=0) as handle, contextlib.suppress(OSError):
        while True:
            handle.write(b"\0" * 4096)
    return filler


def test_a_really_full_disk_holds_samples_until_space_returns(tmp_path: Path) -> None:
    with tiny_tmpfs(tmp_path / "mnt") as mnt:
        store = SampleStore(mnt / "samples.sqlite3", batch_s=0.01, backlog=fast_backlog())
        try:
            add_range(store, 0, 100)
            store.flush()
            filler = fill(mnt)
            add_range(store, 100, 20_000)
            store.flush()
            error = store.store_error
            assert error is not None and error.code in ("disk_full", "io_error")
            assert error.backlog > 0

            filler.unlink()
            wait_for(lambda: store.store_error is None)
            assert stored_currents(store) == [k / 1000 for k in range(20_000)]
            assert store.lost == 0
        finally:
            store.close()


@pytest.mark.e2e
def test_server_on_a_full_disk_reports_store_error_then_recovers(
    emulator: EmulatorHost, tmp_path: Path
) -> None:
    with tiny_tmpfs(tmp_path / "mnt") as mnt:
        server = start_server(
            "--device", str(emulator.link), "--interval", "0.1", "--data-dir", str(mnt)
        )
        try:
            status = lambda: httpx.get(f"{server.url}/api/status", timeout=5).json()  # noqa: E731
            wait_for(lambda: status()["data_count"] > 0)
            filler = fill(mnt)
            wait_for(lambda: status()["store_error"] is not None, timeout_s=20)
            error = status()["store_error"]
            assert error["code"] in ("disk_full", "io_error") and error["lost"] == 0
            filler.unlink()
            wait_for(lambda: status()["store_error"] is None, timeout_s=20)
            assert status()["store"]["lost"] == 0
        finally:
            output = server.stop()
        assert "cannot be written" in output and "writable again" in output
