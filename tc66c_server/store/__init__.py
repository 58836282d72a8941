"""The sample store: SQLite, one writer thread, fast windows, stats and chart buckets.

``SampleStore`` is the object the rest of the server uses; the modules below it are
functions of a connection (``queries``, ``stats``, ``buckets``, ``writes``) that tests can
run against ``:memory:`` with explicit times.
"""

from __future__ import annotations

from .backlog import StoreError
from .buckets import BucketSeries
from .conflicts import Merged
from .queries import UnknownFieldError
from .sample_store import SampleStore, StoreClosedError
from .schema import SchemaError
from .stats import QuantityStats, Stats

__all__ = [
    "BucketSeries",
    "Merged",
    "QuantityStats",
    "SampleStore",
    "SchemaError",
    "Stats",
    "StoreClosedError",
    "StoreError",
    "UnknownFieldError",
]
