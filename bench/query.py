"""Query latency on the loaded TSBS data, the same question asked of both servers:
SQL over ``/api/v3/query_sql`` for Edge, the equivalent InfluxQL over ``/query`` for influxd.
Latency is measured at the client over loopback (so it includes HTTP and rendering)."""

from __future__ import annotations

import statistics
import time
import urllib.parse
import urllib.request
from dataclasses import dataclass

# name → (Edge SQL, influxd InfluxQL)
QUERIES: dict[str, tuple[str, str]] = {
    "all hosts, 12 h, mean by 1h and host": (
        "SELECT hostname, date_bin(INTERVAL '1 hour', time) AS hour, avg(usage_user) "
        "FROM cpu GROUP BY hostname, hour",
        "SELECT mean(usage_user) FROM cpu WHERE time >= '2016-01-01T00:00:00Z' AND "
        "time < '2016-01-01T12:00:00Z' GROUP BY time(1h), hostname",
    ),
    "one host, 1 h, max by 1m": (
        "SELECT date_bin(INTERVAL '1 minute', time) AS m, max(usage_user) FROM cpu "
        "WHERE hostname = 'host_7' AND time >= '2016-01-01T03:00:00Z' "
        "AND time < '2016-01-01T04:00:00Z' GROUP BY m",
        "SELECT max(usage_user) FROM cpu WHERE hostname = 'host_7' AND "
        "time >= '2016-01-01T03:00:00Z' AND time < '2016-01-01T04:00:00Z' GROUP BY time(1m)",
    ),
    "count(*) over everything": (
        "SELECT count(*) FROM cpu",
        "SELECT count(usage_user) FROM cpu",
    ),
}


@dataclass
class Timing:
    target: str
    query: str
    median_ms: float
    best_ms: float


def _get(url: str) -> None:
    with urllib.request.urlopen(url, timeout=120) as resp:
        resp.read()


def time_queries(target: str, base: str, db: str, repeats: int = 7) -> list[Timing]:
    out = []
    for name, (sql, influxql) in QUERIES.items():
        if target == "edge":
            url = f"{base}/api/v3/query_sql?" + urllib.parse.urlencode({"db": db, "q": sql})
        else:
            url = f"{base}/query?" + urllib.parse.urlencode({"db": db, "q": influxql})
        _get(url)  # warm-up
        samples = []
        for _ in range(repeats):
            t = time.perf_counter()
            _get(url)
            samples.append((time.perf_counter() - t) * 1000)
        out.append(Timing(target, name, statistics.median(samples), min(samples)))
    return out


def format_timings(timings: list[Timing]) -> str:
    rows = [f"{'query':<40} {'target':<8} {'median ms':>10} {'best ms':>8}"]
    for t in timings:
        rows.append(f"{t.query:<40} {t.target:<8} {t.median_ms:>10.1f} {t.best_ms:>8.1f}")
    return "\n".join(rows)
