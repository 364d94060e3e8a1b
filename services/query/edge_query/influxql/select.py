"""SELECT, as InfluxDB 1.x answers it, run on DataFusion.

Each measurement of the FROM clause becomes one SQL query over its table; the rows come back
sorted by the GROUP BY tags and time and are cut into series (one per tag set) here. Raw
queries return points; aggregate queries return one row per series, or one per GROUP BY
time() interval (buckets aligned to the epoch plus the offset, filled as fill() says).
"""

from __future__ import annotations

import datetime
import itertools
import re
import time
import zoneinfo
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np
import pyarrow as pa

from edge_common.errors import QueryError
from edge_common.schema import TIME_COLUMN, ColumnType, DatabaseSchema, TableSchema
from edge_query.influxql import ast
from edge_query.influxql.transform import TRANSFORMS, Transform, apply, parse_transform
from edge_query.influxql.translate import TimeRange, quote_ident, split_condition, where_sql

__all__ = ["Series", "run_select"]

Series = dict[str, Any]
RunSql = Callable[[str], pa.Table]

_SELECTORS = {"first", "last", "min", "max", "percentile"}
_AGGREGATES = {"count", "sum", "mean", "median", "spread", "stddev", *_SELECTORS}


@dataclass
class _Column:
    name: str  # output column name
    sql: str  # SQL expression (aggregate or plain)
    kind: str  # "raw" | "agg"
    func: str | None = None
    field: str | None = None
    percent: float = 0.0
    transform: Transform | None = None
    by: tuple[str, ...] = ()  # top(f, tag…, N): one point per value of these tags


def run_select(
    stmt: ast.SelectStatement,
    db: DatabaseSchema,
    run_sql: RunSql,
    now_ns: int,
    go_floats: bool = True,
) -> list[Series]:
    tables = _sources(stmt, db)
    # a wildcard over several measurements lists every column of all of them, in each series
    pool = _union(tables) if len(tables) > 1 else None
    series: list[Series] = []
    for table in tables:
        series += _select_one(stmt, table, run_sql, now_ns, go_floats, pool)
    if stmt.soffset:
        series = series[stmt.soffset :]
    if stmt.slimit:
        series = series[: stmt.slimit]
    return series


def _sources(stmt: ast.SelectStatement, db: DatabaseSchema) -> list[TableSchema]:
    out: dict[str, TableSchema] = {}
    for src in stmt.sources:
        if isinstance(src, ast.SubQuery):
            raise QueryError("subqueries are not supported yet")
        if src.regex is not None:
            rx = re.compile(src.regex)
            for name in sorted(db.tables):
                if rx.search(name):
                    out[name] = db.tables[name]
        elif src.name is not None and src.name in db.tables:
            out[src.name] = db.tables[src.name]
    return [out[n] for n in sorted(out)]


def _is_field(table: TableSchema, name: str | None) -> bool:
    kind = None if name is None else table.columns.get(name)
    return kind is not None and kind.is_field


def _union(tables: list[TableSchema]) -> TableSchema:
    union = TableSchema("")
    for t in tables:
        for name, kind in t.columns.items():
            union.columns.setdefault(name, kind)
    return union


def _fields(table: TableSchema) -> list[str]:
    return sorted(n for n, t in table.columns.items() if t.is_field)


def _tags(table: TableSchema) -> list[str]:
    return sorted(table.tag_names)


def _group_tags(stmt: ast.SelectStatement, table: TableSchema) -> tuple[list[str], ast.Call | None]:
    tags: list[str] = []
    interval: ast.Call | None = None
    for dim in stmt.dimensions:
        e = dim.expr
        if isinstance(e, ast.Call) and e.name == "time":
            interval = e
        elif isinstance(e, ast.Wildcard):
            tags += _tags(table)
        elif isinstance(e, ast.RegexLiteral):
            rx = re.compile(e.pattern)
            tags += [t for t in _tags(table) if rx.search(t)]
        elif isinstance(e, ast.VarRef):
            tags.append(e.name)
        else:
            raise QueryError("GROUP BY takes tags, *, a regular expression or time()")
    return sorted(dict.fromkeys(tags)), interval


