"""Where a table's rows come from for one query: Parquet files (read from the object store,
remote ones through a size-bounded local cache) and the persister's buffer; and how they
become one table in which every (series, time) appears once.

Sources are ordered oldest first: files by snapshot, then the rows being persisted, then
the live rows. Where the time ranges of two sources overlap, rows in the overlap are merged
(the later write wins per field); everywhere else rows pass through untouched.
"""

from __future__ import annotations

import functools
import os
import threading
from collections import OrderedDict
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from edge_common.merge import (
    compact,
    compare_mask,
    conform,
    merge_latest,
    overlaps,
    time_mask,
    time_values,
    within,
)
from edge_common.objectstore import FileObjectStore, ObjectStore
from edge_common.picks import Pick, SeriesHasher, picked_rows
from edge_common.schema import TIME_COLUMN, TableSchema, empty_table
from edge_query.filecache import ColumnCache

__all__ = ["ParquetSource", "combine"]

Interval = tuple[int, int]
_PICKS_KEPT = 256  # files whose first()/last() rows stay in memory (a few rows per series)


def _frozen(value: Any) -> Any:
    """A hashable form of filter arguments (dicts of lists, lists of tuples)."""
    if isinstance(value, dict):
        return tuple(sorted((k, _frozen(v)) for k, v in value.items()))
    if isinstance(value, (list, tuple)):
        return tuple(_frozen(v) for v in value)
    return value


