"""A UM25C's own fields in the history, through the real server process and the emulator:
what the emulator sent is what ``/api/.../data/{period}`` gives back, raw, bucketed and as
CSV, also after a restart; a TC66C next to it has none."""

from __future__ import annotations

import csv
import io
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx2 as httpx
import pytest

from tc66c_server.emulator import EmulatorHost
from tc66c_server.emulator.host import ServedReply
from tc66c_server.reading import UM_KEYS

from .serverproc import start_server
from .test_um_e2e import stopped_cleanly, wait_for

pytestmark = pytest.mark.e2e


class Served:
    """The UM fields of every reading the emulator sent, in order."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.fields: list[dict[str, Any]] = []

    def __call__(self, reply: ServedReply) -> None:
        if reply.reading is not None and reply.reading.um is not None and reply.complete:
            with self.lock:
                self.fields.append({k: reply.reading.as_dict()[k] for k in UM_KEYS})

    def snapshot(self) -> list[dict[str, Any]]:
        with self.lock:
            return list(self.fields)


@pytest.fixture
def served() -> Served:
    return Served()


@pytest.fixture
def um25c(tmp_path: Path, served: Served) -> Iterator[EmulatorHost]:
    host = EmulatorHost(
        tmp_path / "rfcomm0", reply_delay_s=0.02, seed=11, model="um25c", on_reply=served
    )
    host.start()
    try:
        yield host
    finally:
        host.stop()


def in_order_within(points: list[dict[str, Any]], sent: list[dict[str, Any]]) -> None:
    """Each point's UM fields are those of a reading sent, in the order they were sent."""
    at = 0
    for point in points:
        wanted = {k: point[k] for k in UM_KEYS}
        while at < len(sent) and sent[at] != wanted:
            at += 1
        assert at < len(sent), f"stored UM fields never sent (or out of order): {wanted}"
        at += 1


def test_um25c_fields_are_kept_in_the_history_as_the_emulator_sent_them(
    um25c: EmulatorHost, served: Served, tmp_path: Path
) -> None:
    args = ("--device", str(um25c.link), "--model", "um25c", "--interval", "0.2")
    args += ("--data-dir", str(tmp_path / "d"))
    server = start_server(*args)
    try:
        url = f"{server.url}/api/meters/m1/data/10m"
        history = wait_for(f"{url}?fields=all", lambda d: d["count"] >= 8, timeout_s=30)
        points = history["data"]
        assert set(UM_KEYS) <= set(points[0])
        assert isinstance(points[0]["charging_mode"], str)
        assert isinstance(points[0]["recording_active"], bool)
        in_order_within(points, served.snapshot())
        assert len({p["group0_mwh"] for p in points} | {p["recording_s"] for p in points}) > 1

        chosen = httpx.get(f"{url}?fields=group9_mwh,charging_mode,resistance", timeout=5).json()
        assert list(chosen["data"][0]) == [
            *("timestamp", "voltage", "current", "power"),
            *("group9_mwh", "charging_mode", "resistance"),
        ]
        text = httpx.get(f"{url}?fields=group9_mwh,threshold_current&format=csv", timeout=5).text
        rows = list(csv.DictReader(io.StringIO(text)))
        assert rows and list(rows[0]) == [
            *("timestamp", "voltage", "current", "power", "group9_mwh", "threshold_current"),
        ]
        by_time = {p["timestamp"]: p for p in points}
        for row in rows:
            if row["timestamp"] in by_time:
                assert int(row["group9_mwh"]) == by_time[row["timestamp"]]["group9_mwh"]
                assert (
                    float(row["threshold_current"])
                    == by_time[row["timestamp"]]["threshold_current"]
                )

        buckets = httpx.get(f"{url}?fields=group2_mah,charging_mode&max_points=2", timeout=5).json()
        bucket = buckets["data"][-1]
        assert {"group2_mah", "charging_mode", "voltage_min"} <= set(bucket)
        assert "group2_mah_min" not in bucket
        assert isinstance(bucket["charging_mode"], str)
    finally:
        stopped_cleanly(server)

    before = [{k: p[k] for k in ("timestamp", *UM_KEYS)} for p in points]
    server = start_server(*args)  # the same data directory: the history survives
    try:
        url = f"{server.url}/api/meters/m1/data/10m"
        again = wait_for(f"{url}?fields=all", lambda d: d["count"] > len(points), timeout_s=30)
        kept = [{k: p[k] for k in ("timestamp", *UM_KEYS)} for p in again["data"]]
        assert kept[: len(before)] == before
    finally:
        stopped_cleanly(server)


def test_a_tc66c_next_to_a_um25c_has_null_um_fields_and_all_leaves_them_out(
    um25c: EmulatorHost, emulator: EmulatorHost, tmp_path: Path
) -> None:
    server = start_server(
        "--device", f"um={um25c.link}", "--device", f"tc={emulator.link}",
        "--interval", "0.3", "--data-dir", str(tmp_path / "d"),
    )  # fmt: skip
    try:
        base = f"{server.url}/api/meters"
        for meter in ("um", "tc"):
            wait_for(f"{base}/{meter}/data/1m", lambda d: d["count"] >= 2, timeout_s=30)
        tc = httpx.get(f"{base}/tc/data/1m?fields=group5_mah,screen_index", timeout=5).json()
        assert all(p["group5_mah"] is None and p["screen_index"] is None for p in tc["data"])
        every = httpx.get(f"{base}/tc/data/1m?fields=all", timeout=5).json()["data"][0]
        assert not set(UM_KEYS) & set(every)
        um = httpx.get(f"{base}/um/data/1m?fields=all", timeout=5).json()["data"][0]
        assert set(UM_KEYS) <= set(um) and um["group5_mah"] is not None
        bucketed = httpx.get(f"{base}/tc/data/1m?fields=group5_mah&max_points=3", timeout=5)
        assert all(p["group5_mah"] is None for p in bucketed.json()["data"])
    finally:
        stopped_cleanly(server)
