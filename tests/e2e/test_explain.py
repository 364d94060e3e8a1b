"""EXPLAIN and EXPLAIN ANALYZE: what Edge reads and runs for a SELECT, and what it cost.
(Their first lines, the ones influxd writes too: tests/compat, test_explain_….)"""

from __future__ import annotations

import httpx

from bench.edge import EdgeServer

BASE = 1_451_606_400  # 2016-01-01T00:00:00Z


def _plan(http: httpx.Client, q: str) -> list[str]:
    doc = http.post("/query", data={"db": "exdb", "q": q}).json()
    series = doc["results"][0]["series"]
    assert len(series) == 1
    return [row[0] for row in series[0]["values"]]


def _load(http: httpx.Client) -> None:
    lines = [f"cpu,host=h{h} u={h * 10 + i}.5 {BASE + i * 60}" for h in range(3) for i in range(20)]
    r = http.post("/write", params={"db": "exdb", "precision": "s"}, content="\n".join(lines))
    assert r.status_code == 204, r.text


def test_explain_shows_each_read_and_each_sql_statement(
    edge: EdgeServer, http: httpx.Client
) -> None:
    _load(http)
    # a dashboard's question: read without SQL, one host's rows of one hour
    assert _plan(
        http,
        "EXPLAIN SELECT max(u) FROM cpu WHERE host = 'h1' AND time >= '2016-01-01T00:00:00Z' "
        "AND time < '2016-01-01T01:00:00Z' GROUP BY time(10m)",
    ) == [
        "EXPRESSION: max(u::float)",
        "",
        "READ: cpu; time, u; time 2016-01-01T00:00:00Z to 2016-01-01T00:59:59.999999999Z; "
        "host in ('h1')",
    ]
    # one DataFusion runs: its statement, then its optimized plan
    lines = _plan(http, "EXPLAIN SELECT u * 2 FROM cpu WHERE host =~ /h[01]/ LIMIT 3")
    assert lines[:2] == ["EXPRESSION: <nil>", "AUXILIARY FIELDS: u::float"]
    sql = next(i for i, x in enumerate(lines) if x.startswith("SQL: SELECT"))
    assert any("TableScan: cpu" in x for x in lines[sql + 1 :])
    assert all(x.startswith("  ") for x in lines[sql + 1 :])


def test_explain_analyze_answers_the_select_and_counts_rows(http: httpx.Client) -> None:
    _load(http)
    lines = _plan(http, "EXPLAIN ANALYZE SELECT mean(u) FROM cpu GROUP BY host")
    assert lines[:2] == [".", "└── select"]
    assert lines[2].startswith("    ├── total_time: ")
    assert "        ├── rows: 60" in lines  # every row of the three hosts
    assert any(x.startswith("        └── time: ") for x in lines)


def test_explain_writes_nothing_into(http: httpx.Client) -> None:
    _load(http)
    for q in (
        "EXPLAIN SELECT u INTO copied FROM cpu",
        "EXPLAIN ANALYZE SELECT u INTO copied FROM cpu",
    ):
        assert http.post("/query", data={"db": "exdb", "q": q}).status_code == 200
    doc = http.post("/query", data={"db": "exdb", "q": "SHOW MEASUREMENTS"}).json()
    assert doc["results"][0]["series"][0]["values"] == [["cpu"]]
