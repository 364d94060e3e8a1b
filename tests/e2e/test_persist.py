"""Persistence to Parquet: flush, files any tool reads, persist events, bounded buffer,
the same answers before and after a snapshot, the WAL switched off."""

from __future__ import annotations

import json
import random
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pyarrow.parquet as pq
import pytest
import zmq
from datafusion import SessionContext

from bench.edge import EdgeServer, run_edge, start_edge
from bench.influxd import free_port
from bench.tsbs import batches
from tests.http import http

EVENTS_PORT = free_port()


@pytest.fixture(scope="module")
def edge(tmp_path_factory: pytest.TempPathFactory) -> Iterator[EdgeServer]:
    # compaction off: these tests look at the files snapshots write (many files, picks
    # over them); joining them is tested on a server of its own below
    with run_edge(
        tmp_path_factory.mktemp("persist") / "data",
        "--persist-events-bind",
        f"tcp://127.0.0.1:{EVENTS_PORT}",
        "--compaction-max-rows",
        "0",
    ) as server:
        yield server


def sql(edge: EdgeServer, db: str, q: str) -> list[dict[str, Any]]:
    r = http.get(f"{edge.url}/api/v3/query_sql", params={"db": db, "q": q}, timeout=60)
    assert r.status_code == 200, r.text
    rows: list[dict[str, Any]] = r.json()
    return rows


def write(edge: EdgeServer, db: str, body: str | bytes, precision: str = "s") -> None:
    r = http.post(
        f"{edge.url}/api/v3/write_lp",
        params={"db": db, "precision": precision},
        content=body,
        timeout=60,
    )
    assert r.status_code == 204, r.text


