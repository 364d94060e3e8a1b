"""The gateway answers small InfluxQL SELECTs itself (edge_gateway.inline): with its query
worker stopped (SIGSTOP) it still answers them, from the buffer and from Parquet, with the
answers the worker gave; a catalog changed meanwhile is taken in the background; whatever
is over the budget or needs SQL, or comes while another request is in hand, still waits
for a worker."""

from __future__ import annotations

import json
import os
import signal
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx
import pytest

from bench.edge import EdgeServer, start_edge
from edge_common.picks import Pick
from edge_common.settings import Settings
from edge_gateway.inline import _Reader
from edge_query.budget import OverBudget, budget
from edge_query.planner import TableNeed
from edge_query.worker import QueryWorker

LINES = "\n".join(
    f"cpu,host=h{i % 4} usage={i * 1.5},n={i}i {1_700_000_000 + i}" for i in range(1000)
)
SMALL = [  # each reads (and fills) at most 300 rows
    "SELECT max(usage) FROM cpu WHERE host = 'h1' AND time >= 1700000000s "
    "AND time < 1700000400s GROUP BY time(1m)",
    "SELECT count(n), mean(usage) FROM cpu WHERE host = 'h2'",
    "SELECT * FROM cpu WHERE host = 'h3' AND time >= 1700000900s",
    "SELECT last(usage) FROM cpu WHERE host =~ /^(h0|h1)$/ AND time > 1700000800s GROUP BY host",
    "SHOW TAG VALUES FROM cpu WITH KEY = host",  # (a dashboard's variable)
    "SHOW MEASUREMENTS",
    "SELECT last(usage) FROM cpu GROUP BY host",  # (picks kept: the buffer's, a file's)
]
LARGE = [
    "SELECT count(n) FROM cpu",  # 1,000 rows read
    "SELECT mean(usage) FROM cpu WHERE host = 'h0' AND time >= 1700000000s "
    "AND time < 1700001000s GROUP BY time(1s)",  # 1,000 intervals
    "SELECT distinct(n) FROM cpu WHERE host = 'h1'",  # SQL's
    "SHOW SERIES CARDINALITY FROM cpu",  # (not a SHOW the gateway answers)
    # picks made afresh of every series' rows in a time range: 900 rows
    "SELECT last(usage) FROM cpu WHERE time > 1700000100s GROUP BY host",
]


def _ask(c: httpx.Client, q: str, timeout: float = 30) -> httpx.Response:
    return c.get("/query", params={"db": "inl", "q": q}, timeout=timeout)


def _in_gateway(c: httpx.Client) -> int:
    values: dict[str, Any] = c.get("/debug/vars").json()["queryExecutor"]["values"]
    return int(values["queriesInGateway"])


@contextmanager
def _stopped(edge: EdgeServer) -> Iterator[None]:
    pid = edge.children()["query-0"]
    os.kill(pid, signal.SIGSTOP)
    try:
        yield
    finally:
        os.kill(pid, signal.SIGCONT)


def test_the_gateway_answers_small_selects_itself(tmp_path: Path) -> None:
    edge = start_edge(
        tmp_path / "data",
        "--query-workers",
        "1",
        "--gateway-query-rows",
        "300",
        "--request-timeout-ms",
        "1500",
    )
    try:
        with httpx.Client(base_url=edge.url, timeout=30) as c:
            c.post("/query", data={"q": "CREATE DATABASE inl"})
            r = c.post("/write", params={"db": "inl", "precision": "s"}, content=LINES)
            assert r.status_code == 204, r.text
            answers = {q: _ask(c, q).json() for q in SMALL + LARGE}
            errors = [q for q, a in answers.items() if "error" in a["results"][0]]
            assert errors == [] and all("series" in a["results"][0] for a in answers.values())
            counted = _in_gateway(c)
            with _stopped(edge):
                for q in SMALL:
                    r = _ask(c, q)
                    assert r.status_code == 200 and r.json() == answers[q], q
                for q in LARGE:  # a worker's: it does not answer while stopped
                    assert _ask(c, q).status_code == 503, q
                # with another request in hand, a small one goes to a worker too (the
                # gateway's loop stays free for writes)
                waiting = threading.Thread(target=_ask, args=(c, LARGE[0]))
                waiting.start()
                time.sleep(0.3)
                with httpx.Client(base_url=edge.url) as other:
                    assert _ask(other, SMALL[0]).status_code == 503
                waiting.join()
                assert _ask(c, SMALL[0]).json() == answers[SMALL[0]]
                # a new table: the gateway's catalog is behind; taken in the background
                r = c.post("/write", params={"db": "inl", "precision": "s"}, content="mem v=7i 5")
                assert r.status_code == 204, r.text
                got = None
                for _ in range(3):
                    r = _ask(c, "SELECT v FROM mem", timeout=5)
                    if r.status_code == 200:
                        got = r.json()
                        break
                assert got is not None
                assert got["results"][0]["series"][0]["values"] == [["1970-01-01T00:00:05Z", 7]]
                shown = _ask(c, "SHOW MEASUREMENTS").json()
                assert shown["results"][0]["series"][0]["values"] == [["cpu"], ["mem"]]
                answers["SHOW MEASUREMENTS"] = shown
            assert _in_gateway(c) >= counted + len(SMALL) + 1
            # persisted: the first asks leave the files' columns to be read in the background
            assert c.post("/api/v3/flush", timeout=60).status_code == 200
            for q in SMALL:
                deadline = time.monotonic() + 30
                while True:
                    before = _in_gateway(c)
                    assert _ask(c, q).json() == answers[q], q
                    if _in_gateway(c) > before or time.monotonic() > deadline:
                        break
                    time.sleep(0.1)
            with _stopped(edge):
                for q in SMALL:
                    r = _ask(c, q)
                    assert r.status_code == 200 and r.json() == answers[q], q
                # picks of every series' rows in a time range within a file: a worker's
                q = "SELECT last(n) FROM cpu WHERE time > 1700000100s GROUP BY host"
                assert _ask(c, q).status_code == 503
            for q in LARGE:  # (the worker again)
                assert _ask(c, q).json() == answers[q], q
    finally:
        edge.stop()


