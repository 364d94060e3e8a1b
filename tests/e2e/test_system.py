"""``/ping`` and ``/health``."""

from __future__ import annotations

import os
import signal
import time

import httpx

from bench.edge import EdgeServer


def test_ping_answers_204_with_version_headers(http: httpx.Client) -> None:
    for method in ("GET", "HEAD"):
        r = http.request(method, "/ping")
        assert r.status_code == 204
        assert r.headers["X-Influxdb-Version"]
        assert r.headers["X-Influxdb-Build"]


def test_health_names_a_process_that_does_not_answer(edge: EdgeServer, http: httpx.Client) -> None:
    assert http.get("/health").json()["status"] == "pass"
    pid = edge.children()["query-1"]
    os.kill(pid, signal.SIGSTOP)
    try:
        r = http.get("/health")
        assert r.status_code == 503
        assert r.json()["missing"] == ["query-1"]
    finally:
        os.kill(pid, signal.SIGCONT)
    deadline = time.monotonic() + 10
    while http.get("/health").status_code != 200:
        assert time.monotonic() < deadline
        time.sleep(0.1)
