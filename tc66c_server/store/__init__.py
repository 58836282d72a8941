"""The sample store: SQLite, one writer thread, fast windows, stats and chart buckets.

``SampleStore`` is the object the rest of the server uses; the modules below it are
functions of a connection (``queries``, ``stats``, ``buckets``, ``writes``) or pure
(``chunk``, ``rollup``, ``codec``) that tests can run against ``:memory:`` with explicit
times. Samples are kept per meter, a minute to a compressed chunk, with rollups per minute,
five minutes, hour and day (``schema.py`` has the layout).
"""

from __future__ import annotations

from .backlog import StoreError
from .buckets import BucketSeries
from .conflicts import Merged
from .meters import MeterSummary
from .queries import UnknownFieldError
from .sample_store import SampleStore, StoreClosedError, TimeSpan
from .schema import DEFAULT_METER, SchemaError
from .stats import QuantityStats, Stats

__all__ = [
    "DEFAULT_METER",
    "BucketSeries",
    "Merged",
    "MeterSummary",
    "QuantityStats",
    "SampleStore",
    "SchemaError",
    "Stats",
    "StoreClosedError",
    "StoreError",
    "TimeSpan",
    "UnknownFieldError",
]
