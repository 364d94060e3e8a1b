"""InfluxQL transformations, applied to each series' rows in time order after the query:
derivative, non_negative_derivative, difference, non_negative_difference, cumulative_sum,
moving_average, elapsed, and the technical-analysis functions of 1.x but Holt-Winters
(exponential moving averages single, double and triple, relative strength index, Chande
momentum oscillator, Kaufman's efficiency ratio and adaptive moving average, triple
exponential derivative), warm-ups and hold periods as influxd computes them. Points whose
value is null are skipped, as in 1.x."""

from __future__ import annotations

import itertools
from dataclasses import dataclass
from typing import Any

from edge_common.errors import QueryError
from edge_query.influxql import ast

__all__ = ["TRANSFORMS", "Transform", "apply", "parse_transform"]

TRANSFORMS = {
    "derivative",
    "non_negative_derivative",
    "difference",
    "non_negative_difference",
    "cumulative_sum",
    "moving_average",
    "elapsed",
    "exponential_moving_average",
    "double_exponential_moving_average",
    "triple_exponential_moving_average",
    "relative_strength_index",
    "chande_momentum_oscillator",
    "kaufmans_efficiency_ratio",
    "kaufmans_adaptive_moving_average",
    "triple_exponential_derivative",
}
_EMA_KIND = {
    "exponential_moving_average": 1,
    "double_exponential_moving_average": 2,
    "triple_exponential_moving_average": 3,
    "relative_strength_index": 0,
    "chande_momentum_oscillator": -1,
    "kaufmans_efficiency_ratio": -2,
    "kaufmans_adaptive_moving_average": -3,
    "triple_exponential_derivative": -4,
}


@dataclass(frozen=True)
class Transform:
    name: str
    unit_ns: int = 1_000_000_000  # derivative's unit; elapsed's is 1 ns
    window: int = 0  # moving_average's N; the period of the exponential averages
    hold: int = 0  # exponential averages: points taken in before the first is emitted
    warmup: str = "exponential"  # exponential averages: how the first period is averaged


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
    if name in _EMA_KIND:
        return _parse_ema(call), inner
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


def _parse_ema(call: ast.Call) -> Transform:
    """``x_exponential_moving_average(field, period[, hold_period[, warmup_type]])``."""
    name, args = call.name, call.args
    if not 2 <= len(args) <= 4:
        raise QueryError(
            f"invalid number of arguments for {name}, expected at least 2 but no more than 4, "
            f"got {len(args)}"
        )
    if not isinstance(args[1], ast.IntegerLiteral) or args[1].value < 1:
        raise QueryError(f"{name} period must be greater than or equal to 1")
    period = args[1].value
    # points taken in before the first is emitted, by default (RSI averages over period + 1)
    cmo = name == "chande_momentum_oscillator"
    warm = (
        period
        if name
        in (
            "relative_strength_index",
            "kaufmans_efficiency_ratio",
            "kaufmans_adaptive_moving_average",
            "triple_exponential_derivative",
        )
        else period - 1
    )
    hold = warm
    if len(args) > 2:
        least = 1 if name == "triple_exponential_derivative" else 0
        if (
            not isinstance(args[2], ast.IntegerLiteral)
            or args[2].value < -1
            or (args[2].value != -1 and args[2].value < least)
        ):
            raise QueryError(f"{name} hold period must be greater than or equal to {least}")
        hold = warm if args[2].value == -1 else args[2].value
    warmup = "none" if cmo else "exponential"
    if len(args) > 3:
        allowed = ("none", "exponential", "simple") if cmo else ("exponential", "simple")
        if not isinstance(args[3], ast.StringLiteral) or args[3].value not in allowed:
            listed = " ".join(f"'{a}'" for a in allowed)
            raise QueryError(f"{name} warmup type must be one of: {listed}")
        warmup = args[3].value
    if cmo and warmup != "none" and (len(args) < 3 or args[2].value == -1):  # type: ignore[union-attr]
        hold = period  # smoothed by averages over period + 1
    return Transform(name, window=period, hold=hold, warmup=warmup)


class _EMA:
    """One exponential moving average over a stream (the warm-up as 1.x computes it)."""

    def __init__(self, period: int, warmup: str, alpha: float | None = None) -> None:
        self.period = period
        self.alpha = 2 / (period + 1) if alpha is None else alpha
        self.warmup = warmup
        self.count = 0
        self.last = 0.0

    def add(self, v: float) -> float:
        if self.count == 0:
            avg = v
        elif self.count < self.period and self.warmup == "simple":
            avg = (self.last * self.count + v) / (self.count + 1)
        elif self.count < self.period:  # warming up: the weight of a shorter period
            avg = (v - self.last) * (2 / (self.count + 2)) + self.last
        else:
            avg = (v - self.last) * self.alpha + self.last
        self.last = avg
        if self.count < self.period:
            self.count += 1
        return avg


