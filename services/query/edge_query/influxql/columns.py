"""The field list of a SELECT as SQL: each column's expression (raw, aggregate, selector,
top/bottom/sample/distinct/mode/integral, math, arithmetic), its output name as 1.x names it,
and the kinds of field each aggregate takes."""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass

from edge_common.errors import QueryError
from edge_common.schema import TIME_COLUMN, ColumnType, TableSchema
from edge_query.influxql import ast
from edge_query.influxql.arith import MATH, check_arithmetic, go_type
from edge_query.influxql.text import expr_text
from edge_query.influxql.transform import TRANSFORMS, Transform, parse_transform
from edge_query.influxql.translate import CASTS, NUMBERS, cast_away, cast_sql, quote_ident

__all__ = [
    "REDUCED",
    "SELECTORS",
    "Column",
    "expand",
    "group_tags",
    "has_aggregate",
    "is_field",
    "is_plain",
    "selector_time",
    "union",
]

SELECTORS = {"first", "last", "min", "max", "percentile"}
# aggregates worked out in Python over each series' points (edge_query.influxql.reducers)
REDUCED = {"mode", "integral"}
_AGGREGATES = {"count", "sum", "mean", "median", "spread", "stddev", *SELECTORS}


@dataclass
class Column:
    name: str  # output column name
    sql: str  # SQL expression (aggregate or plain)
    kind: str  # "raw" | "agg"
    func: str | None = None
    field: str | None = None
    percent: float = 0.0
    transform: Transform | None = None
    by: tuple[str, ...] = ()  # top(f, tag…, N): one point per value of these tags
    by_shown: tuple[str, ...] = ()  # their columns' names in the answer
    reads: tuple[str, ...] | None = None  # every name a raw expression reads (else field)
    expr: ast.Expr | None = None  # arithmetic over aggregates: the expression (func "expr")
    picks: str | None = None  # arithmetic of one selector (last(x) * 2): that selector

    def names_read(self) -> tuple[str, ...]:
        if self.reads is not None:
            return self.reads
        return () if self.field is None else (self.field,)


def is_field(table: TableSchema, name: str | None) -> bool:
    kind = None if name is None else table.columns.get(name)
    return kind is not None and kind.is_field


def union(tables: list[TableSchema]) -> TableSchema:
    union = TableSchema("")
    for t in tables:
        for name, kind in t.columns.items():
            union.columns.setdefault(name, kind)
    return union


def _fields(table: TableSchema) -> list[str]:
    return sorted(n for n, t in table.columns.items() if t.is_field)


def _tags(table: TableSchema) -> list[str]:
    return sorted(table.tag_names)


def group_tags(stmt: ast.SelectStatement, table: TableSchema) -> tuple[list[str], ast.Call | None]:
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


