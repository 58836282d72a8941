"""A recording's summary, kept up to date one sample at a time.

:class:`SummaryAccumulator` takes each sample in O(1) and holds everything the summary
needs, as plain JSON-able state (:meth:`~SummaryAccumulator.to_state`), so a running
recording's summary is always current and a finished one's, however long, is read back
from its stored state without touching its samples.

Energy and charge integrate power and current on the host by the trapezoid rule exactly
as the store's statistics do: a step longer than ``gap_s`` (the meter was gone) adds
nothing. The meter's own group counters are followed too; their delta is the "zeroed"
counter a user reads off the meter, counted across a reset of the group (a counter that
goes down restarts from zero).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

from .. import quantities as q
from ..reading import Reading
from ..timefmt import iso
from .pd import PlateauTracker

#: What the meter reports as the resistance when (almost) no current flows.
OPEN_CIRCUIT_OHM = 9999.9
#: Counters and the host integration "agree" within this fraction...
AGREEMENT_FRACTION = 0.05
#: ...or within this many whole mAh / mWh: the meter truncates its counters at both ends.
COUNTER_SLACK = 2
GROUPS = ("group0", "group1")
COUNTER_KEYS = ("group0_mah", "group0_mwh", "group1_mah", "group1_mwh")
_CORE = (q.VOLTAGE, q.CURRENT, q.POWER)


def load_connected(voltage_v: float, current_a: float, resistance_ohm: float) -> bool:
    """True when a load draws current: the resistance is below open circuit.

    A resistance of 0 (an import without that column) is taken from V/I instead.
    """
    if current_a <= 0:
        return False
    ohms = resistance_ohm if resistance_ohm > 0 else voltage_v / current_a
    return ohms < OPEN_CIRCUIT_OHM


@dataclass(frozen=True, slots=True)
class RecordingInfo:
    """What a summary says about the recording besides its samples."""

    id: int
    name: str
    meter: str
    auto: bool = False


@dataclass(slots=True)
class SummaryAccumulator:
    """Everything a summary needs, updated in O(1) per sample (see the module doc)."""

    start_ts: float
    gap_s: float
    #: False for samples without the meter's counters (a ``gtrec`` or CSV import).
    has_counters: bool = True
    n: int = 0
    mins: list[int] = field(default_factory=lambda: [0, 0, 0])  # raw V, I, P
    maxs: list[int] = field(default_factory=lambda: [0, 0, 0])
    sums: list[int] = field(default_factory=lambda: [0, 0, 0])
    energy_ws: float = 0.0
    charge_as: float = 0.0
    last_ts: float | None = None
    last_current: float = 0.0
    last_power: float = 0.0
    load_ts: float | None = None
    counters_start: list[int] | None = None
    counters_last: list[int] | None = None
    counters_delta: list[int] = field(default_factory=lambda: [0, 0, 0, 0])
    pd: PlateauTracker = field(default_factory=PlateauTracker)
    pd_seen: list[int] = field(default_factory=list)
    end_ts: float | None = None
    end_reason: str | None = None

    def add(self, ts: float, reading: Reading) -> bool:
        """Take one sample; False (and nothing changes) unless it is newer than the last."""
        if self.last_ts is not None and ts <= self.last_ts:
            return False
        raws = [quantity.to_raw(getattr(reading, quantity.key)) for quantity in _CORE]
        if self.n == 0:
            self.mins, self.maxs, self.sums = list(raws), list(raws), list(raws)
        else:
            for k, raw in enumerate(raws):
                self.mins[k] = min(self.mins[k], raw)
                self.maxs[k] = max(self.maxs[k], raw)
                self.sums[k] += raw
            step = ts - self.last_ts  # type: ignore[operator]
            if step <= self.gap_s:
                self.energy_ws += (self.last_power + reading.power) / 2 * step
                self.charge_as += (self.last_current + reading.current) / 2 * step
        self.n += 1
        self.last_ts, self.last_current, self.last_power = ts, reading.current, reading.power
        if self.load_ts is None and load_connected(
            reading.voltage, reading.current, reading.resistance
        ):
            self.load_ts = ts
        if self.has_counters:
            self._count(reading)
        level = self.pd.feed(ts, reading.voltage)
        if level is not None and level not in self.pd_seen:
            self.pd_seen.append(level)
        return True

    def _count(self, reading: Reading) -> None:
        values = [getattr(reading, key) for key in COUNTER_KEYS]
        if self.counters_last is None:
            self.counters_start = list(values)
        else:
            for k, (before, now) in enumerate(zip(self.counters_last, values, strict=True)):
                self.counters_delta[k] += now - before if now >= before else now
        self.counters_last = values

    def close(self, end_ts: float, reason: str) -> None:
        """Mark the recording ended at ``end_ts`` for ``reason``."""
        self.end_ts, self.end_reason = end_ts, reason

    @property
    def energy_wh(self) -> float:
        return self.energy_ws / 3600

    @property
    def charge_mah(self) -> float:
        return self.charge_as / 3.6

    def to_state(self) -> dict[str, Any]:
        """The accumulator as plain JSON-able data."""
        return asdict(self)

    @classmethod
    def from_state(cls, state: dict[str, Any]) -> SummaryAccumulator:
        """The accumulator saved by :meth:`to_state`."""
        fields = dict(state)
        fields["pd"] = PlateauTracker(**fields["pd"])
        return cls(**fields)


def summary(
    acc: SummaryAccumulator, info: RecordingInfo, now: float | None = None
) -> dict[str, Any]:
    """The recording's summary (the API's keys); ``now`` ends the durations while it runs."""
    until = acc.end_ts
    if until is None:
        until = now if now is not None else acc.last_ts if acc.last_ts is not None else acc.start_ts
    run_time = 0.0 if acc.load_ts is None else max(until - acc.load_ts, 0.0)
    energy_wh, charge_mah = round(acc.energy_wh, 6), round(acc.charge_mah, 6)
    body: dict[str, Any] = {
        "id": info.id,
        "name": info.name,
        "meter": info.meter,
        "start": iso(acc.start_ts),
        "end": None if acc.end_ts is None else iso(acc.end_ts),
        "duration_s": round(max(until - acc.start_ts, 0.0), 3),
        "run_time_s": round(run_time, 3),
        "sample_count": acc.n,
        "energy_wh": energy_wh,
        "charge_mah": charge_mah,
        "meter_counters": _counters(acc, energy_wh * 1000, charge_mah),
    }
    for k, quantity in enumerate(_CORE):
        body[quantity.key] = None
        if acc.n:
            body[quantity.key] = {
                "min": quantity.from_raw(acc.mins[k]),
                "max": quantity.from_raw(acc.maxs[k]),
                "avg": round(acc.sums[k] / acc.n / quantity.scale, quantity.decimals + 1),
            }
    body["pd_levels"] = sorted(acc.pd_seen)
    body["end_reason"] = acc.end_reason
    body["auto"] = info.auto
    return body


def _agrees(counter: int, host: float) -> bool:
    return abs(counter - host) <= max(AGREEMENT_FRACTION * host, COUNTER_SLACK)


def _counters(acc: SummaryAccumulator, host_mwh: float, host_mah: float) -> dict[str, Any] | None:
    """Per group: counters at start and end, their delta and whether it agrees with the
    host's integration; ``disagree`` when no group agrees (beyond 5 %)."""
    if acc.counters_start is None or acc.counters_last is None:
        return None
    out: dict[str, Any] = {}
    for g, group in enumerate(GROUPS):
        mah, mwh = 2 * g, 2 * g + 1
        delta = {"mah": acc.counters_delta[mah], "mwh": acc.counters_delta[mwh]}
        out[group] = {
            "start": {"mah": acc.counters_start[mah], "mwh": acc.counters_start[mwh]},
            "end": {"mah": acc.counters_last[mah], "mwh": acc.counters_last[mwh]},
            "delta": delta,
            "agrees": _agrees(delta["mah"], host_mah) and _agrees(delta["mwh"], host_mwh),
        }
    out["disagree"] = not any(out[group]["agrees"] for group in GROUPS)
    return out
