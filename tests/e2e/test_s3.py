"""The s3 object store against moto's real S3 server on loopback: persistence, a fresh group
on the same bucket, and an outage during writes and a snapshot."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import boto3
import pytest

from bench.edge import EdgeServer, start_edge
from tests.http import http
from tests.s3 import MotoServer

BUCKET = "edge-test"


@pytest.fixture(scope="module")
def moto(tmp_path_factory: pytest.TempPathFactory) -> Iterator[MotoServer]:
    with MotoServer(tmp_path_factory.mktemp("moto")) as server:
        boto3.client(
            "s3",
            endpoint_url=server.url,
            region_name="us-east-1",
            aws_access_key_id="k",
            aws_secret_access_key="s",
        ).create_bucket(Bucket=BUCKET)
        yield server


def s3_args(moto: MotoServer) -> tuple[str, ...]:
    return (
        "--object-store",
        "s3",
        "--bucket",
        BUCKET,
        "--aws-endpoint",
        moto.url,
        "--aws-allow-http",
        "--aws-access-key-id",
        "k",
        "--aws-secret-access-key",
        "s",
        "--query-workers",
        "1",
    )


def keys(moto: MotoServer) -> list[str]:
    client = boto3.client(
        "s3",
        endpoint_url=moto.url,
        region_name="us-east-1",
        aws_access_key_id="k",
        aws_secret_access_key="s",
    )
    pages = client.get_paginator("list_objects_v2").paginate(Bucket=BUCKET)
    return [o["Key"] for page in pages for o in page.get("Contents", [])]


def count(edge: EdgeServer, db: str, table: str) -> int:
    r = http.get(
        f"{edge.url}/api/v3/query_sql",
        timeout=120,
        params={"db": db, "q": f"SELECT count(*) AS c FROM {table}"},
    )
    assert r.status_code == 200, r.text
    n: int = r.json()[0]["c"]
    return n


def test_persist_to_s3_and_a_new_group_on_the_same_bucket(moto: MotoServer, tmp_path: Path) -> None:
    edge = start_edge(tmp_path / "a", *s3_args(moto))
    try:
        body = "\n".join(f"m,k=k{i % 7} v={i}i {1_700_000_000 + i}" for i in range(5000))
        assert (
            http.post(
                f"{edge.url}/api/v3/write_lp", params={"db": "s3db", "precision": "s"}, content=body
            ).status_code
            == 204
        )
        r = http.post(f"{edge.url}/api/v3/flush", timeout=120)
        assert r.status_code == 200 and r.json()["rows"] == 5000
        stored = keys(moto)
        assert any(k.startswith("edge0/dbs/s3db/m/") and k.endswith(".parquet") for k in stored)
        assert any(k.startswith("edge0/snapshots/") for k in stored)
        assert any(k.startswith("edge0/catalog/") for k in stored)
        assert count(edge, "s3db", "m") == 5000
        assert list((tmp_path / "a" / "cache").rglob("*.parquet")), "remote files are cached"
        # the points' day is over: compaction joins its nine ten-minute files into one
        deadline = time.monotonic() + 60
        while " into one in " not in edge.log():
            assert time.monotonic() < deadline, edge.log()[-3000:]
            time.sleep(0.2)
        assert count(edge, "s3db", "m") == 5000
    finally:
        edge.stop()
    fresh = start_edge(tmp_path / "b", *s3_args(moto))  # no WAL, no local files at all
    try:
        assert count(fresh, "s3db", "m") == 5000
        # the replaced files (kept a while for queries under way) went when it started
        files = [k for k in keys(moto) if k.startswith("edge0/dbs/s3db/m/")]
        assert len(files) == 1 and files[0].endswith(".parquet"), files
    finally:
        fresh.stop()


def test_an_s3_outage_loses_nothing_and_persistence_resumes(
    moto: MotoServer, tmp_path: Path
) -> None:
    edge = start_edge(tmp_path / "c", *s3_args(moto))
    acked = 0
    try:

        def write(i: int) -> bool:
            body = "\n".join(
                f"o,w=a v={i * 100 + j}i {1_700_000_000 + i * 100 + j}" for j in range(100)
            )
            r = http.post(
                f"{edge.url}/api/v3/write_lp",
                params={"db": "out", "precision": "s"},
                content=body,
                timeout=60,
            )
            return r.status_code == 204

        assert write(0)  # the table and its columns exist before the outage
        acked = 100
        moto.pause()
        flushed: list[Any] = []
        flusher = threading.Thread(
            target=lambda: flushed.append(http.post(f"{edge.url}/api/v3/flush", timeout=300))
        )
        flusher.start()
        deadline = time.monotonic() + 20
        i = 1
        while time.monotonic() < deadline:
            if write(i):
                acked += 100
            i += 1
            time.sleep(0.2)
        assert acked > 1000, "writes must keep being accepted during the outage"
        assert flusher.is_alive(), "the flush waits for the store to come back"
        moto.resume()
        flusher.join(timeout=120)
        assert not flusher.is_alive()
        assert flushed and flushed[0].status_code == 200, flushed
        r = http.post(f"{edge.url}/api/v3/flush", timeout=120)
        assert r.status_code == 200
        assert count(edge, "out", "o") == acked
        assert not [k for k in keys(moto) if "/out/" in k and k.endswith(".tmp")]
    finally:
        moto.resume()
        edge.stop()


def test_writes_get_503_over_the_memory_ceiling_until_persisting_catches_up(
    moto: MotoServer, tmp_path: Path
) -> None:
    edge = start_edge(
        tmp_path / "d", *s3_args(moto), "--buffer-mem-limit-mb", "1", "--buffer-mem-ceiling-mb", "2"
    )
    try:
        body = "\n".join(
            f'ceil,k=k{j % 10} v={j}i,s="{"x" * 40}" {1_700_000_000 + j}' for j in range(5000)
        )
        assert (
            http.post(
                f"{edge.url}/api/v3/write_lp", params={"db": "ceil", "precision": "s"}, content=body
            ).status_code
            == 204
        )
        moto.pause()
        statuses = []
        for i in range(1, 40):
            # the same table and columns (a catalog change would itself wait for the store)
            lines = "\n".join(
                f'ceil,k=k{j % 10} v={j}i,s="{"x" * 40}" {1_700_000_000 + i * 10_000 + j}'
                for j in range(5000)
            )
            r = http.post(
                f"{edge.url}/api/v3/write_lp",
                params={"db": "ceil", "precision": "s"},
                content=lines,
                timeout=60,
            )
            statuses.append(r.status_code)
            if r.status_code == 503:
                assert "full" in r.json()["error"]
                break
        assert statuses[-1] == 503, statuses
        assert http_ok(edge)
        moto.resume()
        deadline = time.monotonic() + 120
        while (
            http.post(
                f"{edge.url}/api/v3/write_lp",
                params={"db": "ceil", "precision": "s"},
                content="ceil,k=z v=1i 1700009999",
            ).status_code
            != 204
        ):
            assert time.monotonic() < deadline
            time.sleep(0.5)
    finally:
        moto.resume()
        edge.stop()


def http_ok(edge: EdgeServer) -> bool:
    return http.get(f"{edge.url}/health").status_code == 200
