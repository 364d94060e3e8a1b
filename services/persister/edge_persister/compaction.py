"""Compaction: the files of a table's finished day (or hour) joined into one.

A snapshot writes one file per table and time window (10 minutes by default): a week of a
table is 1,008 files, and a query pays for each file it reads (opening it cold, its
columns, its tag index): one host's week took 58 ms against influxd's 7, 1.4 s cold. Once
a day is over by the wall clock (data of past days, such as a backfill, at once), the
files of that day become one; a day too large for one file (``compaction_max_rows``) is
joined by the hour instead.

Why the result is sound wherever it stands in the file order (which decides, for rows
written twice, which write wins): files are only joined when no other file of the table
overlaps their time span, so no query ever merges the result with another file. Within the
group, rows written twice (a late write to a window snapshotted before) are merged as a
query merges them: the later file's value wins. The new file and a manifest naming the
files it replaces are written first; until that manifest exists nothing changed. The old
files then leave the index at once, and the object store some minutes later (a query may
have been handed their names just before); files no manifest names are swept when the
persister starts (``sweep``).
"""

from __future__ import annotations

import functools
import io
import logging
import time
from collections import defaultdict
from concurrent.futures import Future

import pyarrow as pa
import pyarrow.parquet as pq

from edge_common.errors import EdgeError
from edge_common.merge import merge_latest, overlaps, sort_for_storage
from edge_common.objectstore import ObjectStore
from edge_common.paths import parquet_key, snapshot_key
from edge_common.persist import ParquetFile, SnapshotManifest
from edge_common.schema import Catalog, TableSchema
from edge_persister.persistence import FileIndex, Persistence
from edge_persister.snapshot import described, parquet_bytes

__all__ = ["PERIODS_NS", "Compactor", "compact", "plan", "sweep"]

log = logging.getLogger(__name__)

_HOUR_NS = 3_600 * 1_000_000_000
PERIODS_NS = (24 * _HOUR_NS, _HOUR_NS)  # the longest finished period first
_CHECK_S = 10.0  # how often the persister looks for files to join, when idle
# a large joined file and fewer late ones than this are left as they are: each join
# rewrites the large file (a trickle of late points would rewrite a day every snapshot)
_LARGE_ROWS = 1_000_000
_LATE_FILES = 8
_GRACE_S = 300.0  # replaced files stay this long in the store for queries under way


class Compactor:
    """The persister's side: on its loop, when no snapshot or other file work is running
    or waiting, plans the next join and runs it on the snapshot thread; once its manifest
    is stored, the index follows and the old files are deleted after ``_GRACE_S``."""

    def __init__(self, store: ObjectStore, node_id: str, max_rows: int) -> None:
        self.store = store
        self.node_id = node_id
        self.max_rows = max_rows
        self.next_check = 0.0
        self.retired: list[tuple[float, list[str]]] = []  # (when to delete, paths)

    def _delete(self, paths: list[str]) -> None:
        for path in paths:
            try:
                self.store.delete(path)
            except EdgeError as err:  # no manifest names it: the next start sweeps it
                log.warning("could not delete %s: %s", path, err)

    def retire(self, paths: list[str]) -> None:
        """Delete ``paths`` (no longer in the index) once queries under way are done."""
        self.retired.append((time.monotonic() + _GRACE_S, paths))

    def drop(self, prefix: str) -> None:
        """Delete now the replaced files under ``prefix`` (``table_prefix``): their database
        or table is being dropped, and its files must go with it."""
        kept = []
        for when, paths in self.retired:
            self._delete([p for p in paths if p.startswith(prefix)])
            if rest := [p for p in paths if not p.startswith(prefix)]:
                kept.append((when, rest))
        self.retired = kept

    def turn(self, persistence: Persistence, catalog: Catalog) -> None:
        now = time.monotonic()
        while self.retired and self.retired[0][0] <= now:
            self._delete(self.retired.pop(0)[1])
        if not self.max_rows or now < self.next_check or not persistence.idle:
            return
        self.next_check = now + _CHECK_S
        group = plan(persistence.index, time.time_ns(), self.max_rows)
        schema = None if group is None else catalog.table(group[0].database, group[0].table)
        if group is None or schema is None:
            return
        # a copy: the loop adds columns to the catalog's while the join runs
        schema = TableSchema(schema.name, dict(schema.columns))
        seq = persistence.next_seq()
        work = functools.partial(compact, self.store, self.node_id, seq, group, schema)

        def done(future: Future[SnapshotManifest | None]) -> None:
            self.next_check = 0.0  # another period may be waiting
            try:
                manifest = future.result()
            except Exception:
                log.exception("compaction failed; the files stay as they were")
                self.next_check = time.monotonic() + _GRACE_S  # not again at once
                return
            if manifest is not None:
                persistence.index.add(manifest)
                persistence.counts["compactions"] += 1
                self.retire(list(manifest.replaced))

        persistence.run_exclusive(work, done)


