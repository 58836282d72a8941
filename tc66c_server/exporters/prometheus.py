"""The Prometheus text exposition (format 0.0.4) of the bench, as a pure function of a snapshot.

Naming follows the Prometheus guide: one ``tc66c_`` prefix, base units (volts, amperes,
watts, ohms, joules, coulombs, seconds) as plural suffixes, ``_total`` on counters, an
``_info`` metric for identity strings. Every per-meter series has the labels ``meter``
(the bench's id) and ``model`` (what the meter calls itself).

A meter's readings are exposed only while they are current (link up and the last sample
no older than the meter's gap threshold): a stale value would plot as a flat line, an
absent one shows as the gap it is. The load resistance is absent on an open circuit. The
counters (energy, charge, polls...) are always exposed.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Literal

from .. import quantities as q
from ..energy import EnergyTotals
from ..poll_durations import PollDurations
from ..poller import Counters, LinkState
from ..reading import Reading, Sample
from .values import load_resistance_ohm

CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"
PREFIX = "tc66c_"
Kind = Literal["gauge", "counter", "histogram"]


@dataclass(frozen=True, slots=True)
class MeterView:
    """Everything the exposition shows about one meter, read at one instant."""

    id: str
    port: str
    demo: bool
    polling_interval_s: float
    gap_s: float
    state: LinkState
    latest: Sample | None
    counters: Counters
    durations: PollDurations
    totals: EnergyTotals


@dataclass(frozen=True, slots=True)
class PairView:
    """One pair's figures over the last window (None where they cannot be measured)."""

    id: str
    input: str
    output: str
    efficiency: float | None
    loss_w: float | None


@dataclass(frozen=True, slots=True)
class RecordingsView:
    """The recordings kept, and the start of each meter's running one (Unix s)."""

    total: int
    running: dict[str, float]


@dataclass(frozen=True, slots=True)
class Family:
    """One metric family: name (with the prefix), type and help text."""

    name: str
    kind: Kind
    help: str

    def header(self) -> str:
        return f"# HELP {self.name} {self.help}\n# TYPE {self.name} {self.kind}\n"


def _family(name: str, kind: Kind, help_text: str) -> Family:
    return Family(PREFIX + name, kind, help_text)


