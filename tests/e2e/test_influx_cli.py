"""The real 1.x clients against the /query API: the Debian influx 1.6.7 CLI and the
``influxdb`` Python client."""

from __future__ import annotations

import subprocess
import time
from pathlib import Path

from influxdb import InfluxDBClient

from bench.edge import EdgeServer


def influx(
    edge: EdgeServer, *args: str, stdin: str | None = None, tty: bool = False
) -> subprocess.CompletedProcess[str]:
    port = edge.url.rsplit(":", 1)[1]
    cmd = ["influx", "-host", "127.0.0.1", "-port", port, *args]
    if tty:  # USE is a command of the interactive shell, which wants a terminal
        cmd = ["script", "-qc", " ".join(cmd), "/dev/null"]
    return subprocess.run(cmd, input=stdin, capture_output=True, text=True, timeout=60)


def test_influx_cli_show_use_select_and_import(edge: EdgeServer, tmp_path: Path) -> None:
    lp = tmp_path / "import.txt"
    lp.write_text(
        "# DDL\nCREATE DATABASE clidb1\n# DML\n# CONTEXT-DATABASE: clidb1\n"
        "cpu,host=a usage=1.5 1451606400000000000\n"
        "cpu,host=b usage=2 1451606460000000000\n"
    )
    r = influx(edge, "-import", "-path", str(lp))
    assert r.returncode == 0, r.stderr
    assert "Processed 2 inserts" in r.stdout and "Failed 0 inserts" in r.stdout
    r = influx(edge, "-execute", "SHOW DATABASES")
    assert r.returncode == 0 and "clidb1" in r.stdout
    # (the CLI asks chunked answers: a series without rows once failed the request)
    r = influx(edge, "-database", "clidb1", "-execute", "SHOW USERS; SHOW CONTINUOUS QUERIES")
    assert r.returncode == 0 and "user admin" in r.stdout.replace("  ", " "), r.stdout
    r = influx(edge, "-database", "clidb1", "-format", "csv", "-execute", "SELECT * FROM cpu")
    assert r.stdout.strip().splitlines() == [
        "name,time,host,usage",
        "cpu,1451606400000000000,a,1.5",
        "cpu,1451606460000000000,b,2",
    ]
    r = influx(edge, stdin="USE clidb1\nSELECT mean(usage) FROM cpu\nexit\n", tty=True)
    assert "Using database clidb1" in r.stdout
    assert "1.75" in r.stdout


def test_influx_import_of_an_influx_inspect_export_with_retention_policies(
    edge: EdgeServer, tmp_path: Path
) -> None:
    """A 1.x server's data moves over as ``influx_inspect export`` writes it: the DDL makes
    the database and its policies (durations as influxd prints them), each DML block names
    its policy, and the rows land in it."""
    now = time.time_ns()
    lp = tmp_path / "export.txt"
    lp.write_text(
        "# DDL\n"
        "CREATE DATABASE mig WITH NAME autogen\n"
        "CREATE RETENTION POLICY year ON mig DURATION 8736h0m0s REPLICATION 1\n"
        "\n# DML\n# CONTEXT-DATABASE:mig\n# CONTEXT-RETENTION-POLICY:autogen\n"
        "# writing tsm data\n"
        f"cpu,host=a v=1 {now - 3600 * 10**9}\n"
        "# CONTEXT-RETENTION-POLICY:year\n"
        f"cpu,host=a v=2 {now - 3600 * 10**9}\n"
        f"cpu,host=b v=3 {now - 7200 * 10**9}\n"
    )
    r = influx(edge, "-import", "-path", str(lp))
    assert r.returncode == 0, r.stderr
    assert "Processed 3 inserts" in r.stdout and "Failed 0 inserts" in r.stdout
    r = influx(edge, "-database", "mig", "-format", "csv", "-execute", "SHOW RETENTION POLICIES")
    assert r.stdout.strip().splitlines() == [
        "name,duration,shardGroupDuration,replicaN,default",
        "autogen,0s,168h0m0s,1,true",
        "year,8736h0m0s,168h0m0s,1,false",
    ]
    q = "SELECT count(v) FROM autogen.cpu; SELECT count(v) FROM year.cpu"
    r = influx(edge, "-database", "mig", "-format", "csv", "-execute", q)
    assert r.stdout.strip().splitlines() == ["name,time,count", "cpu,0,1", "cpu,0,2"]
    r = influx(edge, stdin="USE mig.year\nSELECT sum(v) FROM cpu\nexit\n", tty=True)
    assert "Using database mig" in r.stdout and "Using retention policy year" in r.stdout
    assert " 5\n" in r.stdout.replace("\r", ""), r.stdout


