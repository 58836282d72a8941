"""Recordings and annotations on disk: a small SQLite file of their own.

``recordings.sqlite3`` sits next to the sample store (in memory for ``:memory:``). A
recording row holds what the summary needs as JSON state (``summary.SummaryAccumulator``),
so listing recordings never reads a sample; the samples themselves stay in the sample
store, spared from retention by the spans :meth:`RecordingDb.kept_spans` gives it.

Functions of a connection, schema as named, numbered steps (``user_version``); the
:class:`RecordingDb` object serialises access from the pollers' threads and the API's.
"""

from __future__ import annotations

import json
import sqlite3
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .annotations import Annotation, Kind

FILE_NAME = "recordings.sqlite3"
#: A running recording's span is kept until this long after now (it grows meanwhile).
OPEN_SPAN_AHEAD_S = 86_400.0

_STEPS: tuple[tuple[str, str], ...] = (
    (
        "recordings and annotations",
        """
        CREATE TABLE recordings (
            id INTEGER PRIMARY KEY AUTOINCREMENT,
            name TEXT NOT NULL,
            meter TEXT NOT NULL,
            note TEXT NOT NULL DEFAULT '',
            auto INTEGER NOT NULL DEFAULT 0,
            imported INTEGER NOT NULL DEFAULT 0,
            demo INTEGER NOT NULL DEFAULT 0,
            start_ts REAL NOT NULL,
            end_ts REAL,
            end_reason TEXT,
            stop_rules TEXT NOT NULL DEFAULT '{}',
            state TEXT NOT NULL
        );
        CREATE INDEX recordings_open ON recordings (end_ts) WHERE end_ts IS NULL;
        CREATE TABLE annotations (
            id INTEGER PRIMARY KEY AUTOINCREMENT,
            meter TEXT NOT NULL,
            ts REAL NOT NULL,
            kind TEXT NOT NULL,
            text TEXT NOT NULL,
            auto INTEGER NOT NULL DEFAULT 1
        );
        CREATE INDEX annotations_meter_ts ON annotations (meter, ts);
        CREATE INDEX annotations_ts ON annotations (ts);
        """,
    ),
    (
        "recordings of a pair: the pair's id and its output meter (the input is ``meter``)",
        """
        ALTER TABLE recordings ADD COLUMN pair TEXT;
        ALTER TABLE recordings ADD COLUMN partner TEXT;
        """,
    ),
)
SCHEMA_VERSION = len(_STEPS)


class RecordingSchemaError(RuntimeError):
    """The file was written by a newer version of the server."""


@dataclass(frozen=True, slots=True)
class RecordingRow:
    """One stored recording."""

    id: int
    name: str
    meter: str
    note: str
    auto: bool
    imported: bool
    demo: bool
    start_ts: float
    end_ts: float | None
    end_reason: str | None
    stop_rules: dict[str, Any]
    state: dict[str, Any]
    #: A pair's recording: the pair's id and its output meter (``meter`` is its input).
    pair: str | None = None
    partner: str | None = None

    @property
    def meters(self) -> tuple[str, ...]:
        """The meters whose samples the recording keeps."""
        return (self.meter,) if self.partner is None else (self.meter, self.partner)


_COLUMNS = (
    "id, name, meter, note, auto, imported, demo, start_ts, end_ts, end_reason, stop_rules, state, "
    "pair, partner"
)


def _row(values: tuple[Any, ...]) -> RecordingRow:
    (rid, name, meter, note, auto, imported, demo, start, end, reason, rules, state, pair,
     partner) = values  # fmt: skip
    return RecordingRow(
        rid, name, meter, note, bool(auto), bool(imported), bool(demo), start, end, reason,
        json.loads(rules), json.loads(state), pair, partner,
    )  # fmt: skip


