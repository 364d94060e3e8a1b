"""Deleting rows: InfluxQL ``DELETE`` and ``DROP SERIES``.

A deletion names a time range and a predicate on tags (never on fields, as in 1.x). The
persister first persists what is buffered (so every row written before the deletion is in
a file), then rewrites each file holding a doomed row without it, writes a manifest that
puts each new file in the old one's place (or drops it when nothing is left), and only
then deletes the old files. Until that manifest exists nothing changed; once it exists
the old files no longer count. Rows written after the deletion was asked for stay.

The predicate travels as JSON: ``{"op": "and"|"or", "args": [...]}``, ``{"op": "not",
"arg": ...}`` and leaves ``{"op": "="|"!="|"=~"|"!~", "tag": k, "value": v}`` (a regex for
``=~``/``!~``). A tag a row does not have is the empty string, as in 1.x.
"""

from __future__ import annotations

import io
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from edge_common.errors import BadRequest
from edge_common.merge import time_mask
from edge_common.objectstore import ObjectStore
from edge_common.persist import ParquetFile
from edge_common.schema import TIME_COLUMN
from edge_persister.snapshot import described, parquet_bytes

__all__ = ["doomed", "rewrite"]


def _tag(table: pa.Table, name: str) -> pa.ChunkedArray | pa.Array:
    if name not in table.column_names:
        return pa.array([""] * table.num_rows, pa.string())
    column = table.column(name)
    if pa.types.is_dictionary(column.type):
        column = column.cast(column.type.value_type)
    return pc.fill_null(column.cast(pa.string()), "")


def _matches(table: pa.Table, node: dict[str, Any]) -> pa.ChunkedArray | pa.Array:
    op = node.get("op")
    if op in ("and", "or"):
        parts = [_matches(table, a) for a in node["args"]]
        out = parts[0]
        for part in parts[1:]:
            out = pc.and_(out, part) if op == "and" else pc.or_(out, part)
        return out
    if op == "not":
        return pc.invert(_matches(table, node["arg"]))
    if op in ("=", "!=", "=~", "!~"):
        column = _tag(table, str(node["tag"]))
        value = str(node["value"])
        if op == "=":
            return pc.equal(column, value)
        if op == "!=":
            return pc.not_equal(column, value)
        hit = pc.match_substring_regex(column, value)
        return hit if op == "=~" else pc.invert(hit)
    raise BadRequest(f"unknown deletion predicate {op!r}")


def doomed(
    table: pa.Table, predicate: dict[str, Any] | None, lo: int | None, hi: int | None
) -> np.ndarray:
    """Which rows of ``table`` the deletion removes (a boolean array)."""
    if not table.num_rows:
        return np.zeros(0, dtype=bool)
    mask = np.ones(table.num_rows, dtype=bool)
    if lo is not None or hi is not None:
        times = pa.chunked_array(table.column(TIME_COLUMN)).combine_chunks()
        mask &= np.asarray(time_mask(times, lo, hi), dtype=bool)
    if predicate is not None:
        hit = pa.chunked_array([_matches(table, predicate)]).combine_chunks()
        mask &= np.asarray(hit.to_numpy(zero_copy_only=False), dtype=bool)
    return mask


def rewrite(
    store: ObjectStore,
    seq: int,
    files: list[ParquetFile],
    predicate: dict[str, Any] | None,
    lo: int | None,
    hi: int | None,
) -> tuple[list[ParquetFile], dict[str, str | None], int]:
    """New files without the doomed rows (written now), which old file each replaces, and
    how many rows went. Old files are left for the caller to delete after the manifest."""
    new_files: list[ParquetFile] = []
    replaced: dict[str, str | None] = {}
    removed = 0
    for n, f in enumerate(files):
        data = store.get(f.path)
        if data is None:
            continue  # already gone: nothing of it is visible
        table = pq.read_table(io.BytesIO(data))
        gone = doomed(table, predicate, lo, hi)
        if not gone.any():
            continue
        removed += int(gone.sum())
        keep = table.filter(pa.array(~gone))
        if not keep.num_rows:
            replaced[f.path] = None
            continue
        body = parquet_bytes(keep)
        # beside the old file, in its time window's folder
        key = f"{f.path.rsplit('/', 1)[0]}/{seq:010d}-d{n:05d}.parquet"
        store.put(key, body)
        new_files.append(described(f.database, f.table, key, keep, len(body)))
        replaced[f.path] = key
    return new_files, replaced, removed
