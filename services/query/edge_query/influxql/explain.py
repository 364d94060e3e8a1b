"""EXPLAIN and EXPLAIN ANALYZE of a SELECT: how Edge answers it, in influxd's shape (one
column, a line a row) but with Edge's own facts, since it reads no TSM shards.

EXPLAIN plans without reading: the SELECT runs with every read of stored rows and every
SQL statement recorded instead of run (a read answers no rows; SQL is planned by DataFusion,
whose optimized plan is shown). What follows from rows (a subquery's answer, say) is then
planned as if there were none. EXPLAIN ANALYZE answers the SELECT, drops its rows and tells
what each read and each SQL statement cost. Neither writes INTO anything.
"""

from __future__ import annotations

import dataclasses
import re
import time
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import numpy as np
import pyarrow as pa

from edge_common.schema import TIME_COLUMN, ColumnType, TableSchema
from edge_query.influxql import ast
from edge_query.influxql.policies import holding, source_of
from edge_query.influxql.select import source_tables
from edge_query.influxql.text import expr_text
from edge_query.influxql.timefmt import format_times
from edge_query.planner import TableNeed, TablePick

if TYPE_CHECKING:
    from edge_query.influxql.executor import InfluxQLContext

__all__ = ["explain"]

_TYPE_NAMES = {ColumnType.UINTEGER: "unsigned"}  # influxd's names for Edge's column types


@dataclasses.dataclass
class _Step:
    kind: str  # "read": stored rows without SQL; "sql": a statement DataFusion runs
    what: str
    plan: list[str] = dataclasses.field(default_factory=list)
    rows: int = 0
    ns: int = 0


def explain(
    stmt: ast.Explain,
    database: str | None,
    ctx: InfluxQLContext,
    run: Callable[[ast.SelectStatement, InfluxQLContext], list[dict[str, Any]]],
) -> list[dict[str, Any]]:
    """``run``: the executor's SELECT (source, retention policy, retries) with a context."""
    select = dataclasses.replace(stmt.select, into=None)
    ctx.catalog(True)  # the newest (a SELECT alone learns it from its reads, which this skips)
    steps: list[_Step] = []
    started = time.perf_counter_ns()
    run(select, _recording(ctx, steps, stmt.analyze))
    total = time.perf_counter_ns() - started
    if stmt.analyze:
        return [
            {"columns": ["EXPLAIN ANALYZE"], "values": [[line] for line in _tree(steps, total)]}
        ]
    tables = _tables(ctx, select, database)
    if not tables and not steps:  # nothing to read (influxd: one empty line)
        return [{"columns": ["QUERY PLAN"], "values": [[""]]}]
    lines = _heading(select, tables)
    for step in steps:
        lines += ["", f"{step.kind.upper()}: {step.what}", *(f"  {p}" for p in step.plan)]
    return [{"columns": ["QUERY PLAN"], "values": [[line] for line in lines]}]


def _recording(ctx: InfluxQLContext, steps: list[_Step], analyze: bool) -> InfluxQLContext:
    """``ctx`` with its reads and SQL recorded in ``steps``: run and timed (ANALYZE), or
    only planned."""
    real_sql, real_fetch = ctx.run_sql, ctx.fetch

    def run_sql(
        db: str, sql: str, extra: dict[str, pa.Table] | None, pick: TablePick | None
    ) -> pa.Table:
        step = _Step("sql", sql)
        steps.append(step)
        if analyze:
            return _timed(step, lambda: real_sql(db, sql, extra, pick))
        assert ctx.plan_sql is not None
        schema, step.plan = ctx.plan_sql(db, sql, extra)
        return schema.empty_table()

    def fetch(db: str, need: TableNeed) -> pa.Table:
        step = _Step("read", _need_text(need))
        steps.append(step)
        if analyze:
            return _timed(step, lambda: real_fetch(db, need))
        table = ctx.catalog(False).databases[db].tables[need.name]
        names = None if need.columns is None else sorted(need.columns)
        return table.arrow_schema(names).empty_table()

    real_points = ctx.points

    def points(
        db: str, name: str, lo: int, hi: int, values: dict[str, list[str]], field: str
    ) -> tuple[np.ndarray, np.ndarray] | None:
        """influxql.lean's read of the points: recorded as a read of their columns."""
        need = TableNeed(name)
        need.widen([TIME_COLUMN, field], lo, hi, {t: set(v) for t, v in values.items()})
        step = _Step("read", _need_text(need))
        if not analyze:
            steps.append(step)
            return np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.float64)
        started = time.perf_counter_ns()
        found = None if real_points is None else real_points(db, name, lo, hi, values, field)
        if found is not None:  # (else the general fetch reads them, and is recorded)
            step.ns, step.rows = time.perf_counter_ns() - started, len(found[0])
            steps.append(step)
        return found

    # (planned only, a LIMIT's probes would find no rows: the plan shown is of the whole
    # range; ANALYZE shows each window read)
    span = ctx.span if analyze else None
    return dataclasses.replace(
        ctx, run_sql=run_sql, fetch=fetch, settled=None, write=None, span=span, points=points
    )


def _timed(step: _Step, work: Callable[[], pa.Table]) -> pa.Table:
    started = time.perf_counter_ns()
    rows = work()
    step.ns, step.rows = time.perf_counter_ns() - started, rows.num_rows
    return rows


