"""What a query reads of one stored table: the Parquet files that overlap its time range,
then the rows being persisted and the live rows of the buffer, each with its time range so
the query can tell where repeats across them are possible.

One function serves both readers: the persister, answering a query worker's ``fetch`` over
its socket, and a query worker reading the chunks the persister shares (``edge_common.
shared``), so both push down the same predicates and widen the same columns.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any, Protocol, TypeVar

import pyarrow as pa

from edge_common.merge import overlaps
from edge_common.picks import Pick
from edge_common.schema import TIME_COLUMN, TableSchema

__all__ = ["Buffered", "Spanned", "fetch_table", "overlapping", "request_pick"]


class Spanned(Protocol):
    """A persisted file as a query finds it (``edge_common.persist.ParquetFile`` is one)."""

    @property
    def path(self) -> str: ...
    @property
    def min_time_ns(self) -> int: ...
    @property
    def max_time_ns(self) -> int: ...
    @property
    def row_count(self) -> int: ...


F = TypeVar("F", bound="Spanned")


def overlapping(files: Iterable[F], lo: int | None, hi: int | None) -> list[F]:
    """The files holding rows with ``lo <= time <= hi`` (either bound may be open)."""
    return [
        f
        for f in files
        if (lo is None or f.max_time_ns >= lo) and (hi is None or f.min_time_ns <= hi)
    ]


class Buffered(Protocol):
    """A table's buffered rows (the persister's ``TableBuffer``, or the shared chunks)."""

    def time_range(self, frozen: bool = False) -> tuple[int, int] | None: ...

    def row_count(self, frozen: bool = False) -> int: ...

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
    ) -> list[pa.RecordBatch]: ...


def request_pick(req: dict[str, Any], tags: set[str] | frozenset[str]) -> Pick | None:
    """The first()/last() pick a wire request asks for, where it is sound: only when no
    condition on a field (not one of ``tags``) drops rows first."""
    pick = Pick.from_wire(req.get("pick"))
    if pick is not None and any(c[0] not in tags for c in req.get("compare") or ()):
        return None
    return pick


def fetch_table(
    schema: TableSchema, req: dict[str, Any], buf: Buffered | None, files: Sequence[Spanned]
) -> tuple[dict[str, Any], list[pa.RecordBatch], list[pa.RecordBatch], pa.Schema]:
    """For the wire request ``req`` (``edge_common.planner``'s ``TableNeed``): the entry
    describing the table's sources, the frozen and the live batches, and their schema.
    ``files``: those overlapping the request's time range. With ``spans_only`` in ``req``,
    the entry alone: where the table's rows lie in time and how many there are (``rows``),
    no row read."""
    cols = req.get("columns")
    lo, hi = req.get("min_ns"), req.get("max_ns")
    # value constraints on tags only: all versions of a row share its tags
    tags = schema.tag_set()
    values = {k: v for k, v in (req.get("values") or {}).items() if k in tags}
    frozen_range = None if buf is None else buf.time_range(frozen=True)
    live_range = None if buf is None else buf.time_range()
    ranges = [(f.min_time_ns, f.max_time_ns) for f in files]
    overlap = overlaps([*ranges, frozen_range, live_range])
    if cols is not None and overlap:
        # repeats across sources are possible: the query needs each row's identity
        cols = sorted({*cols, *schema.tag_names, TIME_COLUMN})
    # comparisons (fields too) only where each row has one version: no overlap
    compare = (
        None
        if overlap  # (a tag's "=" is already in values: not tested twice)
        else [tuple(c) for c in req.get("compare") or () if c[1] != "=" or c[0] not in values]
    )
    pick = request_pick(req, tags)
    entry: dict[str, Any] = {
        "name": req["name"],
        "columns": cols,
        # what a query reads by (resolving each file's URI cost 10 µs a file)
        "files": [
            {"path": f.path, "min_time_ns": f.min_time_ns, "max_time_ns": f.max_time_ns}
            for f in files
        ],
        "frozen": frozen_range,
        "live": live_range,
        "compared": bool(compare),
    }
    if req.get("spans_only"):  # (rows before repeats merge: a query's first window)
        held = [buf.row_count(frozen=True), buf.row_count()] if buf is not None else []
        entry["rows"] = sum(f.row_count for f in files) + sum(held)
    parts = [
        []
        if buf is None or req.get("spans_only")
        else buf.read(schema, cols, lo, hi, values, compare, pick, frozen=frozen)
        for frozen in (True, False)
    ]
    return entry, parts[0], parts[1], schema.arrow_schema(cols)
