"""Retention policies with the real process group: the ``influxdb`` client's calls, every
ingest worker following a new default at once, files past a policy's duration leaving (and
staying gone after kill -9), rows of a policy surviving kill -9. (Answers compared with
influxd's: tests/compat/test_influxql.py::test_retention_policies_like_influxd.)"""

from __future__ import annotations

import os
import signal
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest
from influxdb import InfluxDBClient

from bench.edge import EdgeServer, run_edge, start_edge
from edge_common.stream import StreamClient
from edge_common.wire import pack, unpack
from tests.http import http

_HOUR = 3600
_DAY = 24 * _HOUR
_ENV = {"INFLUXDB3_RETENTION_CHECK_INTERVAL_S": "1"}


@pytest.fixture(scope="module")
def edge(tmp_path_factory: pytest.TempPathFactory) -> Iterator[EdgeServer]:
    with run_edge(tmp_path_factory.mktemp("edge") / "data", env=_ENV) as server:
        yield server


def _query(edge: EdgeServer, db: str, text: str, **params: str) -> dict[str, Any]:
    r = http.post(f"{edge.url}/query", data={"db": db, "q": text, **params}, timeout=60)
    assert r.status_code == 200, r.text
    doc: dict[str, Any] = r.json()
    assert "error" not in doc["results"][0], doc
    return doc


def _values(doc: dict[str, Any]) -> list[list[Any]]:
    series = doc["results"][0].get("series", [])
    return [row for s in series for row in s["values"]]


def test_influxdb_client_manages_retention_policies(edge: EdgeServer) -> None:
    port = int(edge.url.rsplit(":", 1)[1])
    client = InfluxDBClient(host="127.0.0.1", port=port, database="clientdb")
    client.create_database("clientdb")
    client.create_retention_policy("week", "7d", 1, database="clientdb", default=True)
    policies = {p["name"]: p for p in client.get_list_retention_policies("clientdb")}
    assert policies["week"] == {
        "name": "week",
        "duration": "168h0m0s",
        "shardGroupDuration": "24h0m0s",
        "replicaN": 1,
        "default": True,
    }
    assert policies["autogen"]["default"] is False
    now = int(time.time())
    point = {"measurement": "cpu", "tags": {"host": "a"}, "time": now, "fields": {"v": 1.0}}
    assert client.write_points([point], time_precision="s")  # to the default: week
    older = {**point, "fields": {"v": 2.0}}
    assert client.write_points([older], time_precision="s", retention_policy="autogen")
    assert [p["v"] for p in client.query("SELECT v FROM cpu").get_points()] == [1.0]
    assert [p["v"] for p in client.query("SELECT v FROM autogen.cpu").get_points()] == [2.0]
    assert [p["v"] for p in client.query('SELECT v FROM "week".cpu').get_points()] == [1.0]
    client.alter_retention_policy("week", database="clientdb", duration="14d", default=False)
    policies = {p["name"]: p for p in client.get_list_retention_policies("clientdb")}
    assert policies["week"]["duration"] == "336h0m0s"
    assert policies["week"]["default"] is True  # (no DEFAULT sent: it stays the default)
    client.alter_retention_policy("autogen", database="clientdb", default=True)
    assert [p["v"] for p in client.query("SELECT v FROM cpu").get_points()] == [2.0]
    client.drop_retention_policy("week", database="clientdb")
    assert [p["name"] for p in client.get_list_retention_policies("clientdb")] == ["autogen"]
    assert [d["name"] for d in client.get_list_database()] == ["clientdb"]


def test_every_ingest_worker_writes_to_a_new_default_at_once(edge: EdgeServer) -> None:
    """The statement that makes a policy the default returns once each ingest worker holds
    the new catalog: the next writes, whichever worker takes them, go to the new policy."""
    _query(edge, "", "CREATE DATABASE follow")
    now = int(time.time())
    wal = edge.data_dir / "wal"

    def logged() -> list[int]:
        return [sum(f.stat().st_size for f in (wal / f"ingest-{i}").iterdir()) for i in (0, 1)]

    before = logged()
    for round_ in range(3):
        rp = f"r{round_}"
        text = f"CREATE RETENTION POLICY {rp} ON follow DURATION 1d REPLICATION 1 DEFAULT"
        _query(edge, "follow", text)

        def write(i: int, round_: int = round_) -> int:
            r = http.post(
                f"{edge.url}/write",
                params={"db": "follow", "precision": "s"},
                content=f"m,w={i} v={round_} {now - i}",
            )
            return r.status_code

        with ThreadPoolExecutor(6) as pool:  # at once: both ingest workers take some
            assert set(pool.map(write, range(24))) == {204}
        counts = _values(_query(edge, "follow", f"SELECT count(v) FROM {rp}.m"))
        assert counts[0][1] == 24
    assert all(a > b for a, b in zip(logged(), before, strict=True))
    assert _values(_query(edge, "follow", "SELECT count(v) FROM autogen.m")) == []


