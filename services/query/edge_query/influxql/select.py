"""SELECT, as InfluxDB 1.x answers it, run on DataFusion.

Each measurement of the FROM clause becomes one SQL query over its table; the rows come back
sorted by the GROUP BY tags and time and are cut into series (one per tag set) here. Raw
queries return points; aggregate queries return one row per series, or one per GROUP BY
time() interval (buckets aligned to the epoch plus the offset, filled as fill() says).
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Callable
from typing import Any, Protocol

import numpy as np
import pyarrow as pa

from edge_common.errors import QueryError
from edge_common.merge import time_values
from edge_common.picks import Pick
from edge_common.schema import TIME_COLUMN, ColumnType, DatabaseSchema, TableSchema
from edge_query.budget import SERIES_ROWS, spend
from edge_query.influxql import ast
from edge_query.influxql.columns import (
    REDUCED,
    SELECTORS,
    Column,
    expand,
    group_tags,
    is_field,
    selector_time,
    union,
)
from edge_query.influxql.direct import (
    Direct,
    direct,
    regex_resolver,
    run_starts,
    tag_equalities,
    text_codes,
)
from edge_query.influxql.direct_raw import DirectRaw, direct_raw
from edge_query.influxql.fill import (
    MISSING,
    blanks_of,
    fill,
    fill_pointless,
    go_whole,
    integer_column,
    null_only_without_points,
)
from edge_query.influxql.reducers import percentile_times, with_reduced
from edge_query.influxql.text import GO_WHOLE, go_integer
from edge_query.influxql.transform import FORECASTS, Transform, apply
from edge_query.influxql.translate import TimeRange, quote_ident, split_condition, where_sql
from edge_query.influxql.zones import (
    ZoneClock,
    window_start,
    windowed_rows,
    zoned,
)
from edge_query.influxql.zones import windows as zone_windows
from edge_query.planner import TableNeed, TablePick

__all__ = ["Fetch", "Series", "Span", "interval_of", "run_select", "source_tables"]

Series = dict[str, Any]


class RunSql(Protocol):
    def __call__(
        self, sql: str, pick: TablePick | None = None, extra: dict[str, pa.Table] | None = None
    ) -> pa.Table: ...


# a stored table's rows as a need describes them, repeats merged (edge_query.influxql.direct)
Fetch = Callable[[TableNeed], pa.Table]
# (table, lo, hi) → the first and last time its sources hold within lo..hi (None: open), as
# their time ranges tell, and the rows those sources hold; no row read; None: no source
Span = Callable[[str, int | None, int | None], tuple[int, int, int] | None]


def run_select(
    stmt: ast.SelectStatement,
    db: DatabaseSchema,
    run_sql: RunSql,
    now_ns: int,
    go_floats: bool = True,
    fetch: Fetch | None = None,
    span: Span | None = None,
    rows_are_points: bool = False,
) -> list[Series]:
    """``rows_are_points``: each row of the tables is a point, as a subquery's answer is
    to the outer statement: raw rows are answered though the fields shown are null there
    (``SELECT b FROM (SELECT b, a …)`` shows a row where only ``a`` has a value, as 1.x)."""
    _check_selector_limits(stmt)
    tables = source_tables(stmt, db)
    # a wildcard over several measurements lists every column of all of them, in each series
    pool = union(tables) if len(tables) > 1 else None
    series: list[Series] = []
    for table in tables:
        found = _select_one(
            stmt, table, run_sql, now_ns, go_floats, pool, fetch, span, None, rows_are_points
        )
        # SLIMIT and SOFFSET count the series of each measurement, as 1.x's iterators do
        found = found[stmt.soffset or 0 :]
        series += found[: stmt.slimit] if stmt.slimit else found
    if _descending(stmt):  # 1.x emits its series in the order of time too
        series.reverse()
    return series


def _in_tag_order(series: list[Series], group: list[str]) -> list[Series]:
    """Series by their group tags' values, a missing one ("") first, as 1.x orders them
    (SQL and the direct paths put a missing one last)."""
    if group:
        series.sort(key=lambda s: [s.get("tags", {}).get(g, "") for g in group])
    return series


def _check_selector_limits(stmt: ast.SelectStatement) -> None:
    """top(f, N) and bottom(f, N) may not ask for more points than the LIMIT (1.x)."""
    for f in stmt.fields:
        e = f.expr
        if not (isinstance(e, ast.Call) and e.name in ("top", "bottom") and e.args):
            continue
        n = e.args[-1]
        if isinstance(n, ast.IntegerLiteral) and stmt.limit and n.value > stmt.limit:
            raise QueryError(
                f"limit ({n.value}) in {e.name} function can not be larger than the LIMIT "
                f"({stmt.limit}) in the select statement"
            )


def _descending(stmt: ast.SelectStatement) -> bool:
    return bool(stmt.order_by) and not stmt.order_by[0].ascending


def source_tables(stmt: ast.SelectStatement, db: DatabaseSchema) -> list[TableSchema]:
    """The stored tables a SELECT reads, by name."""
    out: dict[str, TableSchema] = {}
    for src in stmt.sources:
        if isinstance(src, ast.SubQuery):
            raise QueryError("a subquery must be the only source of its FROM (not built yet)")
        if src.regex is not None:
            rx = re.compile(src.regex)
            for name in sorted(db.tables):
                if rx.search(name):
                    out[name] = db.tables[name]
        elif src.name is not None and src.name in db.tables:
            out[src.name] = db.tables[src.name]
    return [out[n] for n in sorted(out)]


def _where(residual: ast.Expr | None, rng: TimeRange, table: TableSchema, now_ns: int) -> str:
    return where_sql(residual, rng, table, now_ns) or "TRUE"


def _transformed(
    transforms: list[Transform],
    rows: list[list[Any]],
    shown: tuple[int, int],
    lo: int,
    hi: int | None,
    fills: list[Any] | None = None,
    every: int = 0,
    desc: bool = False,
    previous: bool = False,
) -> list[list[Any]]:
    """Each column through its own transformation (points outside the shown range
    dropped), rows joined again by time: a time any of them produced, the others
    ``fills`` there, one per column (fill(<number>)'s value, as 1.x fills the join, or an
    expression's of it; with ``previous``, the column's value before; else null). With
    several, LIMIT/OFFSET apply to each column before the join, as in 1.x. By GROUP BY
    time() (``every``), each reads back as far as it needs alone (cumulative_sum() none:
    the rows read for derivative() beside it are no part of its sum)."""

    def one(t: Transform, pairs: list[list[Any]]) -> list[list[Any]]:
        if t is _AS_IS:  # (every interval's value, nulls too: 1.x's rows of that call)
            return [r for r in pairs if shown[0] <= r[0] <= shown[1] and r[1] is not _ABSENT]
        if t.name in FORECASTS:  # forecasts lie beyond the range by design
            return apply(t, pairs)
        pairs = [r for r in pairs if r[1] is not _ABSENT]  # (none over the range asked)
        if every and len(transforms) > 1:
            back = _lookback(t) * every
            if desc:
                pairs = [r for r in pairs if r[0] <= shown[1] + back]
            else:
                pairs = [r for r in pairs if r[0] >= shown[0] - back]
        return [r for r in apply(t, pairs) if shown[0] <= r[0] <= shown[1]]

    if len(transforms) == 1:
        return one(transforms[0], rows)
    outs = [
        dict((r[0], r[1]) for r in one(t, [[row[0], row[i + 1]] for row in rows])[lo:hi])
        for i, t in enumerate(transforms)
    ]
    times = dict.fromkeys(row[0] for row in rows if any(row[0] in o for o in outs))
    if not previous:
        blank = fills or [None] * len(outs)
        return [[t, *(o.get(t, b) for o, b in zip(outs, blank, strict=True))] for t in times]
    joined, last = [], [None] * len(outs)  # fill(previous): a column's value before, carried
    for t in times:
        for j, o in enumerate(outs):
            if t in o:
                last[j] = o[t]
        joined.append([t, *last])
    return joined


_AS_IS = Transform("as is")  # an aggregate beside transformations: its values unchanged


def _as_is_rows(
    stmt: ast.SelectStatement,
    table: TableSchema,
    cols: list[Column],
    transforms: list[Transform],
    run_sql: RunSql,
    now_ns: int,
    go_floats: bool,
    fetch: Fetch | None,
) -> dict[tuple[str, ...], dict[int, list[Any]]] | None:
    """The aggregates beside transformations (and those cumulative_sum() sums), over the
    range asked: the transformations read intervals before it (their first has a value
    then), and the interval holding the range's start is then whole, where 1.x has these
    read from the start alone (``_over_range``). By the series' group tags, then time:
    each row. None where a field of the statement stands for several columns (a
    wildcard), or a cumulative_sum() is not of an aggregate alone: the rows as read."""
    if len(cols) != len(stmt.fields):
        return None
    fields = []
    for f, t in zip(stmt.fields, transforms, strict=True):
        if t is _AS_IS:
            fields.append(f)
        elif _over_range(t):  # cumulative_sum(): its aggregate, summed afterwards
            if not (isinstance(f.expr, ast.Call) and f.expr.name == t.name and f.expr.args):
                return None
            fields.append(ast.Field(f.expr.args[0]))
    alone = dataclasses.replace(stmt, fields=fields, limit=0, offset=0, slimit=0, soffset=0)
    found = _select_one(alone, table, run_sql, now_ns, go_floats, None, fetch)
    group, _ = group_tags(stmt, table)
    return {
        tuple(s.get("tags", {}).get(g, "") for g in group): {r[0]: r for r in s["values"]}
        for s in found
    }


def _over_range(t: Transform) -> bool:
    """Whether a column reads its aggregate over the range asked, not the intervals before
    it the others read: an aggregate beside transformations, and cumulative_sum() (1.x
    widens the read of each call that looks back alone)."""
    return t is _AS_IS or (_lookback(t) == 0 and t.name not in FORECASTS)


def _as_is_places(transforms: list[Transform]) -> list[int | None]:
    """For each column, where ``_as_is_rows``' rows hold it (None: as read)."""
    places: list[int | None] = []
    for t in transforms:
        places.append(1 + sum(p is not None for p in places) if _over_range(t) else None)
    return places


