"""Columns of persisted Parquet files, decoded and kept in the query worker's memory.

Persisted files never change, so a column read once serves every later query until memory
runs short (least recently used columns leave first). Without it, each query opened and
decoded every file it touched: 72 files of a 12-hour TSBS table (10-minute windows) cost
~95 ms per query, more than the query itself. Filters are applied afterwards, in memory.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

from edge_common.merge import time_values, within
from edge_common.schema import TIME_COLUMN
from edge_common.tagindex import TagIndex

__all__ = ["ColumnCache"]

_SCHEMAS_KEPT = 65_536  # files whose column names are remembered


class ColumnCache:
    def __init__(self, limit_bytes: int) -> None:
        self.limit = limit_bytes
        self.used = 0
        # (file, column) → the column; (file, column, "index") → its rows by value
        self._columns: OrderedDict[tuple[str, ...], pa.Array | TagIndex] = OrderedDict()
        self._names: OrderedDict[str, list[str]] = OrderedDict()
        # (file, column) → its values as numpy, or False: nulls or no number (numbers())
        self._views: dict[tuple[str, ...], Any] = {}
        self._lock = threading.Lock()

    def batch(self, key: str, path: Callable[[], Path], wanted: list[str]) -> pa.RecordBatch:
        """The columns of ``wanted`` that file ``key`` holds, as one batch (``path`` gives
        the local file, called only when something must be read)."""
        found = self.arrays(key, path, wanted)
        return pa.RecordBatch.from_arrays(list(found.values()), names=list(found))

    def numbers(self, key: str, path: Callable[[], Path], wanted: list[str]) -> dict[str, Any]:
        """Of the columns of ``wanted`` that file ``key`` holds: each as numpy (a view of
        its values, kept with it; a time as int64), or None where it holds a null or no
        number. (influxql.lean reads a series' points so: its batch, the time column's view
        and the field's made anew each time were ~6 µs of ~12.)"""
        found: dict[str, Any] = {}
        for name, column in self.arrays(key, path, wanted).items():
            view = self._views.get((key, name))
            if view is None:
                kind = column.type
                if column.null_count or not (
                    pa.types.is_integer(kind)
                    or pa.types.is_floating(kind)
                    or pa.types.is_timestamp(kind)
                ):
                    view = False
                else:
                    view = np.asarray(
                        column.view(pa.int64()) if pa.types.is_timestamp(kind) else column
                    )
                with self._lock:
                    if (key, name) in self._columns:  # (kept as long as its column)
                        self._views[(key, name)] = view
            found[name] = None if view is False else view
        return found

    def arrays(self, key: str, path: Callable[[], Path], wanted: list[str]) -> dict[str, pa.Array]:
        """``batch``'s columns by name, in the order of ``wanted``."""
        names = self._file_names(key, path)
        wanted = [c for c in wanted if c in names]
        found: dict[str, pa.Array] = {}
        with self._lock:
            for c in wanted:
                column = self._columns.get((key, c))
                if column is not None:
                    self._columns.move_to_end((key, c))
                    assert isinstance(column, pa.Array)
                    found[c] = column
        missing = [c for c in wanted if c not in found]
        if missing:
            # one dictionary per column, one chunk: filters then work on plain arrays
            table = pq.read_table(path(), columns=missing).unify_dictionaries()
            read = {c: table.column(c).combine_chunks() for c in missing}
            found.update(read)
            for c, column in read.items():
                self._keep((key, c), column)
        return {c: found[c] for c in wanted}

    def holds(self, key: str, wanted: list[str]) -> bool:
        """Whether ``batch(key, …, wanted)`` would read nothing from the file."""
        with self._lock:
            names = self._names.get(key)
            return names is not None and all(
                (key, c) in self._columns for c in wanted if c in names
            )

    def indexed(self, key: str, tag: str) -> bool:
        """Whether ``rows_with(key, …, tag, …)`` would read nothing from the file."""
        with self._lock:
            return (key, tag, "index") in self._columns

    def rows_with(
        self,
        key: str,
        path: Callable[[], Path],
        tag: str,
        allowed: list[str],
        times: np.ndarray | None = None,
        lo: int | None = None,
        hi: int | None = None,
    ) -> np.ndarray:
        """Positions, in row order, of the rows of file ``key`` whose ``tag`` is one of
        ``allowed``, by an index of the tag made on first use and kept with the columns;
        with the file's ``times`` (its time column as int64), only those with ``lo <= time
        <= hi``: of one value by a binary search (a series' rows in a file are in time
        order: masking one host's 4,320 rows of a file was ~15 µs of a one-host hour)."""
        with self._lock:
            index = self._columns.get((key, tag, "index"))
            if index is not None:
                self._columns.move_to_end((key, tag, "index"))
        if not isinstance(index, TagIndex):
            # no columns, no rows: a file without them
            batch = self.batch(key, path, [tag, TIME_COLUMN])
            held = batch.schema.names
            column = batch.column(tag) if tag in held else None
            at = time_values(batch.column(TIME_COLUMN)) if TIME_COLUMN in held else None
            index = TagIndex.of(column, batch.num_rows, at)
            self._keep((key, tag, "index"), index)
        if times is None or (lo is None and hi is None):
            return index.rows(allowed)
        found = index.rows_between(allowed, times, lo, hi)
        if found is None:  # (several values)
            found = index.rows(allowed)
            found = found[within(times[found], lo, hi)]
        return found

    def _keep(self, what: tuple[str, ...], item: pa.Array | TagIndex) -> None:
        with self._lock:
            if what not in self._columns:
                self._columns[what] = item
                self.used += item.nbytes
            while self.used > self.limit and self._columns:
                what, gone = self._columns.popitem(last=False)
                self.used -= gone.nbytes
                self._views.pop(what, None)

    def _file_names(self, key: str, path: Callable[[], Path]) -> list[str]:
        with self._lock:
            names = self._names.get(key)
            if names is not None:
                self._names.move_to_end(key)
                return names
        names = pq.read_schema(path()).names
        with self._lock:
            self._names[key] = names
            if len(self._names) > _SCHEMAS_KEPT:
                self._names.popitem(last=False)
        return names
