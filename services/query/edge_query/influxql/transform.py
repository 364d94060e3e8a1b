"""InfluxQL transformations, applied to each series' rows in time order after the query:
derivative, non_negative_derivative, difference, non_negative_difference, cumulative_sum,
moving_average, elapsed, and the technical-analysis functions of
:mod:`edge_query.influxql.technical`. Points whose value is null are skipped, as in 1.x."""

from __future__ import annotations

import itertools
from dataclasses import dataclass
from typing import Any

from edge_common.errors import QueryError
from edge_query.influxql import ast
from edge_query.influxql.technical import TECHNICAL, parse_technical

__all__ = ["TRANSFORMS", "Transform", "apply", "parse_transform"]

TRANSFORMS = {
    "derivative",
    "non_negative_derivative",
    "difference",
    "non_negative_difference",
    "cumulative_sum",
    "moving_average",
    "elapsed",
    *TECHNICAL,
}


@dataclass(frozen=True)
class Transform:
    name: str
    unit_ns: int = 1_000_000_000  # derivative's unit; elapsed's is 1 ns
    window: int = 0  # moving_average's N; a technical-analysis function's period
    hold: int = 0  # technical analysis: points taken in before the first is emitted
    warmup: str = "exponential"  # technical analysis: how the first period is averaged


def parse_transform(call: ast.Call, interval_ns: int | None) -> tuple[Transform, ast.Expr]:
    """The transformation and the expression it applies to (a field or an aggregate)."""
    name = call.name
    if not call.args:
        raise QueryError(f"invalid number of arguments for {name}, expected at least 1, got 0")
    inner = call.args[0]
    if isinstance(inner, ast.Call) and interval_ns is None:
        raise QueryError(f"{name} aggregate requires a GROUP BY interval")
    if not isinstance(inner, ast.Call) and interval_ns is not None:
        raise QueryError(f"aggregate function required inside the call to {name}")
    if name == "moving_average":
        if (
            len(call.args) != 2
            or not isinstance(call.args[1], ast.IntegerLiteral)
            or call.args[1].value < 1
        ):
            raise QueryError("moving_average window must be greater than 1")
        return Transform(name, window=call.args[1].value), inner
    if name in TECHNICAL:
        period, hold, warmup = parse_technical(call)
        return Transform(name, window=period, hold=hold, warmup=warmup), inner
    unit = (interval_ns or 1_000_000_000) if name.endswith("derivative") else 1
    if name == "elapsed":
        unit = 1
    if len(call.args) > 1:
        arg = call.args[1]
        if not isinstance(arg, ast.DurationLiteral) or name not in (
            "derivative",
            "non_negative_derivative",
            "elapsed",
        ):
            raise QueryError(f"second argument to {name} must be a duration")
        unit = arg.ns
    return Transform(name, unit_ns=unit), inner


def apply(t: Transform, rows: list[list[Any]]) -> list[list[Any]]:
    """``rows`` are [time_ns, value] in the query's order (ORDER BY time DESC: newest
    first, and each value then follows its newer neighbour, as in 1.x); returns the
    transformed rows."""
    points = [(r[0], r[1]) for r in rows if r[1] is not None]
    out: list[list[Any]] = []
    if t.name == "cumulative_sum":
        total: Any = 0
        for ts, v in points:
            total += v
            out.append([ts, total])
        return out
    if t.name in TECHNICAL:
        return TECHNICAL[t.name](points, t.window, t.hold, t.warmup)
    if t.name == "moving_average":
        for i in range(t.window - 1, len(points)):
            window = [v for _, v in points[i - t.window + 1 : i + 1]]
            out.append([points[i][0], sum(window) / t.window])
        return out
    for (t0, v0), (t1, v1) in itertools.pairwise(points):
        if t.name == "elapsed":
            elapsed = abs(t1 - t0) // t.unit_ns  # Go's division: toward zero
            out.append([t1, elapsed if t1 >= t0 else -elapsed])
            continue
        if t.name.endswith("difference"):
            value: Any = v1 - v0
        else:
            if t1 == t0:
                continue
            value = (v1 - v0) / (abs(t1 - t0) / t.unit_ns)
        if t.name.startswith("non_negative") and value < 0:
            continue
        out.append([t1, value])
    return out
