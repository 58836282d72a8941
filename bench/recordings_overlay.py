"""How long the recordings page takes to overlay 4 recordings of 24 h at 1 Hz.

``python -m bench.recordings_overlay`` writes four days of the emulator's bench session at
1 Hz (4 x 86,400 samples) into a fresh data directory, files each day as a recording,
starts the real server on it and, in Debian's Chromium, selects the four on the recordings
page and clicks "Compare": the time from the click until the chart holds its points
(four data requests of 2,000 buckets, the join on one axis and uPlot's first draw).
"""

from __future__ import annotations

import statistics
import tempfile
import time
from pathlib import Path

from playwright.sync_api import expect, sync_playwright

from tc66c_server.emulator.signal import BenchSession
from tc66c_server.reading import Sample
from tc66c_server.recordings.bench import accumulate
from tc66c_server.recordings.db import FILE_NAME, RecordingDb
from tc66c_server.store import SampleStore
from tests.serverproc import start_server
from tests.test_dashboard_browser import CHROMIUM, CHROMIUM_ARGS

DAY_S = 86_400
RECORDINGS = 4


def prepare(data_dir: Path, now: float) -> None:
    session = BenchSession(3)
    store = SampleStore(data_dir / "samples.sqlite3")
    db = RecordingDb(data_dir / FILE_NAME)
    try:
        for k in range(RECORDINGS):
            start = now - (RECORDINGS - k) * DAY_S - 3600
            samples = [Sample(start + t, session.reading_at(float(t))) for t in range(DAY_S)]
            store.add_many(samples, meter="m1")
            acc = accumulate(samples, 3.0, has_counters=True)
            acc.close(samples[-1].ts, "manual")
            db.create(
                name=f"day {k + 1}", meter="m1", start_ts=start, state=acc.to_state(),
                end_ts=samples[-1].ts, end_reason="manual",
            )  # fmt: skip
    finally:
        store.close()
        db.close()


def main() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        data_dir = Path(tmp) / "data"
        data_dir.mkdir()
        prepare(data_dir, time.time())
        server = start_server(
            "--device", str(Path(tmp) / "absent"), "--data-dir", str(data_dir),
            "--retention", str(7 * 24 * 60),
        )  # fmt: skip
        times = []
        try:
            with sync_playwright() as playwright:
                browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
                for _ in range(5):
                    page = browser.new_page()
                    page.goto(server.url + "/recordings")
                    expect(page.get_by_test_id("rec-row")).to_have_count(RECORDINGS)
                    for pick in page.get_by_test_id("rec-pick").all():
                        pick.check()
                    started = time.perf_counter()
                    page.get_by_test_id("rec-compare").click()
                    expect(page.get_by_test_id("rec-chart")).to_have_attribute(
                        "data-series", str(RECORDINGS), timeout=30_000
                    )
                    times.append(time.perf_counter() - started)
                    points = page.get_by_test_id("rec-chart").get_attribute("data-points")
                    page.close()
                browser.close()
        finally:
            server.stop()
        p50_ms, max_ms = statistics.median(times) * 1000, max(times) * 1000
        print(
            f"overlay of {RECORDINGS} x 24 h at 1 Hz: p50 {p50_ms:.0f} ms, max {max_ms:.0f} ms "
            f"over {len(times)} runs; {points} points on the axis"
        )


if __name__ == "__main__":
    main()
