"""The in-memory buffer of one table: Arrow batches as written, kept free of duplicates.

A row's identity is its series (table + tag set) and its time. Each append hashes the new
rows' identities and looks them up in a sorted array of the keys already held, so the common
case (no repeats) costs a binary search per row. When a repeat is seen, the table is marked
and merged before it is next read: one row per identity, each field taking the value of the
latest write that set it (InfluxDB 1.x semantics).
"""

from __future__ import annotations

import time

import numpy as np
import pyarrow as pa

from edge_common.chunks import (
    Chunk,
    as_chunk,
    pick_each,
    picked_within,
    read_chunks,
    row_total,
    time_span,
)
from edge_common.merge import conform, joined, merge_latest, time_values
from edge_common.picks import Pick, SeriesHasher
from edge_common.schema import TIME_COLUMN, TableSchema, empty_table
from edge_persister.keyindex import KeyIndex

__all__ = ["TableBuffer"]

_MIX = np.uint64(0x9E3779B97F4A7C15)
_SMALL_CHUNK = 16_384  # rows: a chunk smaller is joined with the next ones
_SMALL_CHUNKS = 16  # ... once there are this many small chunks in a row
_JOINED_ROWS = 65_536  # ... or they hold this many rows


class TableBuffer:
    def __init__(self) -> None:
        self.chunks: list[Chunk] = []
        self.frozen: list[Chunk] = []
        self.frozen_bytes = 0
        self._keys = KeyIndex()
        self._hasher = SeriesHasher()
        # (kind, fields, frozen) → (chunks covered, the rows picked of them, those rows as a
        # chunk once asked for: its tag indexes serve the next query too)
        self._picks: dict[tuple[str, tuple[str, ...], bool], _Picked] = {}
        self.has_repeats = False
        self.num_rows = 0
        self.nbytes = 0
        self.version = 0  # changed with the chunks (edge_common.shared publishes them then)

    def append(
        self,
        batch: pa.RecordBatch,
        appended: float | None = None,
        shared: tuple[str, int, int] | None = None,
    ) -> None:
        """Add a write's rows; ``shared``: where the batch lies shared already (its file,
        offset and size: ``edge_common.shared``)."""
        if not batch.num_rows:
            return
        times = time_values(batch.column(TIME_COLUMN))
        keys = self._row_keys(batch, times)
        if self._keys.add(keys):
            self.has_repeats = True
        when = time.monotonic() if appended is None else appended
        lo, hi = int(times.min()), int(times.max())
        self.chunks.append(Chunk(batch, lo, hi, when, _times=times, shared=shared))
        self.num_rows += batch.num_rows
        self.nbytes += batch.nbytes
        self.version += 1

    def join_small_chunks(self) -> None:
        """Join small chunks as an LSM tree merges runs: 16 neighbouring chunks of one
        level (a write is level 0), or fewer holding 64 Ki rows, become one chunk of the
        next level; a chunk of 16 Ki rows or more is left alone. Each write is a chunk,
        and a query pays ~40 µs for each chunk it reads: Telegraf's writes of a few hundred
        lines made one host's six hours 2,000+ chunks. A row is copied once per level.
        Called by the persister after it has answered the writes at hand, not on each
        append (the write waiting for it would wait for the join too)."""
        joined = True
        while joined:
            joined = False
            i = 0
            while i < len(self.chunks):
                level = self.chunks[i].level
                j, rows = i, 0
                while (
                    j < len(self.chunks)
                    and self.chunks[j].level == level
                    and self.chunks[j].batch.num_rows < _SMALL_CHUNK
                    and j - i < _SMALL_CHUNKS
                    and rows < _JOINED_ROWS
                ):
                    rows += self.chunks[j].batch.num_rows
                    j += 1
                if j - i >= 2 and (j - i == _SMALL_CHUNKS or rows >= _JOINED_ROWS):
                    self._join(i, j, level + 1)  # chunks[i:j] are now chunks[i]
                    joined = True
                    i += 1
                else:
                    i = max(j, i + 1)

    def _join(self, start: int, end: int, level: int) -> None:
        parts = self.chunks[start:end]
        batch = joined([c.batch for c in parts])
        self.nbytes += batch.nbytes - sum(c.batch.nbytes for c in parts)
        self.version += 1
        self.chunks[start:end] = [
            Chunk(
                batch,
                min(c.min_ns for c in parts),
                max(c.max_ns for c in parts),
                min(c.appended for c in parts),
                level,
            )
        ]
        # picks cover the first chunks: those joined are picked again with the rows picked
        # of them so far (the picks of a union are the picks of the parts' picks and rows)
        for key, (covered, picked, _) in self._picks.items():
            if covered > start:
                self._picks[key] = (start, picked, None)

    def _row_keys(self, batch: pa.RecordBatch, times: np.ndarray) -> np.ndarray:
        """A 64-bit hash of (tag set, time) per row; equal identities give equal keys."""
        tags = [f.name for f in batch.schema if pa.types.is_dictionary(f.type)]
        return self._hasher.keys(batch, tags) ^ (times.astype(np.uint64) * _MIX)

    def read(
        self,
        schema: TableSchema,
        columns: list[str] | None = None,
        min_ns: int | None = None,
        max_ns: int | None = None,
        values: dict[str, list[str]] | None = None,
        compare: list[tuple[str, str, object]] | None = None,
        pick: Pick | None = None,
        *,
        frozen: bool = False,
    ) -> list[pa.RecordBatch]:
        """Batches with exactly ``columns`` (all by default) in catalog types, rows with
        ``min_ns <= time <= max_ns``, for each tag in ``values`` one of its values, and
        passing each ``compare`` term (the caller's duty: only where no other source holds
        other versions of these rows); absent columns come back as nulls. ``frozen`` reads
        the rows being persisted instead of the live ones. With ``pick``, only the rows a
        first()/last() query can pick (``edge_common.picks``)."""
        if self.has_repeats and not frozen:
            self._merge_repeats(schema)
        names = list(schema.columns) if columns is None else columns
        target = schema.arrow_schema(names)
        chunks = self.frozen if frozen else self.chunks
        if pick is not None and chunks:
            chunks = [self._picked(schema, pick, frozen, min_ns, max_ns, values, names)]
        return read_chunks(chunks, target, min_ns, max_ns, values, compare)

    def _picked(
        self,
        schema: TableSchema,
        pick: Pick,
        frozen: bool,
        lo: int | None,
        hi: int | None,
        values: dict[str, list[str]] | None,
        names: list[str],
    ) -> Chunk:
        """The rows ``pick`` keeps of the chunks, as one chunk. Over every chunk, the answer
        is kept and brought up to date with the chunks appended since; a time range that
        cuts the buffer is picked from afresh, of the rows with ``values`` alone (a series'
        rows share its tags: its picks are among them), in columns ``names``."""
        chunks = self.frozen if frozen else self.chunks
        first, last = self.time_range(frozen) or (0, 0)
        full = schema.arrow_schema()
        tags = schema.tag_names
        if (lo is not None and lo > first) or (hi is not None and hi < last):
            picked = picked_within(chunks, full, tags, pick, self._hasher, lo, hi, values, names)
            return as_chunk(picked, first, last)
        key = (pick.kind, pick.fields, frozen)
        # chunks are only appended (or the newest joined: covered counts then drop to before
        # them) until the list is replaced (which forgets the picks)
        held = self._picks.get(key)
        if held is None or held[1].schema != full:  # none yet, or columns added since
            held = (0, empty_table(full), None)
        covered, picked, chunk = held
        if covered < len(chunks):
            new = [conform(c.batch, full) for c in chunks[covered:]]
            picked = pick_each([*picked.to_batches(), *new], full, tags, pick, self._hasher)
            chunk = None
        if chunk is None:
            chunk = as_chunk(picked, first, last)
            self._picks[key] = (len(chunks), picked, chunk)
        return chunk

    def time_range(self, frozen: bool = False) -> tuple[int, int] | None:
        return time_span(self.frozen if frozen else self.chunks)

    def row_count(self, frozen: bool = False) -> int:
        return row_total(self.frozen if frozen else self.chunks)

    def freeze(self, schema: TableSchema) -> list[pa.RecordBatch]:
        """Set every live row aside to be persisted (still readable, with ``frozen=True``)
        and return them, free of repeats, with the full schema."""
        if self.has_repeats:
            self._merge_repeats(schema)
        self.frozen = self.chunks
        self.chunks, self._keys, self.has_repeats = [], KeyIndex(), False
        self.version += 1
        self._picks.clear()
        self.frozen_bytes, self.nbytes = self.nbytes, 0
        self.num_rows = 0
        full = schema.arrow_schema()
        return [conform(c.batch, full) for c in self.frozen]

    def drop_frozen(self) -> None:
        self.frozen, self.frozen_bytes = [], 0
        self._picks.clear()
        self.version += 1

    @property
    def oldest_append(self) -> float | None:
        # chunks are appended in time order; a merge re-appends all with the oldest time:
        # the first chunk is always the oldest (asked on every turn of the persister's loop)
        return self.chunks[0].appended if self.chunks else None

    def _merge_repeats(self, schema: TableSchema) -> None:
        full = schema.arrow_schema()
        table = pa.Table.from_batches([conform(c.batch, full) for c in self.chunks], full)
        merged = merge_latest(table, schema)
        oldest = self.oldest_append
        self.chunks, self._keys, self.num_rows, self.nbytes = [], KeyIndex(), 0, 0
        self._picks.clear()
        self.has_repeats = False
        self.version += 1
        for batch in merged.combine_chunks().to_batches(max_chunksize=65536):
            self.append(batch, appended=oldest)


# the picks of a buffer: (chunks covered, the rows picked of them, as a chunk once read)
_Picked = tuple[int, pa.Table, "Chunk | None"]
