from __future__ import annotations

import itertools

from bench import tsbs


def test_deterministic() -> None:
    a = list(tsbs.generate_lines(hosts=5, hours=0.1))
    b = list(tsbs.generate_lines(hosts=5, hours=0.1))
    assert a == b
    assert tsbs.batches(7, hosts=5, hours=0.1) == tsbs.batches(7, hosts=5, hours=0.1)


def test_line_count() -> None:
    hosts, hours, interval = 7, 0.5, 10
    lines = list(tsbs.generate_lines(hosts=hosts, hours=hours, interval_s=interval))
    assert len(lines) == hosts * hours * 3600 / interval == 1260
    bodies = tsbs.batches(1000, hosts=hosts, hours=hours, interval_s=interval)
    assert [b.count(b"\n") + 1 for b in bodies] == [1000, 260]
    assert b"\n".join(bodies) == b"\n".join(lines)


def test_line_shape() -> None:
    hosts = 10
    lines = list(tsbs.generate_lines(hosts=hosts, hours=0.1, interval_s=10))
    for line in lines:
        key, fields, ts = line.decode().split(" ")
        measurement, *tags = key.split(",")
        assert measurement == "cpu"
        assert [t.split("=")[0] for t in tags] == list(tsbs.TAGS)
        pairs = [f.split("=") for f in fields.split(",")]
        assert [k for k, _ in pairs] == list(tsbs.FIELDS)
        assert all(0.0 <= float(v) <= 100.0 for _, v in pairs)
        assert int(ts) >= tsbs.START_NS
    # TSBS order: every host for one timestamp, then the next timestamp.
    first = [line.split(b" ")[2] for line in itertools.islice(lines, hosts + 1)]
    assert len(set(first[:hosts])) == 1
    assert int(first[hosts]) - int(first[0]) == 10 * 1_000_000_000
    assert lines[0].startswith(b"cpu,hostname=host_0,")
    assert lines[hosts - 1].startswith(f"cpu,hostname=host_{hosts - 1},".encode())