class ParquetSource:
    """Reads persisted files: straight from disk for the file store, else through a local
    cache directory holding at most ``cache_bytes`` (least recently used files leave); the
    columns read stay decoded in memory, up to ``memory_bytes`` (``edge_query.filecache``)."""

    def __init__(
        self,
        store: ObjectStore,
        cache_dir: Path,
        cache_bytes: int,
        fetch: Callable[[str], bytes] | None = None,
        memory_bytes: int = 256 << 20,
    ) -> None:
        self.store = store
        self.cache_dir = cache_dir
        self.cache_bytes = cache_bytes
        self._fetch = fetch or self._from_store
        self._lock = threading.Lock()
        self._picks: OrderedDict[tuple[Any, ...], pa.Table] = OrderedDict()
        self._hasher = SeriesHasher()
        self.columns = ColumnCache(memory_bytes)

    def _from_store(self, key: str) -> bytes:
        data = self.store.get(key)
        if data is None:
            raise FileNotFoundError(f"persisted file {key} is missing from the object store")
        return data

    def _local(self, key: str) -> Path:
        if isinstance(self.store, FileObjectStore):
            return self.store.root / key
        path = self.cache_dir / key
        if path.exists():
            os.utime(path)
            return path
        data = self._fetch(key)
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_name(f"{path.name}.{os.getpid()}.tmp")
        tmp.write_bytes(data)
        os.replace(tmp, path)
        self._evict()
        return path

    def _evict(self) -> None:
        with self._lock:
            files = [p for p in self.cache_dir.rglob("*.parquet") if p.is_file()]
            total = sum(p.stat().st_size for p in files)
            for p in sorted(files, key=lambda p: p.stat().st_mtime):
                if total <= self.cache_bytes:
                    break
                total -= p.stat().st_size
                p.unlink(missing_ok=True)

    def _kept(self, memo: tuple[Any, ...]) -> pa.Table | None:
        """Picks kept for ``memo``, the newest to leave last."""
        with self._lock:
            found = self._picks.get(memo)
            if found is not None:
                self._picks.move_to_end(memo)
            return found

    def _keep(self, memo: tuple[Any, ...], rows: pa.Table) -> None:
        with self._lock:
            self._picks[memo] = rows
            while len(self._picks) > _PICKS_KEPT:
                self._picks.popitem(last=False)

    def read_picked(
        self,
        files: list[tuple[str, Interval]],
        target: pa.Schema,
        lo: int | None,
        hi: int | None,
        values: dict[str, list[str]] | None,
        compare: list[tuple[str, str, Any]] | None,
        pick: Pick,
        table: TableSchema,
    ) -> pa.Table:
        """The rows ``pick`` keeps of several files none of which overlaps another in time,
        as one table: each file's picks (with every tag, kept as ``read`` keeps them),
        picked again over their union (the picks of the parts' picks are the picks of the
        whole, ``edge_common.picks``), and kept too. ``last()`` by host over twelve hours
        of ten-minute files read 72 small tables and joined their dictionaries each time."""
        whole = all((lo is None or lo <= a) and (hi is None or hi >= b) for _, (a, b) in files)
        bounds = (None, None) if whole else (lo, hi)
        memo = (
            tuple(k for k, _ in files),
            pick,
            tuple(target.names),
            bounds,
            _frozen(values),
            _frozen(compare),
        )
        found = self._kept(memo)
        if found is not None:
            return found
        wider = pa.schema([*target, *(table.arrow_schema(table.tag_names))])
        wider = pa.schema(list({f.name: f for f in wider}.values()))
        parts = [
            self.read(k, wider, lo, hi, values, compare, pick, table, span) for k, span in files
        ]
        joined = pa.concat_tables(parts).unify_dictionaries().combine_chunks()
        picked = picked_rows(joined, table.tag_names, pick, self._hasher)
        result = picked.select(target.names).combine_chunks()
        self._keep(memo, result)
        return result

    def pick_memo(
        self,
        key: str,
        target: pa.Schema,
        lo: int | None,
        hi: int | None,
        values: dict[str, list[str]] | None,
        compare: list[tuple[str, str, Any]] | None,
        pick: Pick,
        span: tuple[int, int] | None,
    ) -> tuple[Any, ...]:
        """What ``read`` keeps one file's picks by: without the time range when it holds
        the file's whole ``span``."""
        bounds = (None, None) if _whole(span, lo, hi) else (lo, hi)
        return (key, pick, tuple(target.names), bounds, _frozen(values), _frozen(compare))

    def held_picks(self, memo: tuple[Any, ...]) -> bool:
        """Whether picks are kept for ``memo`` (``pick_memo``)."""
        with self._lock:
            return memo in self._picks

    def read(
        self,
        key: str,
        target: pa.Schema,
        lo: int | None,
        hi: int | None,
        values: dict[str, list[str]] | None = None,
        compare: list[tuple[str, str, Any]] | None = None,
        pick: Pick | None = None,
        table: TableSchema | None = None,
        span: tuple[int, int] | None = None,
    ) -> pa.Table:
        """Rows of one file in ``target``'s columns, in the time range, for each column of
        ``values`` (tags only: the caller's duty) holding one of its values, and passing each
        ``compare`` term (only where no other source holds versions of these rows). With
        ``pick`` (and the ``table`` schema, for its tags), only the rows a first()/last()
        query can pick; those are kept in memory for the next such query (files never
        change), keyed without the time range when it holds the file's whole ``span``."""
        whole = _whole(span, lo, hi)
        if pick is not None and table is not None:
            memo = self.pick_memo(key, target, lo, hi, values, compare, pick, span)
            found = self._kept(memo)
            if found is not None:
                return found
            wider = pa.schema([*target, *(table.arrow_schema(table.tag_names))])
            wider = pa.schema(list({f.name: f for f in wider}.values()))
            rows = self.read(key, wider, lo, hi, values, compare)
            picked = picked_rows(rows, table.tag_names, pick, self._hasher)
            result = picked.select(target.names).combine_chunks()
            self._keep(memo, result)
            return result
        wanted = {*target.names, *(values or {}), *(c[0] for c in compare or ()), TIME_COLUMN}
        batch = self.columns.batch(key, lambda: self._local(key), sorted(wanted))
        held = set(batch.schema.names)
        if any(tag not in held for tag in values or {}) or any(
            c[0] not in held for c in compare or ()
        ):
            return empty_table(target)  # null in every row of this file: nothing passes
        cut = (lo is not None or hi is not None) and not whole
        if values:  # the rows of these tag values, by each tag's index of the file
            taken: np.ndarray | None = None
            path = functools.partial(self._local, key)
            if cut and len(values) == 1:  # (in the time range too: nothing left to cut)
                ((tag, allowed),) = values.items()
                times = time_values(batch.column(TIME_COLUMN))
                taken = self.columns.rows_with(key, path, tag, allowed, times, lo, hi)
                cut = False
            for tag, allowed in values.items() if taken is None else ():
                these = self.columns.rows_with(key, path, tag, allowed)
                taken = these if taken is None else np.intersect1d(taken, these)
            assert taken is not None
            if len(taken) and taken[-1] - taken[0] + 1 == len(taken):
                # one run of rows (a series: files are sorted by tags, then time)
                batch, cut = _run_of(batch, int(taken[0]), len(taken), lo, hi, cut)
            else:
                batch = batch.take(pa.array(taken))
        masks = []
        if cut:
            masks.append(time_mask(batch.column(TIME_COLUMN), lo, hi))
        if compare and (m := compare_mask(batch, compare)) is not None:
            masks.append(m)
        if masks:
            batch = batch.filter(functools.reduce(pc.and_, masks))
        batch = conform(batch, target)
        if values or masks:  # few rows may point into a large dictionary: only theirs
            batch = compact(batch)
        return pa.Table.from_batches([batch], target)

    def points(
        self,
        key: str,
        lo: int,
        hi: int,
        values: dict[str, list[str]],
        field: str,
        kind: pa.DataType,
    ) -> tuple[np.ndarray, np.ndarray] | None:
        """``read``'s rows of one file as ``influxql.lean`` takes them: the times and the
        values of ``field`` (a number of type ``kind``), as numpy; ``None`` where the
        field holds a null or another type."""
        path = functools.partial(self._local, key)
        held = self.columns.numbers(key, path, [TIME_COLUMN, field])
        if field not in held:  # (null in every row of this file: no point)
            return np.zeros(0, dtype=np.int64), np.zeros(0, dtype=kind.to_pandas_dtype())
        times, x = held.get(TIME_COLUMN), held[field]
        if times is None or x is None or x.dtype != kind.to_pandas_dtype():
            return None
        rows: np.ndarray | None = None
        for tag, allowed in values.items():  # (a tag the file lacks: none of its rows)
            these = self.columns.rows_with(key, path, tag, allowed, times, lo, hi)
            rows = these if rows is None else np.intersect1d(rows, these)
        if rows is None:
            rows = np.flatnonzero(within(times, lo, hi))
        if len(rows) and rows[-1] - rows[0] + 1 == len(rows):  # (a series' run: a view)
            run = slice(int(rows[0]), int(rows[-1]) + 1)
            return times[run], x[run]
        return times[rows], x[rows]


