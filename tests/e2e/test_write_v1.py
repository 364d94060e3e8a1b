"""1.x ``/write``: the ``influxdb`` Python client, and answers compared with influxd 1.6.7."""

from __future__ import annotations

import zlib
from collections.abc import Iterator

import httpx
import pytest
from influxdb import InfluxDBClient

from bench.edge import EdgeServer
from bench.influxd import run_influxd


@pytest.fixture(scope="module")
def influxd(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    with run_influxd(tmp_path_factory.mktemp("influxd")) as url:
        yield url


def test_influxdb_client_write_points(edge: EdgeServer, http: httpx.Client) -> None:
    port = int(edge.url.rsplit(":", 1)[1])
    client = InfluxDBClient(host="127.0.0.1", port=port, database="v1db")
    assert client.ping()
    ok = client.write_points(
        [
            {
                "measurement": "cpu",
                "tags": {"host": "a"},
                "time": "2020-01-01T00:00:00Z",
                "fields": {"value": 0.5, "n": 3},
            },
            {
                "measurement": "cpu",
                "tags": {"host": "b"},
                "time": "2020-01-01T00:00:00Z",
                "fields": {"value": 1.5, "n": 4},
            },
        ],
        time_precision="s",
    )
    assert ok
    client.close()
    rows = http.get(
        "/api/v3/query_sql",
        params={"db": "v1db", "q": "SELECT host, value, n, time FROM cpu ORDER BY host"},
    ).json()
    assert rows == [
        {"host": "a", "value": 0.5, "n": 3, "time": "2020-01-01T00:00:00"},
        {"host": "b", "value": 1.5, "n": 4, "time": "2020-01-01T00:00:00"},
    ]


@pytest.mark.parametrize(
    ("params", "body"),
    [
        ({"precision": "s"}, "m a=1 1\nm a=2 2"),
        ({"precision": "s"}, "m a=1 1\nbad line\nm a=2 2"),
        ({"precision": "h"}, "m a=1 1"),
        ({}, "m a=1 1 trailing"),
        ({}, "m a=nan 1"),
        ({}, "m a=9223372036854775808i 1"),
        ({}, "m,t=1,t=2 a=1 1"),
        ({}, ""),  # nothing to write: 204
        ({}, "# a comment only\n\n"),
        ({}, "bad\nworse\n"),  # every line bad: each named, no "partial write"
        ({}, "m a=1 1\nm,t=x=y a=1 2\nm b=+1 3\nm c=1.5i 4"),  # influxd's reasons
        ({}, 'm,t=a"b s="x\ny" 1\nm,t=a\\ b,u=1" s="p\nq" 2'),  # influxd's line ends
        ({}, "m time=1 1"),  # refused when stored: said alone, with the count dropped
        ({}, "m,time=x a=1 1\nm a=2 2"),
        ({"precision": "m"}, "m a=1 153722868"),  # past influxd's time range
    ],
)
def test_answers_match_influxd(
    http: httpx.Client, influxd: str, params: dict[str, str], body: str
) -> None:
    db = f"cmp{zlib.crc32(body.encode())}"
    httpx.post(f"{influxd}/query", params={"q": f"CREATE DATABASE {db}"})
    theirs = httpx.post(f"{influxd}/write", params={"db": db, **params}, content=body)
    ours = http.post("/write", params={"db": db, **params}, content=body)
    assert (ours.status_code, ours.text.strip()) == (theirs.status_code, theirs.text.strip())


def test_a_field_of_another_type_than_before_as_influxd_says(
    http: httpx.Client, influxd: str
) -> None:
    httpx.post(f"{influxd}/query", params={"q": "CREATE DATABASE conflict"})
    answers = []
    for base, post in ((influxd, httpx.post), ("", http.post)):
        post(f"{base}/write", params={"db": "conflict"}, content="m a=1 1")
        r = post(f"{base}/write", params={"db": "conflict"}, content='m a="x" 2\nm a=2 3')
        answers.append((r.status_code, r.json()))
    assert (
        answers[0]
        == answers[1]
        == (
            400,
            {
                "error": 'partial write: field type conflict: input field "a" on measurement "m" '
                "is type string, already exists as type float dropped=1"
            },
        )
    )


def test_partial_write_keeps_good_lines_like_influxd(http: httpx.Client) -> None:
    r = http.post(
        "/write", params={"db": "v1p", "precision": "s"}, content="m a=1 1\nbad line\nm a=2 2"
    )
    assert r.status_code == 400
    assert r.json()["error"].startswith("partial write: unable to parse 'bad line'")
    rows = http.get("/api/v3/query_sql", params={"db": "v1p", "q": "SELECT a FROM m"}).json()
    assert sorted(r["a"] for r in rows) == [1.0, 2.0]


def test_unknown_precision_is_refused(http: httpx.Client) -> None:
    # influxd 1.6.7 silently treats an unknown precision as ns; we refuse it rather than
    # store timestamps a million times off (a deliberate difference)
    r = http.post("/write", params={"db": "cmp", "precision": "xx"}, content="m a=1 1")
    assert r.status_code == 400
    assert "precision" in r.json()["error"]


def test_v1_missing_db_and_rp_mapping(http: httpx.Client) -> None:
    r = http.post("/write", content="m a=1")
    assert r.status_code == 400
    assert r.json() == {"error": "database is required"}
    assert (
        http.post("/write", params={"db": "rpdb", "rp": "autogen"}, content="m a=1").status_code
        == 204
    )
    assert (
        http.post("/write", params={"db": "rpdb", "rp": "week"}, content="m a=1").status_code == 204
    )
    r = http.get("/api/v3/query_sql", params={"db": "rpdb/week", "q": "SELECT a FROM m"})
    assert r.json() == [{"a": 1.0}]