def expand(
    stmt: ast.SelectStatement,
    table: TableSchema,
    group: list[str],
    interval_ns: int | None = None,
    pool_of: TableSchema | None = None,
) -> list[Column]:
    cols: list[Column] = []
    names: dict[str, int] = {}

    def unique(base: str) -> str:
        if base in names:  # 1.x names repeats mean, mean_1, mean_2 …
            names[base] += 1
            return f"{base}_{names[base]}"
        names[base] = 0
        return base

    def add(col: Column) -> None:
        col.name = unique(col.name)
        # top(f, tag…, N)'s tag columns are named in their place too (region, region_1)
        col.by_shown = tuple(unique(b) for b in col.by)
        cols.append(col)

    # influxd compiles each field (arity.check_fields, in executor._select, which every
    # SELECT passes), then checks every field's types, before any other error
    for f in stmt.fields:
        check_arithmetic(f.expr, table)
    for f in stmt.fields:
        e = f.expr
        if isinstance(e, ast.Wildcard | ast.RegexLiteral):
            pool = _select_pool(pool_of or table, group, getattr(e, "type_hint", None))
            if isinstance(e, ast.RegexLiteral):
                rx = re.compile(e.pattern)
                pool = [n for n in pool if rx.search(n)]
            for n in pool:
                add(Column(n, _col_sql(n, table, shown=True), "raw", field=n))
        elif isinstance(e, ast.VarRef):
            if e.name.lower() == TIME_COLUMN:
                continue
            kind = table.columns.get(e.name)
            if (e.type_hint == "tag" and kind is not ColumnType.TAG) or (
                e.type_hint == "field" and kind is ColumnType.TAG
            ):  # asked as the other kind: no such column
                add(Column(f.alias or e.name, "NULL", "raw", field=None))
                continue
            if e.type_hint in CASTS:
                cast = cast_sql(e.name, e.type_hint, kind)
                add(Column(f.alias or e.name, cast or "NULL", "raw", field=cast and e.name))
                continue
            add(Column(f.alias or e.name, _col_sql(e.name, table, True), "raw", field=e.name))
        elif isinstance(e, ast.Call) and e.name in TRANSFORMS:
            transform, inner = parse_transform(e, interval_ns)
            if isinstance(inner, ast.Call) and inner.name in REDUCED:  # derivative(mode(x))
                inner_cols = [_special(inner, table, None)]
            elif isinstance(inner, ast.Call):
                inner_cols = _aggregate(inner, table, None)
            elif isinstance(inner, ast.VarRef):
                sql: str | None = _col_sql(inner.name, table)
                if inner.type_hint in CASTS:  # derivative(x::integer)
                    sql = cast_sql(inner.name, inner.type_hint, table.columns.get(inner.name))
                field = inner.name if sql is not None else None
                inner_cols = [Column(inner.name, sql or "NULL", "raw", field=field)]
            else:
                raise QueryError(f"expected field argument in {e.name}()")
            for col in inner_cols:
                _check_transformed(e.name, col, table)
                col.name = f.alias or e.name
                col.transform = transform
                add(col)
        elif isinstance(e, ast.Call) and e.name in MATH and _is_raw(e):
            col = Column(f.alias or e.name, _raw_expr(e, table), "raw", field=_expr_field(e))
            col.reads = tuple(_expr_names(e))
            add(col)
        elif isinstance(e, ast.Call) and e.name in MATH and _one_aggregate(e):
            # a math function of one aggregate: that aggregate's column (a selector's
            # time stays the point's), its value through the function
            (call,) = [a for a in e.args if isinstance(a, ast.Call)]
            cols_in = _aggregate(call, table, None)
            if len(cols_in) != 1:
                raise QueryError(f"{e.name}() takes one aggregate")
            col = cols_in[0]
            args = [col.sql if a is call else _raw_expr(a, table) for a in e.args]
            col.sql = _math_sql(e, args)
            if any(go_type(a, table) in ("boolean", "string") for a in e.args):
                col.sql = "CAST(NULL AS DOUBLE)"  # (1.x: a math function of those is null)
            col.name = f.alias or e.name
            col.expr = e  # (fill() fills the aggregate, then the function applies)
            add(col)
        elif isinstance(e, ast.Call) and e.name in MATH:  # abs(max(x) - 100)
            add(_aggregate_expr(e, table, f.alias or e.name))
        elif isinstance(e, ast.Call) and e.name in (
            "top",
            "bottom",
            "sample",
            "distinct",
            "mode",
            "integral",
        ):
            if (
                e.name in REDUCED
                and e.args
                and isinstance(e.args[0], ast.Wildcard | ast.RegexLiteral)
            ):
                # mode(*), integral(/re/): one column per field it takes, as count(*)
                source = pool_of or table
                takes = [
                    n for n in _fields(source) if e.name == "mode" or source.columns[n] in NUMBERS
                ]
                if isinstance(e.args[0], ast.RegexLiteral):
                    rx = re.compile(e.args[0].pattern)
                    takes = [n for n in takes if rx.search(n)]
                for n in takes:
                    one = ast.Call(e.name, (ast.VarRef(n), *e.args[1:]))
                    add(_special(one, table, f"{e.name}_{n}"))
            else:
                add(_special(e, table, f.alias))
        elif isinstance(e, ast.Call):
            for col in _aggregate(e, table, f.alias, pool_of):
                add(col)
        elif has_aggregate(e):
            add(_aggregate_expr(e, table, f.alias or _expr_name(e)))
        else:
            refs = _expr_names(e)
            # the first field read (none where each is cast to a type it cannot be)
            held = [n for n in _expr_names(e, table) if is_field(table, n)]
            field = held[0] if held else None
            if not held and refs and not any(is_field(table, n) for n in refs):
                field = refs[0]  # (a tag or a name no field has: no series, as 1.x)
            col = Column(f.alias or _expr_name(e), _raw_expr(e, table), "raw", field=field)
            col.reads = tuple(refs)
            add(col)
    kinds = {c.kind for c in cols}
    if "multi" in kinds:
        _check_multi(cols)
        return cols
    if kinds == {"agg", "raw"}:
        cols = _at_selected_point(cols)
    kinds = {c.kind for c in cols}
    if len(kinds) > 1:
        raise QueryError("mixing aggregate and non-aggregate queries is not supported")
    return cols


