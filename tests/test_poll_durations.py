"""Poll durations: a cumulative histogram of every exchange with the meter."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from tc66c_server.emulator import EmulatorHost
from tc66c_server.poll_durations import BUCKETS_S, PollDurations
from tc66c_server.poller import Poller
from tc66c_server.reading import Sample


def test_a_duration_on_a_bound_counts_in_that_bucket_and_above() -> None:
    hist = PollDurations().observe(0.1).observe(0.05).observe(5.0)
    cumulative = dict(hist.cumulative())
    assert cumulative[0.05] == 1
    assert cumulative[0.075] == 1
    assert cumulative[0.1] == 2
    assert cumulative[BUCKETS_S[-1]] == 2
    assert cumulative[float("inf")] == hist.count == 3
    assert hist.sum_s == pytest.approx(5.15)


def test_cumulative_counts_never_decrease_and_end_with_every_exchange() -> None:
    hist = PollDurations()
    for duration in (0.0, 0.009, 0.011, 0.3, 0.31, 2.0, 0.125):
        hist = hist.observe(duration)
    counts = [count for _, count in hist.cumulative()]
    assert counts == sorted(counts) and counts[-1] == 7


def test_histograms_add_up() -> None:
    a = PollDurations().observe(0.01).observe(0.2)
    b = PollDurations().observe(0.2)
    total = a.plus(b)
    assert total.count == 3 and dict(total.cumulative())[0.2] == 3
    assert total.sum_s == a.sum_s + b.sum_s


def test_the_poller_times_every_exchange_it_makes(tmp_path: Path) -> None:
    host = EmulatorHost(tmp_path / "tty", reply_delay_s=0.0, seed=3)
    host.start()
    samples: list[Sample] = []
    poller = Poller(str(host.link), 0.1, on_sample=samples.append)
    try:
        poller.start()
        deadline = time.monotonic() + 10
        while len(samples) < 5 and time.monotonic() < deadline:
            time.sleep(0.05)
    finally:
        poller.stop()
        host.stop()
    assert len(samples) >= 5
    assert poller.durations.count == poller.counters.polls
    assert 0 < poller.durations.sum_s < poller.durations.count * BUCKETS_S[-1]