def test_points_older_than_the_policy_are_refused(edge: EdgeServer) -> None:
    _query(edge, "", "CREATE DATABASE fresh WITH DURATION 2h NAME short")
    now = int(time.time())
    r = http.post(
        f"{edge.url}/write",
        params={"db": "fresh", "precision": "s"},
        content=f"m v=1 {now}\nm v=2 {now - 3 * _HOUR}\nm v=3 {now - 4 * _HOUR}",
    )
    assert r.status_code == 400
    assert r.json() == {"error": "partial write: points beyond retention policy dropped=2"}
    assert [row[1] for row in _values(_query(edge, "fresh", "SELECT v FROM m"))] == [1]
    # the v2 and v3 APIs name the lines
    r = http.post(
        f"{edge.url}/api/v3/write_lp",
        params={"db": "fresh/short", "precision": "second"},
        content=f"m v=4 {now - 3 * _HOUR}",
    )
    assert r.status_code == 400
    assert r.json()["data"][0]["error_message"] == "points beyond retention policy"


def _stored_days(edge: EdgeServer, db: str) -> list[int]:
    rows = _values(_query(edge, db, "SELECT v FROM old", epoch="s"))
    return sorted(int(v) for _, v in rows)


def test_files_past_the_duration_leave_and_stay_gone_after_kill_9(tmp_path: Path) -> None:
    """Rows of eight days in Parquet, one file a day; the policy shortened to three days:
    within a check interval the older files are gone from answers, and after kill -9 of the
    whole group they stay gone (the manifest dropping them is stored before the answer
    changes) and the files leave the store (swept on start)."""
    edge = start_edge(tmp_path / "data", env=_ENV)
    try:
        now = int(time.time())
        body = "\n".join(f"old,h=x v={i} {now - i * _DAY - 60}" for i in range(8))
        r = http.post(f"{edge.url}/write", params={"db": "exp", "precision": "s"}, content=body)
        assert r.status_code == 204, r.text
        assert http.post(f"{edge.url}/api/v3/flush", timeout=60).status_code == 200
        files = lambda: sorted(p.name for p in (tmp_path / "data").rglob("*.parquet"))  # noqa: E731
        assert len(files()) == 8
        assert _stored_days(edge, "exp") == list(range(8))
        _query(edge, "exp", "ALTER RETENTION POLICY autogen ON exp DURATION 3d SHARD DURATION 1d")
        deadline = time.monotonic() + 30
        while _stored_days(edge, "exp") != [0, 1, 2]:
            assert time.monotonic() < deadline, _stored_days(edge, "exp")
            time.sleep(0.2)
        for pid in [edge.proc.pid, *edge.children().values()]:
            os.kill(pid, signal.SIGKILL)
        edge.proc.wait()
        edge = start_edge(tmp_path / "data", env=_ENV)
        assert _stored_days(edge, "exp") == [0, 1, 2]
        assert len(files()) == 3
    finally:
        edge.stop()


def test_rows_of_a_policy_survive_kill_9(tmp_path: Path) -> None:
    """Writes to a non-default policy and to a new default, only in the WAL when the whole
    group dies: replayed into the policies they were written to."""
    edge = start_edge(tmp_path / "data", env=_ENV)
    try:
        none = {"name": "databases", "columns": ["name"]}  # no "values", as influxd's
        assert _query(edge, "", "SHOW DATABASES")["results"][0]["series"] == [none]
        _query(edge, "", "CREATE DATABASE keep")
        _query(edge, "keep", "CREATE RETENTION POLICY two ON keep DURATION 2d REPLICATION 1")
        now = int(time.time())
        for params, line in (({"rp": "two"}, f"m v=2 {now}"), ({}, f"m v=1 {now}")):
            r = http.post(
                f"{edge.url}/write",
                params={"db": "keep", "precision": "s", **params},
                content=line,
            )
            assert r.status_code == 204, r.text
        for pid in [edge.proc.pid, *edge.children().values()]:
            os.kill(pid, signal.SIGKILL)
        edge.proc.wait()
        edge = start_edge(tmp_path / "data", env=_ENV)
        assert [row[1] for row in _values(_query(edge, "keep", "SELECT v FROM two.m"))] == [2]
        assert [row[1] for row in _values(_query(edge, "keep", "SELECT v FROM m"))] == [1]
        rps = _values(_query(edge, "keep", "SHOW RETENTION POLICIES"))
        assert [r[0] for r in rps] == ["autogen", "two"]
    finally:
        edge.stop()


def test_ingest_workers_catch_up_with_a_default_they_were_not_told_of(edge: EdgeServer) -> None:
    """Should the query worker that changed the default die before telling the ingest
    workers, each learns of the newer catalog from the persister's answer to its next
    write, and the writes after that follow the new default."""
    _query(edge, "", "CREATE DATABASE quiet")

    def write(i: int) -> int:
        r = http.post(
            f"{edge.url}/write",
            params={"db": "quiet", "precision": "s"},
            content=f"m,i={i} v=1 {int(time.time()) - i}",
        )
        return r.status_code

    with ThreadPoolExecutor(6) as pool:  # both ingest workers hold the catalog with "quiet"
        assert set(pool.map(write, range(12))) == {204}
    caller = StreamClient(edge.data_dir / "run" / "persister.stream")
    change = {"op": "create_policy", "db": "quiet", "policy": {"name": "new"}, "default": True}
    reply, _ = unpack(caller.call(pack(change), 10.0))  # the persister alone: no one is told
    caller.close()
    assert reply["ok"], reply
    with ThreadPoolExecutor(6) as pool:  # each worker's first write may still go to autogen
        assert set(pool.map(write, range(100, 112))) == {204}
        assert set(pool.map(write, range(200, 224))) == {204}
    counts = _values(_query(edge, "quiet", "SELECT count(v) FROM new.m"))
    assert counts and counts[0][1] >= 24
