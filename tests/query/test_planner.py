from __future__ import annotations

import random
import re

import pytest
from datafusion import SessionContext

from edge_common.schema import ColumnType, DatabaseSchema, TableSchema
from edge_query.planner import TableNeed, new_context, plan_needs, register_empty
from edge_query.worker import _names_column

DAY = 86_400 * 10**9
T0 = 1_704_067_200 * 10**9  # 2024-01-01T00:00:00Z
CPU_COLUMNS = {"time", "host", "region", "usage", "idle"}


def _table(name: str, **columns: ColumnType) -> TableSchema:
    t = TableSchema(name)
    t.columns.update(columns)
    return t


@pytest.fixture(scope="module")
def ctx() -> SessionContext:
    db = DatabaseSchema(
        "db",
        {
            "cpu": _table(
                "cpu",
                host=ColumnType.TAG,
                region=ColumnType.TAG,
                usage=ColumnType.FLOAT,
                idle=ColumnType.FLOAT,
            ),
            "mem": _table("mem", host=ColumnType.TAG, free=ColumnType.INTEGER),
        },
    )
    c = new_context()
    register_empty(c, db)
    return c


def _need(ctx: SessionContext, sql: str, table: str = "cpu") -> TableNeed:
    needs = plan_needs(ctx, sql, None)
    assert table in needs, needs
    return needs[table]


def _columns(need: TableNeed, all_columns: set[str] = CPU_COLUMNS) -> set[str]:
    return set(all_columns) if need.columns is None else need.columns


def test_register_empty_exposes_tables_sorted(ctx: SessionContext) -> None:
    schema = ctx.table("cpu").schema()
    assert schema.names == ["host", "idle", "region", "time", "usage"]
    assert ctx.sql("SELECT count(*) AS n FROM cpu").to_pydict() == {"n": [0]}


def test_projection_and_time_bounds(ctx: SessionContext) -> None:
    need = _need(
        ctx,
        "SELECT usage FROM cpu "
        "WHERE time >= '2024-01-01T00:00:00Z' AND time < '2024-01-02T00:00:00Z'",
    )
    assert need.columns == {"usage", "time"}
    assert (need.min_ns, need.max_ns) == (T0, T0 + DAY - 1)


def test_projection_without_filter(ctx: SessionContext) -> None:
    need = _need(ctx, "SELECT host, usage FROM cpu")
    assert need.columns == {"host", "usage"}
    assert (need.min_ns, need.max_ns) == (None, None)


def test_filter_columns_are_needed(ctx: SessionContext) -> None:
    need = _need(ctx, "SELECT usage FROM cpu WHERE region = 'eu'")
    assert need.columns == {"usage", "region"}
    assert (need.min_ns, need.max_ns) == (None, None)


@pytest.mark.parametrize(
    ("where", "lo", "hi"),
    [
        ("time > '2024-01-01T00:00:00Z'", T0 + 1, None),
        ("time <= '2024-01-01T00:00:00Z'", None, T0),
        ("time = '2024-01-01T00:00:00Z'", T0, T0),
        ("'2024-01-01T00:00:00Z' <= time", T0, None),  # literal on the left
        ("'2024-01-01T00:00:00Z' > time", None, T0 - 1),
        (
            "time >= '2024-01-01T00:00:00Z' AND time >= '2024-01-01T00:00:01Z' "
            "AND time <= '2024-01-02T00:00:00Z' AND usage > 1",
            T0 + 10**9,
            T0 + DAY,
        ),
        ("time >= '2024-01-01T00:00:00.5Z'", T0 + 500_000_000, None),
    ],
)
def test_time_bound_forms(ctx: SessionContext, where: str, lo: int | None, hi: int | None) -> None:
    need = _need(ctx, f"SELECT usage FROM cpu WHERE {where}")
    assert (need.min_ns, need.max_ns) == (lo, hi)
    assert "time" in _columns(need)


@pytest.mark.parametrize(
    "where",
    [
        "time >= '2024-01-01T00:00:00Z' OR time < '2023-01-01T00:00:00Z'",
        "time >= '2024-01-01T00:00:00Z' OR usage > 1",
        "time <> '2024-01-01T00:00:00Z'",
        "NOT (time < '2024-01-01T00:00:00Z')",
    ],
)
def test_no_bounds_from_or_and_other_forms(ctx: SessionContext, where: str) -> None:
    need = _need(ctx, f"SELECT usage FROM cpu WHERE {where}")
    lo, hi = need.min_ns, need.max_ns
    if where.startswith("NOT"):
        # the optimizer may rewrite NOT (a < b) to a >= b, which is a correct bound
        assert (lo, hi) in ((None, None), (T0, None))
    else:
        assert (lo, hi) == (None, None)