def _as_is(held: dict[int, list[Any]], row: list[Any], places: list[int | None]) -> list[Any]:
    """``row`` for the join: a transformation's cells from the row read, an aggregate's
    from the rows over the range asked (``_as_is_rows``; ``_ABSENT`` where none)."""
    found = held.get(row[0])
    return [
        row[0],
        *(
            row[i + 1] if k is None else _ABSENT if found is None else found[k]
            for i, k in enumerate(places)
        ),
    ]


_ABSENT = object()  # no row of the aggregates beside at that time (_as_is)


def _lookback(t: Transform) -> int:
    """Intervals before the range a transformation of GROUP BY time() buckets reads (1.x
    starts one interval earlier so that a derivative() of the first bucket of the range
    gets a value; moving_average(…, N) too reads that one only, not N - 1: its first
    value is then at the range's (N - 2)th interval, as influxd 1.6.7 answers it)."""
    return 0 if t is _AS_IS or t.name == "cumulative_sum" else 1


def _select_one(
    stmt: ast.SelectStatement,
    table: TableSchema,
    run_sql: RunSql,
    now_ns: int,
    go_floats: bool,
    pool: TableSchema | None = None,
    fetch: Fetch | None = None,
    span: Span | None = None,
    window: tuple[int, int] | None = None,
    rows_are_points: bool = False,
) -> list[Series]:
    """One measurement's series (``rows_are_points``: see ``run_select``). ``window``: read
    only the rows of that time range, part of the whole (a probe of ``_first_rows``:
    ``_Short`` when they are fewer than the LIMIT keeps)."""
    # (GROUP BY * over several measurements: the tags of them all, as 1.x)
    group, interval = group_tags(stmt, pool or table)
    interval_ns = None if interval is None else interval_of(interval, now_ns)[0]
    cols = expand(stmt, table, group, interval_ns, pool)
    # a tag both shown and grouped by: in SQL its column takes a name of its own
    shown_names = [c.name for c in cols]
    for c in cols:
        if c.name in group:
            c.name = f"__shown_{c.name}"
    transforms = [c.transform for c in cols if c.transform is not None]
    if transforms and len(transforms) != len(cols):
        # transformations of aggregates beside aggregates (derivative(mean(x)), mean(x)),
        # each by GROUP BY time(): the aggregates' rows as they are, joined by time
        if interval is None or any(c.kind != "agg" or c.func == "aux" for c in cols):
            raise QueryError("mixing aggregate and non-aggregate queries is not supported")
        transforms = [c.transform or _AS_IS for c in cols]
    if not cols:
        return []
    residual, rng = split_condition(stmt.condition, now_ns)
    if any(c.kind == "multi" for c in cols):
        return _select_multi(
            stmt, table, cols, group, interval, residual, rng, run_sql, now_ns, go_floats
        )
    aggregate = cols[0].kind == "agg"
    if aggregate and all(c.field is None for c in cols):
        return []  # aggregates of tags or unknown fields: 1.x answers no series
    if not aggregate and not any(is_field(table, c.field) for c in cols):
        return []  # tags alone (or unknown names): 1.x answers no series
    if interval is not None and not aggregate:
        raise QueryError("GROUP BY requires at least one aggregate function")
    if window is not None:
        rng.lo, rng.hi = max(rng.lo, window[0]), min(rng.hi, window[1])
    elif span is not None and stmt.limit and not (aggregate or transforms):

        def probe(window: tuple[int, int] | None) -> list[Series]:
            if window is None:  # the whole range
                return _select_one(stmt, table, run_sql, now_ns, go_floats, pool, fetch)
            return _select_one(stmt, table, run_sql, now_ns, go_floats, pool, fetch, None, window)

        if not group:
            # a condition fixing tags selects some series: a window as wide holds fewer rows
            fixed = bool(tag_equalities(residual, table))
            return _first_rows(stmt, table.name, rng, span, probe, fixed)
        starts = (
            None if fetch is None else _group_starts(stmt, table, cols, group, residual, rng, fetch)
        )
        if starts is not None:
            held = span(table.name, *_bounds(rng)) if starts else None
            return _first_rows_of_groups(stmt, rng, probe, starts, held)
    desc = _descending(stmt)
    every, offset = 0, 0
    clock: ZoneClock | None = None
    tallies: dict[int, str] = {}
    exact: dict[tuple[str, ...], dict[int, list[Any]]] | None = None
    shown = (rng.lo, rng.hi)  # the range the answer shows; a transformation may look back
    if aggregate and interval is not None:
        if not rng.bounded_above:
            rng.hi = now_ns
        every, offset = interval_of(interval, now_ns)
        offset, clock = zoned(stmt, every, offset, rng)
        # from the interval holding the lower bound, which may start before it (1.x)
        lo = window_start(rng.lo, every, offset, clock) if rng.bounded_below else rng.lo
        shown = (lo, rng.hi)
        back = max(_lookback(t) for t in transforms) * every if transforms else 0
        if back and any(_over_range(t) for t in transforms):
            exact = _as_is_rows(stmt, table, cols, transforms, run_sql, now_ns, go_floats, fetch)
        if back and desc:
            rng.hi += back
        elif back and rng.bounded_below:
            rng.lo -= back
        # fill() other than null, over several fields: which intervals each column has
        # no point in (1.x fills those cells too, not only intervals without any row; and
        # under fill(none) a count() there is null, not 0)
        fields_of = {i: c.field for i, c in enumerate(cols) if c.func != "aux" and c.field}
        fill_mode = "value" if stmt.fill_value is not None else stmt.fill
        # (beside integral() or mode(), whose cells their reducers make, the others' tell
        # which intervals hold a point: a row there stays, its reduced cells filled)
        beside = {c.func in REDUCED for c in cols if c.func != "aux"} == {True, False}
        if (fill_mode not in (None, "null") and len(set(fields_of.values())) > 1) or beside:
            tallies = {i: f"__n{i}" for i, f in fields_of.items() if is_field(table, f)}

    def sql_of() -> tuple[str, str]:
        """The statement in SQL, and its WHERE; made only where SQL answers (the direct
        path needs neither: ~30 µs of text a query)."""
        tag_sql = [
            f"CAST({quote_ident(g)} AS VARCHAR) AS {quote_ident(g)}"
            if g in table.columns
            else f"NULL AS {quote_ident(g)}"
            for g in group
        ]
        names = [f"{c.sql} AS {quote_ident(c.name)}" for c in cols]
        if aggregate and interval is not None:
            # the interval's start (floor, also before 1970): DataFusion's date_bin, which
            # groups faster than the same arithmetic written out
            origin = f"arrow_cast({offset}, 'Timestamp(Nanosecond, None)')"
            binned = (
                f"date_bin(INTERVAL '{every} nanoseconds', {quote_ident(TIME_COLUMN)}, {origin})"
            )
            # (in a zone whose offset moves the boundaries, each row's window is worked out
            # beforehand and read from a column of its own)
            bucket = f"CAST({binned} AS BIGINT)" if clock is None else "__window"
            select = [*tag_sql, f"{bucket} AS __time", *names]
            select += [f"count({quote_ident(fields_of[i])}) AS {n}" for i, n in tallies.items()]
            keys = [*(quote_ident(g) for g in group), "__time"]
        elif aggregate:
            mains = [c for c in cols if c.func != "aux"]
            # one selector (asked once or more: 1.x makes one iterator of the same call)
            lone = len({c.sql for c in mains}) == 1 and (
                mains[0].func in SELECTORS or mains[0].picks
            )
            time_sql = selector_time(mains[0]) if lone else str(rng.lo if rng.bounded_below else 0)
            select = [*tag_sql, f"{time_sql} AS __time", *names]
            keys = [quote_ident(g) for g in group]
        else:
            t = f"CAST({quote_ident(TIME_COLUMN)} AS BIGINT)"
            select = [*tag_sql, f"{t} AS __time", *names]
            keys = []
        where = _where(residual, rng, table, now_ns)
        ties: list[str] = []
        if not aggregate:
            # rows at the same time come in series key order, as 1.x merges its series
            others = [g for g in sorted(table.tag_names) if g not in group]
            select += [f"{quote_ident(g)} AS __k{i}" for i, g in enumerate(others)]
            ties = [f"__k{i} NULLS FIRST" for i in range(len(others))]
            # a row where a field the columns read holds a value (1.x reads the fields'
            # points; tags come from the series, so a tag alone makes no row; an expression
            # null there is shown as null)
            read = sorted({n for c in cols for n in c.names_read() if is_field(table, n)})
            any_value = " OR ".join(f"{quote_ident(n)} IS NOT NULL" for n in read)
            if rows_are_points:
                any_value = "TRUE"
            sql = (
                f"SELECT {', '.join(select)} FROM {quote_ident(table.name)} "
                f"WHERE ({where}) AND ({any_value})"
            )
        else:
            # a group without a value of the aggregated fields: no series, as 1.x. Rows
            # holding none of them are left out before grouping (every aggregate skips
            # nulls), so such groups never form; without GROUP BY there is one group, and
            # it is dropped after.
            used = sorted(
                {c.field for c in cols if c.field and c.func != "aux" and is_field(table, c.field)}
            )
            if keys and used:
                held = " OR ".join(f"{quote_ident(u)} IS NOT NULL" for u in used)
                where = f"({where}) AND ({held})"
            sql = f"SELECT {', '.join(select)} FROM {quote_ident(table.name)} WHERE {where}"
            if keys:
                sql += f" GROUP BY {', '.join(keys)}"
            if not keys or not used:
                counted = " + ".join(f"count({quote_ident(u)})" for u in used) or "0"
                sql += f" HAVING ({counted}) > 0"
        order = [*(quote_ident(g) for g in group), "__time", *ties]
        sql += f" ORDER BY {', '.join(order)}"
        return sql, where

    result = None
    if fetch is not None and (interval is None or clock is None):
        resolve = regex_resolver(fetch, table)
        plan: Direct | DirectRaw | None = (
            direct(
                table,
                cols,
                group,
                residual,
                rng,
                every if interval is not None else None,
                offset if interval is not None else 0,
                resolve,
            )
            if aggregate
            else direct_raw(table, cols, group, residual, rng, resolve)
        )
        if isinstance(plan, Direct):
            plan.tallies = tallies
        elif isinstance(plan, DirectRaw):
            plan.rows_are_points = rows_are_points
        if plan is not None:
            rows = fetch(plan.need)
            # else SQL answers, over the rows here (a table given is not fetched again)
            result = plan.run(rows)
            if result is None:
                result = run_sql(sql_of()[0], None, {table.name: plan.sql_rows(rows)})
    # mode() and integral() alone: their values, intervals and series all come from the
    # points (with_reduced below); the SQL would only answer placeholders
    reduced_only = aggregate and not tallies and all(c.func in REDUCED for c in cols)
    if result is None and not reduced_only:
        sql, where = sql_of()
        extra = None
        if aggregate and interval is not None and clock is not None:
            extra = windowed_rows(table, group, where, run_sql, every, offset, clock)
        result = run_sql(sql, _pick(stmt, table, cols, residual, interval), extra)
    if result is None:
        result = pa.table({"__time": pa.array([], pa.int64())})
    lo = stmt.offset or 0
    hi = None if not stmt.limit else lo + stmt.limit  # LIMIT 0: no limit, as in 1.x
    limited = not aggregate and not transforms and hi is not None
    if limited and hi is not None:  # only the rows LIMIT keeps become Python values
        in_window = result.num_rows
        result = _limited(result, group, lo, hi, desc)
        if window is not None and result.num_rows < hi - lo:
            raise _Short(in_window)
    series = _cut(result, table.name, group, [c.name for c in cols], go_floats)
    spend(len(series) * SERIES_ROWS)
    for s in series:
        s["columns"] = ["time", *shown_names]
    if tallies:
        _mark_missing(series, result, tallies)
    if transforms and interval is not None and not any(c.func in REDUCED for c in cols):
        series = [s for s in series if _points_read(s["values"], cols, transforms, shown)]
    if aggregate and any(c.func in REDUCED for c in cols):
        windowing = (every, offset, clock) if interval is not None else None
        reduced = sorted({c.field for c in cols if c.func in REDUCED and c.field})
        points = _points(table, reduced, group, residual, rng, now_ns, run_sql, fetch)
        gap = MISSING if windowing is not None else None
        series = with_reduced(
            series, points, table, cols, group, shown_names, rng, windowing, desc, go_floats, gap
        )
    picked = [i + 1 for i, c in enumerate(cols) if c.func != "aux"]
    if aggregate and all(cols[i - 1].func == "percentile" for i in picked):
        # a percentile whose rank falls before the first point picks none: no row there
        # (and no series without rows), as 1.x
        for s in series:
            s["values"] = [r for r in s["values"] if any(r[i] is not None for i in picked)]
        series = [s for s in series if s["values"]]
        single = cols[picked[0] - 1]
        if len(picked) == 1 and interval is None and single.field and series:
            # the time shown is that of the point picked; of equal values, the one Go's
            # sort leaves at the rank (SQL's answer has the earliest)
            fields = [single.field]
            points = _points(table, fields, group, residual, rng, now_ns, run_sql, fetch)
            percentile_times(series, points, single.field, single.percent, group, desc)
    if aggregate and interval is not None:
        every, offset = interval_of(interval, now_ns)
        offset, clock = zoned(stmt, every, offset, rng)
        counts = [c.func == "count" for c in cols]
        # (1.x adds no intervals to integral()'s, but fills its cells as any column's)
        add = any(c.func != "integral" for c in cols)
        calls = [null_only_without_points(c) for c in cols]
        blanks = blanks_of(cols, stmt, table)
        ints = [integer_column(result, c.name) for c in cols]
        keep = hi if not transforms else None  # (a transformation reads rows before)
        series = [
            fill(s, stmt, rng, every, offset, counts, clock, desc, add, calls, blanks, ints, keep)
            for s in series
        ]
        series = [s for s in series if s["values"]]
    elif aggregate:
        for s in series:
            fill_pointless(s, cols, stmt)
    if limited:
        lo, hi = 0, None  # (kept already)
    value, previous = stmt.fill_value, stmt.fill == "previous"
    # (a transformation's cell joined where its column has none: fill(<number>)'s value; an
    # expression's as its own empty intervals are filled, each call then the arithmetic)
    fills = [value] * len(transforms)
    if transforms and value is not None and interval is not None:
        blank = blanks_of(cols, stmt, table)
        fills = [blank.get(j, value) for j in range(len(transforms))]
    for s in series:
        if desc:
            s["values"].reverse()
        if transforms:  # over the rows in the asked order, as 1.x
            rows = s["values"]
            if exact is not None:  # the aggregates beside, over the range asked
                kept = exact.get(tuple(s.get("tags", {}).get(g, "") for g in group), {})
                places = _as_is_places(transforms)
                rows = [_as_is(kept, r, places) for r in rows]
            s["values"] = _transformed(
                transforms, rows, shown, lo, hi, fills, every, desc, previous
            )
            if go_floats:
                go_whole(s["values"])
            if len(transforms) > 1:
                continue  # each column was limited on its own
        s["values"] = s["values"][lo:hi]
    return _in_tag_order([s for s in series if s["values"]], group)


