"""The ``influxdb3`` client verbs against the real group."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pyarrow.parquet as pq

from bench.edge import EdgeServer
from bench.influxd import free_port


def cli(*args: str, stdin: str | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "edge_cli", *args],
        input=stdin,
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_write_file_stdin_and_argument_then_query(edge: EdgeServer, tmp_path: Path) -> None:
    lp = tmp_path / "cpu.lp"
    lp.write_text("cpu,host=a usage=1 1\ncpu,host=b usage=3 1\n")
    assert (
        cli(
            "write", "--host", edge.url, "--database", "clidb", "--precision", "s", "-f", str(lp)
        ).returncode
        == 0
    )
    assert (
        cli(
            "write",
            "--host",
            edge.url,
            "-d",
            "clidb",
            "--precision",
            "s",
            stdin="cpu,host=a usage=5 2\n",
        ).returncode
        == 0
    )
    assert (
        cli(
            "write", "--host", edge.url, "-d", "clidb", "--precision", "s", "cpu,host=c usage=7 2"
        ).returncode
        == 0
    )
    out = cli(
        "query",
        "--host",
        edge.url,
        "--database",
        "clidb",
        "--format",
        "json",
        "SELECT host, avg(usage) AS a FROM cpu GROUP BY host ORDER BY host",
    )
    assert out.returncode == 0, out.stderr
    assert json.loads(out.stdout) == [
        {"host": "a", "a": 3.0},
        {"host": "b", "a": 3.0},
        {"host": "c", "a": 7.0},
    ]
    pretty = cli("query", "--host", edge.url, "-d", "clidb", "SELECT count(*) AS n FROM cpu")
    assert "| n |" in pretty.stdout and "| 4 |" in pretty.stdout
    target = tmp_path / "out.parquet"
    assert (
        cli(
            "query",
            "--host",
            edge.url,
            "-d",
            "clidb",
            "--format",
            "parquet",
            "-o",
            str(target),
            "SELECT * FROM cpu",
        ).returncode
        == 0
    )
    assert pq.read_table(target).num_rows == 4


def test_errors_are_one_line_without_traceback(edge: EdgeServer) -> None:
    down = f"http://127.0.0.1:{free_port()}"
    r = cli("query", "--host", down, "-d", "x", "SELECT 1")
    assert r.returncode == 1
    assert "could not connect" in r.stderr and "Traceback" not in r.stderr
    r = cli("write", "--host", edge.url, "-d", "clidb", "not line protocol")
    assert r.returncode == 1
    assert "400" in r.stderr and "line 1" in r.stderr and "Traceback" not in r.stderr
    r = cli("query", "--host", edge.url, "-d", "nope", "SELECT 1")
    assert r.returncode == 1 and "404" in r.stderr


def test_host_from_environment(edge: EdgeServer) -> None:
    r = subprocess.run(
        [sys.executable, "-m", "edge_cli", "query", "-d", "clidb", "SELECT 1"],
        capture_output=True,
        text=True,
        timeout=60,
        env={"INFLUXDB3_HOST_URL": edge.url, "PATH": "/usr/bin:/bin"},
    )
    assert r.returncode == 0, r.stderr