def _expand(
    stmt: ast.SelectStatement,
    table: TableSchema,
    group: list[str],
    interval_ns: int | None = None,
    pool_of: TableSchema | None = None,
) -> list[_Column]:
    cols: list[_Column] = []
    names: dict[str, int] = {}

    def add(col: _Column) -> None:
        base = col.name
        if base in names:  # 1.x names repeats mean, mean_1, mean_2 …
            names[base] += 1
            col.name = f"{base}_{names[base]}"
        else:
            names[base] = 0
        cols.append(col)

    for f in stmt.fields:
        e = f.expr
        if isinstance(e, ast.Wildcard | ast.RegexLiteral):
            pool = _select_pool(pool_of or table, group, getattr(e, "type_hint", None))
            if isinstance(e, ast.RegexLiteral):
                rx = re.compile(e.pattern)
                pool = [n for n in pool if rx.search(n)]
            for n in pool:
                add(_Column(n, _col_sql(n, table), "raw", field=n))
        elif isinstance(e, ast.VarRef):
            if e.name.lower() == TIME_COLUMN:
                continue
            kind = table.columns.get(e.name)
            if (e.type_hint == "tag" and kind is not ColumnType.TAG) or (
                e.type_hint == "field" and kind is ColumnType.TAG
            ):  # asked as the other kind: no such column
                add(_Column(f.alias or e.name, "NULL", "raw", field=None))
                continue
            add(_Column(f.alias or e.name, _col_sql(e.name, table), "raw", field=e.name))
        elif isinstance(e, ast.Call) and e.name in TRANSFORMS:
            transform, inner = parse_transform(e, interval_ns)
            if isinstance(inner, ast.Call):
                inner_cols = _aggregate(inner, table, None)
            elif isinstance(inner, ast.VarRef):
                inner_cols = [
                    _Column(inner.name, _col_sql(inner.name, table), "raw", field=inner.name)
                ]
            else:
                raise QueryError(f"expected field argument in {e.name}()")
            for col in inner_cols:
                col.name = f.alias or e.name
                col.transform = transform
                add(col)
        elif isinstance(e, ast.Call) and e.name in _MATH and _is_raw(e):
            add(_Column(f.alias or e.name, _raw_expr(e, table), "raw", field=_expr_field(e)))
        elif isinstance(e, ast.Call) and e.name in _MATH:
            calls = [a for a in e.args if isinstance(a, ast.Call)]
            if len(calls) != 1:
                raise QueryError(f"{e.name}() takes a field or one aggregate")
            cols_in = _aggregate(calls[0], table, None)
            if len(cols_in) != 1:
                raise QueryError(f"{e.name}() takes one aggregate")
            col = cols_in[0]
            args = [col.sql if a is calls[0] else _raw_expr(a, table) for a in e.args]
            col.sql = _math_sql(e, args)
            col.name = f.alias or e.name
            add(col)
        elif isinstance(e, ast.Call) and e.name in (
            "top",
            "bottom",
            "sample",
            "distinct",
            "mode",
            "integral",
        ):
            add(_special(e, table, f.alias))
        elif isinstance(e, ast.Call):
            for col in _aggregate(e, table, f.alias, pool_of):
                add(col)
        elif _has_aggregate(e):
            add(_aggregate_expr(e, table, f.alias or _expr_name(e)))
        else:
            refs = _expr_names(e)
            field = next((n for n in refs if _is_field(table, n)), refs[0] if refs else None)
            add(_Column(f.alias or _expr_name(e), _raw_expr(e, table), "raw", field=field))
    kinds = {c.kind for c in cols}
    if kinds == {"agg", "raw"}:
        cols = _at_selected_point(cols)
    kinds = {c.kind for c in cols}
    if len(kinds) > 1:
        raise QueryError("mixing aggregate and non-aggregate queries is not supported")
    return cols


_PICK_ORDER = {  # the point each selector picks: the first of this order (1.x tie rules)
    "first": "{t} ASC, {v} DESC",
    "last": "{t} DESC, {v} DESC",
    "max": "{v} DESC, {t} ASC",
    "min": "{v} ASC, {t} ASC",
}


def _at_selected_point(cols: list[_Column]) -> list[_Column]:
    """``SELECT max(x), host, y``: the other columns' values at the point max() picked."""
    aggs = [c for c in cols if c.kind == "agg"]
    if len(aggs) != 1 or aggs[0].func not in _PICK_ORDER or aggs[0].field is None:
        return cols
    sel = aggs[0]
    v = quote_ident(sel.field or "")
    order = _PICK_ORDER[sel.func or ""].format(t=quote_ident(TIME_COLUMN), v=v)
    out = []
    for c in cols:
        if c.kind == "raw":
            sql = f"first_value({c.sql} ORDER BY {order}) FILTER (WHERE {v} IS NOT NULL)"
            c = _Column(c.name, sql, "agg", "aux", c.field)
        out.append(c)
    return out


def _select_pool(table: TableSchema, group: list[str], hint: str | None) -> list[str]:
    fields = _fields(table)
    tags = [t for t in _tags(table) if t not in group]
    if hint == "field":
        return fields
    if hint == "tag":
        return tags
    return sorted(fields + tags)


def _col_sql(name: str, table: TableSchema) -> str:
    kind = table.columns.get(name)
    if kind is None:
        return "NULL"
    if kind is ColumnType.TAG:
        return f"CAST({quote_ident(name)} AS VARCHAR)"
    return quote_ident(name)


def _expr_name(e: ast.Expr) -> str:
    if isinstance(e, ast.VarRef):
        return e.name
    if isinstance(e, ast.BinaryExpr):
        return "_".join(n for n in (_expr_name(e.lhs), _expr_name(e.rhs)) if n)
    if isinstance(e, ast.ParenExpr | ast.UnaryExpr):
        return _expr_name(e.expr)
    if isinstance(e, ast.Call):
        return e.name
    return ""


