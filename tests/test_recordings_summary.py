"""A recording's summary, fed sample by sample: integrals, extremes, counters, PD levels."""

from __future__ import annotations

import json

import pytest

from tc66c_server.reading import Reading
from tc66c_server.recordings.summary import RecordingInfo, SummaryAccumulator, summary

from .recordinghelpers import T0, bench_samples, reading

INFO = RecordingInfo(id=7, name="phone", meter="m1", auto=True)
KEYS = {
    "id", "name", "meter", "start", "end", "duration_s", "run_time_s", "sample_count",
    "energy_wh", "charge_mah", "meter_counters", "power", "voltage", "current", "pd_levels",
    "end_reason", "auto",
}  # fmt: skip


def fed(
    samples: list[tuple[int, Reading]], gap_s: float = 2.0, has_counters: bool = True
) -> SummaryAccumulator:
    acc = SummaryAccumulator(start_ts=T0, gap_s=gap_s, has_counters=has_counters)
    for t, r in samples:
        acc.add(T0 + t, r)
    return acc


def test_summary_has_exactly_the_issue_keys_and_end_is_null_while_running() -> None:
    acc = fed([(0, reading()), (1, reading())])
    body = summary(acc, INFO, now=T0 + 5)
    assert set(body) == KEYS
    assert body["end"] is None and body["end_reason"] is None
    assert body["duration_s"] == 5.0
    assert (body["id"], body["name"], body["meter"], body["auto"]) == (7, "phone", "m1", True)


def test_constant_power_integrates_to_power_times_time() -> None:
    acc = fed([(t, reading(voltage=5.0, current=2.0, power=10.0)) for t in range(11)])
    body = summary(acc, INFO)
    assert body["energy_wh"] == pytest.approx(100 / 3600, abs=1e-6)
    assert body["charge_mah"] == pytest.approx(2.0 * 10 / 3.6, abs=1e-6)
    assert body["sample_count"] == 11


def test_a_power_step_is_integrated_by_trapezoids() -> None:
    acc = fed([(0, reading(power=0.0)), (1, reading(power=10.0)), (2, reading(power=10.0))])
    assert acc.energy_wh == pytest.approx(15 / 3600)


def test_a_step_longer_than_the_gap_adds_nothing() -> None:
    samples = [(t, reading(voltage=5.0, current=2.0, power=10.0)) for t in (0, 1, 2, 10, 11)]
    acc = fed(samples, gap_s=2.0)
    assert acc.energy_wh == pytest.approx(30 / 3600)  # 0..2 and 10..11, not 2..10
    assert acc.charge_mah == pytest.approx(2.0 * 3 / 3.6)


def test_extremes_and_averages_are_at_the_meters_resolution_like_api_stats() -> None:
    acc = fed([(0, reading(voltage=5.0, current=0.1)), (1, reading(voltage=9.0001, current=0.3))])
    body = summary(acc, INFO)
    assert body["voltage"] == {"min": 5.0, "max": 9.0001, "avg": 7.00005}
    assert body["current"] == {"min": 0.1, "max": 0.3, "avg": 0.2}
    assert body["power"]["max"] == pytest.approx(2.7, abs=1e-4)


def test_an_empty_recording_has_null_quantities_and_zero_energy() -> None:
    body = summary(SummaryAccumulator(start_ts=T0, gap_s=2.0), INFO, now=T0 + 3)
    assert body["voltage"] is None and body["power"] is None and body["current"] is None
    assert body["energy_wh"] == 0 and body["sample_count"] == 0
    assert body["meter_counters"] is None and body["run_time_s"] == 0


def test_run_time_starts_when_the_resistance_drops_below_open_circuit() -> None:
    open_circuit = reading(current=0.0, power=0.0, resistance=9999.9)
    loaded = reading(current=1.0, resistance=5.1)
    acc = fed([(0, open_circuit), (1, open_circuit), (4, loaded), (6, loaded)], gap_s=5)
    acc.close(T0 + 10, "manual")
    body = summary(acc, INFO)
    assert body["duration_s"] == 10.0
    assert body["run_time_s"] == 6.0
    assert body["end_reason"] == "manual"


