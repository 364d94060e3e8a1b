"""influxd's first checks of each function call in a field: that the function exists, the
number of its arguments, and the literals some of them must be (a window, a period, a
duration). influxd makes them as it compiles each field, the call before the calls in
its arguments, before it looks at what the arguments name; so does ``check_calls``. The
checks that follow (field types, GROUP BY time() where a call needs it) are the planner's.
"""

from __future__ import annotations

from edge_common.errors import QueryError
from edge_query.influxql import ast
from edge_query.influxql.arith import MATH
from edge_query.influxql.text import duration_text

__all__ = ["check_calls", "check_fields", "go_name", "has_variable"]

_ONE = frozenset(
    [
        "count",
        "sum",
        "mean",
        "median",
        "mode",
        "stddev",
        "spread",
        "max",
        "min",
        "first",
        "last",
        "difference",
        "non_negative_difference",
        "cumulative_sum",
    ]
)
_ONE_OR_TWO = frozenset(("derivative", "non_negative_derivative", "elapsed", "integral"))
_AVERAGES = frozenset(
    [
        "exponential_moving_average",
        "double_exponential_moving_average",
        "triple_exponential_moving_average",
        "triple_exponential_derivative",
        "relative_strength_index",
    ]
)
_KAUFMANS = frozenset(("kaufmans_efficiency_ratio", "kaufmans_adaptive_moving_average"))
# the transformations: of an aggregate by GROUP BY time(), else of a field
_OF_AGGREGATES = _ONE_OR_TWO - {"integral"} | _AVERAGES | _KAUFMANS
_OF_AGGREGATES |= {"difference", "non_negative_difference", "cumulative_sum", "moving_average"}
_OF_AGGREGATES |= {"chande_momentum_oscillator"}
_MATH_TWO = ("atan2", "pow", "log")

_GO_NAMES = {  # the type of a node as Go's %T names it
    ast.IntegerLiteral: "IntegerLiteral",
    ast.NumberLiteral: "NumberLiteral",
    ast.StringLiteral: "StringLiteral",
    ast.BoolLiteral: "BooleanLiteral",
    ast.DurationLiteral: "DurationLiteral",
    ast.TimeLiteral: "StringLiteral",
    ast.VarRef: "VarRef",
    ast.Call: "Call",
    ast.NowCall: "Call",
    ast.BinaryExpr: "BinaryExpr",
    ast.UnaryExpr: "BinaryExpr",
    ast.ParenExpr: "ParenExpr",
    ast.RegexLiteral: "RegexLiteral",
    ast.Wildcard: "Wildcard",
}


def go_name(e: ast.Expr) -> str:
    """The Go type of influxd's node for ``e`` (``BooleanLiteral``)."""
    return _GO_NAMES.get(type(e), type(e).__name__)


def _go_type(e: ast.Expr) -> str:
    return f"*influxql.{go_name(e)}"


def check_fields(stmt: ast.SelectStatement) -> None:
    """influxd's compile of each field, before it reads anything (a subquery that answers
    nothing, a measurement that is not there): its calls, that it reads a name; and that
    one field is not time."""
    interval = any(isinstance(d.expr, ast.Call) and d.expr.name == "time" for d in stmt.dimensions)
    timed = [
        f for f in stmt.fields if isinstance(f.expr, ast.VarRef) and f.expr.name.lower() == "time"
    ]
    for f in stmt.fields:
        if f not in timed:
            check_calls(f.expr, interval)
            if not has_variable(f.expr):
                raise QueryError("field must contain at least one variable")
    if len(timed) == len(stmt.fields):
        raise QueryError("at least 1 non-time field must be queried")


def check_calls(e: ast.Expr, interval: bool) -> None:
    """Check each call of field expression ``e``, outermost first, left to right
    (``interval``: the statement groups by time())."""
    if isinstance(e, ast.Call):
        _check(e)
        if e.name in _OF_AGGREGATES:
            _aggregated(e.name, e.args[0], interval)
        for arg in e.args:
            check_calls(arg, interval)
    elif isinstance(e, ast.NowCall):
        raise QueryError("undefined function now()")
    elif isinstance(e, ast.BinaryExpr):
        check_calls(e.lhs, interval)
        check_calls(e.rhs, interval)
    elif isinstance(e, ast.ParenExpr | ast.UnaryExpr):
        check_calls(e.expr, interval)