def _raw_expr(
    e: ast.Expr, table: TableSchema, aggregate: Callable[[ast.Call], str] | None = None
) -> str:
    """SQL for an expression of fields, literals, math functions and, with ``aggregate``,
    aggregate calls (``mean(x) * 2``)."""
    if isinstance(e, ast.VarRef):
        return _col_sql(e.name, table)
    if isinstance(e, ast.Call) and e.name not in _MATH and aggregate is not None:
        return aggregate(e)
    if isinstance(e, ast.IntegerLiteral):
        return str(e.value)
    if isinstance(e, ast.NumberLiteral):
        return repr(float(e.value))
    if isinstance(e, ast.ParenExpr):
        return f"({_raw_expr(e.expr, table, aggregate)})"
    if isinstance(e, ast.UnaryExpr):
        return f"(-{_raw_expr(e.expr, table, aggregate)})"
    if isinstance(e, ast.BinaryExpr) and e.op in ("+", "-", "*", "/", "%"):
        lhs, rhs = _raw_expr(e.lhs, table, aggregate), _raw_expr(e.rhs, table, aggregate)
        if e.op == "/":  # 1.x divides as floats
            return f"(CAST({lhs} AS DOUBLE) / {rhs})"
        return f"({lhs} {e.op} {rhs})"
    if isinstance(e, ast.Call) and e.name in _MATH:
        return _math_sql(e, [_raw_expr(a, table, aggregate) for a in e.args])
    raise QueryError(f"unsupported expression in the field list: {e}")


def _has_aggregate(e: ast.Expr) -> bool:
    if isinstance(e, ast.Call):
        return e.name not in _MATH or any(_has_aggregate(a) for a in e.args)
    if isinstance(e, ast.BinaryExpr):
        return _has_aggregate(e.lhs) or _has_aggregate(e.rhs)
    if isinstance(e, ast.ParenExpr | ast.UnaryExpr):
        return _has_aggregate(e.expr)
    return False


def _aggregate_expr(e: ast.Expr, table: TableSchema, name: str) -> _Column:
    """Arithmetic over aggregates, one value per group: ``max(x) - min(x)``."""
    inner: list[_Column] = []

    def leaf(call: ast.Call) -> str:
        cols = _aggregate(call, table, None)
        if len(cols) != 1:
            raise QueryError(f"{call.name}() in an expression must name one field")
        inner.append(cols[0])
        return cols[0].sql

    sql = _raw_expr(e, table, leaf)
    fields = [c.field for c in inner]
    field = None if None in fields else fields[0]  # an unknown field: no series, as 1.x
    return _Column(name, sql if field else "NULL", "agg", "expr", field)


_MATH = {
    "abs",
    "ceil",
    "floor",
    "round",
    "sqrt",
    "pow",
    "ln",
    "log",
    "log2",
    "log10",
    "exp",
    "sin",
    "cos",
    "tan",
    "asin",
    "acos",
    "atan",
    "atan2",
}


def _math_sql(call: ast.Call, args: list[str]) -> str:
    want = 2 if call.name in ("pow", "log", "atan2") else 1
    if len(args) != want:
        raise QueryError(
            f"invalid number of arguments for {call.name}, expected {want}, got {len(args)}"
        )
    if call.name == "pow":
        return f"power(CAST({args[0]} AS DOUBLE), {args[1]})"
    if call.name == "log":  # InfluxQL log(x, base); SQL log(base, x)
        return f"log(CAST({args[1]} AS DOUBLE), CAST({args[0]} AS DOUBLE))"
    if call.name in ("ceil", "floor", "round", "abs"):
        return f"{call.name}({args[0]})"
    if call.name == "atan2":
        return f"atan2(CAST({args[0]} AS DOUBLE), CAST({args[1]} AS DOUBLE))"
    return f"{call.name}(CAST({args[0]} AS DOUBLE))"


def _is_raw(e: ast.Expr) -> bool:
    """No aggregate anywhere inside."""
    if isinstance(e, ast.Call):
        return e.name in _MATH and all(_is_raw(a) for a in e.args)
    if isinstance(e, ast.BinaryExpr):
        return _is_raw(e.lhs) and _is_raw(e.rhs)
    if isinstance(e, ast.ParenExpr | ast.UnaryExpr):
        return _is_raw(e.expr)
    return True


def _expr_names(e: ast.Expr) -> list[str]:
    """Every name an expression refers to, in order."""
    if isinstance(e, ast.VarRef):
        return [e.name]
    if isinstance(e, ast.Call):
        return [n for a in e.args for n in _expr_names(a)]
    if isinstance(e, ast.BinaryExpr):
        return _expr_names(e.lhs) + _expr_names(e.rhs)
    if isinstance(e, ast.ParenExpr | ast.UnaryExpr):
        return _expr_names(e.expr)
    return []


def _expr_field(e: ast.Expr) -> str | None:
    if isinstance(e, ast.VarRef):
        return e.name
    if isinstance(e, ast.Call):
        for a in e.args:
            found = _expr_field(a)
            if found:
                return found
    if isinstance(e, ast.BinaryExpr):
        return _expr_field(e.lhs) or _expr_field(e.rhs)
    if isinstance(e, ast.ParenExpr | ast.UnaryExpr):
        return _expr_field(e.expr)
    return None


def _text(e: ast.Expr) -> str:
    """An argument as InfluxQL writes it, for error messages."""
    if isinstance(e, ast.VarRef):
        return e.name
    if isinstance(e, ast.StringLiteral):
        return "'" + e.value.replace("'", "\\'") + "'"
    if isinstance(e, ast.IntegerLiteral | ast.NumberLiteral):
        return str(e.value)
    return str(e)


