"""Plain aggregates computed without SQL (``influxql.direct``) give the answer the SQL path
gives, statement for statement, over random tables with sparse fields, missing tags, ties in
time and every numeric type."""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pytest

import edge_query.influxql.direct as direct_module
import edge_query.influxql.fill as fill_module
import edge_query.influxql.select as select_module
from edge_common.schema import TIME_COLUMN, ColumnType, DatabaseSchema, TableSchema
from edge_query.influxql.direct import _literal_alternatives, text_codes
from edge_query.influxql.parser import parse
from edge_query.influxql.select import run_select
from edge_query.influxql.subquery import rows_needed
from edge_query.influxql.translate import TimeRange
from edge_query.planner import TableNeed, TablePick, new_context

S = 10**9
T0 = 1_451_606_400 * S  # 2016-01-01T00:00:00Z
NOW = T0 + 7200 * S


def _schema() -> TableSchema:
    t = TableSchema("cpu")
    t.columns.update(
        time=ColumnType.TIME,
        host=ColumnType.TAG,
        region=ColumnType.TAG,
        f=ColumnType.FLOAT,
        i=ColumnType.INTEGER,
        u=ColumnType.UINTEGER,
        s=ColumnType.STRING,
        b=ColumnType.BOOLEAN,
    )
    return t


def _data(seed: int, rows: int, unique: bool = True) -> pa.Table:
    rng = np.random.default_rng(seed)
    hosts = np.array(["a", "b", "c", "d", None], dtype=object)
    regions = np.array(["east", "west", None], dtype=object)

    def sparse(values: np.ndarray, p: float) -> pa.Array:
        return pa.array(values, mask=rng.random(rows) < p)

    # times on a 10 s grid (ties across series), over two hours; one row per series and
    # time, as the sources hand rows over (repeats merged)
    ticks, host, region = (rng.integers(0, n, rows) for n in (720, 5, 3))
    if unique:
        _, first = np.unique(ticks * 15 + host * 3 + region, return_index=True)
        rows = len(first)
        ticks, host, region = ticks[first], host[first], region[first]
    times = T0 + ticks * 10 * S
    return pa.table(
        {
            TIME_COLUMN: pa.array(times, pa.timestamp("ns")),
            "host": pa.array(hosts[host], pa.string()).dictionary_encode(),
            "region": pa.array(regions[region], pa.string()).dictionary_encode(),
            "f": sparse(np.round(rng.normal(50, 20, rows), 1), 0.2),
            "i": sparse(rng.integers(-1000, 1000, rows), 0.3),
            "u": pa.array(rng.integers(0, 5000, rows).astype(np.uint64), pa.uint64()),
            "s": sparse(np.array([f"v{k}" for k in rng.integers(0, 9, rows)]), 0.5),
            "b": sparse(rng.random(rows) < 0.5, 0.5),
        }
    )


def _answers(q: str, data: pa.Table) -> tuple[Any, Any, int]:
    """(the SQL path's series, the direct path's series, fetches the direct path made)."""
    db = DatabaseSchema("db", {"cpu": _schema()})
    (stmt,) = parse(q, {}, NOW)
    fetched: list[TableNeed] = []
    run_sql = _sql_over(data)
    by_sql = run_select(stmt, db, run_sql, NOW)
    direct = run_select(stmt, db, run_sql, NOW, fetch=_fetch_from(data, fetched))
    return by_sql, direct, len(fetched)


def _sql_over(data: pa.Table) -> Any:
    """select.RunSql over ``data`` as table cpu."""

    def run_sql(
        sql: str, pick: TablePick | None = None, extra: dict[str, pa.Table] | None = None
    ) -> pa.Table:
        ctx = new_context(1)
        rows = (extra or {}).get("cpu", data)  # the rows placed in a zone's windows
        empty = pa.RecordBatch.from_pylist([], schema=rows.schema)
        ctx.register_record_batches("cpu", [rows.to_batches() or [empty]])
        return ctx.sql(sql).to_arrow_table()

    return run_sql


