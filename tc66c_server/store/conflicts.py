"""Samples whose time is already stored: find them, then skip them or replace them.

The import command must never overwrite history silently; these functions let it choose.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Sequence
from typing import NamedTuple

from .codec import RawSample
from .queries import stored_times
from .schema import DEFAULT_METER, transaction
from .writes import insert_samples


class Merged(NamedTuple):
    """What ``SampleStore.merge`` did: samples stored, and those at a time already taken."""

    stored: int
    skipped: int
    replaced: int


def merge_samples(
    conn: sqlite3.Connection,
    samples: Sequence[RawSample],
    *,
    replace: bool,
    meter: str = DEFAULT_METER,
) -> int:
    """Store ``samples`` (times unique among them) in one transaction: one at a time already
    stored replaces it when ``replace``, else it is left out. Return how many times were
    already stored."""
    with transaction(conn, write=True):
        existing = stored_times(conn, [sample.ts_us for sample in samples], meter)
        kept = samples if replace else [s for s in samples if s.ts_us not in existing]
        insert_samples(conn, kept, meter)
    return len(existing)