def _special(call: ast.Call, table: TableSchema, alias: str | None) -> _Column:
    """top(f, N), bottom(f, N), sample(f, N) and distinct(f): several rows per series,
    kind "multi"."""
    if not call.args or not isinstance(call.args[0], ast.VarRef):
        raise QueryError(f"expected field argument in {call.name}()")
    field = call.args[0].name
    kind = table.columns.get(field)
    if call.name in ("distinct", "mode"):
        if len(call.args) != 1:
            raise QueryError(f"{call.name} function can only have one argument")
        n = 0
    elif call.name == "integral":
        n = 1_000_000_000
        if len(call.args) == 2 and isinstance(call.args[1], ast.DurationLiteral):
            n = call.args[1].ns
        elif len(call.args) != 1:
            raise QueryError("integral() takes a field and an optional duration")
    elif call.name == "sample":  # influxd's own words
        if len(call.args) != 2:
            raise QueryError(
                f"invalid number of arguments for sample, expected 2, got {len(call.args)}"
            )
        if not isinstance(call.args[1], ast.IntegerLiteral):
            raise QueryError("expected integer argument in sample()")
        n = call.args[1].value
        if n < 1:
            raise QueryError(f"sample window must be greater than 1, got {n}")
    else:
        if len(call.args) < 2:
            raise QueryError(
                f"invalid number of arguments for {call.name}, expected at least 2, "
                f"got {len(call.args)}"
            )
        last = call.args[-1]
        if not isinstance(last, ast.IntegerLiteral):
            raise QueryError(
                f"expected integer as last argument in {call.name}(), found {_text(last)}"
            )
        if not all(isinstance(a, ast.VarRef) for a in call.args[1:-1]):
            raise QueryError(f"only fields or tags are allowed in {call.name}(), found {call}")
        n = last.value
        if n < 1:
            raise QueryError(f"limit ({n}) in {call.name} function must be at least 1")
    col = _Column(
        alias or call.name,
        quote_ident(field) if kind and kind.is_field else "NULL",
        "multi",
        call.name,
        field if kind and kind.is_field else None,
    )
    col.percent = float(n)
    if call.name in ("top", "bottom"):
        col.by = tuple(a.name for a in call.args[1:-1] if isinstance(a, ast.VarRef))
    return col


def _aggregate(
    call: ast.Call, table: TableSchema, alias: str | None, pool_of: TableSchema | None = None
) -> list[_Column]:
    name = call.name
    if (
        name == "count"
        and call.args
        and isinstance(call.args[0], ast.Call)
        and call.args[0].name == "distinct"
    ):
        inner = call.args[0].args[0]
        if not isinstance(inner, ast.VarRef):
            raise QueryError("count(distinct()) takes a field name")
        kind = table.columns.get(inner.name)
        if kind is None or not kind.is_field:  # a tag or unknown name: no series, as 1.x
            return [_Column(alias or "count", "NULL", "agg", "count", None)]
        return [
            _Column(
                alias or "count",
                f"count(DISTINCT {quote_ident(inner.name)})",
                "agg",
                "count",
                inner.name,
            )
        ]
    if name not in _AGGREGATES:
        raise QueryError(f"unsupported function {name}() (not built yet)")
    if not call.args:
        raise QueryError(f"invalid number of arguments for {name}, expected at least 1, got 0")
    arg = call.args[0]
    if isinstance(arg, ast.Wildcard | ast.RegexLiteral):
        source = pool_of or table
        # the fields this function takes (mean(*) skips strings and booleans, as 1.x does)
        fields = [f for f in _fields(source) if _takes(name, source.columns[f])]
        if isinstance(arg, ast.RegexLiteral):
            rx = re.compile(arg.pattern)
            fields = [f for f in fields if rx.search(f)]
        return [_agg_column(name, f, call, table, f"{name}_{f}") for f in fields]
    if not isinstance(arg, ast.VarRef):
        raise QueryError(f"expected field argument in {name}()")
    return [_agg_column(name, arg.name, call, table, alias or name)]


def _takes(func: str, kind: ColumnType) -> bool:
    """Whether aggregate ``func`` takes a field of type ``kind``."""
    numeric = kind in (ColumnType.FLOAT, ColumnType.INTEGER, ColumnType.UINTEGER)
    return (
        func in ("count", "first", "last")
        or numeric
        or (func in ("min", "max") and kind is ColumnType.BOOLEAN)
    )


def _agg_column(func: str, field: str, call: ast.Call, table: TableSchema, out: str) -> _Column:
    kind = table.columns.get(field)
    if kind is None or not kind.is_field:  # a tag or unknown name: 1.x returns no series
        return _Column(out, "NULL", "agg", func, None)
    col = quote_ident(field)
    if not _takes(func, kind):
        raise QueryError(f"unsupported {func}() type: {kind.value}")
    nn = f"FILTER (WHERE {col} IS NOT NULL)"
    sql = {
        "count": f"count({col})",
        "sum": f"sum({col})",
        "mean": f"avg(CAST({col} AS DOUBLE))",
        "median": f"median(CAST({col} AS DOUBLE))",
        "spread": f"max({col}) - min({col})",
        "stddev": f"stddev(CAST({col} AS DOUBLE))",
        "min": f"min({col})",
        "max": f"max({col})",
        # points at the same time: influxd keeps the larger value
        "first": f"first_value({col} ORDER BY {quote_ident(TIME_COLUMN)}, {col} DESC) {nn}",
        "last": f"last_value({col} ORDER BY {quote_ident(TIME_COLUMN)}, {col}) {nn}",
    }.get(func)
    if func == "percentile":
        if len(call.args) != 2 or not isinstance(
            call.args[1], ast.IntegerLiteral | ast.NumberLiteral
        ):
            raise QueryError("percentile() takes a field and a number")
        sql = _percentile(col, col, float(call.args[1].value))
    assert sql is not None
    percent = float(call.args[1].value) if func == "percentile" else 0.0  # type: ignore[union-attr]
    return _Column(out, sql, "agg", func, field, percent)


