"""The emulator CLI serves UM models byte for byte; ``read --model`` prints every UM field."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
import serial

from tc66c_server import um_protocol as um
from tc66c_server.emulator import EmulatorHost
from tc66c_server.emulator.__main__ import parse_args
from tc66c_server.read import format_reading

ROOT = Path(__file__).resolve().parents[1]


def test_emulator_cli_serves_a_um34c_with_a_valid_check_byte(tmp_path: Path) -> None:
    link = tmp_path / "rfcomm0"
    proc = subprocess.Popen(
        [sys.executable, "-m", "tc66c_server.emulator", "--link", str(link), "--model", "um34c"],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert proc.stdout is not None
        assert proc.stdout.readline().startswith(f"UM34C emulator: {link}")
        with serial.Serial(str(link), 9600, timeout=2) as port:
            port.write(um.REQUEST_DATA)
            reply = port.read(um.REPLY_LEN)
        assert um.check_reply(reply) is um.UM34C
        proc.send_signal(signal.SIGTERM)
        _, stderr = proc.communicate(timeout=10)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.communicate()
    assert proc.returncode == 0, stderr


def test_emulator_cli_refuses_an_unknown_model() -> None:
    with pytest.raises(SystemExit):
        parse_args(["--link", "/tmp/x", "--model", "um99"])
    assert parse_args(["--link", "/tmp/x"]).model == "tc66c"


@pytest.fixture
def um25c(tmp_path: Path) -> Iterator[EmulatorHost]:
    host = EmulatorHost(tmp_path / "rfcomm0", reply_delay_s=0.0, model="um25c")
    host.start()
    try:
        yield host
    finally:
        host.stop()


def run(*args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "LANG": "C.UTF-8"}
    return subprocess.run(
        [sys.executable, "-m", "tc66c_server", *args],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=30,
    )


def test_read_model_um25c_json_prints_every_field(um25c: EmulatorHost) -> None:
    result = run("read", "--device", str(um25c.link), "--model", "um25c", "--json")
    assert result.returncode == 0, result.stderr
    printed = json.loads(result.stdout)
    sent = um25c.meter.last_reading
    assert sent is not None and sent.um is not None
    assert printed == {"port": str(um25c.link), **sent.as_dict()}
    for key in ("group9_mwh", "selected_group", "charging_mode", "threshold_current"):
        assert key in printed
    for key in ("screen_brightness", "screen_timeout_min", "recording_active", "temperature_f"):
        assert key in printed


def test_read_detects_the_um_model_and_prints_its_groups(um25c: EmulatorHost) -> None:
    result = run("read", "--device", str(um25c.link), "--timeout", "0.5")
    assert result.returncode == 0, result.stderr
    sent = um25c.meter.last_reading
    assert sent is not None
    assert result.stdout.strip() == format_reading(sent, str(um25c.link))
    assert "Group 9" in result.stdout and "Charging mode" in result.stdout