def _whole(span: tuple[int, int] | None, lo: int | None, hi: int | None) -> bool:
    """Whether a file of time ``span`` lies wholly in the time range: nothing to cut."""
    return span is not None and (lo is None or lo <= span[0]) and (hi is None or hi >= span[1])


def _run_of(
    batch: pa.RecordBatch, start: int, length: int, lo: int | None, hi: int | None, cut: bool
) -> tuple[pa.RecordBatch, bool]:
    """Rows ``start`` to ``start + length`` of ``batch`` without copying them, and within
    ``lo``-``hi`` by a binary search where their times are in order (a series' rows of a
    file are): then no time cut is left to make (the bool). Taking one host's 4,320 rows of
    a file and masking them by time was ~20 % of a one-host hour's query."""
    run = batch.slice(start, length)
    if not cut:
        return run, False
    times = time_values(run.column(TIME_COLUMN))
    if len(times) > 1 and not bool(np.all(times[1:] >= times[:-1])):
        return run, True
    first = 0 if lo is None else int(np.searchsorted(times, lo, side="left"))
    end = len(times) if hi is None else int(np.searchsorted(times, hi, side="right"))
    return run.slice(first, max(end - first, 0)), False


def combine(
    schema: TableSchema, target: pa.Schema, sources: list[tuple[Interval | None, pa.Table]]
) -> pa.Table:
    """One table from ``sources`` (oldest first), repeats merged where sources overlap."""
    spans = overlaps([r for r, t in sources if t.num_rows])
    tables = [t for _, t in sources if t.num_rows]
    if not tables:
        return empty_table(target)
    if not spans and len(tables) == 1 and all(c.num_chunks <= 1 for c in tables[0].columns):
        return tables[0]  # (one source, one piece: its dictionaries are one already)
    if not spans:
        return pa.concat_tables(tables).unify_dictionaries()
    inside_parts, outside_parts = [], []
    for t in tables:
        times = t.column(TIME_COLUMN)
        inside = None
        for lo, hi in spans:
            m = time_mask(times, lo, hi)
            inside = m if inside is None else pc.or_(inside, m)
        inside_parts.append(t.filter(inside))
        outside_parts.append(t.filter(pc.invert(inside)))
    merged = merge_latest(pa.concat_tables(inside_parts).unify_dictionaries(), schema)
    return pa.concat_tables([*outside_parts, merged]).unify_dictionaries()