def test_a_large_buffered_chunk_is_indexed_off_the_event_loop(tmp_path: Path) -> None:
    """A chunk of 20,000 rows (one write): its index by tag, and its picks, are made by the
    gateway's reading thread while a worker answers; then the gateway answers, the worker
    stopped. Picks made afresh of a time range's rows spend them first; each series
    answered spends as 16 rows."""
    edge = start_edge(tmp_path / "data", "--query-workers", "1")
    try:
        with httpx.Client(base_url=edge.url, timeout=30) as c:
            c.post("/query", data={"q": "CREATE DATABASE inl"})
            body = "\n".join(f"big,k=k{i % 100} v={i}i {1_700_000_000 + i}" for i in range(20_000))
            r = c.post("/write", params={"db": "inl", "precision": "s"}, content=body)
            assert r.status_code == 204, r.text
            q = "SELECT max(v), count(v) FROM big WHERE k = 'k7' AND time < 1700001000s"
            want = [["1970-01-01T00:00:00Z", 907, 10]]
            deadline = time.monotonic() + 30
            while True:
                before = _in_gateway(c)
                assert _ask(c, q).json()["results"][0]["series"][0]["values"] == want
                if _in_gateway(c) > before or time.monotonic() > deadline:
                    break
                time.sleep(0.1)
            with _stopped(edge):
                r = _ask(c, q, timeout=10)
                assert r.status_code == 200
                assert r.json()["results"][0]["series"][0]["values"] == want
        # the same in this process, step by step: the first fetch leaves the index to the
        # reading thread and goes elsewhere; once made, the rows are read here
        warming: list[Callable[[], Any]] = []
        reader = _Reader(Settings(data_dir=edge.data_dir), lambda key, read: warming.append(read))
        reply, _ = QueryWorker._ask(reader, reader.persister, reader.catalog_request(), (), 10, "")
        reader.take_catalog(reply)
        need = TableNeed("big", {"time", "v"}, None, 1_700_001_000 * 10**9, {"k": {"k7"}})
        assert _rows_made_elsewhere(reader, warming, need) == 10  # (k7 before the bound)
        # a chunk's picks (the last v of each k): made by the reading thread too
        last = Pick("last", ("v",))
        need = TableNeed("big", {"time", "v", "k"}, None, None, {}, pick=last)
        assert _rows_made_elsewhere(reader, warming, need) == 100
        # picks in a time range are made afresh of its rows: spent first (19,900 rows), then
        # the 100 picked
        need = TableNeed("big", {"time", "v", "k"}, 1_700_000_100 * 10**9, None, {}, pick=last)
        with budget(19_899), pytest.raises(OverBudget) as why:
            reader._fetch("inl", [need.to_wire()])
        assert why.value.lasting and not warming
        with budget(20_000):
            reader._rows("inl", need)
        # a series answered costs as much as 16 rows: 100 series and their 100 rows
        header = {"op": "influxql", "db": "inl", "admin": True, "format": "v1json"}
        header["q"] = "SELECT last(v) FROM big GROUP BY k"
        with budget(1_699), pytest.raises(OverBudget):
            reader._influxql(header)
        with budget(1_700):
            chunks, _, _ = reader._influxql(header)
        assert len(json.loads(b"".join(chunks))["results"][0]["series"]) == 100
        # the panel's question answered from the points (influxql.lean), by a reader whose
        # chunks are not indexed yet: the index is made elsewhere first, as for any fetch
        warming.clear()
        fresh = _Reader(Settings(data_dir=edge.data_dir), lambda key, read: warming.append(read))
        reply, _ = QueryWorker._ask(fresh, fresh.persister, fresh.catalog_request(), (), 10, "")
        fresh.take_catalog(reply)
        header["q"] = (
            "SELECT max(v) FROM big WHERE k = 'k7' AND time >= 1700000000s AND "
            "time < 1700001000s GROUP BY time(500s)"
        )
        with budget(10_000), pytest.raises(OverBudget) as why:
            fresh._influxql(header)
        assert not why.value.lasting and len(warming) == 1
        warming.pop()()
        with budget(10_000):
            chunks, _, _ = fresh._influxql(header)
        (series,) = json.loads(b"".join(chunks))["results"][0]["series"]
        assert series["values"] == [["2023-11-14T22:13:20Z", 407], ["2023-11-14T22:21:40Z", 907]]
    finally:
        edge.stop()


def _rows_made_elsewhere(reader: _Reader, warming: list[Callable[[], Any]], need: TableNeed) -> int:
    """The first fetch of ``need`` leaves what it lacks to the reading thread (here one
    warm-up, run on a thread of the test's) and goes elsewhere; once made, the rows are read
    here: how many."""
    with pytest.raises(OverBudget) as why:
        reader._fetch("inl", [need.to_wire()])
    assert not why.value.lasting and len(warming) == 1
    threading.Thread(target=warming.pop()).start()
    deadline = time.monotonic() + 10
    while True:
        try:
            _, parts = reader._fetch("inl", [need.to_wire()])
            break
        except OverBudget:
            assert time.monotonic() < deadline
            time.sleep(0.05)
    warming.clear()  # (asked again while made: the gateway's own warm makes each once)
    return sum(p.num_rows for p in parts if p is not None)