def _fetch_from(data: pa.Table, fetched: list[TableNeed]) -> Any:
    """select.Fetch of ``data``, each need kept in ``fetched``."""

    def fetch(need: TableNeed) -> pa.Table:
        """What the persister sends: the columns, time range and tag values asked for."""
        fetched.append(need)
        assert need.columns is not None
        t = pc.cast(data.column(TIME_COLUMN), pa.int64())
        out = data.select(sorted(need.columns))
        keep = pc.and_(
            pc.greater_equal(t, need.min_ns if need.min_ns is not None else -(2**62)),
            pc.less_equal(t, need.max_ns if need.max_ns is not None else 2**62),
        )
        for tag, allowed in need.values.items():
            col = pc.cast(data.column(tag), pa.string())  # columns fetched or not
            keep = pc.and_(
                keep, pc.fill_null(pc.is_in(col, pa.array(sorted(allowed), pa.string())), False)
            )
        out = out.filter(keep)
        # in pieces, each tag with a dictionary of its own, as sources arrive
        third = out.num_rows // 3
        return pa.concat_tables([_own_dictionaries(p) for p in _thirds(out, third)])

    return fetch


def _thirds(t: pa.Table, third: int) -> list[pa.Table]:
    return [t.slice(0, third), t.slice(third, third), t.slice(2 * third)]


def _own_dictionaries(t: pa.Table) -> pa.Table:
    for i, f in enumerate(t.schema):
        if pa.types.is_dictionary(f.type):
            column = pc.cast(t.column(i), pa.string()).combine_chunks().dictionary_encode()
            t = t.set_column(i, f.name, column)
    return t


def _same(a: Any, b: Any) -> bool:
    if isinstance(a, float) or isinstance(b, float):
        if a is None or b is None:
            return False
        if math.isnan(a) or math.isnan(b):
            return math.isnan(a) and math.isnan(b)
        return math.isclose(a, b, rel_tol=1e-12, abs_tol=1e-9)
    if isinstance(a, list) and isinstance(b, list):
        return len(a) == len(b) and all(_same(x, y) for x, y in zip(a, b, strict=True))
    if isinstance(a, dict) and isinstance(b, dict):
        return a.keys() == b.keys() and all(_same(a[k], b[k]) for k in a)
    return bool(a == b) and type(a) is type(b)


