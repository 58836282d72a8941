"""Configuration: one typed object, validated once, with a documented precedence.

Precedence, highest first: command-line flags > environment variables (``TC66C_*``) >
settings saved by ``POST /api/config`` (``config.json`` in the data directory) > the
``CONFIG`` dict of ``api_server.py`` > built-in defaults.
"""

from __future__ import annotations

import contextlib
import errno
import json
import math
import os
import re
import stat
from collections.abc import Mapping
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

#: The seed's three live-editable keys and their defaults.
DEFAULT_CONFIG: dict[str, Any] = {
    "port": "/dev/ttyACM0",
    "polling_interval": 1.0,
    "data_retention_minutes": 10,
}
#: Auto-record (recordings, issue 10): server-wide, every meter runs its own detector.
RECORDING_DEFAULTS: dict[str, Any] = {
    "auto_record": False,
    "auto_record_threshold_a": 0.10,
    "auto_record_end_delay_s": 60.0,
}
#: Bounds of the auto-record settings (the detector itself accepts wider ones).
MIN_THRESHOLD_A, MAX_THRESHOLD_A = 0.01, 10.0
MIN_END_DELAY_S, MAX_END_DELAY_S = 1.0, 3600.0
MIN_INTERVAL_S = 0.1  # the meter cannot answer faster than every 80-100 ms
MAX_INTERVAL_S = 3600.0
#: Ten years (of 365.25 days): store v2 keeps a year in about 350 MB.
MAX_RETENTION_MIN = 3653 * 24 * 60
MAX_RETENTION_TEXT = "10 years"
#: Ports served by the built-in simulated bench (see demo.py).
DEMO_PORTS = ("demo", "demo-out")
_COM_PORT = re.compile(r"^COM[1-9][0-9]{0,2}$", re.IGNORECASE)
#: Unknown setting names are echoed in errors up to this length, never at full size.
MAX_SHOWN_KEY = 40
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")

ENV_KEYS = {
    "port": "TC66C_PORT",
    "polling_interval": "TC66C_INTERVAL",
    "data_retention_minutes": "TC66C_RETENTION",
    "auto_record": "TC66C_AUTO_RECORD",
}
#: How ``TC66C_AUTO_RECORD`` may say true or false.
_ENV_FLAGS = {"1": True, "true": True, "yes": True, "on": True}
_ENV_FLAGS |= {"0": False, "false": False, "no": False, "off": False}
#: Several meters at once: ``TC66C_DEVICES=in=/dev/ttyACM0,out=/dev/ttyACM1``.
ENV_DEVICES = "TC66C_DEVICES"
#: Pairs of meters: ``TC66C_PAIRS=in:out``.
ENV_PAIRS = "TC66C_PAIRS"
MAX_METERS = 16
MAX_PAIRS = 16
_METER_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_-]{0,31}$")


class ConfigSaveError(RuntimeError):
    """The configuration file could not be written (read-only or full disk...)."""


class ConfigError(ValueError):
    """One or more invalid settings; ``fields`` maps each bad key to its message."""

    def __init__(self, fields: dict[str, str]) -> None:
        super().__init__("; ".join(f"{k}: {v}" for k, v in fields.items()))
        self.fields = fields


@dataclass(frozen=True, slots=True)
class MeterConfig:
    """The settings the seed exposes through ``/api/config``."""

    port: str = DEFAULT_CONFIG["port"]
    polling_interval: float = DEFAULT_CONFIG["polling_interval"]
    data_retention_minutes: int = DEFAULT_CONFIG["data_retention_minutes"]
    auto_record: bool = RECORDING_DEFAULTS["auto_record"]
    auto_record_threshold_a: float = RECORDING_DEFAULTS["auto_record_threshold_a"]
    auto_record_end_delay_s: float = RECORDING_DEFAULTS["auto_record_end_delay_s"]

    def as_dict(self) -> dict[str, Any]:
        """The seed's JSON shape: its three keys, exactly."""
        return {key: getattr(self, key) for key in DEFAULT_CONFIG}

    def api_dict(self) -> dict[str, Any]:
        """What ``/api/config`` answers: the seed's three keys first, unchanged, then the
        auto-record settings."""
        return {**self.as_dict(), **self.recording_dict()}

    def recording_dict(self) -> dict[str, Any]:
        """The auto-record settings by their config keys."""
        return {key: getattr(self, key) for key in RECORDING_DEFAULTS}

    def updated(self, changes: Mapping[str, Any]) -> MeterConfig:
        """A copy with ``changes`` validated and applied; :class:`ConfigError` if any is bad."""
        return replace(self, **validate_changes(changes))


