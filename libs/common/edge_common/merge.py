"""Merging rows that share a series and a time: one row, each field taking the value of the
latest write that set it (InfluxDB 1.x semantics). Used by the buffer and by queries that
span buffer and Parquet files."""

from __future__ import annotations

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from edge_common.schema import TIME_COLUMN, TableSchema

__all__ = [
    "compact",
    "compare_mask",
    "conform",
    "merge_latest",
    "overlaps",
    "sort_for_storage",
    "time_mask",
    "within",
]

_COMPARE = {
    "=": pc.equal,
    "!=": pc.not_equal,
    "<": pc.less,
    "<=": pc.less_equal,
    ">": pc.greater,
    ">=": pc.greater_equal,
}


def conform(batch: pa.RecordBatch, target: pa.Schema) -> pa.RecordBatch:
    """``batch`` with exactly ``target``'s columns; missing ones become all-null."""
    if batch.schema.equals(target):
        return batch
    arrays = []
    for f in target:
        i = batch.schema.get_field_index(f.name)
        arrays.append(pa.nulls(batch.num_rows, f.type) if i < 0 else batch.column(i))
    return pa.RecordBatch.from_arrays(arrays, schema=target)


def joined(batches: list[pa.RecordBatch]) -> pa.RecordBatch:
    """``batches`` as one, rows in order: the union of their columns (absent ones null),
    each tag's dictionaries made one."""
    if len(batches) == 1:
        return batches[0]
    schema = pa.unify_schemas([b.schema for b in batches])
    table = pa.Table.from_batches([conform(b, schema) for b in batches], schema)
    return table.unify_dictionaries().combine_chunks().to_batches()[0]


def compact(batch: pa.RecordBatch) -> pa.RecordBatch:
    """``batch`` with each tag column whose dictionary is far larger than its rows encoded
    again with the texts those rows hold. A chunk's or a file's dictionary holds every
    value of the tag; the rows a query keeps of it (one host's hour of 50,000 hosts) still
    pointed into all of them, and each step after (moving the frame, joining sources'
    dictionaries, ranking the texts) paid for every entry: 44 ms where 1 was due."""
    arrays = None
    for i, f in enumerate(batch.schema):
        if not pa.types.is_dictionary(f.type):
            continue
        column = batch.column(i)
        if len(column.dictionary) <= 2 * len(column) + 256:
            continue
        if arrays is None:
            arrays = list(batch.columns)
        arrays[i] = column.dictionary_decode().dictionary_encode().cast(f.type)
    return batch if arrays is None else pa.RecordBatch.from_arrays(arrays, schema=batch.schema)


def merge_latest(table: pa.Table, schema: TableSchema) -> pa.Table:
    """Rows of ``table`` (oldest first) merged per (tags, time); columns as in ``table``."""
    names = table.column_names
    keys = [n for n in names if not schema.columns[n].is_field]
    fields = [n for n in names if schema.columns[n].is_field]
    if not fields:
        return table.group_by(keys, use_threads=False).aggregate([]).select(names)
    grouped = (
        table.unify_dictionaries()
        .group_by(keys, use_threads=False)
        .aggregate([(f, "last") for f in fields])
    )
    # aggregate columns come back named "<field>_last"
    merged = grouped.rename_columns([c.removesuffix("_last") for c in grouped.column_names])
    return merged.select(names).cast(table.schema)


# Masks are computed with numpy: a query's fetch makes a few of them per buffer chunk, where
# the fixed cost of each Arrow compute call (~10 µs) was most of the persister's time.


def time_values(t: pa.Array | pa.ChunkedArray) -> np.ndarray:
    """A time column's nanoseconds as int64: a view of each array's values, not a cast (a
    cast of one host's rows sliced out of a file's column cost ~100 µs in a query worker,
    the view ~2; one cast per buffer chunk was ~6 % of a one-host hour's query)."""
    if t.null_count:
        return np.asarray(t.cast(pa.int64()))
    if isinstance(t, pa.Array):
        return np.asarray(t.view(pa.int64()))
    views = [np.asarray(c.view(pa.int64())) for c in t.chunks]
    return views[0] if len(views) == 1 else np.concatenate(views or [np.zeros(0, np.int64)])


