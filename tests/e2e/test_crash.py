"""Nothing acknowledged is ever lost: kill -9 of ingest workers, the persister and the whole
group while clients write, then check that every acknowledged point is there exactly once."""

from __future__ import annotations

import os
import random
import signal
import threading
import time
from pathlib import Path
from typing import Any

import httpx

from bench.edge import EdgeServer, start_edge

WRITERS = 3
LINES = 40


class Load:
    def __init__(self, url: str) -> None:
        self.url = url
        self.acked: set[tuple[int, int]] = set()
        self.failed = 0
        self.stop = threading.Event()
        self.lock = threading.Lock()
        self.threads = [threading.Thread(target=self._run, args=(w,)) for w in range(WRITERS)]

    def _run(self, w: int) -> None:
        seq = 0
        with httpx.Client(base_url=self.url, timeout=30) as client:
            while not self.stop.is_set():
                body = "\n".join(f"crash,w={w} seq={seq + j}i {seq + j}" for j in range(LINES))
                try:
                    r = client.post(
                        "/api/v3/write_lp", params={"db": "crash", "precision": "s"}, content=body
                    )
                except httpx.HTTPError:
                    r = None
                if r is not None and r.status_code == 204:
                    with self.lock:
                        self.acked.update((w, seq + j) for j in range(LINES))
                else:
                    self.failed += 1
                seq += LINES

    def __enter__(self) -> Load:
        for t in self.threads:
            t.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop.set()
        for t in self.threads:
            t.join(timeout=60)


def stored(edge: EdgeServer) -> list[tuple[int, int]]:
    r = httpx.get(
        f"{edge.url}/api/v3/query_sql",
        timeout=60,
        params={"db": "crash", "q": "SELECT w, seq FROM crash", "format": "jsonl"},
    )
    assert r.status_code == 200, r.text
    import json

    return [(int(d["w"]), int(d["seq"])) for d in map(json.loads, r.text.splitlines())]


def wait_replaced(edge: EdgeServer, name: str, old_pid: int) -> None:
    deadline = time.monotonic() + 30
    while edge.children().get(name) in (None, old_pid):
        assert time.monotonic() < deadline, edge.log()[-3000:]
        time.sleep(0.05)


def kill_group(edge: EdgeServer) -> None:
    for pid in [edge.proc.pid, *edge.children().values()]:
        os.kill(pid, signal.SIGKILL)
    edge.proc.wait()


def check(edge: EdgeServer, load: Load) -> None:
    rows = stored(edge)
    missing = load.acked - set(rows)
    assert not missing, f"{len(missing)} acknowledged points lost"
    assert len(rows) == len(set(rows)), "a point is stored twice"


def test_kill_9_of_any_process_at_any_moment_loses_no_acknowledged_write(tmp_path: Path) -> None:
    """Five kills of each process kind and five of the whole group, at random moments, while
    snapshots to Parquet run often (a 1 MiB buffer limit): every acknowledged point stays."""
    rnd = random.Random(7)
    args = ("--request-timeout-ms", "4000", "--buffer-mem-limit-mb", "1")
    edge = start_edge(tmp_path / "data", *args)
    try:
        with Load(edge.url) as load:
            victims = ["persister", "ingest-0", "ingest-1", "query-0"] * 5
            rnd.shuffle(victims)
            for victim in victims:
                time.sleep(rnd.uniform(0.1, 0.6))
                old = edge.kill(victim)
                wait_replaced(edge, victim, old)
            for _ in range(5):
                time.sleep(rnd.uniform(0.2, 0.8))
                kill_group(edge)
                edge = start_edge(tmp_path / "data", *args, port=int(edge.url.rsplit(":", 1)[1]))
            time.sleep(0.5)
        edge.wait_healthy()
        assert len(load.acked) > 1000
        assert list((tmp_path / "data" / "objects").rglob("*.parquet")), "no snapshot ran"
        check(edge, load)
        kill_group(edge)
        edge = start_edge(tmp_path / "data")
        check(edge, load)
    finally:
        edge.stop()


