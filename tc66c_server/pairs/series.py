"""Instantaneous efficiency and loss on aligned buckets, and when efficiency is not shown.

``P_out / P_in`` of one bucket is only meaningful when both meters saw the same steady load.
Two rules hide it (the value is ``None``):

* **Floor**: ``P_in`` below :data:`EFFICIENCY_FLOOR_W` (0.5 W). At a few hundred mW the
  meters' resolution and the converter's own standby draw dominate, and the ratio swings
  wildly (or divides by zero).
* **Load step**: a bucket whose span comes closer than :data:`LOAD_STEP_SETTLE_S` (1 s) to a
  load step. A step is a change of ``P_in`` between consecutive aligned buckets of more
  than :data:`LOAD_STEP_MIN_W` (0.5 W) *and* more than :data:`LOAD_STEP_RELATIVE` (10 %) of
  the larger of the two; it happened somewhere between the end of the earlier bucket and
  the start of the later one. The two meters are polled at different instants, so around a
  step one may report the new load while the other still reports the old one, and their
  ratio is meaningless (it even exceeds 100 %); a converter also takes a moment to settle.

The loss series ``P_in − P_out`` is always shown: it stays bounded around a step.
"""

from __future__ import annotations

import itertools
from collections.abc import Sequence

from .align import AlignedBucket

#: Below this input power (W) instantaneous efficiency is hidden.
EFFICIENCY_FLOOR_W = 0.5
#: A load step changes ``P_in`` between consecutive buckets by more than this fraction...
LOAD_STEP_RELATIVE = 0.10
#: ...and by more than this many watts.
LOAD_STEP_MIN_W = 0.5
#: Buckets closer than this (s) to a load step are hidden.
LOAD_STEP_SETTLE_S = 1.0


def is_load_step(before_w: float, after_w: float) -> bool:
    """Whether going from ``before_w`` to ``after_w`` of input power is a load step."""
    change = abs(after_w - before_w)
    return change > LOAD_STEP_MIN_W and change > LOAD_STEP_RELATIVE * max(before_w, after_w)


def near_load_step(buckets: Sequence[AlignedBucket]) -> list[bool]:
    """For each bucket, whether it comes closer than 1 s to a load step (see the module doc)."""
    steps = [
        (a.end, b.ts)
        for a, b in itertools.pairwise(buckets)
        if is_load_step(a.power_in, b.power_in)
    ]
    hidden = [False] * len(buckets)
    first = 0  # the first step not yet entirely more than 1 s before the current bucket
    for index, bucket in enumerate(buckets):
        while first < len(steps) and steps[first][1] <= bucket.ts - LOAD_STEP_SETTLE_S:
            first += 1
        k = first
        while k < len(steps) and steps[k][0] < bucket.end + LOAD_STEP_SETTLE_S:
            lo, hi = steps[k]
            distance = max(lo - bucket.end, bucket.ts - hi, 0.0)
            if distance < LOAD_STEP_SETTLE_S:
                hidden[index] = True
                break
            k += 1
    return hidden


def efficiency_series(
    buckets: Sequence[AlignedBucket], apparent_efficiency: float = 1.0
) -> list[float | None]:
    """``P_out / P_in`` per bucket, ``None`` where hidden (floor or load step).

    ``apparent_efficiency`` (from a calibration run) divides every value.
    """
    near_step = near_load_step(buckets)
    return [
        None
        if hidden or bucket.power_in < EFFICIENCY_FLOOR_W
        else bucket.power_out / bucket.power_in / apparent_efficiency
        for bucket, hidden in zip(buckets, near_step, strict=True)
    ]


def loss_series(buckets: Sequence[AlignedBucket], apparent_efficiency: float = 1.0) -> list[float]:
    """``P_in − P_out`` per bucket (W), the output corrected by ``apparent_efficiency``."""
    return [b.power_in - b.power_out / apparent_efficiency for b in buckets]