_FIRST_WINDOW = 4096  # the first probe reads this fraction of the rows' time span


class _Short(Exception):
    """A probe's window holds fewer rows than the LIMIT keeps (``args[0]``: the rows it
    holds, OFFSET's too)."""


def _first_rows(
    stmt: ast.SelectStatement,
    name: str,
    rng: TimeRange,
    span: Span,
    probe: Callable[[tuple[int, int] | None], list[Series]],
    fixed: bool = False,
) -> list[Series]:
    """The rows a raw statement's LIMIT (and OFFSET) keeps, without GROUP BY tags: read
    from a window at the start of the rows' time span (its end, ORDER BY time DESC),
    widened until it holds enough, as influxd reads points in time order and stops at the
    limit. The rows of a window ``[lo, t]`` are the first of all rows in time order, so a
    window holding enough rows that pass every condition answers for the whole range; the
    last probe is the whole range. Reading every point first cost the CLI's
    ``SELECT * FROM cpu LIMIT 10`` 272 ms over TSBS's 432,000 points (influxd 21).

    The first window would hold four times the rows wanted were the sources' rows spread
    evenly over their span; 64 times as wide where the condition fixes tags (``fixed``):
    100 points of one host of TSBS's hundred take one probe. Each next window is as wide
    as the rows found so far say holds twice the rows wanted (8 to 256 times the last; 64
    after none), so a condition no row meets takes a few probes. A probe short of rows
    stops before its rows become Python values (``_Short``)."""
    held = span(name, *_bounds(rng))
    if held is None:
        return probe(None)
    first, last = max(rng.lo, held[0]), min(rng.hi, held[1])
    wanted = (stmt.offset or 0) + (stmt.limit or 0)
    desc = _descending(stmt)
    # four times the rows wanted, were the sources' rows spread evenly over their whole
    # span, and 64 times as wide where the condition fixes tags (it keeps some series of
    # many); without a count, 1/4,096 of the span in range (1/256)
    if held[2]:
        share = 4 * wanted / held[2] * (64 if fixed else 1)
        width = int(min(last - first, (held[1] - held[0]) * share)) + 1
    else:
        width = (last - first) * (16 if fixed else 1) // _FIRST_WINDOW + 1
    while width <= last - first:
        edge = first + width - 1 if not desc else last - width + 1
        try:
            return probe((rng.lo, edge) if not desc else (edge, rng.hi))
        except _Short as short:
            width = _widened(width, wanted, short.args[0])
    return probe(None)


