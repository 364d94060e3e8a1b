"""Line protocol parsing speed on one core: TSBS-like bodies of a given size, parsed the way
an ingest worker parses them.

    python -m bench.parse [--lines 5000] [--repeat 20]
"""

from __future__ import annotations

import argparse
import statistics
import time

from bench import tsbs
from edge_common.lineprotocol import parse


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    p.add_argument("--lines", type=int, default=5000, help="lines per body")
    p.add_argument("--repeat", type=int, default=20)
    a = p.parse_args(argv)
    # 100 hosts at 10 s: 36,000 lines an hour
    bodies = tsbs.batches(a.lines, hosts=100, hours=a.lines * (a.repeat + 1) / 36_000)
    bodies = [b for b in bodies if b.count(b"\n") + 1 == a.lines][: a.repeat]
    parse(bodies[0], precision="ns", default_time_ns=0)  # warm-up
    rates = []
    for body in bodies:
        t = time.perf_counter()
        parsed = parse(body, precision="ns", default_time_ns=0)
        rates.append(a.lines / (time.perf_counter() - t))
        assert not parsed.errors
    print(
        f"{a.lines}-line TSBS bodies: median {statistics.median(rates):,.0f} lines/s, "
        f"best {max(rates):,.0f} lines/s over {len(rates)} bodies (one core)"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