def test_counters_delta_is_end_minus_start_and_agrees_with_the_host_integral() -> None:
    # 10 W for an hour: 10 Wh, 2000 mAh on the host; group 0 counts the same.
    samples = [
        (
            t,
            reading(
                5.0,
                2.0,
                10.0,
                group0_mah=100 + t * 2000 // 3600,
                group0_mwh=50 + t * 10_000 // 3600,
            ),
        )
        for t in range(0, 3601)
    ]
    body = summary(fed(samples), INFO)
    counters = body["meter_counters"]
    assert counters["group0"]["start"] == {"mah": 100, "mwh": 50}
    assert counters["group0"]["end"] == {"mah": 2100, "mwh": 10_050}
    assert counters["group0"]["delta"] == {"mah": 2000, "mwh": 10_000}
    assert counters["group0"]["agrees"] is True
    assert counters["group1"]["delta"] == {"mah": 0, "mwh": 0}
    assert counters["group1"]["agrees"] is False
    assert counters["disagree"] is False


def test_counters_that_disagree_beyond_5_percent_raise_the_flag() -> None:
    # The meter counted 11 Wh where the host integrated 10 Wh (10 % more).
    samples = [
        (t, reading(5.0, 2.0, 10.0, group0_mah=t * 2000 // 3600, group0_mwh=t * 11_000 // 3600))
        for t in range(0, 3601)
    ]
    counters = summary(fed(samples), INFO)["meter_counters"]
    assert counters["group0"]["agrees"] is False
    assert counters["disagree"] is True


def test_a_group_reset_during_the_recording_is_counted_from_zero() -> None:
    values = [(0, 500), (1, 510), (2, 520), (3, 0), (4, 10)]  # reset between 2 and 3
    acc = fed([(t, reading(group0_mwh=v)) for t, v in values])
    counters = summary(acc, INFO)["meter_counters"]
    assert counters["group0"]["delta"]["mwh"] == 30
    assert counters["group0"]["start"]["mwh"] == 500 and counters["group0"]["end"]["mwh"] == 10


def test_imported_samples_have_no_meter_counters() -> None:
    acc = fed([(0, reading()), (1, reading())], has_counters=False)
    assert summary(acc, INFO)["meter_counters"] is None


def test_pd_levels_are_the_plateaus_of_the_bench_scene_not_the_slews_between_them() -> None:
    acc = SummaryAccumulator(start_ts=T0, gap_s=2.0)
    for s, _ in bench_samples(0, 179.9, 0.1):
        acc.add(s.ts, s.reading)
    assert summary(acc, INFO)["pd_levels"] == [5, 9, 12, 20]


def test_a_sample_not_newer_than_the_last_is_ignored() -> None:
    acc = fed([(0, reading()), (1, reading())])
    assert acc.add(T0 + 1, reading(voltage=20.0)) is False
    assert acc.add(T0 + 0.5, reading(voltage=20.0)) is False
    assert acc.n == 2 and summary(acc, INFO)["voltage"]["max"] == 5.1609


def test_a_day_of_samples_summarises_the_same_from_stored_json_state() -> None:
    acc = SummaryAccumulator(start_ts=T0, gap_s=3.0)
    for s, _ in bench_samples(0, 86_399, 1.0):
        acc.add(s.ts, s.reading)
    acc.close(T0 + 86_400, "manual")
    restored = SummaryAccumulator.from_state(json.loads(json.dumps(acc.to_state())))
    assert summary(restored, INFO) == summary(acc, INFO)
    body = summary(restored, INFO)
    assert body["sample_count"] == 86_400 and body["duration_s"] == 86_400
    # 480 cycles of the bench scene: the same energy each, so the counters agree.
    assert body["meter_counters"]["group0"]["agrees"] is True


def test_a_restored_accumulator_goes_on_exactly_where_it_stopped() -> None:
    samples = list(bench_samples(0, 60, 0.5))
    whole = SummaryAccumulator(start_ts=T0, gap_s=2.0)
    half = SummaryAccumulator(start_ts=T0, gap_s=2.0)
    for k, (s, _) in enumerate(samples):
        whole.add(s.ts, s.reading)
        if k == 60:
            half = SummaryAccumulator.from_state(json.loads(json.dumps(half.to_state())))
        half.add(s.ts, s.reading)
    assert summary(half, INFO) == summary(whole, INFO)