#: Readings, declared once: family, then (extra labels, quantity, factor to base units).
ReadingSeries = tuple[tuple[str, q.Quantity, float], ...]
_MAH_TO_C = 3.6
_MWH_TO_J = 3.6
READINGS: tuple[tuple[Family, ReadingSeries], ...] = (
    (_family("voltage_volts", "gauge", q.VOLTAGE.description), (("", q.VOLTAGE, 1.0),)),
    (_family("current_amperes", "gauge", q.CURRENT.description), (("", q.CURRENT, 1.0),)),
    (_family("power_watts", "gauge", q.POWER.description), (("", q.POWER, 1.0),)),
    (
        _family("temperature_celsius", "gauge", q.TEMPERATURE.description),
        (("", q.TEMPERATURE, 1.0),),
    ),
    (
        _family("data_line_voltage_volts", "gauge", "USB data line voltage (D+ and D-)"),
        ((',line="D+"', q.D_PLUS, 1.0), (',line="D-"', q.D_MINUS, 1.0)),
    ),
    (
        _family(
            "group_charge_coulombs",
            "gauge",
            "Charge counted by the meter's own energy group (the user can clear it)",
        ),
        ((',group="0"', q.GROUP0_MAH, _MAH_TO_C), (',group="1"', q.GROUP1_MAH, _MAH_TO_C)),
    ),
    (
        _family(
            "group_energy_joules",
            "gauge",
            "Energy counted by the meter's own energy group (the user can clear it)",
        ),
        ((',group="0"', q.GROUP0_MWH, _MWH_TO_J), (',group="1"', q.GROUP1_MWH, _MWH_TO_J)),
    ),
)
RESISTANCE = _family(
    "load_resistance_ohms", "gauge", "Load resistance seen by the meter (absent on open circuit)"
)
LAST_SAMPLE = _family(
    "last_sample_timestamp_seconds", "gauge", "Unix time of the meter's last sample"
)
LINK_UP = _family("link_up", "gauge", "1 when the meter answers, 0 when it is absent or failing")
INTERVAL = _family("polling_interval_seconds", "gauge", "The meter's configured polling interval")
INFO = _family(
    "meter_info", "gauge", "The meter's identity: model, firmware, serial, transport and port"
)
ENERGY = _family(
    "energy_joules_total",
    "counter",
    "Energy through the meter since the server started (server-integrated, trapezoid rule)",
)
CHARGE = _family(
    "charge_coulombs_total",
    "counter",
    "Charge through the meter since the server started (server-integrated, trapezoid rule)",
)
POLLS = _family("polls_total", "counter", "Exchanges with the meter by result (ok, timeout, bad)")
#: Counters taken as they are from the poller's :class:`Counters`.
COUNTERS: tuple[tuple[Family, Callable[[Counters], int]], ...] = (
    (
        _family("reconnects_total", "counter", "Times the meter came back after being lost"),
        lambda c: c.reconnects,
    ),
    (
        _family("missed_slots_total", "counter", "Polling slots skipped because a poll overran"),
        lambda c: c.missed_slots,
    ),
    (
        _family("retries_total", "counter", "Bad or missing replies asked again within the slot"),
        lambda c: c.retries,
    ),
    (
        _family("poller_restarts_total", "counter", "Acquisition processes restarted"),
        lambda c: c.poller_restarts,
    ),
)
DURATION = _family("poll_duration_seconds", "histogram", "Duration of each exchange with the meter")
PAIR_EFFICIENCY = _family(
    "pair_efficiency_ratio",
    "gauge",
    "Output energy over input energy of a meter pair over the last minute",
)
PAIR_LOSS = _family(
    "pair_loss_watts", "gauge", "Average power lost between a pair's meters over the last minute"
)
RECORDINGS = _family("recordings", "gauge", "Recordings kept by the server (every meter)")
RECORDING_ACTIVE = _family("recording_active", "gauge", "1 while a recording of the meter runs")
RECORDING_START = _family(
    "recording_start_time_seconds", "gauge", "Unix time the meter's running recording started"
)
BUILD = _family("build_info", "gauge", "The server's version")
STARTED = _family("start_time_seconds", "gauge", "Unix time the server started")


def escape(value: str) -> str:
    """A label value as the text format wants it (backslash, quote and newline escaped)."""
    return value.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")


def number(value: float) -> str:
    """A sample value: integers without a decimal point, ``+Inf``/``-Inf``/``NaN`` spelled out."""
    if isinstance(value, int):
        return str(value)
    if math.isnan(value):
        return "NaN"
    if math.isinf(value):
        return "+Inf" if value > 0 else "-Inf"
    return repr(value)


def _model(meter: MeterView) -> str:
    if meter.state.product is not None:
        return meter.state.product
    return meter.latest.reading.product if meter.latest is not None else ""


def _current(meter: MeterView, now: float) -> Reading | None:
    """The meter's last reading if it is current (link up, not older than the gap)."""
    latest = meter.latest
    if latest is None or not meter.state.connected or now - latest.ts > meter.gap_s:
        return None
    return latest.reading


