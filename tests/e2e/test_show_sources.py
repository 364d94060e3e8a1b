"""SHOW statements answered from each source's picks (a row per tag value or per series)
give the same answers whether rows are in Parquet, being written, or both (a series
written again after its rows were persisted)."""

from __future__ import annotations

from typing import Any

import httpx

from bench.edge import EdgeServer

DB = "showsrc"


def _write(edge: EdgeServer, lines: list[str]) -> None:
    r = httpx.post(f"{edge.url}/write", params={"db": DB}, content="\n".join(lines), timeout=30)
    assert r.status_code == 204, r.text


def _show(edge: EdgeServer, q: str) -> list[Any]:
    r = httpx.get(f"{edge.url}/query", params={"db": DB, "q": q}, timeout=30)
    assert r.status_code == 200, r.text
    series = r.json()["results"][0].get("series", [])
    return [row for s in series for row in s["values"]]


def test_show_answers_from_buffer_and_parquet_alike(edge: EdgeServer) -> None:
    httpx.post(f"{edge.url}/query", params={"q": f"CREATE DATABASE {DB}"}, timeout=30)
    old = [f"cpu,host=h{i},dc=d{i % 3} v={i} {1_000 + i}" for i in range(6)]
    _write(edge, old)
    assert httpx.post(f"{edge.url}/api/v3/flush", timeout=60).status_code == 200
    # h1 again (same rows and newer ones), a new host, a host without dc, another table
    _write(
        edge,
        [
            "cpu,host=h1,dc=d1 v=10 1001",
            "cpu,host=h1,dc=d1 v=11 5000",
            "cpu,host=h9,dc=d0 v=9 5001",
            "cpu,host=h7 v=7 5002",
            "mem,host=h1 used=1 5003",
        ],
    )
    hosts = sorted([f"h{i}" for i in range(6)] + ["h7", "h9"])
    assert _show(edge, "SHOW TAG VALUES FROM cpu WITH KEY = host") == [["host", h] for h in hosts]
    assert _show(edge, "SHOW TAG VALUES CARDINALITY FROM cpu WITH KEY = host") == [[8]]
    assert _show(edge, "SHOW TAG VALUES FROM cpu WITH KEY = host WHERE dc = 'd0'") == [
        ["host", "h0"],
        ["host", "h3"],
        ["host", "h9"],
    ]
    assert _show(edge, 'SHOW TAG VALUES WITH KEY = "dc" WHERE "host" =~ /^(h1|h7|h9)$/') == [
        ["dc", "d0"],
        ["dc", "d1"],
    ]
    expected = sorted(
        [f"cpu,dc=d{i % 3},host=h{i}" for i in range(6)] + ["cpu,dc=d0,host=h9", "cpu,host=h7"]
    )
    assert _show(edge, "SHOW SERIES FROM cpu") == [[k] for k in expected]
    assert _show(edge, "SHOW SERIES WHERE host = 'h1'") == [["cpu,dc=d1,host=h1"], ["mem,host=h1"]]
    assert _show(edge, "SHOW TAG VALUES WITH KEY = dc WHERE host =~ /[79]/") == [["dc", "d0"]]
    assert _show(edge, "SHOW SERIES FROM cpu WHERE host =~ /^h[0-2]$/ AND dc =~ /1/") == [
        ["cpu,dc=d1,host=h1"]
    ]
    assert _show(edge, "SHOW SERIES CARDINALITY FROM cpu") == [[8]]
    assert _show(edge, "SHOW MEASUREMENTS WHERE host = 'h3'") == [["cpu"]]
    assert _show(edge, "SHOW MEASUREMENTS WHERE host =~ /^(h1|h9)$/") == [["cpu"], ["mem"]]


def test_show_series_of_many_and_of_few_alike(edge: EdgeServer) -> None:
    """Up to 256 rows of series are made distinct in Python, more by Arrow: both give each
    series once, also one held by Parquet and the buffer both."""
    httpx.post(f"{edge.url}/query", params={"q": f"CREATE DATABASE {DB}"}, timeout=30)
    lines = [f"wide,host=w{i:03d},dc=d{i % 3} v={i} {1_000 + i}" for i in range(300)]
    _write(edge, lines)
    assert httpx.post(f"{edge.url}/api/v3/flush", timeout=60).status_code == 200
    # the first 50 again, later (then each has a row in Parquet and one in the buffer), and
    # one without dc
    again = [f"wide,host=w{i:03d},dc=d{i % 3} v={i} {8_000 + i}" for i in range(50)]
    _write(edge, [*again, "wide,host=w999 v=1 9000"])
    every = sorted([f"wide,dc=d{i % 3},host=w{i:03d}" for i in range(300)] + ["wide,host=w999"])
    assert _show(edge, "SHOW SERIES FROM wide") == [[k] for k in every]
    assert _show(edge, "SHOW SERIES CARDINALITY FROM wide") == [[301]]
    assert _show(edge, "SHOW SERIES FROM wide WHERE dc = 'd1'") == [
        [k] for k in every if ",dc=d1," in k
    ]
    assert _show(edge, "SHOW SERIES FROM wide WHERE host =~ /^w0[0-4]/") == [
        [k] for k in every if k.split("host=")[1] < "w050" and "w999" not in k
    ]
