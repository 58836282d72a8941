"""``tc66c-server read``: one reading from the emulator, printed in full."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from tc66c_server import quantities as q
from tc66c_server.emulator import EmulatorHost
from tc66c_server.read import format_reading

ROOT = Path(__file__).resolve().parent.parent


def run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "tc66c_server", *args],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=30,
    )


def test_read_json_prints_the_emulators_values(emulator: EmulatorHost) -> None:
    result = run("read", "--device", str(emulator.link), "--json")
    assert result.returncode == 0, result.stderr
    printed = json.loads(result.stdout)
    sent = emulator.meter.last_reading
    assert sent is not None
    assert printed == {"port": str(emulator.link), **sent.as_dict()}


def test_read_prints_every_field_with_units(emulator: EmulatorHost) -> None:
    result = run("read", "--device", str(emulator.link))
    assert result.returncode == 0, result.stderr
    sent = emulator.meter.last_reading
    assert sent is not None
    assert result.stdout.strip() == format_reading(sent, str(emulator.link))
    assert f"{sent.voltage:.4f} V" in result.stdout
    for label in ("Current", "Power", "Resistance", "Temperature", "D+", "Group 1 energy"):
        assert label in result.stdout


def test_read_of_a_missing_port_says_failed_to_open(tmp_path: Path) -> None:
    missing = tmp_path / "ttyACM0"
    result = run("read", "--device", str(missing))
    assert result.returncode == 1
    assert result.stderr.startswith(f"error: failed to open:{missing}")
    assert "Traceback" not in result.stderr


def test_read_demo_needs_no_meter() -> None:
    result = run("read", "--device", "demo", "--json")
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout)["product"] == "TC66"


def test_format_reading_uses_the_device_resolution() -> None:
    from tc66c_server import protocol

    data = json.loads((ROOT / "tests" / "data" / "captureA.json").read_text())
    reading = protocol.decode_packet(bytes.fromhex(data["ciphertext_hex"]))
    text = format_reading(reading, "/dev/ttyACM0")
    assert "5.1609 V" in text and "0.01990 A" in text and "259.3 Ω" in text
    assert len(text.splitlines()) == 1 + len(q.ALL)
