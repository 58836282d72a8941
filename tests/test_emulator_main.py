"""``python -m tc66c_server.emulator``: serves a real client and exits cleanly on SIGTERM."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest
import serial

from tc66c_server import protocol
from tc66c_server.emulator.__main__ import parse_args

ROOT = Path(__file__).resolve().parents[1]


def test_standalone_emulator_serves_and_removes_its_link_on_sigterm(tmp_path: Path) -> None:
    link = tmp_path / "ttyTC66"
    env = {
        **os.environ,
        "PYTHONPATH": os.pathsep.join([str(ROOT), os.environ.get("PYTHONPATH", "")]),
    }
    proc = subprocess.Popen(
        [sys.executable, "-m", "tc66c_server.emulator", "--link", str(link), "--delay-ms", "0"],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert proc.stdout is not None
        banner = proc.stdout.readline()
        assert str(link) in banner and "/dev/pts/" in banner
        with serial.Serial(str(link), 115200, timeout=2) as port:
            port.write(b"getva")
            assert protocol.decode_packet(port.read(protocol.PACKET_LEN)).product == "TC66"
        proc.send_signal(signal.SIGTERM)
        _, stderr = proc.communicate(timeout=10)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.communicate()
    assert proc.returncode == 0, stderr
    assert not os.path.lexists(link)


def test_options_map_to_host_settings() -> None:
    args = parse_args(
        ["--link", "/tmp/x", "--seed", "3", "--delay-ms", "0", "--no-chunk", "--fault-rate", "0.2"]
    )
    assert (args.link, args.seed, args.delay_ms, args.no_chunk, args.fault_rate) == (
        "/tmp/x",
        3,
        0.0,
        True,
        0.2,
    )


def test_pair_options_map_to_a_linked_pair() -> None:
    args = parse_args(
        ["--link", "/tmp/x", "--output-link", "/tmp/y", "--between", "cable", "--cable-ohm", "0.1"]
    )
    assert (args.output_link, args.between, args.cable_ohm, args.start_s) == (
        "/tmp/y",
        "cable",
        0.1,
        0.0,
    )


@pytest.mark.parametrize(
    "argv",
    [
        [],
        ["--link", "/tmp/x", "--fault-rate", "2"],
        ["--link", "/tmp/x", "--delay-ms", "-1"],
        ["--link", "/tmp/x", "--output-log", "/tmp/out.jsonl"],
        ["--link", "/tmp/x", "--output-link", "/tmp/y", "--between", "dimmer"],
        ["--link", "/tmp/x", "--output-link", "/tmp/y", "--model", "um25c"],
        ["--link", "/tmp/x", "--output-link", "/tmp/y", "--fault-mix", "flip=0.1"],
        ["--link", "/tmp/x", "--output-link", "/tmp/y", "--cable-ohm", "-1"],
    ],
)
def test_bad_options_exit_with_status_2(
    argv: list[str], capsys: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(SystemExit) as exit_info:
        parse_args(argv)
    assert exit_info.value.code == 2
    assert "error" in capsys.readouterr().err
