"""Running InfluxQL: parse, run each statement, collect 1.x results (a statement's error is
its result, not the request's)."""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, replace
from functools import partial
from typing import Any, Protocol

import numpy as np
import pyarrow as pa

from edge_common.errors import DatabaseNotFound, EdgeError, Forbidden, QueryError
from edge_common.schema import Catalog, DatabaseSchema
from edge_query.cancel import INTERRUPTED, Interrupted, interrupted_in
from edge_query.influxql import ast
from edge_query.influxql.arity import check_fields
from edge_query.influxql.explain import explain
from edge_query.influxql.into import result_of, to_line_protocol
from edge_query.influxql.lean import Points, lean_select
from edge_query.influxql.parser import InfluxQLError, dimension_problem, parse
from edge_query.influxql.policies import (
    change_continuous_query,
    change_policy,
    holding,
    measurements_of_every_policy,
    source_of,
    storages,
)
from edge_query.influxql.select import Fetch, Span, run_select
from edge_query.influxql.show import run_show
from edge_query.influxql.subquery import run_with_subquery
from edge_query.influxql.text import duration_text, read_only_warning, statement_text
from edge_query.influxql.translate import check_condition, split_condition
from edge_query.influxql.users import (
    check_admin_statements,
    is_user_statement,
    run_user_statement,
)
from edge_query.planner import TableNeed, TablePick

__all__ = ["InfluxQLContext", "run_influxql"]

# SHOW statements answered with an estimate of 0 for a database that does not exist
_ESTIMATES = frozenset(("SERIES CARDINALITY", "MEASUREMENT CARDINALITY"))
# SHOW statements about the server, not the rows of one database's retention policy
_SHOW_ANY = frozenset(
    (
        "DATABASES",
        "SHARDS",
        "SHARD GROUPS",
        "SUBSCRIPTIONS",
        "CONTINUOUS QUERIES",
        "RETENTION POLICIES",
    )
)


@dataclass
class InfluxQLContext:
    catalog: Callable[[bool], Catalog]  # the catalog (True: looked up again first)
    # (database, SQL, extra tables by name or None, first()/last() picks of a table) → rows
    run_sql: Callable[[str, str, dict[str, pa.Table] | None, TablePick | None], pa.Table]
    # (name, its default retention policy's settings: CREATE DATABASE … WITH) → made
    create_database: Callable[[str, dict[str, Any] | None], None]
    # (database, need) → the rows of one stored table, without SQL (influxql.direct)
    fetch: Callable[[str, TableNeed], pa.Table]
    readable: list[str] | None  # databases the caller may read; None: all
    now_ns: int
    go_floats: bool = True  # whole floats as ints, as the 1.x API writes them
    drop: Callable[[str, str | None], None] | None = None  # (database, table or None)
    writable: list[str] | None = None  # databases the caller may change; None: all
    write: Callable[[str, bytes], int] | None = None  # (database, line protocol) → points
    # (database, tables or None for all, tag predicate, min_ns, max_ns): rows removed
    delete: Callable[[str, list[str] | None, Any, int | None, int | None], None] | None = None
    read_only: bool = False  # sent with GET: a statement that changes something is warned
    diagnostics: Callable[[], list[dict[str, Any]]] | None = None  # SHOW DIAGNOSTICS
    # after a SELECT: whether the catalog it was answered from is still the newest (False:
    # the catalog was looked up again, and the SELECT is answered again). With False as its
    # argument it only forgets what the SELECT fetched (no answer to check)
    settled: Callable[[bool], bool] | None = None
    # the queries the gateway is running: [qid, text, database, ns running, worker, request id]
    running: list[list[Any]] | None = None
    kill: Callable[[int, Any], None] | None = None  # (worker, request id): KILL QUERY
    stats: list[list[Any]] | None = None  # SHOW STATS: [module, tags, values] (edge_gateway.stats)
    interrupted: bool = False  # a KILL QUERY stopped this request
    rp: str | None = None  # the request's retention policy, for sources naming none
    # a persister operation that changes the catalog: retention policies (create_policy,
    # alter_policy, drop_policy), continuous queries (create_continuous_query, drop_…)
    change_catalog: Callable[[dict[str, Any]], None] | None = None
    admin: bool = False  # the admin token or an admin user: may manage users
    # EXPLAIN: (database, SQL, extra tables) → its answer's schema and DataFusion's plan
    plan_sql: (
        Callable[[str, str, dict[str, pa.Table] | None], tuple[pa.Schema, list[str]]] | None
    ) = None
    who: str = "this token"  # the caller, as the gateway names it in messages
    user: str | None = None  # the caller's 1.x user name, if a user
    access_changed: bool = False  # users changed: the gateway looks them up again at once
    # (database, table, lo, hi) → the first and last time of its sources there and their
    # rows (no row read; None: no source): where a raw LIMIT starts reading (select.Span)
    span: Callable[[str, str, int | None, int | None], tuple[int, int, int] | None] | None = None
    # (database, then influxql.lean's Points) → the points of one field, as numpy: the
    # panel's question answered from them (None: only the general way)
    points: (
        Callable[
            [str, str, int, int, dict[str, list[str]], str],
            tuple[np.ndarray, np.ndarray] | None,
        ]
        | None
    ) = None

    def sees(self, db: str) -> bool:
        return self.readable is None or db in self.readable or "*" in self.readable

    def may_change(self, db: str) -> bool:
        return self.writable is None or db in self.writable or "*" in self.writable


