"""The InfluxQL syntax tree. The parser builds it; the planner reads it.

Expressions are small frozen dataclasses; statements hold expressions. Positions (1-based
character offsets into the query text) are kept where errors must point at something.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

__all__ = [
    "AlterRetentionPolicy",
    "BinaryExpr",
    "BoolLiteral",
    "Call",
    "CreateContinuousQuery",
    "CreateDatabase",
    "CreateRetentionPolicy",
    "Delete",
    "Dimension",
    "DropContinuousQuery",
    "DropDatabase",
    "DropMeasurement",
    "DropRetentionPolicy",
    "DropSeries",
    "DurationLiteral",
    "Expr",
    "Field",
    "IntegerLiteral",
    "Measurement",
    "NowCall",
    "NumberLiteral",
    "ParenExpr",
    "RegexLiteral",
    "SelectStatement",
    "ShowStatement",
    "SortField",
    "Source",
    "Statement",
    "StringLiteral",
    "SubQuery",
    "TimeLiteral",
    "UnaryExpr",
    "VarRef",
    "Wildcard",
]


# --- expressions ------------------------------------------------------------------------
@dataclass(frozen=True)
class VarRef:
    """A field or tag name, with an optional ``::field`` / ``::tag`` (or ``::integer`` …)
    type hint."""

    name: str
    type_hint: str | None = None


@dataclass(frozen=True)
class Wildcard:
    """``*``, ``*::field`` or ``*::tag``."""

    type_hint: str | None = None


@dataclass(frozen=True)
class RegexLiteral:
    """``/pattern/``: the pattern as written between the slashes (``\\/`` unescaped)."""

    pattern: str


@dataclass(frozen=True)
class StringLiteral:
    value: str


@dataclass(frozen=True)
class NumberLiteral:
    value: float


@dataclass(frozen=True)
class IntegerLiteral:
    value: int


@dataclass(frozen=True)
class BoolLiteral:
    value: bool


@dataclass(frozen=True)
class DurationLiteral:
    """``10s``, ``1h30m``, ``1w``: in nanoseconds."""

    ns: int
    text: str


@dataclass(frozen=True)
class TimeLiteral:
    """A string literal compared with ``time``, resolved to ns since the epoch (UTC); the
    string as written, when it was one."""

    ns: int
    text: str | None = field(default=None, compare=False)  # equal times are equal literals


@dataclass(frozen=True)
class NowCall:
    """``now()``."""


@dataclass(frozen=True)
class Call:
    """A function call: ``mean(usage)``, ``percentile(x, 95)``, ``count(distinct(x))``."""

    name: str  # lower-case
    args: tuple[Expr, ...]


@dataclass(frozen=True)
class BinaryExpr:
    """``op`` is one of + - * / % & | ^ = != <> < <= > >= =~ !~ AND OR (AND/OR upper-case)."""

    op: str
    lhs: Expr
    rhs: Expr


@dataclass(frozen=True)
class UnaryExpr:
    """Unary minus (``op`` is "-"), on anything but a literal (literals are folded)."""

    op: str
    expr: Expr


@dataclass(frozen=True)
class ParenExpr:
    expr: Expr


Expr = (
    VarRef
    | Wildcard
    | RegexLiteral
    | StringLiteral
    | NumberLiteral
    | IntegerLiteral
    | BoolLiteral
    | DurationLiteral
    | TimeLiteral
    | NowCall
    | Call
    | BinaryExpr
    | UnaryExpr
    | ParenExpr
)


# --- SELECT -------------------------------------------------------------------------------
@dataclass(frozen=True)
class Field:
    expr: Expr
    alias: str | None = None


@dataclass(frozen=True)
class Measurement:
    """``[db.][rp.]name`` or ``[db.][rp.]/regex/``."""

    name: str | None = None
    regex: str | None = None
    database: str | None = None
    retention_policy: str | None = None


@dataclass(frozen=True)
class SubQuery:
    statement: SelectStatement


Source = Measurement | SubQuery


@dataclass(frozen=True)
class Dimension:
    """One GROUP BY item: a tag (``VarRef``), ``*``, a regex, or ``time(interval[, offset])``
    (a ``Call`` named "time" whose args are durations; offset may be negative or now())."""

    expr: Expr


@dataclass(frozen=True)
class SortField:
    name: str  # only "time" is allowed by InfluxQL
    ascending: bool = True


@dataclass
class SelectStatement:
    fields: list[Field]
    sources: list[Source]
    into: Measurement | None = None
    condition: Expr | None = None
    dimensions: list[Dimension] = field(default_factory=list)
    fill: str | None = None  # "null", "none", "previous", "linear", or None (default)
    fill_value: float | int | None = None  # fill(<number>)
    order_by: list[SortField] = field(default_factory=list)
    limit: int | None = None
    offset: int | None = None
    slimit: int | None = None
    soffset: int | None = None
    timezone: str | None = None  # tz('Europe/Paris')


# --- everything else ----------------------------------------------------------------------
@dataclass
class ShowStatement:
    """SHOW DATABASES | RETENTION POLICIES [ON db] | MEASUREMENTS | TAG KEYS | TAG VALUES |
    FIELD KEYS | SERIES | [MEASUREMENT|SERIES|TAG KEY|TAG VALUES|FIELD KEY] CARDINALITY.

    ``what`` is the upper-case keyword phrase, e.g. "DATABASES", "TAG VALUES",
    "SERIES CARDINALITY", "MEASUREMENT EXACT CARDINALITY" → "MEASUREMENT CARDINALITY" with
    ``exact=True``."""

    what: str
    database: str | None = None  # ON db
    sources: list[Source] = field(default_factory=list)  # FROM …
    with_measurement: Expr | None = None  # WITH MEASUREMENT =~ /re/ | = name (a BinaryExpr)
    with_key: Expr | None = None  # WITH KEY = k | IN (k1, k2) | =~ /re/ | != k | !~ /re/
    condition: Expr | None = None
    limit: int | None = None
    offset: int | None = None
    module: str | None = None  # SHOW STATS FOR 'module'
    exact: bool = False
    user: str | None = None  # SHOW GRANTS FOR user


@dataclass
class CreateDatabase:
    name: str
    # WITH …: its default retention policy (name, duration_ns, replication,
    # shard_duration_ns; those given)
    policy: dict[str, Any] | None = None


@dataclass
class CreateRetentionPolicy:
    name: str
    database: str
    duration_ns: int = 0  # 0: INF
    replication: int = 1
    shard_duration_ns: int = 0  # 0: as the duration implies
    default: bool = False


@dataclass
class AlterRetentionPolicy:
    name: str
    database: str
    duration_ns: int | None = None  # None: unchanged
    replication: int | None = None
    shard_duration_ns: int | None = None
    default: bool = False


@dataclass
class CreateContinuousQuery:
    name: str
    database: str
    select: SelectStatement  # with INTO and GROUP BY time()
    every_ns: int = 0  # RESAMPLE EVERY (0: the GROUP BY interval)
    for_ns: int = 0  # RESAMPLE FOR (0: the GROUP BY interval)


@dataclass
class DropContinuousQuery:
    name: str
    database: str


@dataclass
class DropRetentionPolicy:
    name: str
    database: str


@dataclass
class DropDatabase:
    name: str


@dataclass
class DropMeasurement:
    name: str


@dataclass
class DropSeries:
    sources: list[Source] = field(default_factory=list)
    condition: Expr | None = None


@dataclass
class Delete:
    sources: list[Source] = field(default_factory=list)
    condition: Expr | None = None


@dataclass
class KillQuery:
    """KILL QUERY qid: stop a running query (its id from SHOW QUERIES)."""

    qid: int


@dataclass
class CreateUser:
    name: str
    password: str
    admin: bool = False  # WITH ALL PRIVILEGES


@dataclass
class DropUser:
    name: str


@dataclass
class SetPassword:
    name: str
    password: str


@dataclass
class Grant:
    """GRANT privilege ON db TO user, or REVOKE … FROM user (``revoke``); ``privilege`` as
    SHOW GRANTS writes it. Without ``database`` (GRANT ALL TO user): the admin right."""

    privilege: str
    database: str | None
    user: str
    revoke: bool = False


UserStatement = CreateUser | DropUser | SetPassword | Grant


@dataclass
class Explain:
    """EXPLAIN [ANALYZE] SELECT …: how Edge would answer it (ANALYZE: answers it, and says
    where the time went, instead of the rows)."""

    select: SelectStatement
    analyze: bool = False


Statement = (
    SelectStatement
    | ShowStatement
    | KillQuery
    | CreateDatabase
    | CreateRetentionPolicy
    | CreateContinuousQuery
    | DropContinuousQuery
    | AlterRetentionPolicy
    | DropRetentionPolicy
    | DropDatabase
    | DropMeasurement
    | DropSeries
    | Delete
    | UserStatement
    | Explain
)
