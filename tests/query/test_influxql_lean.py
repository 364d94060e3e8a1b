"""The panel's question answered from the points themselves (``influxql.lean``) gives the
answer of the general way (``select.run_select``), statement for statement, over random
tables with points in any order; every other statement, and points the sources cannot hand
over as numbers (nulls), are left to the general way (``None``)."""

from __future__ import annotations

from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pytest

from edge_common.schema import TIME_COLUMN, DatabaseSchema
from edge_query.influxql.lean import Points, lean_select
from edge_query.influxql.parser import parse
from edge_query.influxql.select import run_select
from tests.query.test_influxql_direct import NOW, RANGE, _data, _fetch_from, _same, _schema
from tests.query.test_influxql_direct import _sql_over as sql_over


def _full(seed: int) -> pa.Table:
    """``_data``'s table with fields f and i set in every row (u is already)."""
    data = _data(seed, 3000)
    rng = np.random.default_rng(seed)
    n = data.num_rows
    f = np.round(rng.normal(50, 20, n), 1)
    f[rng.random(n) < 0.2] = np.round(f[rng.random(n) < 0.2].mean())  # whole floats too
    data = data.set_column(data.schema.get_field_index("f"), "f", pa.array(f))
    i = pa.array(rng.integers(-1000, 1000, n))
    return data.set_column(data.schema.get_field_index("i"), "i", i)


def _points_from(data: pa.Table, seed: int, asked: list[tuple[Any, ...]]) -> Points:
    """``Points`` of ``data``, shuffled (sources hand points over in any order); None where
    a point asked for has no value (a null)."""
    rng = np.random.default_rng(seed)

    def points(
        name: str, lo: int, hi: int, values: dict[str, list[str]], field: str
    ) -> tuple[np.ndarray, np.ndarray] | None:
        asked.append((name, lo, hi, values, field))
        t = np.asarray(pc.cast(data.column(TIME_COLUMN), pa.int64()))
        keep = (t >= lo) & (t <= hi)
        for tag, allowed in values.items():
            texts = pc.cast(data.column(tag), pa.string())
            held = pc.fill_null(pc.is_in(texts, pa.array(allowed, pa.string())), False)
            keep &= np.asarray(held)
        column = data.column(field).combine_chunks().filter(pa.array(keep))
        if column.null_count:
            return None
        order = rng.permutation(len(column))
        return t[keep][order], np.asarray(column)[order]

    return points


def _both(q: str, data: pa.Table, seed: int = 0) -> tuple[Any, Any, list[tuple[Any, ...]]]:
    """(the general way's series, the lean answer, the points asked for)."""
    db = DatabaseSchema("db", {"cpu": _schema()})
    (stmt,) = parse(q, {}, NOW)
    general = run_select(stmt, db, sql_over(data), NOW, True, _fetch_from(data, []))
    asked: list[tuple[Any, ...]] = []
    lean = lean_select(stmt, db.tables, NOW, True, _points_from(data, seed, asked))
    return general, lean, asked


