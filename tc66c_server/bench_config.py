"""The bench's configuration: which meters, their ports and cadences, pairs, retention.

The seed's single meter is the bench's *first* meter: its ``port`` and
``polling_interval`` are the first meter's, and ``data_retention_minutes`` is the server's.
Each configuration layer (``CONFIG`` dict, saved settings, environment, flags; see
:mod:`tc66c_server.config` for the precedence) may also give a ``meters`` list, which
replaces the list of the layers below it. Within a layer, ``polling_interval`` is the
default of the meters that layer lists, or, when the layer lists none, the first meter's.

Auto-record is per meter: a layer's ``auto_record``, ``auto_record_threshold_a`` and
``auto_record_end_delay_s`` are the defaults of every meter; a meter's entry may set its own
(``POST /api/meters/{id}/config``, or ``/api/config`` for the first meter, saves them there).
A layer listing meters keeps the own auto-record settings a lower layer gave the same id.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from typing import Any

from . import config as cfg
from .config import ConfigError
from .meter_models import BLE_PREFIX, MODELS
from .pairs import Calibration

DEFAULT_METER_ID = "m1"
#: One Bluetooth LE exchange takes 0.5-0.8 s (docs/protocol.md section 4.4): ``ble:`` meters
#: are polled at most once a second.
BLE_MIN_INTERVAL_S = 1.0


@dataclass(frozen=True, slots=True)
class MeterSpec:
    """One meter of the bench: its id (also its name), port, polling interval and model
    (``auto``: detected when the port opens)."""

    id: str
    port: str
    polling_interval: float = cfg.DEFAULT_CONFIG["polling_interval"]
    model: str = "auto"
    #: This meter's own auto-record settings; None: the bench's default.
    auto_record: bool | None = None
    auto_record_threshold_a: float | None = None
    auto_record_end_delay_s: float | None = None

    def own_recording_settings(self) -> dict[str, Any]:
        """The auto-record settings this meter sets itself, by their config keys."""
        return {k: v for k in cfg.RECORDING_DEFAULTS if (v := getattr(self, k)) is not None}

    def as_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "id": self.id,
            "port": self.port,
            "polling_interval": self.polling_interval,
        }
        if self.model != "auto":
            out["model"] = self.model
        return out | self.own_recording_settings()


def check_spec(spec: MeterSpec, where: str) -> MeterSpec:
    """``spec`` unless its interval is below its link's floor (ConfigError naming ``where``)."""
    if spec.port.startswith(BLE_PREFIX) and spec.polling_interval < BLE_MIN_INTERVAL_S:
        raise ConfigError(
            {
                f"{where}polling_interval": f"must be at least {BLE_MIN_INTERVAL_S} s for a "
                "Bluetooth LE meter (one exchange takes 0.5-0.8 s)"
            }
        )
    return spec


def _check_model(value: Any, what: str) -> str:
    if value not in MODELS:
        raise ConfigError({what: f"must be one of {', '.join(MODELS)}"})
    return str(value)


@dataclass(frozen=True, slots=True)
class PairSpec:
    """Two meters measured together: ``input`` feeds a device (or cable) that feeds ``output``.

    ``calibration`` is what a back-to-back run of the two meters measured (or None).
    """

    id: str
    input: str
    output: str
    calibration: Calibration | None = None

    def as_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "input": self.input,
            "output": self.output,
            "calibration": calibration_dict(self.calibration),
        }


def calibration_dict(calibration: Calibration | None) -> dict[str, Any] | None:
    """A calibration as saved and as the API shows it."""
    if calibration is None:
        return None
    return {
        "apparent_efficiency": calibration.apparent_efficiency,
        "voltage_offset_v": calibration.voltage_offset_v,
        "sample_count": calibration.sample_count,
    }


def _calibration_of(value: Any, position: int) -> Calibration | None:
    if value is None:
        return None
    try:
        return Calibration(
            apparent_efficiency=float(value["apparent_efficiency"]),
            voltage_offset_v=float(value["voltage_offset_v"]),
            sample_count=int(value.get("sample_count", 0)),
        )
    except (TypeError, KeyError, ValueError) as exc:
        raise ConfigError({f"pairs[{position}].calibration": f"is not valid ({exc})"}) from None


