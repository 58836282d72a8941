"""A recording made of imported CSV samples (``tc66c-server import --recording NAME``).

The samples come in sorted batches (``import_command.py``); the summary follows them. The
file says nothing of the poll interval, so the gap threshold is three times the median step
of the first batch (at least 2 s, as for a live meter). A file without the meter's group
counters (all zero) gives a recording without ``meter_counters``.
"""

from __future__ import annotations

import itertools
import statistics
from pathlib import Path

from ..reading import Sample
from .db import FILE_NAME, RecordingDb
from .reasons import EndReason
from .summary import SummaryAccumulator

MIN_GAP_S = 2.0


class ImportedRecording:
    """The summary of imported samples, then its row in ``recordings.sqlite3``."""

    def __init__(self) -> None:
        self.acc: SummaryAccumulator | None = None

    def add(self, batch: list[Sample]) -> None:
        """One sorted batch of samples."""
        if not batch:
            return
        if self.acc is None:
            steps = [b.ts - a.ts for a, b in itertools.pairwise(batch[:1001])]
            median = statistics.median(steps) if steps else 1.0
            self.acc = SummaryAccumulator(batch[0].ts, max(3 * median, MIN_GAP_S))
        for sample in batch:
            self.acc.add(sample.ts, sample.reading)

    def save(self, data_dir: Path, name: str, meter: str, *, demo: bool = False) -> int:
        """Store the finished recording; its id. ValueError when no sample was imported."""
        acc = self.acc
        if acc is None or acc.last_ts is None:
            raise ValueError("no sample was imported: no recording made")
        if not any(acc.counters_start or ()) and not any(acc.counters_delta):
            acc.has_counters, acc.counters_start, acc.counters_last = False, None, None
        acc.close(acc.last_ts, str(EndReason.IMPORTED))
        db = RecordingDb(data_dir / FILE_NAME)
        try:
            return db.create(
                name=name, meter=meter, start_ts=acc.start_ts, state=acc.to_state(),
                imported=True, demo=demo, end_ts=acc.end_ts, end_reason=acc.end_reason,
            )  # fmt: skip
        finally:
            db.close()

    def summary_line(self) -> str:
        acc = self.acc
        if acc is None:
            return "empty"
        return f"{acc.n} samples, {acc.energy_wh:.4f} Wh, {acc.charge_mah:.1f} mAh"
