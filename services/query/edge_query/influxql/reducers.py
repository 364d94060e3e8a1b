"""Two reducers whose answers depend on the exact steps influxd 1.x takes, redone here step
for step (the same arithmetic in the same order, so the same numbers):

- ``mode()``: the most frequent value. On a tie influxd keeps the value whose run it meets
  first after sorting the points by value with Go's ``sort.Sort``, which does not keep
  equal values in time order; so the answer depends on where that sort leaves them.
  ``go_sort`` is Go 1.19's pattern-defeating quicksort (the Go Debian's influxd 1.6.7 is
  built with), so ties end where they end in influxd.
- ``integral()``: the area under a series' points, fed as one stream across the GROUP BY
  time() intervals: at an interval's end the value there is interpolated between the points
  on either side, its area counted on both sides. Float and integer fields take slightly
  different steps in influxd (the integer one keeps the earlier point's value after
  interpolating, and its interval without GROUP BY time() is the query's time range).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from edge_common.schema import ColumnType, TableSchema
from edge_query.influxql import ast
from edge_query.influxql.arith import evaluate
from edge_query.influxql.columns import REDUCED, Column
from edge_query.influxql.direct import run_starts
from edge_query.influxql.text import GO_WHOLE, go_integer
from edge_query.influxql.translate import TimeRange
from edge_query.influxql.vectorized import Bounds, integrals, modes
from edge_query.influxql.zones import ZoneClock, windows

__all__ = ["go_sort", "integral", "mode", "percentile_times", "with_reduced"]

Series = dict[str, Any]
Windowing = tuple[int, int, ZoneClock | None]  # GROUP BY time(): every, offset, zone

Point = tuple[int, Any]  # (time ns, value)
Less = Callable[[int, int], bool]

# a tie for the most frequent value among more points than this is settled by the smallest
# value instead of replaying Go's sort in Python (~0.3 s at this size)
MOST_SORTED = 20_000


def mode(points: Sequence[Point]) -> Any:
    """influxd's mode() of ``points`` in the order its iterator feeds them."""
    if len(points) == 1:
        return points[0][1]
    values = [v for _, v in points]
    if isinstance(values[0], bool):  # counted, not sorted: true wins a tie
        trues = sum(1 for v in values if v)
        return trues >= len(values) - trues
    distinct, counts = np.unique(np.asarray(values, dtype=object), return_counts=True)
    best = counts.max()
    if best == 1:  # no value repeats: 1.x keeps the first after sorting, the smallest
        return min(values)
    if (counts == best).sum() == 1:
        return distinct[int(np.argmax(counts))]
    if len(values) > MOST_SORTED:
        return min(distinct[counts == best])
    a = list(points)
    _sort_by_value(a)
    most_freq = 0
    curr_freq = 0
    curr_mode = a[0][1]
    most_mode = a[0][1]
    most_time = a[0][0]
    curr_time = a[0][0]
    for t, v in a:
        if v != curr_mode:
            curr_freq = 1
            curr_mode = v
            curr_time = t
            continue
        curr_freq += 1
        if most_freq > curr_freq or (most_freq == curr_freq and curr_time > most_time):
            continue
        most_freq = curr_freq
        most_mode = v
        most_time = t
    return most_mode


def integral(
    points: Sequence[Point],
    unit_ns: int,
    window: Callable[[int], tuple[int, int]] | None,
    ascending: bool,
    integer: bool,
) -> list[tuple[int, float]]:
    """influxd's integral() over one series' ``points`` (in the query's time order):
    ``(time, area)`` per interval it closes. ``window(t)`` is the interval holding ``t``
    (start, end); without one (no GROUP BY time()), floats have none and integers have the
    query's range, as influxd."""
    out: list[tuple[int, float]] = []
    total = 0.0
    prev: list[Any] | None = None  # [time, value]
    start = end = 0
    for t, raw in points:
        value = float(raw)
        if prev is None:
            prev = [t, raw]
            if window is not None:
                lo, hi = window(t)
                start, end = (lo, hi) if ascending else (hi, lo)
            continue
        if prev[0] == t:
            prev = [t, raw]
            continue
        crossed = (ascending and t >= end) or (not ascending and t <= end)
        if window is not None and crossed:
            if prev[0] != end:  # the value at the interval's end, between the two points
                at_end = float(prev[1]) + (float(raw) - float(prev[1])) * (end - prev[0]) / (
                    t - prev[0]
                )
                total += 0.5 * (at_end + float(prev[1])) * ((end - prev[0]) / unit_ns)
                if integer:
                    value = at_end  # (influxd's integer reducer goes on from here)
                else:
                    prev[1] = at_end
                prev[0] = end
            out.append((start, total))
            lo, hi = window(t)
            start, end = (lo, hi) if ascending else (hi, lo)
            total = 0.0
        total += 0.5 * (value + float(prev[1])) * ((t - prev[0]) / unit_ns)
        prev = [t, raw]
    if prev is not None and prev[0] != start:
        out.append((start, total))
    return out


