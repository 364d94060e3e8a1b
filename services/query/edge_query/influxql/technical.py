"""The technical-analysis functions of InfluxQL 1.x but Holt-Winters: exponential moving
averages (single, double, triple), relative strength index, Chande momentum oscillator,
Kaufman's efficiency ratio and adaptive moving average, triple exponential derivative, with
periods, hold periods, warm-ups and quirks as influxd computes them (each compared with
influxd 1.6.7 in tests/compat). Each takes a series' points ``(time_ns, value)`` in query
order and returns the rows it emits.
"""

from __future__ import annotations

import functools
import math
from collections.abc import Callable
from typing import Any

from edge_common.errors import QueryError
from edge_query.influxql import ast

__all__ = ["TECHNICAL", "parse_technical"]

Points = list[tuple[int, Any]]
_EMA_STAGES = {
    "exponential_moving_average": 1,
    "double_exponential_moving_average": 2,
    "triple_exponential_moving_average": 3,
}


def parse_technical(call: ast.Call) -> tuple[int, int, str]:
    """``name(field, period[, hold_period[, warmup_type]])``: period, hold, warm-up."""
    name, args = call.name, call.args
    if not 2 <= len(args) <= 4:
        raise QueryError(
            f"invalid number of arguments for {name}, expected at least 2 but no more than 4, "
            f"got {len(args)}"
        )
    if not isinstance(args[1], ast.IntegerLiteral) or args[1].value < 1:
        raise QueryError(f"{name} period must be greater than or equal to 1")
    period = args[1].value
    given = -1  # the hold period asked for; -1: the function's default
    if len(args) > 2:
        least = 1 if name == "triple_exponential_derivative" else 0
        arg = args[2]
        if not isinstance(arg, ast.IntegerLiteral) or not (arg.value == -1 or arg.value >= least):
            raise QueryError(f"{name} hold period must be greater than or equal to {least}")
        given = arg.value
    cmo = name == "chande_momentum_oscillator"
    warmup = "none" if cmo else "exponential"
    if len(args) > 3:
        allowed = ("none", "exponential", "simple") if cmo else ("exponential", "simple")
        if not isinstance(args[3], ast.StringLiteral) or args[3].value not in allowed:
            listed = " ".join(f"'{a}'" for a in allowed)
            raise QueryError(f"{name} warmup type must be one of: {listed}")
        warmup = args[3].value
    # the default hold: period - 1, or period where averages run over period + 1 points
    short = name in _EMA_STAGES or (cmo and warmup == "none")
    default = period - 1 if short else period
    return period, default if given == -1 else given, warmup


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


def _rsi_rows(points: Points, period: int, hold: int, warmup: str) -> list[list[Any]]:
    """Relative strength index: averages of rises and falls (weight 1/period), as 1.x."""
    up, down = (_EMA(period + 1, warmup, 1 / period) for _ in range(2))
    last = 0.0
    out: list[list[Any]] = []
    for n, (ts, v) in enumerate(points, start=1):
        v = float(v)
        rise, fall = max(v - last, 0.0), max(last - v, 0.0)
        last = v
        u, d = up.add(rise), down.add(fall)
        if n > hold:  # (Go's floats: a rise over no fall is 100; no rise nor fall, NaN)
            out.append([ts, 100 - 100 / (1 + u / d) if d else 100.0 if u else math.nan])
    return out


def _cmo_rows(points: Points, period: int, hold: int, warmup: str) -> list[list[Any]]:
    """Chande momentum oscillator: rises against falls over the last ``period`` changes
    (warm-up 'none'), or over averages of them as RSI (other warm-ups), as 1.x."""
    out: list[list[Any]] = []
    if warmup != "none":
        up, down = (_EMA(period + 1, warmup, 1 / period) for _ in range(2))
        last = 0.0
        for n, (ts, v) in enumerate(points, start=1):
            v = float(v)
            u, d = up.add(max(v - last, 0.0)), down.add(max(last - v, 0.0))
            last = v
            if n > hold:
                out.append([ts, 100.0 * (u - d) / (u + d) if u + d else 0.0])
        return out
    prices: list[float] = []
    diffs: list[float] = []
    for n, (ts, v) in enumerate(points, start=1):
        v = float(v)
        diffs.append(v - prices[-1] if prices else 0.0)
        prices.append(v)
        window = diffs[-period:]
        rises = sum(d for d in window if d > 0)
        falls = -sum(d for d in window if d < 0)
        if n > hold:
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


def _kaufman_rows(
    adaptive: bool, points: Points, period: int, hold: int, warmup: str
) -> list[list[Any]]:
    ker = _KER(period)
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
        if n > hold:
            out.append([ts, last if adaptive else er])
    return out


def _trix_rows(points: Points, period: int, hold: int, warmup: str) -> list[list[Any]]:
    """The rate of change (percent) of a triple exponential moving average."""
    stages = [_EMA(period, warmup) for _ in range(3)]
    last = 0.0
    out: list[list[Any]] = []
    for n, (ts, v) in enumerate(points, start=1):
        cur = float(v)
        for stage in stages:
            cur = stage.add(cur)
        value = (cur - last) / last * 100 if last else None
        last = cur
        if n > hold and value is not None:
            out.append([ts, value])
    return out


def _ema_rows(kind: int, points: Points, period: int, hold: int, warmup: str) -> list[list[Any]]:
    stages = [_EMA(period, warmup) for _ in range(kind)]
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
        if n > hold:
            out.append([ts, value])
    return out


TECHNICAL: dict[str, Callable[[Points, int, int, str], list[list[Any]]]] = {
    **{name: functools.partial(_ema_rows, kind) for name, kind in _EMA_STAGES.items()},
    "relative_strength_index": _rsi_rows,
    "chande_momentum_oscillator": _cmo_rows,
    "kaufmans_efficiency_ratio": functools.partial(_kaufman_rows, False),
    "kaufmans_adaptive_moving_average": functools.partial(_kaufman_rows, True),
    "triple_exponential_derivative": _trix_rows,
}
