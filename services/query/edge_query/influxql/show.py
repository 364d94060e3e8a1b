"""SHOW statements over the catalog and the data, as 1.x answers them (over all time)."""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Callable
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc

from edge_common.errors import DatabaseNotFound, QueryError
from edge_common.picks import Pick
from edge_common.retention import go_duration
from edge_common.schema import Catalog, ColumnType, DatabaseSchema, TableSchema
from edge_query.influxql import ast
from edge_query.influxql.arity import go_name
from edge_query.influxql.direct import (
    regex_resolver,
    tag_equalities,
    tag_texts,
    tag_values,
    texts_in,
)
from edge_query.influxql.text import escape_key, escape_measurement
from edge_query.influxql.translate import (
    check_condition,
    quote_ident,
    split_condition,
    where_sql,
)
from edge_query.planner import TableNeed

__all__ = ["run_show"]

Series = dict[str, Any]


# (db, sql) → rows
RunSql = Callable[[str, str], pa.Table]
# (database, what to fetch of one table) → its rows, without SQL (as influxql.direct)
Fetch = Callable[[str, TableNeed], pa.Table]


def _tag_texts(fetch: Fetch, db: str, table: TableSchema, key: str) -> pa.Array:
    return tag_texts(lambda need: fetch(db, need), table.name, key)


def _tag_values(fetch: Fetch, db: str, table: str, key: str) -> list[str]:
    """``direct.tag_values`` of a table of ``db`` (SHOW TAG VALUES was ~3.4 ms through
    DataFusion, for what a set does)."""
    return tag_values(lambda need: fetch(db, need), table, key)


_FIELD_TYPE = {
    ColumnType.FLOAT: "float",
    ColumnType.INTEGER: "integer",
    ColumnType.UINTEGER: "unsigned",
    ColumnType.STRING: "string",
    ColumnType.BOOLEAN: "boolean",
}


def _page(values: list[Any], stmt: ast.ShowStatement) -> list[Any]:
    lo = stmt.offset or 0
    return values[lo : None if stmt.limit is None else lo + stmt.limit]


def _measurements(stmt: ast.ShowStatement, db: DatabaseSchema) -> list[TableSchema]:
    names = sorted(db.tables)
    if stmt.sources:
        wanted: set[str] = set()
        for src in stmt.sources:
            if isinstance(src, ast.Measurement) and src.regex is not None:
                wanted |= {n for n in names if re.search(src.regex, n)}
            elif isinstance(src, ast.Measurement) and src.name is not None:
                wanted.add(src.name)
        names = [n for n in names if n in wanted]
    return [db.tables[n] for n in names]


def _where(stmt: ast.ShowStatement, table: TableSchema, now_ns: int) -> str | None:
    residual, rng = split_condition(stmt.condition, now_ns)
    return where_sql(residual, rng, table, now_ns)


_SHARD_COLUMNS = [
    "id",
    "database",
    "retention_policy",
    "shard_group",
    "start_time",
    "end_time",
    "expiry_time",
    "owners",
]
_SHARD_GROUP_COLUMNS = [
    "id",
    "database",
    "retention_policy",
    "start_time",
    "end_time",
    "expiry_time",
]