_TOO_DEEP = (
    "statement nested too deeply to plan (a WHERE of a thousand ORs or more?): "
    "match the values with a regex, e.g. host =~ /^(a|b|c)$/"
)


def run_influxql(
    text: str, database: str | None, params: dict[str, Any] | None, ctx: InfluxQLContext
) -> list[dict[str, Any]]:
    """Results in the 1.x shape, one per statement run. A parse error fails the whole
    request; a statement's error is its answer, and the statements after it are not run
    (influxd 1.6.7 answers those no more, and shows "not executed" in place of the error
    of a statement that others follow: Edge shows the error)."""
    try:
        statements = parse(text, params, ctx.now_ns)
    except InfluxQLError as err:
        raise QueryError(str(err)) from None
    check_admin_statements(statements, ctx)
    results = []
    for i, stmt in enumerate(statements):
        result: dict[str, Any] = {"statement_id": i}
        try:
            series = _run(stmt, database, ctx)
            if series:
                result["series"] = series
            if ctx.read_only and (warning := read_only_warning(stmt, _database_of(stmt, database))):
                result["messages"] = [warning]
            if isinstance(stmt, ast.ShowStatement) and not _rows_chunked(stmt.what):
                result["_whole"] = True  # chunked: a series a message, unsplit (the renderer's)
            zone = getattr(stmt, "timezone", None)
            if zone not in (None, "", "UTC") and getattr(stmt, "into", None) is None:
                result["_tz"] = zone  # times shown in this zone (the renderer's business)
        except (Interrupted, Exception) as err:
            stop = interrupted_in(err)
            if stop is None and isinstance(err, EdgeError):
                result["error"] = err.message
                result["code"] = err.code  # for the v3 API's status; not part of the 1.x answer
            elif isinstance(err, RecursionError):  # (a WHERE of thousands of ORs, say)
                result["error"] = _TOO_DEEP
            elif stop is None:  # DataFusion's errors
                result["error"] = str(err).removeprefix("DataFusion error: ")
            if stop is None:  # the rest are not run, as influxd stops at an error
                results.append(result)
                break
            # KILL QUERY: this statement says so, the rest don't run
            stop.acknowledge()
            result = {"statement_id": i, "error": INTERRUPTED}
            ctx.interrupted = True
            results.append(result)
            break
        results.append(result)
    return results


def _listed_text(text: str) -> str:
    """A running query's text as influxd lists it: its statements as influxd writes them,
    one per line; as sent when that is not known (SQL, other SHOW statements)."""
    try:
        return ";\n".join(statement_text(s) for s in parse(text))
    except (InfluxQLError, ValueError):
        return text


