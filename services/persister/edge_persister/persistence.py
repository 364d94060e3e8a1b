"""When and what to persist, and the index of what has been persisted.

The persister's loop asks :meth:`Persistence.maybe_start` on every turn; a snapshot starts
when the buffer passes its size limit, when its oldest row passes its age limit, or when a
flush was asked for. The files of finished snapshots form the :class:`FileIndex` that
queries are answered from; on start it is rebuilt from the manifests in the object store.
"""

from __future__ import annotations

import itertools
import logging
import threading
import time
from collections import Counter, deque
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from edge_common.fetch import overlapping
from edge_common.objectstore import ObjectStore
from edge_common.paths import snapshot_prefix
from edge_common.persist import ParquetFile, PersistEvent, SnapshotManifest
from edge_common.schema import Catalog
from edge_common.settings import Settings
from edge_common.walformat import segments
from edge_persister.buffer import TableBuffer
from edge_persister.events import Publisher
from edge_persister.snapshot import SnapshotJob, write_snapshot

__all__ = ["FileIndex", "Persistence"]

log = logging.getLogger(__name__)
_MB = 1 << 20


@dataclass
class FileIndex:
    """Persisted files per (database, table), oldest snapshot first."""

    files: dict[tuple[str, str], list[tuple[int, ParquetFile]]] = field(default_factory=dict)
    wal_upto: dict[int, int] = field(default_factory=dict)
    last_seq: int = 0
    version: int = 0  # changed with the files (edge_common.shared publishes them then)

    def add(self, manifest: SnapshotManifest) -> None:
        self.version += 1
        for drop in manifest.drops:
            for key in [
                k
                for k in self.files
                if k[0] == drop["database"] and drop.get("table") in (None, k[1])
            ]:
                del self.files[key]
        if manifest.replaced:
            # a rewritten file takes the old one's place: merges of repeats keep their order
            new = {f.path: f for f in manifest.files}
            for key, entries in self.files.items():
                kept = []
                for seq, f in entries:
                    if f.path not in manifest.replaced:
                        kept.append((seq, f))
                    elif (path := manifest.replaced[f.path]) is not None and path in new:
                        kept.append((seq, new[path]))
                self.files[key] = kept
        placed = {p for p in manifest.replaced.values() if p is not None}
        for f in manifest.files:
            if f.path not in placed:
                self.files.setdefault((f.database, f.table), []).append((manifest.seq, f))
        for worker, seq in manifest.wal_upto.items():
            self.wal_upto[worker] = max(self.wal_upto.get(worker, 0), seq)
        self.last_seq = max(self.last_seq, manifest.seq)

    def under(self, db: str, table: str | None) -> list[ParquetFile]:
        return [
            f
            for (d, t), files in self.files.items()
            if d == db and table in (None, t)
            for _, f in files
        ]

    def under_all(self) -> list[ParquetFile]:
        return [f for files in self.files.values() for _, f in files]

    def overlapping(self, db: str, table: str, lo: int | None, hi: int | None) -> list[ParquetFile]:
        return overlapping((f for _, f in self.files.get((db, table), [])), lo, hi)

    @classmethod
    def load(cls, store: ObjectStore, node_id: str) -> FileIndex:
        index = cls()
        for key in store.list(snapshot_prefix(node_id)):
            data = store.get(key)
            if data is not None:
                index.add(SnapshotManifest.decode(data))
        return index


