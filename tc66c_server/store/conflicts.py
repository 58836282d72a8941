"""Samples whose time is already stored: find them, then skip them or replace them.

The import command must never overwrite history silently; these functions let it choose.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Sequence
from typing import NamedTuple

from .codec import RawSample
from .schema import transaction
from .writes import insert_samples


class Merged(NamedTuple):
    """What ``SampleStore.merge`` did: samples stored, and those at a time already taken."""

    stored: int
    skipped: int
    replaced: int


def stored_times(conn: sqlite3.Connection, times_us: Sequence[int]) -> set[int]:
    """Those of ``times_us`` (integer microseconds) at which a sample is stored."""
    rows = conn.execute(
        "SELECT ts_us FROM samples WHERE ts_us IN (SELECT value FROM json_each(?))",
        (json.dumps(list(times_us)),),
    )
    return {row[0] for row in rows}


def merge_samples(conn: sqlite3.Connection, samples: Sequence[RawSample], *, replace: bool) -> int:
    """Store ``samples`` (times unique among them) in one transaction: one at a time already
    stored replaces it when ``replace``, else it is left out. Return how many times were
    already stored."""
    with transaction(conn, write=True):
        existing = stored_times(conn, [sample.ts_us for sample in samples])
        kept = samples if replace else [s for s in samples if s.ts_us not in existing]
        insert_samples(conn, kept)
    return len(existing)
