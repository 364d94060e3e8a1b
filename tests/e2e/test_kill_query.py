"""SHOW QUERIES and KILL QUERY on the real process group: a long query is listed with its
id, killed by it, its client answered "query interrupted", and the worker goes on serving."""

from __future__ import annotations

import threading
import time
from typing import Any

import httpx
import pytest

from bench.edge import EdgeServer

# a cross join of 150,000 rows with itself: ~30 s of DataFusion work (40,000 rows: 1.9 s)
_SLOW_SQL = "SELECT count(*) FROM slow a CROSS JOIN slow b WHERE a.v + b.v > 3"


@pytest.fixture(scope="module")
def loaded(http: httpx.Client) -> httpx.Client:
    lines = "\n".join(f"slow,k=a v={i}i {1_600_000_000_000_000_000 + i}" for i in range(150_000))
    assert http.post("/api/v3/write_lp", params={"db": "killdb"}, content=lines).status_code == 204
    return http


def _influxql(http: httpx.Client, q: str) -> list[dict[str, Any]]:
    r = http.post("/query", data={"q": q, "db": "killdb"})
    assert r.status_code == 200, r.text
    results: list[dict[str, Any]] = r.json()["results"]
    return results


def _listed(http: httpx.Client, text: str) -> list[Any]:
    """The SHOW QUERIES row of the query whose text is ``text`` (waits for it to start)."""
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        series = _influxql(http, "SHOW QUERIES")[0]["series"][0]
        rows = [row for row in series["values"] if row[1] == text]
        if rows:
            return rows[0]
        time.sleep(0.05)
    raise AssertionError(f"{text!r} never listed")


def _in_thread(fn: Any) -> tuple[threading.Thread, dict[str, Any]]:
    out: dict[str, Any] = {}

    def run() -> None:
        started = time.monotonic()
        out["response"] = fn()
        out["seconds"] = time.monotonic() - started

    thread = threading.Thread(target=run)
    thread.start()
    return thread, out


def test_show_queries_lists_itself(loaded: httpx.Client) -> None:
    series = _influxql(loaded, "show queries")[0]["series"][0]
    assert series["columns"] == ["qid", "query", "database", "duration", "status"]
    (row,) = series["values"]  # nothing else runs
    qid, text, database, duration, status = row
    assert isinstance(qid, int) and qid > 0
    assert (text, database, status) == ("SHOW QUERIES", "killdb", "running")
    assert duration.endswith(("µs", "ms", "s"))


def test_kill_query_stops_a_running_sql_query(edge: EdgeServer, loaded: httpx.Client) -> None:
    with httpx.Client(base_url=edge.url, timeout=120) as other:
        thread, out = _in_thread(
            lambda: other.get("/api/v3/query_sql", params={"db": "killdb", "q": _SLOW_SQL})
        )
        qid, _, database, _, status = _listed(loaded, _SLOW_SQL)
        assert (database, status) == ("killdb", "running")
        assert _influxql(loaded, f"KILL QUERY {qid}") == [{"statement_id": 0}]
        thread.join(60)
    assert not thread.is_alive()
    response = out["response"]
    assert response.status_code >= 400
    assert "query interrupted" in response.text
    assert out["seconds"] < 15  # stopped, not run to its end
    # gone from the list; killing it again is an error; the workers answer as before
    rows = _influxql(loaded, "SHOW QUERIES")[0]["series"][0]["values"]
    assert [r[0] for r in rows if r[0] == qid] == []
    assert _influxql(loaded, f"KILL QUERY {qid}") == [
        {"statement_id": 0, "error": f"no such query id: {qid}"}
    ]
    for _ in range(4):  # both workers
        assert _influxql(loaded, "SELECT count(v) FROM slow")[0]["series"][0]["values"] == [
            ["1970-01-01T00:00:00Z", 150_000]
        ]


def test_kill_query_stops_a_running_influxql_statement(
    edge: EdgeServer, loaded: httpx.Client
) -> None:
    """An InfluxQL query killed mid-way answers 200 with the statement's error, as influxd."""
    q = "SELECT holt_winters(mean(v), 10, 4) FROM slow WHERE time >= 0 GROUP BY time(1ns)"
    with httpx.Client(base_url=edge.url, timeout=120) as other:
        thread, out = _in_thread(lambda: other.post("/query", data={"q": q, "db": "killdb"}))
        qid = _listed(loaded, q)[0]
        assert _influxql(loaded, f"kill query {qid}") == [{"statement_id": 0}]
        thread.join(60)
    response = out["response"]
    assert response.status_code == 200
    assert response.json() == {"results": [{"statement_id": 0, "error": "query interrupted"}]}


def test_kill_query_of_an_unknown_id(loaded: httpx.Client) -> None:
    assert _influxql(loaded, "KILL QUERY 987654") == [
        {"statement_id": 0, "error": "no such query id: 987654"}
    ]