def close(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [{k: round(v, 9) if isinstance(v, float) else v for k, v in r.items()} for r in rows]


def flush(edge: EdgeServer) -> dict[str, Any]:
    r = http.post(f"{edge.url}/api/v3/flush", timeout=120)
    assert r.status_code == 200, r.text
    doc: dict[str, Any] = r.json()
    return doc


def test_flush_writes_parquet_that_any_tool_reads_and_announces_each_file(edge: EdgeServer) -> None:
    received: list[list[bytes]] = []
    ready = threading.Event()

    def listen() -> None:
        ctx = zmq.Context()
        sub = ctx.socket(zmq.SUB)
        sub.connect(f"tcp://127.0.0.1:{EVENTS_PORT}")
        sub.setsockopt(zmq.SUBSCRIBE, b"pdb")
        ready.set()
        while sub.poll(5000):
            received.append(sub.recv_multipart())
        sub.close(0)
        ctx.term()

    listener = threading.Thread(target=listen)
    listener.start()
    ready.wait()
    import time

    time.sleep(0.5)  # a SUB socket needs a moment to join
    write(
        edge,
        "pdb",
        'cpu,host=a usage=1.5,n=1i,ok=true,s="x" 1700000000\n'
        'cpu,host=b usage=2.5,n=2i,ok=false,s="y" 1700000700\n'
        "mem,host=a free=7u 1700000000",
    )
    doc = flush(edge)
    assert doc["files"] == 3 and doc["rows"] == 3
    listener.join()
    events = [json.loads(frames[1]) for frames in received]
    assert sorted(e["table"] for e in events) == ["cpu", "cpu", "mem"]
    assert all(frames[0] == b"pdb" for frames in received)
    assert len({e["path"] for e in events}) == 3  # exactly one event per file
    root = Path(edge.data_dir) / "objects"
    for e in events:
        assert e["version"] == 1 and e["snapshot_seq"] == doc["snapshot_seq"]
        path = root / e["path"]
        assert e["uri"] == path.resolve().as_uri()
        assert e["path"].startswith("edge0/dbs/pdb/")
        table = pq.read_table(path)
        assert table.num_rows == e["row_count"] and path.stat().st_size == e["size_bytes"]
        md = pq.ParquetFile(path).metadata
        assert md.row_group(0).column(0).statistics is not None
        assert md.row_group(0).column(0).compression == "ZSTD"
    cpu = [root / e["path"] for e in events if e["table"] == "cpu"]
    ctx = SessionContext()
    for i, p in enumerate(sorted(cpu)):
        ctx.register_parquet(f"f{i}", str(p))
    rows = ctx.sql(
        "SELECT host, usage, n, ok, s FROM f0 UNION ALL SELECT host, usage, n, ok, s "
        "FROM f1 ORDER BY host"
    ).to_pylist()
    assert rows == [
        {"host": "a", "usage": 1.5, "n": 1, "ok": True, "s": "x"},
        {"host": "b", "usage": 2.5, "n": 2, "ok": False, "s": "y"},
    ]
    types = {f.name: str(f.type) for f in pq.read_schema(cpu[0])}
    assert types["time"] == "timestamp[ns]" and types["host"].startswith("dictionary")
    # the rows are now only in the files, and queries still see them exactly once
    assert sql(edge, "pdb", "SELECT count(*) AS c FROM cpu") == [{"c": 2}]


def test_answers_are_the_same_before_and_after_a_snapshot(edge: EdgeServer) -> None:
    for body in batches(2000, hosts=20, hours=1):
        write(edge, "same", body, precision="ns")
    queries = [
        "SELECT hostname, count(*) AS c, avg(usage_user) AS a FROM cpu GROUP BY hostname "
        "ORDER BY hostname",
        "SELECT date_bin(INTERVAL '10 minutes', time) AS w, max(usage_idle) AS m FROM cpu "
        "WHERE time >= '2016-01-01T00:20:00Z' GROUP BY w ORDER BY w",
        "SELECT count(*) AS c FROM cpu",
        "SELECT * FROM cpu WHERE hostname = 'host_3' ORDER BY time LIMIT 5",
        "SELECT hostname, time, usage_user FROM cpu WHERE hostname IN ('host_3', 'host_5') "
        "AND region <> 'nowhere' ORDER BY hostname, time",
    ]
    before = [sql(edge, "same", q) for q in queries]
    flush(edge)
    # sums over other row orders may differ in the last bits; nothing else may differ
    assert [close(sql(edge, "same", q)) for q in queries] == [close(r) for r in before]
    # overwrite some persisted points and add new ones: still one row per series and time
    write(
        edge,
        "same",
        "\n".join(
            f"cpu,{tags} usage_user=-1 {ts}"
            for tags, ts in [("hostname=host_3,region=x", 1451606400000000000)]
        ),
        precision="ns",
    )
    rows = sql(edge, "same", "SELECT count(*) AS c FROM cpu")
    assert rows == [{"c": before[2][0]["c"] + 1}]  # another tag set: a new series
    body = next(iter(batches(2000, hosts=20, hours=1)))
    first = body.split(b"\n")[0].decode()
    series, _, ts = first.split(" ")
    write(edge, "same", f"{series} usage_user=-5 {ts}", precision="ns")
    assert sql(edge, "same", "SELECT count(*) AS c FROM cpu") == rows
    host = series.split("hostname=")[1].split(",")[0]
    got = sql(
        edge,
        "same",
        f"SELECT usage_user, usage_idle FROM cpu WHERE hostname = '{host}' "
        f"AND time = arrow_cast({ts}, 'Timestamp(Nanosecond, None)')",
    )
    assert got[0]["usage_user"] == -5.0 and got[0]["usage_idle"] is not None
    flush(edge)
    assert sql(
        edge,
        "same",
        f"SELECT usage_user FROM cpu WHERE hostname = '{host}' "
        f"AND time = arrow_cast({ts}, 'Timestamp(Nanosecond, None)')",
    ) == [{"usage_user": -5.0}]
    # a tag filter (applied where the data lives) agrees with filtering the whole answer
    # (usage_user orders the two series that share a hostname and a time: SQL leaves ties open)
    every = sql(
        edge,
        "same",
        "SELECT hostname, time, usage_user FROM cpu ORDER BY hostname, time, usage_user",
    )
    for tag_filter in (f"hostname = '{host}'", "hostname IN ('host_3', 'host_5', 'nobody')"):
        picked = sql(
            edge,
            "same",
            f"SELECT hostname, time, usage_user FROM cpu WHERE {tag_filter} "
            "ORDER BY hostname, time, usage_user",
        )
        allowed = {host} if "=" in tag_filter else {"host_3", "host_5"}
        assert picked == [r for r in every if r["hostname"] in allowed]


def test_subscribe_cli_prints_events(edge: EdgeServer) -> None:
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "edge_cli",
            "subscribe",
            "--endpoint",
            f"tcp://127.0.0.1:{EVENTS_PORT}",
            "--database",
            "subdb",
            "--count",
            "1",
        ],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        import time

        time.sleep(1.0)
        write(edge, "subdb", "t v=1 1700000000")
        write(edge, "otherdb", "t v=1 1700000000")
        flush(edge)
        out, _ = proc.communicate(timeout=30)
    finally:
        proc.kill()
    event = json.loads(out.strip())
    assert event["database"] == "subdb" and event["table"] == "t" and event["row_count"] == 1


