"""A believable bench session as a pure function of elapsed time.

The scene repeats every :data:`CYCLE_S` seconds so a dashboard always shows movement: an
idle 5 V charger, a phone that negotiates USB-PD up to 9 V, 12 V and 20 V (with the short
drop of each renegotiation), current ramps with ripple, a load step, then back to 5 V and a
taper to idle. Everything the seed chooses (serial, run count, load level, ambient
temperature, D+/D- levels, noise) is fixed at construction, and :meth:`BenchSession.
reading_at` depends only on ``t_s``: the energy counters and the temperature come from
tables integrated once over the noiseless profile, so they are non-decreasing and
reproducible whatever order the times are asked in.
"""

from __future__ import annotations

import bisect
import math
import random
from dataclasses import dataclass

from .. import quantities as q
from ..reading import Reading

PRODUCT = "TC66"
FIRMWARE = "1.18"
CYCLE_S = 180.0
#: What the meter shows for V/I when almost no current flows (the division blows up).
MAX_RESISTANCE_OHM = 9999.9
#: Cable and connector resistance between the charger and the meter (voltage droop).
DROOP_OHM = 0.04
#: Step of the energy and temperature tables.
TABLE_STEP_S = 0.05
THERMAL_TAU_S = 40.0
#: Self-heating of the shunt and switch: losses go with the square of the current.
HEATING_C_PER_A2 = 2.4


@dataclass(frozen=True, slots=True)
class _Key:
    """A keyframe of the noiseless scene: source voltage and load current at ``t_s``."""

    t_s: float
    volts: float
    load_amps: float  # on top of the session's idle draw, before its load scaling
    negotiated: bool  # True once the phone has taken the data lines (PD / QC levels)


# Between two keyframes values move linearly; a step is two keyframes 0.1-0.4 s apart.
# Before each PD transition the sink releases its load (the "short drop"), the source
# slews to the new voltage, then the load comes back.
_SCENE: tuple[_Key, ...] = (
    _Key(0.0, 5.12, 0.0, False),  # charger idle, nothing attached but the meter
    _Key(20.0, 5.12, 0.0, False),
    _Key(20.4, 5.10, 0.38, True),  # phone attached, 5 V while it negotiates
    _Key(24.0, 5.10, 0.43, True),
    _Key(24.2, 5.05, 0.01, True),  # renegotiation: load released
    _Key(24.6, 9.05, 0.01, True),  # source slews to 9 V
    _Key(25.0, 9.05, 0.80, True),
    _Key(55.0, 9.02, 1.95, True),  # charge current ramps up
    _Key(60.0, 9.00, 2.00, True),
    _Key(60.2, 8.95, 0.01, True),
    _Key(60.6, 12.05, 0.01, True),  # to 12 V
    _Key(61.0, 12.05, 1.20, True),
    _Key(85.0, 12.00, 1.50, True),
    _Key(85.2, 11.95, 0.01, True),
    _Key(85.6, 20.10, 0.01, True),  # to 20 V
    _Key(86.0, 20.10, 1.00, True),
    _Key(105.0, 20.05, 1.20, True),
    _Key(105.1, 20.00, 2.85, True),  # load step (a laptop wakes up)
    _Key(125.0, 20.00, 2.90, True),
    _Key(125.1, 20.05, 1.00, True),
    _Key(130.0, 20.05, 0.80, True),
    _Key(130.2, 19.95, 0.01, True),
    _Key(130.8, 5.10, 0.01, True),  # back to 5 V
    _Key(131.2, 5.10, 1.00, True),
    _Key(170.0, 5.10, 0.15, True),  # charge tapers off
    _Key(172.0, 5.12, 0.0, False),  # phone unplugged
    _Key(CYCLE_S, 5.12, 0.0, False),
)
_SCENE_TIMES = tuple(k.t_s for k in _SCENE)

_MASK64 = (1 << 64) - 1


def _mix64(x: int) -> int:
    """SplitMix64 finaliser: a well-spread 64-bit hash of an integer."""
    x = (x + 0x9E3779B97F4A7C15) & _MASK64
    x = ((x ^ (x >> 30)) * 0xBF58476D1CE4E5B9) & _MASK64
    x = ((x ^ (x >> 27)) * 0x94D049BB133111EB) & _MASK64
    return x ^ (x >> 31)


def _at_resolution(quantity: q.Quantity, value: float) -> float:
    """``value`` rounded to the device's step for ``quantity`` (never negative)."""
    return quantity.from_raw(max(quantity.to_raw(value), 0))


