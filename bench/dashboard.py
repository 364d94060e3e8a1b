"""Everyday dashboard questions, Edge beside influxd 1.6.7 in the same run.

The TSBS queries of ``bench.query`` are what the issue measures; a Grafana dashboard mostly
asks other things: one series over hours, a transformation of an aggregate, a variable with
several values (``=~ /^(a|b)$/``), a variable's values (``SHOW TAG VALUES``), raw points,
a subquery. Both servers get the same TSBS points, written in ``--batch``-line requests
(Telegraf writes a few hundred lines at a time: many small writes), then each question is
asked ``--repeats`` times over one kept-alive connection; the median is shown, and whether
the two answers agree (floats within 1e-9 relative).

    python -m bench.dashboard --batch 200
"""

from __future__ import annotations

import argparse
import contextlib
import http.client
import json
import math
import statistics
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlencode, urlsplit

from bench import tsbs
from bench.edge import EdgeServer, run_edge
from bench.influxd import run_influxd
from bench.ingest import create_database, run_load, wait_quiet

_DAY = "time >= '2016-01-01T00:00:00Z' AND time < '2016-01-01T12:00:00Z'"
_SIX = "time >= '2016-01-01T06:00:00Z' AND time < '2016-01-01T12:00:00Z'"
_HOUR = "time >= '2016-01-01T06:00:00Z' AND time < '2016-01-01T07:00:00Z'"
_FIVE = "hostname =~ /^(host_1|host_2|host_3|host_4|host_5)$/"
QUESTIONS: dict[str, str] = {
    "one host, 1 h, max by 1m": (
        "SELECT max(usage_user) FROM cpu WHERE hostname = 'host_7' AND time >= "
        "'2016-01-01T03:00:00Z' AND time < '2016-01-01T04:00:00Z' GROUP BY time(1m)"
    ),
    "one host, 6 h, derivative of mean by 1m": (
        f"SELECT derivative(mean(usage_user), 1s) FROM cpu WHERE hostname = 'host_3' "
        f"AND {_SIX} GROUP BY time(1m)"
    ),
    "five hosts (=~ /^(a|b)$/), 6 h, mean by 1m": (
        f"SELECT mean(usage_user) FROM cpu WHERE {_FIVE} AND {_SIX} GROUP BY time(1m), hostname"
    ),
    "all hosts, 6 h, mean by 10s": (
        f"SELECT mean(usage_user) FROM cpu WHERE {_SIX} GROUP BY time(10s)"
    ),
    "one host, 1 h, two fields raw": (
        f"SELECT usage_user, usage_system FROM cpu WHERE hostname = 'host_3' AND {_HOUR}"
    ),
    "one host, last of every field": "SELECT last(*) FROM cpu WHERE hostname = 'host_1'",
    "SHOW TAG VALUES (a variable)": "SHOW TAG VALUES WITH KEY = hostname",
    "subquery, one host": (
        "SELECT max(m) FROM (SELECT mean(usage_user) AS m FROM cpu WHERE hostname = 'host_3' "
        f"AND {_SIX} GROUP BY time(1m))"
    ),
    "subquery, all hosts, 12 h": (
        f"SELECT max(m) FROM (SELECT mean(usage_user) AS m FROM cpu WHERE {_DAY} "
        "GROUP BY time(1m), hostname) GROUP BY hostname"
    ),
}


def ask(base: str, q: str, repeats: int, db: str = "bench") -> tuple[float, Any]:
    """The median latency (ms) of ``repeats`` asks of ``q`` on one connection (after one
    more to warm up; with none, that first ask's), and the parsed answer."""
    parts = urlsplit(base)
    conn = http.client.HTTPConnection(parts.hostname or "127.0.0.1", parts.port, timeout=120)
    path = "/query?" + urlencode({"db": db, "q": q})
    samples, body = [], b""
    try:
        for _ in range(repeats + 1):  # the first is a warm-up
            t = time.perf_counter()
            conn.request("GET", path)
            body = conn.getresponse().read()
            samples.append((time.perf_counter() - t) * 1000)
    finally:
        conn.close()
    return statistics.median(samples[1:] or samples), json.loads(body)


def agree(a: Any, b: Any) -> bool:
    """Equal answers, floats within 1e-9 relative (summation order may differ)."""
    if isinstance(a, float) or isinstance(b, float):
        return (
            isinstance(a, int | float)
            and isinstance(b, int | float)
            and math.isclose(a, b, rel_tol=1e-9, abs_tol=1e-9)
        )
    if isinstance(a, list) and isinstance(b, list):
        return len(a) == len(b) and all(agree(x, y) for x, y in zip(a, b, strict=True))
    if isinstance(a, dict) and isinstance(b, dict):
        return a.keys() == b.keys() and all(agree(a[k], b[k]) for k in a)
    return bool(a == b)


@contextlib.contextmanager
def loaded(bodies: list[bytes], db: str = "bench") -> Iterator[tuple[str, EdgeServer]]:
    """influxd and Edge, each sent every body (four connections), once both are idle:
    influxd's base URL and the Edge server."""
    work = [(b, b.count(b"\n") + 1) for b in bodies]
    batch = max(n for _, n in work)
    with contextlib.ExitStack() as stack:
        influxd = stack.enter_context(
            run_influxd(stack.enter_context(tempfile.TemporaryDirectory(prefix="dash-i-")))
        )
        d = stack.enter_context(tempfile.TemporaryDirectory(prefix="dash-e-"))
        server = stack.enter_context(run_edge(Path(d) / "data"))
        edge = server.url
        create_database(influxd, db)
        for name, url in (
            ("influxd", f"{influxd}/write?db={db}&precision=ns"),
            ("edge", f"{edge}/api/v2/write?bucket={db}&precision=ns"),
        ):
            r = run_load(name, url, work, 4, 600)
            print(
                f"{name}: {r.points} points in {len(work)} writes of {batch} lines, "
                f"{r.points_per_s:,.0f} points/s",
                file=sys.stderr,
            )
        wait_quiet(sys.stderr)  # both servers done with the load's aftermath (compactions)
        yield influxd, server


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    p.add_argument("--batch", type=int, default=200, help="lines per write request")
    p.add_argument("--hosts", type=int, default=100)
    p.add_argument("--hours", type=float, default=12.0)
    p.add_argument("--repeats", type=int, default=10)
    a = p.parse_args(argv)
    with loaded(tsbs.batches(a.batch, hosts=a.hosts, hours=a.hours)) as (influxd, server):
        edge = server.url
        print(f"{'question':<46} {'influxd ms':>10} {'Edge ms':>8} {'ratio':>6}  same")
        for name, q in QUESTIONS.items():
            theirs, their_answer = ask(influxd, q, a.repeats)
            ours, our_answer = ask(edge, q, a.repeats)
            same = "yes" if agree(our_answer, their_answer) else "NO"
            print(f"{name:<46} {theirs:>10.2f} {ours:>8.2f} {theirs / ours:>5.1f}x  {same}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
