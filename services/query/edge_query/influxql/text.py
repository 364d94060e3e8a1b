"""Statements written back as InfluxQL text, the way influxd 1.x writes them (its String()
methods): numbers with three decimals, durations in their largest whole unit, names quoted
only where needed. A statement that changes something, sent with GET, is answered with a
warning that names it so (``read_only_warning``)."""

from __future__ import annotations

import dataclasses
from decimal import Decimal

import numpy as np

from edge_query.influxql import ast
from edge_query.influxql.lexer import quote_ident
from edge_query.influxql.timefmt import format_times

__all__ = [
    "continuous_text",
    "duration_text",
    "escape_key",
    "escape_measurement",
    "expr_text",
    "go_integer",
    "read_only_warning",
    "statement_text",
]


GO_WHOLE = 2.0**63  # whole floats below this are written as integers, as Go writes them


def go_integer(v: float) -> int:
    """A whole float (below ``GO_WHOLE``) as the integer Go's JSON encoder writes: its
    digits up to 2**53; past that the shortest digits that read back as the float, then
    zeros (Go writes 1054923577702081400, not the float's exact 1054923577702081408; both
    read back as the same float)."""
    return int(v) if abs(v) < 2.0**53 else int(Decimal(repr(v)))


def escape_key(text: str) -> str:
    """A tag key or tag value as influxd writes it in a series key (SHOW SERIES, the tags of
    a CSV answer): commas, equal signs and spaces escaped."""
    return escape_measurement(text).replace("=", r"\=")


def escape_measurement(text: str) -> str:
    """A measurement as influxd writes it in a series key: commas and spaces escaped."""
    return text.replace(",", r"\,").replace(" ", r"\ ")


_UNITS = (
    ("w", 7 * 86_400 * 10**9),
    ("d", 86_400 * 10**9),
    ("h", 3_600 * 10**9),
    ("m", 60 * 10**9),
    ("s", 10**9),
    ("ms", 10**6),
    ("u", 10**3),
)


def read_only_warning(stmt: ast.Statement, database: str | None) -> dict[str, str] | None:
    """The warning influxd adds to a statement that changes something when it came with GET
    (None for one that does not: DELETE is not warned about by 1.6 either)."""
    if isinstance(stmt, ast.SelectStatement) and stmt.into is None:
        return None
    if not isinstance(
        stmt,
        ast.SelectStatement
        | ast.CreateDatabase
        | ast.DropDatabase
        | ast.DropMeasurement
        | ast.DropSeries
        | ast.UserStatement,
    ):
        return None
    text = statement_text(_qualified(stmt, database) if database else stmt)
    return {
        "level": "warning",
        "text": f"deprecated use of '{text}' in a read only context, "
        "please use a POST request instead",
    }


def continuous_text(stmt: ast.CreateContinuousQuery, policy: str) -> str:
    """A continuous query as influxd keeps and lists it: its measurements named with the
    database and the retention policy (``policy``: the database's default)."""
    select = _qualified(stmt.select, stmt.database, policy)
    assert isinstance(select, ast.SelectStatement)
    return statement_text(dataclasses.replace(stmt, select=select))


def _qualified(stmt: ast.Statement, database: str, policy: str = "autogen") -> ast.Statement:
    """SELECT … INTO as influxd runs it: every measurement named with database and
    retention policy."""
    if not isinstance(stmt, ast.SelectStatement):
        return stmt

    def full(m: ast.Measurement) -> ast.Measurement:
        return dataclasses.replace(
            m, database=m.database or database, retention_policy=m.retention_policy or policy
        )

    sources: list[ast.Source] = [
        full(s) if isinstance(s, ast.Measurement) else s for s in stmt.sources
    ]
    into = full(stmt.into) if stmt.into is not None else None
    return dataclasses.replace(stmt, sources=sources, into=into)


def statement_text(stmt: ast.Statement) -> str:
    if isinstance(stmt, ast.CreateContinuousQuery):
        out = f"CREATE CONTINUOUS QUERY {_ident(stmt.name)} ON {_ident(stmt.database)} "
        if stmt.every_ns or stmt.for_ns:
            out += "RESAMPLE "
            out += f"EVERY {duration_text(stmt.every_ns)} " if stmt.every_ns else ""
            out += f"FOR {duration_text(stmt.for_ns)} " if stmt.for_ns else ""
        return f"{out}BEGIN {_select(stmt.select)} END"
    if isinstance(stmt, ast.CreateDatabase):
        return f"CREATE DATABASE {_ident(stmt.name)}"
    if isinstance(stmt, ast.DropDatabase):
        return f"DROP DATABASE {_ident(stmt.name)}"
    if isinstance(stmt, ast.DropMeasurement):
        return f"DROP MEASUREMENT {_ident(stmt.name)}"
    if isinstance(stmt, ast.DropSeries | ast.Delete):
        out = "DROP SERIES" if isinstance(stmt, ast.DropSeries) else "DELETE"
        if stmt.sources:
            out += " FROM " + ", ".join(_source(s) for s in stmt.sources)
        if stmt.condition is not None:
            out += " WHERE " + expr_text(stmt.condition)
        return out
    if isinstance(stmt, ast.SelectStatement):
        return _select(stmt)
    if isinstance(stmt, ast.KillQuery):
        return f"KILL QUERY {stmt.qid}"
    if isinstance(stmt, ast.ShowStatement) and stmt.what == "QUERIES":
        return "SHOW QUERIES"
    if isinstance(stmt, ast.UserStatement):
        return _user_text(stmt)
    if isinstance(stmt, ast.ShowStatement) and stmt.what == "USERS":
        return "SHOW USERS"
    if isinstance(stmt, ast.ShowStatement) and stmt.what == "GRANTS":
        return f"SHOW GRANTS FOR {_ident(stmt.user or '')}"
    raise ValueError(f"no text form for {type(stmt).__name__}")


