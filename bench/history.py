"""The store over long histories: bytes per sample (version 1 against 2), the upgrade of a
week-long version 1 store, and a year of 1 Hz samples behind the real server.

The year is built straight into the store's chunks and rollups (``writes.insert_samples``
on a connection, a day per transaction): one day of the emulator's bench session is made
once and laid down day after day, its counters carried on, with the meter unplugged for
ten minutes and a five-second dropout each day, so the rollups hold real gaps.
"""

from __future__ import annotations

import contextlib
import random
import sqlite3
import tempfile
import time
from collections.abc import Iterator
from operator import add
from pathlib import Path

from tc66c_server import quantities as q
from tc66c_server.config import MAX_RETENTION_MIN
from tc66c_server.store import schema, upgrade, writes
from tc66c_server.store.codec import RawSample, encode, ts_to_us
from tests.fixtures import store_v1

from . import procs
from .client import KeepAlive
from .common import Figure, percentiles_ms
from .dataset import bench_samples

SECTION = "A year of history, store version 2 (issue 9: store)"
METHODS = {
    SECTION: (
        "Bytes per sample: the same days of the emulator's bench session (1 Hz, exact "
        "1 s steps, as `tests/test_store_size.py`) written by the version 1 store (a frozen "
        "copy in `tests/fixtures/store_v1.py`) and by version 2, files checkpointed, sizes "
        "(database + WAL) over the sample count; a second version 2 file adds the timing "
        "jitter of a real poll (uniform ±1 ms), which its timestamps keep to the "
        "microsecond. Upgrade: `upgrade.upgrade_file` on a copy of the week-long version 1 "
        "file (read, re-encode, check, vacuum, rename), wall time. Year: 365 days of 1 Hz "
        "samples ending when the run starts (one day of the bench session laid down day "
        "after day, with a 10-minute unplug and a 5-second dropout each day) are written "
        "into the store's chunks and rollups directly, topped up to the present, and the "
        "real server (`api_server.py`, absent meter, retention at its maximum) answers "
        "each request on one kept-alive connection, after two warm-ups, as many times as "
        "fit its time budget; memory is the server's proportional set size (its and its "
        "children's `Pss`) after all the requests."
    )
}
ABSENT_DEVICE = "/dev/tc66c-bench-absent"
DAY_S = 86_400
DAY_US = DAY_S * 1_000_000
BYTES_TARGET = 12
#: Requests on the year, with their p50 targets (None: reported only).
YEAR_REQUESTS: tuple[tuple[str, float | None], ...] = (
    ("/api/stats/365d", 20.0),
    ("/api/data/30d?max_points=2000", 20.0),
    ("/api/data/1h", 5.0),
    ("/api/data/365d?max_points=1000", None),
    ("/api/data/24h?max_points=1000", None),
    ("/api/stats/30d", None),
    ("/api/stats/24h", None),
)
MEMORY_TARGET_MB = 150
_COUNTERS = tuple(q.ALL.index(quantity) for quantity in q.ALL if quantity.kind == "counter")
#: Each day: the meter is unplugged for 10 minutes, and drops 5 samples elsewhere.
_UNPLUGGED_S, _DROPOUT_S = 600, 5