def _check_multi(cols: list[Column]) -> None:
    """top(), bottom() and sample() take fields, tags and expressions of them beside them,
    shown at each point picked; distinct() nothing: influxd's rules and words."""
    multi = [c for c in cols if c.kind == "multi"]
    first = multi[0]
    if first.func == "distinct" and len(cols) > 1:
        raise QueryError(
            "aggregate function distinct() cannot be combined with other functions or fields"
        )
    if len(multi) > 1 or any(c.kind != "raw" for c in cols if c is not first):
        if first.func in ("top", "bottom"):
            raise QueryError(
                f"selector function {first.func}() cannot be combined with other functions"
            )
        raise QueryError("mixing aggregate and non-aggregate queries is not supported")


_PICK_ORDER = {  # the point each selector picks: the first of this order (1.x tie rules)
    "first": "{t} ASC, {v} DESC",
    "last": "{t} DESC, {v} DESC",
    "max": "{v} DESC, {t} ASC",
    "min": "{v} ASC, {t} ASC",
}


def _at_selected_point(cols: list[Column]) -> list[Column]:
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
            c = Column(c.name, sql, "agg", "aux", c.field)
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


def _col_sql(name: str, table: TableSchema, shown: bool = False) -> str:
    """A column in SQL; a tag as text, unless it is only ``shown`` as it is (its dictionary
    then reaches the answer, where each distinct value becomes text once)."""
    kind = table.columns.get(name)
    if kind is None:
        return "NULL"
    if kind is ColumnType.TAG and not shown:
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
    if isinstance(e, ast.VarRef) and e.type_hint in CASTS:  # (x::integer of a boolean:
        # no values, as 1.x casts)
        return cast_sql(e.name, e.type_hint, table.columns.get(e.name)) or "NULL"
    if isinstance(e, ast.VarRef):
        return _col_sql(e.name, table)
    if isinstance(e, ast.Call) and e.name not in MATH and aggregate is not None:
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
        if e.op in ("/", "%"):  # 1.x divides as floats; by zero, 0 (of a value)
            div = f"CAST({lhs} AS DOUBLE) / {rhs}" if e.op == "/" else f"{lhs} % {rhs}"
            zero = "0.0" if e.op == "/" else "0"
            return f"(CASE WHEN {rhs} = 0 AND {lhs} IS NOT NULL THEN {zero} ELSE {div} END)"
        return f"({lhs} {e.op} {rhs})"
    if isinstance(e, ast.Call) and e.name in MATH:
        if any(go_type(a, table) in ("boolean", "string") for a in e.args):
            return "CAST(NULL AS DOUBLE)"  # (1.x: a math function of those is null)
        return _math_sql(e, [_raw_expr(a, table, aggregate) for a in e.args])
    raise QueryError(f"unsupported expression in the field list: {e}")