@dataclass(frozen=True, slots=True)
class BenchConfig:
    """Every setting the API can change: meters, pairs and the server's retention."""

    meters: tuple[MeterSpec, ...] = (MeterSpec(DEFAULT_METER_ID, cfg.DEFAULT_CONFIG["port"]),)
    data_retention_minutes: int = cfg.DEFAULT_CONFIG["data_retention_minutes"]
    pairs: tuple[PairSpec, ...] = ()
    auto_record: bool = cfg.RECORDING_DEFAULTS["auto_record"]
    auto_record_threshold_a: float = cfg.RECORDING_DEFAULTS["auto_record_threshold_a"]
    auto_record_end_delay_s: float = cfg.RECORDING_DEFAULTS["auto_record_end_delay_s"]

    @property
    def first(self) -> MeterSpec:
        return self.meters[0]

    def meter(self, meter_id: str) -> MeterSpec | None:
        """The meter with this id, or None."""
        return next((m for m in self.meters if m.id == meter_id), None)

    def pair(self, pair_id: str) -> PairSpec | None:
        """The pair with this id, or None."""
        return next((p for p in self.pairs if p.id == pair_id), None)

    def seed_view(self, meter_id: str | None = None) -> cfg.MeterConfig:
        """The seed's ``/api/config`` shape for one meter (the first by default)."""
        spec = self.first if meter_id is None else self.meter(meter_id)
        if spec is None:
            raise KeyError(meter_id)
        return cfg.MeterConfig(
            spec.port,
            spec.polling_interval,
            self.data_retention_minutes,
            **self.recording_settings(spec.id),
        )

    def recording_settings(self, meter_id: str | None = None) -> dict[str, Any]:
        """The auto-record settings by their config keys: the defaults (``meter_id`` None),
        else that meter's (its own where it sets them, the defaults elsewhere)."""
        defaults = {key: getattr(self, key) for key in cfg.RECORDING_DEFAULTS}
        if meter_id is None:
            return defaults
        spec = self.meter(meter_id)
        if spec is None:
            raise KeyError(meter_id)
        return defaults | spec.own_recording_settings()

    def as_dict(self) -> dict[str, Any]:
        """The saved form: the seed's three keys (first meter) plus ``meters`` and ``pairs``."""
        return {
            **self.seed_view().as_dict(),
            **self.recording_settings(),
            "meters": [m.as_dict() for m in self.meters],
            "pairs": [p.as_dict() for p in self.pairs],
        }

    # -- changes (each returns a validated copy or raises ConfigError) -------------------
    def with_meter_changes(self, meter_id: str, changes: Any) -> BenchConfig:
        """Apply a seed-shaped change (port, interval, retention) to one meter."""
        clean = cfg.validate_changes(changes)
        spec = self.meter(meter_id)
        if spec is None:
            raise KeyError(meter_id)
        recording = {k: v for k, v in clean.items() if k in cfg.RECORDING_DEFAULTS}
        spec = replace(
            spec,
            port=clean.get("port", spec.port),
            polling_interval=clean.get("polling_interval", spec.polling_interval),
            **recording,
        )
        check_spec(spec, "")
        meters = tuple(spec if m.id == meter_id else m for m in self.meters)
        _check_ports(meters, "port")
        retention = clean.get("data_retention_minutes", self.data_retention_minutes)
        return replace(self, meters=meters, data_retention_minutes=retention)

    def with_recording_defaults(self, changes: Any) -> BenchConfig:
        """New auto-record defaults (the meters that set their own keep them)."""
        if isinstance(changes, Mapping):
            known = ", ".join(cfg.RECORDING_DEFAULTS)
            unknown = {
                cfg._shown_key(str(k)): f"not an auto-record setting (known: {known})"
                for k in changes
                if k not in cfg.RECORDING_DEFAULTS
            }
            if unknown:
                raise ConfigError(unknown)
        return replace(self, **cfg.validate_changes(changes))

    def with_new_meter(self, body: Any) -> BenchConfig:
        """Add a meter from ``{"port", "id"?, "polling_interval"?, "model"?}``."""
        if not isinstance(body, Mapping):
            raise ConfigError({"body": 'must be a JSON object such as {"port": "/dev/ttyACM1"}'})
        errors: dict[str, str] = {}
        unknown = [str(k)[:40] for k in body if k not in METER_KEYS]
        if unknown:
            errors["body"] = f"unknown key(s) {', '.join(unknown[:5])} (known: "
            errors["body"] += f"{', '.join(METER_KEYS)})"
        if "port" not in body:
            errors["port"] = "is required"
        if errors:
            raise ConfigError(errors)
        meter_id = _check_id(body["id"], "id") if "id" in body else _free_id(self.meters)
        spec = parse_meter_entry(
            {"id": meter_id, **{k: body[k] for k in METER_KEYS[1:] if k in body}},
            len(self.meters),
            self.first.polling_interval,
        )
        if self.meter(spec.id) is not None:
            raise ConfigError({"id": f"a meter named {spec.id!r} already exists"})
        _check_ports((*self.meters, spec), "port")
        if len(self.meters) >= cfg.MAX_METERS:
            raise ConfigError({"body": f"at most {cfg.MAX_METERS} meters per server"})
        return replace(self, meters=(*self.meters, spec))

    def without_meter(self, meter_id: str) -> BenchConfig:
        """Remove a meter (and the pairs that use it); the last meter cannot be removed."""
        if self.meter(meter_id) is None:
            raise KeyError(meter_id)
        if len(self.meters) == 1:
            raise ConfigError({"id": "the last meter cannot be removed (change its port instead)"})
        meters = tuple(m for m in self.meters if m.id != meter_id)
        pairs = tuple(p for p in self.pairs if meter_id not in (p.input, p.output))
        return replace(self, meters=meters, pairs=pairs)

    def with_new_pair(self, body: Any) -> BenchConfig:
        """Add a pair from ``{"input", "output", "id"?}``."""
        if not isinstance(body, Mapping):
            raise ConfigError({"body": 'must be a JSON object such as {"input": "in", ...}'})
        pair = parse_pair_entry(body, len(self.pairs))
        _check_pairs((*self.pairs, pair), self.meters)
        return replace(self, pairs=(*self.pairs, pair))

    def with_calibration(self, pair_id: str, calibration: Calibration | None) -> BenchConfig:
        """The pair's calibration set (or cleared with None)."""
        if self.pair(pair_id) is None:
            raise KeyError(pair_id)
        pairs = tuple(
            replace(p, calibration=calibration) if p.id == pair_id else p for p in self.pairs
        )
        return replace(self, pairs=pairs)

    def without_pair(self, pair_id: str) -> BenchConfig:
        if self.pair(pair_id) is None:
            raise KeyError(pair_id)
        return replace(self, pairs=tuple(p for p in self.pairs if p.id != pair_id))


