"""Where a table's rows come from for one query: Parquet files (read from the object store,
remote ones through a size-bounded local cache) and the persister's buffer; and how they
become one table in which every (series, time) appears once.

Sources are ordered oldest first: files by snapshot, then the rows being persisted, then
the live rows. Where the time ranges of two sources overlap, rows in the overlap are merged
(the later write wins per field); everywhere else rows pass through untouched.
"""

from __future__ import annotations

import os
import threading
from collections import OrderedDict
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from edge_common.merge import conform, merge_latest, overlaps, time_mask
from edge_common.objectstore import FileObjectStore, ObjectStore
from edge_common.picks import Pick, SeriesHasher, picked_rows
from edge_common.schema import TIME_COLUMN, TableSchema

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
    cache directory holding at most ``cache_bytes`` (least recently used files leave)."""

    def __init__(
        self,
        store: ObjectStore,
        cache_dir: Path,
        cache_bytes: int,
        fetch: Callable[[str], bytes] | None = None,
    ) -> None:
        self.store = store
        self.cache_dir = cache_dir
        self.cache_bytes = cache_bytes
        self._fetch = fetch or self._from_store
        self._lock = threading.Lock()
        self._picks: OrderedDict[tuple[Any, ...], pa.Table] = OrderedDict()
        self._hasher = SeriesHasher()

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
        if pick is not None and table is not None:
            whole = (
                span is not None and (lo is None or lo <= span[0]) and (hi is None or hi >= span[1])
            )
            bounds = (None, None) if whole else (lo, hi)
            memo = (key, pick, tuple(target.names), bounds, _frozen(values), _frozen(compare))
            with self._lock:
                found = self._picks.get(memo)
                if found is not None:
                    self._picks.move_to_end(memo)
                    return found
            wider = pa.schema([*target, *(table.arrow_schema(table.tag_names))])
            wider = pa.schema(list({f.name: f for f in wider}.values()))
            rows = self.read(key, wider, lo, hi, values, compare)
            picked = picked_rows(rows, table.tag_names, pick, self._hasher)
            result = picked.select(target.names).combine_chunks()
            with self._lock:
                self._picks[memo] = result
                while len(self._picks) > _PICKS_KEPT:
                    self._picks.popitem(last=False)
            return result
        source = self._local(key)
        names = pq.read_schema(source).names
        present = [n for n in target.names if n in names]
        filters: list[Any] = []
        for tag, allowed in (values or {}).items():
            if tag not in names:
                return target.empty_table()  # the tag is null in every row of this file
            filters.append((tag, "in", list(allowed)))
        for name, op, value in compare or ():
            if name not in names:
                return target.empty_table()  # null in every row: no comparison holds
            filters.append((name, op, value))
        if lo is not None:
            filters.append((TIME_COLUMN, ">=", pa.scalar(lo, pa.timestamp("ns"))))
        if hi is not None:
            filters.append((TIME_COLUMN, "<=", pa.scalar(hi, pa.timestamp("ns"))))
        try:
            data = pq.read_table(source, columns=present, filters=filters or None)
        except (pa.ArrowInvalid, pa.ArrowNotImplementedError, pa.ArrowTypeError):
            if not compare:
                raise
            # a comparison Arrow cannot make on this file's types: leave it to the query
            return self.read(key, target, lo, hi, values)
        batches = [conform(b, target) for b in data.to_batches()]
        return pa.Table.from_batches(batches, target)


def combine(
    schema: TableSchema, target: pa.Schema, sources: list[tuple[Interval | None, pa.Table]]
) -> pa.Table:
    """One table from ``sources`` (oldest first), repeats merged where sources overlap."""
    spans = overlaps([r for r, t in sources if t.num_rows])
    tables = [t for _, t in sources if t.num_rows]
    if not tables:
        return target.empty_table()
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
