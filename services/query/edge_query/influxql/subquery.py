"""Subqueries: ``SELECT … FROM (SELECT …) …``.

The inner statement runs first, as any SELECT; its series become one Arrow table (time, the
inner GROUP BY tags as tags, every other column as a field), registered for the outer
statement under the inner measurement's name, so the outer statement runs through the same
SELECT engine as if that table were stored. As in 1.x, the outer time range applies to an
inner statement that has none of its own.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from typing import Any

import pyarrow as pa

from edge_common.errors import QueryError
from edge_common.schema import TIME_COLUMN, ColumnType, DatabaseSchema, TableSchema
from edge_query.influxql import ast
from edge_query.influxql.translate import split_condition

__all__ = ["as_table", "inner_statement", "run_with_subquery"]

Series = dict[str, Any]


def inner_statement(stmt: ast.SelectStatement, now_ns: int) -> ast.SelectStatement:
    """The subquery of ``stmt``, with the outer time bounds when it has none."""
    if len(stmt.sources) != 1 or not isinstance(stmt.sources[0], ast.SubQuery):
        raise QueryError("a subquery must be the only source of its FROM (not built yet)")
    inner = stmt.sources[0].statement
    _, outer = split_condition(stmt.condition, now_ns)
    _, own = split_condition(inner.condition, now_ns)
    if own.bounded_below or own.bounded_above or not (outer.bounded_below or outer.bounded_above):
        return inner
    bounds: list[ast.Expr] = []
    if outer.bounded_below:
        bounds.append(ast.BinaryExpr(">=", ast.VarRef(TIME_COLUMN), ast.IntegerLiteral(outer.lo)))
    if outer.bounded_above:
        bounds.append(ast.BinaryExpr("<=", ast.VarRef(TIME_COLUMN), ast.IntegerLiteral(outer.hi)))
    condition = inner.condition
    for b in bounds:
        condition = b if condition is None else ast.BinaryExpr("AND", condition, b)
    return replace(inner, condition=condition)


def _kind(values: list[Any]) -> tuple[ColumnType, pa.DataType]:
    present = [v for v in values if v is not None]
    if present and all(isinstance(v, bool) for v in present):
        return ColumnType.BOOLEAN, pa.bool_()
    if present and all(isinstance(v, int) and not isinstance(v, bool) for v in present):
        return ColumnType.INTEGER, pa.int64()
    if all(isinstance(v, int | float) and not isinstance(v, bool) for v in present):
        return ColumnType.FLOAT, pa.float64()
    return ColumnType.STRING, pa.string()


def as_table(series: list[Series]) -> tuple[TableSchema, pa.Table] | None:
    """The inner answer as a table (None when it has no rows)."""
    if not series:
        return None
    names = {s["name"] for s in series}
    if len(names) != 1:
        raise QueryError("a subquery answering several measurements is not built yet")
    tags = sorted({k for s in series for k in s.get("tags", {})})
    fields = [c for c in series[0]["columns"][1:] if c not in tags]
    columns: dict[str, list[Any]] = {TIME_COLUMN: [], **{t: [] for t in tags}}
    columns.update({f: [] for f in fields})
    for s in series:
        index = {c: i for i, c in enumerate(s["columns"])}
        for row in s["values"]:
            columns[TIME_COLUMN].append(row[0])
            for t in tags:
                columns[t].append(s.get("tags", {}).get(t) or None)
            for f in fields:
                columns[f].append(row[index[f]] if f in index else None)
    schema = TableSchema(names.pop())
    schema.columns[TIME_COLUMN] = ColumnType.TIME
    arrays: dict[str, pa.Array] = {
        TIME_COLUMN: pa.array(columns[TIME_COLUMN], pa.int64()).cast(pa.timestamp("ns"))
    }
    for t in tags:
        schema.columns[t] = ColumnType.TAG
        arrays[t] = pa.array(columns[t], pa.string()).dictionary_encode()
    for f in fields:
        kind, dtype = _kind(columns[f])
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
) -> list[Series]:
    """Run the inner statement, then ``stmt`` over its answer."""
    inner = inner_statement(stmt, now_ns)
    series = select(inner, db, run_sql, now_ns, False)
    made = as_table(series)
    if made is None:
        return []
    schema, table = made
    outer = replace(stmt, sources=[ast.Measurement(name=schema.name)])
    scope = DatabaseSchema(db.name, {schema.name: schema})
    extra = {schema.name: table}
    return select(outer, scope, lambda sql, more=None: run_sql(sql, extra), now_ns, go_floats)
