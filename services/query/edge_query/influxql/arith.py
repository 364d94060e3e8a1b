"""Arithmetic in the field list: the types influxd gives its terms (and the type errors
it answers for arithmetic of booleans, texts and tags), and its values worked out in
Python where no SQL does (a cell fill() fills, a mode() through arithmetic)."""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Callable
from typing import Any

from edge_common.errors import QueryError
from edge_common.schema import TableSchema
from edge_query.influxql import ast
from edge_query.influxql.technical import TECHNICAL
from edge_query.influxql.text import expr_text
from edge_query.influxql.translate import leaf_type

__all__ = ["MATH", "check_arithmetic", "evaluate", "go_type"]

MATH = {  # the math functions of InfluxQL
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


# influxd's type of what a call answers: these floats, count() integers, a math function
# floats (of numbers), the others the type of their field
_FLOAT_CALLS = {"mean", "median", "stddev", "integral", "derivative", "non_negative_derivative"}
_FLOAT_CALLS |= {"moving_average", "holt_winters", "holt_winters_with_fit"}
_ARITHMETIC = ("+", "-", "*", "/", "%", "&", "|", "^")


def go_type(e: ast.Expr, table: TableSchema) -> str | None:
    """The type influxd gives expression ``e`` ("integer", "float", "unsigned", "string",
    "boolean", "tag"), None where unknown (a name no column has)."""
    if isinstance(e, ast.ParenExpr | ast.UnaryExpr):
        return go_type(e.expr, table)
    if isinstance(e, ast.Call):
        if e.name == "count" or e.name == "elapsed":
            return "integer"
        if e.name in MATH or e.name in _FLOAT_CALLS or e.name in TECHNICAL:
            return "float"
        return go_type(e.args[0], table) if e.args else None
    if isinstance(e, ast.BinaryExpr) and e.op in _ARITHMETIC:
        lhs, rhs = go_type(e.lhs, table), go_type(e.rhs, table)
        if lhs is None or rhs is None:
            return None
        return "float" if "float" in (lhs, rhs) else lhs
    return leaf_type(e, table)


def _typed(e: ast.Expr, table: TableSchema) -> ast.Expr:
    """``e`` with each field named with its type, as influxd writes it in a type error
    (``first(swap::boolean) + 1``)."""
    if isinstance(e, ast.VarRef) and e.type_hint is None:
        kind = go_type(e, table)
        return dataclasses.replace(e, type_hint=kind) if kind else e
    if isinstance(e, ast.Call):
        return dataclasses.replace(e, args=tuple(_typed(a, table) for a in e.args))
    if isinstance(e, ast.BinaryExpr):
        return dataclasses.replace(e, lhs=_typed(e.lhs, table), rhs=_typed(e.rhs, table))
    if isinstance(e, ast.ParenExpr | ast.UnaryExpr):
        return dataclasses.replace(e, expr=_typed(e.expr, table))
    return e


def check_arithmetic(e: ast.Expr, table: TableSchema) -> None:
    """Arithmetic of a boolean or a text is refused as influxd refuses it: ``type error:
    swap::boolean + 1: incompatible types: boolean and integer`` (innermost first)."""
    if isinstance(e, ast.Call):
        for a in e.args:
            check_arithmetic(a, table)
        return
    if isinstance(e, ast.ParenExpr):
        check_arithmetic(e.expr, table)
        return
    pair: tuple[ast.Expr, ast.Expr] | None = None
    if isinstance(e, ast.UnaryExpr):  # influxd reads -x as -1 * x
        check_arithmetic(e.expr, table)
        pair = (ast.IntegerLiteral(-1), e.expr)
    elif isinstance(e, ast.BinaryExpr) and e.op in _ARITHMETIC:
        check_arithmetic(e.lhs, table)
        check_arithmetic(e.rhs, table)
        pair = (e.lhs, e.rhs)
    if pair is None:
        return
    lhs, rhs = (go_type(x, table) for x in pair)
    numbers = ("integer", "float", "unsigned")
    if lhs is None or rhs is None or (lhs in numbers and rhs in numbers):
        return
    raise QueryError(
        f"type error: {expr_text(_typed(e, table))}: incompatible types: {lhs} and {rhs}"
    )


def evaluate(e: ast.Expr, call_value: Callable[[ast.Call], Any]) -> Any:
    """Arithmetic over aggregates worked out in Python, each aggregate call's value from
    ``call_value``; None where any value is None (SQL's null) or Go's float would be no
    number. What a cell of ``max(x) - 8`` becomes where fill() fills ``max(x)``: 1.x
    fills each call, then does the arithmetic."""
    if isinstance(e, ast.IntegerLiteral):
        return e.value
    if isinstance(e, ast.NumberLiteral):
        return float(e.value)
    if isinstance(e, ast.ParenExpr):
        return evaluate(e.expr, call_value)
    if isinstance(e, ast.UnaryExpr):
        v = evaluate(e.expr, call_value)
        return None if v is None else -v
    if isinstance(e, ast.Call) and e.name not in MATH:
        return call_value(e)
    if isinstance(e, ast.Call):
        args = [evaluate(a, call_value) for a in e.args]
        if None in args:
            return None
        try:
            return _math_value(e.name, args)
        except (ValueError, OverflowError, ZeroDivisionError):
            return None
    if isinstance(e, ast.BinaryExpr) and e.op in ("+", "-", "*", "/", "%"):
        lhs, rhs = evaluate(e.lhs, call_value), evaluate(e.rhs, call_value)
        if lhs is None or rhs is None:
            return None
        if e.op in ("/", "%") and rhs == 0:  # (1.x: 0)
            return 0.0 if e.op == "/" or isinstance(lhs, float) else 0
        if e.op == "/":  # 1.x divides as floats
            return float(lhs) / rhs
        if e.op == "%" and isinstance(lhs, int) and isinstance(rhs, int):
            rest = abs(lhs) % abs(rhs)  # Go's remainder: the sign of the dividend
            return rest if lhs >= 0 else -rest
        if e.op == "%":
            return math.fmod(lhs, rhs)
        return {"+": lhs + rhs, "-": lhs - rhs, "*": lhs * rhs}[e.op]
    return None


def _math_value(name: str, args: list[Any]) -> Any:
    """A math function of numbers, as ``_math_sql`` has SQL work it out."""
    x = args[0]
    if name == "abs":
        return abs(x)
    if name in ("ceil", "floor"):
        return x if isinstance(x, int) else float(getattr(math, name)(x))
    if name == "round":  # halves away from zero (Go's math.Round, SQL's round)
        return x if isinstance(x, int) else math.copysign(math.floor(abs(x) + 0.5), x)
    if name == "pow":
        return math.pow(x, args[1])
    if name == "log":  # log(x, base)
        return math.log(x) / math.log(args[1])
    if name == "ln":
        return math.log(x)
    if name == "atan2":
        return math.atan2(x, args[1])
    return float(getattr(math, name)(x))
