"""Many series: one host among tens of thousands, Edge beside influxd 1.6.7 in the same run.

TSBS has 100 hosts; a fleet has far more, and what a dashboard asks of one of them must not
cost in proportion to all of them. Each of ``--hosts`` hosts (tags ``host`` and ``region``,
one of ten) writes one point a minute for ``--minutes``; then the questions a dashboard asks
of one host, and those over all of them (a variable's values, SHOW SERIES, cardinalities, a
regex variable, the last point of each), are asked ``--repeats`` times over one kept-alive
connection: of Edge first with the points in its buffer, then again once ``/api/v3/flush``
has put them in Parquet. Medians are shown, and whether each answer equals influxd's (floats
within 1e-9 relative). influxd 1.6.7 marks a series of more than 10,000 values
``"partial": true`` even when the answer is not chunked (a flag of its internal chunks that
its merge of them keeps); that flag is left out of the comparison.

    python -m bench.series --hosts 50000

(influxd's default ``max-values-per-tag`` allows at most 100,000 hosts.)
"""

from __future__ import annotations

import argparse
import http.client
from typing import Any
from urllib.parse import urlsplit

from bench.dashboard import agree, ask, loaded

_START = 1451606400 * 10**9  # 2016-01-01T00:00:00Z
_HOUR = "time >= '2016-01-01T00:00:00Z' AND time < '2016-01-01T01:00:00Z'"


def questions(hosts: int) -> dict[str, str]:
    one = f"h{hosts * 7 // 10}"  # a host in the middle of the dictionary
    near = one[:-1]  # ten hosts at most: one[:-1] followed by one digit
    return {
        "one host, 1 h, max by 1m": (
            f"SELECT max(usage) FROM cpu WHERE host = '{one}' AND {_HOUR} GROUP BY time(1m)"
        ),
        "one host, 1 h, max by 1m and host": (
            f"SELECT max(usage) FROM cpu WHERE host = '{one}' AND {_HOUR} GROUP BY time(1m), host"
        ),
        "one host, 1 h, raw": f"SELECT * FROM cpu WHERE host = '{one}' AND {_HOUR}",
        "one host, last": f"SELECT last(usage) FROM cpu WHERE host = '{one}'",
        "hosts by regex, 1 h, mean by 1m": (
            f"SELECT mean(usage) FROM cpu WHERE host =~ /^{near}[0-9]$/ AND {_HOUR} "
            "GROUP BY time(1m), host"
        ),
        "one region, 1 h, max by 5m": (
            f"SELECT max(usage) FROM cpu WHERE region = 'r7' AND {_HOUR} GROUP BY time(5m)"
        ),
        "SHOW SERIES WHERE host": f"SHOW SERIES FROM cpu WHERE host = '{one}'",
        "SHOW TAG VALUES region WHERE host": (
            f"SHOW TAG VALUES FROM cpu WITH KEY = region WHERE host = '{one}'"
        ),
        "SHOW TAG VALUES host (all)": "SHOW TAG VALUES WITH KEY = host",
        "SHOW TAG VALUES host WHERE region": (
            "SHOW TAG VALUES WITH KEY = host WHERE region = 'r7'"
        ),
        "SHOW SERIES (all)": "SHOW SERIES",
        "SHOW SERIES CARDINALITY": "SHOW SERIES CARDINALITY",
        "SHOW TAG VALUES CARDINALITY host": "SHOW TAG VALUES CARDINALITY WITH KEY = host",
        "last of every host": "SELECT last(usage) FROM cpu GROUP BY host",
        "count of all points": "SELECT count(usage) FROM cpu",
    }


def lines(hosts: int, minutes: int, batch: int) -> list[bytes]:
    """Every host's point of each minute, minute by minute, ``batch`` lines a body."""
    out = [
        f"cpu,host=h{h},region=r{h % 10} usage={h % 97}.5,idle={h % 13}i "
        f"{_START + m * 60 * 10**9}".encode()
        for m in range(minutes)
        for h in range(hosts)
    ]
    return [b"\n".join(out[i : i + batch]) for i in range(0, len(out), batch)]


def _without_partial(answer: Any) -> Any:
    if isinstance(answer, dict):
        return {k: _without_partial(v) for k, v in answer.items() if k != "partial"}
    if isinstance(answer, list):
        return [_without_partial(v) for v in answer]
    return answer


def flush(base: str) -> None:
    """``POST /api/v3/flush``: Edge's buffer to Parquet, answered once the files are in."""
    parts = urlsplit(base)
    conn = http.client.HTTPConnection(parts.hostname or "127.0.0.1", parts.port, timeout=600)
    try:
        conn.request("POST", "/api/v3/flush")
        response = conn.getresponse()
        if response.status != 200:
            raise RuntimeError(f"flush answered {response.status}: {response.read()!r}")
        response.read()
    finally:
        conn.close()


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    p.add_argument("--hosts", type=int, default=50_000)
    p.add_argument("--minutes", type=int, default=20)
    p.add_argument("--batch", type=int, default=5000, help="lines per write request")
    p.add_argument("--repeats", type=int, default=10)
    a = p.parse_args(argv)
    asked = questions(a.hosts)
    with loaded(lines(a.hosts, a.minutes, a.batch), db="series") as (influxd, server):
        edge = server.url
        theirs = {name: ask(influxd, q, a.repeats, "series") for name, q in asked.items()}
        buffered = {name: ask(edge, q, a.repeats, "series") for name, q in asked.items()}
        flush(edge)
        persisted = {name: ask(edge, q, a.repeats, "series") for name, q in asked.items()}
        print(
            f"{'question':<36} {'influxd ms':>10} {'buffer ms':>9} {'ratio':>6} "
            f"{'Parquet ms':>10} {'ratio':>6}  same"
        )
        for name in asked:
            ms, answer = theirs[name]
            ours = buffered[name][0], persisted[name][0]
            same = all(
                agree(got[name][1], _without_partial(answer)) for got in (buffered, persisted)
            )
            print(
                f"{name:<36} {ms:>10.2f} {ours[0]:>9.2f} {ms / ours[0]:>5.1f}x "
                f"{ours[1]:>10.2f} {ms / ours[1]:>5.1f}x  {'yes' if same else 'NO'}"
            )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
