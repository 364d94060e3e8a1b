"""The group's statistics, one source in three forms: Prometheus ``/metrics``, influxd's
``/debug/vars`` and SHOW STATS, counting what was really done to a fresh server."""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from bench.edge import EdgeServer, run_edge

PROCESSES = {"gateway", "ingest-0", "ingest-1", "query-0", "query-1", "persister"}


@pytest.fixture(scope="module")
def worked(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[EdgeServer, httpx.Client]]:
    """A fresh server that took three good lines and one bad one, a query and a flush."""
    with (
        run_edge(tmp_path_factory.mktemp("stats") / "data") as edge,
        httpx.Client(base_url=edge.url, timeout=60) as http,
    ):
        body = "m,t=a v=1 1\nm,t=b v=2 2\nnot line protocol"
        assert http.post("/write", params={"db": "st"}, content=body).status_code == 400
        assert http.post("/write", params={"db": "st"}, content="m,t=a v=3 3").status_code == 204
        assert http.get("/query", params={"db": "st", "q": "SELECT * FROM m"}).status_code == 200
        assert http.get("/ping").status_code == 204
        assert http.post("/api/v3/flush").status_code in (200, 204)
        yield edge, http


def _samples(text: str) -> dict[str, float]:
    out = {}
    for line in text.splitlines():
        if line and not line.startswith("#"):
            name, value = line.rsplit(" ", 1)
            out[name] = float(value)
    return out


def test_metrics_in_prometheus_text(worked: tuple[EdgeServer, httpx.Client]) -> None:
    edge, http = worked
    r = http.get("/metrics")
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/plain")
    # every sample line is "name{labels} number", each family typed once
    for line in r.text.splitlines():
        assert re.fullmatch(r"# TYPE edge_\w+ (counter|gauge)|edge_\w+(\{[^}]*\})? [0-9.e+]+", line)
    got = _samples(r.text)
    bind = f'{{bind="{edge.url.removeprefix("http://")}"}}'
    assert got[f"edge_httpd_points_written_ok_total{bind}"] == 3
    assert got[f"edge_httpd_points_written_fail_total{bind}"] == 1
    assert got[f"edge_httpd_write_req_total{bind}"] == 2
    assert got[f"edge_httpd_query_req_total{bind}"] == 1
    assert got[f"edge_httpd_ping_req_total{bind}"] == 1
    assert got[f"edge_httpd_client_error_total{bind}"] == 1  # the write with a bad line
    assert got[f"edge_httpd_req_active{bind}"] == 1  # this one
    assert got["edge_query_executor_queries_finished_total"] == 1
    assert got["edge_persist_snapshots_total"] >= 1
    assert got["edge_persist_rows_written_total"] == 3
    assert got["edge_buffer_rows"] == 0  # all flushed
    for process in PROCESSES:
        assert got[f'edge_runtime_rss_bytes{{process="{process}"}}'] > 10_000_000


def test_debug_vars_as_telegraf_reads_them(worked: tuple[EdgeServer, httpx.Client]) -> None:
    _, http = worked
    doc = http.get("/debug/vars").json()
    modules = [v for k, v in doc.items() if k != "cmdline"]
    assert all(set(m) == {"name", "tags", "values"} for m in modules)
    names = {m["name"] for m in modules}
    assert {"httpd", "queryExecutor", "buffer", "persist", "runtime"} <= names
    runtime = {m["tags"]["process"] for m in modules if m["name"] == "runtime"}
    assert runtime == PROCESSES


def _stats(http: httpx.Client, q: str) -> list[dict[str, Any]]:
    r = http.post("/query", data={"q": q})
    assert r.status_code == 200, r.text
    series: list[dict[str, Any]] = r.json()["results"][0]["series"]
    return series


def test_show_stats_for_a_module(worked: tuple[EdgeServer, httpx.Client]) -> None:
    _, http = worked
    (httpd,) = _stats(http, "SHOW STATS FOR 'httpd'")
    row = dict(zip(httpd["columns"], httpd["values"][0], strict=True))
    assert httpd["name"] == "httpd" and row["pointsWrittenOK"] == 3
    everything = _stats(http, "SHOW STATS")
    assert {s["name"] for s in everything} == {
        "httpd",
        "queryExecutor",
        "buffer",
        "persist",
        "runtime",
    }
    assert _stats(http, "SHOW STATS FOR 'runtime'")[0]["tags"] == {"process": "gateway"}
    r = http.post("/query", data={"q": "SHOW STATS FOR 'nothing'"})
    assert r.json() == {"results": [{"statement_id": 0}]}