def test_buffer_stays_bounded_with_a_small_limit(tmp_path: Path) -> None:
    with run_edge(tmp_path / "data", "--buffer-mem-limit-mb", "2", "--query-workers", "1") as edge:
        peak = 0
        for body in batches(5000, hosts=12, hours=12):  # 12 hours of data
            write(edge, "bounded", body, precision="ns")
            status = http.get(f"{edge.url}/health").json()["buffer"]
            peak = max(peak, status["bytes"])
        assert peak < 12 << 20, peak
        files = list((tmp_path / "data" / "objects").rglob("*.parquet"))
        assert len(files) > 3
        assert sql(edge, "bounded", "SELECT count(*) AS c FROM cpu") == [{"c": 12 * 4320}]


def test_wal_disabled_acknowledges_from_memory(tmp_path: Path) -> None:
    import os
    import signal

    edge = start_edge(tmp_path / "data", "--wal-disable", "--query-workers", "1")
    try:
        write(edge, "nowal", "m v=1 1")
        flush(edge)
        write(edge, "nowal", "m v=2 2")
        assert not list((tmp_path / "data").rglob("*.wal"))
        assert sql(edge, "nowal", "SELECT count(*) AS c FROM m") == [{"c": 2}]
        for pid in [edge.proc.pid, *edge.children().values()]:  # a crash
            os.kill(pid, signal.SIGKILL)
        edge.proc.wait()
    finally:
        edge.stop()
    edge = start_edge(tmp_path / "data", "--wal-disable", "--query-workers", "1")
    try:  # what was flushed survives; what was only in memory does not, as documented
        assert sql(edge, "nowal", "SELECT v FROM m") == [{"v": 1.0}]
        write(edge, "nowal", "m v=3 3")
        assert edge.stop() == 0  # a clean stop persists the buffer first
    finally:
        edge.stop()
    edge = start_edge(tmp_path / "data", "--wal-disable", "--query-workers", "1")
    try:
        assert sql(edge, "nowal", "SELECT v FROM m ORDER BY v") == [{"v": 1.0}, {"v": 3.0}]
    finally:
        edge.stop()


def test_field_comparisons_judge_the_latest_version_of_each_point(edge: EdgeServer) -> None:
    """A field comparison is applied where the data lives only when no other source holds
    another version of the row: an overwritten point is judged on its merged value."""
    write(edge, "cmp", "m,h=a v=95,w=1 10\nm,h=b v=5,w=2 20\nm,h=c v=50 30")
    flush(edge)  # in Parquet now
    q = "SELECT h, v, w FROM m WHERE v > 90 ORDER BY h"
    influxql = "SELECT v, w FROM m WHERE v > 90 GROUP BY h"
    assert sql(edge, "cmp", q) == [{"h": "a", "v": 95.0, "w": 1.0}]  # files alone
    # the buffer overwrites: a goes below the line, b above it (w kept from the file);
    # JSON leaves nulls out
    write(edge, "cmp", "m,h=a v=1 10\nm,h=b v=99 20\nm,h=d v=91 40")
    expected = [{"h": "b", "v": 99.0, "w": 2.0}, {"h": "d", "v": 91.0}]
    assert sql(edge, "cmp", q) == expected
    r = http.get(f"{edge.url}/query", params={"db": "cmp", "q": influxql}, timeout=60)
    tags = [s["tags"]["h"] for s in r.json()["results"][0]["series"]]
    assert tags == ["b", "d"], r.text
    flush(edge)  # two files now, overlapping in time
    assert sql(edge, "cmp", q) == expected
    write(edge, "cmp", "m,h=e v=92 1000")  # later than every file: no overlap
    assert sql(edge, "cmp", q) == [*expected, {"h": "e", "v": 92.0}]
    assert sql(edge, "cmp", "SELECT h FROM m WHERE v > 90 AND w < 3 ORDER BY h") == [{"h": "b"}]
    # files apart in time (and the buffer after them): the comparison reaches the Parquet reads
    write(edge, "cmp2", "m,h=a v=95 10\nm,h=b v=5 20")
    flush(edge)
    write(edge, "cmp2", "m,h=a v=1 100\nm,h=c v=93 200")
    flush(edge)
    write(edge, "cmp2", "m,h=d v=97 300\nm,h=e v=3 400")
    assert sql(edge, "cmp2", "SELECT h, v FROM m WHERE v > 90 ORDER BY time") == [
        {"h": "a", "v": 95.0},
        {"h": "c", "v": 93.0},
        {"h": "d", "v": 97.0},
    ]