def migrate(conn: sqlite3.Connection) -> None:
    """Bring the schema to :data:`SCHEMA_VERSION`, one named step per transaction."""
    version: int = conn.execute("PRAGMA user_version").fetchone()[0]
    if version > SCHEMA_VERSION:
        raise RecordingSchemaError(
            f"recordings schema {version} is newer than this server's {SCHEMA_VERSION}"
        )
    for number, (_, script) in enumerate(_STEPS[version:], start=version + 1):
        conn.executescript(f"BEGIN; {script} PRAGMA user_version = {number}; COMMIT;")


class RecordingDb:
    """Recordings and annotations in one SQLite file (or memory), safe from any thread."""

    def __init__(self, path: Path | None) -> None:
        self.path = path
        target = ":memory:" if path is None else str(path)
        self._conn = sqlite3.connect(target, check_same_thread=False, isolation_level=None)
        self._lock = threading.Lock()
        try:
            if path is not None:
                self._conn.execute("PRAGMA journal_mode = WAL")
                self._conn.execute("PRAGMA synchronous = NORMAL")
            migrate(self._conn)
        except BaseException:
            self._conn.close()
            raise

    @contextmanager
    def _tx(self) -> Iterator[sqlite3.Connection]:
        with self._lock:
            self._conn.execute("BEGIN IMMEDIATE")
            try:
                yield self._conn
            except BaseException:
                self._conn.execute("ROLLBACK")
                raise
            self._conn.execute("COMMIT")

    def close(self) -> None:
        with self._lock:
            self._conn.close()

    # -- recordings -----------------------------------------------------------------------
    def create(
        self,
        *,
        name: str,
        meter: str,
        start_ts: float,
        state: dict[str, Any],
        note: str = "",
        auto: bool = False,
        imported: bool = False,
        demo: bool = False,
        stop_rules: dict[str, Any] | None = None,
        end_ts: float | None = None,
        end_reason: str | None = None,
        pair: str | None = None,
        partner: str | None = None,
    ) -> int:
        """Store a new recording; its id."""
        with self._tx() as conn:
            cursor = conn.execute(
                "INSERT INTO recordings (name, meter, note, auto, imported, demo, start_ts, "
                "end_ts, end_reason, stop_rules, state, pair, partner) "
                "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (
                    name, meter, note, auto, imported, demo, start_ts, end_ts, end_reason,
                    json.dumps(stop_rules or {}), json.dumps(state), pair, partner,
                ),
            )  # fmt: skip
            rid = cursor.lastrowid
        assert rid is not None
        return rid

    def get(self, recording_id: int) -> RecordingRow | None:
        with self._lock:
            found = self._conn.execute(
                f"SELECT {_COLUMNS} FROM recordings WHERE id = ?", (recording_id,)
            ).fetchone()
        return None if found is None else _row(found)

    def listing(self, meter: str | None = None) -> list[RecordingRow]:
        """Every recording (of ``meter``, a pair's of either meter), newest start first."""
        where, args = ("WHERE ? IN (meter, partner)", (meter,)) if meter is not None else ("", ())
        with self._lock:
            rows = self._conn.execute(
                f"SELECT {_COLUMNS} FROM recordings {where} ORDER BY start_ts DESC, id DESC", args
            ).fetchall()
        return [_row(r) for r in rows]

    def count(self) -> int:
        """How many recordings are kept (every meter)."""
        with self._lock:
            found: int = self._conn.execute("SELECT COUNT(*) FROM recordings").fetchone()[0]
        return found

    def open_recordings(self) -> list[RecordingRow]:
        """The recordings not ended yet (at most one per meter)."""
        with self._lock:
            rows = self._conn.execute(
                f"SELECT {_COLUMNS} FROM recordings WHERE end_ts IS NULL ORDER BY id"
            ).fetchall()
        return [_row(r) for r in rows]

    def save_state(
        self,
        recording_id: int,
        state: dict[str, Any],
        *,
        end_ts: float | None = None,
        end_reason: str | None = None,
    ) -> None:
        """The summary state of a recording, and its end once it has one."""
        with self._tx() as conn:
            conn.execute(
                "UPDATE recordings SET state = ?, end_ts = ?, end_reason = ? WHERE id = ?",
                (json.dumps(state), end_ts, end_reason, recording_id),
            )

    def edit(self, recording_id: int, *, name: str | None = None, note: str | None = None) -> bool:
        """Rename and/or re-note a recording; False when it does not exist."""
        with self._tx() as conn:
            found = conn.execute("SELECT 1 FROM recordings WHERE id = ?", (recording_id,))
            if found.fetchone() is None:
                return False
            if name is not None:
                conn.execute("UPDATE recordings SET name = ? WHERE id = ?", (name, recording_id))
            if note is not None:
                conn.execute("UPDATE recordings SET note = ? WHERE id = ?", (note, recording_id))
        return True

    def delete(self, recording_id: int) -> bool:
        """Forget a recording (its samples then age out with retention); False if unknown."""
        with self._tx() as conn:
            return conn.execute("DELETE FROM recordings WHERE id = ?", (recording_id,)).rowcount > 0

    def kept_spans(self, now: float) -> list[tuple[str, float, float]]:
        """(meter, start, end) of every recording (both meters of a pair's), a running
        one's end a day ahead."""
        with self._lock:
            rows = self._conn.execute(
                "SELECT meter, start_ts, end_ts FROM recordings UNION ALL "
                "SELECT partner, start_ts, end_ts FROM recordings WHERE partner IS NOT NULL"
            ).fetchall()
        return [(m, s, e if e is not None else now + OPEN_SPAN_AHEAD_S) for m, s, e in rows]

    # -- annotations ----------------------------------------------------------------------
    def annotate(self, annotations: list[Annotation]) -> list[int]:
        """Store annotations; their ids."""
        if not annotations:
            return []
        ids = []
        with self._tx() as conn:
            for a in annotations:
                cursor = conn.execute(
                    "INSERT INTO annotations (meter, ts, kind, text, auto) VALUES (?, ?, ?, ?, ?)",
                    (a.meter, a.ts, str(a.kind), a.text, a.auto),
                )
                assert cursor.lastrowid is not None
                ids.append(cursor.lastrowid)
        return ids

    def annotations(
        self, start_ts: float, end_ts: float, meter: str | None = None, limit: int = 10_000
    ) -> list[tuple[int, Annotation]]:
        """(id, annotation) with start_ts <= ts <= end_ts (of ``meter``), oldest first."""
        sql = "SELECT id, meter, ts, kind, text, auto FROM annotations WHERE ts BETWEEN ? AND ?"
        args: tuple[Any, ...] = (start_ts, end_ts)
        if meter is not None:
            sql += " AND meter = ?"
            args += (meter,)
        with self._lock:
            rows = self._conn.execute(sql + " ORDER BY ts, id LIMIT ?", (*args, limit)).fetchall()
        return [
            (i, Annotation(ts, m, Kind(kind), text, bool(auto)))
            for i, m, ts, kind, text, auto in rows
        ]

    def delete_annotation(self, annotation_id: int) -> bool:
        with self._tx() as conn:
            cursor = conn.execute("DELETE FROM annotations WHERE id = ?", (annotation_id,))
            return cursor.rowcount > 0

    def prune_annotations(self, before_ts: float, now: float) -> int:
        """Drop automatic annotations older than ``before_ts`` outside every recording's
        span; notes written by hand stay."""
        spans = self.kept_spans(now)
        with self._tx() as conn:
            rows = conn.execute(
                "SELECT id, meter, ts FROM annotations WHERE auto AND ts < ?", (before_ts,)
            ).fetchall()
            doomed = [
                (i,)
                for i, meter, ts in rows
                if not any(m == meter and s <= ts <= e for m, s, e in spans)
            ]
            conn.executemany("DELETE FROM annotations WHERE id = ?", doomed)
        return len(doomed)