def with_reduced(
    series: list[Series],
    points: pa.Table,
    table: TableSchema,
    cols: list[Column],
    group: list[str],
    names: list[str],
    rng: TimeRange,
    windowing: Windowing | None,
    desc: bool,
    go_floats: bool,
    gap: Any = None,
) -> list[Series]:
    """An aggregate statement's ``series`` with the value of each ``REDUCED`` column put in
    (``points``: the rows they read, by group then time). mode() is one value per interval,
    as any aggregate; integral()'s times are its own (influxd's stream), joined by time with
    the other columns, each missing one ``gap`` (by GROUP BY time(): the caller's mark of a
    cell fill() fills). A row stays where a cell holds anything but ``gap`` (a null too:
    stddev() of one point)."""
    by_key: dict[tuple[str, ...], Series] = {}
    for s in series:
        by_key[tuple(s.get("tags", {}).get(g, "") for g in group)] = s
    if not points.num_rows:
        return series
    times, keys, runs = _by_group(points, group)
    wanted = [(i, c) for i, c in enumerate(cols) if c.func in REDUCED and c.field]
    # per column, each group's (time, value) pairs: over all groups at once with numpy
    # where that gives influxd's numbers (edge_query.influxql.vectorized), else point by
    # point below
    found = {i: _at_once(c, points, times, runs, table, rng, windowing, desc) for i, c in wanted}
    fresh: list[Series] = []
    for k, (a, b) in enumerate(runs):
        key = keys[k]
        s = by_key.get(key)  # type: ignore[assignment]
        if s is None:
            s = {"name": table.name, "columns": ["time", *names], "values": []}
            if group:
                s["tags"] = dict(zip(group, key, strict=True))
            by_key[key] = s
            fresh.append(s)
        rows = {row[0]: row for row in s["values"]}
        if gap is not None:  # (the SQL's placeholders of the reduced columns)
            for row in rows.values():
                for i, _ in wanted:
                    row[i + 1] = gap
        for i, col in wanted:
            by_group = found[i]
            if by_group is not None:
                pairs = by_group.get(k, [])
            else:
                pairs = _reduce(
                    col,
                    _pts(points, col.field or "", times, a, b, desc),
                    table,
                    rng,
                    windowing,
                    desc,
                )
            for t, v in pairs:
                if col.expr is not None and v is not None:  # (mode(x) * 8)
                    v = evaluate(col.expr, _constant(v))
                if go_floats and isinstance(v, float) and v.is_integer() and abs(v) < GO_WHOLE:
                    v = go_integer(v)
                row = rows.get(t)
                if row is None:
                    row = rows[t] = [t, *([gap] * len(cols))]
                row[i + 1] = v
        if any(c.func == "integral" for c in cols):  # its own times: rows of nothing go
            mains = [i + 1 for i, c in enumerate(cols) if c.func != "aux"]
            empty = (None, gap) if gap is None else (gap,)
            rows = {t: r for t, r in rows.items() if any(r[i] not in empty for i in mains)}
        s["values"] = sorted(rows.values(), key=lambda r: r[0])
    # (the caller puts the series in the order of their tags)
    return [s for s in series if s["values"]] + [s for s in fresh if s["values"]]


def _constant(v: Any) -> Callable[[ast.Call], Any]:
    """A call's value for ``evaluate``: ``v``, whatever the call."""
    return lambda _call: v


def _pts(
    points: pa.Table, field: str, times: np.ndarray, a: int, b: int, desc: bool
) -> list[Point]:
    """Rows [a, b) of ``field`` as (time, value) points, in the order fed to the reducer
    (the query's)."""
    column = points.column(field).slice(a, b - a).to_pylist()
    pts = [(int(t), v) for t, v in zip(times[a:b].tolist(), column, strict=True) if v is not None]
    if desc:
        pts.reverse()
    return pts


