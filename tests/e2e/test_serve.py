"""``influxdb3 serve``: defaults, environment, restarts, clean stop."""

from __future__ import annotations

import os
import signal
import time
from pathlib import Path

import httpx

from bench.edge import run_edge, start_edge
from bench.influxd import free_port
from edge_common.wire import Endpoints


def test_children_are_named_processes_and_restarted(tmp_path: Path) -> None:
    with run_edge(tmp_path / "data", "--ingest-workers", "2", "--query-workers", "1") as edge:
        kids = edge.children()
        assert set(kids) == {"persister", "ingest-0", "ingest-1", "query-0", "gateway"}
        old = edge.kill("query-0")
        deadline = time.monotonic() + 20
        while edge.children().get("query-0") in (None, old):
            assert time.monotonic() < deadline
            time.sleep(0.1)
        edge.wait_healthy()
        r = httpx.get(f"{edge.url}/api/v3/query_sql", params={"db": "x", "q": "SELECT 1"})
        assert r.status_code == 404
        assert "starting it again" in edge.log()


def test_environment_variables_including_legacy_names(tmp_path: Path) -> None:
    port = free_port()
    env = {
        "INFLUXDB3_HTTP_BIND_ADDR": f"127.0.0.1:{port}",
        "INFLUXDB_IOX_DB_DIR": str(tmp_path / "legacy"),
        "INFLUXDB3_QUERY_WORKERS": "1",
    }
    edge = start_edge(tmp_path / "ignored", env=env, port=port)
    try:
        assert (
            httpx.post(
                f"{edge.url}/api/v3/write_lp", params={"db": "e"}, content="m a=1"
            ).status_code
            == 204
        )
        # the --data-dir flag given by the launcher wins over the environment
        assert (tmp_path / "ignored" / "wal").is_dir()
        assert set(edge.children()) >= {"query-0"} and "query-1" not in edge.children()
    finally:
        assert edge.stop() == 0


def test_startup_line_and_clean_stop_keeps_data(tmp_path: Path) -> None:
    edge = start_edge(tmp_path / "data")
    assert "listening on http://127.0.0.1:" in edge.log()
    assert str((tmp_path / "data").resolve()) in edge.log()
    body = "\n".join(f"s,k=v n={i}i {i}" for i in range(1000))
    assert (
        httpx.post(
            f"{edge.url}/api/v3/write_lp", params={"db": "s", "precision": "s"}, content=body
        ).status_code
        == 204
    )
    pids = edge.children()
    run_dir = Endpoints.for_data_dir(tmp_path / "data").run_dir
    assert run_dir.is_dir()
    assert edge.stop() == 0
    for pid in pids.values():
        assert not Path(f"/proc/{pid}").exists() or _is_zombie(pid)
    assert not run_dir.exists()  # (its sockets go with it: under /tmp for a long data dir)
    edge = start_edge(tmp_path / "data")
    try:
        r = httpx.get(
            f"{edge.url}/api/v3/query_sql", params={"db": "s", "q": "SELECT count(*) AS c FROM s"}
        )
        assert r.json() == [{"c": 1000}]
    finally:
        edge.stop()


def test_sigint_stops_like_sigterm(tmp_path: Path) -> None:
    edge = start_edge(tmp_path / "data", "--query-workers", "1", "--ingest-workers", "1")
    try:
        os.kill(edge.proc.pid, signal.SIGINT)
        assert edge.proc.wait(timeout=60) == 0
    finally:
        edge.stop()


def test_sigterm_stops_it_even_when_its_parent_blocked_it(tmp_path: Path) -> None:
    """A parent that blocked SIGTERM and SIGINT (a script waiting for them with sigwait)
    hands its signal mask down: serve takes them back, or only SIGKILL would stop it."""
    old = signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGTERM, signal.SIGINT})
    try:
        edge = start_edge(tmp_path / "data", "--query-workers", "1", "--ingest-workers", "1")
    finally:
        signal.pthread_sigmask(signal.SIG_SETMASK, old)
    try:
        os.kill(edge.proc.pid, signal.SIGTERM)
        assert edge.proc.wait(timeout=60) == 0
    finally:
        edge.stop()


def _is_zombie(pid: int) -> bool:
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0] == "Z"
    except OSError:
        return True