def _influxql(edge: EdgeServer, db: str, q: str) -> list[dict[str, Any]]:
    r = http.get(f"{edge.url}/query", params={"db": db, "q": q, "epoch": "ns"}, timeout=60)
    assert r.status_code == 200, r.text
    result: dict[str, Any] = r.json()["results"][0]
    assert "error" not in result, result
    series: list[dict[str, Any]] = result.get("series", [])
    return series


def test_first_and_last_over_files_and_buffer_pick_the_right_rows(edge: EdgeServer) -> None:
    """first()/last() grouped by tags read only each series' first or last row per field,
    from every source; the answers equal what the whole table says, across overwritten
    points, sparse fields, several series per group and a time range that cuts the buffer."""
    write(
        edge,
        "pick",
        "m,h=a,dc=x v=1,n=10i 10\nm,h=a,dc=y v=2 20\nm,h=b,dc=x n=30i 30\n"
        "m,h=a,dc=x v=4 40\nm,h=b,dc=y v=5,n=50i 50",
        "ns",
    )
    flush(edge)
    # overlapping the file: a newer v for (a,x) at 40, n only at 45, an older point at 5
    write(edge, "pick", "m,h=a,dc=x v=44 40\nm,h=a,dc=x n=45i 45\nm,h=b,dc=x v=0.5 5", "ns")
    flush(edge)
    write(edge, "pick", "m,h=b,dc=y v=55 50\nm,h=a,dc=y n=60i 60\nm,h=c v=7 70", "ns")  # buffer
    raw = _influxql(edge, "pick", "SELECT * FROM m")[0]
    rows = [dict(zip(raw["columns"], v, strict=True)) for v in raw["values"]]
    assert len(rows) == 9  # every (series, time) once

    def expected(kind: str, field: str, group: list[str], lo: int = 0, hi: int = 10**6) -> dict:
        out: dict[tuple[Any, ...], list[Any]] = {}
        for r in sorted(rows, key=lambda r: r["time"], reverse=kind == "last"):
            key = tuple(r[g] or "" for g in group)
            if r[field] is not None and lo <= r["time"] < hi and key not in out:
                out[key] = [r["time"], r[field]]
        return out

    def answer(q: str, group: list[str]) -> dict:
        return {
            tuple(s.get("tags", {}).get(g, "") for g in group): s["values"][0]
            for s in _influxql(edge, "pick", q)
        }

    for kind in ("first", "last"):
        for field in ("v", "n"):
            for group in ([], ["h"], ["h", "dc"]):
                by = f" GROUP BY {', '.join(group)}" if group else ""
                q = f"SELECT {kind}({field}) FROM m{by}"
                assert answer(q, group) == expected(kind, field, group), q
        q = f"SELECT {kind}(v) FROM m WHERE time < 45 GROUP BY h"  # cuts the buffer too
        assert answer(q, ["h"]) == expected(kind, "v", ["h"], hi=45), q
        q = f"SELECT {kind}(v) FROM m WHERE h = 'a' GROUP BY dc"
        want = {k[1:]: v for k, v in expected(kind, "v", ["h", "dc"]).items() if k[0] == "a"}
        assert answer(q, ["dc"]) == want, q
    # two fields at once: each its own newest row, the answer's time the query's lower bound
    both = _influxql(edge, "pick", "SELECT last(v), last(n) FROM m GROUP BY h")
    assert {s["tags"]["h"]: s["values"][0][1:] for s in both} == {
        "a": [44.0, 60],
        "b": [55.0, 50],
        "c": [7.0, None],
    }


