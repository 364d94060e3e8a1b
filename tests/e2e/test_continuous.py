"""Continuous queries run by the real process group: the gateway's continuous querier asks
a query worker to run each one's SELECT … INTO over the window influxd would, and the
definitions survive kill -9 of the group. (What CREATE / SHOW / DROP answer:
tests/compat/test_influxql.py::test_continuous_queries_like_influxd.)"""

from __future__ import annotations

import os
import signal
import time
from pathlib import Path
from typing import Any

from bench.edge import EdgeServer, start_edge
from edge_gateway.continuous import window
from tests.http import http

_S = 1_000_000_000


def _query(edge: EdgeServer, text: str) -> dict[str, Any]:
    r = http.post(f"{edge.url}/query", data={"db": "cq", "q": text, "epoch": "ns"}, timeout=60)
    assert r.status_code == 200, r.text
    doc: dict[str, Any] = r.json()
    assert "error" not in doc["results"][0], doc
    return doc


def _rows(edge: EdgeServer, text: str) -> list[list[Any]]:
    series = _query(edge, text)["results"][0].get("series", [])
    return [row for s in series for row in s["values"]]


def _write_for(edge: EdgeServer, seconds: float) -> dict[int, int]:
    """Points every 50 ms for ``seconds``; how many fell in each whole second."""
    per_second: dict[int, int] = {}
    until = time.monotonic() + seconds
    while time.monotonic() < until:
        now = time.time_ns()
        r = http.post(f"{edge.url}/write", params={"db": "cq"}, content=f"m,h=a v=1 {now}")
        assert r.status_code == 204, r.text
        per_second[now // _S] = per_second.get(now // _S, 0) + 1
        time.sleep(0.05)
    return per_second


def test_continuous_queries_run_each_interval_and_survive_kill_9(tmp_path: Path) -> None:
    edge = start_edge(tmp_path / "data")
    try:
        _query(edge, "CREATE DATABASE cq")
        _query(
            edge,
            # each second counted again twice after (RESAMPLE FOR 3s): a point written at
            # the end of a second may be acknowledged after the first run over it (as in
            # influxd, which is what RESAMPLE FOR is for)
            "CREATE CONTINUOUS QUERY per_second ON cq RESAMPLE EVERY 1s FOR 3s BEGIN "
            "SELECT count(v) AS n INTO counts FROM m GROUP BY time(1s) END",
        )
        written = _write_for(edge, 4.0)
        time.sleep(3.5)  # the last second's runs
        got = {int(t) // _S: n for t, n in _rows(edge, "SELECT n FROM counts ORDER BY time")}
        whole = sorted(written)[1:-1]  # (the first and last seconds were cut by the loop)
        assert whole and all(got.get(s) == written[s] for s in whole), (got, written)
        for pid in [edge.proc.pid, *edge.children().values()]:
            os.kill(pid, signal.SIGKILL)
        edge.proc.wait()
        edge = start_edge(tmp_path / "data")
        listed = _rows(edge, "SHOW CONTINUOUS QUERIES")
        assert [name for name, _ in listed] == ["per_second"]
        written = _write_for(edge, 3.0)
        time.sleep(3.5)
        got = {int(t) // _S: n for t, n in _rows(edge, "SELECT n FROM counts ORDER BY time")}
        whole = sorted(written)[1:-1]
        assert whole and all(got.get(s) == written[s] for s in whole), (got, written)
        _query(edge, "DROP CONTINUOUS QUERY per_second ON cq")
        time.sleep(1.5)  # a run under way ends
        before = len(_rows(edge, "SELECT n FROM counts"))
        _write_for(edge, 2.0)
        time.sleep(2.5)
        assert len(_rows(edge, "SELECT n FROM counts")) == before  # no longer run
    finally:
        edge.stop()


def test_windows_are_influxds() -> None:
    """The window of a run, by influxd's continuous querier's formula."""
    hour, minute = 3600 * _S, 60 * _S
    now = 10 * hour + 7 * minute  # 10:07
    plain = {"interval": hour, "offset": 0, "every": 0, "for": 0}
    assert window(plain, now) == (10 * hour, 9 * hour, 10 * hour)  # the hour just over
    offset = {**plain, "offset": 15 * minute}
    assert window(offset, now) == (10 * hour, 8 * hour + 15 * minute, 9 * hour + 15 * minute)
    resample = {**plain, "every": 30 * minute, "for": 2 * hour}
    # every 30 minutes, the last two hours up to the hour the run is half-way into
    assert window(resample, 10 * hour + 37 * minute) == (
        10 * hour + 30 * minute,
        9 * hour,
        11 * hour,
    )
    assert window(resample, now)[1:] == (8 * hour, 10 * hour)
    longer = {**plain, "every": 2 * hour}  # FOR grows to EVERY
    assert window(longer, now) == (10 * hour, 8 * hour, 10 * hour)