def _free_id(meters: Sequence[MeterSpec]) -> str:
    taken = {m.id for m in meters}
    n = len(meters) + 1
    while f"m{n}" in taken:
        n += 1
    return f"m{n}"


def _check_id(value: Any, what: str) -> str:
    if not isinstance(value, str) or not cfg._METER_ID.match(value):
        raise ConfigError(
            {what: "must be 1-32 letters, digits, '-' or '_', starting with a letter or digit"}
        )
    return value


METER_KEYS = ("id", "port", "polling_interval", "model", *cfg.RECORDING_DEFAULTS)


def parse_meter_entry(
    entry: Any, position: int, default_interval: float, default_model: str = "auto"
) -> MeterSpec:
    """One meter from ``"[NAME=]PORT"`` or ``{"id"?, "port", "polling_interval"?, "model"?}``
    (and its own auto-record settings, by their config keys)."""
    if isinstance(entry, str):
        name, sep, port = entry.partition("=")
        entry = (
            {"id": name or None, "port": port}
            if sep and not name.startswith("/")
            else {"port": entry}
        )
    if not isinstance(entry, Mapping) or "port" not in entry:
        raise ConfigError({f"meters[{position}]": "must be 'NAME=PORT', 'PORT' or an object"})
    given = entry.get("id")
    meter_id = _check_id(f"m{position + 1}" if given is None else given, f"meters[{position}].id")
    changes = {"port": entry["port"]}
    for key in ("polling_interval", *cfg.RECORDING_DEFAULTS):
        if entry.get(key) is not None:
            changes[key] = entry[key]
    try:
        clean = cfg.validate_changes(changes)
    except ConfigError as exc:
        raise ConfigError({f"meters[{position}].{k}": v for k, v in exc.fields.items()}) from None
    model = _check_model(entry.get("model") or default_model, f"meters[{position}].model")
    own = {k: v for k, v in clean.items() if k in cfg.RECORDING_DEFAULTS}
    spec = MeterSpec(
        meter_id, clean["port"], clean.get("polling_interval", default_interval), model, **own
    )
    return check_spec(spec, f"meters[{position}].")


def parse_pair_entry(entry: Any, position: int) -> PairSpec:
    """One pair from ``"IN:OUT"`` or ``{"id"?, "input", "output"}``."""
    if isinstance(entry, str):
        left, sep, right = entry.partition(":")
        entry = {"input": left, "output": right} if sep else {}
    if not isinstance(entry, Mapping) or "input" not in entry or "output" not in entry:
        raise ConfigError({f"pairs[{position}]": "must be 'IN:OUT' or {'input', 'output'}"})
    unknown = [str(k)[:40] for k in entry if k not in ("id", "input", "output", "calibration")]
    if unknown:
        raise ConfigError({f"pairs[{position}]": f"unknown key(s) {', '.join(unknown[:5])}"})
    pin = _check_id(entry["input"], "input")
    pout = _check_id(entry["output"], "output")
    given = entry.get("id")
    pair_id = _check_id(f"{pin}-{pout}" if given is None else given, "id")
    return PairSpec(pair_id, pin, pout, _calibration_of(entry.get("calibration"), position))