def render(
    meters: Sequence[MeterView],
    pairs: Sequence[PairView] = (),
    *,
    recordings: RecordingsView | None = None,
    now: float,
    version: str,
    started_at: float,
) -> str:
    """The whole exposition for ``meters`` and ``pairs`` at ``now`` (Unix s)."""
    labels = [f'meter="{escape(m.id)}",model="{escape(_model(m))}"' for m in meters]
    readings = [_current(m, now) for m in meters]
    out: list[str] = []
    add = out.append

    for family, series in READINGS:
        add(family.header())
        for label, reading in zip(labels, readings, strict=True):
            if reading is None:
                continue
            for extra, quantity, factor in series:
                value = getattr(reading, quantity.key)
                value = value * factor if factor != 1.0 else value
                add(f"{family.name}{{{label}{extra}}} {number(value)}\n")
    add(RESISTANCE.header())
    for label, reading in zip(labels, readings, strict=True):
        ohms = load_resistance_ohm(reading) if reading is not None else None
        if ohms is not None:
            add(f"{RESISTANCE.name}{{{label}}} {number(ohms)}\n")

    add(LAST_SAMPLE.header())
    for label, meter in zip(labels, meters, strict=True):
        if meter.latest is not None:
            add(f"{LAST_SAMPLE.name}{{{label}}} {number(meter.latest.ts)}\n")
    add(LINK_UP.header())
    for label, meter in zip(labels, meters, strict=True):
        add(f"{LINK_UP.name}{{{label}}} {int(meter.state.connected)}\n")
    add(INTERVAL.header())
    for label, meter in zip(labels, meters, strict=True):
        add(f"{INTERVAL.name}{{{label}}} {number(meter.polling_interval_s)}\n")
    add(INFO.header())
    for meter in meters:
        state = meter.state
        serial = "" if state.serial is None else str(state.serial)
        add(
            f'{INFO.name}{{meter="{escape(meter.id)}",model="{escape(_model(meter))}",'
            f'firmware="{escape(state.firmware or "")}",serial="{serial}",'
            f'transport="{"demo" if meter.demo else "serial"}",port="{escape(meter.port)}"}} 1\n'
        )

    add(ENERGY.header())
    for label, meter in zip(labels, meters, strict=True):
        add(f"{ENERGY.name}{{{label}}} {number(meter.totals.joules)}\n")
    add(CHARGE.header())
    for label, meter in zip(labels, meters, strict=True):
        add(f"{CHARGE.name}{{{label}}} {number(meter.totals.coulombs)}\n")
    add(POLLS.header())
    for label, meter in zip(labels, meters, strict=True):
        c = meter.counters
        add(f'{POLLS.name}{{{label},result="ok"}} {c.samples}\n')
        add(f'{POLLS.name}{{{label},result="timeout"}} {c.timeouts}\n')
        add(f'{POLLS.name}{{{label},result="bad"}} {c.bad_packets}\n')
    for family, count in COUNTERS:
        add(family.header())
        for label, meter in zip(labels, meters, strict=True):
            add(f"{family.name}{{{label}}} {count(meter.counters)}\n")
    add(DURATION.header())
    for label, meter in zip(labels, meters, strict=True):
        hist = meter.durations
        for bound, running in hist.cumulative():
            add(f'{DURATION.name}_bucket{{{label},le="{number(bound)}"}} {running}\n')
        add(f"{DURATION.name}_sum{{{label}}} {number(hist.sum_s)}\n")
        add(f"{DURATION.name}_count{{{label}}} {hist.count}\n")

    for family, field in ((PAIR_EFFICIENCY, "efficiency"), (PAIR_LOSS, "loss_w")):
        add(family.header())
        for pair in pairs:
            value = getattr(pair, field)
            if value is not None:
                add(
                    f'{family.name}{{pair="{escape(pair.id)}",input="{escape(pair.input)}",'
                    f'output="{escape(pair.output)}"}} {number(value)}\n'
                )
    if recordings is not None and recordings.total:  # recording state once there are any
        add(RECORDINGS.header())
        add(f"{RECORDINGS.name} {recordings.total}\n")
        add(RECORDING_ACTIVE.header())
        for label, meter in zip(labels, meters, strict=True):
            add(f"{RECORDING_ACTIVE.name}{{{label}}} {int(meter.id in recordings.running)}\n")
        add(RECORDING_START.header())
        for label, meter in zip(labels, meters, strict=True):
            started = recordings.running.get(meter.id)
            if started is not None:
                add(f"{RECORDING_START.name}{{{label}}} {number(started)}\n")
    add(BUILD.header())
    add(f'{BUILD.name}{{version="{escape(version)}"}} 1\n')
    add(STARTED.header())
    add(f"{STARTED.name} {number(started_at)}\n")
    return "".join(out)
