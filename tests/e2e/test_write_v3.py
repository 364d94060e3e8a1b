"""``/api/v3/write_lp`` against the real process group."""

from __future__ import annotations

import gzip
from typing import Any

import httpx


def sql(http: httpx.Client, db: str, q: str, **params: Any) -> list[dict[str, Any]]:
    r = http.get("/api/v3/query_sql", params={"db": db, "q": q, **params})
    assert r.status_code == 200, r.text
    rows: list[dict[str, Any]] = r.json()
    return rows


def test_write_then_query_sees_every_line(http: httpx.Client) -> None:
    body = "cpu,host=a usage=1.5 1700000000000000000\ncpu,host=b usage=2.5 1700000000000000000\n"
    r = http.post("/api/v3/write_lp", params={"db": "w3", "precision": "ns"}, content=body)
    assert r.status_code == 204, r.text
    rows = sql(http, "w3", "SELECT host, usage FROM cpu ORDER BY host")
    assert rows == [{"host": "a", "usage": 1.5}, {"host": "b", "usage": 2.5}]


def test_partial_write_stores_good_lines_and_reports_bad_ones(http: httpx.Client) -> None:
    body = 'm1 a=1 1\nnot line protocol\nm1 a=2 2\nm1 a="str" 3\n'
    r = http.post("/api/v3/write_lp", params={"db": "partial", "precision": "s"}, content=body)
    assert r.status_code == 400
    doc = r.json()
    assert doc["error"] == "partial write of line protocol occurred"
    assert [d["line_number"] for d in doc["data"]] == [2, 4]
    assert doc["data"][0]["original_line"] == "not line protocol"
    assert "iox::column_type::field::float" in doc["data"][1]["error_message"]
    assert "iox::column_type::field::string" in doc["data"][1]["error_message"]
    assert sql(http, "partial", "SELECT a FROM m1 ORDER BY time") == [{"a": 1.0}, {"a": 2.0}]


def test_accept_partial_false_rejects_whole_request(http: httpx.Client) -> None:
    body = "m2 a=1 1\nm2 a= 2\n"
    r = http.post(
        "/api/v3/write_lp", params={"db": "nopartial", "accept_partial": "false"}, content=body
    )
    assert r.status_code == 400
    assert r.json()["data"]["line_number"] == 2
    r = http.get("/api/v3/query_sql", params={"db": "nopartial", "q": "SELECT 1"})
    assert r.status_code == 404


def test_gzip_body_and_no_sync(http: httpx.Client) -> None:
    body = gzip.compress(b"gz,t=x v=7i 1000\n")
    r = http.post(
        "/api/v3/write_lp",
        params={"db": "gz", "precision": "ms", "no_sync": "true"},
        content=body,
        headers={"Content-Encoding": "gzip"},
    )
    assert r.status_code == 204, r.text
    assert sql(http, "gz", "SELECT t, v, CAST(time AS BIGINT) AS ns FROM gz") == [
        {"t": "x", "v": 7, "ns": 1_000_000_000}
    ]


def test_request_errors(http: httpx.Client) -> None:
    cases = [
        ({"precision": "ns"}, b"m a=1", 400, "db"),
        ({"db": "x", "precision": "fortnight"}, b"m a=1", 400, "precision"),
        ({"db": "x"}, b"", 400, "empty"),
        ({"db": "bad name!"}, b"m a=1", 400, "database name"),
        ({"db": "x", "accept_partial": "maybe"}, b"m a=1", 400, "accept_partial"),
    ]
    for params, body, status, word in cases:
        r = http.post("/api/v3/write_lp", params=params, content=body)
        assert r.status_code == status, (params, r.text)
        assert word in r.json()["error"], (params, r.text)