def test_between(ctx: SessionContext) -> None:
    need = _need(
        ctx,
        "SELECT usage FROM cpu "
        "WHERE time BETWEEN '2024-01-01T00:00:00Z' AND '2024-01-02T00:00:00Z'",
    )
    assert (need.min_ns, need.max_ns) == (T0, T0 + DAY)


def test_bounds_from_parameters(ctx: SessionContext) -> None:
    needs = plan_needs(
        ctx,
        "SELECT usage FROM cpu WHERE time >= $start AND host = $host",
        {"start": "2024-01-01T00:00:00Z", "host": "a"},
    )
    assert needs["cpu"].min_ns == T0
    assert needs["cpu"].columns == {"usage", "time", "host"}


def test_or_under_and_keeps_the_and_side(ctx: SessionContext) -> None:
    need = _need(
        ctx,
        "SELECT usage FROM cpu WHERE time >= '2024-01-01T00:00:00Z' "
        "AND (time < '2024-01-02T00:00:00Z' OR usage > 1)",
    )
    assert (need.min_ns, need.max_ns) == (T0, None)


def test_count_star_needs_only_time(ctx: SessionContext) -> None:
    need = _need(ctx, "SELECT count(*) FROM cpu")
    assert need.columns == {"time"}
    assert (need.min_ns, need.max_ns) == (None, None)
    need = _need(ctx, "SELECT count(*) FROM cpu WHERE time >= '2024-01-01T00:00:00Z'")
    assert need.columns == {"time"}
    assert need.min_ns == T0


def test_select_star_needs_every_column(ctx: SessionContext) -> None:
    need = _need(ctx, "SELECT * FROM cpu")
    assert _columns(need) == CPU_COLUMNS
    assert (need.min_ns, need.max_ns) == (None, None)


def test_join_gives_needs_for_both(ctx: SessionContext) -> None:
    needs = plan_needs(
        ctx,
        "SELECT c.usage, m.free FROM cpu c JOIN mem m ON c.host = m.host "
        "WHERE c.time >= '2024-01-01T00:00:00Z'",
        None,
    )
    assert set(needs) == {"cpu", "mem"}
    assert needs["cpu"].columns == {"usage", "host", "time"}
    assert needs["cpu"].min_ns == T0
    assert needs["mem"].columns == {"free", "host"}
    assert (needs["mem"].min_ns, needs["mem"].max_ns) == (None, None)


def test_two_scans_of_one_table_are_widened(ctx: SessionContext) -> None:
    needs = plan_needs(
        ctx,
        "SELECT usage AS v FROM cpu WHERE time >= '2024-01-02T00:00:00Z' "
        "UNION ALL SELECT idle AS v FROM cpu WHERE time < '2024-01-01T00:00:00Z'",
        None,
    )
    need = needs["cpu"]
    assert need.scans == 2
    assert need.columns == {"usage", "idle", "time"}
    # one scan is unbounded below, the other above: together, unbounded
    assert (need.min_ns, need.max_ns) == (None, None)


def test_widen() -> None:
    need = TableNeed("t")
    need.widen(["a"], 10, 20)
    assert (need.columns, need.min_ns, need.max_ns, need.scans) == ({"a"}, 10, 20, 1)
    need.widen(["b"], 5, 15)
    assert (need.columns, need.min_ns, need.max_ns) == ({"a", "b"}, 5, 20)
    need.widen(None, 7, None)
    assert (need.columns, need.min_ns, need.max_ns, need.scans) == (None, 5, None, 3)
    assert need.to_wire() == {
        "name": "t",
        "columns": None,
        "min_ns": 5,
        "max_ns": None,
        "values": None,
        "compare": None,
        "pick": None,
    }
    need = TableNeed("t")
    need.widen(["b", "a"], None, 3, {"h": {"x"}}, [("v", ">", 1)])
    assert need.to_wire() == {
        "name": "t",
        "columns": ["a", "b"],
        "min_ns": None,
        "max_ns": 3,
        "values": {"h": ["x"]},
        "compare": [["v", ">", 1]],
        "pick": None,
    }