def _check_ports(meters: Sequence[MeterSpec], field: str) -> None:
    """Two meters never share a port (their commands and replies would interleave); any
    number may be ``auto``, which gives each its own (``autoport.py``)."""
    owner: dict[str, str] = {}
    for meter in meters:
        if meter.port == "auto":
            continue
        if meter.port in owner:
            raise ConfigError(
                {field: f"{meter.port[:80]} is already meter {owner[meter.port]!r}'s port"}
            )
        owner[meter.port] = meter.id


def _check_pairs(pairs: Sequence[PairSpec], meters: Sequence[MeterSpec]) -> None:
    ids = {m.id for m in meters}
    seen: set[str] = set()
    for pair in pairs:
        for end in (pair.input, pair.output):
            if end not in ids:
                raise ConfigError({"pairs": f"pair {pair.id!r} names an unknown meter {end!r}"})
        if pair.input == pair.output:
            raise ConfigError({"pairs": f"pair {pair.id!r} uses one meter twice"})
        if pair.id in seen:
            raise ConfigError({"pairs": f"two pairs are named {pair.id!r}"})
        seen.add(pair.id)
    if len(pairs) > cfg.MAX_PAIRS:
        raise ConfigError({"pairs": f"at most {cfg.MAX_PAIRS} pairs per server"})


def _as_list(value: Any, what: str) -> list[Any]:
    if isinstance(value, str):
        return [item.strip() for item in value.split(",") if item.strip()]
    if isinstance(value, list | tuple):
        return list(value)
    raise ConfigError({what: "must be a list (or a comma-separated string)"})


def apply_layer(config: BenchConfig, layer: Mapping[str, Any]) -> BenchConfig:
    """``config`` with one layer's settings on top (see the module doc for the rules)."""
    layer = {k: v for k, v in layer.items() if v is not None}
    seed = {k: layer[k] for k in (*cfg.DEFAULT_CONFIG, *cfg.RECORDING_DEFAULTS) if k in layer}
    clean = cfg.validate_changes(seed)
    meters = config.meters
    model = None if layer.get("model") is None else _check_model(layer["model"], "model")
    if layer.get("meters"):
        entries = _as_list(layer["meters"], "meters")
        default_interval = clean.get("polling_interval", config.first.polling_interval)
        meters = tuple(
            _keep_own_recording(
                parse_meter_entry(entry, i, default_interval, model or "auto"), config
            )
            for i, entry in enumerate(entries)
        )
        model = None
        if len({m.id for m in meters}) != len(meters):
            raise ConfigError({"meters": "two meters have the same name"})
        if len(meters) > cfg.MAX_METERS:
            raise ConfigError({"meters": f"at most {cfg.MAX_METERS} meters per server"})
        clean.pop("polling_interval", None)
    first = replace(
        meters[0],
        port=clean.get("port", meters[0].port),
        polling_interval=clean.get("polling_interval", meters[0].polling_interval),
        model=model or meters[0].model,
    )
    check_spec(first, "")
    pairs = config.pairs
    if layer.get("pairs") is not None:
        entries = _as_list(layer["pairs"], "pairs")
        pairs = tuple(parse_pair_entry(entry, i) for i, entry in enumerate(entries))
    meters = (first, *meters[1:])
    _check_ports(meters, "meters")
    # Pairs naming meters a higher layer dropped are dropped with them.
    ids = {m.id for m in meters}
    if layer.get("pairs") is None:
        pairs = tuple(p for p in pairs if p.input in ids and p.output in ids)
    _check_pairs(pairs, meters)
    recording = {k: clean.get(k, getattr(config, k)) for k in cfg.RECORDING_DEFAULTS}
    return BenchConfig(
        meters=meters,
        data_retention_minutes=clean.get("data_retention_minutes", config.data_retention_minutes),
        pairs=pairs,
        **recording,
    )


def _keep_own_recording(spec: MeterSpec, lower: BenchConfig) -> MeterSpec:
    """``spec`` with the own auto-record settings of the lower layer's meter of its id, for
    those its entry does not give (a ``--device`` list keeps what the API saved)."""
    before = lower.meter(spec.id)
    if before is None:
        return spec
    kept = {k: v for k, v in before.own_recording_settings().items() if getattr(spec, k) is None}
    return replace(spec, **kept)


def resolve(*layers: Mapping[str, Any] | None) -> BenchConfig:
    """Merge layers, lowest precedence first, into one validated :class:`BenchConfig`."""
    config = BenchConfig()
    for layer in layers:
        if layer:
            config = apply_layer(config, layer)
    return config


def cli_devices(devices: Sequence[str] | None) -> dict[str, Any]:
    """The ``--device`` flags as a layer: one plain port is the seed's ``port``."""
    if not devices:
        return {}
    if len(devices) == 1 and "=" not in devices[0]:
        return {"port": devices[0]}
    return {"meters": list(devices)}
