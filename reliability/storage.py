"""The store under attack: a corrupt database at start, a disk that fills up and frees again."""

from __future__ import annotations

import contextlib
import hashlib
import math
import random
import subprocess
import time
from pathlib import Path

from tc66c_server.emulator import BenchSession
from tc66c_server.reading import Sample
from tc66c_server.store import SampleStore

from .acquisition import COMMIT_S, INTERVAL_S
from .api import client, status, stored_samples, wait_for, wait_for_samples
from .outcome import Outcome
from .procs import start_emulator, start_server
from .served import compare

STORE_NAME = "samples.sqlite3"
PAGE = 4096
#: How each corruption is made; each one stopped the server from starting (issue 8, #6).
DAMAGES = ("header", "page", "truncated", "random")
TMPFS_MIB = 16
FULL_S = 5.0
#: How soon a full disk must show in /api/status, and its end be noticed.
NOTICE_S = 10.0


def make_history(path: Path, count: int, *, end_ts: float, step_s: float = 1.0) -> None:
    """Write ``count`` samples ``step_s`` apart, the newest at ``end_ts``, with our store."""
    session = BenchSession(5)
    # A few hundred distinct readings are plenty; computing one per sample is slow.
    readings = [session.reading_at(float(k)) for k in range(0, 900, 3)]
    first = end_ts - (count - 1) * step_s
    path.parent.mkdir(parents=True, exist_ok=True)
    with SampleStore(path) as store:
        store.add_many(
            Sample(first + k * step_s, readings[k % len(readings)]) for k in range(count)
        )