def test_oversized_body_is_413_and_server_keeps_serving(http: httpx.Client) -> None:
    big = b"m a=1\n" * (10_485_760 // 6 + 10)
    r = http.post("/api/v3/write_lp", params={"db": "big"}, content=big)
    assert r.status_code == 413
    bomb = gzip.compress(big)
    r = http.post(
        "/api/v3/write_lp", params={"db": "big"}, content=bomb, headers={"Content-Encoding": "gzip"}
    )
    assert r.status_code == 413
    assert http.get("/health").status_code == 200


def test_same_series_and_time_merge_fields_later_write_wins(http: httpx.Client) -> None:
    db = "dedup"
    for body in ("d,h=a x=1,y=1 10", "d,h=a y=2,z=2 10", "d,h=b x=5 10\nd,h=a z=3 10"):
        assert (
            http.post(
                "/api/v3/write_lp", params={"db": db, "precision": "s"}, content=body
            ).status_code
            == 204
        )
    rows = sql(http, db, "SELECT h, x, y, z FROM d ORDER BY h")
    assert rows == [{"h": "a", "x": 1.0, "y": 2.0, "z": 3.0}, {"h": "b", "x": 5.0}]
    assert sql(http, db, "SELECT count(*) AS n FROM d") == [{"n": 2}]


def test_new_columns_and_every_field_type(http: httpx.Client) -> None:
    db = "types"
    body = 't,k=v f=1.5,i=-3i,u=4u,s="a \\"q\\" b",b=true 1\nt,k=v,k2=w f=2 2\n'
    r = http.post("/api/v3/write_lp", params={"db": db, "precision": "s"}, content=body)
    assert r.status_code == 204, r.text
    rows = sql(http, db, "SELECT * FROM t ORDER BY time")
    assert rows[0] == {
        "b": True,
        "f": 1.5,
        "i": -3,
        "k": "v",
        "s": 'a "q" b',
        "time": "1970-01-01T00:00:01",
        "u": 4,
    }
    assert rows[1] == {"f": 2.0, "k": "v", "k2": "w", "time": "1970-01-01T00:00:02"}
    cols = sql(
        http,
        db,
        "SELECT column_name, data_type FROM information_schema.columns "
        "WHERE table_name = 't' ORDER BY column_name",
    )
    types = {c["column_name"]: c["data_type"] for c in cols}
    assert types["time"] == "Timestamp(ns)" or types["time"].startswith("Timestamp")
    assert types["k"].startswith("Dictionary")
    assert types["u"] == "UInt64"


def test_tag_used_as_field_is_rejected_per_line(http: httpx.Client) -> None:
    db = "kinds"
    assert (
        http.post("/api/v3/write_lp", params={"db": db}, content="k,host=a v=1").status_code == 204
    )
    r = http.post("/api/v3/write_lp", params={"db": db}, content="k host=1\nk,host=b v=2")
    assert r.status_code == 400
    data = r.json()["data"]
    assert [d["line_number"] for d in data] == [1]
    assert "iox::column_type::tag" in data[0]["error_message"]
    assert len(sql(http, db, "SELECT * FROM k")) == 2


def test_read_your_writes_from_every_query_worker(http: httpx.Client) -> None:
    for i in range(20):
        r = http.post(
            "/api/v3/write_lp", params={"db": "ryw", "precision": "s"}, content=f"r,i=x n={i}i {i}"
        )
        assert r.status_code == 204
        rows = sql(http, "ryw", "SELECT count(*) AS c, max(n) AS m FROM r")
        assert rows == [{"c": i + 1, "m": i}]


def test_racing_first_writes_of_one_column_agree_on_one_type(http: httpx.Client) -> None:
    import concurrent.futures

    values = ["1.5", "2i", "3u", '"s"', "true"] * 4

    def write(i: int) -> int:
        with httpx.Client(base_url=str(http.base_url), timeout=60) as c:
            r = c.post(
                "/api/v3/write_lp",
                params={"db": "race", "precision": "s"},
                content=f"race,w=w{i} f={values[i]} {i}",
            )
            return r.status_code

    with concurrent.futures.ThreadPoolExecutor(8) as pool:
        statuses = list(pool.map(write, range(len(values))))
    assert set(statuses) <= {204, 400}
    types = sql(
        http,
        "race",
        "SELECT data_type FROM information_schema.columns "
        "WHERE table_name = 'race' AND column_name = 'f'",
    )
    assert len(types) == 1
    stored = sql(http, "race", "SELECT count(*) AS c FROM race")[0]["c"]
    assert stored == statuses.count(204)
    assert stored == 4  # each of the five types was written four times; one type won
