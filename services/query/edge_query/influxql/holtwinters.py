"""holt_winters() and holt_winters_with_fit(): forecasts of a GROUP BY time() series by the
damped Holt-Winters method, fitted the way influxd 1.x fits it, so the numbers agree.

influxd places the points on the interval grid (rounding each time to the nearest interval,
keeping the first point of a slot, NaN where a slot is empty), guesses a level, a trend and
seasonal factors from the first points, then minimises the squared error of the one-step
fit with the Nelder-Mead simplex method, started from each of the 16 combinations of 0.3
and 0.7 for alpha, beta, gamma and phi, and forecasts with the best parameters found.

Two details shape the numbers and are kept on purpose: evaluating the error clamps the
four smoothing parameters into [0, 1] and runs the seasonal factors as a ring buffer in the
very list it was given, so each evaluation changes the simplex vertex it evaluates.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable
from typing import Any

from edge_query.budget import refuse

__all__ = ["holt_winters"]

_WEIGHT = 0.5  # share of the first values in the non-seasonal starting level and trend
_EPSILON = 1.0e-4  # the simplex stops when its values' deviation falls below this
_GUESSES = (0.3, 0.3 + 0.4)  # 0.3 + k * 0.4 below 1.0, summed as influxd steps through them
_NAN = float("nan")


def holt_winters(
    points: list[tuple[int, Any]], horizon: int, season: int, interval: int, with_fit: bool
) -> list[list[Any]]:
    """Rows ``[time_ns, value]``: ``horizon`` forecasts after the last point (with the
    fitted values from the first point on as well, ``with_fit``)."""
    refuse()  # (its fits take milliseconds whatever the rows: a query worker's work)
    seasonal = season >= 2
    if len(points) < 2 or (seasonal and len(points) < season) or horizon <= 0:
        return []
    y = _on_grid(points, interval)
    if y is None:
        return []
    model = _Model(y, seasonal)
    start = model.initial(season)
    best: list[float] | None = None
    least = math.inf
    for alpha in _GUESSES:
        for beta in _GUESSES:
            for gamma in _GUESSES:
                for phi in _GUESSES:
                    start[0:4] = [alpha, beta, gamma, phi]
                    sse, params = _nelder_mead(model.sse, start)
                    if sse < least or best is None:
                        least, best = sse, params
    assert best is not None
    forecast = model.forecast(horizon, best)
    if with_fit:
        first = points[0][0]
        return [[first + interval * i, v] for i, v in enumerate(forecast) if not math.isnan(v)]
    last = points[-1][0]
    return [
        [last + interval * (i + 1), v]
        for i, v in enumerate(forecast[len(y) :])
        if not math.isnan(v)
    ]


def _round(t: int, interval: int) -> int:
    """The nearest multiple of ``interval`` (halves round down), with Go's truncating
    division and remainder."""
    quotient = abs(t) // interval * (1 if t >= 0 else -1)
    remainder = t - quotient * interval
    return (quotient + 1) * interval if remainder > interval // 2 else quotient * interval


def _on_grid(points: list[tuple[int, Any]], interval: int) -> list[float] | None:
    first, last = _round(points[0][0], interval), _round(points[-1][0], interval)
    if (last - first) // interval <= 0:
        return None
    y = [float(points[0][1])]
    t = first
    for when, value in points[1:]:
        slot = _round(when, interval)
        if slot <= t:
            continue  # a second point in the same slot
        t += interval
        while slot != t:
            y.append(_NAN)
            t += interval
        y.append(float(value))
    return y


class _Model:
    def __init__(self, y: list[float], seasonal: bool) -> None:
        self.y = y
        self.seasonal = seasonal
        # the damping sums phi + phi^2 + ... (as the fit adds them) by phi: about half of
        # the optimizer's evaluations repeat a phi (from its start, or clamped to 0 or 1)
        self._sums: dict[tuple[float, int], list[float]] = {}

    def damping(self, phi: float, count: int) -> list[float]:
        """The first ``count`` sums phi, phi + phi^2, …, each added as the fit adds them."""
        found = self._sums.get((phi, count))
        if found is None:
            if len(self._sums) >= 4096:
                self._sums.clear()
            found = [phi]
            for p in _go_pows(phi, count - 1):
                found.append(found[-1] + p)
            self._sums[(phi, count)] = found
        return found

    def initial(self, m: int) -> list[float]:
        """[alpha, beta, gamma, phi (set by the caller), level, trend, *seasonal factors]."""
        y = self.y
        if self.seasonal:
            level = 0.0
            for i in range(m):
                if not math.isnan(y[i]):
                    level += (1 / m) * y[i]
            trend = 0.0
            for i in range(m):
                if m + i >= len(y):
                    break
                if not math.isnan(y[i]) and not math.isnan(y[m + i]):
                    trend += 1 / (m * m) * (y[m + i] - y[i])
            factors = [0.0 if math.isnan(y[i]) else _div(y[i], level) for i in range(m)]
        else:
            level = _WEIGHT * y[0]
            trend = 0.0 if math.isnan(y[1]) else _WEIGHT * (y[1] - y[0])
            factors = []
        return [0.0, 0.0, 0.0, 0.0, level, trend, *factors]

    def forecast(self, h: int, params: list[float]) -> list[float]:
        """The one-step fit of every point, then ``h`` forecasts. Changes ``params``: the
        smoothing parameters are clamped and the seasonal factors updated in place."""
        for i in range(4):
            params[i] = min(max(params[i], 0.0), 1.0)
        alpha, beta, gamma, phi = params[0], params[1], params[2], params[3]
        y_t, level, trend = self.y[0], params[4], params[5]
        m = len(params) - 6 if self.seasonal else 0
        if m == 1:
            params[6] = 1.0
        offset = m - 1
        n = len(self.y)
        out = [_NAN] * (n + h)
        out[0] = y_t
        s_tm = s_tmh = 1.0
        sums = self.damping(phi, n + h - 1)
        for t in range(1, n + h):
            if m:
                s_tm = params[6 + (t - m + offset) % m]
                s_tmh = params[6 + (t - m + t % m + offset) % m]
            damped = level + phi * trend
            new_level = (
                alpha * (y_t / s_tm if s_tm != 0.0 else _div(y_t, s_tm)) + (1 - alpha) * damped
            )
            new_trend = beta * (new_level - level) + (1 - beta) * phi * trend
            season_t = (
                gamma * (y_t / damped if damped != 0.0 else _div(y_t, damped)) + (1 - gamma) * s_tm
            )
            y_t = (new_level + sums[t - 1] * new_trend) * s_tmh
            level, trend = new_level, new_trend
            if m:
                params[6 + (t + offset) % m] = season_t
                offset += 1
            out[t] = y_t
        return out

    def sse(self, params: list[float]) -> float:
        """The squared error of the one-step fit: ``forecast(0, params)``'s steps, fused
        with the comparison (the optimizer's ~27,000 calls for one series were most of
        holt_winters' time). Changes ``params`` as ``forecast`` does."""
        for i in range(4):
            params[i] = min(max(params[i], 0.0), 1.0)
        alpha, beta, gamma, phi = params[0], params[1], params[2], params[3]
        ys = self.y
        y_t, level, trend = ys[0], params[4], params[5]
        m = len(params) - 6 if self.seasonal else 0
        if m == 1:
            params[6] = 1.0
        factors = params[6:]
        offset = m - 1
        n = len(ys)
        keep_a, keep_b, keep_g = 1 - alpha, 1 - beta, 1 - gamma
        s_tm = s_tmh = 1.0
        sums = self.damping(phi, n - 1)
        # (the first fitted value is the first value itself: no error there; x != x: NaN)
        total = 0.0
        unfit = False
        for t in range(1, n):
            if m:
                s_tm = factors[(t - m + offset) % m]
                s_tmh = factors[(t - m + t % m + offset) % m]
            damped = level + phi * trend
            new_level = alpha * (y_t / s_tm if s_tm != 0.0 else _div(y_t, s_tm)) + keep_a * damped
            new_trend = beta * (new_level - level) + keep_b * phi * trend
            season_t = (
                gamma * (y_t / damped if damped != 0.0 else _div(y_t, damped)) + keep_g * s_tm
            )
            y_t = (new_level + sums[t - 1] * new_trend) * s_tmh
            level, trend = new_level, new_trend
            if m:
                factors[(t + offset) % m] = season_t
                offset += 1
            actual = ys[t]
            if actual != actual:
                continue  # no value to compare with
            if y_t != y_t:
                unfit = True  # (the steps go on: they change the factors to the end)
                continue
            diff = y_t - actual
            total += diff * diff
        params[6:] = factors
        return math.inf if unfit else total


def _total(values: Iterable[float]) -> float:
    """Left to right, as Go adds (Python 3.12's sum() compensates, and would differ)."""
    total = 0.0
    for v in values:
        total += v
    return total


def _div(a: float, b: float) -> float:
    """``a / b`` as IEEE 754 (and Go) divide: by zero gives an infinity or NaN, no error."""
    if b != 0.0:
        return a / b
    if a == 0.0 or math.isnan(a):
        return _NAN
    return math.copysign(math.inf, a) * math.copysign(1.0, b)


def _go_pows(x: float, count: int) -> list[float]:
    """``[x ** t for t in 1..count]`` as Go's math.Pow computes them: by repeated squaring
    of the mantissa, which can differ from C's pow in the last bits (and the optimizer then
    takes another path). The squarings are made once for all powers: each multiplies the
    same factors in the same order as Go's loop for its exponent, so the bits are the same
    (one power at a time was half of holt_winters' time)."""
    if count <= 0:
        return []
    if x == 1.0:
        return [1.0] * count
    if x == 0.0:
        return [x] + [0.0] * (count - 1)
    squares: list[tuple[float, int]] = []  # (mantissa, exponent) at each step
    x1, xe = math.frexp(x)
    for _ in range(count.bit_length()):
        squares.append((x1, xe))
        x1 *= x1
        xe <<= 1
        if x1 < 0.5:
            x1 += x1
            xe -= 1
    if all(-(1 << 12) <= se <= (1 << 12) for _, se in squares):
        # Go multiplies a power's factors from the lowest bit up, so the product for n is
        # the product for n without its highest bit, times that bit's square: one
        # multiplication per power, the same bits (and 4x quicker than the loop below)
        a1s, aes = [1.0] * (count + 1), [0] * (count + 1)
        for n in range(1, count + 1):
            high = n.bit_length() - 1
            rest = n - (1 << high)
            s1, se = squares[high]
            a1s[n] = a1s[rest] * s1 if rest else s1
            aes[n] = aes[rest] + se
        ldexp = math.ldexp
        return [x, *(ldexp(a1s[n], aes[n]) for n in range(2, count + 1))]
    out = [x]  # (an exponent out of range on the way: Go's loop stops there)
    for n in range(2, count + 1):
        a1, ae = 1.0, 0
        i, k = n, 0
        while i != 0:
            s1, se = squares[k]
            if se < -(1 << 12) or se > (1 << 12):
                ae += se
                break
            if i & 1:
                a1 *= s1
                ae += se
            i >>= 1
            k += 1
        out.append(math.ldexp(a1, ae))
    return out


def _nelder_mead(
    f: Callable[[list[float]], float], start: list[float], iterations: int = 1000
) -> tuple[float, list[float]]:
    """Minimise ``f`` from ``start`` by the Nelder-Mead simplex (reflection 1, contraction
    0.5, expansion 2; a regular simplex of size 1 around ``start``), step for step as
    influxd's optimizer, which after M. F. Hutt's C version."""
    n = len(start)
    pn = (math.sqrt(n + 1) - 1 + n) / (n * math.sqrt(2))
    qn = (math.sqrt(n + 1) - 1) / (n * math.sqrt(2))
    v = [list(start)] + [
        [start[j] + (pn if i - 1 == j else qn) for j in range(n)] for i in range(1, n + 1)
    ]
    fv = [f(v[j]) for j in range(n + 1)]
    for _ in range(iterations):
        vg = vs = 0
        for i in range(n + 1):
            if fv[i] > fv[vg]:
                vg = i
            if fv[i] < fv[vs]:
                vs = i
        vh = vs
        for i in range(n + 1):
            if fv[vh] < fv[i] < fv[vg]:
                vh = i
        vm = [_total(v[k][i] for k in range(n + 1) if k != vg) / n for i in range(n)]
        vr = [vm[i] + (vm[i] - v[vg][i]) for i in range(n)]
        fr = f(vr)
        if fv[vs] <= fr < fv[vh]:
            v[vg], fv[vg] = list(vr), fr
        if fr < fv[vs]:
            ve = [vm[i] + 2.0 * (vr[i] - vm[i]) for i in range(n)]
            fe = f(ve)
            if fe < fr:
                v[vg], fv[vg] = list(ve), fe
            else:
                v[vg], fv[vg] = list(vr), fr
        if fr >= fv[vh]:
            if fv[vh] <= fr < fv[vg]:
                vc = [vm[i] + 0.5 * (vr[i] - vm[i]) for i in range(n)]
            else:
                vc = [vm[i] - 0.5 * (vm[i] - v[vg][i]) for i in range(n)]
            fc = f(vc)
            if fc < fv[vg]:
                v[vg], fv[vg] = list(vc), fc
            else:  # shrink every vertex halfway towards the best
                for row in range(n + 1):
                    if row != vs:
                        v[row] = [v[vs][i] + (v[row][i] - v[vs][i]) / 2.0 for i in range(n)]
                fv[vg] = f(v[vg])
                fv[vh] = f(v[vh])
        mean = _total(fv) / (n + 1)
        spread = math.sqrt(_total((x - mean) * (x - mean) / n for x in fv))
        if spread < _EPSILON:
            break
    vs = 0
    for i in range(n + 1):
        if fv[i] < fv[vs]:
            vs = i
    best = list(v[vs])
    return f(v[vs]), best
