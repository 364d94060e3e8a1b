"""GROUP BY time() in a tz() whose UTC offset changes inside the query's range, windowed as
influxd 1.x windows it.

influxd cuts local time: a window starts where the interval divides the local clock, so a
day around a change is 23 or 25 hours long. Which window a point falls in depends on the
points before it: a window is worked out from the first point not yet placed and takes
every later point before its end (a 2h window at the autumn change can hold 3 hours). The
answer's empty windows (fill) are then stepped through with the offset looked up again at
every step. This module reproduces both, per series, in numpy; the aggregates themselves
are still computed by the query engine, grouped by the window each row was given here.
"""

from __future__ import annotations

import datetime
import itertools
import time
import zoneinfo
from collections.abc import Callable
from typing import Any

import numpy as np
import pyarrow as pa

from edge_common.merge import time_values
from edge_common.schema import TIME_COLUMN, TableSchema
from edge_query.influxql import ast
from edge_query.influxql.translate import TimeRange, quote_ident

__all__ = [
    "ZoneClock",
    "fill_windows",
    "place_rows",
    "window_start",
    "windowed_rows",
    "windows",
    "zoned",
]

_HOUR = 3_600 * 10**9
_SECOND = 10**9


class ZoneClock:
    """A zone's UTC offset (ns) at any instant of a range, from its offset changes."""

    def __init__(self, name: str, lo: int, hi: int) -> None:
        self.zone = zoneinfo.ZoneInfo(name)
        lo, hi = lo - 2 * 86_400 * 10**9, hi + 2 * 86_400 * 10**9
        hours = list(range(lo - lo % _HOUR, hi + _HOUR, _HOUR))
        offsets = [self._at(t) for t in hours]
        self.changes: list[int] = []  # the first instant of each new offset
        self.values: list[int] = [offsets[0]]
        for a, b, oa, ob in zip(hours, hours[1:], offsets, offsets[1:], strict=False):
            if oa != ob:  # a change within (a, b]: find its second
                left, right = a // _SECOND, b // _SECOND
                while right - left > 1:
                    mid = (left + right) // 2
                    if self._at(mid * _SECOND) == oa:
                        left = mid
                    else:
                        right = mid
                self.changes.append(right * _SECOND)
                self.values.append(ob)
        self._changes = np.array(self.changes, dtype=np.int64)
        self._values = np.array(self.values, dtype=np.int64)

    @property
    def changing(self) -> bool:
        return bool(self.changes)

    def _at(self, ns: int) -> int:
        moment = datetime.datetime.fromtimestamp(ns // _SECOND, datetime.UTC).astimezone(self.zone)
        delta = moment.utcoffset() or datetime.timedelta()
        return int(delta.total_seconds()) * _SECOND

    def offsets(self, ns: np.ndarray) -> np.ndarray:
        return self._values[np.searchsorted(self._changes, ns, side="right")]

    def offset(self, ns: int) -> int:
        return int(self.offsets(np.array([ns], dtype=np.int64))[0])


def windows(t: np.ndarray, every: int, shift: int, clock: ZoneClock) -> tuple[Any, Any]:
    """influxd's window [start, end) for each time in ``t`` (interval ``every``, offset
    ``shift``)."""
    t = t - shift
    zone = clock.offsets(t)
    dt = (t + zone) % every
    start = t - dt
    moved = zone - clock.offsets(start)
    start = np.where((moved != 0) & (np.abs(moved) < every), start + moved, start) + shift
    end = t + (every - dt)
    end_zone = clock.offsets(end)
    moved = zone - end_zone
    near = (moved != 0) & (np.abs(moved) < every)
    # time added (clocks back) joins this window; time skipped is taken off it only when
    # the change lies inside the window
    back = near & (moved > 0)
    ahead = near & (moved < 0) & (clock.offsets(end + moved) == end_zone)
    end = np.where(back | ahead, end + moved, end) + shift
    return start, end


def place_rows(
    times: np.ndarray, groups: np.ndarray, every: int, shift: int, clock: ZoneClock
) -> np.ndarray:
    """The window start each row is counted in: rows sorted by group, then time; each
    window is worked out from the first row of a group not yet placed."""
    labels = np.empty(len(times), dtype=np.int64)
    if not len(times):
        return labels  # no rows in the range: nothing to place
    starts, ends = windows(times, every, shift, clock)
    bounds = np.flatnonzero(np.r_[True, groups[1:] != groups[:-1], True])
    for a, b in itertools.pairwise(bounds):
        i = int(a)
        while i < b:
            j = i + int(np.searchsorted(times[i:b], ends[i], side="left"))
            labels[i:j] = starts[i]
            i = max(j, i + 1)
    return labels


def fill_windows(
    rows: list[list[Any]],
    first: int | None,
    last: int,
    every: int,
    shift: int,
    clock: ZoneClock,
    empty: Callable[[int, list[Any] | None], list[Any]],
) -> list[list[Any]]:
    """One series' rows (``[time, …]`` at window starts, in order) with the empty windows
    from the window holding ``first`` (None: the first row's) to the one holding ``last``
    made by ``empty(time, previous row)``, stepping as influxd's fill does."""
    if not rows:
        return rows

    def start_of(t: int) -> int:
        return int(windows(np.array([t], dtype=np.int64), every, shift, clock)[0][0])

    t = start_of(rows[0][0] if first is None else first)
    end = start_of(last)
    offset = clock.offset(t)
    out: list[list[Any]] = []
    prev: list[Any] | None = None
    i = 0
    while True:
        row = rows[i] if i < len(rows) else None
        if row is None and t > end:
            return out
        if row is None or row[0] > t:
            out.append(empty(t, prev))
        else:
            out.append(row)
            prev = row
            i += 1
        t += every
        now = clock.offset(t - 1)
        if now != offset:
            if abs(offset - now) < every:
                t += offset - now
            offset = now


def zoned(
    stmt: ast.SelectStatement, every: int, offset: int, rng: TimeRange
) -> tuple[int, ZoneClock | None]:
    """The bucket offset in the statement's tz(): buckets start at local boundaries (1.x
    shifts times by the zone's UTC offset before cutting them into intervals). Where the
    zone's offset changes within the range in a way that moves those boundaries, the
    interval's own offset and the zone's clock, to window as influxd does (``zones``)."""
    if stmt.timezone in (None, "", "UTC"):
        return offset % every, None
    hi = rng.hi if rng.bounded_above else time.time_ns()
    lo = rng.lo if rng.bounded_below else hi - 2 * 366 * 86_400 * 10**9
    lo = max(lo, hi - 10 * 366 * 86_400 * 10**9)
    clock = ZoneClock(stmt.timezone, lo, hi)
    first = clock.values[0]
    if any((z - first) % every for z in clock.values):
        return offset, clock
    return (offset - first) % every, None


def window_start(t: int, every: int, offset: int, clock: ZoneClock | None) -> int:
    if clock is not None:
        return int(windows(np.array([t], dtype=np.int64), every, offset, clock)[0][0])
    return t - ((t - offset) % every)


def windowed_rows(
    table: TableSchema,
    group: list[str],
    where: str,
    run_sql: Callable[[str], pa.Table],
    every: int,
    offset: int,
    clock: ZoneClock,
) -> dict[str, pa.Table]:
    """The table's rows the query reads, each with the start of its window (``__window``),
    to be aggregated in place of the stored table."""
    tags = [quote_ident(g) for g in group if g in table.columns]
    order = ", ".join([*tags, quote_ident(TIME_COLUMN)])
    rows = run_sql(f"SELECT * FROM {quote_ident(table.name)} WHERE {where} ORDER BY {order}")
    times = time_values(rows.column(TIME_COLUMN))
    stored = [rows.column(g).to_pylist() for g in group if g in table.columns]
    keys = list(zip(*stored, strict=True))
    ids: dict[tuple[Any, ...], int] = {}
    groups = np.array([ids.setdefault(k, len(ids)) for k in keys] or [0] * len(times))
    labels = place_rows(times, groups.astype(np.int64), every, offset, clock)
    return {table.name: rows.append_column("__window", pa.array(labels, pa.int64()))}
