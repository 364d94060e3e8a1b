"""Many files: a week of points in Parquet, Edge beside influxd 1.6.7 in the same run.

A dashboard's "last 7 days" reads every file of a week: one per table and 10-minute window
as snapshots write them, 1,008 in all, until compaction joins each finished day's files
into one. Both servers get ``--days`` of TSBS points (``--hosts`` hosts, one point each 10
s); Edge's are flushed to Parquet and the benchmark waits for compaction to join every
day. Each question is then asked once cold (the first time after the load: Edge reads and
indexes the files it needs then) and ``--repeats`` times more; medians are shown, and
whether the answers equal influxd's (floats within 1e-9 relative).

    python -m bench.days
"""

from __future__ import annotations

import argparse
import sys
import time

from bench import tsbs
from bench.dashboard import agree, ask, loaded
from bench.series import flush

_WEEK = "time >= '2016-01-01T00:00:00Z' AND time < '2016-01-08T00:00:00Z'"
QUESTIONS: dict[str, str] = {
    "one host, 1 h, max by 1m": (
        "SELECT max(usage_user) FROM cpu WHERE hostname = 'host_7' AND "
        "time >= '2016-01-03T03:00:00Z' AND time < '2016-01-03T04:00:00Z' GROUP BY time(1m)"
    ),
    "one host, 24 h, mean by 10m": (
        "SELECT mean(usage_user) FROM cpu WHERE hostname = 'host_7' AND "
        "time >= '2016-01-03T00:00:00Z' AND time < '2016-01-04T00:00:00Z' GROUP BY time(10m)"
    ),
    "one host, 7 d, mean by 1h": (
        f"SELECT mean(usage_user) FROM cpu WHERE hostname = 'host_7' AND {_WEEK} GROUP BY time(1h)"
    ),
    "all hosts, 7 d, mean by 1h": (
        f"SELECT mean(usage_user) FROM cpu WHERE {_WEEK} GROUP BY time(1h)"
    ),
    "one host, last": "SELECT last(usage_user) FROM cpu WHERE hostname = 'host_7'",
    "last of every host": "SELECT last(usage_user) FROM cpu GROUP BY hostname",
    "SHOW TAG VALUES (a variable)": "SHOW TAG VALUES WITH KEY = hostname",
}


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    p.add_argument("--hosts", type=int, default=20)
    p.add_argument("--days", type=int, default=7)
    p.add_argument("--batch", type=int, default=5000, help="lines per write request")
    p.add_argument("--repeats", type=int, default=10)
    a = p.parse_args(argv)
    bodies = tsbs.batches(a.batch, hosts=a.hosts, hours=24.0 * a.days)
    with loaded(bodies) as (influxd, server):
        flush(server.url)
        started = time.monotonic()
        while server.log().count(" into one in ") < a.days:
            if time.monotonic() - started > 900:
                raise RuntimeError("compaction did not join every day within 15 minutes")
            time.sleep(0.5)
        print(
            f"edge: {a.days} days joined in {time.monotonic() - started:.1f} s after the flush",
            file=sys.stderr,
        )
        print(
            f"{'question':<30} {'influxd cold':>12} {'ms':>7} {'Edge cold':>9} {'ms':>7} "
            f"{'ratio':>6}  same"
        )
        for name, q in QUESTIONS.items():
            their_cold, _ = ask(influxd, q, 0)
            our_cold, _ = ask(server.url, q, 0)
            theirs, their_answer = ask(influxd, q, a.repeats)
            ours, our_answer = ask(server.url, q, a.repeats)
            same = "yes" if agree(our_answer, their_answer) else "NO"
            print(
                f"{name:<30} {their_cold:>12.2f} {theirs:>7.2f} {our_cold:>9.2f} {ours:>7.2f} "
                f"{theirs / ours:>5.1f}x  {same}"
            )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