RANGE = "time >= '2016-01-01T00:00:00Z' AND time < '2016-01-01T02:00:00Z'"
DIRECT = [
    f"SELECT max(f) FROM cpu WHERE host = 'a' AND {RANGE} GROUP BY time(1m)",
    f"SELECT max(f) FROM cpu WHERE host = 'a' AND {RANGE} GROUP BY time(1m) fill(none)",
    f"SELECT min(i), max(i), spread(i) FROM cpu WHERE {RANGE} GROUP BY time(10m), host",
    f"SELECT mean(f), count(f), sum(f) FROM cpu WHERE {RANGE} GROUP BY time(7m, 2m), *",
    f"SELECT count(s), count(b), sum(i) FROM cpu WHERE region = 'east' AND {RANGE} "
    "GROUP BY time(15m) fill(0)",
    f"SELECT mean(u), sum(u), max(u), first(u), last(u) FROM cpu WHERE {RANGE} "
    "GROUP BY time(1h), region",
    f"SELECT first(f), last(f), first(i) FROM cpu WHERE {RANGE} GROUP BY time(5m) fill(previous)",
    f"SELECT max(f) FROM cpu WHERE {RANGE} GROUP BY time(10m), host, region fill(linear)",
    "SELECT max(f) FROM cpu WHERE time >= '2016-01-01T00:30:00Z' GROUP BY time(20m)",
    f"SELECT max(f) FROM cpu WHERE {RANGE} GROUP BY time(10m), nosuchtag",
    f"SELECT count(f) FROM cpu WHERE (host = 'b') AND region = 'west' AND {RANGE} "
    "GROUP BY time(30m)",
    f"SELECT max(f) FROM cpu WHERE host = 'a' AND host = 'b' AND {RANGE} GROUP BY time(1m)",
    f"SELECT max(f) FROM cpu WHERE host = 'zzz' AND {RANGE} GROUP BY time(1m)",
    # median() and percentile(): each group's values ranked (of equal values the earliest
    # first); a percentile whose rank falls outside the values has none
    f"SELECT median(f), median(i), median(u) FROM cpu WHERE {RANGE} GROUP BY time(10m), host",
    f"SELECT percentile(f, 90), percentile(i, 5), percentile(u, 50) FROM cpu WHERE {RANGE} "
    "GROUP BY time(10m) fill(none)",
    f"SELECT percentile(f, 1) FROM cpu WHERE host = 'a' AND {RANGE} GROUP BY time(30m)",
    f"SELECT percentile(i, 100), percentile(i, 0), percentile(i, 250) FROM cpu WHERE {RANGE} "
    "GROUP BY time(30m), region",
    "SELECT percentile(i, 75) FROM cpu GROUP BY host",
    "SELECT median(f), percentile(f, 50), max(f) FROM cpu GROUP BY region",
    # of a field set in every row (u): a rank outside the values still has none
    f"SELECT percentile(u, 0), percentile(u, 100), max(u) FROM cpu WHERE {RANGE} "
    "GROUP BY time(10m), host",
    # mode() and integral(): their points read without SQL (the same table, same order)
    f"SELECT mode(i) FROM cpu WHERE {RANGE} GROUP BY time(10m), host",
    f"SELECT integral(f, 1m) FROM cpu WHERE host = 'a' AND {RANGE} GROUP BY time(10m)",
    "SELECT integral(i), mode(u) FROM cpu GROUP BY region",
    f"SELECT mode(f), integral(f) FROM cpu WHERE region = 'east' AND {RANGE} "
    "GROUP BY time(30m) fill(none)",
    # intervals far more than the rows: numbered in order, not densely
    f"SELECT max(f), min(i) FROM cpu WHERE host = 'a' AND {RANGE} GROUP BY time(1ms) fill(none)",
    f"SELECT mean(f), last(i) FROM cpu WHERE {RANGE} GROUP BY time(1ms) fill(none)",
    # without GROUP BY time(): one row per tag set; a lone selector shows its point's time
    "SELECT last(f) FROM cpu GROUP BY host",
    "SELECT first(i) FROM cpu GROUP BY *",
    "SELECT max(f) FROM cpu GROUP BY region",
    f"SELECT min(i) FROM cpu WHERE {RANGE} GROUP BY host",
    f"SELECT mean(f), max(f) FROM cpu WHERE {RANGE} GROUP BY host",
    "SELECT count(f), sum(i) FROM cpu",
    "SELECT last(f), last(i) FROM cpu WHERE region = 'east' GROUP BY host",
    "SELECT max(i) AS top, min(i) AS bottom FROM cpu GROUP BY host",
    "SELECT mean(f) FROM cpu WHERE time > '2016-01-01T01:00:00Z' AND host = 'c'",
    # transformations of the aggregates, applied to the direct path's answer
    f"SELECT derivative(mean(f), 1m) FROM cpu WHERE host = 'a' AND {RANGE} GROUP BY time(5m)",
    f"SELECT non_negative_difference(max(i)) FROM cpu WHERE {RANGE} GROUP BY time(10m), host",
    f"SELECT moving_average(sum(u), 3) FROM cpu WHERE {RANGE} GROUP BY time(10m) "
    "ORDER BY time DESC",
    "SELECT cumulative_sum(count(f)) FROM cpu WHERE time >= '2016-01-01T00:30:00Z' AND "
    "time < '2016-01-01T02:00:00Z' GROUP BY time(10m) fill(0)",
    f"SELECT holt_winters(mean(f), 4, 2) FROM cpu WHERE {RANGE} GROUP BY time(10m)",
    # Grafana's form for a variable with several values: the texts a regex matches whole
    f"SELECT mean(f) FROM cpu WHERE host =~ /^(a|b)$/ AND {RANGE} GROUP BY time(10m), host",
    f"SELECT max(i) FROM cpu WHERE host =~ /^c$/ AND region = 'east' AND {RANGE} "
    "GROUP BY time(30m)",
    f"SELECT count(f) FROM cpu WHERE host = 'a' AND host =~ /^(?:a|d)$/ AND {RANGE} "
    "GROUP BY time(1h)",
    f"SELECT f FROM cpu WHERE region =~ /^(west|nowhere)$/ AND {RANGE}",
    # raw points (influxql.direct_raw)
    "SELECT f FROM cpu WHERE host = 'a'",
    "SELECT derivative(f), elapsed(f) FROM cpu WHERE host = 'a'",
    f"SELECT f, i, s, b FROM cpu WHERE {RANGE}",
    "SELECT * FROM cpu WHERE region = 'east' AND time >= '2016-01-01T01:00:00Z' AND "
    "time < '2016-01-01T01:10:00Z'",
    f"SELECT f, host FROM cpu WHERE {RANGE} GROUP BY region",
    f"SELECT u FROM cpu WHERE {RANGE} GROUP BY * ORDER BY time DESC LIMIT 7",
    f"SELECT f, i FROM cpu WHERE host = 'c' AND {RANGE} LIMIT 5 OFFSET 3",
    f"SELECT f::field, host::tag FROM cpu WHERE {RANGE} GROUP BY region SLIMIT 2",
    f"SELECT *::field FROM cpu WHERE host = 'b' AND {RANGE}",
    # a zone whose offset does not change in the range: intervals shifted by it
    f"SELECT max(f) FROM cpu WHERE {RANGE} GROUP BY time(1h) tz('Asia/Kolkata')",
]
LONE_PERCENTILE = {"SELECT percentile(i, 75) FROM cpu GROUP BY host"}
BY_SQL = [  # outside what the direct path takes: asked of SQL alone
    f"SELECT max(f) FROM cpu WHERE f > 50 AND {RANGE} GROUP BY time(1m)",
    f"SELECT max(f) FROM cpu WHERE (host = 'a' OR host = 'b') AND {RANGE} GROUP BY time(1m)",
    f"SELECT max(f) FROM cpu WHERE host != 'a' AND {RANGE} GROUP BY time(1m)",
    f"SELECT max(f) FROM cpu WHERE host = '' AND {RANGE} GROUP BY time(1m)",
    f"SELECT abs(max(f)) FROM cpu WHERE {RANGE} GROUP BY time(10m)",
    f"SELECT count(distinct(i)) FROM cpu WHERE {RANGE} GROUP BY time(10m)",
    f"SELECT derivative(max(f)) FROM cpu WHERE f < 90 AND {RANGE} GROUP BY time(10m)",
    "SELECT max(f), host FROM cpu",
    "SELECT max(b) FROM cpu",
    "SELECT f * 2 FROM cpu WHERE host = 'a'",
    "SELECT f FROM cpu WHERE f > 3",
    "SELECT f FROM cpu WHERE host !~ /^(a|b)$/",
    # regexes that match the empty text match rows without the tag too
    "SELECT f FROM cpu WHERE host =~ /.*/",
    f"SELECT max(f) FROM cpu WHERE host =~ /^$/ AND {RANGE} GROUP BY time(1m)",
    f"SELECT max(f) FROM cpu WHERE host =~ /x*|a/ AND {RANGE} GROUP BY time(1m)",
    # windows of a zone whose offset changes in the range (influxql.zones)
    "SELECT max(f) FROM cpu WHERE time >= '2016-03-20T00:00:00Z' AND "
    "time < '2016-04-01T00:00:00Z' GROUP BY time(1d) tz('Europe/Paris')",
]