class _Day:
    """One day of the bench session as raw samples, repeated with its counters carried on."""

    def __init__(self) -> None:
        raws = [encode(s) for s in bench_samples(DAY_S, float(DAY_S - 1))]
        self.device = raws[0].device
        self.values = [raw.values for raw in raws]
        first, last = self.values[0], self.values[-1]
        self.step = tuple(
            last[k] - first[k] + (last[k] - self.values[-2][k]) if k in _COUNTERS else 0
            for k in range(len(first))
        )

    def samples(self, day: int, first_us: int, start_s: int = 0) -> Iterator[RawSample]:
        """Day ``day`` (from 0) of a history starting at ``first_us``, from second
        ``start_s`` of the day, gaps left out."""
        unplug = (day * 7919) % (DAY_S - 2 * _UNPLUGGED_S)
        dropout = (unplug + DAY_S // 2) % (DAY_S - _DROPOUT_S)
        shift = tuple(day * s for s in self.step)
        base_us = first_us + day * DAY_US
        device = self.device
        for second in range(start_s, DAY_S):
            if unplug <= second < unplug + _UNPLUGGED_S or dropout <= second < dropout + 5:
                continue
            values = tuple(map(add, self.values[second], shift))
            yield RawSample(base_us + second * 1_000_000, device, values)


def build_year(path: Path, days: int, end_ts: float) -> tuple[int, float]:
    """A version 2 store at ``path`` with ``days`` of 1 Hz samples, the last at ``end_ts``
    or, once built, at the present; return (samples, seconds it took)."""
    started = time.perf_counter()
    template = _Day()
    first_us = ts_to_us(end_ts) - days * DAY_US + 1_000_000
    conn = schema.connect(str(path))
    count = 0
    try:
        conn.execute("PRAGMA synchronous = OFF")
        schema.migrate(conn)
        for day in range(days):
            count += writes.insert_samples(conn, list(template.samples(day, first_us)))
        # The build took minutes: add the seconds since, so the last hour is full.
        late = int(time.time() - end_ts)
        top_up = [
            raw
            for day in (days, days + 1)
            for raw in template.samples(day, first_us)
            if raw.ts_us <= first_us + (days * DAY_S + late) * 1_000_000
        ]
        count += writes.insert_samples(conn, top_up)
        conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    finally:
        conn.close()
    return count, time.perf_counter() - started


def _file_bytes(path: Path) -> int:
    conn = sqlite3.connect(path)
    try:
        conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    finally:
        conn.close()
    return sum(f.stat().st_size for f in path.parent.glob(path.name + "*"))


def _v2_file(path: Path, raws: list[RawSample]) -> int:
    conn = schema.connect(str(path))
    try:
        schema.migrate(conn)
        for k in range(0, len(raws), 20_000):
            writes.insert_samples(conn, raws[k : k + 20_000])
    finally:
        conn.close()
    return _file_bytes(path)


def _jittered(raws: list[RawSample]) -> list[RawSample]:
    """The same samples with the timing jitter of a real poll (±1 ms, reproducible)."""
    rng = random.Random(9)
    return [raw._replace(ts_us=raw.ts_us + rng.randint(-1000, 1000)) for raw in raws]


def _format_figures(days: int, tmp: Path) -> list[Figure]:
    """Bytes per sample of version 1 and 2, and the time to upgrade the version 1 file."""
    count = days * DAY_S
    samples = list(bench_samples(count, 1_732_000_020.0 + count))
    raws = [encode(s) for s in samples]
    v1_path = tmp / "v1" / "samples.sqlite3"
    v1_path.parent.mkdir()
    print(f"   writing {count:,} samples as version 1...", flush=True)
    store_v1.write_samples(v1_path, samples)
    v1_bytes = _file_bytes(v1_path)
    v2_bytes = _v2_file(tmp / "v2.sqlite3", raws)
    jitter_bytes = _v2_file(tmp / "v2-jitter.sqlite3", _jittered(raws))
    copy = tmp / "upgrade" / "samples.sqlite3"
    copy.parent.mkdir()
    copy.write_bytes(v1_path.read_bytes())
    started = time.perf_counter()
    upgraded = upgrade.upgrade_file(copy)
    upgrade_s = time.perf_counter() - started
    assert upgraded == count, upgraded
    v1, v2, jitter = v1_bytes / count, v2_bytes / count, jitter_bytes / count
    print(f"   v1 {v1:.2f} B/sample, v2 {v2:.2f} (jitter {jitter:.2f}); upgrade {upgrade_s:.1f} s")
    span = f"{days} d, {count:,} samples of the bench session"
    return [
        Figure(
            SECTION,
            "bytes on disk per 1 Hz sample, version 2 against version 1",
            v2,
            "B/sample",
            baseline=v1,
            baseline_label="store version 1",
            target=f"≤ {BYTES_TARGET} B",
            met=v2 <= BYTES_TARGET,
            note=f"{span}; v2 {v2_bytes / 1e6:.1f} MB, v1 {v1_bytes / 1e6:.1f} MB",
        ),
        Figure(
            SECTION,
            "bytes on disk per 1 Hz sample, version 2, timestamps with ±1 ms poll jitter",
            jitter,
            "B/sample",
            note=f"{span}; every timestamp kept to the microsecond",
        ),
        Figure(
            SECTION,
            f"upgrade of a {days}-day version 1 store to version 2",
            upgrade_s,
            "s",
            note=f"{count:,} samples, {v1_bytes / 1e6:.1f} MB read; old file kept as a backup",
        ),
    ]


def _timed(client: KeepAlive, path: str, budget_s: float, min_n: int, max_n: int) -> list[float]:
    for _ in range(2):
        client.timed(path)
    times: list[float] = []
    deadline = time.monotonic() + budget_s
    while len(times) < max_n and (len(times) < min_n or time.monotonic() < deadline):
        times.append(client.timed(path))
    return times


def _year_figures(days: int, tmp: Path, quick: bool) -> list[Figure]:
    data_dir = tmp / "year"
    data_dir.mkdir()
    store = data_dir / "samples.sqlite3"
    print(f"   building {days} days of 1 Hz samples...", flush=True)
    count, build_s = build_year(store, days, time.time())
    size = _file_bytes(store)
    print(f"   {count:,} samples in {build_s:.0f} s, {size / count:.2f} B/sample", flush=True)
    budget_s, min_n, max_n = (1.0, 5, 40) if quick else (6.0, 30, 400)
    figures = [
        Figure(
            SECTION,
            f"building {days} days of 1 Hz samples into chunks and rollups",
            build_s,
            "s",
            note=f"{count:,} samples, {size / count:.2f} B/sample on disk ({size / 1e6:.0f} MB)",
        )
    ]
    with contextlib.ExitStack() as stack:
        server = procs.start_ours(
            data_dir, ABSENT_DEVICE, retention_min=MAX_RETENTION_MIN, log_dir=tmp
        )
        stack.callback(server.stop)
        ready_s = server.wait_ready()
        client = KeepAlive(server.port)
        stack.callback(client.close)
        for path, target_ms in YEAR_REQUESTS:
            times = _timed(client, path, budget_s, min_n, max_n)
            answer = client.json(path)
            points = int(answer.get("count", answer.get("sample_count", 0)))
            p50, p99 = percentiles_ms(times)
            print(f"   {path}: p50 {p50:.2f} ms, p99 {p99:.2f} ms ({points:,} points)")
            figures.append(
                Figure(
                    SECTION,
                    f"year: GET {path} p50",
                    p50,
                    "ms",
                    target=f"p50 ≤ {target_ms:g} ms" if target_ms is not None else "",
                    met=None if target_ms is None else p50 <= target_ms,
                    note=f"{len(times)} requests, p99 {p99:.2f} ms; {points:,} in the answer",
                )
            )
        time.sleep(0.5)
        memory = procs.rss_bytes(server.pid) / 1e6
    print(f"   server memory {memory:.1f} MB, ready in {ready_s:.2f} s")
    figures.append(
        Figure(
            SECTION,
            "year: server memory after those requests (Pss, server and children)",
            memory,
            "MB",
            target=f"≤ {MEMORY_TARGET_MB} MB",
            met=memory <= MEMORY_TARGET_MB,
            note=f"{count:,} samples in the store; start to first answer {ready_s:.2f} s",
        )
    )
    return figures


def run(quick: bool = False) -> list[Figure]:
    """Store format figures on a week (a day in quick mode), then the year (30 days)."""
    with tempfile.TemporaryDirectory(prefix="tc66c-bench-history-") as tmp:
        root = Path(tmp)
        figures = _format_figures(1 if quick else 7, root)
        figures += _year_figures(30 if quick else 365, root, quick)
    return figures