def _user_text(stmt: ast.UserStatement) -> str:
    """influxd's text of a user statement: its password never shown."""
    if isinstance(stmt, ast.CreateUser):
        admin = " WITH ALL PRIVILEGES" if stmt.admin else ""
        return f"CREATE USER {_ident(stmt.name)} WITH PASSWORD [REDACTED]{admin}"
    if isinstance(stmt, ast.DropUser):
        return f"DROP USER {_ident(stmt.name)}"
    if isinstance(stmt, ast.SetPassword):
        return f"SET PASSWORD FOR {_ident(stmt.name)} = [REDACTED]"
    verb, to = ("REVOKE", "FROM") if stmt.revoke else ("GRANT", "TO")
    on = "" if stmt.database is None else f" ON {_ident(stmt.database)}"
    return f"{verb} {stmt.privilege}{on} {to} {_ident(stmt.user)}"


def _select(s: ast.SelectStatement) -> str:
    out = "SELECT " + ", ".join(_field(f) for f in s.fields)
    if s.into is not None:
        out += " INTO " + _source(s.into)
    if s.sources:
        out += " FROM " + ", ".join(_source(src) for src in s.sources)
    if s.condition is not None:
        out += " WHERE " + expr_text(s.condition)
    if s.dimensions:
        out += " GROUP BY " + ", ".join(expr_text(d.expr) for d in s.dimensions)
    if s.fill_value is not None:
        out += f" fill({_go_number(s.fill_value)})"
    elif s.fill in ("none", "linear", "previous"):
        out += f" fill({s.fill})"
    if s.order_by:
        out += " ORDER BY " + ", ".join(
            f"{f.name} {'ASC' if f.ascending else 'DESC'}" for f in s.order_by
        )
    for word, value in (
        ("LIMIT", s.limit),
        ("OFFSET", s.offset),
        ("SLIMIT", s.slimit),
        ("SOFFSET", s.soffset),
    ):
        if value:
            out += f" {word} {value}"
    if s.timezone:
        out += f" TZ('{s.timezone}')"
    return out


def _field(f: ast.Field) -> str:
    text = expr_text(f.expr)
    return f"{text} AS {_ident(f.alias)}" if f.alias else text


def _source(src: ast.Source) -> str:
    if isinstance(src, ast.SubQuery):
        return f"({_select(src.statement)})"
    out = ""
    if src.database:
        out += _ident(src.database) + "."
    if src.retention_policy:
        out += _ident(src.retention_policy)
    if src.database or src.retention_policy:
        out += "."
    if src.name is not None:
        out += _ident(src.name) if src.name != ":MEASUREMENT" else src.name
    elif src.regex is not None:
        out += _regex(src.regex)
    return out


def expr_text(e: ast.Expr) -> str:
    if isinstance(e, ast.VarRef):
        return _ident(e.name) + (f"::{e.type_hint}" if e.type_hint else "")
    if isinstance(e, ast.Wildcard):
        return "*" + (f"::{e.type_hint}" if e.type_hint else "")
    if isinstance(e, ast.BinaryExpr):
        op = "!=" if e.op == "<>" else e.op
        return f"{expr_text(e.lhs)} {op} {expr_text(e.rhs)}"
    if isinstance(e, ast.ParenExpr):
        return f"({expr_text(e.expr)})"
    if isinstance(e, ast.UnaryExpr):  # influxd reads -x as -1 * x
        return f"-1 * {expr_text(e.expr)}"
    if isinstance(e, ast.Call):
        return f"{e.name}({', '.join(expr_text(a) for a in e.args)})"
    if isinstance(e, ast.NowCall):
        return "now()"
    if isinstance(e, ast.StringLiteral):
        return _string(e.value)
    if isinstance(e, ast.TimeLiteral):
        if e.text is not None:
            return _string(e.text)
        return _string(str(format_times(np.array([e.ns], dtype=np.int64), None)[0]))
    if isinstance(e, ast.BoolLiteral):
        return "true" if e.value else "false"
    if isinstance(e, ast.IntegerLiteral):
        return str(e.value)
    if isinstance(e, ast.NumberLiteral):
        return f"{e.value:.3f}"
    if isinstance(e, ast.DurationLiteral):
        return duration_text(e.ns)
    if isinstance(e, ast.RegexLiteral):
        return _regex(e.pattern)
    raise ValueError(f"no text form for {type(e).__name__}")


def _ident(name: str) -> str:
    return quote_ident([name])


def _string(value: str) -> str:
    escaped = value.replace("\\", "\\\\").replace("'", "\\'").replace("\n", "\\n")
    return f"'{escaped}'"


def _regex(pattern: str) -> str:
    return "/" + pattern.replace("/", "\\/") + "/"


def duration_text(ns: int) -> str:
    """A duration as influxd writes it: in its largest whole unit ("1h", "90s")."""
    if ns == 0:
        return "0s"
    for unit, size in _UNITS:
        if ns % size == 0:
            return f"{ns // size}{unit}"
    return f"{ns}ns"


def _go_number(value: float) -> str:
    """A number as Go's %v writes it (fill values): 100 for 100.0, 1e+21 for 1e21."""
    if isinstance(value, int):
        return str(value)
    text = repr(float(value))
    return text[:-2] if text.endswith(".0") else text