# ble: also takes the UUID macOS gives a BLE device instead of its address.
_MAC = r"[0-9A-Fa-f]{2}(:[0-9A-Fa-f]{2}){5}"
_WIRELESS_PORT = re.compile(
    rf"^(bt:{_MAC}|ble:({_MAC}|auto|[0-9A-Fa-f]{{8}}(-[0-9A-Fa-f]{{4}}){{3}}-[0-9A-Fa-f]{{12}}))$"
)


def _check_port(value: Any) -> str | None:
    if not isinstance(value, str):
        return "must be a string such as /dev/ttyACM0, COM3, auto or demo"
    if not value or len(value) > 255 or _CONTROL.search(value) or value != value.strip():
        return "must be a non-empty path without spaces at the ends or control characters"
    if value == "auto" or value in DEMO_PORTS or _COM_PORT.match(value):
        return None
    if value.startswith("/"):
        return _check_device(value)
    if _WIRELESS_PORT.match(value):  # bt:ADDR (UM over RFCOMM), ble:ADDR or ble:auto (TC66C)
        return None
    return (
        "must be an absolute device path (/dev/ttyACM0), a COMn name, 'auto', 'demo', "
        "bt:AA:BB:CC:DD:EE:FF or ble:AA:BB:CC:DD:EE:FF / ble:auto"
    )


def _check_device(path: str) -> str | None:
    """None when ``path`` is a serial device or does not exist yet (a meter not plugged in);
    else why not. Symlinks are followed (``/dev/serial/by-id/...``, the emulator's link)."""
    real = os.path.realpath(path)
    try:
        mode = os.stat(real).st_mode
    except FileNotFoundError:
        return None
    except OSError as exc:
        return f"cannot be checked ({exc.strerror}): give the path of a serial device"
    if not stat.S_ISCHR(mode):
        return "is not a serial device: give the path of one such as /dev/ttyACM0"
    if not _is_tty(real):
        return "is a device but not a serial port (not a tty)"
    return None


def _is_tty(path: str) -> bool:
    """True when the character device ``path`` is a terminal (every serial port is).

    Opened read-only, non-blocking, without becoming the controlling terminal, and closed
    at once: nothing is read or written. A device this process may not open (not in the
    ``dialout`` group yet, say) is judged by its kernel class where Linux shows it, so the
    poller can still report the permission problem in words.
    """
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | os.O_NOCTTY)
    except OSError as exc:
        if exc.errno not in (errno.EACCES, errno.EPERM, errno.EBUSY):
            return False
        rdev = os.stat(path).st_rdev
        subsystem = f"/sys/dev/char/{os.major(rdev)}:{os.minor(rdev)}/subsystem"
        return os.path.basename(os.path.realpath(subsystem)) == "tty"
    try:
        return os.isatty(fd)
    finally:
        os.close(fd)


def _check_interval(value: Any) -> str | None:
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        return f"must be a number of seconds between {MIN_INTERVAL_S} and {MAX_INTERVAL_S:g}"
    if not MIN_INTERVAL_S <= value <= MAX_INTERVAL_S:
        return f"must be between {MIN_INTERVAL_S} and {MAX_INTERVAL_S:g} seconds"
    return None


def _check_retention(value: Any) -> str | None:
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    if isinstance(value, bool) or not isinstance(value, int):
        return f"must be a whole number of minutes between 1 and {MAX_RETENTION_MIN}"
    if not 1 <= value <= MAX_RETENTION_MIN:
        return f"must be between 1 and {MAX_RETENTION_MIN} minutes ({MAX_RETENTION_TEXT})"
    return None


def _check_flag(value: Any) -> str | None:
    return None if isinstance(value, bool) else "must be true or false"


def _check_threshold(value: Any) -> str | None:
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        return f"must be a current in amperes between {MIN_THRESHOLD_A} and {MAX_THRESHOLD_A:g}"
    if MIN_THRESHOLD_A <= value <= MAX_THRESHOLD_A:
        return None
    return f"must be between {MIN_THRESHOLD_A} and {MAX_THRESHOLD_A:g} A"


def _check_end_delay(value: Any) -> str | None:
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        return f"must be a number of seconds between {MIN_END_DELAY_S:g} and {MAX_END_DELAY_S:g}"
    if MIN_END_DELAY_S <= value <= MAX_END_DELAY_S:
        return None
    return f"must be between {MIN_END_DELAY_S:g} and {MAX_END_DELAY_S:g} seconds"


_CHECKS = {
    "port": _check_port,
    "polling_interval": _check_interval,
    "data_retention_minutes": _check_retention,
    "auto_record": _check_flag,
    "auto_record_threshold_a": _check_threshold,
    "auto_record_end_delay_s": _check_end_delay,
}


def _shown_key(key: str) -> str:
    """An unknown key as echoed in an error: at most ``MAX_SHOWN_KEY`` characters."""
    return key if len(key) <= MAX_SHOWN_KEY else key[:MAX_SHOWN_KEY] + "..."


