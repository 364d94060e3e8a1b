"""The in-memory buffer of one table: Arrow batches as written, kept free of duplicates.

A row's identity is its series (table + tag set) and its time. Each append hashes the new
rows' identities and looks them up in a sorted array of the keys already held, so the common
case (no repeats) costs a binary search per row. When a repeat is seen, the table is marked
and merged before it is next read: one row per identity, each field taking the value of the
latest write that set it (InfluxDB 1.x semantics).
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from edge_common.merge import (
    compact,
    compare_mask,
    conform,
    joined,
    merge_latest,
    time_mask,
    time_values,
    within,
)
from edge_common.picks import Pick, SeriesHasher, picked_rows
from edge_common.schema import TIME_COLUMN, TableSchema, empty_table
from edge_common.tagindex import TagIndex
from edge_persister.keyindex import KeyIndex

__all__ = ["TableBuffer"]

_MIX = np.uint64(0x9E3779B97F4A7C15)
_SMALL_CHUNK = 16_384  # rows: a chunk smaller is joined with the next ones
_SMALL_CHUNKS = 16  # ... once there are this many small chunks in a row
_JOINED_ROWS = 65_536  # ... or they hold this many rows
_GATHERED_ROWS = 16_384  # rows read from several chunks: up to this many, sent as one batch


@dataclass(slots=True)
class _Chunk:
    batch: pa.RecordBatch
    min_ns: int
    max_ns: int
    appended: float  # time.monotonic() of the append, for the age trigger
    level: int = 0  # joins its rows went through (join_small_chunks)
    # per tag a query named a value of: its rows grouped by value (made on first use)
    by_tag: dict[str, TagIndex] = field(default_factory=dict)
    _times: np.ndarray | None = None

    def times(self) -> np.ndarray:
        """Each row's time as int64 ns (a view of the column, kept: a query cutting a
        64 Ki-row chunk by time cast the whole column each time, ~60 µs)."""
        if self._times is None:
            self._times = time_values(self.batch.column(TIME_COLUMN))
        return self._times

    def rows_with(self, tag: str, allowed: list[str]) -> np.ndarray:
        """Positions of the rows whose ``tag`` is one of ``allowed``, in row order."""
        index = self.by_tag.get(tag)
        if index is None:
            i = self.batch.schema.get_field_index(tag)
            column = self.batch.column(i) if i >= 0 else None
            index = self.by_tag[tag] = TagIndex.of(column, self.batch.num_rows)
        return index.rows(allowed)


class TableBuffer:
    def __init__(self) -> None:
        self.chunks: list[_Chunk] = []
        self.frozen: list[_Chunk] = []
        self.frozen_bytes = 0
        self._keys = KeyIndex()
        self._hasher = SeriesHasher()
        # (kind, fields, frozen) → (chunks covered, the rows picked of them, those rows as a
        # chunk once asked for: its tag indexes serve the next query too)
        self._picks: dict[tuple[str, tuple[str, ...], bool], _Picked] = {}
        self.has_repeats = False
        self.num_rows = 0
        self.nbytes = 0

    def append(self, batch: pa.RecordBatch, appended: float | None = None) -> None:
        if not batch.num_rows:
            return
        times = time_values(batch.column(TIME_COLUMN))
        keys = self._row_keys(batch, times)
        if self._keys.add(keys):
            self.has_repeats = True
        when = time.monotonic() if appended is None else appended
        self.chunks.append(_Chunk(batch, int(times.min()), int(times.max()), when, _times=times))
        self.num_rows += batch.num_rows
        self.nbytes += batch.nbytes

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
        self.chunks[start:end] = [
            _Chunk(
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
            chunks = [self._picked(schema, pick, frozen, min_ns, max_ns, values)]
        out: list[pa.RecordBatch] = []
        for chunk in chunks:
            if (min_ns is not None and chunk.max_ns < min_ns) or (
                max_ns is not None and chunk.min_ns > max_ns
            ):
                continue
            source = chunk.batch
            cut = (min_ns is not None and chunk.min_ns < min_ns) or (
                max_ns is not None and chunk.max_ns > max_ns
            )
            if values:  # the rows of these tag values, by position; then their times
                rows: np.ndarray | None = None
                for tag, allowed in values.items():
                    these = chunk.rows_with(tag, allowed)
                    rows = these if rows is None else np.intersect1d(rows, these)
                assert rows is not None
                if cut and len(rows):
                    times = chunk.times()[rows]
                    rows = rows[within(times, min_ns, max_ns)]
                if not len(rows):
                    continue
                # only the columns asked for or compared are taken (10 tags cost ~70 µs)
                wanted = set(target.names).union(c[0] for c in compare or ())
                source = source.select([n for n in source.schema.names if n in wanted])
                source, cut = source.take(pa.array(rows)), False
            mask = time_mask(source.column(TIME_COLUMN), min_ns, max_ns) if cut else None
            if compare and (m := compare_mask(source, compare)) is not None:
                mask = m if mask is None else pc.and_(mask, m)
            batch = conform(source, target)
            if mask is not None:
                batch = batch.filter(mask)
            if batch.num_rows:
                out.append(batch)
        if len(out) > 1 and sum(b.num_rows for b in out) <= _GATHERED_ROWS:
            return [_gathered(out, target)]
        return [compact(b) for b in out]

    def _picked(
        self,
        schema: TableSchema,
        pick: Pick,
        frozen: bool,
        lo: int | None,
        hi: int | None,
        values: dict[str, list[str]] | None,
    ) -> _Chunk:
        """The rows ``pick`` keeps of the chunks, as one chunk. Over every chunk, the answer
        is kept and brought up to date with the chunks appended since; a time range that
        cuts the buffer is picked from afresh, of the rows with ``values`` alone (a series'
        rows share its tags: its picks are among them)."""
        chunks = self.frozen if frozen else self.chunks
        first, last = self.time_range(frozen) or (0, 0)
        full = schema.arrow_schema()
        tags = schema.tag_names
        if (lo is not None and lo > first) or (hi is not None and hi < last):
            parts = []
            for c in chunks:
                if (lo is not None and c.max_ns < lo) or (hi is not None and c.min_ns > hi):
                    continue
                rows = np.arange(c.batch.num_rows)
                for tag, allowed in (values or {}).items():
                    rows = np.intersect1d(rows, c.rows_with(tag, allowed))
                rows = rows[within(c.times()[rows], lo, hi)]
                parts.append(conform(c.batch.take(pa.array(rows)), full))
            return _as_chunk(_pick_each(parts, full, tags, pick, self._hasher), first, last)
        key = (pick.kind, pick.fields, frozen)
        # chunks are only appended (or the newest joined: covered counts then drop to before
        # them) until the list is replaced (which forgets the picks)
        held = self._picks.get(key)
        if held is None or held[1].schema != full:  # none yet, or columns added since
            held = (0, empty_table(full), None)
        covered, picked, chunk = held
        if covered < len(chunks):
            new = [conform(c.batch, full) for c in chunks[covered:]]
            picked = _pick_each([*picked.to_batches(), *new], full, tags, pick, self._hasher)
            chunk = None
        if chunk is None:
            chunk = _as_chunk(picked, first, last)
            self._picks[key] = (len(chunks), picked, chunk)
        return chunk

    def time_range(self, frozen: bool = False) -> tuple[int, int] | None:
        chunks = self.frozen if frozen else self.chunks
        if not chunks:
            return None
        return min(c.min_ns for c in chunks), max(c.max_ns for c in chunks)

    def freeze(self, schema: TableSchema) -> list[pa.RecordBatch]:
        """Set every live row aside to be persisted (still readable, with ``frozen=True``)
        and return them, free of repeats, with the full schema."""
        if self.has_repeats:
            self._merge_repeats(schema)
        self.frozen = self.chunks
        self.chunks, self._keys, self.has_repeats = [], KeyIndex(), False
        self._picks.clear()
        self.frozen_bytes, self.nbytes = self.nbytes, 0
        self.num_rows = 0
        full = schema.arrow_schema()
        return [conform(c.batch, full) for c in self.frozen]

    def drop_frozen(self) -> None:
        self.frozen, self.frozen_bytes = [], 0
        self._picks.clear()

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
        for batch in merged.combine_chunks().to_batches(max_chunksize=65536):
            self.append(batch, appended=oldest)


def _gathered(parts: list[pa.RecordBatch], target: pa.Schema) -> pa.RecordBatch:
    """Few rows read from several chunks as one batch (each part cost ~60 µs again on the
    way out and in). Each chunk has dictionaries of its own: they are joined into one per
    tag (~10 µs a tag; decoding every part's and encoding them again took ~20 µs a part
    and tag, 1.8 ms of one host's 12 hours from 9 chunks). A chunk's dictionary holds every
    value of the tag: where the joined one holds more texts than the batch has rows (a tag
    of many values), it is cut to the texts the rows hold."""
    table = pa.Table.from_batches(parts, target).unify_dictionaries().combine_chunks()
    arrays = []
    for column, f in zip(table.columns, target, strict=True):
        array = column.chunk(0)
        if pa.types.is_dictionary(f.type) and len(array.dictionary) > len(array):
            array = array.dictionary_decode().dictionary_encode().cast(f.type)
        arrays.append(array)
    return pa.RecordBatch.from_arrays(arrays, schema=target)


# the picks of a buffer: (chunks covered, the rows picked of them, as a chunk once read)
_Picked = tuple[int, pa.Table, "_Chunk | None"]


def _as_chunk(rows: pa.Table, first: int, last: int) -> _Chunk:
    batches = rows.combine_chunks().to_batches()
    batch = batches[0] if batches else pa.RecordBatch.from_pylist([], schema=rows.schema)
    return _Chunk(batch, first, last, 0.0)


def _pick_each(
    parts: list[pa.RecordBatch], full: pa.Schema, tags: list[str], pick: Pick, hasher: SeriesHasher
) -> pa.Table:
    """Picks of each batch (each has dictionaries of its own), then of what they picked."""
    picked = [
        picked_rows(pa.Table.from_batches([b], full), tags, pick, hasher)
        for b in parts
        if b.num_rows
    ]
    if not picked:
        return empty_table(full)
    joined = pa.concat_tables(picked).unify_dictionaries().combine_chunks()
    return picked_rows(joined, tags, pick, hasher) if len(picked) > 1 else joined
