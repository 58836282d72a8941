"""History import: our own CSV export round trip, rd-usb's export, bad rows, the command.

``tests/data/rd-usb-sample.csv`` is a small export in rd-usb's exact format (headers from
``docs/formats/rd-usb-csv.md``): a phone on a TC66C negotiating from 5 V to 9 V, one row a
second, written by Python's ``csv.writer`` like rd-usb's, ``Time`` in UTC+1 and
``Unix time`` with milliseconds, the accumulated time columns empty as for a TC66C.
"""

from __future__ import annotations

import dataclasses
import os
import subprocess
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from tc66c_server import quantities as q
from tc66c_server.api.app import create_app
from tc66c_server.config import MAX_RETENTION_MIN
from tc66c_server.emulator import BenchSession
from tc66c_server.import_command import retention_note
from tc66c_server.importer import parse_rows, read_file
from tc66c_server.reading import Reading, Sample
from tc66c_server.store import SampleStore

from .apihelpers import BASE_URL, make_runtime

ROOT = Path(__file__).resolve().parent.parent
RD_USB_SAMPLE = Path(__file__).parent / "data" / "rd-usb-sample.csv"
RD_USB_HEADER = (
    "Time,Voltage (V),Current (A),Power (W),Temperature (°C),Data+ (V),Data- (V),"
    "Resistance (Ω),Accumulated current (mAh),Accumulated power (mWh),"
    "Accumulated time (seconds),Run time,Run time (seconds),Unix time,"
    "Zerod accumulated current (mAh),Zerod accumulated power (mWh),"
    "Zerod accumulated time (seconds)"
)
#: A minute boundary on an afternoon in November 2024.
T0 = 1_732_000_020.0


def quantities_of(reading: Reading) -> dict[str, float]:
    return {quantity.key: getattr(reading, quantity.key) for quantity in q.ALL}


def bench_samples(count: int) -> list[Sample]:
    """A minute of the emulator's bench session at 1 Hz, plus a cold and a maxed-out one."""
    session = BenchSession(seed=3)
    samples = [Sample(T0 + n + 0.25, session.reading_at(20.0 + n)) for n in range(count)]
    last = samples[-1].reading
    cold = dataclasses.replace(last, temperature=-7)
    big = dataclasses.replace(last, voltage=24.9999, current=5.12345, power=128.0046)
    samples += [Sample(T0 + count + 0.5, cold), Sample(T0 + count + 1.75, big)]
    return samples


def test_our_csv_export_imports_back_to_the_same_samples(tmp_path: Path) -> None:
    samples = bench_samples(60)
    runtime = make_runtime("/dev/tc66c-absent", db=tmp_path / "s.sqlite3")
    runtime.store.add_many(samples)
    end = samples[-1].ts + 1
    with TestClient(create_app(runtime, manage_runtime=False), base_url=BASE_URL) as client:
        response = client.get(f"/api/data/5m?format=csv&fields=all&end={end}")
    runtime.store.close()
    assert response.status_code == 200
    assert response.text.startswith("timestamp,voltage,current,power,resistance,")

    result = parse_rows(response.text.splitlines(keepends=True))

    assert result.errors == []
    assert len(result.samples) == len(samples)
    for got, sent in zip(result.samples, samples, strict=True):
        assert round(got.ts * 1e6) == round(sent.ts * 1e6)
        assert quantities_of(got.reading) == quantities_of(sent.reading)


def test_rd_usb_export_is_read_by_header_name_preferring_unix_time() -> None:
    result = read_file(RD_USB_SAMPLE)

    assert result.errors == []
    assert len(result.samples) == 12
    first = result.samples[0]
    assert first.ts == 1709388301.482
    assert quantities_of(first.reading) == {
        "voltage": 5.1183,
        "current": 0.38121,
        "power": 1.9511,
        "resistance": 13.4,
        "temperature": 27,
        "d_plus": 2.71,
        "d_minus": 2.7,
        "group0_mah": 1203,
        "group0_mwh": 6151,
        "group1_mah": 0,
        "group1_mwh": 0,
    }
    assert result.samples[-1].reading.voltage == 9.0396
    assert [s.ts for s in result.samples] == sorted(s.ts for s in result.samples)