def _tables(
    ctx: InfluxQLContext, select: ast.SelectStatement, database: str | None
) -> list[TableSchema]:
    """The stored tables ``select`` reads (none for a subquery's answer)."""
    home, rp = source_of(select, database)
    if not home or any(isinstance(s, ast.SubQuery) for s in select.sources):
        return []
    db = ctx.catalog(False).databases.get(holding(ctx, home, rp))
    return [] if db is None else source_tables(select, db)


def _heading(select: ast.SelectStatement, tables: list[TableSchema]) -> list[str]:
    """influxd's first lines: the calls with their fields' types (EXPRESSION), or for raw
    points the fields and tags shown (AUXILIARY FIELDS)."""
    types: dict[str, str] = {}
    for table in tables:
        for name, kind in table.columns.items():
            if kind != ColumnType.TIME:
                types.setdefault(name, _TYPE_NAMES.get(kind, kind.value))

    def typed(e: ast.Expr) -> ast.Expr:
        if isinstance(e, ast.VarRef) and e.type_hint is None and e.name in types:
            return ast.VarRef(e.name, types[e.name])
        if isinstance(e, ast.Call):
            return ast.Call(e.name, tuple(typed(a) for a in e.args))
        return e

    calls = [typed(c) for f in select.fields for c in _calls(f.expr)]
    if calls:  # (influxd: one iterator, and one EXPRESSION, a call)
        return [f"EXPRESSION: {expr_text(c)}" for c in calls]
    names: set[ast.Expr] = set()
    for f in select.fields:
        if isinstance(f.expr, ast.Wildcard | ast.RegexLiteral):
            rx = re.compile(f.expr.pattern if isinstance(f.expr, ast.RegexLiteral) else "")
            hint = f.expr.type_hint if isinstance(f.expr, ast.Wildcard) else None
            for n, t in types.items():  # (*::field: fields only, *::tag: tags)
                if rx.search(n) and hint in (None, "field" if t != "tag" else "tag"):
                    names.add(ast.VarRef(n, t))
        names |= {typed(v) for v in _var_refs(f.expr)}
    shown = sorted(expr_text(v) for v in names)
    return ["EXPRESSION: <nil>", "AUXILIARY FIELDS: " + ", ".join(shown)]


def _calls(e: ast.Expr) -> list[ast.Call]:
    """The innermost calls of ``e``: what influxd makes an iterator of (derivative(mean(x))
    reads mean(x))."""
    if isinstance(e, ast.Call):
        inner = [c for a in e.args for c in _calls(a)]
        return inner or [e]
    if isinstance(e, ast.BinaryExpr):
        return _calls(e.lhs) + _calls(e.rhs)
    if isinstance(e, ast.ParenExpr):
        return _calls(e.expr)
    return []


def _var_refs(e: ast.Expr) -> list[ast.VarRef]:
    if isinstance(e, ast.VarRef):
        return [e]
    if isinstance(e, ast.BinaryExpr):
        return _var_refs(e.lhs) + _var_refs(e.rhs)
    if isinstance(e, ast.ParenExpr):
        return _var_refs(e.expr)
    return []


def _need_text(need: TableNeed) -> str:
    """A read of stored rows: the table, its columns, time range and tag conditions."""
    parts = [need.name]
    parts.append("all columns" if need.columns is None else ", ".join(sorted(need.columns)))
    lo = None if need.min_ns is None else _time(need.min_ns)
    hi = None if need.max_ns is None else _time(need.max_ns)
    if lo and hi:
        parts.append(f"time {lo} to {hi}")
    else:
        parts.append(f"time >= {lo}" if lo else f"time <= {hi}" if hi else "all time")
    for tag, values in sorted(need.values.items()):
        parts.append(f"{tag} in ({', '.join(repr(v) for v in sorted(values))})")
    parts += [" ".join(str(x) for x in c) for c in need.compare]
    return "; ".join(parts)


def _time(ns: int) -> str:
    return str(format_times(np.array([ns], dtype=np.int64), None)[0])


def _tree(steps: list[_Step], total_ns: int) -> list[str]:
    """EXPLAIN ANALYZE's lines, drawn as influxd draws its tree."""
    lines = [
        ".",
        "└── select",
        f"    {'├' if steps else '└'}── total_time: {go_duration_exact(total_ns)}",
    ]
    for i, step in enumerate(steps):
        last = i == len(steps) - 1
        lines.append(f"    {'└' if last else '├'}── {step.kind}")
        pad = "        " if last else "    │   "
        lines += [
            f"{pad}├── labels",
            f"{pad}│   └── {'statement' if step.kind == 'sql' else 'table'}: {step.what}",
            f"{pad}├── rows: {step.rows}",
            f"{pad}└── time: {go_duration_exact(step.ns)}",
        ]
    return [*lines, ""]


def go_duration_exact(ns: int) -> str:
    """Go's Duration.String: "25.001µs", "538.721µs", "1.5s", "1m2.5s"."""
    if ns < 1_000:
        return f"{ns}ns"
    for unit, size in (("µs", 1_000), ("ms", 1_000_000)):
        if ns < size * 1_000:
            return _decimal(ns, size) + unit
    minutes, rest = divmod(ns, 60 * 10**9)
    seconds = _decimal(rest, 10**9) + "s"
    return f"{minutes}m{seconds}" if minutes else seconds


def _decimal(ns: int, size: int) -> str:
    whole, frac = divmod(ns, size)
    digits = str(frac).rjust(len(str(size)) - 1, "0").rstrip("0")
    return f"{whole}.{digits}" if digits else str(whole)
