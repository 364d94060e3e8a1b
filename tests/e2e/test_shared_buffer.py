"""Query workers read the buffer the persister shares with them (edge_common.shared), not
over its socket: answers are the same either way, a write is seen by the next query, and a
kill -9 of the persister loses nothing a query finds."""

from __future__ import annotations

import threading
from pathlib import Path
from typing import Any

import httpx

from bench.edge import EdgeServer, start_edge
from tests.e2e.test_crash import wait_replaced
from tests.http import http

LINES = "\n".join(
    f"cpu,host=h{i % 4},dc=d{i % 2} usage={i * 1.5},n={i}i,ok={str(i % 3 == 0).lower()} "
    f"{1_700_000_000 + i}"
    for i in range(200)
)
QUERIES = [
    "SELECT * FROM cpu WHERE host = 'h1' AND time >= 1700000050s AND time < 1700000150s",
    "SELECT max(usage), count(n) FROM cpu GROUP BY host",
    "SELECT mean(usage) FROM cpu WHERE time >= 1700000000s AND time < 1700000200s "
    "GROUP BY time(30s), dc fill(none)",
    "SELECT n FROM cpu WHERE usage > 200 AND ok = true",
    "SELECT last(usage) FROM cpu GROUP BY host",
    "SHOW TAG VALUES FROM cpu WITH KEY = host",
    # a LIMIT reads windows of time, from where the sources say the rows lie
    "SELECT usage FROM cpu LIMIT 3 OFFSET 2",
    "SELECT * FROM cpu WHERE host = 'h2' ORDER BY time DESC LIMIT 4",
    "SELECT usage, n FROM cpu GROUP BY * LIMIT 2 OFFSET 1",
    "SELECT ok FROM cpu GROUP BY dc ORDER BY time DESC LIMIT 3",
]
SQL = "SELECT host, count(*) AS c, sum(usage) AS s FROM cpu GROUP BY host ORDER BY host"


def _write(edge: EdgeServer, body: str, db: str = "sh") -> None:
    r = http.post(f"{edge.url}/write", params={"db": db, "precision": "s"}, content=body)
    assert r.status_code == 204, r.text


def _answers(edge: EdgeServer) -> list[Any]:
    out: list[Any] = []
    for q in QUERIES:
        r = http.post(f"{edge.url}/query", data={"db": "sh", "q": q}, timeout=30)
        assert r.status_code == 200, r.text
        out.append(r.json())
    r = http.get(f"{edge.url}/api/v3/query_sql", params={"db": "sh", "q": SQL}, timeout=30)
    assert r.status_code == 200, r.text
    out.append(r.json())
    return out


def _buffer(edge: EdgeServer) -> dict[str, Any]:
    doc = http.get(f"{edge.url}/debug/vars").json()
    values: dict[str, Any] = doc["buffer"]["values"]
    return values


def test_shared_and_asked_answers_are_the_same(tmp_path: Path) -> None:
    shared = start_edge(tmp_path / "shared", "--query-workers", "1")
    asked = start_edge(tmp_path / "asked", "--query-workers", "1", "--buffer-share-dir", "off")
    try:
        for edge in (shared, asked):
            http.post(f"{edge.url}/query", data={"q": "CREATE DATABASE sh"})
            _write(edge, LINES)
        assert http.get(f"{shared.url}/health").json()["buffer"]["shared"] is True
        assert http.get(f"{asked.url}/health").json()["buffer"]["shared"] is False
        before = _buffer(shared)["reads"]
        buffered = _answers(shared)
        assert buffered == _answers(asked)
        assert buffered[0]["results"][0]["series"][0]["values"]  # (rows, not empty answers)
        limited = buffered[QUERIES.index("SELECT usage FROM cpu LIMIT 3 OFFSET 2")]
        assert limited["results"][0]["series"][0]["values"] == [
            ["2023-11-14T22:13:22Z", 3.0],
            ["2023-11-14T22:13:23Z", 4.5],
            ["2023-11-14T22:13:24Z", 6.0],
        ]
        newest = buffered[
            QUERIES.index("SELECT * FROM cpu WHERE host = 'h2' ORDER BY time DESC LIMIT 4")
        ]["results"][0]["series"][0]["values"]
        assert [row[-1] for row in newest] == [198 * 1.5, 194 * 1.5, 190 * 1.5, 186 * 1.5]
        each = buffered[QUERIES.index("SELECT usage, n FROM cpu GROUP BY * LIMIT 2 OFFSET 1")][
            "results"
        ][0]["series"]
        assert [s["tags"] for s in each] == [
            {"dc": f"d{i % 2}", "host": f"h{i}"} for i in (0, 2, 1, 3)
        ]
        assert [[row[2] for row in s["values"]] for s in each] == [[4, 8], [6, 10], [5, 9], [7, 11]]
        assert _buffer(shared)["reads"] == before  # none asked of the persister
        assert _buffer(shared)["shared"] == 1 and _buffer(asked)["shared"] == 0
        assert _buffer(asked)["reads"] >= len(QUERIES)
        # persisted: the workers find the files in the shared list
        for edge in (shared, asked):
            assert http.post(f"{edge.url}/api/v3/flush", timeout=60).status_code == 200
        assert _answers(shared) == buffered == _answers(asked)
        # some rows buffered, some persisted, one overwritten in the buffer (a repeat)
        more = "cpu,host=h1,dc=d1 usage=1000 1700000001\ncpu,host=h9,dc=d0 usage=2 1700000300"
        for edge in (shared, asked):
            _write(edge, more)
        assert _answers(shared) == _answers(asked)
    finally:
        shared.stop()
        asked.stop()