def test_write_in_flight_on_a_killed_worker_gets_503_at_once(tmp_path: Path) -> None:
    edge = start_edge(tmp_path / "data", "--ingest-workers", "1", "--query-workers", "1")
    try:
        pid = edge.children()["ingest-0"]
        os.kill(pid, signal.SIGSTOP)  # the request will sit in its socket, unanswered
        result: list[httpx.Response] = []
        t = threading.Thread(
            target=lambda: result.append(
                httpx.post(
                    f"{edge.url}/api/v3/write_lp", params={"db": "x"}, content="m a=1", timeout=60
                )
            )
        )
        started = time.monotonic()
        t.start()
        time.sleep(0.5)
        os.kill(pid, signal.SIGKILL)
        t.join(timeout=20)
        assert result and result[0].status_code == 503, result
        assert "not acknowledged" in result[0].json()["error"]
        assert time.monotonic() - started < 10  # not the 30 s request timeout
        wait_replaced(edge, "ingest-0", pid)
        edge.wait_healthy()
        assert (
            httpx.post(
                f"{edge.url}/api/v3/write_lp", params={"db": "x"}, content="m a=1"
            ).status_code
            == 204
        )
    finally:
        edge.stop()


def test_record_numbers_never_go_back_after_persisted_segments_are_deleted(tmp_path: Path) -> None:
    """A worker whose only WAL segment is empty (the older ones deleted once persisted) must
    not number its records from 1 again: a later replay would take them for persisted."""
    args = ("--ingest-workers", "1", "--query-workers", "1")
    edge = start_edge(tmp_path / "data", *args)
    try:

        def write(i: int) -> None:
            r = httpx.post(
                f"{edge.url}/api/v3/write_lp",
                params={"db": "seq", "precision": "s"},
                content=f"s v={i}i {i}",
            )
            assert r.status_code == 204, r.text

        for i in range(5):
            write(i)
        wait_replaced(edge, "ingest-0", edge.kill("ingest-0"))  # a new, empty segment
        edge.wait_healthy()
        assert httpx.post(f"{edge.url}/api/v3/flush", timeout=60).status_code == 200
        wal = tmp_path / "data" / "wal" / "ingest-0"
        assert len(list(wal.glob("*.wal"))) == 1  # the persisted one is gone
        wait_replaced(edge, "ingest-0", edge.kill("ingest-0"))
        edge.wait_healthy()
        write(100)
        kill_group(edge)
        edge = start_edge(tmp_path / "data", *args)
        r = httpx.get(
            f"{edge.url}/api/v3/query_sql", params={"db": "seq", "q": "SELECT v FROM s ORDER BY v"}
        )
        assert [row["v"] for row in r.json()] == [0, 1, 2, 3, 4, 100]
    finally:
        edge.stop()


def test_dropped_data_stays_dropped_after_a_crash(tmp_path: Path) -> None:
    args = ("--query-workers", "1")
    edge = start_edge(tmp_path / "data", *args)
    try:

        def q(text: str, db: str = "dr") -> dict[str, object]:
            r = httpx.post(f"{edge.url}/query", data={"db": db, "q": text}, timeout=60)
            assert r.status_code == 200, r.text
            doc: dict[str, object] = r.json()
            return doc

        def write(body: str, db: str = "dr") -> None:
            r = httpx.post(f"{edge.url}/write", params={"db": db, "precision": "s"}, content=body)
            assert r.status_code == 204, r.text

        write("a v=1 1\nb v=1 1")
        assert httpx.post(f"{edge.url}/api/v3/flush", timeout=60).status_code == 200
        write("b v=2 2")  # only in the WAL and the buffer
        write("c v=1 1", db="gone")
        q("DROP MEASUREMENT b")
        q("DROP DATABASE gone", db="")
        write("b v=3 3")  # b again, after the drop
        kill_group(edge)
        edge = start_edge(tmp_path / "data", *args)
        assert q("SELECT v FROM b") == {
            "results": [
                {
                    "statement_id": 0,
                    "series": [
                        {
                            "name": "b",
                            "columns": ["time", "v"],
                            "values": [["1970-01-01T00:00:03Z", 3]],
                        }
                    ],
                }
            ]
        }
        assert q("SELECT count(v) FROM a")["results"] == [
            {
                "statement_id": 0,
                "series": [
                    {
                        "name": "a",
                        "columns": ["time", "count"],
                        "values": [["1970-01-01T00:00:00Z", 1]],
                    }
                ],
            }
        ]
        names = q("SHOW DATABASES", db="")["results"]
        assert "gone" not in str(names)
    finally:
        edge.stop()