def time_mask(t: pa.Array | pa.ChunkedArray, min_ns: int | None, max_ns: int | None) -> pa.Array:
    """Rows with ``min_ns <= time <= max_ns`` (either bound may be open)."""
    return pa.array(within(time_values(t), min_ns, max_ns))


def within(ts: np.ndarray, min_ns: int | None, max_ns: int | None) -> np.ndarray:
    """``time_mask`` of nanosecond times already in numpy."""
    if min_ns is None:
        return np.ones(len(ts), dtype=bool) if max_ns is None else ts <= max_ns
    return ts >= min_ns if max_ns is None else (ts >= min_ns) & (ts <= max_ns)


def compare_mask(batch: pa.RecordBatch, compare: list[tuple[str, str, object]]) -> pa.Array | None:
    """Rows passing every ``(column, op, value)`` comparison, as SQL filters them (a null
    compares to nothing: the row fails; a batch without the column: no row passes). A
    comparison Arrow cannot make (types that do not compare) is skipped: this only narrows
    what the query filters again. ``None``: nothing to narrow."""
    mask = None
    for name, op, value in compare:
        index = batch.schema.get_field_index(name)
        if index < 0:
            return pa.array(np.zeros(batch.num_rows, dtype=bool))
        column = batch.column(index)
        if pa.types.is_dictionary(column.type):
            column = column.cast(column.type.value_type)
        try:
            m = pc.fill_null(_COMPARE[op](column, value), False)
        except (pa.ArrowInvalid, pa.ArrowNotImplementedError, pa.ArrowTypeError, KeyError):
            continue
        mask = m if mask is None else pc.and_(mask, m)
    return mask


def sort_for_storage(table: pa.Table, schema: TableSchema) -> pa.Table:
    """Rows ordered by tag values (in catalog order), then time. Dictionary columns are
    ordered by the rank of their values, since Arrow cannot sort dictionaries directly."""
    table = table.unify_dictionaries().combine_chunks()
    order_keys: list[np.ndarray] = [time_values(table.column(TIME_COLUMN))]
    for name in reversed(schema.tag_names):
        if name not in table.column_names:
            continue
        col = table.column(name).chunk(0) if table.num_rows else None
        if col is None:
            continue
        values = col.dictionary.to_pylist()
        rank = np.empty(len(values) + 1, dtype=np.int64)
        rank[:-1] = np.argsort(np.argsort(np.array(values, dtype=object), kind="stable"))
        rank[-1] = -1  # nulls first
        idx = np.asarray(col.indices.fill_null(len(values)), dtype=np.int64)
        order_keys.append(rank[idx])
    order = np.lexsort(order_keys)
    return table.take(pa.array(order))


def overlaps(ranges: list[tuple[int, int] | None]) -> list[tuple[int, int]]:
    """The stretches of time covered by two or more of ``ranges`` (inclusive), merged."""
    # in order of start, each range overlaps the earlier ones from its start to the end of
    # whichever earlier one reaches furthest (asked per query over every file of a table)
    spans = sorted(r for r in ranges if r is not None)
    hits = []
    reach: int | None = None
    for lo, hi in spans:
        if reach is not None and lo <= reach:
            hits.append((lo, min(hi, reach)))
        reach = hi if reach is None else max(reach, hi)
    merged: list[tuple[int, int]] = []
    for lo, hi in hits:
        if merged and lo <= merged[-1][1] + 1:
            merged[-1] = (merged[-1][0], max(merged[-1][1], hi))
        else:
            merged.append((lo, hi))
    return merged
