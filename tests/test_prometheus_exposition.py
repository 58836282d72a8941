"""The Prometheus exposition of a bench snapshot: names, labels, absences, and promtool's lint."""

from __future__ import annotations

from dataclasses import replace

from tc66c_server.energy import EnergyTotals
from tc66c_server.exporters.prometheus import MeterView, PairView, RecordingsView, render
from tc66c_server.poll_durations import PollDurations
from tc66c_server.poller import Counters, LinkState
from tc66c_server.reading import Reading, Sample
from tests.promhelpers import parse, promtool_check, value

NOW = 1_800_000_000.0
READING = Reading(
    "TC66", "1.14", 12345, 3, 5.1234, 0.51234, 2.6249, 10.0, 1, 2, 3, 4, 25, 0.6, 0.59
)
UP = LinkState(True, "/dev/ttyACM0", product="TC66", firmware="1.14", serial=12345)


def meter(meter_id: str = "in", **changes: object) -> MeterView:
    view = MeterView(
        id=meter_id,
        port="/dev/tc66c",
        demo=False,
        polling_interval_s=1.0,
        gap_s=3.0,
        state=UP,
        latest=Sample(NOW - 0.5, READING),
        counters=Counters(polls=12, samples=10, bad_packets=1, timeouts=1, reconnects=2),
        durations=PollDurations().observe(0.09).observe(0.095).observe(0.5),
        totals=EnergyTotals(joules=36.0, coulombs=7.2),
    )
    return replace(view, **changes)


def exposition(*meters: MeterView, pairs: tuple[PairView, ...] = ()) -> str:
    return render(meters, pairs, now=NOW, version="1.2.3", started_at=NOW - 60)


def test_the_exposition_passes_promtool_check_metrics() -> None:
    text = exposition(
        meter("in"),
        meter("out", state=LinkState(False, "/dev/ttyACM1"), latest=None),
        pairs=(PairView("in-out", "in", "out", 0.91, 0.25),),
    )
    result = promtool_check(text)
    assert result.returncode == 0, result.stdout + result.stderr
    assert result.stdout.strip() == "" and result.stderr.strip() == "", result.stderr


def test_every_reading_is_exposed_in_base_units_with_meter_and_model_labels() -> None:
    samples = parse(exposition(meter()))
    labels = {"meter": "in", "model": "TC66"}
    assert value(samples, "tc66c_voltage_volts", **labels) == 5.1234
    assert value(samples, "tc66c_current_amperes", **labels) == 0.51234
    assert value(samples, "tc66c_power_watts", **labels) == 2.6249
    assert value(samples, "tc66c_temperature_celsius", **labels) == 25
    assert value(samples, "tc66c_load_resistance_ohms", **labels) == 10.0
    assert value(samples, "tc66c_data_line_voltage_volts", line="D+", **labels) == 0.6
    assert value(samples, "tc66c_data_line_voltage_volts", line="D-", **labels) == 0.59
    assert value(samples, "tc66c_group_charge_coulombs", group="0", **labels) == 3.6  # 1 mAh
    assert value(samples, "tc66c_group_energy_joules", group="1", **labels) == 4 * 3.6  # 4 mWh
    assert value(samples, "tc66c_last_sample_timestamp_seconds", **labels) == NOW - 0.5
    assert value(samples, "tc66c_link_up", **labels) == 1


def test_energy_charge_and_poll_results_are_counters() -> None:
    text = exposition(meter())
    assert "# TYPE tc66c_energy_joules_total counter" in text
    assert "# TYPE tc66c_charge_coulombs_total counter" in text
    samples = parse(text)
    assert value(samples, "tc66c_energy_joules_total", meter="in") == 36.0
    assert value(samples, "tc66c_charge_coulombs_total", meter="in") == 7.2
    assert value(samples, "tc66c_polls_total", meter="in", result="ok") == 10
    assert value(samples, "tc66c_polls_total", meter="in", result="timeout") == 1
    assert value(samples, "tc66c_polls_total", meter="in", result="bad") == 1
    assert value(samples, "tc66c_reconnects_total", meter="in") == 2


def test_the_poll_duration_histogram_is_cumulative_and_ends_with_every_exchange() -> None:
    samples = parse(exposition(meter()))
    assert value(samples, "tc66c_poll_duration_seconds_bucket", meter="in", le="0.075") == 0
    assert value(samples, "tc66c_poll_duration_seconds_bucket", meter="in", le="0.1") == 2
    assert value(samples, "tc66c_poll_duration_seconds_bucket", meter="in", le="+Inf") == 3
    assert value(samples, "tc66c_poll_duration_seconds_count", meter="in") == 3
    assert value(samples, "tc66c_poll_duration_seconds_sum", meter="in") == 0.685


