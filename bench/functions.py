"""InfluxQL functions beyond the TSBS six, Edge beside influxd 1.6.7 in the same run.

The same TSBS points (100 hosts x 12 h at 10 s, 432,000 points) are written to both servers
(5,000-line requests), then each question is asked ``--repeats`` times over one kept-alive
connection; the median is shown, the ratio (influxd / Edge), and whether the answers agree
(floats within 1e-9 relative; series compared by their tags, since influxd lists
integral()'s series in Go map order).

    python -m bench.functions
"""

from __future__ import annotations

import argparse
from typing import Any

from bench import tsbs
from bench.dashboard import agree, ask, loaded

_DAY = "time >= '2016-01-01T00:00:00Z' AND time < '2016-01-01T12:00:00Z'"
_HOST = f"hostname = 'host_1' AND {_DAY}"
QUESTIONS: dict[str, str] = {
    "percentile 95, all hosts, by 1h": (
        f"SELECT percentile(usage_user, 95) FROM cpu WHERE {_DAY} GROUP BY time(1h)"
    ),
    "percentile 95, by 10m and host": (
        f"SELECT percentile(usage_user, 95) FROM cpu WHERE {_DAY} GROUP BY time(10m), hostname"
    ),
    "percentile 95 of each host (its point's time)": (
        f"SELECT percentile(usage_user, 95) FROM cpu WHERE {_DAY} GROUP BY hostname"
    ),
    "median, all hosts, by 1h": (
        f"SELECT median(usage_user) FROM cpu WHERE {_DAY} GROUP BY time(1h)"
    ),
    "mode, all points": "SELECT mode(usage_user) FROM cpu",
    "mode, all hosts, by 1h": (f"SELECT mode(usage_user) FROM cpu WHERE {_DAY} GROUP BY time(1h)"),
    "integral of each host": (
        f"SELECT integral(usage_user) FROM cpu WHERE {_DAY} GROUP BY hostname"
    ),
    "integral, one host, by 10m": (
        f"SELECT integral(usage_user, 1m) FROM cpu WHERE {_HOST} GROUP BY time(10m)"
    ),
    "stddev, all hosts, by 1h": (
        f"SELECT stddev(usage_user) FROM cpu WHERE {_DAY} GROUP BY time(1h)"
    ),
    "top 3 with the host": f"SELECT top(usage_user, 3), hostname FROM cpu WHERE {_DAY}",
    "one host, every column, LIMIT 100": f"SELECT * FROM cpu WHERE {_HOST} LIMIT 100",
    # the first question asked of a database in the influx CLI, and its newest points
    "every column, LIMIT 10": "SELECT * FROM cpu LIMIT 10",
    "every column, newest first, LIMIT 10": "SELECT * FROM cpu ORDER BY time DESC LIMIT 10",
    "one host, newest first, LIMIT 10": (
        "SELECT * FROM cpu WHERE hostname = 'host_1' ORDER BY time DESC LIMIT 10"
    ),
    "each series' first point (GROUP BY * LIMIT 1)": "SELECT * FROM cpu GROUP BY * LIMIT 1",
    "each host's newest 3, LIMIT by series": (
        "SELECT usage_user FROM cpu GROUP BY hostname ORDER BY time DESC LIMIT 3"
    ),
    # (of max(): a mean's last bits follow the order its points were summed in, and the
    # fit's search turns a last-bit difference into another forecast)
    "holt_winters, one host by 10m": (
        f"SELECT holt_winters(max(usage_user), 10, 4) FROM cpu WHERE {_HOST} GROUP BY time(10m)"
    ),
}


def _by_tags(answer: Any) -> Any:
    """The answer with each result's series in the order of their tags."""
    for result in answer.get("results", []):
        if "series" in result:
            result["series"].sort(key=lambda s: sorted((s.get("tags") or {}).items()))
    return answer


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    p.add_argument("--hosts", type=int, default=100)
    p.add_argument("--hours", type=float, default=12.0)
    p.add_argument("--repeats", type=int, default=5)
    a = p.parse_args(argv)
    with loaded(tsbs.batches(5000, hosts=a.hosts, hours=a.hours)) as (influxd, server):
        print(f"{'question':<46} {'influxd ms':>10} {'Edge ms':>8} {'ratio':>6}  same")
        for name, q in QUESTIONS.items():
            theirs, their_answer = ask(influxd, q, a.repeats)
            ours, our_answer = ask(server.url, q, a.repeats)
            same = "yes" if agree(_by_tags(our_answer), _by_tags(their_answer)) else "NO"
            print(f"{name:<46} {theirs:>10.2f} {ours:>8.2f} {theirs / ours:>5.1f}x  {same}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
