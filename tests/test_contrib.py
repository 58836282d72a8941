"""The systemd unit and udev rule in ``contrib/``: valid for systemd, and saying what we mean."""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import pytest

from tc66c_server.ports import RUIDENG_VID

CONTRIB = Path(__file__).resolve().parent.parent / "contrib"
UNIT = CONTRIB / "tc66c-server.service"
RULES = CONTRIB / "99-tc66c.rules"
EXEC_PATH = "/opt/tc66c-server/bin/tc66c-server"


def unit_settings(text: str) -> dict[str, list[str]]:
    """Every ``Key=value`` of a unit file, repeated keys kept in order (sections ignored)."""
    settings: dict[str, list[str]] = {}
    for line in text.splitlines():
        line = line.strip()
        if not line or line.startswith(("#", ";", "[")):
            continue
        key, _, value = line.partition("=")
        settings.setdefault(key.strip(), []).append(value.strip())
    return settings


def test_the_unit_passes_systemd_analyze_verify(tmp_path: Path) -> None:
    analyze = shutil.which("systemd-analyze") or "/usr/bin/systemd-analyze"
    if not Path(analyze).is_file():
        pytest.skip("systemd-analyze is not installed (scripts/test.sh installs 'systemd')")
    # verify checks that ExecStart's binary exists: point it at a stand-in in tmp_path.
    stand_in = tmp_path / "bin" / "tc66c-server"
    stand_in.parent.mkdir()
    stand_in.write_text("#!/bin/sh\nexit 0\n")
    stand_in.chmod(0o755)
    text = UNIT.read_text()
    assert EXEC_PATH in text
    unit = tmp_path / UNIT.name
    unit.write_text(text.replace(EXEC_PATH, str(stand_in)))
    result = subprocess.run(
        [analyze, "verify", "--man=no", str(unit)],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    output = result.stdout + result.stderr
    # verify exits 0 on unknown keys and bad values, it only prints them: any line about
    # our unit is a failure (lines about the host's own units are not ours to judge).
    about_unit = [line for line in output.splitlines() if UNIT.name in line]
    assert result.returncode == 0 and not about_unit, output


def test_the_unit_keeps_the_default_kill_mode_and_runs_the_console_script() -> None:
    settings = unit_settings(UNIT.read_text())
    assert "KillMode" not in settings  # control-group: the whole tree gets SIGTERM
    assert settings["Type"] in (["exec"], ["simple"])
    assert settings["ExecStart"] == [f"{EXEC_PATH} serve"]
    assert settings["Restart"] == ["on-failure"]


def test_the_unit_runs_as_a_dedicated_user_with_its_data_in_its_state_directory() -> None:
    settings = unit_settings(UNIT.read_text())
    assert settings["User"] == ["tc66c"]
    assert settings["SupplementaryGroups"] == ["dialout"]
    assert settings["StateDirectory"] == ["tc66c-server"]
    assert "TC66C_DATA_DIR=/var/lib/tc66c-server" in settings["Environment"]


def test_the_unit_is_hardened_and_opens_only_serial_devices() -> None:
    settings = unit_settings(UNIT.read_text())
    for key, value in {
        "NoNewPrivileges": "yes",
        "ProtectSystem": "strict",
        "ProtectHome": "yes",
        "PrivateTmp": "yes",
        "DevicePolicy": "closed",
        "RestrictAddressFamilies": "AF_INET AF_INET6 AF_UNIX",
    }.items():
        assert settings[key] == [value], key
    assert settings["CapabilityBoundingSet"] == [""]
    devices = settings["DeviceAllow"]
    assert "char-ttyACM rw" in devices and "char-ttyUSB rw" in devices
    assert all(not d.startswith(("block-", "/dev/sd", "/dev/mem")) for d in devices)


def test_the_udev_rule_gives_the_meter_a_stable_link_for_dialout() -> None:
    rules = [
        line
        for line in RULES.read_text().splitlines()
        if line.strip() and not line.lstrip().startswith("#")
    ]
    rule = next(r for r in rules if 'SYMLINK+="tc66c"' in r)
    assert 'SUBSYSTEM=="tty"' in rule
    vendor = re.search(r'ATTRS\{idVendor\}=="([0-9a-f]{4})"', rule)
    assert vendor is not None and int(vendor.group(1), 16) == RUIDENG_VID
    assert 'SYMLINK+="tc66c"' in rule
    assert 'GROUP="dialout"' in rule
