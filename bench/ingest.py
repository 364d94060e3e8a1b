"""Write-throughput load client: TSBS cpu-only batches to Edge and/or influxd 1.6.7.

Bodies are generated in memory first (not timed). Each target then gets every batch over
N threads, each with its own persistent ``http.client.HTTPConnection`` (batches assigned
round-robin), until all are sent or ``--max-seconds`` elapse. Only 2xx batches count.
"""

from __future__ import annotations

import argparse
import contextlib
import http.client
import json
import os
import resource
import sys
import tempfile
import threading
import time
import urllib.request
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import TextIO
from urllib.parse import urlencode, urlsplit

from bench import tsbs
from bench.edge import run_edge
from bench.influxd import run_influxd
from bench.query import Timing, format_timings, time_queries

FIELDS_PER_POINT = len(tsbs.FIELDS)


@dataclass
class Result:
    target: str
    connections: int
    points: int
    seconds: float
    points_per_s: float
    values_per_s: float
    errors: int
    batches_ok: int
    batches_total: int
    client_cpu_s: float
    client_cpu_pct: float  # of one core, over the timed phase
    machine_cpu_pct: float  # all processes, of one core (2 cores = 200), over the timed phase


@dataclass
class _Stats:
    points: int = 0
    batches: int = 0
    errors: int = 0
    end: float = 0.0


def _cpu_seconds() -> float:
    ru = resource.getrusage(resource.RUSAGE_SELF)
    return ru.ru_utime + ru.ru_stime


def _machine_busy_seconds() -> float:
    """CPU-seconds spent non-idle by the whole machine since boot (Linux /proc/stat)."""
    try:
        with open("/proc/stat") as f:
            ticks = [int(x) for x in f.readline().split()[1:]]
    except OSError:
        return 0.0
    idle = ticks[3] + (ticks[4] if len(ticks) > 4 else 0)  # idle + iowait
    return (sum(ticks[:8]) - idle) / os.sysconf("SC_CLK_TCK")  # guest is already in user


def wait_quiet(log: TextIO, limit_s: float = 90.0, busy: float = 0.1) -> None:
    """Wait until the machine is idle (less than ``busy`` of one core over a second), at
    most ``limit_s``: a server goes on working after a load (influxd compacts its TSM
    files for tens of seconds, Edge joins its buffer's chunks), and queries timed meanwhile
    measure that work, not the query."""
    started = time.monotonic()
    while time.monotonic() - started < limit_s:
        before = _machine_busy_seconds()
        time.sleep(1.0)
        if _machine_busy_seconds() - before < busy:
            break
    print(f"waited {time.monotonic() - started:.0f} s for the machine to go quiet", file=log)


def _worker(
    host: str,
    port: int,
    path: str,
    headers: dict[str, str],
    work: list[tuple[bytes, int]],
    max_seconds: float,
    barrier: threading.Barrier,
    stats: _Stats,
) -> None:
    conn = http.client.HTTPConnection(host, port, timeout=120)
    try:
        conn.connect()  # outside the timed phase; on failure, the first request retries
    except OSError as exc:
        print(f"  connect {host}:{port}: {exc!r}", file=sys.stderr)
        conn.close()
    barrier.wait()
    deadline = time.perf_counter() + max_seconds
    for body, npoints in work:
        if time.perf_counter() >= deadline:
            break
        try:
            # putrequest/endheaders + send avoids http.client copying the body into the headers.
            conn.putrequest("POST", path, skip_accept_encoding=True)
            for k, v in headers.items():
                conn.putheader(k, v)
            conn.putheader("Content-Length", str(len(body)))
            conn.endheaders()
            conn.send(body)
            resp = conn.getresponse()
            reply = resp.read()
        except (OSError, http.client.HTTPException) as exc:
            stats.errors += 1
            print(f"  {host}:{port}{path}: {exc!r}", file=sys.stderr)
            conn.close()  # reconnects on the next request
            continue
        if 200 <= resp.status < 300:
            stats.points += npoints
            stats.batches += 1
        else:
            stats.errors += 1
            print(f"  HTTP {resp.status}: {reply[:300]!r}", file=sys.stderr)
    stats.end = time.perf_counter()
    conn.close()