def test_first_and_last_over_many_files_picked_once_for_all(edge: EdgeServer) -> None:
    """Files that do not overlap in time (one per ten-minute window) have their picks
    picked again over all of them (kept for the next query): the answers stay those of the
    whole table, with sparse fields, several series per group and rows in the buffer."""
    rng = random.Random(11)
    minute = 60_000_000_000
    lines = []
    for i in range(120):  # two hours: twelve ten-minute files
        h, dc = rng.choice("abc"), rng.choice(["x", "y", None])
        tags = f"h={h}" + (f",dc={dc}" if dc else "")
        fields = [f"v={rng.random():.6f}"] if rng.random() < 0.7 else []
        fields += [f"n={rng.randrange(100)}i"] if rng.random() < 0.5 or not fields else []
        lines.append(f"m,{tags} {','.join(fields)} {i * minute + rng.randrange(minute)}")
    write(edge, "manyfiles", "\n".join(lines), "ns")
    assert flush(edge)["files"] >= 12  # (and any other test database's)
    write(edge, "manyfiles", f"m,h=a,dc=x v=-1 {200 * minute}\nm,h=d n=5i {5 * minute}", "ns")
    raw = _influxql(edge, "manyfiles", "SELECT * FROM m")[0]
    rows = [dict(zip(raw["columns"], v, strict=True)) for v in raw["values"]]

    def expected(kind: str, field: str, group: list[str], hi: int = 10**15) -> dict:
        out: dict[tuple[Any, ...], list[Any]] = {}
        for r in sorted(rows, key=lambda r: r["time"], reverse=kind == "last"):
            key = tuple(r[g] or "" for g in group)
            if r[field] is not None and r["time"] < hi and key not in out:
                out[key] = [r["time"], r[field]]
        return out

    for _ in range(2):  # the second time from the picks kept
        for kind in ("first", "last"):
            for field in ("v", "n"):
                for group in (["h"], ["h", "dc"], ["dc"]):
                    q = f"SELECT {kind}({field}) FROM m GROUP BY {', '.join(group)}"
                    got = {
                        tuple(s.get("tags", {}).get(g, "") for g in group): s["values"][0]
                        for s in _influxql(edge, "manyfiles", q)
                    }
                    assert got == expected(kind, field, group), q
            q = f"SELECT {kind}(v) FROM m WHERE time < {45 * minute} GROUP BY h"
            got = {s["tags"]["h"]: s["values"][0] for s in _influxql(edge, "manyfiles", q)}
            want = {k[0]: v for k, v in expected(kind, "v", ["h"], hi=45 * minute).items()}
            assert got == want, q


def test_files_of_a_past_day_are_joined_answers_unchanged_across_a_kill(tmp_path: Path) -> None:
    """Two snapshots of 2016 data leave a file per window and snapshot; the persister joins
    the finished day's files into one (the rewritten point keeps its later value), and a
    kill -9 of the persister afterwards leaves the same answers and only the joined file."""
    lines = [
        f"cpu,host=h{h} v={h + i}.5 {1451606400 + i * 300 + h}" for h in range(3) for i in range(9)
    ]
    statements = [
        "SELECT * FROM cpu",
        "SELECT mean(v), count(v) FROM cpu WHERE time < '2016-01-02' GROUP BY time(10m), host",
        "SELECT last(v) FROM cpu GROUP BY host",
        "SHOW SERIES",
    ]
    with run_edge(tmp_path / "data") as edge:
        write(edge, "old", "\n".join(lines))
        flush(edge)
        write(edge, "old", "cpu,host=h1 v=99.5 1451606701\ncpu,host=h9 v=1.5 1451606702")
        flush(edge)
        before = [_influxql(edge, "old", q) for q in statements]
        assert "99.5" in json.dumps(before[0])
        objects = edge.data_dir / "objects"
        # the join may start after the first flush already; the last one holds every row
        # (27 and one new, the rewritten point merged)
        deadline = time.monotonic() + 60
        while "files of old.cpu (28 rows) into one" not in edge.log():
            assert time.monotonic() < deadline, edge.log()[-3000:]
            time.sleep(0.2)
        assert [_influxql(edge, "old", q) for q in statements] == before
        edge.kill("persister")
        edge.wait_healthy()
        assert [_influxql(edge, "old", q) for q in statements] == before
        # the replaced files, kept a while for queries under way, went when it started again
        assert len(list(objects.rglob("*.parquet"))) == 1