def test_unknown_table_is_an_error(ctx: SessionContext) -> None:
    with pytest.raises(Exception, match=r"(?i)not found"):
        plan_needs(ctx, "SELECT * FROM nope", None)


@pytest.mark.parametrize(
    ("where", "values"),
    [
        ("host = 'a'", {"host": ["a"]}),
        ("'a' = host", {"host": ["a"]}),
        ("host IN ('a', 'b') AND region = 'x'", {"host": ["a", "b"], "region": ["x"]}),
        ("host = 'a' OR host = 'b'", {"host": ["a", "b"]}),
        ("CAST(host AS VARCHAR) = 'a' AND usage > 1", {"host": ["a"]}),
        ("host = 'a' OR region = 'b'", None),
        ("host != 'a'", None),
        ("host LIKE 'a%'", None),
        ("usage > 1", None),
    ],
)
def test_allowed_values(
    ctx: SessionContext, where: str, values: dict[str, list[str]] | None
) -> None:
    needs = plan_needs(ctx, f"SELECT usage FROM cpu WHERE {where}", None)
    assert needs["cpu"].to_wire()["values"] == values


def test_allowed_values_of_two_scans(ctx: SessionContext) -> None:
    both = "SELECT usage FROM cpu WHERE host = 'a' UNION ALL SELECT usage FROM cpu WHERE host = 'b'"
    assert plan_needs(ctx, both, None)["cpu"].to_wire()["values"] == {"host": ["a", "b"]}
    one = "SELECT usage FROM cpu WHERE host = 'a' UNION ALL SELECT usage FROM cpu"
    assert plan_needs(ctx, one, None)["cpu"].to_wire()["values"] is None


@pytest.mark.parametrize(
    ("where", "compare"),
    [
        ("usage > 90", [["usage", ">", 90.0]]),
        ("90 <= usage", [["usage", ">=", 90.0]]),  # turned around: column first
        (
            "usage > 90 AND idle != 3 AND host < 'm'",
            [["usage", ">", 90.0], ["idle", "!=", 3.0], ["host", "<", "m"]],
        ),
        ("usage > 90 AND time > '2024-01-01T00:00:00Z'", [["usage", ">", 90.0]]),
        ("usage > 90 OR idle < 1", None),  # only terms every row must pass
        ("usage + idle > 90", None),
        ("CAST(usage AS BIGINT) > 9", None),  # a cast column: Arrow might compare otherwise
        ("usage < 'NaN'", None),  # SQL orders NaN above every number; Arrow does not
    ],
)
def test_comparisons(ctx: SessionContext, where: str, compare: list[list[object]] | None) -> None:
    needs = plan_needs(ctx, f"SELECT usage FROM cpu WHERE {where}", None)
    assert needs["cpu"].to_wire()["compare"] == compare


def test_comparisons_of_two_scans_keep_the_common_ones(ctx: SessionContext) -> None:
    both = (
        "SELECT usage FROM cpu WHERE usage > 1 AND idle > 2 "
        "UNION ALL SELECT usage FROM cpu WHERE usage > 1"
    )
    assert plan_needs(ctx, both, None)["cpu"].to_wire()["compare"] == [["usage", ">", 1.0]]


def test_names_column_as_the_pattern_decides() -> None:
    """Which columns a SQL text may name: the word set gives what the pattern gave."""

    def by_pattern(sql: str, name: str) -> bool:
        word = re.escape(name)
        return re.search(rf'"{word}"|(?<![\w"]){word}(?![\w"])', sql) is not None

    rng = random.Random(5)
    alphabet = ["a", "b", "_", "1", " ", '"', ".", ",", "(", ")", "é", "-"]
    names = ["a", "b", "ab", "a_1", "é", "a-b", "a b", "1", "_"]
    for _ in range(3000):
        sql = "".join(rng.choice(alphabet) for _ in range(rng.randrange(0, 14)))
        for name in names:
            assert _names_column(sql, name) == by_pattern(sql, name), (sql, name)
    assert _names_column('SELECT "usage user" FROM cpu', "usage user")
    assert _names_column("SELECT usage_idle FROM cpu", "usage_idle")
    assert not _names_column("SELECT usage_idle2 FROM cpu", "usage_idle")