# the words of influxd's error for a transformation of values it cannot take
_TRANSFORM_WORDS = {
    "non_negative_derivative": "derivative",
    "non_negative_difference": "difference",
    "holt_winters": "elapsed",
    "holt_winters_with_fit": "elapsed",
}


def _check_transformed(name: str, col: Column, table: TableSchema) -> None:
    """A transformation of booleans or texts (a field's, or first() of one) is refused in
    influxd's words; elapsed() takes any values."""
    kind = table.columns.get(col.field or "")
    if name == "elapsed" or kind not in (ColumnType.BOOLEAN, ColumnType.STRING):
        return
    if col.kind == "agg" and col.func not in ("first", "last", "min", "max", "mode"):
        return  # (count() of them is an integer; others refuse them on their own)
    words = _TRANSFORM_WORDS.get(name, name.replace("_", " "))
    go = "boolean" if kind is ColumnType.BOOLEAN else "string"
    raise QueryError(f"unsupported {words} iterator type: *query.{go}InterruptIterator")


def _one_aggregate(call: ast.Call) -> bool:
    """Whether a math function's arguments are one aggregate call and raw values."""
    calls = [a for a in call.args if isinstance(a, ast.Call)]
    return (
        len(calls) == 1
        and calls[0].name not in MATH
        and all(_is_raw(a) for a in call.args if a is not calls[0])
    )


def has_aggregate(e: ast.Expr) -> bool:
    if isinstance(e, ast.Call):
        return e.name not in MATH or any(has_aggregate(a) for a in e.args)
    if isinstance(e, ast.BinaryExpr):
        return has_aggregate(e.lhs) or has_aggregate(e.rhs)
    if isinstance(e, ast.ParenExpr | ast.UnaryExpr):
        return has_aggregate(e.expr)
    return False


def _aggregate_calls(e: ast.Expr) -> list[ast.Call]:
    """The aggregate calls of an expression (not its math functions), in order."""
    if isinstance(e, ast.Call) and e.name not in MATH:
        return [e]
    if isinstance(e, ast.Call):
        return [c for a in e.args for c in _aggregate_calls(a)]
    if isinstance(e, ast.BinaryExpr):
        return _aggregate_calls(e.lhs) + _aggregate_calls(e.rhs)
    if isinstance(e, ast.ParenExpr | ast.UnaryExpr):
        return _aggregate_calls(e.expr)
    return []


def _aggregate_expr(e: ast.Expr, table: TableSchema, name: str) -> Column:
    """Arithmetic over aggregates, one value per group: ``max(x) - min(x)``. Of one
    ``REDUCED`` call (``mode(x) * 8``): that call's column, its values then put through
    the arithmetic in Python (``edge_query.influxql.reducers``)."""
    calls = _aggregate_calls(e)
    if len(calls) == 1 and calls[0].name in REDUCED:
        col = _special(calls[0], table, name)
        col.expr = e
        return col
    inner: list[Column] = []

    def leaf(call: ast.Call) -> str:
        cols = _aggregate(call, table, None)
        if len(cols) != 1:
            raise QueryError(f"{call.name}() in an expression must name one field")
        inner.append(cols[0])
        return cols[0].sql

    sql = _raw_expr(e, table, leaf)
    fields = [c.field for c in inner]
    field = None if None in fields else fields[0]  # an unknown field: no series, as 1.x
    col = Column(name, sql if field else "NULL", "agg", "expr", field, expr=e)
    if len(inner) == 1 and inner[0].func in SELECTORS:  # its row at the point's time (1.x)
        col.picks, col.percent = inner[0].func, inner[0].percent
    return col


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
        return e.name in MATH and all(_is_raw(a) for a in e.args)
    if isinstance(e, ast.BinaryExpr):
        return _is_raw(e.lhs) and _is_raw(e.rhs)
    if isinstance(e, ast.ParenExpr | ast.UnaryExpr):
        return _is_raw(e.expr)
    return True