def go_duration(ns: int) -> str:
    """How long a query has run, as influxd's SHOW QUERIES writes it: cut to whole seconds,
    else milliseconds, else microseconds, then Go's Duration.String ("46µs", "3s", "1m5s")."""
    for unit, name in ((1_000_000_000, ""), (1_000_000, "ms"), (1_000, "µs")):
        if ns >= unit:
            ns -= ns % unit
            if name:
                return f"{ns // unit}{name}"
            hours, rest = divmod(ns // unit, 3600)
            minutes, seconds = divmod(rest, 60)
            if hours:
                return f"{hours}h{minutes}m{seconds}s"
            return f"{minutes}m{seconds}s" if minutes else f"{seconds}s"
    return f"{ns}ns" if ns else "0s"


def _delete(
    stmt: ast.Delete | ast.DropSeries, database: str | None, ctx: InfluxQLContext
) -> list[dict[str, Any]]:
    """DELETE [FROM …] [WHERE tags and time] and DROP SERIES [FROM …] [WHERE tags]: in
    every retention policy of the database, as influxd's reach every shard."""
    if not database:
        raise QueryError("database name required")
    if not ctx.may_change(database):
        raise Forbidden(f"{ctx.who} may not change database {database!r}")
    catalog = ctx.catalog(True)
    if database not in catalog.databases:
        raise DatabaseNotFound(f"database not found: {database}")
    for storage in storages(catalog, database):
        _delete_in(stmt, storage, catalog.databases[storage], ctx)
    return []


def _delete_in(
    stmt: ast.Delete | ast.DropSeries, database: str, schema: DatabaseSchema, ctx: InfluxQLContext
) -> None:
    assert ctx.delete is not None
    tables = _named_tables(stmt.sources, schema) if stmt.sources else None
    residual, rng = split_condition(stmt.condition, ctx.now_ns)
    if isinstance(stmt, ast.DropSeries) and (rng.bounded_below or rng.bounded_above):
        raise QueryError("DROP SERIES doesn't support time in WHERE clause")
    fields = {n for t in schema.tables.values() for n, k in t.columns.items() if k.is_field}
    predicate = None if residual is None else _tag_predicate(residual, fields)
    if tables == []:
        return  # FROM names nothing that exists
    ctx.delete(
        database,
        tables,
        predicate,
        rng.lo if rng.bounded_below else None,
        rng.hi if rng.bounded_above else None,
    )


def _named_tables(sources: list[ast.Source], schema: DatabaseSchema) -> list[str]:
    names: set[str] = set()
    for src in sources:
        if isinstance(src, ast.Measurement) and src.regex is not None:
            rx = re.compile(src.regex)
            names |= {n for n in schema.tables if rx.search(n)}
        elif isinstance(src, ast.Measurement) and src.name in schema.tables:
            names.add(src.name)
    return sorted(names)


def _tag_predicate(e: ast.Expr, fields: set[str]) -> dict[str, Any]:
    """A condition on tags as the persister's JSON predicate (fields: 1.x's error)."""
    if isinstance(e, ast.ParenExpr):
        return _tag_predicate(e.expr, fields)
    if isinstance(e, ast.BinaryExpr) and e.op in ("AND", "OR"):
        return {
            "op": e.op.lower(),
            "args": [_tag_predicate(e.lhs, fields), _tag_predicate(e.rhs, fields)],
        }
    if (
        isinstance(e, ast.BinaryExpr)
        and e.op in ("=", "!=", "<>", "=~", "!~")
        and isinstance(e.lhs, ast.VarRef)
    ):
        if e.lhs.name in fields:
            raise QueryError("fields not supported in WHERE clause during deletion")
        op = "!=" if e.op == "<>" else e.op
        if isinstance(e.rhs, ast.RegexLiteral) and op in ("=~", "!~"):
            return {"op": op, "tag": e.lhs.name, "value": e.rhs.pattern}
        if isinstance(e.rhs, ast.StringLiteral) and op in ("=", "!="):
            return {"op": op, "tag": e.lhs.name, "value": e.rhs.value}
    names = {n for n in _names(e)}
    if names & fields:
        raise QueryError("fields not supported in WHERE clause during deletion")
    raise QueryError(f"unsupported condition in a deletion: {e}")


def _names(e: ast.Expr) -> list[str]:
    if isinstance(e, ast.VarRef):
        return [e.name]
    if isinstance(e, ast.BinaryExpr):
        return _names(e.lhs) + _names(e.rhs)
    if isinstance(e, ast.ParenExpr | ast.UnaryExpr):
        return _names(e.expr)
    return []


def _select_into(
    stmt: ast.SelectStatement, db: str, schema: DatabaseSchema, ctx: InfluxQLContext, home: str
) -> list[dict[str, Any]]:
    """``db``: where the rows are read; ``home``: the database the statement runs in."""
    assert stmt.into is not None
    into = stmt.into.database or home
    if not ctx.may_change(into):
        raise Forbidden(f"{ctx.who} may not write database {into!r}")
    target = holding(ctx, into, stmt.into.retention_policy)
    if ctx.write is None:
        raise QueryError("SELECT ... INTO needs a write path")
    # the values as stored (whole floats stay floats), not as the 1.x JSON shows them
    plain = replace(stmt, into=None)
    fetch, span = _fetch_of(ctx, db), _span_of(ctx, db)
    sql, reader = _sql_of(ctx, db), _reader(ctx, home)
    series = _select(plain, schema, sql, ctx.now_ns, False, fetch, span, reader=reader)
    body, points = to_line_protocol(series, stmt.into.name)
    return result_of(ctx.write(target, body) if points else 0)


class RunSql(Protocol):
    def __call__(
        self, sql: str, extra: dict[str, pa.Table] | None = None, pick: TablePick | None = None
    ) -> pa.Table: ...


def _sql_of(ctx: InfluxQLContext, db: str) -> RunSql:
    def run(
        sql: str, extra: dict[str, pa.Table] | None = None, pick: TablePick | None = None
    ) -> pa.Table:
        return ctx.run_sql(db, sql, extra, pick)

    return run


def _fetch_of(ctx: InfluxQLContext, db: str) -> Fetch:
    fetch = ctx.fetch
    return lambda need: fetch(db, need)


def _span_of(ctx: InfluxQLContext, db: str) -> Span | None:
    span = ctx.span
    return None if span is None else lambda name, lo, hi: span(db, name, lo, hi)


def _points_of(ctx: InfluxQLContext, db: str) -> Points | None:
    points = ctx.points
    if points is None:
        return None
    return lambda name, lo, hi, values, field: points(db, name, lo, hi, values, field)


def _select(
    stmt: ast.SelectStatement,
    schema: DatabaseSchema,
    run_sql: RunSql,
    now_ns: int,
    go_floats: bool,
    fetch: Fetch | None = None,
    span: Span | None = None,
    rows_are_points: bool = False,
    reader: Reader | None = None,
    points: Points | None = None,
) -> list[dict[str, Any]]:
    """A SELECT, over stored tables or over a subquery's answer (``rows_are_points``: see
    ``select.run_select``). ``reader``: where a subquery reads its stored tables (the
    database its FROM names); without one, where this statement reads. ``points``: the
    stored points as numpy, for the panel's question (``influxql.lean``)."""
    check_condition(stmt.condition)  # (influxd's order: WHERE, GROUP BY, then the fields)
    stmt = _reduced_time(stmt)
    if (problem := dimension_problem(stmt)) is not None:
        raise QueryError(problem)
    stmt = _without_empty_interval(stmt)
    check_fields(stmt)
    subquery = next((s for s in stmt.sources if isinstance(s, ast.SubQuery)), None)
    if subquery is not None:
        inner = None if reader is None else reader(subquery.statement)
        return run_with_subquery(
            stmt,
            schema,
            run_sql,
            partial(_select, reader=reader),
            now_ns,
            go_floats,
            fetch,
            span,
            inner,
        )

    if points is not None:
        found = lean_select(stmt, schema.tables, now_ns, go_floats, points)
        if found is not None:
            return found

    def stored(
        sql: str, pick: TablePick | None = None, extra: dict[str, pa.Table] | None = None
    ) -> pa.Table:
        return run_sql(sql, extra, pick)

    return run_select(stmt, schema, stored, now_ns, go_floats, fetch, span, rows_are_points)


def _reduced_time(stmt: ast.SelectStatement) -> ast.SelectStatement:
    """GROUP BY time()'s arguments with their arithmetic of durations worked out, as influxd
    reduces them before it looks at them: time(10m - 1m) is time(9m)."""
    dims = [
        ast.Dimension(replace(d.expr, args=tuple(_duration_of(a) for a in d.expr.args)))
        if isinstance(d.expr, ast.Call) and d.expr.name == "time"
        else d
        for d in stmt.dimensions
    ]
    return stmt if dims == list(stmt.dimensions) else replace(stmt, dimensions=dims)


def _duration_of(e: ast.Expr) -> ast.Expr:
    """A duration made of durations and numbers (+ and - of two durations, a duration * or
    / a number: not a number * a duration, which influxd leaves), else ``e`` as it is."""
    if isinstance(e, ast.ParenExpr):
        inner = _duration_of(e.expr)
        return inner if isinstance(inner, ast.DurationLiteral) else e
    if not isinstance(e, ast.BinaryExpr):
        return e
    a, b = _duration_of(e.lhs), _duration_of(e.rhs)
    number = (ast.IntegerLiteral, ast.NumberLiteral)
    ns: int | None = None
    if isinstance(a, ast.DurationLiteral) and isinstance(b, ast.DurationLiteral):
        ns = {"+": a.ns + b.ns, "-": a.ns - b.ns}.get(e.op)
    elif isinstance(a, ast.DurationLiteral) and isinstance(b, number):
        k = int(b.value)  # (influxd makes the number whole first: 10m * 1.5 is 10m)
        if e.op == "*":
            ns = a.ns * k
        elif e.op == "/":  # toward zero, as Go divides; by zero: no interval
            ns = 0 if k == 0 else (abs(a.ns) // abs(k)) * (1 if (a.ns < 0) == (k < 0) else -1)
    return e if ns is None else ast.DurationLiteral(ns, duration_text(ns))


def _without_empty_interval(stmt: ast.SelectStatement) -> ast.SelectStatement:
    """GROUP BY time() of no time (0s) groups by no time, as in influxd; of a negative one,
    aggregates are over the whole range as well, and raw rows are refused."""
    kept, dropped = [], []
    for d in stmt.dimensions:
        every = d.expr.args[0] if isinstance(d.expr, ast.Call) and d.expr.name == "time" else None
        if isinstance(every, ast.DurationLiteral) and every.ns <= 0:
            dropped.append(every.ns)
        else:
            kept.append(d)
    if not dropped:
        return stmt
    if min(dropped) < 0 and not any(isinstance(f.expr, ast.Call) for f in stmt.fields):
        raise QueryError("GROUP BY requires at least one aggregate function")
    return replace(stmt, dimensions=kept)


# where a SELECT reads: its stored tables' schema, and their SQL, fetch and span
Reading = tuple[DatabaseSchema, RunSql, Fetch, Span | None]
Reader = Callable[[ast.SelectStatement], Reading]


def _storage(stmt: ast.SelectStatement, database: str | None, ctx: InfluxQLContext) -> str:
    """The database holding the rows a SELECT reads: of the measurements its FROM names
    (each must exist and be readable), else of its subquery's. influxd reads measurements
    of several databases or policies in one FROM; Edge refuses that plainly."""
    held = []
    for src in stmt.sources:
        if isinstance(src, ast.Measurement):
            home = src.database or database
            if not home:
                raise QueryError("database name required")
            held.append(holding(ctx, home, src.retention_policy))
    if len(set(held)) > 1:
        raise QueryError(
            "measurements of more than one database or retention policy in one FROM are not "
            "supported yet: ask each apart"
        )
    if held:
        return held[0]
    sub = next((s for s in stmt.sources if isinstance(s, ast.SubQuery)), None)
    if sub is not None:
        return _storage(sub.statement, database, ctx)
    home, rp = source_of(stmt, database)
    if not home:
        raise QueryError("database name required")
    return holding(ctx, home, rp)


def _reader(ctx: InfluxQLContext, database: str | None) -> Reader:
    """Where each (inner) SELECT reads: the database its own FROM names, else the
    request's (as influxd: not the outer statement's)."""

    def read(stmt: ast.SelectStatement) -> Reading:
        db = _storage(stmt, database, ctx)
        schema = ctx.catalog(False).databases.get(db) or ctx.catalog(True).databases.get(db)
        if schema is None:  # a policy that holds no rows yet
            schema = DatabaseSchema(db, {})
        return schema, _sql_of(ctx, db), _fetch_of(ctx, db), _span_of(ctx, db)

    return read


def _database_of(stmt: ast.Statement, database: str | None) -> str | None:
    if isinstance(stmt, ast.SelectStatement):
        for src in stmt.sources:
            if isinstance(src, ast.Measurement) and src.database:
                return src.database
    return database


def _rows_chunked(what: str) -> bool:
    """Whether influxd splits this SHOW's series into chunks of rows, as a SELECT's: those
    it runs as a SELECT over its system iterators. The others (TAG KEYS, TAG VALUES,
    MEASUREMENTS, DATABASES, …) come a series a message, whole, never partial."""
    return what in ("SERIES", "FIELD KEYS") or what.endswith("CARDINALITY")


def _run(stmt: ast.Statement, database: str | None, ctx: InfluxQLContext) -> list[dict[str, Any]]:
    if is_user_statement(stmt):
        return run_user_statement(stmt, ctx)
    if isinstance(stmt, ast.Explain):
        return explain(stmt, database, ctx, lambda select, c: _run(select, database, c))
    if isinstance(stmt, ast.ShowStatement) and stmt.what == "QUERIES":
        if not ctx.sees("*"):
            raise Forbidden("SHOW QUERIES needs a token that may read every database")
        values = [
            [q[0], _listed_text(q[1]), q[2], go_duration(q[3]), "running"]
            for q in ctx.running or ()
        ]
        listing: dict[str, Any] = {"columns": ["qid", "query", "database", "duration", "status"]}
        return [listing | {"values": values}] if values else [listing]
    if isinstance(stmt, ast.ShowStatement) and stmt.what == "STATS":
        if not ctx.sees("*"):
            raise Forbidden("SHOW STATS needs a token that may read every database")
        if ctx.stats is None:  # (the gateway sends them with every request that may ask)
            raise QueryError("no statistics came with this request")
        return [  # columns in name order, as influxd's
            {"name": name, **({"tags": tags} if tags else {})}
            | {"columns": sorted(values), "values": [[values[k] for k in sorted(values)]]}
            for name, tags, values in ctx.stats
            if stmt.module in (None, name)
        ]
    if isinstance(stmt, ast.KillQuery):
        if not ctx.may_change("*"):
            raise Forbidden("KILL QUERY needs a token that may change every database")
        named = [q for q in ctx.running or () if q[0] == stmt.qid]
        if not named or ctx.kill is None:
            raise QueryError(f"no such query id: {stmt.qid}")
        ctx.kill(named[0][4], named[0][5])
        return []
    if isinstance(stmt, ast.ShowStatement) and stmt.what == "DIAGNOSTICS":
        if ctx.diagnostics is None or not ctx.sees("*"):
            raise Forbidden("SHOW DIAGNOSTICS needs a token that may read every database")
        return ctx.diagnostics()
    if isinstance(stmt, ast.ShowStatement):
        target = stmt.database or database
        if stmt.what != "DATABASES" and target is not None and not ctx.sees(target):
            raise DatabaseNotFound(f"database not found: {target}")
        if stmt.what == "MEASUREMENTS" and target is not None and ctx.rp is None:
            return measurements_of_every_policy(stmt, target, ctx)
        if stmt.what in _ESTIMATES and not stmt.exact and target not in ctx.catalog(True).databases:
            return [{"columns": ["cardinality estimation"], "values": [[0]]}]  # as influxd's
        if stmt.what not in _SHOW_ANY and target is not None:
            # what a policy's rows show: of the one FROM names, else the default's
            storage = holding(ctx, target, source_of(stmt, target)[1])
            if storage not in ctx.catalog(False).databases:
                return []  # a policy that holds no rows yet
            stmt, database = replace(stmt, database=None), storage
        return run_show(
            stmt,
            ctx.catalog(True),
            database,
            lambda db, sql: ctx.run_sql(db, sql, None, None),
            ctx.fetch,
            ctx.now_ns,
            ctx.sees,
        )
    if isinstance(stmt, ast.CreateDatabase):
        if not ctx.may_change(stmt.name):
            raise Forbidden(f"{ctx.who} may not create database {stmt.name!r}")
        ctx.create_database(stmt.name, stmt.policy)
        return []
    if isinstance(
        stmt, ast.CreateRetentionPolicy | ast.AlterRetentionPolicy | ast.DropRetentionPolicy
    ):
        return change_policy(stmt, ctx)
    if isinstance(stmt, ast.CreateContinuousQuery | ast.DropContinuousQuery):
        return change_continuous_query(stmt, ctx)
    if isinstance(stmt, ast.DropDatabase) and ctx.drop is not None:
        if not ctx.may_change(stmt.name):
            raise Forbidden(f"{ctx.who} may not change database {stmt.name!r}")
        ctx.drop(stmt.name, None)  # (with the databases of its policies)
        return []
    if isinstance(stmt, ast.DropMeasurement) and ctx.drop is not None:
        if not database:
            raise QueryError("database name required")
        if not ctx.may_change(database):
            raise Forbidden(f"{ctx.who} may not change database {database!r}")
        catalog = ctx.catalog(True)
        if database not in catalog.databases:
            raise DatabaseNotFound(f"database not found: {database}")
        for storage in storages(catalog, database):  # every policy's, as influxd's shards
            ctx.drop(storage, stmt.name)
        return []
    if isinstance(stmt, ast.Delete | ast.DropSeries) and ctx.delete is not None:
        return _delete(stmt, database, ctx)
    if isinstance(stmt, ast.SelectStatement):
        home = source_of(stmt, database)[0]
        db = _storage(stmt, database, ctx)
        schema = ctx.catalog(False).databases.get(db)
        if schema is None:
            schema = ctx.catalog(True).databases.get(db)
        if schema is None:
            return []  # a policy that holds no rows yet
        if stmt.into is not None:  # writes: answered once, from the newest catalog
            schema = ctx.catalog(True).databases.get(db) or schema
            runs_in = database or home  # (where INTO names no database, it writes there)
            if not runs_in:
                raise QueryError("database name required")
            series = _select_into(stmt, db, schema, ctx, runs_in)
            if ctx.settled is not None:
                ctx.settled(False)
            return series
        for _ in range(2):
            fetch, span = _fetch_of(ctx, db), _span_of(ctx, db)
            try:
                series = _select(
                    stmt,
                    schema,
                    _sql_of(ctx, db),
                    ctx.now_ns,
                    ctx.go_floats,
                    fetch,
                    span,
                    reader=_reader(ctx, database),
                    points=_points_of(ctx, db),
                )
            except Exception:
                if ctx.settled is not None:
                    ctx.settled(False)
                raise
            if ctx.settled is None or ctx.settled(True):
                break
            schema = ctx.catalog(False).databases.get(db)
            if schema is None:
                raise DatabaseNotFound(f"database not found: {db}")
        return series
    name = type(stmt).__name__
    raise QueryError(f"{name} statements are not supported yet")
