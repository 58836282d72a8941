"""``python -m tc66c_server.emulator --output-link``: a linked pair of meters on two ptys."""

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
from tc66c_server.reading import Reading

ROOT = Path(__file__).resolve().parents[1]


def getva(link: Path) -> Reading:
    with serial.Serial(str(link), 115200, timeout=2) as port:
        port.write(b"getva")
        return protocol.decode_packet(port.read(protocol.PACKET_LEN))


def test_a_standalone_pair_serves_an_output_meter_behind_a_converter(tmp_path: Path) -> None:
    links = tmp_path / "ttyIN", tmp_path / "ttyOUT"
    env = {
        **os.environ,
        "PYTHONPATH": os.pathsep.join([str(ROOT), os.environ.get("PYTHONPATH", "")]),
    }
    argv = ["--link", str(links[0]), "--output-link", str(links[1]), "--delay-ms", "0"]
    proc = subprocess.Popen(
        [sys.executable, "-m", "tc66c_server.emulator", *argv],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert proc.stdout is not None
        banners = proc.stdout.readline(), proc.stdout.readline()
        assert "(input)" in banners[0] and str(links[0]) in banners[0]
        assert "(converter output)" in banners[1] and str(links[1]) in banners[1]
        inp, out = getva(links[0]), getva(links[1])
        assert out.voltage == pytest.approx(0.6 * inp.voltage, rel=0.02)  # the bus converter
        assert out.serial != inp.serial
        proc.send_signal(signal.SIGTERM)
        _, stderr = proc.communicate(timeout=10)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.communicate()
    assert proc.returncode == 0, stderr
    assert not any(os.path.lexists(link) for link in links)


def test_pair_options_choose_the_model() -> None:
    args = parse_args(["--link", "/tmp/a", "--output-link", "/tmp/b", "--model", "cable"])
    assert (args.output_link, args.model, args.cable_ohm) == ("/tmp/b", "cable", 0.25)
    assert parse_args(["--link", "/tmp/a"]).output_link is None


@pytest.mark.parametrize(
    "argv", [["--model", "resistor"], ["--model", "cable", "--cable-ohm", "-0.1"]]
)
def test_bad_pair_options_exit_with_status_2(
    argv: list[str], capsys: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(SystemExit) as exit_info:
        parse_args(["--link", "/tmp/a", "--output-link", "/tmp/b", *argv])
    assert exit_info.value.code == 2
    assert "error" in capsys.readouterr().err