def plan(index: FileIndex, now_ns: int, max_rows: int) -> list[ParquetFile] | None:
    """Files of one table and one finished period to join (oldest first, as the index
    orders them), or None when there is nothing to do."""
    for entries in index.files.values():
        files = [f for _, f in entries]
        if len(files) < 2:
            continue
        for period in PERIODS_NS:
            groups: dict[int, list[ParquetFile]] = defaultdict(list)
            for f in files:
                groups[f.min_time_ns // period].append(f)
            for start, group in sorted(groups.items()):
                if len(group) < 2 or (start + 1) * period > now_ns:
                    continue  # one file already, or the period is not over
                rows = sum(f.row_count for f in group)
                if rows > max_rows:
                    continue
                largest = max(f.row_count for f in group)
                late = len(group) - 1
                if largest >= _LARGE_ROWS and largest * 10 >= rows * 9 and late < _LATE_FILES:
                    continue  # a joined file and a few late ones: wait for more
                lo = min(f.min_time_ns for f in group)
                hi = max(f.max_time_ns for f in group)
                members = {f.path for f in group}
                if any(
                    f.path not in members and f.min_time_ns <= hi and f.max_time_ns >= lo
                    for f in files
                ):
                    continue  # another file holds rows of this span (a longer file)
                return group
    return None


def compact(
    store: ObjectStore, node_id: str, seq: int, group: list[ParquetFile], schema: TableSchema
) -> SnapshotManifest | None:
    """Write the one file the ``group`` becomes and the manifest that puts it in their
    place (on the snapshot thread). None when a file of the group is gone (a deletion
    replaced it meanwhile): nothing is written then."""
    started = time.monotonic()
    tables = []
    for f in group:
        data = store.get(f.path)
        if data is None:
            return None
        tables.append(pq.read_table(io.BytesIO(data)))
    table = pa.concat_tables(tables, promote_options="default").unify_dictionaries()
    if overlaps([(f.min_time_ns, f.max_time_ns) for f in group]):
        table = merge_latest(table, schema)  # later files come later: their writes win
    table = sort_for_storage(table, schema)
    body = parquet_bytes(table)
    first = group[0]
    key = parquet_key(node_id, first.database, first.table, first.min_time_ns, f"{seq:010d}-c")
    store.put(key, body)
    joined = described(first.database, first.table, key, table, len(body))
    # the new file takes the first one's place in the order; the others leave it
    replaced: dict[str, str | None] = {f.path: None for f in group}
    replaced[first.path] = key
    manifest = SnapshotManifest(seq, [joined], created_ns=time.time_ns(), replaced=replaced)
    store.put(snapshot_key(node_id, seq), manifest.encode())
    log.info(
        "compacted %d files of %s.%s (%d rows) into one in %.2f s",
        len(group),
        first.database,
        first.table,
        table.num_rows,
        time.monotonic() - started,
    )
    return manifest


def sweep(store: ObjectStore, node_id: str, index: FileIndex) -> int:
    """Delete the Parquet files under the node that no manifest names: files a compaction
    replaced but had not deleted yet, and those of a snapshot stopped before its manifest
    (the WAL still holds their rows). Only while nothing else writes files."""
    named = {f.path for entries in index.files.values() for _, f in entries}
    removed = 0
    for key in store.list(f"{node_id}/dbs/"):
        if key.endswith(".parquet") and key not in named:
            store.delete(key)
            removed += 1
    return removed