# any other regex on a tag: first the tag's values (one fetch), then the matching rows
RESOLVED = [
    "SELECT f FROM cpu WHERE host =~ /a|b/",
    "SELECT f FROM cpu WHERE host =~ /^a|b$/",
    "SELECT f, i FROM cpu WHERE host =~ /^(a.)$/",
    f"SELECT mean(f), count(i) FROM cpu WHERE host =~ /[ab]/ AND {RANGE} GROUP BY time(5m), host",
    f"SELECT max(f) FROM cpu WHERE host =~ /(?i)^A/ AND region = 'east' AND {RANGE} "
    "GROUP BY time(1m)",
    f"SELECT max(f) FROM cpu WHERE host =~ /^zzz/ AND {RANGE} GROUP BY time(1m)",
    f"SELECT count(f) FROM cpu WHERE host =~ /\\d/ AND {RANGE}",
]


@pytest.mark.parametrize("seed", [1, 2])
@pytest.mark.parametrize("q", RESOLVED)
def test_a_regex_on_a_tag_is_resolved_to_its_values(q: str, seed: int) -> None:
    by_sql, direct, fetches = _answers(q, _data(seed, 2000))
    assert fetches == 2, "the tag's values, then its rows"
    assert _same(by_sql, direct), (by_sql[:1], direct[:1])


def test_a_regex_matches_the_texts_the_rows_hold_not_the_whole_dictionary() -> None:
    # a source's dictionary may hold texts none of its rows hold (a chunk's holds all it
    # ever had); and pieces come as dictionaries of their own, or plain texts
    kind = pa.dictionary(pa.int32(), pa.string())
    unused = pa.DictionaryArray.from_arrays(
        pa.array([0, 2, None, 0], pa.int32()), pa.array(["web1", "web2", "db1", "web3"])
    )
    other = pa.array(["web5", "db2", "web1"]).dictionary_encode().cast(kind)
    plain = pa.array(["web4", None, "db3"])
    column = pa.chunked_array([unused, other])
    assert direct_module._matching(column, "^web") == {"web1", "web5"}
    assert direct_module._matching(pa.chunked_array([plain]), "^web") == {"web4"}
    assert direct_module._matching(column, "^x") == set()