def test_influxdb_python_client(edge: EdgeServer) -> None:
    port = int(edge.url.rsplit(":", 1)[1])
    client = InfluxDBClient(host="127.0.0.1", port=port)
    client.create_database("pyclient")
    assert {"name": "pyclient"} in client.get_list_database()
    client.switch_database("pyclient")
    assert client.write_points(
        [
            {
                "measurement": "weather",
                "tags": {"city": c},
                "time": f"2020-01-01T0{h}:00:00Z",
                "fields": {"temp": 10.0 + h},
            }
            for c in ("oslo", "rome")
            for h in range(3)
        ]
    )
    assert client.get_list_measurements() == [{"name": "weather"}]
    rs = client.query("SELECT mean(temp) FROM weather GROUP BY city")
    assert list(rs.get_points(tags={"city": "oslo"})) == [
        {"time": "1970-01-01T00:00:00Z", "mean": 11.0}
    ]
    rs = client.query("SELECT temp FROM weather WHERE city = 'rome' ORDER BY time DESC LIMIT 1")
    assert list(rs.get_points()) == [{"time": "2020-01-01T02:00:00Z", "temp": 12.0}]
    client.close()


def test_v3_influxql_api_and_cli(edge: EdgeServer) -> None:
    import httpx

    httpx.post(
        f"{edge.url}/api/v3/write_lp",
        params={"db": "v3iql", "precision": "s"},
        content="cpu,host=a usage=1 1\ncpu,host=b usage=2.5 2",
    )
    r = httpx.get(
        f"{edge.url}/api/v3/query_influxql",
        params={"db": "v3iql", "q": "SELECT usage FROM cpu GROUP BY host"},
    )
    assert r.status_code == 200, r.text
    assert r.json() == [
        {"iox::measurement": "cpu", "host": "a", "time": "1970-01-01T00:00:01", "usage": 1.0},
        {"iox::measurement": "cpu", "host": "b", "time": "1970-01-01T00:00:02", "usage": 2.5},
    ]
    r = httpx.post(
        f"{edge.url}/api/v3/query_influxql",
        json={"db": "v3iql", "q": "SHOW MEASUREMENTS", "format": "csv"},
    )
    assert r.text.splitlines() == ['"iox::measurement","name"', '"measurements","cpu"']
    r = httpx.get(f"{edge.url}/api/v3/query_influxql", params={"db": "nodb", "q": "SHOW TAG KEYS"})
    assert r.status_code == 404
    r = httpx.get(f"{edge.url}/api/v3/query_influxql", params={"db": "v3iql", "q": "SELEC"})
    assert r.status_code == 400 and "error parsing query" in r.json()["error"]
    import sys

    out = subprocess.run(
        [
            sys.executable,
            "-m",
            "edge_cli",
            "query",
            "--host",
            edge.url,
            "-d",
            "v3iql",
            "--language",
            "influxql",
            "--format",
            "jsonl",
            "SELECT count(usage) FROM cpu",
        ],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert out.returncode == 0, out.stderr
    assert '"count":2' in out.stdout


def test_influxql_sees_tables_and_columns_written_after_create_database(edge: EdgeServer) -> None:
    import httpx

    def q(text: str) -> dict[str, object]:
        doc: dict[str, object] = httpx.get(
            f"{edge.url}/query", params={"db": "fresh", "q": text}
        ).json()
        return doc

    q("CREATE DATABASE fresh")
    for i in range(4):  # every query worker, each time with something new
        httpx.post(
            f"{edge.url}/write",
            params={"db": "fresh", "precision": "s"},
            content=f"t{i},k=v f{i}={i} {i + 1}",
        )
        for j in range(2):
            got = q(f"SELECT f{i} FROM t{i}")
            assert got == {
                "results": [
                    {
                        "statement_id": 0,
                        "series": [
                            {
                                "name": f"t{i}",
                                "columns": ["time", f"f{i}"],
                                "values": [[f"1970-01-01T00:00:0{i + 1}Z", i]],
                            }
                        ],
                    }
                ]
            }, (i, j, got)


def test_influxql_sees_fields_and_tags_written_since_its_last_query(edge: EdgeServer) -> None:
    """A query worker answers from its copy of the catalog; a write that added a field or a
    tag since must still show in the very next answer, whichever path the SELECT takes."""
    import httpx

    def series(text: str) -> list[dict[str, object]]:
        doc = httpx.get(f"{edge.url}/query", params={"db": "grow", "q": text}).json()
        return list(doc["results"][0].get("series", []))

    def write(line: str) -> None:
        r = httpx.post(f"{edge.url}/write", params={"db": "grow", "precision": "s"}, content=line)
        assert r.status_code == 204, r.text

    write("g,k=a f0=0 1")
    for i in range(1, 5):
        for _ in range(2):  # every query worker has looked at the catalog
            assert series("SELECT max(f0) FROM g")[0]["values"] == [["1970-01-01T00:00:01Z", 0]]
        write(f"g,k=a,t{i}=x{i} f{i}={i} {i + 1}")
        # an aggregate of the new field (no SQL), every field (SQL), grouped by the new tag
        assert series(f"SELECT max(f{i}) FROM g")[0]["values"] == [
            [f"1970-01-01T00:00:0{i + 1}Z", i]
        ]
        counted = series("SELECT count(*) FROM g")[0]
        assert counted["columns"] == ["time", *(f"count_f{j}" for j in range(i + 1))]
        grouped = series(f"SELECT sum(f{i}) FROM g GROUP BY t{i}")
        assert [s["tags"] for s in grouped] == [{f"t{i}": f"x{i}"}]
