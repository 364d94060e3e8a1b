"""Subqueries: ``SELECT … FROM (SELECT …) …``.

The inner statement runs first, as any SELECT; its series become one Arrow table (time, the
inner GROUP BY tags as tags, every other column as a field), registered for the outer
statement under the inner measurement's name, so the outer statement runs through the same
SELECT engine as if that table were stored. As in 1.x, the outer time range applies to the
inner statement too, with its own.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import replace
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from edge_common.errors import QueryError
from edge_common.merge import within
from edge_common.schema import TIME_COLUMN, ColumnType, DatabaseSchema, TableSchema
from edge_query.influxql import ast
from edge_query.influxql.columns import has_aggregate
from edge_query.influxql.select import Fetch, Span, interval_of
from edge_query.influxql.transform import TRANSFORMS
from edge_query.influxql.translate import split_condition
from edge_query.influxql.zones import window_start
from edge_query.planner import TableNeed

__all__ = ["as_table", "as_tables", "inner_statement", "rows_needed", "run_with_subquery"]

Series = dict[str, Any]


def _is_time(d: ast.Dimension) -> bool:
    return isinstance(d.expr, ast.Call) and d.expr.name == "time"


def _key(d: ast.Dimension) -> tuple[str, str | None]:
    e = d.expr
    return type(e).__name__, getattr(e, "name", None) or getattr(e, "pattern", None)


def _aggregates(stmt: ast.SelectStatement) -> bool:
    """Whether the statement aggregates (a transformation of raw points does not)."""
    for f in stmt.fields:
        e = f.expr
        if isinstance(e, ast.Call) and e.name in TRANSFORMS:
            if any(isinstance(a, ast.Call) for a in e.args):
                return True
        elif has_aggregate(e):
            return True
    return False


def _inherited(stmt: ast.SelectStatement, inner: ast.SelectStatement) -> ast.SelectStatement:
    """As 1.x builds a subquery: the outer GROUP BY tags group the inner statement too, an
    aggregating inner statement without time() takes the outer interval, fill(null) of
    an interval becomes fill(none) (its nulls would be skipped outside anyway; count()'s
    zeros would not), and one without ORDER BY takes the outer order."""
    dims = list(inner.dimensions)
    seen = {_key(d) for d in dims}
    aggregating = _aggregates(inner)
    for d in stmt.dimensions:
        if _is_time(d):
            if aggregating and not any(_is_time(x) for x in dims):
                dims.append(d)
        elif isinstance(d.expr, ast.VarRef) and _key(d) not in seen:  # a tag named
            dims.append(d)
            seen.add(_key(d))
    fill = inner.fill
    if any(_is_time(d) for d in dims) and inner.fill_value is None and fill in (None, "null"):
        fill = "none"
    # (ORDER BY time DESC outside: a LIMIT inside keeps the last rows)
    order = inner.order_by or stmt.order_by
    return replace(inner, dimensions=dims, fill=fill, order_by=order)


def _ascending(stmt: ast.SelectStatement) -> bool:
    return not stmt.order_by or stmt.order_by[0].ascending


def inner_statement(stmt: ast.SelectStatement, now_ns: int) -> ast.SelectStatement:
    """The subquery of ``stmt`` as 1.x runs it (``_inherited``), within the outer time
    bounds too (its own range and the outer one both hold: an inner interval at the outer
    end reads only the points up to it)."""
    if len(stmt.sources) != 1 or not isinstance(stmt.sources[0], ast.SubQuery):
        raise QueryError("a subquery must be the only source of its FROM (not built yet)")
    ordered = stmt.sources[0].statement.order_by  # (none: it takes the outer order)
    if ordered and ordered[0].ascending != _ascending(stmt):  # (1.x's compiler)
        raise QueryError("subqueries must be ordered in the same direction as the query itself")
    inner = _inherited(stmt, stmt.sources[0].statement)
    _, outer = split_condition(stmt.condition, now_ns)
    if not (outer.bounded_below or outer.bounded_above):
        return inner
    lo = outer.lo if outer.bounded_below else None
    hi = outer.hi if outer.bounded_above else None
    return replace(inner, condition=_within(inner.condition, lo, hi))


def _within(condition: ast.Expr | None, lo: int | None, hi: int | None) -> ast.Expr | None:
    """``condition`` AND ``time >= lo`` AND ``time <= hi`` (where given)."""
    bounds = [(">=", lo), ("<=", hi)]
    for op, ns in bounds:
        if ns is not None:
            b = ast.BinaryExpr(op, ast.VarRef(TIME_COLUMN), ast.IntegerLiteral(ns))
            condition = b if condition is None else ast.BinaryExpr("AND", condition, b)
    return condition


def _kind(values: list[Any]) -> tuple[ColumnType, pa.DataType]:
    present = [v for v in values if v is not None]
    if present and all(isinstance(v, bool) for v in present):
        return ColumnType.BOOLEAN, pa.bool_()
    if present and all(isinstance(v, int) and not isinstance(v, bool) for v in present):
        return ColumnType.INTEGER, pa.int64()
    if all(isinstance(v, int | float) and not isinstance(v, bool) for v in present):
        return ColumnType.FLOAT, pa.float64()
    return ColumnType.STRING, pa.string()


def as_tables(series: list[Series], db: DatabaseSchema) -> dict[str, tuple[TableSchema, pa.Table]]:
    """The inner answer as one table per measurement it names; a column that is a tag of
    the stored measurement stays a tag (as in 1.x); of a column without any value, see
    ``as_table``."""
    by_name: dict[str, list[Series]] = {}
    for s in series:
        by_name.setdefault(s["name"], []).append(s)
    out = {}
    for name, group in by_name.items():
        stored = db.tables.get(name)
        out[name] = as_table(name, group, stored)
    return out


def as_table(
    name: str, series: list[Series], stored: TableSchema | None = None
) -> tuple[TableSchema, pa.Table]:
    """The series of one measurement as a table. A column without any value is left out,
    but for a field of the stored measurement (a raw inner statement's ``b`` where only
    ``a`` held values: 1.x shows it, null, with its type)."""
    stored_tags = set() if stored is None else set(stored.tag_names)
    columns_seen = series[0]["columns"][1:]
    tags = sorted(
        {k for s in series for k in s.get("tags", {})}
        | {c for c in columns_seen if c in (stored_tags or set())}
    )
    fields = [c for c in columns_seen if c not in tags]
    columns: dict[str, list[Any]] = {TIME_COLUMN: [], **{t: [] for t in tags}}
    columns.update({f: [] for f in fields})
    for s in series:
        index = {c: i for i, c in enumerate(s["columns"])}
        for row in s["values"]:
            columns[TIME_COLUMN].append(row[0])
            for t in tags:
                value = s.get("tags", {}).get(t)
                if value is None and t in index:  # a tag the inner query selected
                    value = row[index[t]]
                columns[t].append(value or None)
            for f in fields:
                columns[f].append(row[index[f]] if f in index else None)
    schema = TableSchema(name)
    schema.columns[TIME_COLUMN] = ColumnType.TIME
    arrays: dict[str, pa.Array] = {
        TIME_COLUMN: pa.array(columns[TIME_COLUMN], pa.int64()).cast(pa.timestamp("ns"))
    }
    for t in tags:
        schema.columns[t] = ColumnType.TAG
        arrays[t] = pa.array(columns[t], pa.string()).dictionary_encode()
    for f in fields:
        known = None if stored is None else stored.columns.get(f)
        if any(v is not None for v in columns[f]):
            kind, dtype = _kind(columns[f])
        elif known is not None and known.is_field:
            kind, dtype = known, known.arrow_type
        else:
            continue
        schema.columns[f] = kind
        values = [float(v) if v is not None and dtype == pa.float64() else v for v in columns[f]]
        arrays[f] = pa.array(values, dtype)
    return schema, pa.table(arrays)


def run_with_subquery(
    stmt: ast.SelectStatement,
    db: DatabaseSchema,
    run_sql: Callable[[str, dict[str, pa.Table] | None], pa.Table],
    select: Callable[..., list[Series]],
    now_ns: int,
    go_floats: bool,
    fetch: Fetch | None = None,
    span: Span | None = None,
    reading: tuple[DatabaseSchema, Any, Fetch | None, Span | None] | None = None,
) -> list[Series]:
    """Run the inner statement (over stored tables: ``fetch`` and ``span`` serve it as
    any; ``reading``: the schema, SQL, fetch and span of the database its FROM names, when
    not ``db``'s), then ``stmt`` over its answer."""
    inner = inner_statement(stmt, now_ns)
    stored, sql, rows, spans = reading or (db, run_sql, fetch, span)
    answer = select(inner, stored, sql, now_ns, False, rows, spans)
    made = as_tables(answer, stored)
    if not made:
        return []
    # the outer statement reads each measurement the inner one answered, as stored tables;
    # its GROUP BY * (or a regex) means the inner statement's GROUP BY tags, not the tags
    # it selected as columns (as 1.x)
    grouped = sorted({k for s in answer for k in s.get("tags", {})})
    dims: list[ast.Dimension] = []
    for d in stmt.dimensions:
        if isinstance(d.expr, ast.Wildcard):
            dims += [ast.Dimension(ast.VarRef(k)) for k in grouped]
        elif isinstance(d.expr, ast.RegexLiteral):
            rx = re.compile(d.expr.pattern)
            dims += [ast.Dimension(ast.VarRef(k)) for k in grouped if rx.search(k)]
        else:
            dims.append(d)
    outer = replace(
        stmt,
        sources=[ast.Measurement(name=n) for n in sorted(made)],
        dimensions=dims,
        condition=_from_first_window(stmt, now_ns),
    )
    scope = DatabaseSchema(db.name, {n: schema for n, (schema, _) in made.items()})
    extra = {n: table for n, (_, table) in made.items()}
    # (the outer statement's picks are of no use: its tables are in memory already, and
    # they are what the direct paths "fetch")
    return select(
        outer,
        scope,
        lambda sql, more=None, pick=None: run_sql(sql, {**extra, **(more or {})}),
        now_ns,
        go_floats,
        lambda need: rows_needed(extra[need.name], need),
        rows_are_points=True,
    )


def _from_first_window(stmt: ast.SelectStatement, now_ns: int) -> ast.Expr | None:
    """The outer condition, its lower time bound moved back to the start of the GROUP BY
    time() interval holding it: the inner answer's rows are all read, and a row there
    (an inner interval's, timed at its start) counts in its outer interval as in 1.x,
    which moves the outer range into the inner statement instead of filtering its rows."""
    residual, rng = split_condition(stmt.condition, now_ns)
    interval = next(
        (d.expr for d in stmt.dimensions if isinstance(d.expr, ast.Call) and d.expr.name == "time"),
        None,
    )
    if interval is None or not rng.bounded_below or stmt.timezone is not None:
        return stmt.condition
    every, offset = interval_of(interval, now_ns)
    start = window_start(rng.lo, every, offset, None)
    if start == rng.lo:
        return stmt.condition
    return _within(residual, start, rng.hi if rng.bounded_above else None)


def rows_needed(table: pa.Table, need: TableNeed) -> pa.Table:
    """The rows of an inner statement's answer a direct path asks for, as a stored table's
    fetch hands them over: in the time range, with the tag values, the columns named."""
    keep = np.ones(table.num_rows, dtype=bool)
    if TIME_COLUMN in table.column_names:
        t = np.asarray(pc.cast(table.column(TIME_COLUMN), pa.int64()))
        keep &= within(t, need.min_ns, need.max_ns)
    for tag, allowed in need.values.items():
        held = pc.cast(table.column(tag), pa.string()) if tag in table.column_names else None
        if held is None:
            return table.slice(0, 0)
        ok = pc.is_in(held, pa.array(sorted(allowed), pa.string()))
        keep &= np.asarray(pc.fill_null(ok, False), dtype=bool)
    names = table.column_names if need.columns is None else need.columns
    return table.select([n for n in table.column_names if n in names]).filter(keep)
