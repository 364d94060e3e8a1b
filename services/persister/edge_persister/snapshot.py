"""Writing one snapshot: buffered rows → Parquet files in the object store → a manifest.

Runs in a background thread of the persister, on rows the buffer has set aside (they stay
queryable from memory until the files are registered, so a row is seen exactly once). One
file per (database, table, time window), rows sorted by tags then time, zstd, with
statistics. A failed upload is retried with growing back-off until it succeeds or the
persister stops; the manifest is written last, so a snapshot exists only once complete.
"""

from __future__ import annotations

import functools
import io
import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

from edge_common.merge import sort_for_storage, time_values
from edge_common.objectstore import ObjectStore
from edge_common.paths import parquet_key, snapshot_key
from edge_common.persist import ParquetFile, SnapshotManifest
from edge_common.schema import TIME_COLUMN, TableSchema

__all__ = ["SnapshotJob", "described", "parquet_bytes", "write_snapshot"]

log = logging.getLogger(__name__)
_ROW_GROUP = 100_000


def parquet_bytes(table: pa.Table) -> bytes:
    """``table`` as the persister writes every file (snapshots, deletions, compaction):
    zstd, 100,000-row groups, statistics."""
    sink = io.BytesIO()
    pq.write_table(
        table, sink, compression="zstd", row_group_size=_ROW_GROUP, write_statistics=True
    )
    return sink.getvalue()


def described(db: str, name: str, key: str, table: pa.Table, size: int) -> ParquetFile:
    """The manifest's entry for ``table`` (rows with times) stored at ``key``."""
    times = time_values(table.column(TIME_COLUMN))
    return ParquetFile(db, name, key, int(times.min()), int(times.max()), table.num_rows, size)


@dataclass
class SnapshotJob:
    seq: int
    node_id: str
    window_ns: int
    tables: dict[tuple[str, str], tuple[TableSchema, list[pa.RecordBatch]]]
    wal_upto: dict[int, int]


def _retrying(action: Callable[[], None], what: str, stop: threading.Event) -> None:
    delay = 0.2
    while True:
        try:
            action()
            return
        except Exception as err:
            if stop.is_set():
                raise
            log.warning("%s failed (%s); retrying in %.1f s", what, err, delay)
            stop.wait(delay)
            delay = min(delay * 2, 30.0)


def write_snapshot(job: SnapshotJob, store: ObjectStore, stop: threading.Event) -> SnapshotManifest:
    started = time.monotonic()
    manifest = SnapshotManifest(job.seq, wal_upto=dict(job.wal_upto), created_ns=time.time_ns())
    n = 0
    for (db, name), (schema, batches) in sorted(job.tables.items()):
        if not batches:
            continue
        table = pa.Table.from_batches(batches, schema.arrow_schema())
        times = time_values(table.column(TIME_COLUMN))
        windows = times // job.window_ns
        for window in np.unique(windows):
            part = table.filter(pa.array(windows == window))
            part = sort_for_storage(part, schema)
            data = parquet_bytes(part)
            key = parquet_key(
                job.node_id, db, name, int(window) * job.window_ns, f"{job.seq:010d}-{n:05d}"
            )
            n += 1
            _retrying(functools.partial(store.put, key, data), f"upload of {key}", stop)
            manifest.files.append(described(db, name, key, part, len(data)))
    body = manifest.encode()
    _retrying(
        lambda: store.put(snapshot_key(job.node_id, job.seq), body),
        f"snapshot manifest {job.seq}",
        stop,
    )
    log.info(
        "snapshot %d: %d files, %d rows in %.2f s",
        job.seq,
        len(manifest.files),
        sum(f.row_count for f in manifest.files),
        time.monotonic() - started,
    )
    return manifest