def test_the_info_metric_names_firmware_serial_transport_and_port() -> None:
    samples = parse(exposition(meter(), meter("sim", demo=True, port="demo")))
    assert (
        value(
            samples,
            "tc66c_meter_info",
            meter="in",
            model="TC66",
            firmware="1.14",
            serial="12345",
            transport="serial",
            port="/dev/tc66c",
        )
        == 1
    )
    assert value(samples, "tc66c_meter_info", meter="sim", transport="demo") == 1


def test_the_load_resistance_is_absent_on_an_open_circuit() -> None:
    open_circuit = replace(READING, current=0.0, power=0.0, resistance=9999.9)
    samples = parse(exposition(meter(latest=Sample(NOW, open_circuit))))
    assert value(samples, "tc66c_load_resistance_ohms", meter="in") is None
    assert value(samples, "tc66c_voltage_volts", meter="in") == 5.1234


def test_readings_are_absent_while_the_link_is_down_but_counters_stay() -> None:
    down = meter(state=replace(UP, connected=False, error_code="timeout"))
    samples = parse(exposition(down))
    assert value(samples, "tc66c_voltage_volts", meter="in") is None
    assert value(samples, "tc66c_link_up", meter="in") == 0
    assert value(samples, "tc66c_energy_joules_total", meter="in") == 36.0
    assert value(samples, "tc66c_last_sample_timestamp_seconds", meter="in") == NOW - 0.5


def test_a_sample_older_than_the_gap_is_not_shown_as_current() -> None:
    stale = meter(latest=Sample(NOW - 10, READING))
    assert value(parse(exposition(stale)), "tc66c_power_watts", meter="in") is None


def test_a_meter_never_seen_has_an_empty_model_and_zero_counters() -> None:
    never = meter(
        state=LinkState(False, "/dev/ttyACM9"),
        latest=None,
        counters=Counters(),
        durations=PollDurations(),
        totals=EnergyTotals(),
    )
    samples = parse(exposition(never))
    assert value(samples, "tc66c_link_up", meter="in", model="") == 0
    assert value(samples, "tc66c_energy_joules_total", meter="in") == 0
    assert value(samples, "tc66c_poll_duration_seconds_count", meter="in") == 0


def test_device_strings_in_labels_are_escaped() -> None:
    odd = replace(UP, product='T"C\\6\n6', firmware="1.1\n4")
    text = exposition(meter(state=odd))
    samples = parse(text)
    assert value(samples, "tc66c_link_up", model='T"C\\6\n6') == 1
    assert value(samples, "tc66c_meter_info", firmware="1.1\n4") == 1
    assert promtool_check(text).returncode == 0


def test_pairs_show_their_efficiency_and_loss_when_measurable() -> None:
    pairs = (
        PairView("charger", "in", "out", 0.91234, 0.5),
        PairView("idle", "a", "b", None, None),
    )
    samples = parse(exposition(meter(), pairs=pairs))
    labels = {"pair": "charger", "input": "in", "output": "out"}
    assert value(samples, "tc66c_pair_efficiency_ratio", **labels) == 0.91234
    assert value(samples, "tc66c_pair_loss_watts", **labels) == 0.5
    assert value(samples, "tc66c_pair_efficiency_ratio", pair="idle") is None


def test_the_server_says_its_version_and_start_time() -> None:
    samples = parse(exposition(meter()))
    assert value(samples, "tc66c_build_info", version="1.2.3") == 1
    assert value(samples, "tc66c_start_time_seconds") == NOW - 60


def test_recording_state_appears_once_recordings_exist_and_passes_promtool() -> None:
    meters = (meter("in"), meter("out"))
    none_yet = render(
        meters, recordings=RecordingsView(0, {}), now=NOW, version="1", started_at=NOW
    )
    assert "tc66c_recording" not in none_yet
    text = render(
        meters,
        recordings=RecordingsView(3, {"in": NOW - 120}),
        now=NOW,
        version="1",
        started_at=NOW,
    )
    samples = parse(text)
    assert value(samples, "tc66c_recordings") == 3
    assert value(samples, "tc66c_recording_active", meter="in", model="TC66") == 1
    assert value(samples, "tc66c_recording_active", meter="out", model="TC66") == 0
    assert value(samples, "tc66c_recording_start_time_seconds", meter="in", model="TC66") == (
        NOW - 120
    )
    assert 'tc66c_recording_start_time_seconds{meter="out"' not in text
    assert promtool_check(text).returncode == 0