def test_deleted_rows_stay_deleted_after_a_crash(tmp_path: Path) -> None:
    """DELETE and DROP SERIES rewrite Parquet files; after kill -9 of the whole group the
    deleted rows stay gone, every other acknowledged row (before and after) is there."""
    args = ("--query-workers", "1")
    edge = start_edge(tmp_path / "data", *args)
    try:

        def q(text: str) -> dict[str, Any]:
            r = httpx.post(f"{edge.url}/query", data={"db": "del", "q": text}, timeout=60)
            assert r.status_code == 200, r.text
            doc: dict[str, Any] = r.json()
            return doc

        def write(body: str) -> None:
            r = httpx.post(
                f"{edge.url}/write", params={"db": "del", "precision": "s"}, content=body
            )
            assert r.status_code == 204, r.text

        write("\n".join(f"a,host={h} v={i} {i}" for h in "xyz" for i in range(1, 6)))
        assert httpx.post(f"{edge.url}/api/v3/flush", timeout=60).status_code == 200
        write("a,host=x v=6 6\na,host=y v=6 6")  # only in the WAL and the buffer
        assert "error" not in str(q("DELETE FROM a WHERE host = 'x' AND time <= 5s"))
        assert "error" not in str(q("DROP SERIES FROM a WHERE host = 'z'"))
        write("a,host=x v=7 7\nc v=1 1")  # after the deletions
        before = q("SELECT v FROM a GROUP BY host")
        kill_group(edge)
        edge = start_edge(tmp_path / "data", *args)
        after = q("SELECT v FROM a GROUP BY host")
        assert after == before
        series = {
            s["tags"]["host"]: [v[1] for v in s["values"]] for s in after["results"][0]["series"]
        }
        assert series == {"x": [6, 7], "y": [1, 2, 3, 4, 5, 6]}
        assert q("SELECT count(v) FROM c")["results"][0]["series"][0]["values"][0][1] == 1
    finally:
        edge.stop()


def test_queries_while_processes_die_get_their_own_answer_or_503(tmp_path: Path) -> None:
    """Each client asks a question whose answer is its own (the count of one tag value's
    points) while the persister and the query workers are killed under it: every 200 is
    that client's answer, never another's or a stale one, every other answer is a 503, and
    all answer again once the processes are back."""
    edge = start_edge(tmp_path / "data", "--request-timeout-ms", "4000")
    lines = [f"m,k={i} v={j} {j + 1}" for i in range(8) for j in range(i + 1)]
    r = httpx.post(
        f"{edge.url}/api/v3/write_lp",
        params={"db": "q", "precision": "s"},
        content="\n".join(lines),
    )
    assert r.status_code == 204, r.text
    wrong: list[str] = []
    answered: list[int] = []
    stop = threading.Event()

    def ask(k: int) -> None:
        sql = k % 2 == 0
        with httpx.Client(base_url=edge.url, timeout=30) as client:
            while not stop.is_set():
                if sql:
                    q = f"SELECT count(*) AS n FROM m WHERE k = '{k}'"
                    r = client.get("/api/v3/query_sql", params={"db": "q", "q": q})
                    got = r.json()[0]["n"] if r.status_code == 200 else None
                else:
                    q = f"SELECT count(v) FROM m WHERE k = '{k}'"
                    r = client.get("/query", params={"db": "q", "q": q})
                    result = r.json()["results"][0] if r.status_code == 200 else {}
                    got = result["series"][0]["values"][0][1] if "series" in result else result
                answered.append(r.status_code)
                if r.status_code == 200 and got != k + 1:
                    wrong.append(f"{q}: {got}")
                elif r.status_code not in (200, 503):
                    wrong.append(f"{q}: {r.status_code} {r.text}")

    askers = [threading.Thread(target=ask, args=(k,)) for k in range(8)]
    try:
        for t in askers:
            t.start()
        for victim in ["persister", "query-0", "query-1", "persister", "query-0", "persister"]:
            time.sleep(0.4)
            old = edge.kill(victim)
            wait_replaced(edge, victim, old)
        edge.wait_healthy()
        time.sleep(0.5)
        before = len(answered)
        time.sleep(1.0)
        stop.set()
        for t in askers:
            t.join(timeout=60)
        assert not wrong, wrong[:5]
        assert answered.count(200) > 100 and len(answered) > before + 8  # and still answering
        assert all(code == 200 for code in answered[before:])
    finally:
        stop.set()
        edge.stop()