def _percentile(value: str, field: str, p: float) -> str:
    """1.x's nearest-rank percentile: of ``value`` ordered by ``field``, the element at
    floor(n * p / 100 + 0.5) (1-based); none when that is 0."""
    nn = f"FILTER (WHERE {field} IS NOT NULL)"
    t = f"CAST({quote_ident(TIME_COLUMN)} AS BIGINT)"
    return (
        f"array_element(array_agg({value} ORDER BY {field}, {t}) {nn}, "
        f"CAST(floor(count({field}) * {p} / 100.0 + 0.5) AS BIGINT))"
    )


def _selector_time(col: _Column) -> str:
    """SQL for the time of the point a lone selector picked."""
    c, t = quote_ident(col.field or ""), f"CAST({quote_ident(TIME_COLUMN)} AS BIGINT)"
    nn = f"FILTER (WHERE {c} IS NOT NULL)"
    if col.func == "percentile":
        return _percentile(t, c, col.percent)
    return {
        "first": f"min({t}) {nn}",
        "last": f"max({t}) {nn}",
        "min": f"first_value({t} ORDER BY {c} ASC, {t} ASC) {nn}",
        "max": f"first_value({t} ORDER BY {c} DESC, {t} ASC) {nn}",
    }.get(col.func or "", f"min({t}) {nn}")


def _where(residual: ast.Expr | None, rng: TimeRange, table: TableSchema, now_ns: int) -> str:
    return where_sql(residual, rng, table, now_ns) or "TRUE"


def _transformed(
    transforms: list[Transform],
    rows: list[list[Any]],
    shown: tuple[int, int],
    lo: int,
    hi: int | None,
) -> list[list[Any]]:
    """Each column through its own transformation (points outside the shown range
    dropped), rows joined again by time: a time any of them produced, the others null
    there. With several, LIMIT/OFFSET apply to each column before the join, as in 1.x."""

    def one(t: Transform, pairs: list[list[Any]]) -> list[list[Any]]:
        return [r for r in apply(t, pairs) if shown[0] <= r[0] <= shown[1]]

    if len(transforms) == 1:
        return one(transforms[0], rows)
    outs = [
        dict((r[0], r[1]) for r in one(t, [[row[0], row[i + 1]] for row in rows])[lo:hi])
        for i, t in enumerate(transforms)
    ]
    times = dict.fromkeys(row[0] for row in rows if any(row[0] in o for o in outs))
    return [[t, *(o.get(t) for o in outs)] for t in times]


def _lookback(t: Transform) -> int:
    """Intervals before the range a transformation of GROUP BY time() buckets reads (1.x
    starts earlier so that the first bucket of the range gets a value)."""
    if t.name == "moving_average":
        return t.window - 1
    return 0 if t.name == "cumulative_sum" else 1


