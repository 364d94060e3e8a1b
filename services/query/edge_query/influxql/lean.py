"""The dashboard panel's question, answered from the points themselves.

``SELECT max(usage_user) FROM cpu WHERE hostname = 'host_7' AND time >= … AND time < …
GROUP BY time(1m)``: one aggregate of one field, of one series or a few, by time. Asked of
the gateway many times a minute by Grafana and TSBS, its answer took ~250 µs of Python (one
host's hour by minute, in a loop), most of it passing rows between general steps: the
sources' rows as Arrow tables merged into one (``fetch``), the direct path's table of
groups (``direct``), cut into series, filled, made Python values. Here the sources hand
over the points' times and values as numpy (``Points``: the query worker's ``_points``),
and the answer's rows are made from them at once: ~120 µs, and at the client 0.46-0.65 ms
against influxd's 0.59-0.99 (README, Performance), where it was 0.70-0.81 against 0.61-0.63.

Only that shape is taken; anything else, and anything the sources cannot hand over so
(rows in more than one version, nulls, a value that is not a number), answers ``None`` and
goes the general way (``select.run_select``), whose answer this one equals:
``tests/query/test_influxql_lean.py`` compares them on random tables, and the compat suite
compares both with influxd 1.6.7.

- one measurement, named (no regex, no subquery, no INTO);
- one field: count(), sum(), mean(), min(), max(), first() or last() of a number field,
  with or without an alias;
- GROUP BY time(interval[, offset]) alone, no tz(), fill(null) (the default), fill(none)
  or fill(<number>), no ORDER BY DESC, LIMIT, OFFSET, SLIMIT or SOFFSET;
- WHERE a time range bounded below, ANDed with ``tag = 'text'`` and ``tag =~ /^(a|b)$/``
  terms (``direct.tag_equalities``).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from edge_common.errors import QueryError
from edge_common.schema import ColumnType, TableSchema
from edge_query.budget import SERIES_ROWS, spend
from edge_query.influxql import ast
from edge_query.influxql.columns import Column
from edge_query.influxql.direct import reduce_groups, tag_equalities
from edge_query.influxql.fill import typed_fill
from edge_query.influxql.select import Series, interval_of
from edge_query.influxql.text import GO_WHOLE, go_integer
from edge_query.influxql.translate import split_condition
from edge_query.influxql.zones import window_start

__all__ = ["Points", "lean_select"]

# (table, lo, hi, tag → allowed texts, field) → the times (int64 ns) and values of the
# points with lo <= time <= hi whose tags hold allowed texts, in any order; None where the
# sources cannot hand them over so (the general way then reads them)
Points = Callable[[str, int, int, dict[str, list[str]], str], tuple[np.ndarray, np.ndarray] | None]

_FUNCS = frozenset(("count", "sum", "mean", "min", "max", "first", "last"))
_NUMBERS = frozenset((ColumnType.FLOAT, ColumnType.INTEGER, ColumnType.UINTEGER))
_ORDERED = frozenset(("min", "max", "first", "last"))  # (NaN orders otherwise in SQL)


def lean_select(
    stmt: ast.SelectStatement,
    tables: dict[str, TableSchema],
    now_ns: int,
    go_floats: bool,
    points: Points,
) -> list[Series] | None:
    """The statement's series, or ``None``: not of the shape taken here (see above)."""
    shape = _shape(stmt, tables)
    if shape is None:
        return None
    table, func, field, name, every_expr = shape
    residual, rng = split_condition(stmt.condition, now_ns)
    equal = tag_equalities(residual, table)
    if equal is None or not rng.bounded_below:
        return None
    lo = rng.lo
    hi = rng.hi if rng.bounded_above else now_ns
    if lo > hi:
        return None
    try:
        every, offset = interval_of(every_expr, now_ns)
    except QueryError:
        return None  # (the general way answers it, its errors in their order)
    values = {tag: sorted(texts) for tag, texts in equal.items()}
    found = points(table.name, lo, hi, values, field)
    if found is None:
        return None
    t, x = found
    spend(len(t))
    if not len(t):
        return []  # no point: no series
    if func in _ORDERED and x.dtype.kind == "f" and np.isnan(x).any():
        return None
    start = window_start(lo, every, offset, None)
    size = (hi - start) // every + 1
    spend(size + SERIES_ROWS)
    if size > 1_000_000:
        return None  # (the general way says so in influxd's words)
    gid = (t - start) // every
    n = np.bincount(gid, minlength=size)
    column = Column(name, "", "agg", func, field)
    reduced, _, _ = reduce_groups(column, x, gid, t, n, False)
    cells: list[Any] = reduced.tolist()
    if go_floats and reduced.dtype.kind == "f":
        whole = np.flatnonzero((np.floor(reduced) == reduced) & (np.abs(reduced) < GO_WHOLE))
        for i in whole.tolist():
            cells[i] = go_integer(cells[i])
    mode = "value" if stmt.fill_value is not None else (stmt.fill or "null")
    times = range(start, start + size * every, every)
    held = (n > 0).tolist()
    if mode == "none":
        rows = [[s, v] for s, v, h in zip(times, cells, held, strict=True) if h]
    else:
        # an interval without a point: fill(<number>)'s value; under fill(null), count()'s
        # 0 (its cell already), any other null
        blank = typed_fill(stmt.fill_value, reduced.dtype.kind in "iu") if mode == "value" else None
        if func == "count" and mode == "null":
            rows = [[s, v] for s, v in zip(times, cells, strict=True)]
        else:
            rows = [[s, v if h else blank] for s, v, h in zip(times, cells, held, strict=True)]
    return [{"name": table.name, "columns": ["time", name], "values": rows}]


def _shape(
    stmt: ast.SelectStatement, tables: dict[str, TableSchema]
) -> tuple[TableSchema, str, str, str, ast.Call] | None:
    """(table, function, field, column name, GROUP BY time()'s interval) of a statement of
    the shape taken here; else None."""
    if (
        stmt.into is not None
        or len(stmt.sources) != 1
        or len(stmt.fields) != 1
        or len(stmt.dimensions) != 1
        or stmt.timezone is not None
        or stmt.fill not in (None, "null", "none")
        or any(not o.ascending for o in stmt.order_by)
        or stmt.limit
        or stmt.offset
        or stmt.slimit
        or stmt.soffset
    ):
        return None
    source = stmt.sources[0]
    if not isinstance(source, ast.Measurement) or source.regex is not None:
        return None
    table = tables.get(source.name or "")
    call = stmt.fields[0].expr
    dimension = stmt.dimensions[0].expr
    if (
        table is None
        or not isinstance(call, ast.Call)
        or call.name not in _FUNCS
        or len(call.args) != 1
        or not isinstance(call.args[0], ast.VarRef)
        or call.args[0].type_hint is not None
        or not isinstance(dimension, ast.Call)
        or dimension.name != "time"
        or not 1 <= len(dimension.args) <= 2
    ):
        return None
    field = call.args[0].name
    if table.columns.get(field) not in _NUMBERS:
        return None
    return table, call.name, field, stmt.fields[0].alias or call.name, dimension
