"""Catalog limits answer 422 and change nothing."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest

from bench.edge import EdgeServer, run_edge


@pytest.fixture(scope="module")
def small(tmp_path_factory: pytest.TempPathFactory) -> Iterator[EdgeServer]:
    with run_edge(
        tmp_path_factory.mktemp("limits") / "data",
        "--max-databases",
        "2",
        "--max-tables-per-database",
        "2",
        "--max-columns-per-table",
        "4",
        "--ingest-workers",
        "1",
        "--query-workers",
        "1",
    ) as server:
        yield server


def test_limits(small: EdgeServer) -> None:
    with httpx.Client(base_url=small.url) as http:

        def write(db: str, body: str) -> httpx.Response:
            return http.post("/api/v3/write_lp", params={"db": db}, content=body)

        assert write("a", "t1,x=1 f=1").status_code == 204
        assert write("a", "t2 f=1").status_code == 204
        r = write("a", "t3 f=1\nt1,x=2 f=2")
        assert r.status_code == 422, r.text
        assert "table limit" in r.json()["error"]
        r = write("a", "t1 g=1,h=2")  # time, x, f + g + h = 5 columns
        assert r.status_code == 422
        assert "column limit" in r.json()["error"]
        assert write("b", "t f=1").status_code == 204
        r = write("c", "t f=1")
        assert r.status_code == 422
        assert "database limit" in r.json()["error"]
        rows = http.get("/api/v3/query_sql", params={"db": "a", "q": "SELECT * FROM t1"}).json()
        assert rows == [{"f": 1.0, "time": rows[0]["time"], "x": "1"}]
