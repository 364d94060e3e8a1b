"""InfluxQL expressions to DataFusion SQL, and the time range a condition allows.

Conditions are split in two: the bounds on ``time`` (folded to nanosecond constants, with
``now()`` fixed once per query) and everything else, rendered as SQL. Tag comparisons follow
InfluxQL: a series without the tag has the empty string as its value.
"""

from __future__ import annotations

from dataclasses import dataclass

from edge_common.errors import QueryError
from edge_common.schema import TIME_COLUMN, ColumnType, TableSchema
from edge_query.influxql import ast
from edge_query.influxql.lexer import DATE_LIKE
from edge_query.influxql.text import expr_text

__all__ = [
    "CASTS",
    "NUMBERS",
    "TimeRange",
    "cast_sql",
    "check_condition",
    "leaf_type",
    "quote_ident",
    "quote_str",
    "split_condition",
    "to_sql",
    "where_sql",
]

MIN_NS = -(2**63) + 2
MAX_NS = 2**63 - 2

_CMP = {"=": "=", "!=": "<>", "<>": "<>", "<": "<", "<=": "<=", ">": ">", ">=": ">="}
_ARITH = {"+", "-", "*", "/", "%", "&", "|", "^"}


def quote_ident(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def quote_str(value: str) -> str:
    return "'" + value.replace("'", "''") + "'"


@dataclass
class TimeRange:
    lo: int = MIN_NS  # inclusive
    hi: int = MAX_NS  # inclusive

    @property
    def bounded_below(self) -> bool:
        return self.lo != MIN_NS

    @property
    def bounded_above(self) -> bool:
        return self.hi != MAX_NS


_TIME_AND_TEXT = "invalid operation: time and *influxql.StringLiteral are not compatible"


def check_condition(cond: ast.Expr | None) -> None:
    """influxd's first checks of a WHERE, made before those of GROUP BY and of the fields:
    each term under AND, OR and parentheses is a comparison (or true, false), and ``time``
    is compared with no text that is not a date."""
    if cond is None:
        return
    if isinstance(cond, ast.ParenExpr):
        check_condition(cond.expr)
    elif isinstance(cond, ast.BinaryExpr) and cond.op in ("AND", "OR"):
        check_condition(cond.lhs)
        check_condition(cond.rhs)
    elif isinstance(cond, ast.BinaryExpr):
        for side, other in ((cond.lhs, cond.rhs), (cond.rhs, cond.lhs)):
            text = _text_in(other) if _is_time(side) else None
            if text is not None:
                raise QueryError(_time_text_error(text))
    elif not isinstance(cond, ast.BoolLiteral):
        raise QueryError(f"invalid condition expression: {expr_text(cond)}")


def _text_in(e: ast.Expr) -> str | None:
    """The first text literal in a time expression (the parser made the times of texts
    TimeLiterals: one left is no time)."""
    if isinstance(e, ast.StringLiteral):
        return e.value
    if isinstance(e, ast.ParenExpr):
        return _text_in(e.expr)
    if isinstance(e, ast.BinaryExpr):
        found = _text_in(e.lhs)
        return found if found is not None else _text_in(e.rhs)
    return None


def _time_text_error(text: str) -> str:
    """influxd's words for ``time`` compared with a text that is no time: one that looks
    like a date did not parse as one."""
    return "invalid timestamp string" if DATE_LIKE.match(text) else _TIME_AND_TEXT


def fold_time(expr: ast.Expr, now_ns: int) -> int | None:
    """The nanosecond value of a time expression (literal, now() ± durations), if constant."""
    if isinstance(expr, ast.TimeLiteral):
        return expr.ns
    if isinstance(expr, ast.IntegerLiteral):
        return expr.value
    if isinstance(expr, ast.NumberLiteral):
        return int(expr.value)
    if isinstance(expr, ast.DurationLiteral):
        return expr.ns
    if isinstance(expr, ast.NowCall):
        return now_ns
    if isinstance(expr, ast.ParenExpr):
        return fold_time(expr.expr, now_ns)
    if isinstance(expr, ast.StringLiteral):  # (no time: the parser read times as such)
        raise QueryError(_time_text_error(expr.value))
    if isinstance(expr, ast.BinaryExpr) and expr.op in ("+", "-"):
        a, b = fold_time(expr.lhs, now_ns), fold_time(expr.rhs, now_ns)
        if a is None or b is None:
            return None
        return a + b if expr.op == "+" else a - b
    return None


def _is_time(expr: ast.Expr) -> bool:
    return isinstance(expr, ast.VarRef) and expr.name.lower() == TIME_COLUMN


def split_condition(cond: ast.Expr | None, now_ns: int) -> tuple[ast.Expr | None, TimeRange]:
    """The condition without its top-level time bounds, and those bounds."""
    rng = TimeRange()
    if cond is None:
        return None, rng

    def walk(e: ast.Expr) -> ast.Expr | None:
        if isinstance(e, ast.ParenExpr):
            inner = walk(e.expr)
            return None if inner is None else ast.ParenExpr(inner)
        if isinstance(e, ast.BinaryExpr) and e.op == "AND":
            lhs, rhs = walk(e.lhs), walk(e.rhs)
            if lhs is None:
                return rhs
            if rhs is None:
                return lhs
            return ast.BinaryExpr("AND", lhs, rhs)
        if isinstance(e, ast.BinaryExpr) and e.op in _CMP and (_is_time(e.lhs) or _is_time(e.rhs)):
            op, other = e.op, e.rhs
            if _is_time(e.rhs):
                op = {"<": ">", "<=": ">=", ">": "<", ">=": "<="}.get(op, op)
                other = e.lhs
            value = fold_time(other, now_ns)
            if value is None:
                raise QueryError(
                    "invalid time comparison: compare time with a time literal, "
                    "an integer or now() and durations"
                )
            if op == ">":
                rng.lo = max(rng.lo, value + 1)
            elif op == ">=":
                rng.lo = max(rng.lo, value)
            elif op == "<":
                rng.hi = min(rng.hi, value - 1)
            elif op == "<=":
                rng.hi = min(rng.hi, value)
            elif op == "=":
                rng.lo, rng.hi = max(rng.lo, value), min(rng.hi, value)
            else:
                raise QueryError("time != is not supported in WHERE")
            return None
        return e

    return walk(cond), rng


def _chain(expr: ast.BinaryExpr) -> list[ast.Expr]:
    """The terms of ``a OR b OR …`` (or of ANDs), in order: one flat SQL chain, as a long
    one nested a pair of parentheses a term deep (DataFusion's SQL parser refuses more than
    50), and walked down its left side in a loop (it is as deep as it is long)."""
    terms: list[ast.Expr] = []
    node: ast.Expr = expr
    while isinstance(node, ast.BinaryExpr) and node.op == expr.op:
        terms.append(node.rhs)
        node = node.lhs
    terms.append(node)
    terms.reverse()
    return terms


def to_sql(expr: ast.Expr, table: TableSchema, now_ns: int) -> str:
    """A WHERE expression (time bounds already removed) as SQL over ``table``."""
    if isinstance(expr, ast.ParenExpr):
        return f"({to_sql(expr.expr, table, now_ns)})"
    if isinstance(expr, ast.BinaryExpr):
        if expr.op in ("AND", "OR"):
            terms = [to_sql(t, table, now_ns) for t in _chain(expr)]
            return "(" + f" {expr.op} ".join(terms) + ")"
        if expr.op in ("=~", "!~"):
            return _regex_match(expr, table)
        if expr.op in _CMP:
            return _compare(expr, table, now_ns)
        if expr.op in _ARITH:
            if _kind(expr, table) == "other":  # arithmetic on a boolean or text: no value
                return "CAST(NULL AS DOUBLE)"
            op = "#" if expr.op == "^" else expr.op
            return f"({_operand(expr.lhs, table, now_ns)} {op} {_operand(expr.rhs, table, now_ns)})"
    if isinstance(expr, ast.BoolLiteral):
        return "TRUE" if expr.value else "FALSE"
    raise QueryError(f"unsupported expression in WHERE: {expr}")


CASTS = {"integer", "unsigned", "float", "string", "boolean"}
NUMBERS = (ColumnType.FLOAT, ColumnType.INTEGER, ColumnType.UINTEGER)
_TO_NUMBER = {"integer": "Int64", "unsigned": "UInt64", "float": "Float64"}  # (Arrow's types)


def cast_sql(name: str, hint: str, kind: ColumnType | None) -> str | None:
    """``field::integer`` and the like as 1.x reads them: numbers convert among
    themselves (a float truncated toward zero), a string or boolean only as itself;
    anything else, a tag included, is no value (None)."""
    if kind in NUMBERS and hint in _TO_NUMBER:
        return f"arrow_cast({quote_ident(name)}, '{_TO_NUMBER[hint]}')"
    if (kind, hint) in ((ColumnType.STRING, "string"), (ColumnType.BOOLEAN, "boolean")):
        return quote_ident(name)
    return None


def _operand(expr: ast.Expr, table: TableSchema, now_ns: int) -> str:
    if isinstance(expr, ast.VarRef):
        if expr.name not in table.columns:
            return "NULL"
        if expr.type_hint in CASTS:
            return cast_sql(expr.name, expr.type_hint, table.columns[expr.name]) or "NULL"
        return quote_ident(expr.name)
    if isinstance(expr, ast.StringLiteral):
        return quote_str(expr.value)
    if isinstance(expr, ast.IntegerLiteral):
        return str(expr.value)
    if isinstance(expr, ast.NumberLiteral):
        return repr(float(expr.value))
    if isinstance(expr, ast.BoolLiteral):
        return "TRUE" if expr.value else "FALSE"
    if isinstance(expr, ast.UnaryExpr):
        return f"(-{_operand(expr.expr, table, now_ns)})"
    if isinstance(expr, ast.ParenExpr | ast.BinaryExpr):
        return to_sql(expr, table, now_ns)
    raise QueryError(f"unsupported operand in WHERE: {expr}")


def _compare(expr: ast.BinaryExpr, table: TableSchema, now_ns: int) -> str:
    op = _CMP[expr.op]
    if isinstance(expr.lhs, ast.DurationLiteral) or isinstance(expr.rhs, ast.DurationLiteral):
        return "FALSE"  # (a name compared with a duration: never true in influxd)
    if op not in ("=", "<>") and "text" in (_kind(expr.lhs, table), _kind(expr.rhs, table)):
        return "FALSE"  # texts and tags compare by = and != only, in influxd
    for var, lit in ((expr.lhs, expr.rhs), (expr.rhs, expr.lhs)):
        if (
            isinstance(var, ast.VarRef)
            and table.columns.get(var.name) is ColumnType.TAG
            and isinstance(lit, ast.StringLiteral)
        ):
            col = quote_ident(var.name)
            if lit.value == "" and op == "=":
                return f"({col} IS NULL OR {col} = '')"
            if lit.value == "" and op == "<>":
                return f"({col} IS NOT NULL AND {col} <> '')"
            if op == "<>":
                return f"({col} IS NULL OR {col} <> {quote_str(lit.value)})"
            lhs, rhs = (
                (col, quote_str(lit.value)) if var is expr.lhs else (quote_str(lit.value), col)
            )
            return f"({lhs} {op} {rhs})"
        if (
            isinstance(var, ast.VarRef)
            and var.name not in table.columns
            and isinstance(lit, ast.StringLiteral)
        ):
            # an unknown name compares as a missing tag: only '' matches
            matches = op in ("=", "<>") and (lit.value == "") == (op == "=")
            return "TRUE" if matches else "FALSE"
    kinds = {_kind(expr.lhs, table), _kind(expr.rhs, table)}
    if None not in kinds and len(kinds) > 1:  # a boolean with a number, say: never true
        return "FALSE"
    return f"({_operand(expr.lhs, table, now_ns)} {op} {_operand(expr.rhs, table, now_ns)})"


def cast_away(e: ast.Expr, table: TableSchema) -> bool:
    """Whether ``e`` is a name cast to a type it cannot be (``swap::integer`` of a boolean):
    it holds no value."""
    if not isinstance(e, ast.VarRef) or e.type_hint not in CASTS:
        return False
    return cast_sql(e.name, e.type_hint, table.columns.get(e.name)) is None


def leaf_type(e: ast.Expr, table: TableSchema) -> str | None:
    """The type influxd gives a name or a literal ("integer", "float", "unsigned",
    "string", "boolean", "tag"; a cast's type as asked), None for anything else (a name no
    column has, ``time``, an expression)."""
    if isinstance(e, ast.VarRef):
        if e.type_hint in CASTS:
            return e.type_hint
        kind = table.columns.get(e.name)
        if kind is None or kind is ColumnType.TIME:
            return None
        return "unsigned" if kind is ColumnType.UINTEGER else kind.value
    if isinstance(e, ast.IntegerLiteral):
        return "integer"
    if isinstance(e, ast.NumberLiteral):
        return "float"
    if isinstance(e, ast.StringLiteral):
        return "string"
    if isinstance(e, ast.BoolLiteral):
        return "boolean"
    return None


# what a WHERE operand of each type holds (comparable among themselves)
_HOLDS = {"integer": "number", "float": "number", "unsigned": "number", "string": "text"}
_HOLDS |= {"tag": "text", "boolean": "boolean"}


def _kind(expr: ast.Expr, table: TableSchema) -> str | None:
    """What a WHERE operand holds: "number", "boolean", "text", "other" (arithmetic on
    something not a number), or None (unknown: a name the table lacks, now(), …)."""
    if cast_away(expr, table):
        return None
    if isinstance(expr, ast.ParenExpr | ast.UnaryExpr):
        return _kind(expr.expr, table)
    if isinstance(expr, ast.BinaryExpr) and expr.op in _ARITH:
        sides = {_kind(expr.lhs, table), _kind(expr.rhs, table)}
        return "other" if sides & {"boolean", "text", "other"} else "number"
    found = leaf_type(expr, table)
    return None if found is None else _HOLDS[found]


def _regex_match(expr: ast.BinaryExpr, table: TableSchema) -> str:
    if not isinstance(expr.lhs, ast.VarRef) or not isinstance(expr.rhs, ast.RegexLiteral):
        raise QueryError("a regular expression must be compared with a tag or field name")
    name = expr.lhs.name
    pattern = quote_str(expr.rhs.pattern)
    if name not in table.columns:
        # a missing tag is the empty string
        import re

        hit = re.search(expr.rhs.pattern, "") is not None
        return "TRUE" if hit == (expr.op == "=~") else "FALSE"
    col = f"COALESCE(CAST({quote_ident(name)} AS VARCHAR), '')"
    return f"({col} {'~' if expr.op == '=~' else '!~'} {pattern})"


def where_sql(
    residual: ast.Expr | None, rng: TimeRange, table: TableSchema, now_ns: int
) -> str | None:
    """A SQL condition for the time range and the rest of a WHERE clause (None: no limit)."""
    parts = []
    t = f"CAST({quote_ident(TIME_COLUMN)} AS BIGINT)"
    if rng.bounded_below:
        parts.append(f"{t} >= {rng.lo}")
    if rng.bounded_above:
        parts.append(f"{t} <= {rng.hi}")
    if residual is not None:
        parts.append(to_sql(residual, table, now_ns))
    return " AND ".join(parts) if parts else None