def test_rd_usb_columns_in_any_order_with_unknown_ones_are_accepted() -> None:
    text = (
        "Unix time,Extra column,Current (A),Time,Voltage (V)\n"
        "1709388301.5,whatever,0.25,2024-03-02 15:05:01,5.02\n"
    )
    result = parse_rows(text.splitlines(keepends=True))

    assert result.errors == []
    (sample,) = result.samples
    assert sample.ts == 1709388301.5
    assert (sample.reading.voltage, sample.reading.current) == (5.02, 0.25)
    # Power is derived when the file has none, at the meter's resolution.
    assert sample.reading.power == 1.255


def test_rd_usb_row_without_unix_time_falls_back_to_local_time() -> None:
    row = "2024-03-02 15:05:01,5.1,0.2,1.02,27,0.6,0.6,25.5,1,5,,00:00:01,1,,0,0,"
    text = f"{RD_USB_HEADER}\n{row}\n"
    result = parse_rows(text.splitlines(keepends=True))

    assert result.errors == []
    expected = time.mktime(time.strptime("2024-03-02 15:05:01", "%Y-%m-%d %H:%M:%S"))
    assert result.samples[0].ts == expected


def test_bad_rows_are_reported_by_line_number_and_the_rest_is_imported() -> None:
    text = (
        "timestamp,voltage,current,power,temperature\n"  # line 1
        "2024-11-19T08:27:00.250000+00:00,5.1609,0.0199,0.1026,27\n"  # 2 good
        "yesterday,5.1,0.02,0.1,27\n"  # 3 bad time
        "2024-11-19T08:27:02.250000+00:00,five,0.02,0.1,27\n"  # 4 not a number
        "2024-11-19T08:27:03.250000+00:00,5.1,-0.02,0.1,27\n"  # 5 negative current
        "2024-11-19T08:27:04.250000+00:00,nan,0.02,0.1,27\n"  # 6 not finite
        "2024-11-19T08:27:05.250000+00:00,1e12,0.02,0.1,27\n"  # 7 beyond the meter
        "2024-11-19T08:27:06.250000+00:00,,0.02,0.1,27\n"  # 8 no voltage
        "\n"  # 9 blank: skipped silently
        "2024-11-19T08:27:07.250000+00:00,5.1598,0.0201,0.1037,-3\n"  # 10 good, cold
    )
    result = parse_rows(text.splitlines(keepends=True))

    assert [line for line, _ in result.errors] == [3, 4, 5, 6, 7, 8]
    messages = dict(result.errors)
    assert "timestamp" in messages[3]
    assert "voltage" in messages[4] and "'five'" in messages[4]
    assert "negative" in messages[5]
    assert "finite" in messages[6]
    assert "range" in messages[7]
    assert "voltage" in messages[8]
    assert [s.reading.voltage for s in result.samples] == [5.1609, 5.1598]
    assert result.samples[1].reading.temperature == -3


def test_rd_usb_time_that_is_not_a_unix_time_is_a_bad_row() -> None:
    text = f"{RD_USB_HEADER}\n,5.1,0.2,1.02,27,0.6,0.6,25.5,1,5,,00:00:01,1,inf,0,0,\n"
    result = parse_rows(text.splitlines(keepends=True))

    assert result.samples == []
    assert result.errors == [(2, "Unix time: 'inf' is not a Unix time")]


def test_unknown_header_imports_nothing_and_says_why() -> None:
    result = parse_rows(["date;volts;amps\n", "2024-01-01;5;1\n"])

    assert result.samples == []
    assert not result.header_ok
    assert result.errors[0][0] == 1 and "header" in result.errors[0][1]


def test_retention_note_warns_only_when_samples_are_older_than_kept() -> None:
    now = T0 + 3600
    assert retention_note(now - 600, now, retention_min=10) is None
    note = retention_note(now - 2 * 86_400, now, retention_min=10)
    assert note is not None and "--retention 2880" in note


