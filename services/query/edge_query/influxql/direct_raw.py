"""Raw points without SQL: ``SELECT usage_user, usage_system FROM cpu WHERE host = 'a' AND
time > now() - 1h``, columns that are fields and tags as stored, conditions on tags equal
to text and on time (the shape of ``influxql.direct``'s aggregates, and its reasons).

The answer is the table select.py's SQL would return: group tags as text, ``__time``, the
columns, rows holding a value in any field shown, ordered by the group tags (a missing one
last), time, then the other tags (a missing one first: 1.x's series key order).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pyarrow as pa

from edge_common.schema import TIME_COLUMN, TableSchema
from edge_query.influxql import ast
from edge_query.influxql.columns import Column, is_field
from edge_query.influxql.direct import MOST_CELLS, Resolve, selected, tag_equalities
from edge_query.influxql.translate import TimeRange, quote_ident
from edge_query.planner import TableNeed

__all__ = ["DirectRaw", "direct_raw"]


@dataclass
class DirectRaw:
    table: TableSchema
    cols: list[Column]
    group: list[str]
    equal: dict[str, set[str]]
    rng: TimeRange
    need: TableNeed

    def run(self, data: pa.Table) -> pa.Table | None:
        """The SQL's answer over ``data``; None: many rows, for SQL over them instead."""
        if data.num_rows * (1 + len(self.cols)) > MOST_CELLS:
            return None
        return _points(self, data)

    def sql_rows(self, data: pa.Table) -> pa.Table:
        """``data`` for SQL to answer over (every column it names was fetched)."""
        return data


def direct_raw(
    table: TableSchema,
    cols: list[Column],
    group: list[str],
    residual: ast.Expr | None,
    rng: TimeRange,
    resolve: Resolve | None = None,
) -> DirectRaw | None:
    """The plan for a raw statement this module answers; None sends it to SQL."""
    if not cols or any(
        c.kind != "raw" or c.field not in table.columns or c.sql != quote_ident(c.field or "")
        for c in cols
    ):
        return None  # expressions, math, unknown names: SQL
    if any(c.name in group or c.name.startswith("__") for c in cols):
        return None  # a name the answer's own columns take
    equal = tag_equalities(residual, table, resolve)
    if equal is None:
        return None
    need = TableNeed(table.name)
    need.widen(
        sorted({TIME_COLUMN, *table.tag_names, *(c.field or "" for c in cols)}),
        rng.lo if rng.bounded_below else None,
        rng.hi if rng.bounded_above else None,
        equal,
    )
    return DirectRaw(table, cols, group, equal, rng, need)


def _points(d: DirectRaw, data: pa.Table) -> pa.Table:
    if not data.num_rows:  # (a LIMIT's probe of a window often finds none: no tag decoded)
        empty: dict[str, pa.Array | pa.ChunkedArray] = dict.fromkeys(
            d.group, pa.array([], pa.string())
        )
        empty["__time"] = pa.array([], pa.int64())
        for c in d.cols:
            empty[c.name] = data.column(c.field or "").slice(0, 0)
        return pa.table(empty)
    t, keep, codes = selected(data, d.rng, d.equal, set(d.table.tag_names))
    shown = np.zeros(len(t), dtype=bool)  # a value in any field shown (a tag makes no row)
    for c in d.cols:
        if is_field(d.table, c.field):
            column = data.column(c.field or "")
            if not column.null_count:  # every row holds this one (a compute call less)
                shown[:] = True
                break
            shown |= np.asarray(column.is_valid(), dtype=bool)
    rows = np.flatnonzero(keep & shown)
    # sort keys, least significant first: the other tags (missing first), time, the group
    # tags (missing last)
    keys: list[np.ndarray] = []
    for tag in reversed([g for g in sorted(d.table.tag_names) if g not in d.group]):
        if tag in codes:
            found, names = codes[tag]
            if len(names) <= 2 and not found.any():
                continue  # one text (or none) at every row: no order among them
            missing = len(names) - 1
            keys.append(np.where(found == missing, 0, found + 1)[rows])
    keys.append(t[rows])
    for g in reversed(d.group):
        if g in codes:
            keys.append(codes[g][0][rows])
    order = rows[np.lexsort(keys)] if keys else rows
    # every row, in the order held (one series' rows in time order): no take
    whole = len(order) == data.num_rows and np.array_equal(order, np.arange(len(order)))
    out: dict[str, pa.Array | pa.ChunkedArray] = {}
    for g in d.group:
        if g in codes:
            found, names = codes[g]
            out[g] = pa.array([names[i] for i in found[order].tolist()], pa.string())
        else:
            out[g] = pa.nulls(len(order), pa.string())
    out["__time"] = pa.array(t[order], pa.int64())
    # the fields taken in one call (a compute call costs ~10 µs before any work)
    fields = data.select([c.field or "" for c in d.cols])
    if not whole:
        fields = fields.take(pa.array(order, pa.int64()))
    for k, c in enumerate(d.cols):
        out[c.name] = fields.column(k)
    return pa.table(out)