@pytest.mark.parametrize("with_nulls", [True, False])
@pytest.mark.parametrize(
    "q",
    [
        f"SELECT mean(f), sum(f), count(f) FROM cpu WHERE {RANGE} GROUP BY time(10m), host",
        f"SELECT count(f), count(i) FROM cpu WHERE {RANGE} GROUP BY time(10m)",
        f"SELECT max(f), mean(f) FROM cpu WHERE {RANGE} GROUP BY time(10m)",  # SQL orders NaN
        # SQL answers over rows fetched without the host column (the condition fixes it)
        f"SELECT max(f) FROM cpu WHERE host = 'a' AND {RANGE} GROUP BY time(10m)",
    ],
)
def test_nan_values_aggregate_as_sql_does(q: str, with_nulls: bool) -> None:
    data = _data(5, 2000)
    rng = np.random.default_rng(9)
    f = data.column("f").combine_chunks()
    values = np.where(rng.random(len(f)) < 0.05, np.nan, pc.fill_null(f, 0.0).to_numpy())
    mask = np.asarray(f.is_null()) if with_nulls else None  # (no nulls: views of all rows)
    data = data.set_column(data.schema.get_field_index("f"), "f", pa.array(values, mask=mask))
    by_sql, direct, fetches = _answers(q, data)
    assert fetches == 1 and by_sql
    assert _same(by_sql, direct), (by_sql[:1], direct[:1])


@pytest.mark.parametrize("seed", [1, 2, 3])
@pytest.mark.parametrize("q", DIRECT)
def test_the_direct_path_answers_as_sql_does(q: str, seed: int) -> None:
    by_sql, direct, fetches = _answers(q, _data(seed, 3000))
    # a lone percentile's point: its series' points are read again for the time shown
    assert fetches == (2 if q in LONE_PERCENTILE else 1), "the direct path was not taken"
    # a comparison of something: only the two impossible conditions answer nothing
    assert bool(by_sql) != ("'zzz'" in q or "host = 'a' AND host = 'b'" in q)
    assert _same(by_sql, direct), (by_sql[:1], direct[:1])


@pytest.mark.parametrize("q", BY_SQL)
def test_other_statements_are_left_to_sql(q: str) -> None:
    by_sql, direct, fetches = _answers(q, _data(4, 500))
    assert fetches == 0
    assert _same(by_sql, direct)


def test_no_rows_no_series() -> None:
    empty = _data(5, 10).slice(0, 0)
    by_sql, direct, fetches = _answers(
        f"SELECT max(f) FROM cpu WHERE {RANGE} GROUP BY time(1m)", empty
    )
    assert fetches == 1 and by_sql == [] and direct == []


def test_first_or_last_alone_fetch_only_the_rows_they_can_pick() -> None:
    table = _schema()
    db = DatabaseSchema("db", {"cpu": table})
    needs: list[TableNeed] = []

    def fetch(need: TableNeed) -> pa.Table:
        needs.append(need)
        return _data(6, 100).select(sorted(need.columns or ()))

    def no_sql(sql: str, pick: Any = None, extra: Any = None) -> pa.Table:
        raise AssertionError("SQL was asked")

    for q, kind in (
        ("SELECT last(f), last(i) FROM cpu GROUP BY host", "last"),
        ("SELECT first(f) FROM cpu WHERE region = 'east'", "first"),
    ):
        (stmt,) = parse(q, {}, NOW)
        run_select(stmt, db, no_sql, NOW, fetch=fetch)
        pick = needs[-1].pick
        assert pick is not None and pick.kind == kind
    assert needs[0].pick is not None and needs[0].pick.fields == ("f", "i")
    (stmt,) = parse(f"SELECT last(f) FROM cpu WHERE {RANGE} GROUP BY time(1m)", {}, NOW)
    run_select(stmt, db, no_sql, NOW, fetch=fetch)
    assert needs[-1].pick is None  # per interval: every row may be picked