def test_each_write_is_seen_by_the_next_query(tmp_path: Path) -> None:
    edge = start_edge(tmp_path / "data", "--query-workers", "2")
    try:
        http.post(f"{edge.url}/query", data={"q": "CREATE DATABASE sh"})
        errors: list[str] = []

        def writer(w: int) -> None:
            with httpx.Client(base_url=edge.url, timeout=30) as c:
                for i in range(60):
                    body = f"rw,w=w{w} i={i}i {1_700_000_000 + i}"
                    r = c.post("/write", params={"db": "sh", "precision": "s"}, content=body)
                    if r.status_code != 204:
                        errors.append(r.text)
                        return
                    # (the second answered from the points: influxql.lean)
                    for q in (
                        f"SELECT count(i) FROM rw WHERE w = 'w{w}'",
                        f"SELECT count(i) FROM rw WHERE w = 'w{w}' AND time >= 1700000000s "
                        "AND time < 1700003600s GROUP BY time(1h)",
                    ):
                        got = c.get("/query", params={"db": "sh", "q": q}).json()
                        n = got["results"][0]["series"][0]["values"][0][1]
                        if n != i + 1:
                            errors.append(f"writer {w}: {n} points after writing {i + 1}")

        threads = [threading.Thread(target=writer, args=(w,)) for w in range(3)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(timeout=120)
        assert errors == []
        assert _buffer(edge)["reads"] == 0  # every one read from the shared buffer
        # a database or table made by a write, or by CREATE DATABASE, is listed by the next
        # SHOW: a worker asks the persister for the catalog only when the shared state names
        # another version than its copy's
        with httpx.Client(base_url=edge.url, timeout=30) as c:
            for i in range(6):
                if i % 2:
                    c.post("/query", data={"q": f"CREATE DATABASE made{i}"})
                else:
                    _write(edge, f"m{i} v=1i 1700000000", db=f"made{i}")
                got = c.get("/query", params={"q": "SHOW DATABASES"}).json()
                assert [f"made{i}"] in got["results"][0]["series"][0]["values"]
                if i % 2 == 0:
                    got = c.get("/query", params={"q": "SHOW MEASUREMENTS", "db": f"made{i}"})
                    assert got.json()["results"][0]["series"][0]["values"] == [[f"m{i}"]]
                    _write(edge, f"n{i} v=1i 1700000000", db=f"made{i}")  # a new table
                    got = c.get("/query", params={"q": "SHOW MEASUREMENTS", "db": f"made{i}"})
                    assert got.json()["results"][0]["series"][0]["values"] == [
                        [f"m{i}"],
                        [f"n{i}"],
                    ]
    finally:
        edge.stop()


def test_kill_9_of_the_persister_loses_nothing_a_query_finds(tmp_path: Path) -> None:
    edge = start_edge(tmp_path / "data", "--query-workers", "1")
    try:
        http.post(f"{edge.url}/query", data={"q": "CREATE DATABASE sh"})
        _write(edge, LINES)
        before = _answers(edge)
        old = edge.kill("persister")
        wait_replaced(edge, "persister", old)
        edge.wait_healthy()
        assert _answers(edge) == before
        _write(edge, "cpu,host=h1,dc=d1 usage=5 1700000500")
        after = _answers(edge)
        assert after[4] != before[4]  # h1's last usage is the new point's
        assert after[-1] != before[-1]  # it is counted
    finally:
        edge.stop()