def run_load(
    name: str,
    url: str,
    work: list[tuple[bytes, int]],
    connections: int,
    max_seconds: float,
    headers: dict[str, str] | None = None,
) -> Result:
    """POST every ``(body, points)`` in ``work`` to ``url`` (path+query included); time it."""
    parts = urlsplit(url)
    if parts.scheme != "http" or parts.hostname is None:
        raise ValueError(f"need an http:// URL, got {url!r}")
    port = parts.port or 80
    path = parts.path + (f"?{parts.query}" if parts.query else "")
    hdrs = {"Content-Type": "text/plain; charset=utf-8", **(headers or {})}
    barrier = threading.Barrier(connections + 1)
    stats = [_Stats() for _ in range(connections)]
    threads = [
        threading.Thread(
            target=_worker,
            args=(
                parts.hostname,
                port,
                path,
                hdrs,
                work[i::connections],
                max_seconds,
                barrier,
                stats[i],
            ),
            daemon=True,
        )
        for i in range(connections)
    ]
    for t in threads:
        t.start()
    barrier.wait()
    t0 = time.perf_counter()
    c0 = _cpu_seconds()
    m0 = _machine_busy_seconds()
    for t in threads:
        t.join()
    cpu = _cpu_seconds() - c0
    machine = _machine_busy_seconds() - m0
    seconds = max(s.end for s in stats) - t0
    points = sum(s.points for s in stats)
    return Result(
        target=name,
        connections=connections,
        points=points,
        seconds=seconds,
        points_per_s=points / seconds if seconds > 0 else 0.0,
        values_per_s=points * FIELDS_PER_POINT / seconds if seconds > 0 else 0.0,
        errors=sum(s.errors for s in stats),
        batches_ok=sum(s.batches for s in stats),
        batches_total=len(work),
        client_cpu_s=cpu,
        client_cpu_pct=100.0 * cpu / seconds if seconds > 0 else 0.0,
        machine_cpu_pct=100.0 * machine / seconds if seconds > 0 else 0.0,
    )


def create_database(base_url: str, db: str) -> None:
    """``POST /query q=CREATE DATABASE <db>`` on an InfluxDB 1.x server."""
    parts = urlsplit(base_url)
    conn = http.client.HTTPConnection(parts.hostname or "127.0.0.1", parts.port or 80, timeout=30)
    try:
        conn.request(
            "POST",
            parts.path + "/query",
            body=urlencode({"q": f'CREATE DATABASE "{db}"'}),
            headers={"Content-Type": "application/x-www-form-urlencoded"},
        )
        resp = conn.getresponse()
        body = resp.read()
        if resp.status != 200 or b'"error"' in body:
            raise RuntimeError(f"CREATE DATABASE failed: {resp.status} {body[:300]!r}")
    finally:
        conn.close()


def format_table(results: list[Result]) -> str:
    head = (
        f"{'target':<8} {'conns':>5} {'points':>9} {'seconds':>8} {'points/s':>10} "
        f"{'values/s':>11} {'errors':>6} {'batches':>11} {'client cpu':>10} {'all cpu':>7}"
    )
    rows = [head, "-" * len(head)]
    for r in results:
        rows.append(
            f"{r.target:<8} {r.connections:>5} {r.points:>9} {r.seconds:>8.2f} "
            f"{r.points_per_s:>10.0f} {r.values_per_s:>11.0f} {r.errors:>6} "
            f"{f'{r.batches_ok}/{r.batches_total}':>11} "
            f"{r.client_cpu_pct:>9.0f}% {r.machine_cpu_pct:>6.0f}%"
        )
    return "\n".join(rows)


