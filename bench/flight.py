"""Arrow Flight against HTTP: a 432,000-row answer fetched over Flight (``DoGet`` with the
JSON ticket influxdb3-python sends), over ``/api/v3/query_sql`` as Parquet and as JSON and,
with ``--influxd``, the same rows from influxd 1.6.7's ``/query`` (JSON, epoch=ns) in the
same run. Each figure is the time until the client holds the whole answer decoded (an Arrow
table, or parsed JSON), median of ``--repeats``.

``--writes`` also checks the cost of sharing the HTTP port with gRPC: the same TSBS write
load against a server with the shared port and one started with ``--http-only``,
alternating, ``--rounds`` times each.
"""

from __future__ import annotations

import argparse
import io
import json
import statistics
import sys
import tempfile
import time
import urllib.parse
import urllib.request
from collections.abc import Callable
from pathlib import Path

import pyarrow.flight as flight
import pyarrow.parquet as pq

from bench import tsbs
from bench.edge import run_edge
from bench.influxd import run_influxd
from bench.ingest import create_database, run_load

_SQL = "SELECT * FROM cpu"
_INFLUXQL = "SELECT * FROM cpu"


def _fetch(url: str) -> bytes:
    with urllib.request.urlopen(url, timeout=300) as resp:
        body: bytes = resp.read()
        return body


def _time(fn: Callable[[], int], repeats: int) -> tuple[float, int]:
    rows = fn()  # warm-up (and the row count)
    samples = []
    for _ in range(repeats):
        t = time.perf_counter()
        fn()
        samples.append(time.perf_counter() - t)
    return statistics.median(samples), rows


def _load(base: str, work: list[tuple[bytes, int]], connections: int) -> float:
    q = urllib.parse.urlencode({"bucket": "bench", "precision": "ns"})
    result = run_load("edge", f"{base}/api/v2/write?{q}", work, connections, 300.0)
    if result.errors:
        raise RuntimeError(f"{result.errors} write batches failed")
    return result.points_per_s


def read_paths(base: str, repeats: int) -> list[tuple[str, float, int]]:
    port = base.rsplit(":", 1)[1]
    client = flight.FlightClient(f"grpc+tcp://127.0.0.1:{port}")
    ticket = flight.Ticket(
        json.dumps({"database": "bench", "sql_query": _SQL, "query_type": "sql"}).encode()
    )

    def via_flight() -> int:
        return int(client.do_get(ticket).read_all().num_rows)

    def via(fmt: str) -> Callable[[], int]:
        url = f"{base}/api/v3/query_sql?" + urllib.parse.urlencode(
            {"db": "bench", "q": _SQL, "format": fmt}
        )

        def run() -> int:
            body = _fetch(url)
            if fmt == "parquet":
                return int(pq.read_table(io.BytesIO(body)).num_rows)
            return len(json.loads(body))

        return run

    out = []
    for name, fn in (
        ("Flight DoGet (Arrow)", via_flight),
        ("query_sql format=parquet", via("parquet")),
        ("query_sql format=json", via("json")),
    ):
        seconds, rows = _time(fn, repeats)
        out.append((name, seconds, rows))
    client.close()
    return out


def influxd_path(url: str, repeats: int) -> tuple[str, float, int]:
    q = urllib.parse.urlencode({"db": "bench", "q": _INFLUXQL, "epoch": "ns"})

    def run() -> int:
        doc = json.loads(_fetch(f"{url}/query?{q}"))
        return sum(len(s["values"]) for s in doc["results"][0].get("series", []))

    seconds, rows = _time(run, repeats)
    return "influxd 1.6.7 /query (JSON)", seconds, rows


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    p.add_argument("--hosts", type=int, default=100)
    p.add_argument("--hours", type=float, default=12.0)
    p.add_argument("--repeats", type=int, default=5)
    p.add_argument("--connections", type=int, default=4)
    p.add_argument("--influxd", action="store_true", help="also read the rows from influxd")
    p.add_argument("--writes", action="store_true", help="shared port vs --http-only writes")
    p.add_argument("--rounds", type=int, default=3, help="write rounds per server (--writes)")
    a = p.parse_args(argv)
    log = sys.stderr
    bodies = tsbs.batches(5000, hosts=a.hosts, hours=a.hours)
    work = [(b, b.count(b"\n") + 1) for b in bodies]
    print(f"generated {sum(n for _, n in work)} points", file=log)

    rows: list[tuple[str, float, int]] = []
    with tempfile.TemporaryDirectory(prefix="bench-flight-") as d:
        if a.influxd:
            with run_influxd(Path(d) / "influxd") as url:
                create_database(url, "bench")
                run_load("influxd", f"{url}/write?db=bench&precision=ns", work, 4, 300.0)
                rows.append(influxd_path(url, a.repeats))
        with run_edge(Path(d) / "edge") as edge:
            _load(edge.url, work, a.connections)
            rows += read_paths(edge.url, a.repeats)
        print(f"{'path':<30} {'rows':>8} {'median s':>9} {'rows/s':>12}")
        for name, seconds, n in rows:
            print(f"{name:<30} {n:>8} {seconds:>9.3f} {n / seconds:>12,.0f}")

        if a.writes:
            shared: list[float] = []
            plain: list[float] = []
            for i in range(a.rounds):
                for args, into in (((), shared), (("--http-only",), plain)):
                    with run_edge(Path(d) / f"w{i}{len(args)}", *args) as edge:
                        into.append(_load(edge.url, work, a.connections))
            s, h = statistics.median(shared), statistics.median(plain)
            print(f"writes, shared HTTP+gRPC port: {' / '.join(f'{x:,.0f}' for x in shared)}")
            print(f"writes, --http-only port:      {' / '.join(f'{x:,.0f}' for x in plain)}")
            print(f"shared / http-only (medians): {s / h:.3f} ({(s / h - 1) * 100:+.1f} %)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