def _expr_names(e: ast.Expr, table: TableSchema | None = None) -> list[str]:
    """Every name an expression refers to, in order (with ``table``, not those cast to a
    type they cannot be: ``swap::integer`` of a boolean holds no value)."""
    if isinstance(e, ast.VarRef):
        return [] if table is not None and cast_away(e, table) else [e.name]
    if isinstance(e, ast.Call):
        return [n for a in e.args for n in _expr_names(a, table)]
    if isinstance(e, ast.BinaryExpr):
        return _expr_names(e.lhs, table) + _expr_names(e.rhs, table)
    if isinstance(e, ast.ParenExpr | ast.UnaryExpr):
        return _expr_names(e.expr, table)
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


def _special(call: ast.Call, table: TableSchema, alias: str | None) -> Column:
    """top(f, N), bottom(f, N), sample(f, N) and distinct(f): several rows per series,
    kind "multi"; mode(f) and integral(f[, unit]): one value per group like any aggregate,
    worked out in Python (``REDUCED``)."""
    if call.name in ("top", "bottom") and call.args and not isinstance(call.args[0], ast.VarRef):
        raise QueryError(
            f"expected first argument to be a field in {call.name}(), "
            f"found {expr_text(call.args[0])}"
        )
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
                f"expected integer as last argument in {call.name}(), found {expr_text(last)}"
            )
        for a in call.args[1:-1]:
            if not isinstance(a, ast.VarRef):
                raise QueryError(
                    f"only fields or tags are allowed in {call.name}(), found {expr_text(a)}"
                )
        n = last.value
        if n < 1:
            raise QueryError(f"limit ({n}) in {call.name} function must be at least 1")
    col = Column(
        alias or call.name,
        quote_ident(field) if kind and kind.is_field else "NULL",
        "multi",
        call.name,
        field if kind and kind.is_field else None,
    )
    if call.name in REDUCED:  # one value per group like any aggregate, worked out apart
        col.kind, col.sql = "agg", "NULL"
    col.percent = float(n)
    if call.name in ("top", "bottom"):
        col.by = tuple(a.name for a in call.args[1:-1] if isinstance(a, ast.VarRef))
    return col


def _aggregate(
    call: ast.Call, table: TableSchema, alias: str | None, pool_of: TableSchema | None = None
) -> list[Column]:
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
            return [Column(alias or "count", "NULL", "agg", "count", None)]
        return [
            Column(
                alias or "count",
                f"count(DISTINCT {quote_ident(inner.name)})",
                "agg",
                "count",
                inner.name,
            )
        ]
    if name not in _AGGREGATES:
        raise QueryError(f"undefined function {name}()")
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
    cast = None
    if arg.type_hint in CASTS:  # max(x::integer): of the values as cast
        cast = cast_sql(arg.name, arg.type_hint, table.columns.get(arg.name))
        if cast is None:  # a type the field is not: no values, no series (1.x)
            return [Column(alias or name, "NULL", "agg", name, None)]
    col = _agg_column(name, arg.name, call, table, alias or name)
    if cast is not None and col.field is not None:
        col.sql = col.sql.replace(quote_ident(arg.name), cast)
    return [col]


def _takes(func: str, kind: ColumnType) -> bool:
    """Whether aggregate ``func`` takes a field of type ``kind``."""
    numeric = kind in (ColumnType.FLOAT, ColumnType.INTEGER, ColumnType.UINTEGER)
    return (
        func in ("count", "first", "last")
        or numeric
        or (func in ("min", "max") and kind is ColumnType.BOOLEAN)
    )