class BenchSession:
    """A reproducible bench session: same seed and same ``t_s`` give the same reading."""

    def __init__(self, seed: int = 1, *, product: str = PRODUCT, firmware: str = FIRMWARE) -> None:
        self.seed = seed
        #: What the meter calls itself (4 bytes each on the wire); clones may differ.
        self.product = product
        self.firmware = firmware
        rng = random.Random(seed)
        self.serial = rng.randint(10_000, 99_999)
        self.runs = rng.randint(1, 250)
        self._load_scale = rng.uniform(0.85, 1.15)
        self._idle_amps = rng.uniform(0.012, 0.028)
        self._ambient_c = rng.uniform(24.5, 26.5)
        # Apple-style idle data lines (2.7-2.8 V); the phone pulls them to ~0.6 V (PD/QC).
        self._idle_lines = (2.70 + rng.randint(0, 10) / 100, 2.70 + rng.randint(0, 10) / 100)
        self._group0_start = (rng.randint(0, 30), rng.randint(0, 150))
        self._group1 = (rng.randint(0, 40), rng.randint(0, 200))
        self._noise_key = _mix64(seed & _MASK64)
        self._cum_mah, self._cum_mwh, self._temp_c = self._tables()

    # -- noiseless scene ------------------------------------------------------------------
    def _scene(self, t_s: float) -> tuple[float, float, bool]:
        """Source volts, load amps and data-line state at ``t_s`` (no noise)."""
        tc = t_s % CYCLE_S
        i = min(bisect.bisect_right(_SCENE_TIMES, tc), len(_SCENE) - 1)
        a, b = _SCENE[i - 1], _SCENE[i]
        f = (tc - a.t_s) / (b.t_s - a.t_s)
        load = a.load_amps + (b.load_amps - a.load_amps) * f
        volts = a.volts + (b.volts - a.volts) * f
        return volts, self._idle_amps + load * self._load_scale, a.negotiated

    def _tables(self) -> tuple[list[float], list[float], list[float]]:
        """Integrate one cycle: cumulative mAh and mWh, and the periodic temperature."""
        steps = round(CYCLE_S / TABLE_STEP_S)
        amps_squared = []
        mah, mwh = [0.0], [0.0]
        for n in range(steps):
            volts, amps, _ = self._scene((n + 0.5) * TABLE_STEP_S)
            volts -= amps * DROOP_OHM
            amps_squared.append(amps * amps)
            # A*s -> mAh is /3.6; W*s -> mWh is /3.6 as well.
            mah.append(mah[-1] + amps * TABLE_STEP_S / 3.6)
            mwh.append(mwh[-1] + volts * amps * TABLE_STEP_S / 3.6)
        # First-order thermal model run until periodic, so the cycle joins up seamlessly.
        decay = math.exp(-TABLE_STEP_S / THERMAL_TAU_S)
        temp = self._ambient_c
        for _ in range(6):
            temps = [temp]
            for a2 in amps_squared:
                target = self._ambient_c + HEATING_C_PER_A2 * a2
                temp = target + (temp - target) * decay
                temps.append(temp)
        return mah, mwh, temps

    @staticmethod
    def _periodic(table: list[float], t_s: float) -> float:
        """Linear interpolation in a table that spans one cycle."""
        pos = t_s % CYCLE_S / TABLE_STEP_S
        n = min(int(pos), len(table) - 2)
        return table[n] + (table[n + 1] - table[n]) * (pos - n)

    def _cumulative(self, table: list[float], t_s: float) -> float:
        """A per-cycle running total extended over every whole cycle already elapsed."""
        return t_s // CYCLE_S * table[-1] + self._periodic(table, t_s)

    # -- noise ----------------------------------------------------------------------------
    def _white(self, channel: int, t_s: float) -> float:
        """Noise in [-1, 1) fixed by (seed, channel, t to the millisecond)."""
        h = _mix64(self._noise_key ^ _mix64((channel << 48) ^ (round(t_s * 1000) & _MASK64)))
        return h / 2**63 - 1.0

    def _wander(self, channel: int, t_s: float, period_s: float) -> float:
        """Smooth noise in [-1, 1): white knots every ``period_s``, cosine-interpolated."""
        k = math.floor(t_s / period_s)
        f = t_s / period_s - k
        a = self._white(channel, k * period_s)
        b = self._white(channel, (k + 1) * period_s)
        w = (1 - math.cos(math.pi * f)) / 2
        return a + (b - a) * w

    # -- the reading ----------------------------------------------------------------------
    def reading_at(self, t_s: float) -> Reading:
        """The reading the meter shows ``t_s`` seconds into the session (t < 0 counts as 0)."""
        t_s = max(t_s, 0.0)
        volts, amps, negotiated = self._scene(t_s)
        ripple = 1 + 0.02 * self._wander(1, t_s, 2.0) + 0.004 * self._white(2, t_s)
        amps = _at_resolution(q.CURRENT, amps * ripple)
        volts -= amps * DROOP_OHM
        volts += 0.004 * self._wander(3, t_s, 3.0) + 0.0015 * self._white(4, t_s)
        volts = _at_resolution(q.VOLTAGE, volts)
        if amps * MAX_RESISTANCE_OHM > volts:
            ohms = _at_resolution(q.RESISTANCE, volts / amps)
        else:
            ohms = MAX_RESISTANCE_OHM
        d_plus, d_minus = (0.60, 0.60) if negotiated else self._idle_lines
        line_jitter = round(self._white(5, t_s) * 1.4) / 100  # -0.01, 0 or +0.01 V
        return Reading(
            product=self.product,
            firmware=self.firmware,
            serial=self.serial,
            runs=self.runs,
            voltage=volts,
            current=amps,
            power=_at_resolution(q.POWER, volts * amps),
            resistance=ohms,
            group0_mah=self._group0_start[0] + int(self._cumulative(self._cum_mah, t_s)),
            group0_mwh=self._group0_start[1] + int(self._cumulative(self._cum_mwh, t_s)),
            group1_mah=self._group1[0],
            group1_mwh=self._group1[1],
            temperature=round(self._temperature(t_s)),
            d_plus=_at_resolution(q.D_PLUS, d_plus + line_jitter),
            d_minus=_at_resolution(q.D_MINUS, d_minus),
        )

    def _temperature(self, t_s: float) -> float:
        """Periodic thermal state plus the warm-up from ambient at the session's start."""
        periodic = self._periodic(self._temp_c, t_s)
        start_gap = self._ambient_c - self._temp_c[0]
        return periodic + start_gap * math.exp(-t_s / THERMAL_TAU_S)
