"""mode() and integral() over every series' points at once, with numpy.

``reducers.py`` redoes influxd's steps point by point in Python: exact, but ~1 s per million
points (TSBS, 432,000 points: integral() 315 ms against influxd's 127). Here the same
arithmetic runs over arrays, in the same order where the order changes the numbers:

- ``modes``: the most frequent value of each cell (series and interval) from the lengths of
  its runs of equal values. Only a tie between values repeated equally often depends on
  where Go's unstable sort leaves equal values: those cells (and NaN, which Go's sort
  scatters) are left to ``reducers.mode``.
- ``integrals``: influxd's stream reducer for points in ascending time. Each segment
  between two points adds its trapezoid to the interval it lies in; a segment across an
  interval's end is split at the value interpolated there, as influxd splits it. The areas
  are added to each interval's total one after another in the points' order
  (``np.add.at`` adds in index order), as influxd's ``+=`` does, so the totals are the same
  floats. ORDER BY time DESC is left to ``reducers.integral``.

Points come as ``reducers`` takes them: by series group, then time (``runs``: each group's
[a, b) rows), nulls included (skipped here).
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

__all__ = ["integrals", "modes"]

Bounds = Callable[[np.ndarray], tuple[np.ndarray, np.ndarray]]  # times → interval [start, end)
Found = dict[int, list[tuple[int, object]]]  # group (its run's index) → (time, value) pairs


def _group_of(runs: list[tuple[int, int]], size: int) -> np.ndarray:
    """Each row's group: the index of the run holding it (the runs cover rows 0..size)."""
    lengths = np.array([b - a for a, b in runs], dtype=np.int64)
    g = np.repeat(np.arange(len(runs), dtype=np.int64), lengths)
    assert len(g) == size
    return g


def modes(
    times: np.ndarray,
    values: np.ndarray,
    held: np.ndarray,
    runs: list[tuple[int, int]],
    bounds: Bounds | None,
    shown: int,
) -> tuple[Found, list[tuple[int, int, int]]]:
    """Of numeric ``values`` (``held``: rows holding one): each group's (interval start, or
    ``shown`` without intervals, mode) pairs, and the cells left to ``reducers.mode`` as
    (group, first row, end row) of the rows held."""
    rows = np.flatnonzero(held)
    x, t = values[rows], times[rows]
    g = _group_of(runs, len(times))[rows]
    start = bounds(t)[0] if bounds is not None else np.full(len(t), shown, dtype=np.int64)
    # cells: a group's interval; the rows come by group then time, so each is one run
    new_cell = np.ones(len(t), dtype=bool)
    new_cell[1:] = (g[1:] != g[:-1]) | (start[1:] != start[:-1])
    cell = np.cumsum(new_cell) - 1
    firsts = np.flatnonzero(new_cell)
    found: Found = {}
    if not len(t):
        return found, []
    # by value (quicksort), then by cell keeping that order (a radix sort for 16 bits)
    by_value = np.argsort(x)
    cells = cell[by_value]
    if len(firsts) <= 1 << 16:
        cells = cells.astype(np.uint16)
    order = by_value[np.argsort(cells, kind="stable")]
    sx, sc = x[order], cell[order]
    run_start = np.ones(len(sx), dtype=bool)
    run_start[1:] = (sc[1:] != sc[:-1]) | (sx[1:] != sx[:-1])
    heads = np.flatnonzero(run_start)
    lengths = np.diff(np.append(heads, len(sx)))
    run_cell = sc[heads]
    cell_heads = np.flatnonzero(np.r_[True, run_cell[1:] != run_cell[:-1]])
    best = np.maximum.reduceat(lengths, cell_heads)
    at_best = lengths == best[run_cell]
    ties = np.add.reduceat(at_best.astype(np.int64), cell_heads)
    # the value: of no repeated value the smallest (Go's sort puts it first); else the one
    # run longer than every other (equally long runs: settled by reducers.mode, below)
    winner = np.where(best == 1, heads[cell_heads], 0)
    longest = heads[at_best]
    first_longest = np.searchsorted(run_cell[at_best], np.arange(len(cell_heads)))
    winner = np.where(best > 1, longest[np.minimum(first_longest, len(longest) - 1)], winner)
    left: list[tuple[int, int, int]] = []
    ends = np.append(firsts[1:], len(t))
    nan = np.isnan(sx) if sx.dtype.kind == "f" else None
    unsettled = (best > 1) & (ties > 1)
    if nan is not None:
        unsettled |= np.add.reduceat(nan[heads].astype(np.int64), cell_heads) > 0
    cell_values = sx[winner].tolist()
    cell_starts = start[firsts].tolist()
    cell_groups = g[firsts].tolist()
    for c, (grp, at, value, odd) in enumerate(
        zip(cell_groups, cell_starts, cell_values, unsettled.tolist(), strict=True)
    ):
        if odd:
            left.append((grp, int(rows[firsts[c]]), int(rows[ends[c] - 1]) + 1))
            continue
        found.setdefault(grp, []).append((at, value))
    return found, left