def _select_one(
    stmt: ast.SelectStatement,
    table: TableSchema,
    run_sql: RunSql,
    now_ns: int,
    go_floats: bool,
    pool: TableSchema | None = None,
) -> list[Series]:
    group, interval = _group_tags(stmt, table)
    interval_ns = None if interval is None else _interval(interval, now_ns)[0]
    cols = _expand(stmt, table, group, interval_ns, pool)
    transforms = [c.transform for c in cols if c.transform is not None]
    if transforms and len(transforms) != len(cols):
        raise QueryError("mixing aggregate and non-aggregate queries is not supported")
    if not cols:
        return []
    residual, rng = split_condition(stmt.condition, now_ns)
    if cols[0].kind == "multi":
        return _select_multi(
            stmt, table, cols, group, interval, residual, rng, run_sql, now_ns, go_floats
        )
    aggregate = cols[0].kind == "agg"
    if aggregate and all(c.field is None for c in cols):
        return []  # aggregates of tags or unknown fields: 1.x answers no series
    if not aggregate and not any(_is_field(table, c.field) for c in cols):
        return []  # tags alone (or unknown names): 1.x answers no series
    if interval is not None and not aggregate:
        raise QueryError("GROUP BY requires at least one aggregate function")
    tag_sql = [
        f"CAST({quote_ident(g)} AS VARCHAR) AS {quote_ident(g)}"
        if g in table.columns
        else f"NULL AS {quote_ident(g)}"
        for g in group
    ]
    t = f"CAST({quote_ident(TIME_COLUMN)} AS BIGINT)"
    desc = bool(stmt.order_by) and not stmt.order_by[0].ascending
    shown = (rng.lo, rng.hi)  # the range the answer shows; a transformation may look back
    if aggregate and interval is not None:
        if not rng.bounded_above:
            rng.hi = now_ns
        shown = (rng.lo, rng.hi)
        every, offset = _interval(interval, now_ns)
        offset = _zoned(stmt, every, offset, rng)
        back = max(_lookback(t) for t in transforms) * every if transforms else 0
        if back and desc:
            rng.hi += back
        elif back and rng.bounded_below:
            rng.lo -= back
        bucket = f"({t} - ((({t} - {offset}) % {every}) + {every}) % {every})"
        select = [
            *tag_sql,
            f"{bucket} AS __time",
            *(f"{c.sql} AS {quote_ident(c.name)}" for c in cols),
        ]
        keys = [*(quote_ident(g) for g in group), "__time"]
    elif aggregate:
        mains = [c for c in cols if c.func != "aux"]
        lone = len(mains) == 1 and mains[0].func in _SELECTORS
        time_sql = _selector_time(mains[0]) if lone else str(rng.lo if rng.bounded_below else 0)
        select = [
            *tag_sql,
            f"{time_sql} AS __time",
            *(f"{c.sql} AS {quote_ident(c.name)}" for c in cols),
        ]
        keys = [quote_ident(g) for g in group]
    else:
        select = [*tag_sql, f"{t} AS __time", *(f"{c.sql} AS {quote_ident(c.name)}" for c in cols)]
        keys = []
    where = _where(residual, rng, table, now_ns)
    if not aggregate:
        any_value = " OR ".join(f"{quote_ident(c.name)} IS NOT NULL" for c in cols)
        sql = (
            f"SELECT * FROM (SELECT {', '.join(select)} FROM {quote_ident(table.name)} "
            f"WHERE {where}) WHERE {any_value}"
        )
    else:
        sql = f"SELECT {', '.join(select)} FROM {quote_ident(table.name)} WHERE {where}"
        if keys:
            sql += f" GROUP BY {', '.join(keys)}"
        # a group without a value of the aggregated fields: no series, as 1.x
        used = sorted(
            {c.field for c in cols if c.field and c.func != "aux" and _is_field(table, c.field)}
        )
        sql += f" HAVING ({' + '.join(f'count({quote_ident(u)})' for u in used) or '0'}) > 0"
    order = [*(quote_ident(g) for g in group), "__time"]
    sql += f" ORDER BY {', '.join(order)}"
    result = run_sql(sql)
    series = _cut(result, table.name, group, [c.name for c in cols], go_floats)
    if aggregate and interval is not None:
        every, offset = _interval(interval, now_ns)
        offset = _zoned(stmt, every, offset, rng)
        counts = [c.func == "count" for c in cols]
        series = [_fill(s, stmt, rng, every, offset, counts) for s in series]
        series = [s for s in series if s["values"]]
    lo = stmt.offset or 0
    hi = None if not stmt.limit else lo + stmt.limit  # LIMIT 0: no limit, as in 1.x
    for s in series:
        if desc:
            s["values"].reverse()
        if transforms:  # over the rows in the asked order, as 1.x
            s["values"] = _transformed(transforms, s["values"], shown, lo, hi)
            if len(transforms) > 1:
                continue  # each column was limited on its own
        s["values"] = s["values"][lo:hi]
    return [s for s in series if s["values"]]