def validate_changes(changes: Any) -> dict[str, Any]:
    """Validate a partial config; return it normalised or raise :class:`ConfigError`.

    Every field is checked before anything is reported, so the error lists every bad field.
    """
    if not isinstance(changes, Mapping):
        raise ConfigError({"body": 'must be a JSON object such as {"polling_interval": 2.0}'})
    errors: dict[str, str] = {}
    for key, value in changes.items():
        check = _CHECKS.get(key)
        if check is None:
            errors[_shown_key(str(key))] = f"unknown setting (known: {', '.join(_CHECKS)})"
        elif (message := check(value)) is not None:
            errors[key] = message
    if errors:
        raise ConfigError(errors)
    clean = dict(changes)
    if "polling_interval" in clean:
        clean["polling_interval"] = float(clean["polling_interval"])
    if "data_retention_minutes" in clean:
        clean["data_retention_minutes"] = int(clean["data_retention_minutes"])
    for key in ("auto_record_threshold_a", "auto_record_end_delay_s"):
        if key in clean:
            clean[key] = float(clean[key])
    return clean


def from_environment(environ: Mapping[str, str] | None = None) -> dict[str, Any]:
    """The settings given by ``TC66C_PORT``, ``TC66C_INTERVAL``, ``TC66C_RETENTION``,
    ``TC66C_AUTO_RECORD`` (1/0, true/false, yes/no, on/off), ``TC66C_DEVICES`` and
    ``TC66C_PAIRS`` (the last two comma-separated lists)."""
    env = os.environ if environ is None else environ
    found: dict[str, Any] = {}
    errors: dict[str, str] = {}
    for key, var in ENV_KEYS.items():
        raw = env.get(var)
        if raw is None or raw == "":
            continue
        if key == "auto_record":
            flag = _ENV_FLAGS.get(raw.strip().lower())
            if flag is None:
                errors[var] = f"cannot read {raw[:MAX_SHOWN_KEY]!r} as true or false (1/0)"
            else:
                found[key] = flag
            continue
        try:
            found[key] = (
                raw if key == "port" else (float(raw) if key == "polling_interval" else int(raw))
            )
        except ValueError:
            errors[var] = f"cannot read {raw!r} as a number"
    if errors:
        raise ConfigError(errors)
    layer = validate_changes(found)
    for key, var in (("meters", ENV_DEVICES), ("pairs", ENV_PAIRS)):
        if env.get(var):
            layer[key] = env[var]
    return layer


def load_saved(path: Path) -> dict[str, Any]:
    """Settings saved through the API; a missing file is empty, a bad one is an error."""
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return {}
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        message = f"is not valid JSON ({exc.msg}, line {exc.lineno})"
        raise ConfigError({str(path): message}) from None
    if not isinstance(data, dict):
        raise ConfigError({str(path): "must hold a JSON object"})
    lists = {k: data.pop(k) for k in ("meters", "pairs") if k in data}
    return {**validate_changes(data), **lists}


def save(path: Path, config: MeterConfig | Mapping[str, Any]) -> None:
    """Persist the config atomically (write a temp file, then rename).

    Raises :class:`ConfigSaveError` when the file cannot be written; the old one is kept.
    """
    data = config.as_dict() if isinstance(config, MeterConfig) else dict(config)
    tmp = path.with_suffix(".tmp")
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp.write_text(json.dumps(data, indent=2) + "\n", encoding="utf-8")
        os.replace(tmp, path)
    except OSError as exc:
        with contextlib.suppress(OSError):
            tmp.unlink(missing_ok=True)
        raise ConfigSaveError(
            f"cannot save the configuration to {path} ({exc.strerror or exc})"
        ) from None


def resolve(
    *,
    seed_config: Mapping[str, Any] | None = None,
    saved: Mapping[str, Any] | None = None,
    environ: Mapping[str, Any] | None = None,
    cli: Mapping[str, Any] | None = None,
) -> MeterConfig:
    """Merge the layers in precedence order (later layers win) into one validated config."""
    config = MeterConfig()
    for layer in (seed_config, saved, environ, cli):
        if layer:
            config = config.updated({k: v for k, v in layer.items() if v is not None})
    return config


def default_data_dir(environ: Mapping[str, str] | None = None) -> Path:
    """``$TC66C_DATA_DIR``, else ``$XDG_DATA_HOME/tc66c-server``, else ``~/.local/share/...``."""
    env = os.environ if environ is None else environ
    if env.get("TC66C_DATA_DIR"):
        return Path(env["TC66C_DATA_DIR"]).expanduser()
    base = env.get("XDG_DATA_HOME") or str(Path.home() / ".local" / "share")
    return Path(base) / "tc66c-server"