def test_many_rows_are_answered_by_sql_over_the_rows_fetched(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Past a size (direct.MOST_CELLS, here made small), SQL answers, over the rows the
    direct path already fetched (given as a table of their own, not fetched again)."""
    monkeypatch.setattr(direct_module, "MOST_CELLS", 100_000)
    table = _schema()
    db = DatabaseSchema("db", {"cpu": table})
    data = _data(8, 140_000, unique=False)  # aggregates: repeats do not matter
    given: list[Any] = []

    def run_sql(sql: str, pick: Any = None, extra: dict[str, pa.Table] | None = None) -> pa.Table:
        given.append(extra)
        ctx = new_context(1)
        ctx.register_record_batches("cpu", [(extra or {"cpu": data})["cpu"].to_batches()])
        return ctx.sql(sql).to_arrow_table()

    def fetch(need: TableNeed) -> pa.Table:
        return data.select(sorted(need.columns or ()))

    (stmt,) = parse(
        f"SELECT mean(f), max(i) FROM cpu WHERE {RANGE} GROUP BY time(5m), host", {}, NOW
    )
    by_sql = run_select(stmt, db, run_sql, NOW)
    assert given == [None]
    over_fetched = run_select(stmt, db, run_sql, NOW, fetch=fetch)
    assert given[1] is not None and given[1]["cpu"].num_rows == 140_000
    assert by_sql and _same(by_sql, over_fetched)


@pytest.mark.parametrize(
    ("pattern", "texts"),
    [
        ("^a$", {"a"}),
        ("^(a|b)$", {"a", "b"}),
        ("^(?:web\\.1|db\\-2|x\\ y)$", {"web.1", "db-2", "x y"}),
        ("^a|b$", None),  # "^a" or "b$"
        ("^(a|)$", None),
        ("^(a\\|b)$", None),
        ("^(a.b)$", None),
        ("a", None),
        ("^(a)|(b)$", None),
    ],
)
def test_regexes_that_name_whole_texts(pattern: str, texts: set[str] | None) -> None:
    assert _literal_alternatives(pattern) == texts


def test_text_codes_rank_only_the_texts_a_large_dictionary_s_rows_use() -> None:
    hosts = [f"h{i:05d}" for i in range(20_000)]
    rng = np.random.default_rng(3)
    picks = rng.integers(0, len(hosts), 50)
    idx = pa.array(picks.astype(np.int32), mask=rng.random(50) < 0.2)
    col = pa.chunked_array([pa.DictionaryArray.from_arrays(idx, pa.array(hosts[::-1]))])
    codes, names = text_codes(col)
    texts = col.to_pylist()
    assert names[-1] is None and names[:-1] == sorted({t for t in texts if t is not None})
    assert [names[c] for c in codes] == texts


def test_an_inner_answer_is_fetched_as_a_stored_table_would_be() -> None:
    inner = pa.table(
        {
            "time": pa.array([1, 2, 3, 4], pa.timestamp("ns")),
            "region": ["eu", "us", "eu", None],
            "host": pa.array(["a", "b", "c", "d"]).dictionary_encode(),
            "n": [1.0, 2.0, 3.0, 4.0],
        }
    )
    need = TableNeed("cpu")
    need.widen(["time", "n"], 2, 4, {"region": {"eu"}})
    got = rows_needed(inner, need)
    assert got.column_names == ["time", "n"] and got.column("n").to_pylist() == [3.0]
    need = TableNeed("cpu")
    need.widen(["n"], None, None, {"zone": {"x"}})  # a tag the answer does not have
    assert rows_needed(inner, need).num_rows == 0


@pytest.mark.parametrize("desc", [False, True])
@pytest.mark.parametrize("seed", range(6))
def test_limit_keeps_each_series_rows_before_they_become_python_values(
    seed: int, desc: bool
) -> None:
    """select._limited: of rows by series then time, each series' [lo, hi) in the asked
    order, as slicing its rows (reversed under DESC) keeps them."""
    rng = np.random.default_rng(seed)
    sizes = rng.integers(0, 9, int(rng.integers(1, 6)))
    hosts = [h for i, n in enumerate(sizes) for h in [f"h{i}" if i % 3 else None] * int(n)]
    table = pa.table(
        {
            "host": pa.array(hosts, pa.string_view()),
            "__time": pa.array(np.arange(len(hosts)), pa.int64()),
        }
    )
    lo = int(rng.integers(0, 4))
    hi = lo + int(rng.integers(1, 5))
    kept = select_module._limited(table, ["host"], lo, hi, desc)
    expected = []
    start = 0
    for n in sizes.tolist():
        rows = list(range(start, start + n))
        expected += sorted((rows[::-1] if desc else rows)[lo:hi])
        start += n
    assert kept.column("__time").to_pylist() == expected


LIMITED = [
    "SELECT * FROM cpu LIMIT 5",
    "SELECT f FROM cpu LIMIT 7",
    "SELECT f, host FROM cpu LIMIT 3 OFFSET 20",
    "SELECT s FROM cpu LIMIT 4",  # a sparse field: windows hold fewer of its rows
    "SELECT f FROM cpu ORDER BY time DESC LIMIT 6",
    "SELECT * FROM cpu ORDER BY time DESC LIMIT 2 OFFSET 9",
    "SELECT f, i FROM cpu WHERE host = 'b' LIMIT 10",
    "SELECT i FROM cpu WHERE host = 'c' ORDER BY time DESC LIMIT 5 OFFSET 5",
    "SELECT f FROM cpu WHERE f > 80 LIMIT 4",
    "SELECT f * 2 FROM cpu WHERE region = 'east' LIMIT 8",
    "SELECT u FROM cpu WHERE time >= '2016-01-01T01:00:00Z' LIMIT 5",
    "SELECT u FROM cpu WHERE time <= '2016-01-01T00:30:00Z' ORDER BY time DESC LIMIT 5",
    "SELECT f FROM cpu WHERE host = 'nobody' LIMIT 3",
    "SELECT f FROM cpu LIMIT 100000",  # more than there are: the whole range at last
    "SELECT b FROM cpu WHERE s = 'v3' LIMIT 2 OFFSET 1",
    # each group's first rows (_first_rows_of_groups)
    "SELECT f FROM cpu GROUP BY host LIMIT 1",
    "SELECT * FROM cpu GROUP BY * LIMIT 3",
    "SELECT s, i FROM cpu GROUP BY region LIMIT 2 OFFSET 4",
    "SELECT b FROM cpu GROUP BY host, region ORDER BY time DESC LIMIT 2",
    "SELECT f FROM cpu WHERE host = 'a' GROUP BY region LIMIT 5",
    "SELECT f FROM cpu WHERE f > 70 GROUP BY host LIMIT 2",  # (no picks: read whole)
    "SELECT u FROM cpu WHERE time >= '2016-01-01T01:30:00Z' GROUP BY host LIMIT 4",
    "SELECT i FROM cpu GROUP BY host LIMIT 3 SLIMIT 2 SOFFSET 1",
    "SELECT f FROM cpu GROUP BY host LIMIT 500",
]


def _span_of(
    data: pa.Table, asked: list[tuple[int | None, int | None]], counted: bool = True
) -> Any:
    """select.Span over ``data``: its first and last time within the bounds, and its rows
    (0 when not ``counted``: the sources could not tell)."""
    t = pc.cast(data.column(TIME_COLUMN), pa.int64()).to_numpy()

    def span(name: str, lo: int | None, hi: int | None) -> tuple[int, int, int] | None:
        asked.append((lo, hi))
        held = t[
            (t >= (lo if lo is not None else t.min())) & (t <= (hi if hi is not None else t.max()))
        ]
        rows = len(t) if counted else 0
        return (int(held.min()), int(held.max()), rows) if len(held) else None

    return span


@pytest.mark.parametrize("counted", [True, False])
@pytest.mark.parametrize("seed", [1, 2, 3])
@pytest.mark.parametrize("q", LIMITED)
def test_a_limit_read_in_windows_answers_as_reading_everything(
    q: str, seed: int, counted: bool
) -> None:
    """select._first_rows: the rows of a window at the start (the end, DESC) of the time
    span, widened until it holds what LIMIT keeps, are the answer over the whole range,
    through the direct path and through SQL."""
    data = _data(seed, 3000)
    db = DatabaseSchema("db", {"cpu": _schema()})
    (stmt,) = parse(q, {}, NOW)
    run_sql = _sql_over(data)
    everything = run_select(stmt, db, run_sql, NOW)
    fetched: list[TableNeed] = []
    asked: list[tuple[int | None, int | None]] = []
    span = _span_of(data, asked, counted)
    probed = run_select(stmt, db, run_sql, NOW, fetch=_fetch_from(data, fetched), span=span)
    assert _same(probed, everything)
    assert _same(run_select(stmt, db, run_sql, NOW, span=span), everything)
    assert asked or "GROUP BY" in q, "the span is asked"


def test_a_limit_reads_a_window_of_the_range_not_all_of_it() -> None:
    """Of two hours at 10 s, LIMIT 5 reads the first minutes only; DESC the last; by
    group, LIMIT 1 reads one window, and windows stop at the last row; a condition no row
    meets widens the window three times, the last the whole range."""
    data = _data(1, 3000)
    db = DatabaseSchema("db", {"cpu": _schema()})
    run_sql = _sql_over(data)
    t = pc.cast(data.column(TIME_COLUMN), pa.int64()).to_numpy()

    def needs(q: str) -> list[TableNeed]:
        fetched: list[TableNeed] = []
        (stmt,) = parse(q, {}, NOW)
        run_select(
            stmt, db, run_sql, NOW, fetch=_fetch_from(data, fetched), span=_span_of(data, [])
        )
        return fetched

    ascending = needs("SELECT f FROM cpu LIMIT 5")
    assert len(ascending) <= 3 and all(n.min_ns is None for n in ascending)
    assert all(n.max_ns is not None and n.max_ns < t.min() + 600 * S for n in ascending)
    descending = needs("SELECT f FROM cpu ORDER BY time DESC LIMIT 5")
    assert len(descending) <= 3 and all(n.max_ns is None for n in descending)
    assert all(n.min_ns is not None and n.min_ns > t.max() - 600 * S for n in descending)
    # by group: the picks, then one window holding each group's first row
    picks, window = needs("SELECT f FROM cpu GROUP BY host LIMIT 1")
    assert picks.pick is not None and window.pick is None
    assert window.max_ns is not None and window.max_ns < t.min() + 600 * S
    # more rows than any group holds: widened to the whole range once past the last row
    assert len(needs("SELECT f FROM cpu GROUP BY host LIMIT 500")) <= 6
    asked: list[str] = []

    def counted(sql: str, pick: Any = None, extra: Any = None) -> pa.Table:
        asked.append(sql)
        return run_sql(sql, pick, extra)

    (stmt,) = parse("SELECT f FROM cpu WHERE f > 1000 LIMIT 5", {}, NOW)  # (by SQL)
    assert run_select(stmt, db, counted, NOW, span=_span_of(data, [])) == []
    conditions = [sql.split(" WHERE ")[1].split(" ORDER BY ")[0] for sql in asked]
    assert len(asked) == 3 and '"time"' in conditions[0] and '"time"' not in conditions[-1]


@pytest.mark.parametrize(
    ("fill", "want"), [("", [None, 0]), ("fill(previous)", [1.5, 3]), ("fill(7)", [7, 7])]
)
def test_a_cell_without_a_point_is_filled_though_every_interval_has_a_row(
    fill: str, want: list[Any]
) -> None:
    """A row for each interval of the range, but no point of either call in the middle one:
    its cells are filled as fill() says (count() of nothing is 0 under fill(null))."""
    q = f"SELECT max(f), count(f) FROM cpu WHERE {RANGE} GROUP BY time(1m) {fill}"
    stmt = parse(q, None, NOW)[0]
    rng = TimeRange(T0, T0 + 180 * S - 1)
    missing = fill_module.MISSING
    rows = [[T0, 1.5, 3], [T0 + 60 * S, missing, missing], [T0 + 120 * S, 2.5, 4]]
    series = {"name": "cpu", "columns": ["time", "max", "count"], "values": rows}
    filled = fill_module.fill(series, stmt, rng, 60 * S, 0, [False, True])
    assert filled["values"] == [[T0, 1.5, 3], [T0 + 60 * S, *want], [T0 + 120 * S, 2.5, 4]]


_M = fill_module.MISSING


@pytest.mark.parametrize(
    ("cells", "desc", "filled"),
    [
        # between two points, on the line
        ([1.0, _M, 3.0], False, [1.0, 2.0, 3.0]),
        ([1, _M, _M, 4], False, [1, 2, 3, 4]),
        # no cell before, or none after: null
        ([_M, 2.0, _M], False, [None, 2.0, None]),
        # a null made of points (stddev() of one) is kept; after it, null
        ([1.0, None, _M, 4.0], False, [1.0, None, None, 4.0]),
        # nor before it (influxd 1.6.7, checked by hand)
        ([4.0, _M, None], False, [4.0, None, None]),
        # in the answer's order: newest first, the cell before is the later one
        ([4.0, None, _M, 1.0], True, [4.0, None, None, 1.0]),
        ([4.0, _M, None, 1.0], True, [4.0, None, None, 1.0]),
        ([1.0, _M, _M, 4.0], True, [1.0, 2.0, 3.0, 4.0]),
        # integers on the line between the points, each truncated (not from the last
        # filled: influxd 1.6.7's count() by 10s, checked by hand)
        ([4, _M, _M, _M, _M, _M, 1], False, [4, 3, 3, 2, 2, 1, 1]),
    ],
)
def test_linear_fill_fills_gaps_as_1x_does(cells: list[Any], desc: bool, filled: list[Any]) -> None:
    rows = [[k, v] for k, v in enumerate(cells)]
    assert [r[1] for r in fill_module.linear(rows, desc)] == filled
