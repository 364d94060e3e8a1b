"""fill() of an aggregate's answer by GROUP BY time(): the intervals a series lacks, the
cells of a call without a point in its interval, as influxd 1.x fills them (each call on
its own: a count() 0 only where it has points, arithmetic over the filled calls, lines
of fill(linear) between points only); and whole floats written as Go writes them."""

from __future__ import annotations

import itertools
from typing import Any

import pyarrow as pa

from edge_common.errors import QueryError
from edge_common.schema import ColumnType, TableSchema
from edge_query.budget import spend
from edge_query.influxql import ast
from edge_query.influxql.arith import evaluate
from edge_query.influxql.columns import Column
from edge_query.influxql.text import GO_WHOLE, go_integer
from edge_query.influxql.translate import TimeRange
from edge_query.influxql.zones import ZoneClock, fill_windows

__all__ = [
    "MISSING",
    "blanks_of",
    "fill",
    "fill_pointless",
    "go_whole",
    "integer_column",
    "linear",
    "null_only_without_points",
    "typed_fill",
]

Series = dict[str, Any]
MISSING = object()  # a column without any point in an interval (filled as fill() says)


def fill(
    s: Series,
    stmt: ast.SelectStatement,
    rng: TimeRange,
    every: int,
    offset: int,
    counts: list[bool],
    clock: ZoneClock | None = None,
    desc: bool = False,
    add: bool = True,
    calls: list[bool] | None = None,
    blanks: dict[int, Any] | None = None,
    ints: list[bool] | None = None,
    keep: int | None = None,
) -> Series:
    """The intervals of the range a series lacks (``add``), and the cells of columns
    without a point in their interval (``MISSING``), filled as fill() says. ``calls``:
    the columns whose null means no point (``null_only_without_points``); all if None.
    ``blanks``: what an empty cell of arithmetic over aggregates becomes under fill(null)
    or fill(<number>) (``blanks_of``). ``ints``: the integer columns (fill(linear) draws
    their lines in integers); none if None. ``keep``: LIMIT (and OFFSET) keep only the
    first intervals of the answer (DESC: the last): only those are made, as a range of
    millions of intervals under LIMIT 3 is answered."""
    blanks = blanks or {}
    mode = "value" if stmt.fill_value is not None else (stmt.fill or "null")
    if mode == "none":
        s["values"] = _present(s["values"])
        return s
    width = len(s["columns"]) - 1
    # a call without a point in the series (its rows there for the other calls'): each
    # cell fill(<number>)'s value, else null, a count() too (1.x fills a call's empty
    # intervals with 0 only where it has points)
    pointless = [
        j
        for j in range(width)
        if (calls is None or calls[j]) and _no_point(s["values"], j, counts[j])
    ]
    if pointless:
        counts = [is_count and j not in pointless for j, is_count in enumerate(counts)]

    def cell(j: int, before: Any) -> Any:
        """The value filled in for column ``j`` (``before``: its value in the interval
        before, in the answer's order)."""
        if mode == "previous":
            return None if before is MISSING else before
        if mode == "linear":
            return MISSING  # (linear tells a gap from a null made of points)
        if j in blanks:
            return blanks[j]
        if mode == "value":
            return typed_fill(stmt.fill_value, bool(ints and ints[j]))
        return 0 if counts[j] and mode == "null" else None

    def empty(t: int, prev: list[Any] | None) -> list[Any]:
        """A row of an interval without one (``prev``: the row before, in the answer's
        order): count() of it is 0 under fill(null) alone; previous() with nothing
        before, and linear() at the ends, leave it null as 1.x does."""
        if mode == "previous" and prev is not None:
            return [t, *prev[1:]]
        return [t, *(cell(j, MISSING) for j in range(width))]

    # the first interval holding the lower bound (or, unbounded, this series' first point)
    start = rng.lo - ((rng.lo - offset) % every) if rng.bounded_below else s["values"][0][0]
    end = rng.hi
    if keep is not None and add and clock is None and mode != "linear":
        if desc:
            latest = start + (end - start) // every * every
            start = max(start, latest - (keep - 1) * every)
        else:
            end = min(end, start + (keep - 1) * every)
    if add and (end - start) // every > 1_000_000:
        raise QueryError("too many GROUP BY time() intervals: narrow the time range")
    if add:
        spend((end - start) // every + 1)
    if clock is not None and not add:
        out = _present(s["values"])
    elif clock is not None:  # windows of a zone whose offset changes: influxd's steps
        first = rng.lo if rng.bounded_below else None
        given = s["values"] if mode == "linear" else _present(s["values"])
        out = fill_windows(given, first, end, every, offset, clock, empty)
    elif add and _every_interval(s["values"], range(start, end + 1, every)):
        out = s["values"]  # nothing to fill (one host's hour by minute: 26 -> 11 µs)
    else:
        rows = {v[0]: v for v in s["values"]}
        out = []
        # each column is filled on its own, as 1.x fills each call's points: an interval
        # without a row, or a column without a point in it (MISSING); fill(previous)
        # carries values in the order of the answer (DESC: later intervals fill the
        # earlier ones); the rows are returned oldest first
        last: list[Any] = [MISSING] * width
        times = range(start, end + 1, every) if add else sorted(rows)
        for t in reversed(times) if desc else times:
            row = rows.get(t) or [t, *([MISSING] * width)]
            filled = [t]
            for j, v in enumerate(row[1:]):
                if v is MISSING:
                    v = cell(j, last[j])
                else:
                    last[j] = v
                filled.append(v)
            out.append(filled)
        if desc:
            out.reverse()
    if pointless:
        for j in pointless:
            value = typed_fill(stmt.fill_value, bool(ints and ints[j])) if mode == "value" else None
            for r in out:
                r[j + 1] = value
    if mode == "linear":
        out = go_whole(linear(out, desc, ints))
    s["values"] = out
    return s


def _no_point(rows: list[list[Any]], j: int, count: bool) -> bool:
    """Whether column ``j`` of ``rows`` (an aggregate) holds nothing made of a point: each
    cell null, never filled, or (``count``) 0."""
    for r in rows:
        v = r[j + 1]
        if not (v is None or v is MISSING or (count and v == 0)):
            return False
    return True


def fill_pointless(s: Series, cols: list[Column], stmt: ast.SelectStatement) -> None:
    """Without GROUP BY time(): an aggregate with no point in the series, whose row holds
    the other calls' values, as 1.x answers it: fill(<number>)'s value, else null (a
    count() too, not 0)."""
    if len(s["values"]) != 1:
        return  # (several points per series: top(), distinct(), …)
    row = s["values"][0]
    for j, c in enumerate(cols):
        known = c.kind == "agg" and null_only_without_points(c) and not c.transform
        if known and _no_point(s["values"], j, c.func == "count"):
            row[j + 1] = stmt.fill_value


# aggregates that are null (a count() 0) only where they had no point: stddev() of one
# point is null too, and 1.x does not fill that
_NULL_WITHOUT_POINTS = {"count", "sum", "mean", "median", "mode", "spread", "integral"}
_NULL_WITHOUT_POINTS |= {"first", "last", "min", "max"}


def null_only_without_points(c: Column) -> bool:
    """Whether a null in column ``c`` (of an aggregate) means it had no point there: a
    call whose every cell is null had none in the series (one of a tag or of a name no
    field has never has)."""
    return c.func not in (None, "aux") and (c.field is None or c.func in _NULL_WITHOUT_POINTS)


def _every_interval(rows: list[list[Any]], times: range) -> bool:
    """Whether ``rows`` are a row of each of ``times`` in order, every cell present."""
    if len(rows) != len(times) or not rows:
        return False
    if rows[0][0] != times[0] or rows[-1][0] != times[-1]:
        return False
    # (list comparisons and ``in`` run in C: a generator per row and cell cost ~10 µs of
    # one host's hour by minute)
    stamps = [r[0] for r in rows]
    if stamps != list(times) and not all(a < b for a, b in itertools.pairwise(stamps)):
        return False
    return MISSING not in itertools.chain.from_iterable(rows)


def _present(rows: list[list[Any]]) -> list[list[Any]]:
    """``rows`` with each ``MISSING`` cell null (where no fill() fills it)."""
    return [[None if v is MISSING else v for v in r] for r in rows]


def go_whole(rows: list[list[Any]]) -> list[list[Any]]:
    """Whole floats worked out here (transformations, interpolation) as integers, as Go's
    encoder writes them (1, not 1.0); times and other values as they are."""
    for row in rows:
        for j in range(1, len(row)):
            v = row[j]
            if type(v) is float and v.is_integer() and abs(v) < GO_WHOLE:
                row[j] = go_integer(v)
    return rows


def typed_fill(value: Any, integer: bool) -> Any:
    """fill(<number>)'s value in a column of integers (a count(), an aggregate of an
    integer field that keeps its type), as influxd's integer iterators take it: a float
    truncated toward zero, as Go's ``int64(v)`` (fill(-1.5) of a count() is -1)."""
    return int(value) if integer and isinstance(value, float) else value


# aggregates whose answer over integers is an integer (mean(), median(), stddev() and
# integral() are floats)
_KEEP_INTEGERS = frozenset(
    ("sum", "min", "max", "first", "last", "spread", "mode", "percentile", "sample")
)


def blanks_of(
    cols: list[Column], stmt: ast.SelectStatement, table: TableSchema | None = None
) -> dict[int, Any]:
    """For each column of arithmetic over aggregates, what its empty cell becomes under
    fill(null) or fill(<number>): 1.x fills each call (a count() with 0 under fill(null);
    a call of integers with fill(<number>)'s value as an integer: ``typed_fill``), then does
    the arithmetic (``count(x) + 1024`` of an empty interval is 1024). ``table``: where
    the calls' fields' types are found."""
    fill = stmt.fill_value

    def integer(call: ast.Call) -> bool:
        if call.name == "count":
            return True
        arg = call.args[0] if call.args else None
        return (
            table is not None
            and call.name in _KEEP_INTEGERS
            and isinstance(arg, ast.VarRef)
            and table.columns.get(arg.name) in (ColumnType.INTEGER, ColumnType.UINTEGER)
        )

    def filled(call: ast.Call) -> Any:
        if fill is not None:
            return typed_fill(fill, integer(call))
        return 0 if call.name == "count" else None

    return {j: evaluate(c.expr, filled) for j, c in enumerate(cols) if c.expr is not None}


def integer_column(result: pa.Table, name: str) -> bool:
    """Whether the answer's column ``name`` holds integers (its whole floats are written
    as integers too, but fill(linear) draws their lines in floats)."""
    i = result.schema.get_field_index(name)
    return i >= 0 and pa.types.is_integer(result.schema.field(i).type)


def linear(
    rows: list[list[Any]], desc: bool = False, ints: list[bool] | None = None
) -> list[list[Any]]:
    """fill(linear) of the cells without a point (``MISSING``), as 1.x's fill iterator
    makes them in the answer's order: on the line from the last cell with a point to the
    next (a filled cell is no end of a line: integers stay on the line between points);
    null with no such cell before or after. A null made of points (stddev() of one
    point) is no gap: it is kept, and is no end of a line."""
    order = list(reversed(rows)) if desc else rows
    for col in range(1, len(rows[0]) if rows else 1):
        before: tuple[int, Any] | None = None  # (position, value) of the last with a point
        after = -1  # position of the next cell with a point, once looked for
        for k, r in enumerate(order):
            v = r[col]
            if v is not MISSING:
                before = (k, v)
                continue
            if before is None or before[1] is None:
                r[col] = None
                continue
            if after <= k:
                after = next(
                    (i for i in range(k + 1, len(order)) if order[i][col] is not MISSING),
                    len(order),
                )
            if after == len(order) or order[after][col] is None:
                r[col] = None
                continue
            k0, v0 = before
            v1 = order[after][col]
            if isinstance(v0, bool) or isinstance(v1, bool) or isinstance(v0, str):
                r[col] = None  # (no line between booleans or texts)
                continue
            whole = isinstance(v0, int) and isinstance(v1, int) and (ints is None or ints[col - 1])
            if not whole:
                v0, v1 = float(v0), float(v1)
            slope = (v1 - v0) / (after - k0)
            value = slope * (k - k0) + v0
            r[col] = int(value) if whole else value
    return rows
