"""The in-memory buffer of one table: Arrow batches as written, kept free of duplicates.

A row's identity is its series (table + tag set) and its time. Each append hashes the new
rows' identities and looks them up in a sorted array of the keys already held, so the common
case (no repeats) costs a binary search per row. When a repeat is seen, the table is marked
and merged before it is next read: one row per identity, each field taking the value of the
latest write that set it (InfluxDB 1.x semantics).
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from edge_common.schema import TIME_COLUMN, TableSchema
from edge_persister.keyindex import KeyIndex

__all__ = ["TableBuffer"]

_MIX = np.uint64(0x9E3779B97F4A7C15)


@dataclass(slots=True)
class _Chunk:
    batch: pa.RecordBatch
    min_ns: int
    max_ns: int


class TableBuffer:
    def __init__(self) -> None:
        self.chunks: list[_Chunk] = []
        self._keys = KeyIndex()
        self._tag_hash: dict[tuple[str, str], int] = {}
        self.has_repeats = False
        self.num_rows = 0
        self.nbytes = 0

    def append(self, batch: pa.RecordBatch) -> None:
        if not batch.num_rows:
            return
        times = np.asarray(batch.column(TIME_COLUMN).cast(pa.int64()))
        keys = self._row_keys(batch, times)
        if self._keys.add(keys):
            self.has_repeats = True
        self.chunks.append(_Chunk(batch, int(times.min()), int(times.max())))
        self.num_rows += batch.num_rows
        self.nbytes += batch.nbytes

    def _row_keys(self, batch: pa.RecordBatch, times: np.ndarray) -> np.ndarray:
        """A 64-bit hash of (tag set, time) per row; equal identities give equal keys."""
        series = np.zeros(batch.num_rows, dtype=np.uint64)
        for name, column in zip(batch.schema.names, batch.columns, strict=True):
            if not pa.types.is_dictionary(column.type):
                continue
            dictionary = column.dictionary.to_pylist()
            hashes = np.array([self._hash_tag(name, v) for v in dictionary] + [0], dtype=np.uint64)
            idx = np.asarray(column.indices.fill_null(len(dictionary)), dtype=np.int64)
            series += hashes[idx]
        return series ^ (times.astype(np.uint64) * _MIX)

    def _hash_tag(self, name: str, value: str) -> int:
        key = (name, value)
        h = self._tag_hash.get(key)
        if h is None:
            digest = hashlib.blake2b(f"{name}\0{value}".encode(), digest_size=8).digest()
            h = self._tag_hash[key] = int.from_bytes(digest, "little")
        return h

    def read(
        self,
        schema: TableSchema,
        columns: list[str] | None = None,
        min_ns: int | None = None,
        max_ns: int | None = None,
    ) -> list[pa.RecordBatch]:
        """Batches with exactly ``columns`` (all by default) in catalog types, rows with
        ``min_ns <= time <= max_ns``; absent columns come back as nulls."""
        if self.has_repeats:
            self._merge_repeats(schema)
        names = list(schema.columns) if columns is None else columns
        target = schema.arrow_schema(names)
        out: list[pa.RecordBatch] = []
        for chunk in self.chunks:
            if (min_ns is not None and chunk.max_ns < min_ns) or (
                max_ns is not None and chunk.min_ns > max_ns
            ):
                continue
            batch = _conform(chunk.batch, target)
            if (min_ns is not None and chunk.min_ns < min_ns) or (
                max_ns is not None and chunk.max_ns > max_ns
            ):
                t = (
                    batch.column(TIME_COLUMN)
                    if TIME_COLUMN in names
                    else chunk.batch.column(TIME_COLUMN)
                )
                mask = _time_mask(t, min_ns, max_ns)
                batch = batch.filter(mask)
            if batch.num_rows:
                out.append(batch)
        return out

    def _merge_repeats(self, schema: TableSchema) -> None:
        full = schema.arrow_schema()
        table = pa.Table.from_batches(
            [_conform(c.batch, full) for c in self.chunks], full
        ).unify_dictionaries()
        keys = [n for n, t in schema.columns.items() if not t.is_field]
        fields = [n for n, t in schema.columns.items() if t.is_field]
        grouped = table.group_by(keys, use_threads=False).aggregate([(f, "last") for f in fields])
        # aggregate columns come back named "<field>_last"
        merged = grouped.rename_columns([c.removesuffix("_last") for c in grouped.column_names])
        merged = merged.select(list(schema.columns)).cast(full)
        self.chunks, self._keys, self.num_rows, self.nbytes = [], KeyIndex(), 0, 0
        self.has_repeats = False
        for batch in merged.combine_chunks().to_batches(max_chunksize=65536):
            self.append(batch)


def _time_mask(t: pa.Array, min_ns: int | None, max_ns: int | None) -> pa.Array:
    ts = t.cast(pa.int64())
    mask = None
    if min_ns is not None:
        mask = pc.greater_equal(ts, min_ns)
    if max_ns is not None:
        upper = pc.less_equal(ts, max_ns)
        mask = upper if mask is None else pc.and_(mask, upper)
    return mask


def _conform(batch: pa.RecordBatch, target: pa.Schema) -> pa.RecordBatch:
    """``batch`` with exactly ``target``'s columns; missing ones become all-null."""
    if batch.schema.equals(target):
        return batch
    arrays = []
    for f in target:
        i = batch.schema.get_field_index(f.name)
        if i < 0:
            arrays.append(pa.nulls(batch.num_rows, f.type))
        else:
            arrays.append(batch.column(i))
    return pa.RecordBatch.from_arrays(arrays, schema=target)