def _aggregated(name: str, arg: ast.Expr, interval: bool) -> None:
    """A transformation takes an aggregate by GROUP BY time(), else a field."""
    if isinstance(arg, ast.Call) and not interval:
        raise QueryError(f"{name} aggregate requires a GROUP BY interval")
    if not isinstance(arg, ast.Call) and interval:
        raise QueryError(f"aggregate function required inside the call to {name}")


def has_variable(e: ast.Expr) -> bool:
    """Whether field expression ``e`` reads a name (influxd refuses a field of literals
    alone: ``field must contain at least one variable``)."""
    if isinstance(e, ast.VarRef | ast.Wildcard | ast.RegexLiteral):
        return True
    if isinstance(e, ast.Call):
        return any(has_variable(a) for a in e.args)
    if isinstance(e, ast.BinaryExpr):
        return has_variable(e.lhs) or has_variable(e.rhs)
    if isinstance(e, ast.ParenExpr | ast.UnaryExpr):
        return has_variable(e.expr)
    return False


def _count(name: str, got: int, least: int, most: int | None = None) -> None:
    """influxd's words for a wrong number of arguments: ``most`` None means exactly
    ``least``; -1 means at least ``least``."""
    if most is None:
        if got != least:
            raise QueryError(f"invalid number of arguments for {name}, expected {least}, got {got}")
    elif most < 0:
        if got < least:
            raise QueryError(
                f"invalid number of arguments for {name}, expected at least {least}, got {got}"
            )
    elif not least <= got <= most:
        raise QueryError(
            f"invalid number of arguments for {name}, expected at least {least} but no more "
            f"than {most}, got {got}"
        )


def _check(call: ast.Call) -> None:
    name, args = call.name, call.args
    if name in _ONE:
        _count(name, len(args), 1)
    elif name == "distinct":
        if not args:
            raise QueryError("distinct function requires at least one argument")
        if len(args) != 1:
            raise QueryError("distinct function can only have one argument")
    elif name in ("sample", "percentile"):
        _count(name, len(args), 2)
    elif name in ("top", "bottom"):
        _count(name, len(args), 2, -1)
    elif name in _ONE_OR_TWO:
        _count(name, len(args), 1, 2)
        if len(args) == 2:
            _duration(name, args[1])
    elif name == "moving_average":
        _count(name, len(args), 2)
        window = args[1]
        if not isinstance(window, ast.IntegerLiteral):
            raise QueryError(
                f"second argument for moving_average must be an integer, got {_go_type(window)}"
            )
        if window.value <= 1:
            raise QueryError(f"moving_average window must be greater than 1, got {window.value}")
    elif name in _AVERAGES or name in _KAUFMANS or name == "chande_momentum_oscillator":
        _count(name, len(args), 2, 3 if name in _KAUFMANS else 4)
        _periods(name, args)
    elif name in ("holt_winters", "holt_winters_with_fit"):
        _count(name, len(args), 3)
    elif name in MATH:
        _count(name, len(args), 2 if name in _MATH_TWO else 1)
    else:
        raise QueryError(f"undefined function {name}()")


def _duration(name: str, arg: ast.Expr) -> None:
    """The second argument of derivative(), elapsed() and integral(): a positive duration."""
    if not isinstance(arg, ast.DurationLiteral):
        if name == "integral":
            raise QueryError("second argument must be a duration")
        raise QueryError(f"second argument to {name} must be a duration, got {_go_type(arg)}")
    if arg.ns <= 0:
        raise QueryError(f"duration argument must be positive, got {duration_text(arg.ns)}")


def _periods(name: str, args: tuple[ast.Expr, ...]) -> None:
    """A technical analysis function's period (an integer of 1 or more), hold period (an
    integer) and warmup type (a text)."""
    period = args[1]
    if not isinstance(period, ast.IntegerLiteral):
        raise QueryError(f"{name} period must be an integer")
    if period.value < 1:
        raise QueryError(f"{name} period must be greater than or equal to 1")
    if len(args) > 2 and not isinstance(args[2], ast.IntegerLiteral):
        raise QueryError(f"{name} hold period must be an integer")
    if len(args) > 3 and not isinstance(args[3], ast.StringLiteral):
        raise QueryError(f"{name} warmup type must be a string")
