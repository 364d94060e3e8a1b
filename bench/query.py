"""Query latency on the loaded TSBS data, the same InfluxQL asked of both servers over
``/query`` (ratio = influxd's median / Edge's), and the SQL equivalents of Edge. Latency is
measured at the client over loopback, so it includes HTTP and rendering."""

from __future__ import annotations

import statistics
import time
import urllib.parse
import urllib.request
from dataclasses import dataclass

_RANGE = "time >= '2016-01-01T00:00:00Z' AND time < '2016-01-01T12:00:00Z'"

# The six TSBS cpu-only queries of FINDINGS.md, in InfluxQL, asked of both servers over
# /query; plus the same questions in SQL of Edge's /api/v3/query_sql.
# single-groupby asks about another host and hour each time, as TSBS does (the same
# sequence on both servers): a repeated identical question would measure caches
_ONE_HOST = (
    "hostname = 'host_{host}' AND time >= '2016-01-01T{hour:02d}:00:00Z' "
    "AND time < '2016-01-01T{next:02d}:00:00Z'"
)
INFLUXQL: dict[str, str] = {
    "lastpoint": "SELECT last(usage_user) FROM cpu GROUP BY hostname",
    "single-groupby (1 host, 1 h, max by 1m)": (
        f"SELECT max(usage_user) FROM cpu WHERE {_ONE_HOST} GROUP BY time(1m)"
    ),
    "double-groupby (all hosts, 12 h, mean by 1h)": (
        f"SELECT mean(usage_user) FROM cpu WHERE {_RANGE} GROUP BY time(1h), hostname"
    ),
    "high-cpu (usage_user > 90)": f"SELECT * FROM cpu WHERE usage_user > 90 AND {_RANGE}",
    "groupby-orderby-limit": (
        f"SELECT max(usage_user) FROM cpu WHERE {_RANGE} GROUP BY time(1m) "
        "ORDER BY time DESC LIMIT 5"
    ),
    "count(*)": "SELECT count(*) FROM cpu",
}
SQL: dict[str, str] = {
    "double-groupby (all hosts, 12 h, mean by 1h)": (
        "SELECT hostname, date_bin(INTERVAL '1 hour', time) AS hour, avg(usage_user) "
        "FROM cpu GROUP BY hostname, hour"
    ),
    "single-groupby (1 host, 1 h, max by 1m)": (
        "SELECT date_bin(INTERVAL '1 minute', time) AS m, max(usage_user) FROM cpu "
        f"WHERE {_ONE_HOST} GROUP BY m"
    ),
    "count(*)": "SELECT count(*) FROM cpu",
}


_MOST = 51
_BUDGET_S = 1.0


@dataclass
class Timing:
    target: str
    query: str
    median_ms: float
    best_ms: float


def _get(url: str) -> None:
    with urllib.request.urlopen(url, timeout=120) as resp:
        resp.read()


def _variant(q: str, i: int) -> str:
    """The ``i``-th question of a query with a host and an hour to fill in (-1: warm-up)."""
    hour = (3 + 5 * i) % 11
    return q.format(host=(7 + 13 * i) % 100, hour=hour, next=hour + 1) if "{host}" in q else q


def _median(url: str, q: str, repeats: int) -> tuple[float, float]:
    """Median and best of ``repeats`` asks; a quick query is asked more (up to
    ``_MOST`` times while the asks take under ``_BUDGET_S``): seven asks of a 2 ms query
    right after a load moved its median by ±30 % between runs."""
    _get(url + urllib.parse.quote(_variant(q, -1)))  # warm-up
    samples: list[float] = []
    started = time.perf_counter()
    while len(samples) < repeats or (
        len(samples) < _MOST and time.perf_counter() - started < _BUDGET_S
    ):
        asked = url + urllib.parse.quote(_variant(q, len(samples)))
        t = time.perf_counter()
        _get(asked)
        samples.append((time.perf_counter() - t) * 1000)
    return statistics.median(samples), min(samples)


def time_queries(target: str, base: str, db: str, repeats: int = 7) -> list[Timing]:
    out = []
    for name, q in INFLUXQL.items():
        url = f"{base}/query?" + urllib.parse.urlencode({"db": db}) + "&q="
        med, best = _median(url, q, repeats)
        out.append(Timing(target, f"{name} [InfluxQL]", med, best))
    if target.startswith("edge"):
        for name, q in SQL.items():
            url = f"{base}/api/v3/query_sql?" + urllib.parse.urlencode({"db": db}) + "&q="
            med, best = _median(url, q, repeats)
            out.append(Timing(target, f"{name} [SQL]", med, best))
    return out


def format_timings(timings: list[Timing]) -> str:
    # (two decimals: single-groupby's answers take well under a millisecond)
    rows = [f"{'query':<58} {'target':<8} {'median ms':>10} {'best ms':>8} {'ratio':>6}"]
    # edge: rows still in the buffer; edge-pq: the same rows after a flush to Parquet
    theirs = {t.query: t.median_ms for t in timings if t.target == "influxd"}
    for t in timings:
        ratio = theirs.get(t.query)
        edge = t.target.startswith("edge")
        shown = f"{ratio / t.median_ms:>5.2f}x" if ratio and edge else ""
        rows.append(
            f"{t.query:<58} {t.target:<8} {t.median_ms:>10.2f} {t.best_ms:>8.2f} {shown:>6}"
        )
    return "\n".join(rows)