def ratio(results: list[Result]) -> float | None:
    """Edge points/s divided by influxd points/s, when both ran."""
    by = {r.target: r.points_per_s for r in results}
    if "edge" in by and by.get("influxd"):
        return by["edge"] / by["influxd"]
    return None


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    p.add_argument(
        "--edge", help="Edge base URL, e.g. http://127.0.0.1:8181, or 'start' to start one"
    )
    p.add_argument("--queries", action="store_true", help="also time queries after loading")
    p.add_argument("--influxd", action="store_true", help="also start and load influxd (first)")
    p.add_argument("--influxd-only", action="store_true", help="load influxd only")
    p.add_argument("--connections", type=int, default=4)
    p.add_argument("--hosts", type=int, default=100)
    p.add_argument("--hours", type=float, default=12.0)
    p.add_argument("--interval", type=float, default=10, help="seconds between points")
    p.add_argument("--batch", type=int, default=5000, help="lines per request")
    p.add_argument("--max-seconds", type=float, default=120.0, help="per-target time cap")
    p.add_argument("--bucket", default="bench", help="Edge bucket / influxd database")
    p.add_argument("--token", help="Edge API token (sent as 'Authorization: Token ...')")
    p.add_argument("--tmpdir", help="parent dir for influxd's data (default: system temp)")
    p.add_argument("--json", action="store_true", help="print results as JSON")
    a = p.parse_args(argv)
    use_influxd = a.influxd or a.influxd_only
    use_edge = a.edge is not None and not a.influxd_only
    if not (use_influxd or use_edge):
        p.error("give --edge URL and/or --influxd / --influxd-only")
    if a.connections < 1 or a.batch < 1:
        p.error("--connections and --batch must be >= 1")

    log = sys.stderr
    t = time.perf_counter()
    bodies = tsbs.batches(a.batch, hosts=a.hosts, hours=a.hours, interval_s=a.interval)
    work = [(b, b.count(b"\n") + 1) for b in bodies]
    total = sum(n for _, n in work)
    mb = sum(len(b) for b in bodies) / 1e6
    print(
        f"generated {total} points in {len(work)} batches ({mb:.0f} MB) "
        f"in {time.perf_counter() - t:.1f}s",
        file=log,
    )

    results: list[Result] = []
    timings: list[Timing] = []
    if use_influxd:
        with (
            tempfile.TemporaryDirectory(prefix="bench-influxd-", dir=a.tmpdir) as d,
            run_influxd(d) as url,
        ):
            create_database(url, a.bucket)
            print(f"influxd at {url}: writing...", file=log)
            q = urlencode({"db": a.bucket, "precision": "ns"})
            results.append(
                run_load("influxd", f"{url}/write?{q}", work, a.connections, a.max_seconds)
            )
            if a.queries:
                wait_quiet(log)
                timings += time_queries("influxd", url, a.bucket)
    if use_edge:
        with contextlib.ExitStack() as stack:
            server = None
            if a.edge == "start":
                d = stack.enter_context(tempfile.TemporaryDirectory(prefix="bench-edge-"))
                server = stack.enter_context(run_edge(Path(d) / "data"))
                base = server.url
            else:
                base = a.edge.rstrip("/")
            q = urlencode({"bucket": a.bucket, "precision": "ns"})
            headers = {"Authorization": f"Token {a.token}"} if a.token else {}
            print(f"edge at {base}: writing...", file=log)
            results.append(
                run_load(
                    "edge",
                    f"{base}/api/v2/write?{q}",
                    work,
                    a.connections,
                    a.max_seconds,
                    headers,
                )
            )
            if a.queries:
                wait_quiet(log)
                timings += time_queries("edge", base, a.bucket)
                # the same questions once everything is in Parquet (where older data lives)
                with urllib.request.urlopen(
                    urllib.request.Request(f"{base}/api/v3/flush", method="POST", headers=headers),
                    timeout=300,
                ) as resp:
                    resp.read()
                # the data's day is over: compaction joins its 72 files into one (a server
                # started elsewhere: whatever it has done by the time the machine is quiet)
                started = time.monotonic()
                while server is not None and " into one in " not in server.log():
                    if time.monotonic() - started > 120:
                        print("compaction did not finish within 120 s", file=log)
                        break
                    time.sleep(0.2)
                wait_quiet(log)
                timings += time_queries("edge-pq", base, a.bucket)

    r = ratio(results)
    if a.json:
        print(
            json.dumps(
                {
                    "results": [asdict(x) for x in results],
                    "edge_over_influxd": r,
                    "queries": [asdict(t) for t in timings],
                }
            )
        )
    else:
        print(format_table(results))
        if r is not None:
            print(f"edge/influxd points/s ratio: {r:.2f}")
        if timings:
            print(format_timings(timings))
    return 0 if all(x.errors == 0 for x in results) else 1


if __name__ == "__main__":
    raise SystemExit(main())
