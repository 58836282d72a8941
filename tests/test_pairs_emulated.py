"""Pair results from two linked emulators polled through pyserial, against their own logs.

Each meter is read by its own thread through the real ``SerialMeter`` (pty, pyserial,
protocol), with faults injected on both links; the expected figures are computed from the
values the emulators logged as served, independently of :mod:`tc66c_server.pairs`.
"""

from __future__ import annotations

import itertools
import math
import statistics
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from tc66c_server.emulator import FaultKind
from tc66c_server.emulator.converter import CableModel, ConverterModel, PairModel
from tc66c_server.emulator.pair import EmulatorPair
from tc66c_server.emulator.source import Served
from tc66c_server.errors import MeterError
from tc66c_server.pairs import EFFICIENCY_FLOOR_W, PairResult, pair_result
from tc66c_server.transport import SerialMeter

INTERVAL_S = 0.1
SAMPLES = 100  # per meter: about 10 s at 10 Hz
GAP_S = 2.0


class Reader:
    """Polls one meter at a fixed cadence in its own thread, keeping store-shaped rows."""

    def __init__(self, link: Path) -> None:
        self.link = link
        self.rows: list[tuple[float, float, float, float]] = []
        self.errors = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name=f"reader {link}", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(timeout=5)

    def _run(self) -> None:
        meter = SerialMeter(str(self.link), timeout_s=0.5)
        slot = time.monotonic()
        try:
            while not self._stop.is_set():
                try:
                    if not meter.is_open:
                        meter.open()
                    reading = meter.read()
                    self.rows.append((time.time(), reading.voltage, reading.current, reading.power))
                except MeterError:
                    self.errors += 1
                # Slots missed while waiting for a silent meter are skipped, as the poller does.
                slot += INTERVAL_S * max(1, math.ceil((time.monotonic() - slot) / INTERVAL_S))
                self._stop.wait(max(slot - time.monotonic(), 0.0))
        finally:
            meter.close()


@pytest.fixture
def run_pair(
    tmp_path: Path,
) -> Iterator[Callable[[PairModel, float], tuple[EmulatorPair, Reader, Reader]]]:
    """Start a linked pair ``start_s`` into the bench session and poll both meters until
    each has SAMPLES rows; once both answer, flipped replies on the input and silences on
    the output (served, so logged, but never received: the bench is steady then)."""
    started: list[tuple[EmulatorPair, Reader, Reader]] = []

    def run(model: PairModel, start_s: float) -> tuple[EmulatorPair, Reader, Reader]:
        pair = EmulatorPair(
            tmp_path / "in", tmp_path / "out", model, start_s=start_s, reply_delay_s=0.0
        )
        pair.start()
        readers = Reader(pair.input.link), Reader(pair.output.link)
        started.append((pair, *readers))
        for reader in readers:
            reader.start()
        deadline = time.monotonic() + 60
        while min(len(r.rows) for r in readers) < 10 and time.monotonic() < deadline:
            time.sleep(0.05)
        pair.input.inject(FaultKind.FLIP, 2)
        pair.output.inject(FaultKind.SILENCE, 2)
        while min(len(r.rows) for r in readers) < SAMPLES and time.monotonic() < deadline:
            time.sleep(0.05)
        for reader in readers:
            reader.stop()
        assert min(len(r.rows) for r in readers) >= SAMPLES, "the meters did not answer"
        return started[-1]

    yield run
    for pair, *readers in started:
        for reader in readers:
            reader.stop()
        pair.stop()


def result_of(inp: Reader, out: Reader, max_points: int | None = None) -> PairResult:
    return pair_result(
        inp.rows,
        out.rows,
        start_ts=inp.rows[0][0],
        end_ts=inp.rows[-1][0],
        gap_s=GAP_S,
        align_s=INTERVAL_S,
        max_points=max_points,
    )


def served_energy_ws(log: list[Served], start: float, end: float) -> float:
    """The trapezoid integral of the served power over session time start..end (W·s),
    the power interpolated linearly at both ends."""
    total = 0.0
    for a, b in itertools.pairwise(log):
        lo, hi = max(a.t_s, start), min(b.t_s, end)
        if hi > lo:
            slope = (b.reading.power - a.reading.power) / (b.t_s - a.t_s)
            p_lo = a.reading.power + slope * (lo - a.t_s)
            p_hi = a.reading.power + slope * (hi - a.t_s)
            total += (p_lo + p_hi) / 2 * (hi - lo)
    return total


def served_efficiency(pair: EmulatorPair) -> float:
    """ΔE_out / ΔE_in from the logs, over the session time both meters were read."""
    inp, out = pair.input_log.served(), pair.output_log.served()
    start, end = max(inp[0].t_s, out[0].t_s), min(inp[-1].t_s, out[-1].t_s)
    return served_energy_ws(out, start, end) / served_energy_ws(inp, start, end)


def test_converter_efficiency_is_within_1_percent_of_the_served_values(
    run_pair: Callable[[PairModel, float], tuple[EmulatorPair, Reader, Reader]],
) -> None:
    model = ConverterModel()
    # 98 s in: 20 V at ~1.2 A, then at 105.1 s a laptop wakes up (~2.9 A).
    pair, inp, out = run_pair(model, 98.0)
    assert inp.errors >= 1 and out.errors >= 1  # the faults struck both links
    expected = served_efficiency(pair)
    result = result_of(inp, out, max_points=1000)
    assert result.efficiency is not None
    assert result.efficiency == pytest.approx(expected, rel=0.01)
    assert 0.80 < result.efficiency < 0.92
    assert result.loss_w is not None and result.loss_w > 0
    assert result.sample_count > SAMPLES / 2
    # The instantaneous series follows the model's curve where it is shown...
    assert result.bucket_seconds == 1.0
    shown = [p for p in result.data if p.efficiency is not None]
    assert len(shown) >= 5
    for point in shown:
        assert point.power_in >= EFFICIENCY_FLOOR_W
        assert point.efficiency == pytest.approx(model.efficiency(point.power_in), abs=0.01)
    # ...and is hidden on both sides of the load step.
    # The step may fall inside a bucket (its power is then halfway): look two buckets apart.
    data = result.data
    jumps = [abs(c.power_in - a.power_in) for a, c in zip(data, data[2:], strict=False)]
    step = jumps.index(max(jumps))
    assert max(jumps) > 20
    assert data[step + 1].efficiency is None
    assert data[step].efficiency is None or data[step + 2].efficiency is None


def test_cable_resistance_is_within_2_percent_of_the_served_values(
    run_pair: Callable[[PairModel, float], tuple[EmulatorPair, Reader, Reader]],
) -> None:
    # 26 s in: a phone charging at 9 V, its current ramping from ~0.8 A.
    pair, inp, out = run_pair(CableModel(0.25), 26.0)
    assert inp.errors >= 1 and out.errors >= 1
    drops = [
        (pair.input_session.reading_at(s.t_s).voltage - s.reading.voltage) / s.reading.current
        for s in pair.output_log.served()
        if s.reading.current >= 0.5
    ]
    expected = statistics.mean(drops)
    assert expected == pytest.approx(0.25, rel=0.001)
    result = result_of(inp, out)
    assert result.cable_resistance_ohm is not None
    assert result.cable_resistance_ohm == pytest.approx(expected, rel=0.02)
    assert result.efficiency == pytest.approx(served_efficiency(pair), rel=0.01)
