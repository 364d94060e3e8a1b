"""``/api/v3/query_sql``: formats, parameters, errors, metadata, streaming."""

from __future__ import annotations

import csv
import io
import json

import httpx
import pyarrow.parquet as pq
import pytest

DB = "q"


@pytest.fixture(scope="module", autouse=True)
def data(http: httpx.Client) -> None:
    lines = [
        f"cpu,host=h{h},region={'eu' if h % 2 else 'us'} usage={h * 10 + t}.5,"
        f"n={t}i {1_700_000_000 + t * 60}"
        for h in range(3)
        for t in range(4)
    ]
    r = http.post("/api/v3/write_lp", params={"db": DB, "precision": "s"}, content="\n".join(lines))
    assert r.status_code == 204, r.text


def get(http: httpx.Client, q: str, **params: str) -> httpx.Response:
    return http.get("/api/v3/query_sql", params={"db": DB, "q": q, **params})


def test_group_by_host(http: httpx.Client) -> None:
    rows = get(http, "SELECT host, avg(usage) AS a FROM cpu GROUP BY host ORDER BY host").json()
    assert rows == [{"host": "h0", "a": 2.0}, {"host": "h1", "a": 12.0}, {"host": "h2", "a": 22.0}]


def test_every_format(http: httpx.Client) -> None:
    q = "SELECT host, n, time FROM cpu WHERE host = 'h1' ORDER BY time LIMIT 2"
    as_json = get(http, q).json()
    assert as_json == [
        {"host": "h1", "n": 0, "time": "2023-11-14T22:13:20"},
        {"host": "h1", "n": 1, "time": "2023-11-14T22:14:20"},
    ]
    r = get(http, q, format="jsonl")
    assert r.headers["content-type"].startswith("application/jsonl")
    assert [json.loads(x) for x in r.text.splitlines()] == as_json
    r = get(http, q, format="csv")
    assert r.headers["content-type"].startswith("text/csv")
    assert list(csv.DictReader(io.StringIO(r.text))) == [
        {k: str(v) for k, v in row.items()} for row in as_json
    ]
    r = get(http, q, format="pretty")
    assert "| host | n | time" in r.text and "| h1   | 1 |" in r.text
    r = get(http, q, format="parquet")
    table = pq.read_table(io.BytesIO(r.content))
    assert table.column("n").to_pylist() == [0, 1]
    assert str(table.schema.field("time").type) == "timestamp[ns]"
    r = get(http, q, format="yaml")
    assert r.status_code == 400


def test_format_from_accept_header(http: httpx.Client) -> None:
    r = http.get(
        "/api/v3/query_sql",
        params={"db": DB, "q": "SELECT 1 AS one"},
        headers={"Accept": "text/csv"},
    )
    assert r.text.splitlines() == ['"one"', "1"]


def test_post_json_body_with_params(http: httpx.Client) -> None:
    r = http.post(
        "/api/v3/query_sql",
        json={
            "db": DB,
            "q": "SELECT count(*) AS c FROM cpu WHERE host = $h AND n >= $min",
            "params": {"h": "h2", "min": 2},
            "format": "json",
        },
    )
    assert r.status_code == 200, r.text
    assert r.json() == [{"c": 2}]
    r = get(http, "SELECT count(*) AS c FROM cpu WHERE host = $h", params='{"h": "h0"}')
    assert r.json() == [{"c": 4}]


def test_time_range_filters(http: httpx.Client) -> None:
    rows = get(
        http,
        "SELECT count(*) AS c FROM cpu WHERE time >= '2023-11-14T22:14:20Z' "
        "AND time < '2023-11-14T22:16:20Z'",
    ).json()
    assert rows == [{"c": 6}]
    rows = get(http, "SELECT count(*) AS c FROM cpu WHERE time > now()").json()
    assert rows == [{"c": 0}]


def test_show_tables_and_information_schema(http: httpx.Client) -> None:
    names = {r["table_name"] for r in get(http, "SHOW TABLES").json() if r["table_schema"] == "iox"}
    assert names == {"cpu"}
    assert get(http, "SELECT count(*) AS c FROM public.iox.cpu").json()[0]["c"] > 0
    cols = get(
        http,
        "SELECT column_name FROM information_schema.columns "
        "WHERE table_name = 'cpu' ORDER BY column_name",
    ).json()
    assert [c["column_name"] for c in cols] == ["host", "n", "region", "time", "usage"]


def test_errors(http: httpx.Client) -> None:
    r = http.get("/api/v3/query_sql", params={"db": "nosuchdb", "q": "SELECT 1"})
    assert r.status_code == 404
    assert "nosuchdb" in r.json()["error"]
    r = get(http, "SELEC nonsense")
    assert r.status_code == 400
    assert "SELEC" in r.json()["error"]
    r = get(http, "SELECT * FROM nosuchtable")
    assert r.status_code == 400
    assert "nosuchtable" in r.json()["error"]
    r = http.get("/api/v3/query_sql", params={"db": DB})
    assert r.status_code == 400
    r = http.post("/api/v3/query_sql", content=b"{not json")
    assert r.status_code == 400
    # queries only read: no tables or views made, no settings changed
    for statement in (
        "CREATE TABLE made AS SELECT 1 AS x",
        "CREATE VIEW made AS SELECT 1 AS x",
        "SET datafusion.execution.batch_size = 1",
        "INSERT INTO cpu (usage) VALUES (1)",
        "DROP TABLE cpu",
    ):
        r = get(http, statement)
        assert r.status_code == 400, statement
        assert "not supported" in r.json()["error"], r.text
    assert get(http, "SELECT * FROM made").status_code == 400
    # a column named in the SQL but never read (the optimizer prunes it) still plans
    r = get(http, "SELECT u FROM (SELECT usage AS u, host, region FROM cpu) ORDER BY u LIMIT 1")
    assert r.status_code == 200, r.text
    assert get(http, "SELECT 1 AS x").json() == [{"x": 1}]


def test_large_result_streams_in_chunks(http: httpx.Client) -> None:
    lines = "\n".join(f"big,k=k{i % 50} v={i}i {i}" for i in range(60_000))
    assert (
        http.post(
            "/api/v3/write_lp", params={"db": DB, "precision": "s"}, content=lines
        ).status_code
        == 204
    )
    with http.stream(
        "GET", "/api/v3/query_sql", params={"db": DB, "q": "SELECT * FROM big", "format": "jsonl"}
    ) as r:
        assert r.status_code == 200
        chunks = 0
        count = 0
        for chunk in r.iter_raw():
            chunks += 1
            count += chunk.count(b"\n")
    assert count == 60_000
    assert chunks > 1
    assert r.headers.get("transfer-encoding") == "chunked"


def test_small_answer_comes_whole_with_its_length(http: httpx.Client) -> None:
    r = get(http, "SELECT count(*) AS n FROM cpu")
    assert r.status_code == 200 and r.json() == [{"n": 12}]
    assert r.headers["content-length"] == str(len(r.content))
    assert "transfer-encoding" not in r.headers
    r = get(http, "SELECT * FROM cpu WHERE host = 'nobody'", format="csv")
    assert r.status_code == 200 and r.headers["content-length"] == str(len(r.content))