def run_import(*args: str, data_dir: Path) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("TC66C_")}
    return subprocess.run(
        [sys.executable, "-m", "tc66c_server", "import", "--data-dir", str(data_dir), *args],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


@pytest.mark.e2e
def test_import_command_loads_files_into_the_data_dir_and_lists_bad_lines(
    tmp_path: Path,
) -> None:
    ours = tmp_path / "ours.csv"
    ours.write_text(
        "timestamp,voltage,current,power\n"
        "2024-11-19T08:27:00.250000+00:00,5.1609,0.0199,0.1026\n"
        "2024-11-19T08:27:01.250000+00:00,5.16,zero,0.1\n"
        "2024-11-19T08:27:02.250000+00:00,5.1598,0.0201,0.1037\n",
        encoding="utf-8",
    )
    data_dir = tmp_path / "data"

    done = run_import(str(RD_USB_SAMPLE), str(ours), data_dir=data_dir)

    assert done.returncode == 0, done.stderr
    assert f"imported 12 samples from {RD_USB_SAMPLE}" in done.stdout
    assert f"imported 2 samples from {ours} into {data_dir / 'samples.sqlite3'}" in done.stdout
    assert f"{ours}:3: current: 'zero' is not a number" in done.stderr
    assert "--retention" in done.stderr  # 2024's samples are older than the default 10 min
    with SampleStore(data_dir / "samples.sqlite3") as store:
        count, oldest, _ = store.summary()
        assert count == 14
        assert oldest == 1709388301.482
        rows = store.range(1709388301.0, 1709388302.0)
    assert rows == [(1709388301.482, 5.1183, 0.38121, 1.9511)]


@pytest.mark.e2e
def test_import_command_fails_for_a_file_it_cannot_read_and_imports_the_others(
    tmp_path: Path,
) -> None:
    data_dir = tmp_path / "data"
    missing = tmp_path / "missing.csv"
    unknown = tmp_path / "unknown.csv"
    unknown.write_text("date;volts\n2024-01-01;5\n", encoding="utf-8")

    done = run_import(str(missing), str(unknown), str(RD_USB_SAMPLE), data_dir=data_dir)

    assert done.returncode == 1
    assert f"cannot read {missing}" in done.stderr
    assert f"{unknown}:1: unknown CSV header" in done.stderr
    assert "imported 12 samples" in done.stdout
    with SampleStore(data_dir / "samples.sqlite3") as store:
        assert store.summary()[0] == 12


@pytest.mark.e2e
def test_import_command_refuses_a_memory_data_dir(tmp_path: Path) -> None:
    done = run_import(str(RD_USB_SAMPLE), data_dir=Path(":memory:"))

    assert done.returncode == 2
    assert "memory" in done.stderr


NOW = T0 + 3600.0
OURS_HEADER = "timestamp,voltage,current,power\n"


def iso_at(ts: float) -> str:
    return datetime.fromtimestamp(ts, UTC).isoformat(timespec="microseconds")


def test_times_in_the_future_and_year_9999_are_refused_by_line() -> None:
    text = (
        OURS_HEADER
        + f"{iso_at(NOW - 10)},5.1,0.02,0.1\n"  # 2 good
        + f"{iso_at(NOW + 3600)},5.1,0.02,0.1\n"  # 3 good: a clock an hour fast
        + f"{iso_at(NOW + 2 * 86_400)},5.1,0.02,0.1\n"  # 4 two days ahead
        + "9999-12-31T23:59:59+00:00,5.1,0.02,0.1\n"  # 5
        + "0001-01-01T00:00:00+00:00,5.1,0.02,0.1\n"  # 6 before 1970
    )
    result = parse_rows(text.splitlines(keepends=True), now=NOW)

    assert [s.ts for s in result.samples] == [NOW - 10, NOW + 3600]
    assert [line for line, _ in result.errors] == [4, 5, 6]
    assert all("future" in message for _, message in result.errors[:2])
    assert result.errors[2][1] == "timestamp: '0001-01-01T00:00:00+00:00' is before 1970"


def test_rd_usb_unix_time_out_of_range_is_a_bad_line_and_its_neighbours_are_kept() -> None:
    rows = [
        f",5.1,0.2,1.02,27,0.6,0.6,25.5,1,5,,00:00:01,1,{unix},0,0,"
        for unix in ("1709388301.5", "1e13", "-5", "1709388302.5")
    ]
    result = parse_rows([f"{RD_USB_HEADER}\n", *(row + "\n" for row in rows)], now=NOW)

    assert [s.ts for s in result.samples] == [1709388301.5, 1709388302.5]
    assert [line for line, _ in result.errors] == [3, 4]
    assert result.errors[0][1].startswith("Unix time: '1e13' is in the future")
    assert result.errors[1][1] == "Unix time: '-5' is before 1970"


@pytest.mark.parametrize(
    ("cells", "column"),
    [
        ("41,0.02,0.1", "voltage"),
        ("-5,0.02,0.1", "voltage"),
        ("5.1,11,0.1", "current"),
        ("5.1,0.02,401", "power"),
        ("5.1,0.02,0.1,300", "temperature"),
    ],
)
def test_values_no_meter_could_report_are_refused_with_the_column(cells: str, column: str) -> None:
    text = f"timestamp,voltage,current,power,temperature\n{iso_at(T0)},{cells}\n"
    result = parse_rows(text.splitlines(keepends=True), now=NOW)

    assert result.samples == []
    ((line, message),) = result.errors
    assert line == 2 and message.startswith(f"{column}:")
    assert "range" in message or "negative" in message


def test_only_the_first_bad_lines_are_kept_the_rest_counted() -> None:
    lines = [OURS_HEADER] + ["nope,5,1,5\n"] * 100_000 + [f"{iso_at(T0)},5,1,5\n"]
    result = parse_rows(lines, now=NOW)

    assert result.error_count == 100_000
    assert [line for line, _ in result.errors] == list(range(2, 22))
    assert len(result.samples) == 1


def test_retention_note_never_suggests_more_than_the_longest_retention() -> None:
    note = retention_note(NOW - 11 * 366 * 86_400, NOW, retention_min=10)
    assert note is not None
    assert f"--retention {MAX_RETENTION_MIN}" in note
    assert "no retention keeps" in note
    at_max = retention_note(NOW - 11 * 366 * 86_400, NOW, retention_min=MAX_RETENTION_MIN)
    assert at_max is not None and "--retention" not in at_max


def csv_file(path: Path, rows: list[tuple[float, float]]) -> Path:
    """Our CSV format: a sample per (time, voltage), 0.5 A, power derived."""
    lines = [f"{iso_at(ts)},{volts},0.5,{volts * 0.5:.4f}\n" for ts, volts in rows]
    path.write_text(OURS_HEADER + "".join(lines), encoding="utf-8")
    return path


def voltages(data_dir: Path) -> list[float]:
    with SampleStore(data_dir / "samples.sqlite3") as store:
        return [row[1] for row in store.range(T0 - 1, T0 + 100)]


@pytest.mark.e2e
def test_import_skips_samples_already_stored_by_default_and_says_so(tmp_path: Path) -> None:
    data_dir = tmp_path / "data"
    first = csv_file(tmp_path / "a.csv", [(T0, 5.0), (T0 + 1, 5.0)])
    assert run_import(str(first), data_dir=data_dir).returncode == 0
    second = csv_file(tmp_path / "b.csv", [(T0 + 1, 9.0), (T0 + 2, 9.0), (T0 + 2, 7.0)])

    done = run_import(str(second), data_dir=data_dir)

    assert done.returncode == 0, done.stderr
    assert "imported 1 samples" in done.stdout
    assert "2 at times already stored skipped" in done.stdout  # T0+1 from a.csv, T0+2 given twice
    assert voltages(data_dir) == [5.0, 5.0, 9.0]  # the first of each time is kept


@pytest.mark.e2e
def test_import_with_replace_overwrites_and_counts_the_replaced(tmp_path: Path) -> None:
    data_dir = tmp_path / "data"
    first = csv_file(tmp_path / "a.csv", [(T0, 5.0), (T0 + 1, 5.0)])
    assert run_import(str(first), data_dir=data_dir).returncode == 0
    second = csv_file(tmp_path / "b.csv", [(T0 + 1, 9.0), (T0 + 2, 9.0)])

    done = run_import("--on-conflict", "replace", str(second), data_dir=data_dir)

    assert done.returncode == 0, done.stderr
    assert "imported 2 samples" in done.stdout
    assert "1 of them replaced samples already stored" in done.stdout
    assert voltages(data_dir) == [5.0, 9.0, 9.0]


@pytest.mark.e2e
def test_import_of_an_rd_usb_file_with_a_huge_unix_time_keeps_the_valid_rows(
    tmp_path: Path,
) -> None:
    rows = [
        f",5.1,0.2,1.02,27,0.6,0.6,25.5,1,5,,00:00:01,1,{unix},0,0,\n"
        for unix in ("1709388301.5", "1e13", "1709388302.5")
    ]
    file = tmp_path / "rd.csv"
    file.write_text(RD_USB_HEADER + "\n" + "".join(rows), encoding="utf-8")
    data_dir = tmp_path / "data"

    done = run_import(str(file), data_dir=data_dir)

    assert done.returncode == 0, done.stderr
    assert "Traceback" not in done.stderr
    assert f"{file}:3: Unix time: '1e13' is in the future" in done.stderr
    assert "imported 2 samples" in done.stdout


@pytest.mark.e2e
def test_a_million_bad_lines_exit_1_in_bounded_memory(tmp_path: Path) -> None:
    file = tmp_path / "bad.csv"
    file.write_text(OURS_HEADER + "yesterday,5,1,5\n" * 1_000_000, encoding="utf-8")

    # The command run as `tc66c-server import`, reporting its own peak memory at the end
    # (VmHWM, kB: the peak resident size of this program, not of the forked test process).
    measured = (
        "import re, sys\n"
        "from tc66c_server.cli import main\n"
        "code = main(sys.argv[1:])\n"
        "status = open('/proc/self/status').read()\n"
        "print('peak', re.search(r'VmHWM:\\s+(\\d+)', status).group(1), file=sys.stderr)\n"
        "sys.exit(code)\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", measured, "import", "--data-dir", str(tmp_path / "d"), str(file)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )

    assert done.returncode == 1
    assert f"{file}:21: timestamp: 'yesterday'" in done.stderr
    assert f"{file}:22:" not in done.stderr
    assert "999980 more bad lines" in done.stderr
    assert "no line that could be imported" in done.stderr
    assert "imported 0 samples" in done.stdout
    peak_mb = int(done.stderr.rsplit("peak ", 1)[1]) / 1024
    assert peak_mb < 100  # the bad lines are counted, not kept (200 MB if they were)


@pytest.mark.e2e
def test_import_with_recording_files_the_samples_as_an_imported_recording(
    tmp_path: Path,
) -> None:
    from tc66c_server.recordings.db import RecordingDb
    from tc66c_server.recordings.summary import RecordingInfo, SummaryAccumulator, summary

    data_dir = tmp_path / "data"
    done = run_import(
        str(RD_USB_SAMPLE), "--recording", "rd-usb run", "--meter", "in", data_dir=data_dir
    )
    assert done.returncode == 0, done.stderr
    assert "recording 1 “rd-usb run”: 12 samples" in done.stdout
    db = RecordingDb(data_dir / "recordings.sqlite3")
    (row,) = db.listing()
    db.close()
    assert (row.name, row.meter, row.imported, row.end_reason) == (
        "rd-usb run",
        "in",
        True,
        "imported",
    )
    body = summary(
        SummaryAccumulator.from_state(row.state), RecordingInfo(row.id, row.name, row.meter)
    )
    assert body["sample_count"] == 12 and body["pd_levels"] == [5, 9]
    assert body["meter_counters"]["group0"]["start"] == {"mah": 1203, "mwh": 6151}
    with SampleStore(data_dir / "samples.sqlite3") as store:
        assert store.count(0, 2e9, meter="in") == 12
