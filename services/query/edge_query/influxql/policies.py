"""Retention policies in statements: which database holds the rows a statement names
(``db.rp.m``, ``rp.m``, the request's ``rp``, else the database's default; see
``edge_common.retention``), and CREATE / ALTER / DROP RETENTION POLICY."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from edge_common.errors import DatabaseNotFound, Forbidden, QueryError
from edge_common.retention import storage_name
from edge_common.schema import Catalog
from edge_query.influxql import ast
from edge_query.influxql.parser import parse
from edge_query.influxql.select import interval_of
from edge_query.influxql.show import run_show
from edge_query.influxql.text import continuous_text, statement_text

if TYPE_CHECKING:
    from edge_query.influxql.executor import InfluxQLContext

__all__ = [
    "change_continuous_query",
    "change_policy",
    "continuous_run",
    "holding",
    "measurements_of_every_policy",
    "source_of",
    "storages",
]


def holding(ctx: InfluxQLContext, db: str, rp: str | None) -> str:
    """The database holding the rows of ``db``'s retention policy ``rp`` (None: the
    request's, else ``db``'s default); ``db`` must exist and be readable, ``rp`` exist."""
    rp = rp or ctx.rp
    catalog = ctx.catalog(False)
    owner = catalog.databases.get(db)
    if owner is None or (rp is not None and rp not in owner.retention_policies()):
        catalog = ctx.catalog(True)  # made since this copy was taken?
        owner = catalog.databases.get(db)
    # (a policy's own database, "db/rp" as InfluxDB 3 names it, is read as a database)
    if owner is None or not ctx.sees(db):
        raise DatabaseNotFound(f"database not found: {db}")
    if rp is not None and rp not in owner.retention_policies():
        raise QueryError(f"retention policy not found: {rp}")
    return catalog.storage(db, rp)


def storages(catalog: Catalog, db: str) -> list[str]:
    """The databases holding the rows of each of ``db``'s policies (those holding any)."""
    d = catalog.databases[db]
    named = [storage_name(db, rp) for rp in d.retention_policies()]
    return [n for n in dict.fromkeys([db, *named]) if n in catalog.databases]


def source_of(stmt: ast.Statement, database: str | None) -> tuple[str | None, str | None]:
    """(database, retention policy) of a statement's first measurement; the request's
    database when it names none."""
    for src in getattr(stmt, "sources", ()):
        if isinstance(src, ast.Measurement):
            return src.database or database, src.retention_policy
    return getattr(stmt, "database", None) or database, None


def change_policy(stmt: ast.Statement, ctx: InfluxQLContext) -> list[dict[str, Any]]:
    """CREATE / ALTER / DROP RETENTION POLICY (the persister checks as influxd does)."""
    assert isinstance(
        stmt, ast.CreateRetentionPolicy | ast.AlterRetentionPolicy | ast.DropRetentionPolicy
    )
    change = _changer(ctx, stmt.database)
    op: dict[str, Any] = {"db": stmt.database, "name": stmt.name}
    if isinstance(stmt, ast.DropRetentionPolicy):
        op["op"] = "drop_policy"
    else:
        op["op"] = (
            "create_policy" if isinstance(stmt, ast.CreateRetentionPolicy) else "alter_policy"
        )
        op["default"] = stmt.default
        op["policy"] = {
            "name": stmt.name,
            "duration_ns": stmt.duration_ns,
            "shard_duration_ns": stmt.shard_duration_ns,
            "replication": stmt.replication,
        }
    change(op)
    return []


def measurements_of_every_policy(
    stmt: ast.ShowStatement, db: str, ctx: InfluxQLContext
) -> list[dict[str, Any]]:
    """SHOW MEASUREMENTS without a policy named: those of every policy, as influxd's (one
    index per database) lists them (a Grafana user picks the policy after the measurement)."""
    catalog = ctx.catalog(True)
    if db not in catalog.databases:
        return []  # (influxd 1.6.7 answers so, where SHOW TAG KEYS says the database is not found)
    names: set[str] = set()
    whole = dataclasses.replace(stmt, database=None, limit=None, offset=None)
    for storage in storages(catalog, db):
        for series in run_show(
            whole,
            catalog,
            storage,
            lambda d, sql: ctx.run_sql(d, sql, None, None),
            ctx.fetch,
            ctx.now_ns,
            ctx.sees,
        ):
            names.update(row[0] for row in series["values"])
    lo = stmt.offset or 0
    values = [[n] for n in sorted(names)][lo : None if stmt.limit is None else lo + stmt.limit]
    return [{"name": "measurements", "columns": ["name"], "values": values}] if values else []


def change_continuous_query(
    stmt: ast.CreateContinuousQuery | ast.DropContinuousQuery, ctx: InfluxQLContext
) -> list[dict[str, Any]]:
    """CREATE / DROP CONTINUOUS QUERY. A new one is kept as influxd lists it, its
    measurements named with the database and its default retention policy (edge_gateway's
    continuous querier runs it)."""
    change = _changer(ctx, stmt.database)
    op: dict[str, Any] = {"db": stmt.database, "name": stmt.name}
    if isinstance(stmt, ast.DropContinuousQuery):
        change({**op, "op": "drop_continuous_query"})
        return []
    owner = ctx.catalog(True).databases.get(stmt.database)
    policy = owner.default_policy if owner is not None else "autogen"
    interval, offset = next(
        interval_of(d.expr, ctx.now_ns)
        for d in stmt.select.dimensions
        if isinstance(d.expr, ast.Call) and d.expr.name == "time"
    )
    query = {
        "query": continuous_text(stmt, policy),
        "interval": interval,
        "offset": offset,
        "every": stmt.every_ns,
        "for": stmt.for_ns,
    }
    change({**op, "op": "create_continuous_query", "query": query})
    return []


def _changer(ctx: InfluxQLContext, db: str) -> Callable[[dict[str, Any]], None]:
    """How a statement that changes ``db``'s catalog entry reaches the persister, once the
    caller may change ``db``."""
    if not ctx.may_change(db):
        raise Forbidden(f"{ctx.who} may not change database {db!r}")
    if ctx.change_catalog is None:
        raise QueryError("the catalog cannot be changed here")
    return ctx.change_catalog


def continuous_run(catalog: Catalog, db: str, name: str, start_ns: int, end_ns: int) -> str:
    """The text of one run of continuous query ``name`` of ``db``: its SELECT … INTO over
    ``start_ns <= time < end_ns`` (the gateway's continuous querier picks the window)."""
    d = catalog.databases.get(db)
    held = None if d is None else d.continuous_queries.get(name)
    if held is None:
        raise QueryError(f"continuous query not found: {name}")
    stmt = parse(str(held["query"]))[0]
    assert isinstance(stmt, ast.CreateContinuousQuery)
    select = stmt.select
    time = ast.VarRef("time")
    window = ast.BinaryExpr(
        "AND",
        ast.BinaryExpr(">=", time, ast.IntegerLiteral(start_ns)),
        ast.BinaryExpr("<", time, ast.IntegerLiteral(end_ns)),
    )
    if select.condition is not None:
        window = ast.BinaryExpr("AND", ast.ParenExpr(select.condition), window)
    return statement_text(dataclasses.replace(select, condition=window))