def _widened(width: int, wanted: int, seen: int) -> int:
    """The next window of a LIMIT's probes: as wide as the ``seen`` rows of the last one say
    holds twice the rows ``wanted`` (8 to 256 times as wide; 64 after none)."""
    return width * (64 if not seen else min(256, max(8, 2 * wanted // seen)))


def _bounds(rng: TimeRange) -> tuple[int | None, int | None]:
    return rng.lo if rng.bounded_below else None, rng.hi if rng.bounded_above else None


def _group_starts(
    stmt: ast.SelectStatement,
    table: TableSchema,
    cols: list[Column],
    group: list[str],
    residual: ast.Expr | None,
    rng: TimeRange,
    fetch: Fetch,
) -> list[int] | None:
    """Per GROUP BY tag set of a raw statement's answer, the time of its first row (its
    last, ORDER BY time DESC), from first() (last()) picks of the fields shown: one row per
    series and field, not every row (``edge_common.picks``). None where a pick could miss
    a group's first row: a condition on anything but tags equal to texts."""
    equal = tag_equalities(residual, table, regex_resolver(fetch, table))
    fields = sorted({n for c in cols for n in c.names_read() if is_field(table, n)})
    if equal is None or not fields:
        return None
    need = TableNeed(table.name)
    need.widen(sorted({TIME_COLUMN, *table.tag_names, *fields}), *_bounds(rng), equal)
    need.pick = Pick("last" if _descending(stmt) else "first", tuple(fields))
    rows = fetch(need)
    held = np.zeros(rows.num_rows, dtype=bool)  # (a pick's row holds its field)
    for f in fields:
        if f in rows.column_names:
            held |= np.asarray(rows.column(f).is_valid(), dtype=bool)
    kept = np.flatnonzero(held)
    if not len(kept):
        return []
    times = time_values(rows.column(TIME_COLUMN))[kept]
    codes = [text_codes(rows.column(g))[0][kept] for g in group if g in rows.column_names]
    if not codes:
        return [int(times.max() if _descending(stmt) else times.min())]
    ids = np.unique(np.stack(codes, axis=1), axis=0, return_inverse=True)[1].reshape(-1)
    if _descending(stmt):
        starts = np.full(int(ids.max()) + 1, np.iinfo(np.int64).min)
        np.maximum.at(starts, ids, times)
    else:
        starts = np.full(int(ids.max()) + 1, np.iinfo(np.int64).max)
        np.minimum.at(starts, ids, times)
    return [int(t) for t in starts.tolist()]


def _first_rows_of_groups(
    stmt: ast.SelectStatement,
    rng: TimeRange,
    probe: Callable[[tuple[int, int] | None], list[Series]],
    starts: list[int],
    held: tuple[int, int, int] | None,
) -> list[Series]:
    """``_first_rows`` with GROUP BY tags: LIMIT keeps the first rows of each group. The
    first window ends where the last group's first row lies (DESC: starts where the first
    group's last row lies), so it holds every group's first row: ``LIMIT 1`` takes one
    probe. A window whose every group holds the rows kept answers for the whole range; one
    short is widened (8 to 256 times, by its shortest group), from at least 1/4,096 of the
    time ``held`` (the sources' span) covers."""
    if not starts:
        return probe(None)  # no row anywhere: nothing to read
    desc = _descending(stmt)
    first, last = min(starts), max(starts)
    wanted = (stmt.offset or 0) + (stmt.limit or 0)
    least = 1 if held is None else (held[1] - held[0]) // _FIRST_WINDOW + 1
    width = max(last - first + 1, least)
    # past the sources' last row (DESC: before their first), a window is the whole range
    end = rng.hi if held is None else min(rng.hi, held[1])
    start = rng.lo if held is None else max(rng.lo, held[0])
    while True:
        edge = first + width - 1 if not desc else last - width + 1
        if (not desc and edge >= end) or (desc and edge <= start):
            return probe(None)
        try:
            found = probe((rng.lo, edge) if not desc else (edge, rng.hi))
        except _Short:
            found = []
        kept = [len(s["values"]) for s in found]
        if len(found) > len(starts):  # (a group the picks missed: never by design)
            return probe(None)
        if len(found) == len(starts) and min(kept) >= (stmt.limit or 0):
            return found
        fewest = min(kept) + (stmt.offset or 0) if len(found) == len(starts) else 0
        width = _widened(width, wanted, fewest)


def _points_read(
    rows: list[list[Any]], cols: list[Column], transforms: list[Transform], shown: tuple[int, int]
) -> bool:
    """Whether a series' aggregated rows (read from before the range, for the
    transformations that look back) hold a point any column reads: a transformation's in
    any row, an aggregate's beside them in the range shown. As in 1.x, a series whose only
    points lie before the range in fields no transformation reads answers nothing; under
    fill(0) its intervals had all been filled in."""
    lo, hi = shown
    for i, (c, t) in enumerate(zip(cols, transforms, strict=True), start=1):
        looks_back = not _over_range(t)
        for row in rows:
            v = row[i]
            if v is None or v is MISSING or (c.func == "count" and v == 0):
                continue
            if looks_back or lo <= row[0] <= hi:
                return True
    return False


def _mark_missing(series: list[Series], result: pa.Table, tallies: dict[int, str]) -> None:
    """Cells of columns that had no point in their interval become ``MISSING``. The
    series' rows are ``result``'s, in its order."""
    if not result.num_rows:
        return  # (no row, and no count: the direct path's answer of no rows has no columns)
    empty = {i: [n == 0 for n in result.column(name).to_pylist()] for i, name in tallies.items()}
    k = 0
    for s in series:
        for row in s["values"]:
            for i, flags in empty.items():
                if flags[k]:
                    row[i + 1] = MISSING
            k += 1


def _points(
    table: TableSchema,
    fields: list[str],
    group: list[str],
    residual: ast.Expr | None,
    rng: TimeRange,
    now_ns: int,
    run_sql: RunSql,
    fetch: Fetch | None,
) -> pa.Table:
    """The points of ``fields`` a reducer reads (edge_query.influxql.reducers): the group
    tags as text, the time, the fields; by group, time, then series key (1.x's order of
    points at one time). SQL selects them; numpy orders them, by one number per series
    (its tags' ranks) where that fits 63 bits: DataFusion's sort by a dozen tag columns
    was ~85 % of an integral() over 432,000 TSBS points. Where the condition is tags equal
    to texts, read without SQL (``_fetched_points``)."""
    fetched = _fetched_points(table, fields, group, residual, rng, fetch)
    if fetched is not None:
        return fetched
    where = _where(residual, rng, table, now_ns)
    tags = [
        f"CAST({quote_ident(g)} AS VARCHAR) AS {quote_ident(g)}"
        if g in table.columns
        else f"NULL AS {quote_ident(g)}"
        for g in group
    ]
    others = [g for g in sorted(table.tag_names) if g not in group]
    t = f"CAST({quote_ident(TIME_COLUMN)} AS BIGINT) AS __time"
    held = " OR ".join(f"{quote_ident(f)} IS NOT NULL" for f in fields) or "FALSE"
    keys = [f"{quote_ident(o)} AS __k{i}" for i, o in enumerate(others)]
    head = f"SELECT {', '.join([*tags, t, *map(quote_ident, fields), *keys])} FROM "
    head += f"{quote_ident(table.name)} WHERE ({where}) AND ({held})"
    rows = _no_views(run_sql(head))
    order = _points_order(rows, group, len(others))
    if order is None:
        order_sql = [*(quote_ident(g) for g in group), "__time"]
        order_sql += [f"__k{i} NULLS FIRST" for i in range(len(others))]
        rows = run_sql(f"{head} ORDER BY {', '.join(order_sql)}")
        return rows.select([*group, "__time", *fields])
    return rows.select([*group, "__time", *fields]).take(pa.array(order))


def _fetched_points(
    table: TableSchema,
    fields: list[str],
    group: list[str],
    residual: ast.Expr | None,
    rng: TimeRange,
    fetch: Fetch | None,
) -> pa.Table | None:
    """``_points`` without SQL, where the condition (beyond time) is tags equal to texts:
    the raw points of those fields as ``direct_raw`` reads them, which is the same table
    in the same order (DataFusion's planning was half of a one-host integral()); None
    where only SQL can select them."""
    if fetch is None:
        return None
    shown = [Column(f, quote_ident(f), "raw", field=f) for f in fields]
    plan = direct_raw(table, shown, group, residual, rng, regex_resolver(fetch, table))
    if plan is None:
        return None
    return plan.run(fetch(plan.need))


def _points_order(rows: pa.Table, group: list[str], others: int) -> np.ndarray | None:
    """The order of ``rows`` by group, time, then series key (a missing tag first); None
    when the groups' or the series keys' ranks do not fit one 63-bit number."""
    grouping = _ranks(rows, list(group))
    times = np.asarray(rows.column("__time"), dtype=np.int64)
    if grouping is None:
        return None
    codes, size = grouping
    order = np.argsort(times, kind="stable")  # (rows come mostly in time order: quick)
    if size > 1:  # then by group, keeping time order (a radix sort for 16 bits)
        keys = codes[order]
        order = order[
            np.argsort(keys.astype(np.uint16) if size <= 1 << 16 else keys, kind="stable")
        ]
    # points of several series at one time in a group: those go by series key
    g, t = codes[order], times[order]
    if not ((g[1:] == g[:-1]) & (t[1:] == t[:-1])).any():
        return order
    series = _ranks(rows, [f"__k{i}" for i in range(others)], missing_first=True)
    if series is None:
        return None
    return np.lexsort((series[0], times, codes))


def _ranks(
    rows: pa.Table, columns: list[str], missing_first: bool = False
) -> tuple[np.ndarray, int] | None:
    """One number per row ranking its texts in ``columns`` (in that order; a missing text
    last, or first), and how many numbers there can be; None past 63 bits."""
    ranks = np.zeros(rows.num_rows, dtype=np.int64)
    size = 1
    for c in columns:
        codes, names = text_codes(rows.column(c))
        if missing_first:  # text_codes puts a missing text last
            codes = (codes + 1) % len(names)
        size *= len(names)
        if size >= 1 << 62:
            return None
        ranks = ranks * len(names) + codes
    return ranks, size


def _pick(
    stmt: ast.SelectStatement,
    table: TableSchema,
    cols: list[Column],
    residual: ast.Expr | None,
    interval: ast.Call | None,
) -> TablePick | None:
    """Only first() or only last() of fields, nothing else shown, grouped by tags alone,
    conditions (beyond the time range) on tags alone: each series' first or last row per
    field is all the query can pick (``edge_common.picks``), so only those rows need to
    leave where they live."""
    kinds = {c.func for c in cols}
    if interval is not None or kinds not in ({"first"}, {"last"}):
        return None
    if any(c.transform is not None or not is_field(table, c.field) for c in cols):
        return None
    if residual is not None and any(
        table.columns.get(name) is not ColumnType.TAG for name in _names(residual)
    ):
        return None
    fields = tuple(sorted({c.field for c in cols if c.field}))
    return table.name, Pick("first" if kinds == {"first"} else "last", fields)


def _names(expr: ast.Expr) -> set[str]:
    """Every name a condition reads."""
    if isinstance(expr, ast.VarRef):
        return {expr.name}
    if isinstance(expr, ast.BinaryExpr):
        return _names(expr.lhs) | _names(expr.rhs)
    if isinstance(expr, (ast.UnaryExpr, ast.ParenExpr)):
        return _names(expr.expr)
    if isinstance(expr, ast.Call):
        return {n for arg in expr.args for n in _names(arg)}
    return set()


def _select_multi(
    stmt: ast.SelectStatement,
    table: TableSchema,
    cols: list[Column],
    group: list[str],
    interval: ast.Call | None,
    residual: ast.Expr | None,
    rng: TimeRange,
    run_sql: RunSql,
    now_ns: int,
    go_floats: bool,
) -> list[Series]:
    """top(), bottom(), sample() and distinct(): several rows per series; with fields, tags
    or expressions of them beside the call (``aux``), their values at each point picked."""
    col = next(c for c in cols if c.kind == "multi")
    aux = [c for c in cols if c is not col]
    # the answer's columns as the statement writes them: each beside the call where it was
    # written, the call's tag arguments after it (shown named as the tags)
    picked = [n for c in cols for n in (_multi_names(col) if c is col else [c.name])]
    # GROUP BY time(): each interval apart (its start shown by distinct(), the points' own
    # times by top() and bottom())
    bucket = None
    extra = None
    clock = None
    if interval is not None:
        if not rng.bounded_above:
            rng.hi = now_ns
        every, offset = interval_of(interval, now_ns)
        offset, clock = zoned(stmt, every, offset, rng)
        if clock is not None:  # each row's window in the zone, worked out as for aggregates
            where = _where(residual, rng, table, now_ns)
            extra = windowed_rows(table, group, where, run_sql, every, offset, clock)
            bucket = "__window"
        else:
            origin = f"arrow_cast({offset}, 'Timestamp(Nanosecond, None)')"
            bucket = (
                f"CAST(date_bin(INTERVAL '{every} nanoseconds', {quote_ident(TIME_COLUMN)}, "
                f"{origin}) AS BIGINT)"
            )
    if col.field is None:
        return []
    tag_sql = [
        f"CAST({quote_ident(g)} AS VARCHAR) AS {quote_ident(g)}"
        if g in table.columns
        else f"NULL AS {quote_ident(g)}"
        for g in group
    ]
    tags = [quote_ident(g) for g in group]
    value = quote_ident(col.field)
    where = f"{_where(residual, rng, table, now_ns)} AND {value} IS NOT NULL"
    src = quote_ident(table.name)
    name = quote_ident(col.name)
    if col.func == "distinct":
        start = bucket or str(rng.lo if rng.bounded_below else 0)
        # 1.x lists values by the time it first met them (descending: their last time)
        seen = "max" if _descending(stmt) else "min"
        first_seen = f"{seen}({quote_ident(TIME_COLUMN)})"
        sql = (
            f"SELECT {', '.join([*tag_sql, f'{start} AS __time', f'{value} AS {name}'])} "
            f"FROM {src} WHERE {where} "
            f"GROUP BY {', '.join([*tags, *([bucket] if bucket else []), value])} "
            f"ORDER BY {', '.join([*tags, '__time', first_seen, name])}"
        )
    else:
        parts = [*tags, *(["__bucket"] if bucket else [])]
        part = f"PARTITION BY {', '.join(parts)} " if parts else ""
        t = f"CAST({quote_ident(TIME_COLUMN)} AS BIGINT)"
        # top, bottom: the largest, smallest (earliest first on ties); sample: N at random
        order = {
            "top": f"{value} DESC, {t} ASC",
            "bottom": f"{value} ASC, {t} ASC",
        }.get(col.func or "", "random()")
        # points at the same time: top's largest first, bottom's smallest first, sample's in
        # series order (1.x sorts picks by value, then stably by time)
        tie = {"top": f"{name} DESC", "bottom": f"{name} ASC"}.get(col.func or "", "__series")
        series_key = ", ".join(
            f"CAST({quote_ident(k)} AS VARCHAR)" for k in sorted(table.tag_names)
        )
        # top(f, tag…, N): first each tag combination's own best point, then the N best
        by = [quote_ident(f"__by_{i}") for i in range(len(col.by))]
        by_sql = [
            f"CAST({quote_ident(b)} AS VARCHAR) AS {alias}"
            if b in table.columns
            else f"NULL AS {alias}"
            for b, alias in zip(col.by, by, strict=True)
        ]
        aux_sql = [f"{c.sql} AS {quote_ident(c.name)}" for c in aux]
        inner_sql = [*tag_sql, *by_sql, *aux_sql, f"{t} AS __time", f"{value} AS {name}"]
        inner = (
            f"SELECT {', '.join(inner_sql)}, "
            + (f"{bucket} AS __bucket, " if bucket else "")
            + f"concat_ws(',', {series_key or repr('')}) AS __series "
            f"FROM {src} WHERE {where}"
        )
        if by:
            best = f"PARTITION BY {', '.join([*parts, *by])} "
            inner = (
                f"SELECT * FROM (SELECT *, row_number() OVER ({best}ORDER BY "
                f"{order.replace(value, name).replace(t, '__time')}) AS __best FROM ({inner})) "
                "WHERE __best = 1"
            )
        ranked = (
            f"SELECT *, row_number() OVER ({part}ORDER BY "
            f"{order.replace(value, name).replace(t, '__time')}) AS __rn FROM ({inner})"
        )
        outer = [quote_ident(n) for n in picked]
        sql = (
            f"SELECT {', '.join([*tags, '__time', *outer])} FROM ({ranked}) "
            f"WHERE __rn <= {int(col.percent)} ORDER BY {', '.join([*tags, '__time', tie])}"
        )
    series = _cut(run_sql(sql, None, extra), table.name, group, picked, go_floats)
    shown = [n for c in cols for n in ([c.name, *col.by_shown] if c is col else [c.name])]
    for s in series:
        s["columns"] = ["time", *(n.removeprefix("__shown_") for n in shown)]
    # ORDER BY time DESC: the intervals newest first, each one's points still oldest first
    # (1.x orders what a call picks by time)
    desc = _descending(stmt) and interval is not None
    for s in series:
        if desc:
            times = np.array([row[0] for row in s["values"]], dtype=np.int64)
            starts = (
                times - (times - offset) % every
                if clock is None
                else zone_windows(times, every, offset, clock)[0]
            )
            by_window: dict[int, list[list[Any]]] = {}
            for start, row in zip(starts.tolist(), s["values"], strict=True):
                by_window.setdefault(start, []).append(row)
            s["values"] = [row for w in sorted(by_window, reverse=True) for row in by_window[w]]
        lo = stmt.offset or 0
        s["values"] = s["values"][lo : None if not stmt.limit else lo + stmt.limit]
    return _in_tag_order([s for s in series if s["values"]], group)


def _multi_names(col: Column) -> list[str]:
    """The answer's columns of a top(f, tag…, N): its own, then one per tag argument."""
    return [col.name, *(f"__by_{i}" for i in range(len(col.by)))]


def interval_of(call: ast.Call, now_ns: int) -> tuple[int, int]:
    """GROUP BY time(interval[, offset]): (interval, offset) in ns."""
    if not call.args or not isinstance(call.args[0], ast.DurationLiteral):
        raise QueryError("time() takes a duration, e.g. time(10m)")
    every = call.args[0].ns
    if every <= 0:
        raise QueryError("time() interval must be positive")
    offset = 0
    if len(call.args) > 1:
        arg = call.args[1]
        if isinstance(arg, ast.DurationLiteral):
            offset = arg.ns
        elif isinstance(arg, ast.UnaryExpr) and isinstance(arg.expr, ast.DurationLiteral):
            offset = -arg.expr.ns
        elif isinstance(arg, ast.NowCall):
            offset = now_ns % every
        else:
            raise QueryError("time() offset must be a duration or now()")
    return every, offset  # as written: a zone's windows shift by it before the modulo


def _columns_values(cols: list[pa.ChunkedArray], go_floats: bool) -> list[list[Any]]:
    """Columns as Python values; with ``go_floats``, whole floats as ints, as influxd's Go
    JSON encoder writes them (the 1.x API's answers). The whole floats of all float columns
    are found by one numpy pass over them together (a pass a column cost ~8 µs: TSBS's 10
    fields)."""
    out: list[list[Any]] = []
    floats: list[int] = []  # which of out are float columns of one length
    for col in cols:
        if pa.types.is_dictionary(col.type):
            out.append(_texts(col))
            continue
        out.append(col.to_pylist())
        if go_floats and pa.types.is_floating(col.type) and len(col):
            floats.append(len(out) - 1)
    if floats:
        arrays = [cols[k].to_numpy(zero_copy_only=False) for k in floats]
        arr = arrays[0][np.newaxis] if len(arrays) == 1 else np.stack(arrays)
        # (Go writes digits up to 1e21; past 2**63 the JSON encoder takes no int, and the
        # float it writes instead is the same number. NaN and infinities compare false
        # without a warning)
        which, where = np.nonzero((np.floor(arr) == arr) & (np.abs(arr) < GO_WHOLE))
        for k, i in zip(which.tolist(), where.tolist(), strict=True):
            values = out[floats[k]]
            values[i] = go_integer(values[i])
    return out


def _texts(col: pa.ChunkedArray) -> list[Any]:
    """A tag column's texts: each distinct value made once, then picked by index (casting
    first would build every row's string anew: 10 ms for 10 tags of 40,000 rows; this is
    ~1 ms); a dictionary of one text (one series' rows) is that text repeated."""
    out: list[Any] = []
    for chunk in col.chunks:
        if len(chunk.dictionary) == 1 and not chunk.null_count:
            out += [chunk.dictionary[0].as_py()] * len(chunk)
            continue
        distinct = np.array([*chunk.dictionary.to_pylist(), None], dtype=object)
        indices = chunk.indices  # (fill_null costs ~10 µs even with no null)
        if indices.null_count:
            indices = indices.fill_null(len(distinct) - 1)
        out += distinct[np.asarray(indices)].tolist()
    return out


def _limited(result: pa.Table, group: list[str], lo: int, hi: int, desc: bool) -> pa.Table:
    """Of raw rows (by group tags, then time), the rows [lo, hi) of each series in the
    asked order: a table panel's ``LIMIT 100`` of 4,320 rows of 20 columns made every row
    a Python list (10 ms; influxd 1.4)."""
    n = result.num_rows
    starts = run_starts(result, group)
    ends = np.append(starts[1:], n)
    if desc:  # the last rows, which the answer shows first
        first, end = np.maximum(starts, ends - hi), ends - lo
    else:
        first, end = starts + lo, np.minimum(ends, starts + hi)
    sizes = np.maximum(end - first, 0)
    if sizes.sum() == n:
        return result
    if len(starts) == 1:  # one series: its rows kept are one run
        return result.slice(int(first[0]), int(sizes[0]))
    # the j-th row kept, in range i (whose rows begin at heads[i] among those kept), is
    # row first[i] + j - heads[i]
    heads = np.cumsum(sizes) - sizes
    shift = np.repeat(first - heads, sizes)
    return _no_views(result).take(pa.array(shift + np.arange(len(shift))))


def _no_views(rows: pa.Table) -> pa.Table:
    """``rows`` with DataFusion's text columns (Arrow's string_view, which ``take()``
    lacks) as plain strings."""
    for i, f in enumerate(rows.schema):
        if pa.types.is_string_view(f.type):
            rows = rows.set_column(i, f.name, rows.column(i).cast(pa.string()))
    return rows


def _cut(
    result: pa.Table, name: str, group: list[str], columns: list[str], go_floats: bool
) -> list[Series]:
    """Rows (sorted by group tags, time) → one series per tag set. The rows are made once
    and sliced per series; tag texts come from each dictionary once, and where a tag set
    changes is found by numpy (100 series of a row each, lastpoint: 340 µs before, ~80)."""
    if not result.num_rows:
        return []
    cols = [
        result.column("__time").to_pylist(),
        *_columns_values([result.column(c) for c in columns], go_floats),
    ]
    rows = list(map(list, zip(*cols, strict=True)))
    header = ["time", *columns]
    if not group:
        return [{"name": name, "columns": header, "values": rows}]
    tags = _columns_values([result.column(g) for g in group], False)
    keys = np.empty((len(rows), len(group)), dtype=object)
    for j, values in enumerate(tags):
        keys[:, j] = values
    changes = np.flatnonzero((keys[1:] != keys[:-1]).any(axis=1)) + 1
    starts = [0, *changes.tolist()]
    out: list[Series] = []
    for a, b in zip(starts, [*starts[1:], len(rows)], strict=True):
        s: Series = {"name": name, "columns": list(header), "values": rows[a:b]}
        s["tags"] = {g: values[a] or "" for g, values in zip(group, tags, strict=True)}
        out.append(s)
    return out
