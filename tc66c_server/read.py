"""``tc66c-server read``: one decoded reading, all fields, like ``sigrok-cli --samples 1``."""

from __future__ import annotations

import contextlib
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path

import orjson

from . import quantities as q
from .errors import MeterError
from .meter_models import open_meter
from .reading import Reading

LABELS = {
    "voltage": "Voltage",
    "current": "Current",
    "power": "Power",
    "resistance": "Resistance",
    "temperature": "Temperature",
    "d_plus": "D+",
    "d_minus": "D-",
    "group0_mah": "Group 0 charge",
    "group0_mwh": "Group 0 energy",
    "group1_mah": "Group 1 charge",
    "group1_mwh": "Group 1 energy",
}


def format_reading(reading: Reading, port: str) -> str:
    """A human-readable block: identity line then one aligned line per quantity."""
    if reading.um is None:
        lines = [
            f"{reading.product} firmware {reading.firmware}, serial {reading.serial}, "
            f"run {reading.runs} on {port}"
        ]
    else:
        lines = [f"{reading.product} on {port}"]
    for quantity in q.ALL:
        value = getattr(reading, quantity.key)
        text = f"{value:.{quantity.decimals}f}"
        lines.append(f"  {LABELS[quantity.key]:<15}{text:>12} {quantity.unit}")
    if reading.um is not None:
        lines.extend(_um_lines(reading))
    return "\n".join(lines)


def _um_lines(reading: Reading) -> list[str]:
    um = reading.um
    assert um is not None
    lines = [f"  {'Temperature':<15}{um.temperature_f:>12} °F"]
    for index, (mah, mwh) in enumerate(um.groups):
        mark = "*" if index == um.selected_group else " "
        lines.append(f" {mark}Group {index:<9}{mah:>12} mAh {mwh:>10} mWh")
    lines += [
        f"  {'Charging mode':<15}{um.charging_mode_name:>12}",
        f"  {'Recording':<15}{'on' if um.recording_active else 'off':>12} "
        f"(over {um.threshold_current:.2f} A: {um.threshold_mah} mAh, {um.threshold_mwh} mWh, "
        f"{um.recording_s} s)",
        f"  {'Screen':<15}{um.screen_index:>12} (brightness {um.screen_brightness}, "
        f"timeout {um.screen_timeout_min} min)",
    ]
    return lines


@contextlib.contextmanager
def _device(port: str) -> Iterator[str]:
    """The device path to open; ``demo`` runs the built-in emulator for the duration."""
    if port != "demo":
        yield port
        return
    from .emulator import EmulatorHost

    with tempfile.TemporaryDirectory(prefix="tc66c-read-") as tmp:
        host = EmulatorHost(Path(tmp) / "ttyTC66", reply_delay_s=0.09)
        host.start()
        try:
            yield str(host.link)
        finally:
            host.stop()


def read_command(port: str, *, as_json: bool, timeout_s: float, model: str = "auto") -> int:
    """Open ``port``, read once, print; exit code 0 on success, 1 with a clear message."""
    try:
        with _device(port) as device:
            meter = open_meter(device, model, timeout_s=timeout_s)
            try:
                meter.open()
                meter.check_mode()
                reading = meter.read()
                used = meter.port
            finally:
                meter.close()
    except MeterError as exc:
        from .cli import messages_for

        print(messages_for(None)("read.failed", error=exc.describe()), file=sys.stderr)
        return 1
    if as_json:
        payload = {"port": used, **reading.as_dict()}
        sys.stdout.write(orjson.dumps(payload, option=orjson.OPT_INDENT_2).decode() + "\n")
    else:
        print(format_reading(reading, used))
    return 0