def damage(path: Path, how: str, rng: random.Random) -> None:
    """Corrupt a closed SQLite file the way ``how`` says (one of :data:`DAMAGES`)."""
    data = bytearray(path.read_bytes())
    if how == "header":
        data[:100] = rng.randbytes(100)
    elif how == "page":  # the first page after the schema, and the one after it
        data[PAGE : 3 * PAGE] = rng.randbytes(2 * PAGE)
    elif how == "truncated":
        del data[len(data) * 2 // 5 + 123 :]
    elif how == "random":
        data[:] = rng.randbytes(len(data))
    else:
        raise ValueError(f"unknown damage {how!r}")
    path.write_bytes(bytes(data))


def corrupt_database(workdir: Path, how: str) -> Outcome:
    """Start the server on a damaged store: it must move the file aside and run."""
    outcome = Outcome(
        f"corrupt database ({how})",
        f"a store of 20,000 samples damaged ({how}) before the server starts",
    )
    outcome.faults = 1
    data_dir = workdir / "data"
    path = data_dir / STORE_NAME
    make_history(path, 20_000, end_ts=time.time() - 3600)
    for extra in ("-wal", "-shm"):
        Path(f"{path}{extra}").unlink(missing_ok=True)
    damage(path, how, random.Random(DAMAGES.index(how)))
    digest = hashlib.sha256(path.read_bytes()).hexdigest()
    with contextlib.ExitStack() as stack:
        emulator = start_emulator(workdir)
        stack.callback(emulator.stop)
        server = start_server(
            workdir, data_dir, str(emulator.link), interval_s=INTERVAL_S, wait=False
        )
        stack.callback(server.stop)
        try:
            server.wait_ready(20)
        except RuntimeError:
            output = server.output()
            last = [line for line in output.splitlines() if line.strip()][-1:]
            outcome.fail("the server starts and answers", f"it exited: {' '.join(last)}")
            outcome.check("no traceback in the server's output", "Traceback" not in output)
            return outcome
        outcome.check("the server starts and answers", True)
        http = stack.enter_context(client(server.url))
        outcome.check("a fresh store takes new samples", wait_for_samples(http, 4, 10.0))
        output = server.output()
    aside = sorted(data_dir.glob(f"{STORE_NAME}.corrupt-*"))
    outcome.check("the damaged file is moved aside", len(aside) == 1, [p.name for p in aside])
    if len(aside) == 1:
        kept = hashlib.sha256(aside[0].read_bytes()).hexdigest() == digest
        outcome.check("the damaged file is kept as it was", kept)
    outcome.check("the server's output names the file", STORE_NAME in output, output[-300:])
    outcome.check("no traceback in the server's output", "Traceback" not in output)
    return outcome


def _fill(directory: Path) -> Path:
    """Write a file until the file system is full (ENOSPC); returns it."""
    filler = directory / "filler"
    with filler.open("wb", buffering=0) as out:
        for size in (1 << 20, 4096, 1):
            block = b"\0" * size
            with contextlib.suppress(OSError):
                while True:
                    out.write(block)
    return filler


def _mount_tmpfs(mountpoint: Path) -> str | None:
    """Mount a small tmpfs; None when done, else why it could not be."""
    mountpoint.mkdir(parents=True, exist_ok=True)
    try:
        done = subprocess.run(
            ["mount", "-t", "tmpfs", "-o", f"size={TMPFS_MIB}m", "tmpfs", str(mountpoint)],
            capture_output=True,
            text=True,
            timeout=10,
        )
    except (OSError, subprocess.TimeoutExpired) as exc:
        return f"cannot run mount: {exc}"
    if done.returncode != 0:
        return f"mounting a tmpfs was refused: {done.stderr.strip() or done.returncode}"
    return None


def _unmount(mountpoint: Path) -> None:
    for args in (["umount", str(mountpoint)], ["umount", "-l", str(mountpoint)]):
        if subprocess.run(args, capture_output=True, timeout=10).returncode == 0:
            return


def disk_full(workdir: Path) -> Outcome:
    """Fill the data directory's file system mid-run, then free it."""
    outcome = Outcome(
        "disk full",
        f"the data directory on a {TMPFS_MIB} MiB tmpfs, filled for {FULL_S:g} s at 4 Hz, then "
        "freed; store_error expected in /api/status meanwhile, the backlog written after",
    )
    mountpoint = workdir / "tmpfs"
    refused = _mount_tmpfs(mountpoint)
    if refused is not None:
        outcome.skipped = refused
        return outcome
    try:
        _disk_full(outcome, workdir, mountpoint)
    finally:
        _unmount(mountpoint)
    return outcome


def _store_error(http_status: dict[str, object]) -> object:
    return http_status.get("store_error", "(no store_error field)")


def _disk_full(outcome: Outcome, workdir: Path, mountpoint: Path) -> None:
    with contextlib.ExitStack() as stack:
        emulator = start_emulator(workdir)
        stack.callback(emulator.stop)
        server = start_server(
            workdir, mountpoint / "data", str(emulator.link), interval_s=INTERVAL_S
        )
        stack.callback(server.stop)
        http = stack.enter_context(client(server.url))
        since = time.time() - 5
        wait_for_samples(http, 4)
        before = status(http)
        outcome.check(
            "store_error is null before", before.get("store_error", 0) is None, _store_error(before)
        )
        filler = _fill(mountpoint)
        full_at = time.time()
        outcome.faults = 1
        error, took = wait_for(lambda: status(http).get("store_error"), NOTICE_S)
        outcome.check(
            f"store_error set within {NOTICE_S:g} s of the disk filling up",
            error,
            f"{_store_error(status(http))} after {took:.1f} s",
        )
        time.sleep(max(0.0, full_at + FULL_S - time.time()))
        outcome.check("the API answers while the disk is full", status(http)["running"])
        filler.unlink()
        freed_at = time.time()
        cleared, took = wait_for(lambda: status(http).get("store_error", 0) is None, NOTICE_S)
        outcome.check(
            f"store_error back to null within {NOTICE_S:g} s of space returning",
            cleared,
            f"{_store_error(status(http))} after {took:.1f} s",
        )
        time.sleep(COMMIT_S)
        asked = time.time()
        stored = stored_samples(http, since)
        log = emulator.served()
        output = server.output()
    sent = [r for r in log.replies if r.t <= asked]
    result = compare(sent, stored, excused=[(asked - COMMIT_S, math.inf)])
    during = [r for r in sent if r.intact and full_at <= r.t <= freed_at]
    outcome.samples_lost = len(result.lost)
    outcome.figures = {"replies_while_full": len(during), "stored": len(stored)}
    outcome.check(
        "every sample taken while the disk was full written once space returned",
        not result.lost,
        f"{result.describe()}; {len(during)} replies while full",
    )
    outcome.check("no bad sample stored", not result.bad, result.describe())
    outcome.check("no traceback in the server's output", "Traceback" not in output)