def run_show(
    stmt: ast.ShowStatement,
    catalog: Catalog,
    database: str | None,
    run_sql: RunSql,
    fetch: Fetch,
    now_ns: int,
    sees: Callable[[str], bool],
) -> list[Series]:
    what = stmt.what
    # the databases of the 1.x API: not those holding another's retention policy's rows
    names = (
        [n for n in sorted(catalog.databases) if sees(n) and not catalog.is_policy_storage(n)]
        if what in ("DATABASES", "SHARDS", "CONTINUOUS QUERIES")
        else []
    )
    if what == "DATABASES":  # (no "values" when there are none, as influxd's)
        listing: Series = {"name": "databases", "columns": ["name"]}
        return [listing | {"values": [[n] for n in names]} if names else listing]
    # Edge keeps no shards (each table's files are its own, by ten-minute window) and has
    # no subscriptions (its persist events are another mechanism): influxd's empty answers
    if what == "SHARDS":
        return [{"name": n, "columns": _SHARD_COLUMNS} for n in names]
    if what == "SHARD GROUPS":
        return [{"name": "shard groups", "columns": _SHARD_GROUP_COLUMNS}]
    if what == "SUBSCRIPTIONS":
        return []
    if what == "CONTINUOUS QUERIES":  # a series per database, as influxd's (values if any)
        out: list[Series] = []
        for n in names:
            queries = catalog.databases[n].continuous_queries
            out.append({"name": n, "columns": ["name", "query"]})
            if queries:
                out[-1]["values"] = [[k, v["query"]] for k, v in queries.items()]
        return out
    dbname = stmt.database or database
    if not dbname:
        raise QueryError("database name required")
    db = catalog.databases.get(dbname)
    if db is None:
        raise DatabaseNotFound(f"database not found: {dbname}")
    if what == "RETENTION POLICIES":  # in the order they were made, as influxd's
        return [
            {
                "columns": ["name", "duration", "shardGroupDuration", "replicaN", "default"],
                "values": [
                    [
                        name,
                        go_duration(p.duration_ns),
                        go_duration(p.shard_duration_ns),
                        p.replication,
                        name == db.default_policy,
                    ]
                    for name, p in db.retention_policies().items()
                ],
            }
        ]
    if what not in ("TAG KEYS", "TAG VALUES"):  # (influxd reads those of the query's)
        for src in stmt.sources:
            other = src.database if isinstance(src, ast.Measurement) else None
            if other and other not in catalog.databases:
                raise DatabaseNotFound(f"database not found: {other}")
    tables = _measurements(stmt, db)
    if what != "MEASUREMENTS":  # (influxd runs the others as SELECTs: their WHERE checked so)
        check_condition(stmt.condition)
    if what == "MEASUREMENTS":
        if stmt.condition is None:
            found = [t.name for t in tables]
        else:
            if _has_time(stmt.condition):
                raise QueryError("SHOW MEASUREMENTS doesn't support time in WHERE clause")
            named = _named_by(stmt.condition, tables, lambda t, k: _tag_texts(fetch, dbname, t, k))
            found = [t.name for t in tables if t.name in named]
        if stmt.with_measurement is not None:
            found = [n for n in found if _name_matches(stmt.with_measurement, n)]
        values = _page([[n] for n in found], stmt)
        return [{"name": "measurements", "columns": ["name"], "values": values}] if values else []
    if what == "FIELD KEYS":  # (LIMIT and OFFSET page each measurement's keys)
        out = []
        for t in tables:
            rows = _page([[n, _FIELD_TYPE[k]] for n, k in _field_keys(t)], stmt)
            if rows:
                out.append({"name": t.name, "columns": ["fieldKey", "fieldType"], "values": rows})
        return out
    if what == "TAG KEYS":  # (LIMIT and OFFSET page each measurement's keys)
        out = []
        for t in tables:
            values = _page([[k] for k in _tag_keys(t, stmt, dbname, run_sql, now_ns)], stmt)
            if values:
                out.append({"name": t.name, "columns": ["tagKey"], "values": values})
        return out
    if what == "TAG VALUES":
        out = []
        for t in tables:
            pairs = _page(_tag_pairs(t, stmt, dbname, run_sql, fetch, now_ns), stmt)
            if pairs:
                out.append({"name": t.name, "columns": ["key", "value"], "values": pairs})
        return out
    if what == "SERIES":
        keys: list[list[str]] = []
        for t in tables:
            keys += [[k] for k in _series_keys(t, stmt, dbname, run_sql, fetch, now_ns)]
        values = _page(keys, stmt)
        return [{"columns": ["key"], "values": values}] if values else []
    if what.endswith("CARDINALITY"):
        return _cardinality(stmt, tables, dbname, run_sql, fetch, now_ns)
    raise QueryError(f"SHOW {what} is not supported")


def _field_keys(t: TableSchema) -> list[tuple[str, ColumnType]]:
    return [(n, k) for n, k in sorted(t.columns.items()) if k.is_field]


def _tag_keys(
    t: TableSchema, stmt: ast.ShowStatement, db: str, run_sql: RunSql, now_ns: int
) -> list[str]:
    """The tag keys of ``t``; under a WHERE, those the series it matches hold."""
    names = sorted(t.tag_names)
    where = _where(stmt, t, now_ns) if stmt.condition is not None else None
    if where is not None and names:
        held = ", ".join(f"count({quote_ident(k)}) AS {quote_ident(k)}" for k in names)
        counts = run_sql(db, f"SELECT {held} FROM {quote_ident(t.name)} WHERE {where}")
        names = [k for k in names if counts.column(k)[0].as_py()]
    return names


