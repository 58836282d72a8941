"""Meter pairs: a converter's efficiency and a cable's resistance from two meters' samples.

Pure functions over two sample series (the input meter's and the output meter's rows as
``SampleStore.range`` returns them), no I/O. :func:`pair_result` gives everything the pair
endpoint returns; the other functions are its parts.
"""

from .align import AlignedBucket, Row, align
from .cable import CABLE_MIN_CURRENT_A, CABLE_MIN_SAMPLES, CableResistance, cable_resistance
from .calibration import Calibration, CalibrationError, CalibrationInfo, calibrate
from .energy import PairEnergy, pair_energy
from .result import PairPoint, PairResult, data_width_s, pair_result
from .series import (
    EFFICIENCY_FLOOR_W,
    LOAD_STEP_MIN_W,
    LOAD_STEP_RELATIVE,
    LOAD_STEP_SETTLE_S,
    efficiency_series,
    loss_series,
    near_load_step,
)

__all__ = [
    "CABLE_MIN_CURRENT_A",
    "CABLE_MIN_SAMPLES",
    "EFFICIENCY_FLOOR_W",
    "LOAD_STEP_MIN_W",
    "LOAD_STEP_RELATIVE",
    "LOAD_STEP_SETTLE_S",
    "AlignedBucket",
    "CableResistance",
    "Calibration",
    "CalibrationError",
    "CalibrationInfo",
    "PairEnergy",
    "PairPoint",
    "PairResult",
    "Row",
    "align",
    "cable_resistance",
    "calibrate",
    "data_width_s",
    "efficiency_series",
    "loss_series",
    "near_load_step",
    "pair_energy",
    "pair_result",
]