def _agg_column(func: str, field: str, call: ast.Call, table: TableSchema, out: str) -> Column:
    kind = table.columns.get(field)
    if kind is None or not kind.is_field:  # a tag or unknown name: 1.x returns no series
        return Column(out, "NULL", "agg", func, None)
    if not _takes(func, kind):
        # influxd's words, naming the Go iterator its engine would have needed
        go = "unsigned" if kind is ColumnType.UINTEGER else kind.value
        raise QueryError(f"unsupported {func} iterator type: *query.{go}InterruptIterator")
    percent = 0.0
    if func == "percentile":
        if len(call.args) != 2 or not isinstance(
            call.args[1], ast.IntegerLiteral | ast.NumberLiteral
        ):
            raise QueryError("percentile() takes a field and a number")
        percent = float(call.args[1].value)
    sql = _plain_sql(func, field, percent)
    assert sql is not None
    return Column(out, sql, "agg", func, field, percent)


def _plain_sql(func: str, field: str, percent: float = 0.0) -> str | None:
    """SQL of aggregate ``func`` over the field alone (None: it takes more arguments);
    ``percent``: percentile()'s."""
    col = quote_ident(field)
    if func == "percentile":
        return _percentile(col, col, percent)
    nn = f"FILTER (WHERE {col} IS NOT NULL)"
    return {
        "count": f"count({col})",
        "sum": f"sum({col})",
        "mean": f"avg(CAST({col} AS DOUBLE))",
        "median": f"median(CAST({col} AS DOUBLE))",
        "spread": f"(max({col}) - min({col}))",
        # of one point NaN, as 1.x's reducer makes it (written null; a point still: count()
        # of it is 1, mean() or sum() over it NaN, a transformation's value from it NaN)
        "stddev": (
            f"CASE WHEN count({col}) = 1 THEN CAST('NaN' AS DOUBLE) "
            f"ELSE stddev(CAST({col} AS DOUBLE)) END"
        ),
        "min": f"min({col})",
        "max": f"max({col})",
        # points at the same time: influxd keeps the larger value
        "first": f"first_value({col} ORDER BY {quote_ident(TIME_COLUMN)}, {col} DESC) {nn}",
        "last": f"last_value({col} ORDER BY {quote_ident(TIME_COLUMN)}, {col}) {nn}",
    }.get(func)


def is_plain(col: Column) -> bool:
    """Whether ``col`` is an aggregate of one field and nothing more: not wrapped in math,
    not ``count(DISTINCT …)`` (it may feed a transformation, applied to its answer)."""
    return (
        col.kind == "agg"
        and col.field is not None
        and col.func is not None
        and col.sql == _plain_sql(col.func, col.field, col.percent)
    )


def _percentile(value: str, field: str, p: float) -> str:
    """1.x's nearest-rank percentile: of ``value`` ordered by ``field``, the element at
    floor(n * p / 100 + 0.5) (1-based); none when that is 0."""
    nn = f"FILTER (WHERE {field} IS NOT NULL)"
    t = f"CAST({quote_ident(TIME_COLUMN)} AS BIGINT)"
    return (
        f"array_element(array_agg({value} ORDER BY {field}, {t}) {nn}, "
        f"CAST(floor(count({field}) * {p} / 100.0 + 0.5) AS BIGINT))"
    )


def selector_time(col: Column) -> str:
    """SQL for the time of the point a lone selector picked."""
    c, t = quote_ident(col.field or ""), f"CAST({quote_ident(TIME_COLUMN)} AS BIGINT)"
    nn = f"FILTER (WHERE {c} IS NOT NULL)"
    func = col.picks or col.func
    if func == "percentile":
        return _percentile(t, c, col.percent)
    return {
        "first": f"min({t}) {nn}",
        "last": f"max({t}) {nn}",
        "min": f"first_value({t} ORDER BY {c} ASC, {t} ASC) {nn}",
        "max": f"first_value({t} ORDER BY {c} DESC, {t} ASC) {nn}",
    }.get(func or "", f"min({t}) {nn}")