def _rsi_rows(t: Transform, points: list[tuple[int, Any]]) -> list[list[Any]]:
    """Relative strength index: averages of rises and falls (weight 1/period), as 1.x."""
    up, down = (_EMA(t.window + 1, t.warmup, 1 / t.window) for _ in range(2))
    last = 0.0
    out: list[list[Any]] = []
    for n, (ts, v) in enumerate(points, start=1):
        v = float(v)
        rise, fall = max(v - last, 0.0), max(last - v, 0.0)
        last = v
        u, d = up.add(rise), down.add(fall)
        if n > t.hold:
            out.append([ts, 100 - 100 / (1 + u / d) if d else 100.0])
    return out


def _cmo_rows(t: Transform, points: list[tuple[int, Any]]) -> list[list[Any]]:
    """Chande momentum oscillator: rises against falls over the last ``period`` changes
    (warm-up 'none'), or over averages of them as RSI (other warm-ups), as 1.x."""
    out: list[list[Any]] = []
    if t.warmup != "none":
        up, down = (_EMA(t.window + 1, t.warmup, 1 / t.window) for _ in range(2))
        last = 0.0
        for n, (ts, v) in enumerate(points, start=1):
            v = float(v)
            u, d = up.add(max(v - last, 0.0)), down.add(max(last - v, 0.0))
            last = v
            if n > t.hold:
                out.append([ts, 100.0 * (u - d) / (u + d) if u + d else 0.0])
        return out
    prices: list[float] = []
    diffs: list[float] = []
    for n, (ts, v) in enumerate(points, start=1):
        v = float(v)
        diffs.append(v - prices[-1] if prices else 0.0)
        prices.append(v)
        window = diffs[-t.window :]
        rises = sum(d for d in window if d > 0)
        falls = -sum(d for d in window if d < 0)
        if n > t.hold:
            out.append([ts, 100.0 * (rises - falls) / (rises + falls) if rises or falls else 0.0])
    return out


class _KER:
    """Kaufman's efficiency ratio: the net move over the ring of the last ``period`` points
    against the sum of the steps (the ring starts as zeros, as in 1.x)."""

    def __init__(self, period: int) -> None:
        self.prices = [0.0] * period
        self.diffs = [0.0] * period
        self.noise = 0.0
        self.idx = 0
        self.count = 0

    def warmed(self) -> bool:  # 1.x counts one more point than the ring holds
        return self.count == len(self.prices) + 1

    def add(self, v: float) -> float:
        oldest = (self.idx + 1) % len(self.prices)
        signal = abs(v - self.prices[oldest])
        diff = abs(v - self.prices[self.idx])
        self.noise += diff - self.diffs[oldest]
        self.idx = oldest
        self.prices[oldest], self.diffs[oldest] = v, diff
        if not self.warmed():
            self.count += 1
        return 0.0 if signal == 0 or self.noise == 0 else signal / self.noise


def _kaufman_rows(t: Transform, points: list[tuple[int, Any]], adaptive: bool) -> list[list[Any]]:
    ker = _KER(t.window)
    last = 0.0
    out: list[list[Any]] = []
    fast, slow = 2 / 3, 2 / 31
    for n, (ts, v) in enumerate(points, start=1):
        v = float(v)
        if adaptive and not ker.warmed():  # 1.x starts again from the previous price
            last = ker.prices[ker.idx]
        er = ker.add(v)
        if adaptive:
            last += (er * (fast - slow) + slow) ** 2 * (v - last)
        if n > t.hold:
            out.append([ts, last if adaptive else er])
    return out


def _trix_rows(t: Transform, points: list[tuple[int, Any]]) -> list[list[Any]]:
    """The rate of change (percent) of a triple exponential moving average."""
    stages = [_EMA(t.window, t.warmup) for _ in range(3)]
    last = 0.0
    out: list[list[Any]] = []
    for n, (ts, v) in enumerate(points, start=1):
        cur = float(v)
        for stage in stages:
            cur = stage.add(cur)
        value = (cur - last) / last * 100 if last else None
        last = cur
        if n > t.hold and value is not None:
            out.append([ts, value])
    return out


def _ema_rows(t: Transform, points: list[tuple[int, Any]]) -> list[list[Any]]:
    kind = _EMA_KIND[t.name]
    if kind == 0:
        return _rsi_rows(t, points)
    if kind == -1:
        return _cmo_rows(t, points)
    if kind in (-2, -3):
        return _kaufman_rows(t, points, adaptive=kind == -3)
    if kind == -4:
        return _trix_rows(t, points)
    stages = [_EMA(t.window, t.warmup) for _ in range(kind)]
    out: list[list[Any]] = []
    for n, (ts, v) in enumerate(points, start=1):
        e1 = stages[0].add(float(v))
        if kind == 1:
            value = e1
        elif kind == 2:
            value = 2 * e1 - stages[1].add(e1)
        else:
            e2 = stages[1].add(e1)
            e3 = stages[2].add(e2)
            value = 3 * e1 - 3 * e2 + e3
        if n > t.hold:
            out.append([ts, value])
    return out


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
    if t.name in _EMA_KIND:
        return _ema_rows(t, points)
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