def _select_multi(
    stmt: ast.SelectStatement,
    table: TableSchema,
    cols: list[_Column],
    group: list[str],
    interval: ast.Call | None,
    residual: ast.Expr | None,
    rng: TimeRange,
    run_sql: RunSql,
    now_ns: int,
    go_floats: bool,
) -> list[Series]:
    """top(), bottom() and distinct(): several rows per series."""
    if len(cols) != 1:
        raise QueryError(
            f"{cols[0].func}() must be the only field of its query (not built yet otherwise)"
        )
    if interval is not None:
        raise QueryError(f"{cols[0].func}() with GROUP BY time() is not built yet")
    col = cols[0]
    if col.field is None:
        return []
    tag_sql = [
        f"CAST({quote_ident(g)} AS VARCHAR) AS {quote_ident(g)}"
        if g in table.columns
        else f"NULL AS {quote_ident(g)}"
        for g in group
    ]
    tags = [quote_ident(g) for g in group]
    value = quote_ident(col.field)
    where = f"{_where(residual, rng, table, now_ns)} AND {value} IS NOT NULL"
    src = quote_ident(table.name)
    name = quote_ident(col.name)
    if col.func == "distinct":
        start = rng.lo if rng.bounded_below else 0
        first_seen = f"min({quote_ident(TIME_COLUMN)})"  # 1.x lists values as first seen
        sql = (
            f"SELECT {', '.join([*tag_sql, f'{start} AS __time', f'{value} AS {name}'])} "
            f"FROM {src} WHERE {where} GROUP BY {', '.join([*tags, value])} "
            f"ORDER BY {', '.join([*tags, first_seen, name])}"
        )
    elif col.func in ("mode", "integral"):
        start = rng.lo if rng.bounded_below else 0
        t = f"CAST({quote_ident(TIME_COLUMN)} AS BIGINT)"
        part = f"PARTITION BY {', '.join(tags)} " if tags else ""
        if col.func == "mode":  # the most frequent value; ties: the smallest
            inner = (
                f"SELECT {', '.join([*tag_sql, f'{value} AS __v'])}, count(*) AS __n "
                f"FROM {src} WHERE {where} GROUP BY {', '.join([*tags, value])}"
            )
            # booleans tied: true, as 1.x; other ties: the smallest (1.x: Go map order)
            boolean = table.columns.get(col.field or "") is ColumnType.BOOLEAN
            tie = "__v DESC" if boolean else "__v ASC"
            ranked = (
                f"SELECT *, row_number() OVER ({part}ORDER BY __n DESC, {tie}) AS __rn "
                f"FROM ({inner})"
            )
            sql = (
                f"SELECT {', '.join([*tags, f'{start} AS __time', f'__v AS {name}'])} "
                f"FROM ({ranked}) WHERE __rn = 1 ORDER BY {', '.join([*tags, '__time'])}"
                if tags
                else f"SELECT {start} AS __time, __v AS {name} FROM ({ranked}) WHERE __rn = 1"
            )
        else:  # trapezoids between consecutive points, per unit of time
            lagged = (
                f"SELECT {', '.join(tag_sql)}{', ' if tag_sql else ''}"
                f"CAST({value} AS DOUBLE) AS __v, {t} AS __t, "
                f"lag(CAST({value} AS DOUBLE)) OVER ({part}ORDER BY {t}) AS __pv, "
                f"lag({t}) OVER ({part}ORDER BY {t}) AS __pt FROM {src} WHERE {where}"
            )
            area = f"coalesce(sum((__v + __pv) / 2.0 * (__t - __pt) / {int(col.percent)}.0), 0.0)"
            sql = (
                f"SELECT {', '.join([*tags, f'{start} AS __time', f'{area} AS {name}'])} "
                f"FROM ({lagged})"
                + (f" GROUP BY {', '.join(tags)} ORDER BY {', '.join(tags)}" if tags else "")
            )
    else:
        part = f"PARTITION BY {', '.join(tags)} " if tags else ""
        t = f"CAST({quote_ident(TIME_COLUMN)} AS BIGINT)"
        # top, bottom: the largest, smallest (earliest first on ties); sample: N at random
        order = {
            "top": f"{value} DESC, {t} ASC",
            "bottom": f"{value} ASC, {t} ASC",
        }.get(col.func or "", "random()")
        # points at the same time: top's largest first, bottom's smallest first, sample's in
        # series order (1.x sorts picks by value, then stably by time)
        tie = {"top": f"{name} DESC", "bottom": f"{name} ASC"}.get(col.func or "", "__series")
        series_key = ", ".join(
            f"CAST({quote_ident(k)} AS VARCHAR)" for k in sorted(table.tag_names)
        )
        # top(f, tag…, N): first each tag combination's own best point, then the N best
        by = [quote_ident(f"__by_{i}") for i in range(len(col.by))]
        by_sql = [
            f"CAST({quote_ident(b)} AS VARCHAR) AS {alias}"
            if b in table.columns
            else f"NULL AS {alias}"
            for b, alias in zip(col.by, by, strict=True)
        ]
        inner = (
            f"SELECT {', '.join([*tag_sql, *by_sql, f'{t} AS __time', f'{value} AS {name}'])}, "
            f"concat_ws(',', {series_key or repr('')}) AS __series "
            f"FROM {src} WHERE {where}"
        )
        if by:
            best = f"PARTITION BY {', '.join([*tags, *by])} "
            inner = (
                f"SELECT * FROM (SELECT *, row_number() OVER ({best}ORDER BY "
                f"{order.replace(value, name).replace(t, '__time')}) AS __best FROM ({inner})) "
                "WHERE __best = 1"
            )
        ranked = (
            f"SELECT *, row_number() OVER ({part}ORDER BY "
            f"{order.replace(value, name).replace(t, '__time')}) AS __rn FROM ({inner})"
        )
        sql = (
            f"SELECT {', '.join([*tags, '__time', name, *by])} FROM ({ranked}) "
            f"WHERE __rn <= {int(col.percent)} ORDER BY {', '.join([*tags, '__time', tie])}"
        )
    by_names = [f"__by_{i}" for i in range(len(col.by))]
    series = _cut(run_sql(sql), table.name, group, [col.name, *by_names], go_floats)
    for s in series:  # the tag arguments come as columns named as the tags
        s["columns"] = [*s["columns"][:2], *col.by]
    desc = bool(stmt.order_by) and not stmt.order_by[0].ascending
    for s in series:
        if desc:
            s["values"].reverse()
        lo = stmt.offset or 0
        s["values"] = s["values"][lo : None if not stmt.limit else lo + stmt.limit]
    return [s for s in series if s["values"]]


