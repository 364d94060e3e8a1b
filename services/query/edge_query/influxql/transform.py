"""InfluxQL transformations, applied to each series' rows in time order after the query:
derivative, non_negative_derivative, difference, non_negative_difference, cumulative_sum,
moving_average, elapsed, the technical-analysis functions of
:mod:`edge_query.influxql.technical` and the Holt-Winters forecasts of
:mod:`edge_query.influxql.holtwinters`. Points whose value is null are skipped, as in 1.x."""

from __future__ import annotations

import itertools
from dataclasses import dataclass
from typing import Any

from edge_common.errors import QueryError
from edge_query.influxql import ast
from edge_query.influxql.holtwinters import holt_winters
from edge_query.influxql.technical import TECHNICAL, parse_technical

__all__ = ["FORECASTS", "TRANSFORMS", "Transform", "apply", "parse_transform"]

FORECASTS = {"holt_winters", "holt_winters_with_fit"}  # points beyond the query's range

TRANSFORMS = {
    "derivative",
    "non_negative_derivative",
    "difference",
    "non_negative_difference",
    "cumulative_sum",
    "moving_average",
    "elapsed",
    *TECHNICAL,
    *FORECASTS,
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
    if name in FORECASTS:
        return _parse_forecast(call, interval_ns)
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


def _parse_forecast(call: ast.Call, interval_ns: int | None) -> tuple[Transform, ast.Expr]:
    """``holt_winters[_with_fit](aggregate, N, S)``: N points forecast, season of S."""
    name, args = call.name, call.args
    if len(args) != 3:
        raise QueryError(f"invalid number of arguments for {name}, expected 3, got {len(args)}")
    if not isinstance(args[0], ast.Call):
        raise QueryError(f"must use aggregate function with {name}")
    if interval_ns is None:
        raise QueryError(f"{name} aggregate requires a GROUP BY interval")
    values = []
    for arg, nth, least in ((args[1], "second", 1), (args[2], "third", 0)):
        if not isinstance(arg, ast.IntegerLiteral):
            raise QueryError(f"expected integer argument as {nth} arg in {name}")
        if arg.value < least:
            why = "must be greater than 0" if least else "cannot be negative"
            raise QueryError(f"{nth} arg to {name} {why}, got {arg.value}")
        values.append(arg.value)
    return Transform(name, unit_ns=interval_ns, window=values[0], hold=values[1]), args[0]


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
    if t.name in FORECASTS:
        fit = t.name == "holt_winters_with_fit"
        return holt_winters(points, t.window, t.hold, t.unit_ns, fit)
    if t.name == "moving_average":
        for i in range(t.window - 1, len(points)):
            window = [v for _, v in points[i - t.window + 1 : i + 1]]
            out.append([points[i][0], sum(window) / t.window])
        return out
    if t.name != "elapsed":
        # several series merged (no GROUP BY): of points at one time only the first (in
        # series key order) counts, as 1.x's derivative and difference skip the others
        points = [p for i, p in enumerate(points) if i == 0 or p[0] != points[i - 1][0]]
    for (t0, v0), (t1, v1) in itertools.pairwise(points):
        if t.name == "elapsed":
            elapsed = abs(t1 - t0) // t.unit_ns  # Go's division: toward zero
            out.append([t1, elapsed if t1 >= t0 else -elapsed])
            continue
        if t.name.endswith("difference"):
            value: Any = v1 - v0
        else:
            value = (v1 - v0) / (abs(t1 - t0) / t.unit_ns)
        if t.name.startswith("non_negative") and value < 0:
            continue
        out.append([t1, value])
    return out