def _arrays(
    points: pa.Table, field: str, times: np.ndarray, a: int, b: int
) -> tuple[np.ndarray, np.ndarray]:
    """The times and values of rows [a, b) holding a value, as numpy (in the rows' order:
    where only a value's place among the values matters, the order of the points does
    not)."""
    column = points.column(field).slice(a, b - a)
    when = times[a:b]
    if column.null_count:
        held = np.asarray(column.is_valid(), dtype=bool)
        column, when = column.filter(pa.array(held)), when[held]
    return when, column.to_numpy()


def _at_once(
    col: Column,
    points: pa.Table,
    times: np.ndarray,
    runs: list[tuple[int, int]],
    table: TableSchema,
    rng: TimeRange,
    windowing: Windowing | None,
    desc: bool,
) -> dict[int, list[tuple[int, Any]]] | None:
    """``col`` for every group at once (``vectorized``), as group → (time, value) pairs;
    None where only the point-by-point reducers give influxd's answer (text and boolean
    fields, integral() under DESC); a mode() cell in a tie is settled by them here."""
    kind = table.columns.get(col.field or "")
    if kind not in (ColumnType.FLOAT, ColumnType.INTEGER, ColumnType.UINTEGER):
        return None
    if col.func == "integral" and desc:
        return None
    arr = points.column(col.field or "")
    held = np.asarray(arr.is_valid(), dtype=bool)
    values = np.asarray(arr.fill_null(0))
    bounds = _many_bounds(windowing)
    integer = kind is not ColumnType.FLOAT
    if col.func == "integral":
        if bounds is None and integer:  # influxd's range, its earliest time shown as 0
            lo = rng.lo if rng.bounded_below else 0
            hi = rng.hi + 1 if rng.bounded_above else (1 << 63) - 1
            bounds = lambda t: (np.full(len(t), lo), np.full(len(t), hi))  # noqa: E731
        return integrals(times, values, held, runs, bounds, int(col.percent), integer)
    shown = rng.lo if rng.bounded_below else 0
    found, left = modes(times, values, held, runs, bounds, shown)
    for grp, a, b in left:
        pts = _pts(points, col.field or "", times, a, b, desc)
        at = bounds(np.array([pts[0][0]], dtype=np.int64))[0][0] if bounds is not None else shown
        found.setdefault(grp, []).append((int(at), mode(pts)))
    for pairs in found.values():
        pairs.sort(key=lambda p: p[0])
    return found


def percentile_times(
    series: list[Series],
    points: pa.Table,
    field: str,
    percent: float,
    group: list[str],
    desc: bool,
) -> None:
    """Each series' lone percentile() row gets the time of the point influxd picks: at the
    rank after Go's sort by value, which leaves equal values in no set order."""
    rows = {tuple(s.get("tags", {}).get(g, "") for g in group): s["values"][0] for s in series}
    times, keys, runs = _by_group(points, group)
    for k, (a, b) in enumerate(runs):
        row = rows.get(keys[k])
        if row is None:
            continue
        when, values = _arrays(points, field, times, a, b)
        n = len(values)
        rank = math.floor(n * percent / 100 + 0.5) - 1
        if not 0 <= rank < n:
            continue
        picked = np.partition(values, rank)[rank]
        equal = np.flatnonzero(values == picked)
        if len(equal) == 1:  # no other point holds its value: no order among equals to ask
            row[0] = int(when[equal[0]])
            continue
        if n > MOST_SORTED:
            continue
        # (as Python points only here: 7 of TSBS's 100 hosts; making them for every host
        # cost more than the sorts)
        pts = _pts(points, field, times, a, b, desc)
        _sort_by_value(pts)
        row[0] = pts[rank][0]


def _by_group(
    points: pa.Table, group: list[str]
) -> tuple[np.ndarray, list[tuple[str, ...]], list[tuple[int, int]]]:
    """``points`` (sorted by their group tags): their times, each group's key (the tags'
    texts, "" for a missing one, as a series shows them) and the [a, b) runs of its rows."""
    times = np.asarray(points.column("__time"), dtype=np.int64)
    if not len(times):
        return times, [], []
    starts = run_starts(points, group)
    firsts = pa.array(starts)
    heads = [pc.fill_null(points.column(g).take(firsts).cast(pa.string()), "") for g in group]
    keys: list[tuple[str, ...]] = [()]
    if group:
        keys = list(zip(*(h.to_pylist() for h in heads), strict=True))
    ends = [*starts[1:].tolist(), len(times)]
    return times, keys, list(zip(starts.tolist(), ends, strict=True))