def _tag_pairs(
    t: TableSchema, stmt: ast.ShowStatement, db: str, run_sql: RunSql, fetch: Fetch, now_ns: int
) -> list[list[str]]:
    """SHOW TAG VALUES' [key, value] pairs of ``t``, by key and value."""
    pairs: list[list[str]] = []
    allowed = _tag_condition(stmt, t, now_ns, fetch, db)
    series = None  # a row per series, when a WHERE on tags asks for them
    for k in [k for k in sorted(t.tag_names) if _key_matches(stmt.with_key, k)]:
        if allowed == {}:
            pairs += [[k, v] for v in _tag_values(fetch, db, t.name, k)]
            continue
        if allowed is not None:
            if series is None:
                series = _series_rows(fetch, db, t, allowed)
            pairs += [[k, v] for v in texts_in(series, k)]
            continue
        where = _where(stmt, t, now_ns)
        rows = run_sql(
            db,
            f"SELECT DISTINCT CAST({quote_ident(k)} AS VARCHAR) AS v "
            f"FROM {quote_ident(t.name)} WHERE {quote_ident(k)} IS NOT NULL "
            f"AND {where} ORDER BY v",
        )
        pairs += [[k, v] for v in rows.column("v").to_pylist()]
    return pairs


def _tags_held(cond: ast.Expr, t: TableSchema) -> ast.Expr:
    """``cond`` with each comparison of a tag holding only for series that have the tag: as
    influxd counts TAG VALUES CARDINALITY (``svc != 'api'`` leaves out a series without
    svc, which SHOW TAG VALUES keeps)."""
    if isinstance(cond, ast.ParenExpr):
        return ast.ParenExpr(_tags_held(cond.expr, t))
    if not isinstance(cond, ast.BinaryExpr):
        return cond
    if cond.op in ("AND", "OR"):
        return ast.BinaryExpr(cond.op, _tags_held(cond.lhs, t), _tags_held(cond.rhs, t))
    lhs = cond.lhs
    if (
        cond.op in ("=", "!=", "=~", "!~")
        and isinstance(lhs, ast.VarRef)
        and lhs.name.lower() != "time"
        and not (lhs.name in t.columns and t.columns[lhs.name].is_field)
    ):
        present = ast.BinaryExpr("!=", ast.VarRef(lhs.name), ast.StringLiteral(""))
        return ast.ParenExpr(ast.BinaryExpr("AND", cond, present))
    return cond


def _has_time(cond: ast.Expr) -> bool:
    """Whether ``cond`` compares ``time`` (influxd's HasTimeExpr: on the left, under AND, OR
    and parentheses)."""
    if isinstance(cond, ast.ParenExpr):
        return _has_time(cond.expr)
    if isinstance(cond, ast.BinaryExpr):
        if cond.op in ("AND", "OR"):
            return _has_time(cond.lhs) or _has_time(cond.rhs)
        return isinstance(cond.lhs, ast.VarRef) and cond.lhs.name.lower() == "time"
    return False


def _named_by(
    cond: ast.Expr,
    tables: list[TableSchema],
    texts_of: Callable[[TableSchema, str], pa.Array],
) -> set[str]:
    """The measurements SHOW MEASUREMENTS' WHERE names, as influxd's index names them: not
    by series but by measurement. A comparison names each measurement holding the tag
    key: ``=`` and ``=~`` when one of its values matches, ``!=`` and ``!~`` when none does
    (a measurement without the key is never named); AND and OR intersect and join those
    sets. ``_name`` compares the measurement's name. (``host = 'h1' AND region = 'us'``
    names cpu when some series has host h1 and another region us.)"""
    if isinstance(cond, ast.ParenExpr):
        return _named_by(cond.expr, tables, texts_of)
    if not isinstance(cond, ast.BinaryExpr):
        raise QueryError(_go_syntax(cond))
    op = cond.op
    if op in ("AND", "OR"):
        lhs, rhs = _named_by(cond.lhs, tables, texts_of), _named_by(cond.rhs, tables, texts_of)
        return lhs & rhs if op == "AND" else lhs | rhs
    if op not in ("=", "!=", "=~", "!~"):
        raise QueryError("invalid tag comparison operator")
    if not isinstance(cond.lhs, ast.VarRef):
        raise QueryError(f"left side of '{op}' must be a tag key")
    regex = op in ("=~", "!~")
    if regex and not isinstance(cond.rhs, ast.RegexLiteral):
        raise QueryError(f"right side of '{op}' must be a regular expression")
    if not regex and not isinstance(cond.rhs, ast.StringLiteral):
        raise QueryError(f"right side of '{op}' must be a tag value string")
    key = cond.lhs.name
    if key == "_name":
        return {t.name for t in tables if _name_matches(cond, t.name)}
    named = set()
    for t in tables:
        if key not in t.tag_names:
            continue
        texts = texts_of(t, key)
        if not len(texts):
            continue  # (no series holds the key any more)
        if isinstance(cond.rhs, ast.RegexLiteral):
            hit = bool(pc.any(pc.match_substring_regex(texts, cond.rhs.pattern)).as_py())
        else:
            assert isinstance(cond.rhs, ast.StringLiteral)
            hit = pc.index(texts, cond.rhs.value).as_py() >= 0
        if hit == (op in ("=", "=~")):
            named.add(t.name)
    return named


