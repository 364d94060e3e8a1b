"""``/api/v2/write``: the influxdb-client (2.x) library, and all-or-nothing semantics."""

from __future__ import annotations

import httpx
from influxdb_client import InfluxDBClient, Point, WritePrecision
from influxdb_client.client.exceptions import InfluxDBError
from influxdb_client.client.write_api import SYNCHRONOUS

from bench.edge import EdgeServer


def test_influxdb_client_writes_points(edge: EdgeServer, http: httpx.Client) -> None:
    with InfluxDBClient(url=edge.url, token="unused", org="my-org") as client:
        write = client.write_api(write_options=SYNCHRONOUS)
        write.write(
            "v2db",
            record=[
                Point("weather")
                .tag("city", "Oslo")
                .field("temp", 3.5)
                .time(1_000, WritePrecision.S),
                Point("weather")
                .tag("city", "Rome")
                .field("temp", 17.0)
                .time(1_000, WritePrecision.S),
            ],
        )
        write.write("v2db", record="weather,city=Oslo temp=4.0 2000000", write_precision="ms")
    rows = http.get(
        "/api/v3/query_sql",
        params={
            "db": "v2db",
            "q": "SELECT city, temp, CAST(time AS BIGINT) AS t FROM weather ORDER BY t, city",
        },
    ).json()
    assert rows == [
        {"city": "Oslo", "temp": 3.5, "t": 1_000_000_000_000},
        {"city": "Rome", "temp": 17.0, "t": 1_000_000_000_000},
        {"city": "Oslo", "temp": 4.0, "t": 2_000_000_000_000},
    ]


def test_one_bad_line_rejects_the_whole_request(edge: EdgeServer, http: httpx.Client) -> None:
    r = http.post(
        "/api/v2/write", params={"bucket": "v2all", "org": "o"}, content="m a=1 1\nm a=oops 2\n"
    )
    assert r.status_code == 400
    doc = r.json()
    assert doc["code"] == "invalid"
    assert "line 2" in doc["message"]
    assert http.get("/api/v3/query_sql", params={"db": "v2all", "q": "SELECT 1"}).status_code == 404
    with InfluxDBClient(url=edge.url, token="t", org="o") as client:
        try:
            client.write_api(write_options=SYNCHRONOUS).write("v2all", record="m a=oops 2")
        except InfluxDBError as err:
            assert err.response.status == 400
        else:
            raise AssertionError("a bad line must be refused")


def test_v2_request_errors(http: httpx.Client) -> None:
    r = http.post("/api/v2/write", params={"org": "o"}, content="m a=1")
    assert (r.status_code, r.json()["code"]) == (400, "invalid")
    r = http.post("/api/v2/write", params={"bucket": "b", "precision": "h"}, content="m a=1")
    assert r.status_code == 400
    assert "precision" in r.json()["message"]
