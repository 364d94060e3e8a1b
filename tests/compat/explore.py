"""Ask Debian's influxd 1.6.7 and Edge statements of a generated family (tests/compat/
generated.py) over the compat data, and print each that they answer apart, with the first
place the answers differ, then how many were asked and how many differ:

    python -m tests.compat.explore --family dashboards --seed 3 --count 1500 [--flush]

Not part of the suite: a family can make statements that meet an allowed difference
(docs/influxql-compat.md). What it finds and is fixed becomes a statement of ``QUERIES``.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from bench.edge import EdgeServer, run_edge
from bench.influxd import run_influxd
from bench.series import flush
from tests.compat import generated
from tests.compat.test_influxql import DB, LINES, _same
from tests.http import http

FAMILIES = {
    "statements": generated.statements,
    "shapes": generated.shapes,
    "selectors": generated.selectors,
    "dashboards": generated.dashboards,
    "nested": generated.nested,
    "meta": generated.meta,
    "mistakes": generated.mistakes,
}


def first_difference(theirs: Any, ours: Any, path: str = "") -> str | None:
    """Where two answers first differ (floats within 1e-9 relative), or None."""
    if isinstance(theirs, dict) and isinstance(ours, dict):
        if theirs.keys() != ours.keys():
            return f"{path}: keys {sorted(theirs)} vs {sorted(ours)}"
        return next(
            (d for k in theirs if (d := first_difference(theirs[k], ours[k], f"{path}.{k}"))), None
        )
    if isinstance(theirs, list) and isinstance(ours, list):
        if len(theirs) != len(ours):
            return f"{path}: {len(theirs)} items vs {len(ours)}"
        pairs = enumerate(zip(theirs, ours, strict=True))
        return next(
            (d for i, (a, b) in pairs if (d := first_difference(a, b, f"{path}[{i}]"))), None
        )
    return None if _same(ours, theirs) else f"{path}: influxd {theirs!r}, Edge {ours!r}"


@contextmanager
def side_by_side() -> Iterator[tuple[str, EdgeServer]]:
    """Debian's influxd 1.6.7 and Edge, started in a directory of their own."""
    with (
        tempfile.TemporaryDirectory(prefix="explore-") as root,
        run_influxd(Path(root) / "influxd") as influxd,
        run_edge(Path(root) / "edge") as edge,
    ):
        yield influxd, edge


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    p.add_argument("--family", choices=sorted(FAMILIES), default="dashboards")
    p.add_argument("--seed", type=int, default=1)
    p.add_argument("--count", type=int, default=1000)
    p.add_argument(
        "--flush", action="store_true", help="ask Edge with the points in Parquet, not its buffer"
    )
    args = p.parse_args(argv)
    statements = FAMILIES[args.family](args.seed, args.count)
    asked = differ = 0
    with side_by_side() as (influxd, edge):
        for base in (influxd, edge.url):
            http.post(f"{base}/query", data={"q": f"CREATE DATABASE {DB}"})
            body = "\n".join(LINES)
            http.post(f"{base}/write", params={"db": DB, "precision": "s"}, content=body)
        if args.flush:
            flush(edge.url)
        for q in statements:
            r = http.get(f"{influxd}/query", params={"db": DB, "q": q}, timeout=60)
            if r.text.startswith("json: ") or (
                "results" in r.json() and r.json()["results"][0].get("statement_id") == -1
            ):
                continue  # (influxd's -Inf failure, its panics)
            mine = http.get(f"{edge.url}/query", params={"db": DB, "q": q}, timeout=60)
            asked += 1
            where = (
                first_difference(r.json(), mine.json())
                if r.status_code == mine.status_code
                else f"status {r.status_code} vs {mine.status_code}"
            )
            if where is not None:
                differ += 1
                print(f"{q}\n    {where}", flush=True)
    print(f"{args.family} seed {args.seed}: {asked} asked, {differ} differ")
    return 0


if __name__ == "__main__":
    sys.exit(main())