def _go_syntax(expr: ast.Expr) -> str:
    """A WHERE that is no comparison, as influxd's error shows it (Go's ``%#v``)."""
    if isinstance(expr, ast.VarRef):
        return f'&influxql.VarRef{{Val:"{expr.name}", Type:0}}'
    if isinstance(expr, ast.StringLiteral):
        value = f'"{expr.value}"'
    elif isinstance(expr, ast.BoolLiteral | ast.IntegerLiteral):
        value = str(expr.value).lower()
    else:
        return f"unsupported expression in WHERE: {expr}"
    return f"&influxql.{go_name(expr)}{{Val:{value}}}"


def _tag_condition(
    stmt: ast.ShowStatement, table: TableSchema, now_ns: int, fetch: Fetch, db: str
) -> dict[str, set[str]] | None:
    """The values a WHERE of tag equalities and regexes on tags (``direct.tag_equalities``'s
    forms) allows each tag of ``table``, {} without WHERE; None when it holds anything else
    (SQL answers)."""
    residual, rng = split_condition(stmt.condition, now_ns)
    if rng.bounded_below or rng.bounded_above:
        return None
    return tag_equalities(residual, table, regex_resolver(lambda need: fetch(db, need), table))


def _series_rows(
    fetch: Fetch, db: str, table: TableSchema, allowed: dict[str, set[str]]
) -> pa.Table:
    """A row per series of ``table`` (at least one; one from each source holding it) whose
    tags take ``allowed`` values: what SHOW SERIES and SHOW TAG VALUES … WHERE need."""
    tags = tuple(sorted(table.tag_names))
    need = TableNeed(table.name, set(tags), values=allowed, pick=Pick("series", tags))
    return fetch(db, need)


def _has_rows(
    t: TableSchema, stmt: ast.ShowStatement, db: str, run_sql: RunSql, fetch: Fetch, now_ns: int
) -> bool:
    where = _where(stmt, t, now_ns)
    if where is None:
        return True
    allowed = _tag_condition(stmt, t, now_ns, fetch, db) if t.tag_names else None
    if allowed is not None:
        return _series_rows(fetch, db, t, allowed).num_rows > 0
    rows = run_sql(db, f"SELECT 1 AS x FROM {quote_ident(t.name)} WHERE {where} LIMIT 1")
    return rows.num_rows > 0


def _series_keys(
    t: TableSchema, stmt: ast.ShowStatement, db: str, run_sql: RunSql, fetch: Fetch, now_ns: int
) -> list[str]:
    if not t.tag_names:
        return (
            [escape_measurement(t.name)] if _has_rows(t, stmt, db, run_sql, fetch, now_ns) else []
        )
    rows = _distinct_series(t, stmt, db, run_sql, fetch, now_ns)
    tags = sorted(rows.column_names, key=escape_key)  # (in a key: by their escaped texts)
    data = {k: rows.column(k).to_pylist() for k in tags}
    keys = []
    for i in range(rows.num_rows):
        pairs = [(k, data[k][i]) for k in tags if data[k][i] is not None]
        text = ",".join(
            [escape_measurement(t.name)] + [f"{escape_key(k)}={escape_key(v)}" for k, v in pairs]
        )
        keys.append((pairs, text))
    # the series in influxd's order: by the tags' own texts, not their escaped ones
    return [text for _, text in sorted(keys)]


def _series_count(
    t: TableSchema, stmt: ast.ShowStatement, db: str, run_sql: RunSql, fetch: Fetch, now_ns: int
) -> int:
    """``len(_series_keys(...))`` without making the keys (50,000 series: 190 → ~10 ms)."""
    if not t.tag_names:
        return int(_has_rows(t, stmt, db, run_sql, fetch, now_ns))
    return _distinct_series(t, stmt, db, run_sql, fetch, now_ns).num_rows


