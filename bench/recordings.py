"""Recordings: the cost of the live summary per sample and of a 24 h summary from its state.

``python -m bench.recordings`` prints the figures recorded in ``docs/performance.md``.
Feeds 24 h of the emulator's bench session at 1 Hz (86,400 samples) to a summary
accumulator, then times the answer a ``GET /api/recordings/{id}`` of a finished recording
computes: its JSON state read back, the accumulator rebuilt and the summary rendered.
"""

from __future__ import annotations

import json
import statistics
import time

from tc66c_server.emulator.signal import BenchSession
from tc66c_server.reading import Sample
from tc66c_server.recordings.summary import RecordingInfo, SummaryAccumulator, summary

T0 = 1_732_000_020.0
DAY_S = 86_400


def main() -> None:
    session = BenchSession(3)
    samples = [Sample(T0 + t, session.reading_at(float(t))) for t in range(DAY_S)]
    acc = SummaryAccumulator(T0, gap_s=3.0)
    started = time.perf_counter()
    for s in samples:
        acc.add(s.ts, s.reading)
    per_sample_us = (time.perf_counter() - started) / DAY_S * 1e6
    acc.close(T0 + DAY_S, "manual")
    stored = json.dumps(acc.to_state())
    info = RecordingInfo(1, "a day", "m1")
    times = []
    for _ in range(200):
        started = time.perf_counter()
        summary(SummaryAccumulator.from_state(json.loads(stored)), info)
        times.append((time.perf_counter() - started) * 1000)
    print(f"live summary: {per_sample_us:.1f} µs per sample (86,400 samples)")
    print(
        f"24 h summary from stored state: p50 {statistics.median(times):.3f} ms, "
        f"max {max(times):.3f} ms over 200 runs; state {len(stored)} bytes"
    )


if __name__ == "__main__":
    main()