def _reduce(
    col: Column,
    pts: list[Point],
    table: TableSchema,
    rng: TimeRange,
    windowing: Windowing | None,
    desc: bool,
) -> list[tuple[int, Any]]:
    """One series' values of a reduced column: (time, value) pairs."""
    if not pts:
        return []
    kind = table.columns.get(col.field or "")
    integer = kind in (ColumnType.INTEGER, ColumnType.UINTEGER)
    bounds = _bounds(windowing)
    if col.func == "integral":
        if bounds is not None:
            window: Callable[[int], tuple[int, int]] | None = bounds
        elif integer:  # influxd's range, its earliest time shown as 0
            lo = rng.lo if rng.bounded_below else 0
            hi = rng.hi + 1 if rng.bounded_above else (1 << 63) - 1
            window = lambda _t: (lo, hi)  # noqa: E731
        else:
            window = None
        return integral(pts, int(col.percent), window, not desc, integer)
    if bounds is None:
        return [(rng.lo if rng.bounded_below else 0, mode(pts))]
    by_window: dict[int, list[Point]] = {}
    for p in pts:
        by_window.setdefault(bounds(p[0])[0], []).append(p)
    return [(start, mode(these)) for start, these in by_window.items()]


def _many_bounds(windowing: Windowing | None) -> Bounds | None:
    """The GROUP BY time() intervals [start, end) holding each of many times."""
    if windowing is None:
        return None
    every, offset, clock = windowing
    if clock is not None:
        return lambda t: windows(t, every, offset, clock)

    def plain(t: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        start = t - (t - offset) % every
        return start, start + every

    return plain


def _bounds(windowing: Windowing | None) -> Callable[[int], tuple[int, int]] | None:
    """The GROUP BY time() interval [start, end) holding a time."""
    if windowing is None:
        return None
    every, offset, clock = windowing
    if clock is None:
        return lambda t: (t - (t - offset) % every, t - (t - offset) % every + every)

    def zoned(t: int) -> tuple[int, int]:
        start, end = windows(np.array([t], dtype=np.int64), every, offset, clock)
        return int(start[0]), int(end[0])

    return zoned


def _sort_by_value(points: list[Point]) -> None:
    """As influxd sorts points by value (``sort.Sort(floatPointsByValue(a))``)."""
    go_sort(points, lambda i, j: points[i][1] < points[j][1])


# --- Go 1.19's sort.Sort (pdqsort), on a list through less(i, j) ---------------------------


def go_sort(data: list[Any], less: Less) -> None:
    """Sort ``data`` in place exactly as Go 1.19's ``sort.Sort`` would, comparing by
    ``less(i, j)`` on positions (equal elements end where Go's sort leaves them)."""
    n = len(data)
    if n <= 1:
        return
    _Pdq(data, less).pdqsort(0, n, n.bit_length())


_INCREASING, _DECREASING, _UNKNOWN = 1, 2, 0


class _Pdq:
    def __init__(self, data: list[Any], less: Less) -> None:
        self.data = data
        self.less = less

    def swap(self, i: int, j: int) -> None:
        d = self.data
        d[i], d[j] = d[j], d[i]

    def insertion_sort(self, a: int, b: int) -> None:
        for i in range(a + 1, b):
            j = i
            while j > a and self.less(j, j - 1):
                self.swap(j, j - 1)
                j -= 1

    def sift_down(self, lo: int, hi: int, first: int) -> None:
        root = lo
        while True:
            child = 2 * root + 1
            if child >= hi:
                return
            if child + 1 < hi and self.less(first + child, first + child + 1):
                child += 1
            if not self.less(first + root, first + child):
                return
            self.swap(first + root, first + child)
            root = child

    def heap_sort(self, a: int, b: int) -> None:
        first, lo, hi = a, 0, b - a
        for i in range((hi - 1) // 2, -1, -1):
            self.sift_down(i, hi, first)
        for i in range(hi - 1, -1, -1):
            self.swap(first, first + i)
            self.sift_down(lo, i, first)

    def pdqsort(self, a: int, b: int, limit: int) -> None:
        was_balanced = True
        was_partitioned = True
        while True:
            length = b - a
            if length <= 12:
                self.insertion_sort(a, b)
                return
            if limit == 0:
                self.heap_sort(a, b)
                return
            if not was_balanced:
                self.break_patterns(a, b)
                limit -= 1
            pivot, hint = self.choose_pivot(a, b)
            if hint == _DECREASING:
                self.reverse_range(a, b)
                pivot = (b - 1) - (pivot - a)
                hint = _INCREASING
            likely_sorted = was_balanced and was_partitioned and hint == _INCREASING
            if likely_sorted and self.partial_insertion_sort(a, b):
                return
            if a > 0 and not self.less(a - 1, pivot):
                a = self.partition_equal(a, b, pivot)
                continue
            mid, already = self.partition(a, b, pivot)
            was_partitioned = already
            left, right = mid - a, b - mid
            threshold = length // 8
            if left < right:
                was_balanced = left >= threshold
                self.pdqsort(a, mid, limit)
                a = mid + 1
            else:
                was_balanced = right >= threshold
                self.pdqsort(mid + 1, b, limit)
                b = mid

    def partition(self, a: int, b: int, pivot: int) -> tuple[int, bool]:
        self.swap(a, pivot)
        i, j = a + 1, b - 1
        while i <= j and self.less(i, a):
            i += 1
        while i <= j and not self.less(j, a):
            j -= 1
        if i > j:
            self.swap(j, a)
            return j, True
        self.swap(i, j)
        i += 1
        j -= 1
        while True:
            while i <= j and self.less(i, a):
                i += 1
            while i <= j and not self.less(j, a):
                j -= 1
            if i > j:
                break
            self.swap(i, j)
            i += 1
            j -= 1
        self.swap(j, a)
        return j, False

    def partition_equal(self, a: int, b: int, pivot: int) -> int:
        # (its loop repeats partition()'s: kept as Go's source writes both, to be checked
        # against it line by line)
        self.swap(a, pivot)
        i, j = a + 1, b - 1
        while True:
            while i <= j and not self.less(a, i):
                i += 1
            while i <= j and self.less(a, j):
                j -= 1
            if i > j:
                break
            self.swap(i, j)
            i += 1
            j -= 1
        return i

    def partial_insertion_sort(self, a: int, b: int) -> bool:
        max_steps, shortest_shifting = 5, 50
        i = a + 1
        for _ in range(max_steps):
            while i < b and not self.less(i, i - 1):
                i += 1
            if i == b:
                return True
            if b - a < shortest_shifting:
                return False
            self.swap(i, i - 1)
            if i - a >= 2:  # the smaller one to the left
                for j in range(i - 1, 0, -1):
                    if not self.less(j, j - 1):
                        break
                    self.swap(j, j - 1)
            if b - i >= 2:  # the greater one to the right
                for j in range(i + 1, b):
                    if not self.less(j, j - 1):
                        break
                    self.swap(j, j - 1)
        return False

    def break_patterns(self, a: int, b: int) -> None:
        length = b - a
        if length < 8:
            return
        state = length
        modulus = 1 << length.bit_length()
        mask64 = (1 << 64) - 1
        for idx in range(a + (length // 4) * 2 - 1, a + (length // 4) * 2 + 2):
            state ^= (state << 13) & mask64
            state ^= state >> 17
            state ^= (state << 5) & mask64
            other = state & (modulus - 1)
            if other >= length:
                other -= length
            self.swap(idx, a + other)

    def choose_pivot(self, a: int, b: int) -> tuple[int, int]:
        shortest_ninther, max_swaps = 50, 4 * 3
        n = b - a
        swaps = [0]
        i, j, k = a + n // 4 * 1, a + n // 4 * 2, a + n // 4 * 3
        if n >= 8:
            if n >= shortest_ninther:
                i = self.median(i - 1, i, i + 1, swaps)
                j = self.median(j - 1, j, j + 1, swaps)
                k = self.median(k - 1, k, k + 1, swaps)
            j = self.median(i, j, k, swaps)
        if swaps[0] == 0:
            return j, _INCREASING
        if swaps[0] == max_swaps:
            return j, _DECREASING
        return j, _UNKNOWN

    def order2(self, a: int, b: int, swaps: list[int]) -> tuple[int, int]:
        if self.less(b, a):
            swaps[0] += 1
            return b, a
        return a, b

    def median(self, a: int, b: int, c: int, swaps: list[int]) -> int:
        a, b = self.order2(a, b, swaps)
        b, c = self.order2(b, c, swaps)
        a, b = self.order2(a, b, swaps)
        return b

    def reverse_range(self, a: int, b: int) -> None:
        i, j = a, b - 1
        while i < j:
            self.swap(i, j)
            i += 1
            j -= 1