def _distinct_series(
    t: TableSchema, stmt: ast.ShowStatement, db: str, run_sql: RunSql, fetch: Fetch, now_ns: int
) -> pa.Table:
    """One row per series of ``t`` (a table with tags) the statement keeps: each tag the
    rows hold, as text, in name order (a missing tag is null: not part of the key)."""
    tags = sorted(t.tag_names)
    allowed = _tag_condition(stmt, t, now_ns, fetch, db)
    if allowed is not None:
        rows = _series_rows(fetch, db, t, allowed)
    else:
        where = _where(stmt, t, now_ns)
        cols = ", ".join(f"CAST({quote_ident(k)} AS VARCHAR) AS {quote_ident(k)}" for k in tags)
        rows = run_sql(
            db,
            f"SELECT DISTINCT {cols} FROM {quote_ident(t.name)}"
            + (f" WHERE {where}" if where else ""),
        )
    held = [k for k in tags if k in rows.column_names]
    if not held:
        return pa.table([], names=[])
    if rows.num_rows <= _FEW_SERIES:
        # a few rows (a series' picks): made distinct in Python; a cast of each tag and
        # a group_by cost ~150 µs of SHOW SERIES WHERE host = 'a'
        columns = [rows.column(k).to_pylist() for k in held]
        distinct = list(dict.fromkeys(zip(*columns, strict=True)))
        texts = [pa.array([d[i] for d in distinct], pa.string()) for i in range(len(held))]
        return pa.table(texts, names=held)
    texts = pa.table([rows.column(k).cast(pa.string()) for k in held], names=held)
    return texts.group_by(held, use_threads=False).aggregate([])


_FEW_SERIES = 256  # rows made distinct in Python, not by Arrow's group_by


def _cardinality(
    stmt: ast.ShowStatement,
    tables: list[TableSchema],
    db: str,
    run_sql: RunSql,
    fetch: Fetch,
    now_ns: int,
) -> list[Series]:
    what = stmt.what
    if not stmt.exact and not stmt.sources and stmt.condition is None:
        # influxd 1.x answers these two with one estimate over the database
        if what == "MEASUREMENT CARDINALITY":
            n = sum(1 for t in tables if _has_rows(t, stmt, db, run_sql, fetch, now_ns))
            return [{"columns": ["cardinality estimation"], "values": [[n]]}]
        if what == "SERIES CARDINALITY":
            n = sum(_series_count(t, stmt, db, run_sql, fetch, now_ns) for t in tables)
            return [{"columns": ["cardinality estimation"], "values": [[n]]}]
    # the others, as influxd answers them: the count of the SHOW statement's answer, under
    # its WHERE (a count of none is no series)
    if what == "MEASUREMENT CARDINALITY":
        n = sum(1 for t in tables if _has_rows(t, stmt, db, run_sql, fetch, now_ns))
        return [{"columns": ["count"], "values": [[n]]}] if n else []
    out = []
    for t in tables:
        if what == "SERIES CARDINALITY":
            n = _series_count(t, stmt, db, run_sql, fetch, now_ns)
        elif what == "TAG KEY CARDINALITY":
            n = len(_tag_keys(t, stmt, db, run_sql, now_ns))
        elif what == "FIELD KEY CARDINALITY":
            held = stmt.condition is None or _has_rows(t, stmt, db, run_sql, fetch, now_ns)
            n = len(_field_keys(t)) if held else 0
        elif what == "TAG VALUES CARDINALITY":
            counted = stmt
            if stmt.condition is not None:
                counted = dataclasses.replace(stmt, condition=_tags_held(stmt.condition, t))
            n = len(_tag_pairs(t, counted, db, run_sql, fetch, now_ns))
        else:
            raise QueryError(f"SHOW {what} is not supported")
        if n:
            out.append({"name": t.name, "columns": ["count"], "values": [[n]]})
    return out


def _name_matches(cond: ast.Expr, name: str) -> bool:
    if not isinstance(cond, ast.BinaryExpr):
        return True
    rhs = cond.rhs
    if isinstance(rhs, ast.RegexLiteral):
        hit = re.search(rhs.pattern, name) is not None
        return hit if cond.op == "=~" else not hit
    if isinstance(rhs, ast.StringLiteral | ast.VarRef):
        value = rhs.value if isinstance(rhs, ast.StringLiteral) else rhs.name
        return (name == value) if cond.op == "=" else (name != value)
    return True


def _key_matches(cond: ast.Expr | None, key: str) -> bool:
    if cond is None:
        return True
    if isinstance(cond, ast.BinaryExpr) and cond.op == "IN" and isinstance(cond.rhs, ast.Call):
        return any(
            isinstance(a, ast.StringLiteral | ast.VarRef)
            and (a.value if isinstance(a, ast.StringLiteral) else a.name) == key
            for a in cond.rhs.args
        )
    return _name_matches(cond, key)