def _zoned(stmt: ast.SelectStatement, every: int, offset: int, rng: TimeRange) -> int:
    """The bucket offset in the statement's tz(): buckets start at local boundaries (1.x
    shifts times by the zone's UTC offset before cutting them into intervals)."""
    if stmt.timezone in (None, "", "UTC"):
        return offset
    zone = zoneinfo.ZoneInfo(stmt.timezone)
    hi = rng.hi if rng.bounded_above else time.time_ns()
    lo = rng.lo if rng.bounded_below else hi - 2 * 366 * 86_400 * 10**9
    lo = max(lo, hi - 10 * 366 * 86_400 * 10**9)
    step = max((hi - lo) // 5000, 3600 * 10**9)
    shifts = {
        int(_utcoffset(datetime.datetime.fromtimestamp(t / 1e9, zone))) * 10**9
        for t in [*range(lo, hi, step), hi]
    }
    first = next(iter(shifts))
    if any((z - first) % every for z in shifts):
        raise QueryError(
            f"tz('{stmt.timezone}'): the time range spans a change of the zone's UTC offset "
            "that moves GROUP BY time() boundaries; such ranges are not built yet"
        )
    return (offset - first) % every


def _utcoffset(moment: datetime.datetime) -> float:
    return (moment.utcoffset() or datetime.timedelta()).total_seconds()


def _interval(call: ast.Call, now_ns: int) -> tuple[int, int]:
    if not call.args or not isinstance(call.args[0], ast.DurationLiteral):
        raise QueryError("time() takes a duration, e.g. time(10m)")
    every = call.args[0].ns
    if every <= 0:
        raise QueryError("time() interval must be positive")
    offset = 0
    if len(call.args) > 1:
        arg = call.args[1]
        if isinstance(arg, ast.DurationLiteral):
            offset = arg.ns
        elif isinstance(arg, ast.UnaryExpr) and isinstance(arg.expr, ast.DurationLiteral):
            offset = -arg.expr.ns
        elif isinstance(arg, ast.NowCall):
            offset = now_ns
        else:
            raise QueryError("time() offset must be a duration or now()")
    return every, offset % every


def _column_values(col: pa.ChunkedArray, go_floats: bool) -> list[Any]:
    """A column as Python values; with ``go_floats``, whole floats as ints, as influxd's Go
    JSON encoder writes them (the 1.x API's answers)."""
    if pa.types.is_dictionary(col.type):  # to_pylist is ~25x slower on dictionaries
        col = col.cast(col.type.value_type)
    values = col.to_pylist()
    if go_floats and pa.types.is_floating(col.type) and values:
        # whole values found by numpy, converted one by one: usually few of them
        arr = col.to_numpy(zero_copy_only=False)
        with np.errstate(invalid="ignore"):
            whole = np.flatnonzero((np.floor(arr) == arr) & (np.abs(arr) < 1e21))
        for i in whole.tolist():
            values[i] = int(values[i])
    return values


def _cut(
    result: pa.Table, name: str, group: list[str], columns: list[str], go_floats: bool
) -> list[Series]:
    """Rows (sorted by group tags, time) → one series per tag set."""
    if not result.num_rows:
        return []
    cols = [
        result.column("__time").to_pylist(),
        *(_column_values(result.column(c), go_floats) for c in columns),
    ]
    keys = (
        list(zip(*(result.column(g).to_pylist() for g in group), strict=True))
        if group
        else [()] * result.num_rows
    )
    starts = [0] + [i for i in range(1, len(keys)) if keys[i] != keys[i - 1]]
    out: list[Series] = []
    for a, b in zip(starts, [*starts[1:], len(keys)], strict=True):
        s: Series = {
            "name": name,
            "columns": ["time", *columns],
            "values": list(map(list, zip(*(c[a:b] for c in cols), strict=True))),
        }
        if group:
            s["tags"] = {g: v or "" for g, v in zip(group, keys[a], strict=True)}
        out.append(s)
    return out


def _fill(
    s: Series,
    stmt: ast.SelectStatement,
    rng: TimeRange,
    every: int,
    offset: int,
    counts: list[bool],
) -> Series:
    mode = "value" if stmt.fill_value is not None else (stmt.fill or "null")
    if mode == "none":
        return s
    rows = {v[0]: v for v in s["values"]}
    width = len(s["columns"]) - 1
    # the first interval holding the lower bound (or, unbounded, this series' first point)
    start = rng.lo - ((rng.lo - offset) % every) if rng.bounded_below else min(rows)
    end = rng.hi
    if (end - start) // every > 1_000_000:
        raise QueryError("too many GROUP BY time() intervals: narrow the time range")
    out: list[list[Any]] = []
    prev: list[Any] | None = None
    t = start
    while t <= end:
        row = rows.get(t)
        if row is None:
            if mode == "previous" and prev is not None:
                row = [t, *prev[1:]]
            elif mode == "value":
                row = [t, *([stmt.fill_value] * width)]
            else:
                row = [t, *(0 if is_count else None for is_count in counts)]
        out.append(row)
        if rows.get(t) is not None:
            prev = row
        t += every
    if mode == "linear":
        out = _linear(out)
    s["values"] = out
    return s


def _linear(rows: list[list[Any]]) -> list[list[Any]]:
    for col in range(1, len(rows[0]) if rows else 1):
        known = [(i, r[col]) for i, r in enumerate(rows) if r[col] is not None]
        for (i0, v0), (i1, v1) in itertools.pairwise(known):
            for i in range(i0 + 1, i1):
                frac = (i - i0) / (i1 - i0)
                value = v0 + (v1 - v0) * frac
                rows[i][col] = int(value) if isinstance(v0, int) and isinstance(v1, int) else value
    return rows
