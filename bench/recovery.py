"""Start-up time with the TSBS set (432,000 points by default) only in the WAL: write it
with snapshots held off, kill -9 the whole group, start it again and time until it answers
and sees every point.

    python -m bench.recovery [--hosts 100 --hours 12]
"""

from __future__ import annotations

import argparse
import os
import signal
import tempfile
import time
import urllib.parse
import urllib.request
from pathlib import Path

from bench import tsbs
from bench.edge import start_edge
from bench.ingest import run_load


def _count(url: str) -> int:
    q = urllib.parse.urlencode({"db": "bench", "q": "SELECT count(*) AS c FROM cpu"})
    with urllib.request.urlopen(f"{url}/api/v3/query_sql?{q}", timeout=120) as resp:
        return int(resp.read().split(b":")[1].split(b"}")[0])


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    p.add_argument("--hosts", type=int, default=100)
    p.add_argument("--hours", type=float, default=12.0)
    a = p.parse_args(argv)
    bodies = tsbs.batches(5000, hosts=a.hosts, hours=a.hours)
    work = [(b, b.count(b"\n") + 1) for b in bodies]
    points = sum(n for _, n in work)
    hold = ("--buffer-mem-limit-mb", "100000", "--snapshot-max-age-s", "100000")
    with tempfile.TemporaryDirectory(prefix="bench-recovery-") as d:
        data = Path(d) / "data"
        edge = start_edge(data, *hold)
        port = int(edge.url.rsplit(":", 1)[1])
        run_load("edge", f"{edge.url}/api/v2/write?bucket=bench&precision=ns", work, 4, 600)
        for pid in [edge.proc.pid, *edge.children().values()]:
            os.kill(pid, signal.SIGKILL)
        edge.proc.wait()
        wal = sum(f.stat().st_size for f in data.rglob("*.wal"))
        t = time.perf_counter()
        edge = start_edge(data, *hold, port=port)
        ready = time.perf_counter() - t
        seen = _count(edge.url)
        total = time.perf_counter() - t
        replay = [ln for ln in edge.log().splitlines() if "replayed" in ln][-1]
        edge.stop()
    print(f"points in WAL: {points} ({wal / 1e6:.0f} MB of WAL)")
    print(f"start-up until healthy: {ready:.2f} s; until the first query answered: {total:.2f} s")
    print(f"points seen after restart: {seen}")
    print(f"persister: {replay.split(': ', 1)[1]}")
    return 0 if seen == points else 1


if __name__ == "__main__":
    raise SystemExit(main())