LEAN = [
    f"SELECT max(f) FROM cpu WHERE host = 'a' AND {RANGE} GROUP BY time(1m)",
    f"SELECT min(i) FROM cpu WHERE host = 'b' AND {RANGE} GROUP BY time(10m) fill(none)",
    f"SELECT mean(f) AS m FROM cpu WHERE region = 'east' AND {RANGE} GROUP BY time(7m, 2m)",
    f"SELECT sum(i) FROM cpu WHERE host = 'a' AND region = 'west' AND {RANGE} "
    "GROUP BY time(5m) fill(0)",
    f"SELECT sum(u) FROM cpu WHERE {RANGE} GROUP BY time(15m) fill(-1.5)",
    f"SELECT count(f) FROM cpu WHERE host = 'c' AND {RANGE} GROUP BY time(1m)",
    f"SELECT count(i) FROM cpu WHERE host = 'c' AND {RANGE} GROUP BY time(1m) fill(none)",
    f"SELECT count(u) FROM cpu WHERE host = 'd' AND {RANGE} GROUP BY time(1m) fill(7)",
    f"SELECT first(f) FROM cpu WHERE host =~ /^(a|b)$/ AND {RANGE} GROUP BY time(10m)",
    f"SELECT last(i) FROM cpu WHERE host = 'a' AND {RANGE} GROUP BY time(3m) fill(null)",
    f"SELECT mean(i) FROM cpu WHERE host = 'b' AND {RANGE} GROUP BY time(1m)",
    # fill(<float>) of integers: truncated (influxd's integer iterators)
    f"SELECT max(i) FROM cpu WHERE host = 'b' AND {RANGE} GROUP BY time(1m) fill(2.5)",
    f"SELECT count(f) FROM cpu WHERE host = 'd' AND {RANGE} GROUP BY time(1m) fill(-1.5)",
    f"SELECT max(u) FROM cpu WHERE host = 'a' AND {RANGE} GROUP BY time(1h, -10m)",
    # a lower bound inside an interval, one before the points, none above (now() then)
    "SELECT max(f) FROM cpu WHERE host = 'a' AND time >= '2016-01-01T00:00:30Z' AND "
    "time < '2016-01-01T00:20:00Z' GROUP BY time(1m)",
    "SELECT mean(f) FROM cpu WHERE time >= '2015-12-31T23:00:00Z' AND "
    "time <= '2016-01-01T00:30:00Z' GROUP BY time(10m)",
    "SELECT max(i) FROM cpu WHERE host = 'a' AND time > '2016-01-01T01:30:00Z' GROUP BY time(5m)",
    # no point: no series
    f"SELECT max(f) FROM cpu WHERE host = 'zzz' AND {RANGE} GROUP BY time(1m)",
    "SELECT max(f) FROM cpu WHERE time >= '2015-01-01T00:00:00Z' AND "
    "time < '2015-01-01T01:00:00Z' GROUP BY time(1m)",
]
GENERAL = [  # another shape: the general way's
    f"SELECT max(f), min(f) FROM cpu WHERE {RANGE} GROUP BY time(1m)",
    f"SELECT max(f) FROM cpu WHERE {RANGE} GROUP BY time(1m), host",
    f"SELECT max(f) FROM cpu WHERE {RANGE} GROUP BY time(1m) fill(previous)",
    f"SELECT max(f) FROM cpu WHERE {RANGE} GROUP BY time(1m) LIMIT 3",
    f"SELECT max(f) FROM cpu WHERE {RANGE} GROUP BY time(1m) ORDER BY time DESC",
    f"SELECT max(f) FROM cpu WHERE {RANGE} GROUP BY time(1m) tz('Europe/Paris')",
    f"SELECT spread(f) FROM cpu WHERE {RANGE} GROUP BY time(1m)",
    f"SELECT percentile(f, 50) FROM cpu WHERE {RANGE} GROUP BY time(1m)",
    f"SELECT max(f) * 2 FROM cpu WHERE {RANGE} GROUP BY time(1m)",
    f"SELECT max(f::field) FROM cpu WHERE {RANGE} GROUP BY time(1m)",
    f"SELECT derivative(max(f)) FROM cpu WHERE {RANGE} GROUP BY time(1m)",
    f"SELECT max(f) FROM cpu WHERE f > 50 AND {RANGE} GROUP BY time(1m)",
    f"SELECT max(f) FROM cpu WHERE host != 'a' AND {RANGE} GROUP BY time(1m)",
    f"SELECT max(f) FROM /c.u/ WHERE {RANGE} GROUP BY time(1m)",
    f"SELECT max(s) FROM cpu WHERE {RANGE} GROUP BY time(1m)",
    f"SELECT max(host) FROM cpu WHERE {RANGE} GROUP BY time(1m)",
    f"SELECT max(f) FROM cpu WHERE {RANGE}",
    "SELECT max(f) FROM cpu WHERE time < '2016-01-01T01:00:00Z' GROUP BY time(1m)",
]


@pytest.mark.parametrize("seed", [1, 2, 3])
@pytest.mark.parametrize("q", LEAN)
def test_the_lean_answer_is_the_general_ways(q: str, seed: int) -> None:
    general, lean, asked = _both(q, _full(seed), seed)
    assert lean is not None and len(asked) == 1, "not answered from the points"
    assert bool(general) != ("'zzz'" in q or "2015-01-01" in q)
    assert _same(general, lean), (general[:1], lean[:1])
    # whole floats written as integers, as Go writes them (1, not 1.0), in the same cells
    assert _kinds(general) == _kinds(lean)


def _kinds(series: list[dict[str, Any]]) -> list[list[str]]:
    return [[type(v).__name__ for v in row] for s in series for row in s["values"]]


@pytest.mark.parametrize("q", GENERAL)
def test_other_statements_are_left_to_the_general_way(q: str) -> None:
    (stmt,) = parse(q, {}, NOW)
    asked: list[tuple[Any, ...]] = []
    tables = {"cpu": _schema()}
    assert lean_select(stmt, tables, NOW, True, _points_from(_full(4), 4, asked)) is None
    assert not asked


def test_points_with_nulls_are_left_to_the_general_way() -> None:
    # (f and i of _data are sparse: the sources cannot hand their points over as numbers)
    q = f"SELECT max(f) FROM cpu WHERE host = 'a' AND {RANGE} GROUP BY time(1m)"
    general, lean, asked = _both(q, _data(5, 2000))
    assert lean is None and asked and general


def test_nan_values_of_an_ordered_aggregate_are_left_to_the_general_way() -> None:
    data = _full(6)
    f = np.asarray(data.column("f").combine_chunks()).copy()
    f[::17] = np.nan
    data = data.set_column(data.schema.get_field_index("f"), "f", pa.array(f))
    q = f"SELECT max(f) FROM cpu WHERE {RANGE} GROUP BY time(10m)"
    assert _both(q, data)[1] is None
    q = f"SELECT sum(f) FROM cpu WHERE {RANGE} GROUP BY time(10m)"  # (NaN sums alike)
    general, lean, _ = _both(q, data)
    assert lean is not None and _same(general, lean)
