"""The emulator driven from outside: a fault mix, a log of what it served, plug signals."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path

import pytest
import serial

from tc66c_server import protocol
from tc66c_server.emulator import EmulatorHost, FaultKind
from tc66c_server.emulator.__main__ import parse_args
from tc66c_server.emulator.faults import FaultInjector, parse_mix
from tc66c_server.emulator.host import ServedReply
from tc66c_server.emulator.signal import BenchSession

ROOT = Path(__file__).resolve().parents[1]
REPLY = protocol.encode_packet(BenchSession(seed=2).reading_at(42.0))


def test_a_fault_mix_is_read_kind_by_kind() -> None:
    assert parse_mix("flip=0.1, truncate=0.05,random=0.05") == {
        FaultKind.FLIP: 0.1,
        FaultKind.TRUNCATE: 0.05,
        FaultKind.RANDOM: 0.05,
    }
    assert parse_mix("") == {}


@pytest.mark.parametrize(
    ("text", "complaint"),
    [
        ("flip", "KIND=PROBABILITY"),
        ("wobble=0.1", "KIND=PROBABILITY"),
        ("flip=x", "KIND=PROBABILITY"),
        ("unplug=0.1", "cannot be random"),
        ("flip=0.1,flip=0.2", "given twice"),
        ("flip=1.5", "between 0 and 1"),
        ("flip=0.6,random=0.6", "more than 1"),
    ],
)
def test_a_bad_fault_mix_says_what_is_wrong(text: str, complaint: str) -> None:
    with pytest.raises(ValueError, match=complaint):
        parse_mix(text)


def test_a_fault_mix_strikes_each_kind_at_its_own_rate_reproducibly() -> None:
    mix = {FaultKind.FLIP: 0.10, FaultKind.TRUNCATE: 0.05, FaultKind.RANDOM: 0.05}

    def run() -> list[FaultKind | None]:
        faults = FaultInjector(seed=4, mix=mix)
        return [faults.apply(REPLY)[0] for _ in range(4000)]

    kinds = run()
    assert kinds == run()
    counts = Counter(kinds)
    assert set(counts) == {None, *mix}
    for kind, rate in mix.items():
        assert abs(counts[kind] / 4000 - rate) < 0.02, (kind, counts[kind])


def test_a_fault_mix_and_a_fault_rate_together_are_refused() -> None:
    with pytest.raises(ValueError, match="not both"):
        FaultInjector(fault_rate=0.1, mix={FaultKind.FLIP: 0.1})


def test_every_reply_served_is_reported_with_the_reading_it_meant(tmp_path: Path) -> None:
    reports: list[ServedReply] = []
    host = EmulatorHost(tmp_path / "tty", reply_delay_s=0.0, on_reply=reports.append)
    with host, serial.Serial(str(host.link), 115200, timeout=2) as port:
        port.write(b"getva")
        first = protocol.decode_packet(port.read(protocol.PACKET_LEN))
        host.inject(FaultKind.FLIP)
        port.write(b"getva")
        assert len(port.read(protocol.PACKET_LEN)) == protocol.PACKET_LEN
        port.write(b"query")
        assert port.read(4) == b"firm"
    assert [(r.command, r.fault, r.complete) for r in reports] == [
        ("getva", None, True),
        ("getva", FaultKind.FLIP, True),
        ("query", None, True),
    ]
    assert reports[0].reading == first
    assert reports[1].reading is not None and reports[2].reading is None
    assert reports[0].sent_at <= reports[1].sent_at <= time.time()


def test_a_failing_reply_listener_does_not_stop_the_meter(tmp_path: Path) -> None:
    def broken(_: ServedReply) -> None:
        raise RuntimeError("listener bug")

    host = EmulatorHost(tmp_path / "tty", reply_delay_s=0.0, on_reply=broken)
    with host, serial.Serial(str(host.link), 115200, timeout=2) as port:
        for _ in range(2):
            port.write(b"getva")
            assert len(port.read(protocol.PACKET_LEN)) == protocol.PACKET_LEN


def _wait_for(predicate: object, timeout_s: float = 5.0) -> bool:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if callable(predicate) and predicate():
            return True
        time.sleep(0.02)
    return False


def test_standalone_emulator_logs_replies_and_obeys_plug_signals(tmp_path: Path) -> None:
    link, log = tmp_path / "ttyTC66", tmp_path / "served.jsonl"
    argv = [sys.executable, "-m", "tc66c_server.emulator", "--link", str(link)]
    argv += ["--delay-ms", "0", "--log", str(log), "--fault-mix", "flip=0.5"]
    proc = subprocess.Popen(argv, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    try:
        assert _wait_for(link.exists)
        with serial.Serial(str(link), 115200, timeout=2) as port:
            for _ in range(6):
                port.write(b"getva")
                assert len(port.read(protocol.PACKET_LEN)) == protocol.PACKET_LEN
        proc.send_signal(signal.SIGUSR1)
        assert _wait_for(lambda: not os.path.lexists(link))
        proc.send_signal(signal.SIGUSR2)
        assert _wait_for(link.exists)
        proc.send_signal(signal.SIGTERM)
        _, stderr = proc.communicate(timeout=10)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.communicate()
    assert proc.returncode == 0, stderr
    entries = [json.loads(line) for line in log.read_text().splitlines()]
    assert [e["event"] for e in entries] == ["plug", *["reply"] * 6, "unplug", "plug", "stop"]
    replies = entries[1:7]
    assert {e["fault"] for e in replies} <= {None, "flip"}
    assert all(e["reading"]["product"] == "TC66" and e["complete"] for e in replies)
    times = [e["t"] for e in entries]
    assert times == sorted(times)


@pytest.mark.parametrize(
    "argv",
    [
        ["--link", "/tmp/x", "--fault-mix", "flip=2"],
        ["--link", "/tmp/x", "--fault-mix", "flip=0.1", "--fault-rate", "0.1"],
    ],
)
def test_bad_fault_mix_options_exit_with_status_2(
    argv: list[str], capsys: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(SystemExit) as exit_info:
        parse_args(argv)
    assert exit_info.value.code == 2
    assert "--fault-" in capsys.readouterr().err
