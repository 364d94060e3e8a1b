"""Deterministic TSBS-like "cpu-only" line-protocol generator.

One point per host per interval, measurement ``cpu`` with 10 tags and 10 float fields.
Lines are ordered as TSBS emits them: for each timestamp, every host.
Default: 100 hosts x 12 h at 10 s = 432,000 lines (4.32 M field values).
"""

from __future__ import annotations

import argparse
import random
import sys
import time
from collections.abc import Iterator

START_NS = 1_451_606_400_000_000_000  # 2016-01-01T00:00:00Z
TAG_SEED = 123
VALUE_SEED = 456

FIELDS: tuple[str, ...] = (
    "usage_user",
    "usage_system",
    "usage_idle",
    "usage_nice",
    "usage_iowait",
    "usage_irq",
    "usage_softirq",
    "usage_steal",
    "usage_guest",
    "usage_guest_nice",
)
TAGS: tuple[str, ...] = (
    "hostname",
    "region",
    "datacenter",
    "rack",
    "os",
    "arch",
    "team",
    "service",
    "service_version",
    "service_environment",
)

REGIONS: dict[str, tuple[str, ...]] = {
    "us-east-1": ("us-east-1a", "us-east-1b", "us-east-1c", "us-east-1e"),
    "us-west-1": ("us-west-1a", "us-west-1b"),
    "us-west-2": ("us-west-2a", "us-west-2b", "us-west-2c"),
    "eu-west-1": ("eu-west-1a", "eu-west-1b", "eu-west-1c"),
    "eu-central-1": ("eu-central-1a", "eu-central-1b"),
    "ap-southeast-1": ("ap-southeast-1a", "ap-southeast-1b"),
    "ap-southeast-2": ("ap-southeast-2a", "ap-southeast-2b"),
    "ap-northeast-1": ("ap-northeast-1a", "ap-northeast-1c"),
    "sa-east-1": ("sa-east-1a", "sa-east-1b", "sa-east-1c"),
}
OSES: tuple[str, ...] = ("Ubuntu16.10", "Ubuntu16.04LTS", "Ubuntu15.10")
ARCHES: tuple[str, ...] = ("x64", "x86")
TEAMS: tuple[str, ...] = ("SF", "NYC", "LON", "CHI")
ENVIRONMENTS: tuple[str, ...] = ("production", "staging", "test")

STEP = 1.0  # max random-walk step per interval, in percentage points


def host_tags(hosts: int) -> list[str]:
    """Return the ``cpu,tag=value,...`` series key (no trailing space) for each host index."""
    rng = random.Random(TAG_SEED)
    regions = list(REGIONS)
    keys: list[str] = []
    for i in range(hosts):
        region = rng.choice(regions)
        values = (
            f"host_{i}",
            region,
            rng.choice(REGIONS[region]),
            str(rng.randrange(100)),
            rng.choice(OSES),
            rng.choice(ARCHES),
            rng.choice(TEAMS),
            str(rng.randrange(20)),
            str(rng.randrange(2)),
            rng.choice(ENVIRONMENTS),
        )
        keys.append("cpu," + ",".join(f"{k}={v}" for k, v in zip(TAGS, values, strict=True)))
    return keys


def num_steps(hours: float, interval_s: float) -> int:
    """Number of timestamps per host for ``hours`` at ``interval_s``."""
    return int(hours * 3600 / interval_s + 1e-9)


def generate_lines(
    hosts: int = 100,
    hours: float = 12.0,
    interval_s: float = 10,
    start_ns: int = START_NS,
) -> Iterator[bytes]:
    """Yield one line-protocol line (no newline) per host per timestamp, deterministically."""
    keys = host_tags(hosts)
    rng = random.Random(VALUE_SEED)
    state = [[rng.uniform(0.0, 100.0) for _ in FIELDS] for _ in range(hosts)]
    interval_ns = round(interval_s * 1_000_000_000)
    rand = rng.random
    nfields = len(FIELDS)
    for step in range(num_steps(hours, interval_s)):
        ts = start_ns + step * interval_ns
        for h in range(hosts):
            vals = state[h]
            for j in range(nfields):
                v = vals[j] + (rand() - 0.5) * 2.0 * STEP
                vals[j] = max(0.0, min(v, 100.0))
            fields = ",".join(f"{name}={v:.3f}" for name, v in zip(FIELDS, vals, strict=True))
            yield f"{keys[h]} {fields} {ts}".encode()


def batches(
    lines_per_batch: int = 5000,
    *,
    hosts: int = 100,
    hours: float = 12.0,
    interval_s: float = 10,
    start_ns: int = START_NS,
) -> list[bytes]:
    """Return the generated lines as newline-joined bodies of ``lines_per_batch`` lines."""
    out: list[bytes] = []
    buf: list[bytes] = []
    for line in generate_lines(hosts=hosts, hours=hours, interval_s=interval_s, start_ns=start_ns):
        buf.append(line)
        if len(buf) >= lines_per_batch:
            out.append(b"\n".join(buf))
            buf = []
    if buf:
        out.append(b"\n".join(buf))
    return out


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    p.add_argument("--hosts", type=int, default=100)
    p.add_argument("--hours", type=float, default=12.0)
    p.add_argument("--interval", type=float, default=10, help="seconds between points")
    p.add_argument("--start-ns", type=int, default=START_NS)
    p.add_argument("-o", "--output", default="-", help="output file ('-' = stdout)")
    a = p.parse_args(argv)
    t0 = time.perf_counter()
    n = 0
    out = sys.stdout.buffer if a.output == "-" else open(a.output, "wb")  # noqa: SIM115
    try:
        for line in generate_lines(a.hosts, a.hours, a.interval, a.start_ns):
            out.write(line)
            out.write(b"\n")
            n += 1
    finally:
        if out is not sys.stdout.buffer:
            out.close()
        else:
            out.flush()
    print(f"{n} lines in {time.perf_counter() - t0:.2f}s", file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