def integrals(
    times: np.ndarray,
    values: np.ndarray,
    held: np.ndarray,
    runs: list[tuple[int, int]],
    bounds: Bounds | None,
    unit_ns: int,
    integer: bool,
) -> Found:
    """influxd's integral() of each group's points in ascending time: (interval start, area)
    pairs, as ``reducers.integral`` gives them. ``bounds`` None: one interval starting at
    0 (a float field without GROUP BY time(); an integer field's caller passes the query's
    range as one interval)."""
    rows = np.flatnonzero(held)
    t, v = times[rows], values[rows].astype(np.float64)
    g = _group_of(runs, len(times))[rows]
    # points at one time: the first ends the area from the point before; each later one
    # replaces it without an area (influxd's step), so the last begins the next area
    first = np.ones(len(t), dtype=bool)
    first[1:] = (g[1:] != g[:-1]) | (t[1:] != t[:-1])
    last = np.ones(len(t), dtype=bool)
    last[:-1] = first[1:]
    into, out_of = v[first], v[last]
    t, g = t[first], g[first]
    if bounds is None:
        lo = np.zeros(len(t), dtype=np.int64)
        hi = np.full(len(t), np.iinfo(np.int64).max, dtype=np.int64)
    else:
        lo, hi = bounds(t)
    # each point's interval, numbered along the stream; a group's first opens one too
    opens = np.ones(len(t), dtype=bool)
    opens[1:] = (g[1:] != g[:-1]) | (lo[1:] != lo[:-1])
    interval = np.cumsum(opens) - 1
    n = int(interval[-1]) + 1 if len(t) else 0
    # segments between consecutive points of a group: within an interval, or across its end
    seg = np.flatnonzero(g[1:] == g[:-1]) + 1
    p, c = seg - 1, seg
    crossing = lo[c] != lo[p]
    vp, vc, tp, tc = out_of[p], into[c], t[p], t[c]
    inside = ~crossing
    area = 0.5 * (vc[inside] + vp[inside]) * ((tc[inside] - tp[inside]) / unit_ns)
    x = crossing
    end = hi[p[x]]
    at_end = vp[x] + (vc[x] - vp[x]) * (end - tp[x]).astype(np.float64) / (tc[x] - tp[x])
    before = 0.5 * (at_end + vp[x]) * ((end - tp[x]) / unit_ns)
    # after the end: influxd's float reducer goes on from the interpolated value; its
    # integer reducer takes that value for the new point and keeps the earlier one's
    after_from = vp[x] if integer else vc[x]
    after = 0.5 * (after_from + at_end) * ((tc[x] - end) / unit_ns)
    # every area in stream order: a crossing's part before the end, then its part after
    keys = np.empty(len(seg) + int(x.sum()), dtype=np.int64)
    adds = np.empty(len(keys), dtype=np.float64)
    slot = np.arange(len(seg)) + np.cumsum(crossing) - crossing  # each segment's first place
    keys[slot[inside]], adds[slot[inside]] = interval[c[inside]], area
    keys[slot[x]], adds[slot[x]] = interval[p[x]], before
    keys[slot[x] + 1], adds[slot[x] + 1] = interval[c[x]], after
    totals = np.zeros(n, dtype=np.float64)
    np.add.at(totals, keys, adds)
    # an interval is given unless it is a group's last and its one point lies on its start
    shown = np.ones(n, dtype=bool)
    group_last = np.ones(len(t), dtype=bool)
    group_last[:-1] = g[:-1] != g[1:]
    on_start = group_last & (t == (lo if bounds is not None else 0))
    shown[interval[on_start]] = False
    found: Found = {}
    firsts = np.flatnonzero(opens)
    for grp, start, total, keep in zip(
        g[firsts].tolist(),
        (lo[firsts] if bounds is not None else np.zeros(n, dtype=np.int64)).tolist(),
        totals.tolist(),
        shown.tolist(),
        strict=True,
    ):
        if keep:
            found.setdefault(grp, []).append((start, total))
    return found