@dataclass
class Persistence:
    settings: Settings
    store: ObjectStore
    publisher: Publisher
    index: FileIndex
    stop: threading.Event = field(default_factory=threading.Event)
    job: Future[SnapshotManifest] | None = None
    job_tables: list[TableBuffer] = field(default_factory=list)
    flush_waiters: list[Callable[[SnapshotManifest | None], None]] = field(default_factory=list)
    flush_requested: bool = False
    flush_waiters_running: list[Callable[[SnapshotManifest | None], None]] = field(
        default_factory=list
    )
    # work that rewrites files (DELETE): on the snapshot thread, no snapshot meanwhile
    exclusive: Future[Any] | None = None
    exclusive_done: Callable[[Future[Any]], None] | None = None
    exclusive_queue: deque[tuple[Callable[[], Any], Callable[[Future[Any]], None]]] = field(
        default_factory=deque
    )
    _pool: ThreadPoolExecutor = field(
        default_factory=lambda: ThreadPoolExecutor(1, thread_name_prefix="snapshot")
    )
    reserved_seq: int = 0  # the last manifest number handed out (next_seq)
    # since start: snapshots, filesWritten, rowsWritten, bytesWritten, compactions (SHOW STATS)
    counts: Counter[str] = field(
        default_factory=lambda: Counter(
            dict.fromkeys(
                ["snapshots", "filesWritten", "rowsWritten", "bytesWritten", "compactions"], 0
            )
        )
    )

    def next_seq(self) -> int:
        """A manifest number no other manifest takes: work queued on the snapshot thread
        (a compaction, then a deletion) is numbered before the index has counted the
        manifests ahead of it."""
        self.reserved_seq = max(self.reserved_seq, self.index.last_seq) + 1
        return self.reserved_seq

    @property
    def idle(self) -> bool:
        """No snapshot, flush or exclusive work running or waiting."""
        return (
            self.job is None
            and self.exclusive is None
            and not self.exclusive_queue
            and not self.flush_requested
        )

    def buffered_bytes(self, buffers: dict[tuple[str, str], TableBuffer]) -> int:
        return sum(b.nbytes + b.frozen_bytes for b in buffers.values())

    def is_full(self, buffers: dict[tuple[str, str], TableBuffer]) -> bool:
        return self.buffered_bytes(buffers) > self.settings.buffer_mem_ceiling_mb * _MB

    def request_flush(self, waiter: Callable[[SnapshotManifest | None], None]) -> None:
        self.flush_waiters.append(waiter)
        self.flush_requested = True

    def maybe_start(
        self,
        buffers: dict[tuple[str, str], TableBuffer],
        catalog: Catalog,
        wal_upto: dict[int, int],
    ) -> None:
        if self.job is not None or self.exclusive is not None or self.exclusive_queue:
            return
        live = sum(b.nbytes for b in buffers.values())
        oldest = min(
            (t for b in buffers.values() if (t := b.oldest_append) is not None), default=None
        )
        too_old = (
            oldest is not None and time.monotonic() - oldest > self.settings.snapshot_max_age_s
        )
        if not (self.flush_requested or too_old or live > self.settings.buffer_mem_limit_mb * _MB):
            return
        waiters, self.flush_waiters, self.flush_requested = self.flush_waiters, [], False
        tables = {}
        frozen = []
        for (db, name), buf in buffers.items():
            schema = catalog.table(db, name)
            if schema is None or not buf.chunks:
                continue
            tables[(db, name)] = (schema, buf.freeze(schema))
            frozen.append(buf)
        if not tables:
            for w in waiters:
                w(None)
            return
        job = SnapshotJob(
            self.next_seq(),
            self.settings.node_id,
            self.settings.persist_window_s * 1_000_000_000,
            tables,
            dict(wal_upto),
        )
        self.job_tables = frozen
        self.flush_waiters_running = waiters
        self.job = self._pool.submit(write_snapshot, job, self.store, self.stop)

    def run_exclusive(self, work: Callable[[], Any], done: Callable[[Future[Any]], None]) -> None:
        """Run ``work`` on the snapshot thread, off the persister's loop (which goes on
        applying writes and answering queries), with no snapshot started until ``done`` has
        run on the loop's thread (``poll``): the two never pick the same manifest number.
        One at a time, in the order asked."""
        self.exclusive_queue.append((work, done))
        self._next_exclusive()

    def _next_exclusive(self) -> None:
        if self.exclusive is None and self.job is None and self.exclusive_queue:
            work, self.exclusive_done = self.exclusive_queue.popleft()
            self.exclusive = self._pool.submit(work)

    def poll(self) -> SnapshotManifest | None:
        """If the running snapshot is done: register its files, drop the rows it covered
        from memory, publish its events and answer flushes. Returns its manifest. Also
        finishes exclusive work that is done (``run_exclusive``)."""
        if self.exclusive is not None and self.exclusive.done():
            finished, done = self.exclusive, self.exclusive_done
            self.exclusive = self.exclusive_done = None
            assert done is not None
            done(finished)
        self._next_exclusive()
        if self.job is None or not self.job.done():
            return None
        manifest = self.job.result()
        self.job = None
        self.index.add(manifest)
        self.counts["snapshots"] += 1
        self.counts["filesWritten"] += len(manifest.files)
        self.counts["rowsWritten"] += sum(f.row_count for f in manifest.files)
        self.counts["bytesWritten"] += sum(f.size_bytes for f in manifest.files)
        for buf in self.job_tables:
            buf.drop_frozen()
        self.job_tables = []
        for f in manifest.files:
            self.publisher.publish(
                PersistEvent(
                    f.database,
                    f.table,
                    f.path,
                    self.store.uri(f.path),
                    f.min_time_ns,
                    f.max_time_ns,
                    f.row_count,
                    f.size_bytes,
                    manifest.seq,
                )
            )
        for w in self.flush_waiters_running:
            w(manifest)
        self.flush_waiters_running = []
        return manifest

    def delete_covered_wal(self, wal_root: Path) -> int:
        """Delete WAL segments whose every record is in Parquet (never a worker's newest)."""
        removed = 0
        if not wal_root.is_dir():
            return 0
        for d in wal_root.iterdir():
            if not d.name.startswith("ingest-"):
                continue
            upto = self.index.wal_upto.get(int(d.name.removeprefix("ingest-")), 0)
            segs = segments(d)
            for seg, newer in itertools.pairwise(segs):
                if int(newer.stem) - 1 <= upto:
                    seg.unlink(missing_ok=True)
                    removed += 1
        return removed

    def close(self) -> None:
        self.stop.set()
        self._pool.shutdown(wait=True, cancel_futures=True)
