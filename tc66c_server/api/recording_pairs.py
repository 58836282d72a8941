"""A pair's recording: the pair's figures over the recording's span.

The figures are :func:`tc66c_server.pairs.pair_result` over both meters' samples of the
span (kept beyond retention as long as the recording is). They read every raw sample of
both meters, so an ended recording's figures are computed once (when its last samples
must be written) and kept in memory.
"""

from __future__ import annotations

import threading
from typing import Any

from ..pairs import pair_result
from ..recordings.db import RecordingRow
from ..runtime import Runtime
from .pair_data import pair_rows, pair_timing

#: The pair figures a recording's summary adds (``pair_result`` under that key).
FIGURES = ("efficiency", "energy_in_wh", "energy_out_wh", "loss_w", "cable_resistance_ohm")
#: Ended recordings whose figures are kept (each is a handful of numbers).
CACHE_SIZE = 512
#: The store writes in batches: figures are cached only once the last ones must be in.
CACHE_AFTER_S = 10.0

_cache: dict[tuple[int, int, float, float], dict[str, Any]] = {}
_cache_lock = threading.Lock()


def pair_figures(runtime: Runtime, row: RecordingRow, now: float) -> dict[str, Any]:
    """The pair's figures over ``row``'s span (up to ``now`` while it runs)."""
    assert row.partner is not None
    end_ts = row.end_ts if row.end_ts is not None else now
    store = runtime.histories.store(row.demo)
    key = (id(store), row.id, row.start_ts, end_ts)
    settled = row.end_ts is not None and now - row.end_ts >= CACHE_AFTER_S
    if settled:
        with _cache_lock:
            cached = _cache.get(key)
        if cached is not None:
            return dict(cached)
    rows = [pair_rows(store, meter, row.start_ts, end_ts) for meter in (row.meter, row.partner)]
    meters = [runtime.meters.get(m) for m in (row.meter, row.partner)]
    gap_s, align_s = pair_timing(m.spec.polling_interval for m in meters if m is not None)
    spec = runtime.bench.pair(row.pair) if row.pair is not None else None
    result = pair_result(
        rows[0],
        rows[1],
        start_ts=row.start_ts,
        end_ts=end_ts,
        gap_s=gap_s,
        align_s=align_s,
        max_points=2,  # the series is not shown here: only the figures over the span
        calibration=spec.calibration if spec is not None else None,
    )
    figures: dict[str, Any] = {name: getattr(result, name) for name in FIGURES}
    figures["sample_count"] = result.sample_count
    if settled:
        with _cache_lock:
            if len(_cache) >= CACHE_SIZE:
                _cache.pop(next(iter(_cache)))
            _cache[key] = dict(figures)
    return figures


def with_pair_figures(runtime: Runtime, body: dict[str, Any], now: float) -> dict[str, Any]:
    """``body`` (a recording as the API shows it) with ``pair_result`` when it is a pair's."""
    if body.get("pair") is None:
        return body
    row = runtime.recordings.db.get(body["id"])
    if row is not None and row.partner is not None:
        body["pair_result"] = pair_figures(runtime, row, now)
    return body
