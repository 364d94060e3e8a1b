"""Reading buffer chunks (edge_common.chunks): a few series' rows, taken column by column
with numpy, are the rows a plain filter of the same chunks finds."""

from __future__ import annotations

import random
from typing import Any

import numpy as np
import pyarrow as pa
import pytest

from edge_common.chunks import Chunk, picked_within, points_within, read_chunks
from edge_common.merge import time_values
from edge_common.picks import Pick, SeriesHasher, picked_rows

TAG = pa.dictionary(pa.int32(), pa.string())
SCHEMA = pa.schema(
    [
        ("time", pa.timestamp("ns")),
        ("host", TAG),
        ("dc", TAG),
        ("usage", pa.float64()),
        ("n", pa.int64()),
        ("u", pa.uint64()),
        ("ok", pa.bool_()),
        ("s", pa.string()),
    ]
)


def _chunk(
    rnd: random.Random, start: int, rows: int, nulls: bool, series: bool, shuffled: bool = False
) -> Chunk:
    """``series``: each host has one dc in the chunk (one series), not always the same dc
    as in other chunks; else a host's rows take either dc. ``shuffled``: rows written out
    of time order."""
    hosts = [f"h{rnd.randrange(6)}" for _ in range(rows)]
    times = list(range(start, start + rows))
    if shuffled:  # (a chunk's rows are as written: a host's may go back in time)
        rnd.shuffle(times)
    dc_of = {f"h{k}": f"d{rnd.randrange(2)}" for k in range(6)}
    dcs = [dc_of[h] if series else f"d{rnd.randrange(2)}" for h in hosts]
    data: dict[str, Any] = {
        "time": pa.array(times, pa.timestamp("ns")),
        # each chunk its own dictionary, in its own order
        "host": pa.array(hosts).dictionary_encode().cast(TAG),
        "dc": pa.array(dcs).dictionary_encode().cast(TAG),
        "usage": pa.array([None if nulls and i % 7 == 0 else rnd.random() for i in range(rows)]),
        "n": pa.array([rnd.randrange(-100, 100) for _ in range(rows)], pa.int64()),
        "u": pa.array([rnd.randrange(1 << 63) for _ in range(rows)], pa.uint64()),
        "ok": pa.array([rnd.random() < 0.5 for _ in range(rows)]),
        "s": pa.array([f"t{i}" for i in range(rows)]),
    }
    batch = pa.RecordBatch.from_pydict(data, schema=SCHEMA)
    if rnd.random() < 0.3:
        batch = batch.slice(3)  # (a batch whose columns start at an offset)
    t = time_values(batch.column("time"))
    return Chunk(batch, int(t.min()), int(t.max()), 0.0)


def _plain(chunks: list[Chunk], names: list[str], lo: int, hi: int, hosts: list[str]) -> Any:
    table = pa.Table.from_batches([c.batch for c in chunks], SCHEMA)
    rows = table.to_pylist()
    keep = [
        {n: r[n] for n in names} for r in rows if r["host"] in hosts and lo <= r["time"].value <= hi
    ]
    return keep


@pytest.mark.parametrize("seed", range(24))
def test_a_few_series_rows_are_what_a_filter_finds(seed: int) -> None:
    rnd = random.Random(seed)
    nulls = seed % 3 == 0  # (a column with nulls: the general way)
    series = seed % 2 == 1  # (tags that hold one text per host in a chunk: not looked at)
    # (rows out of time order: a host's rows within a time range are found by a mask, not
    # by a binary search over its times)
    shuffled = seed % 4 == 2
    chunks = [
        _chunk(rnd, 1000 * k, rnd.randrange(1, 300), nulls, series, shuffled)
        for k in range(rnd.randrange(1, 5))
    ]
    for _ in range(3):  # (again: what a chunk keeps of a choice of hosts is used)
        _read_like_a_filter(rnd, chunks, shuffled)


def _read_like_a_filter(rnd: random.Random, chunks: list[Chunk], shuffled: bool) -> None:
    names = rnd.choice(
        [
            ["time", "host", "usage"],
            ["host", "n", "u", "time"],
            ["dc", "ok", "time"],
            ["s", "time"],
            ["time", "dc", "host", "n"],
        ]
    )
    target = pa.schema([SCHEMA.field(n) for n in names])
    hosts = rnd.sample(["h0", "h1", "h2", "h3", "h4", "h5", "zz"], rnd.randrange(1, 4))
    lo, hi = rnd.randrange(0, 1500), rnd.randrange(1500, 5000)
    # a comparison on a column read, or on one not read (then taken along to test it)
    compare: list[tuple[str, str, object]] = rnd.choice([[], [("n", ">", 0)]])
    out = read_chunks(chunks, target, lo, hi, {"host": hosts}, compare)
    assert all(b.schema == target for b in out)
    got = pa.Table.from_batches(out, target).to_pylist() if out else []
    want = _plain(chunks, [*names, "n"], lo, hi, hosts)
    if compare and compare[0][0] == "n":
        want = [r for r in want if r["n"] > 0]
    want = [{n: r[n] for n in names} for r in want]
    assert sorted(map(repr, got)) == sorted(map(repr, want))
    for b in out:  # a dictionary holds the texts taken, no more (a tag of many values)
        for name in names:
            if pa.types.is_dictionary(target.field(name).type):
                column = b.column(target.get_field_index(name))
                assert len(column.dictionary) <= max(len(column), 1)
    if len(out) == 1 and not shuffled:
        assert np.all(np.diff(time_values(out[0].column("time"))) >= 0)


@pytest.mark.parametrize("seed", range(12))
def test_picks_within_a_range_are_those_of_the_rows_there(seed: int) -> None:
    """``picked_within``: the picks of a time range's rows of some hosts, in the columns
    named (and those picking reads), are the picks of those rows filtered plainly."""
    rnd = random.Random(seed)
    chunks = [
        _chunk(rnd, 1000 * k, rnd.randrange(1, 300), seed % 3 == 0, seed % 2 == 1, seed % 4 == 2)
        for k in range(rnd.randrange(1, 5))
    ]
    tags = ["host", "dc"]
    pick = rnd.choice(
        [Pick("last", ("usage",)), Pick("first", ("n", "usage")), Pick("series", ("host", "dc"))]
    )
    lo, hi = rnd.randrange(0, 1500), rnd.randrange(1500, 5000)
    values = rnd.choice([None, {"host": rnd.sample(["h0", "h1", "h2", "zz"], 2)}])
    names = rnd.choice([None, ["time", "usage"], ["n", "time"]])
    got = picked_within(chunks, SCHEMA, tags, pick, SeriesHasher(), lo, hi, values, names)
    rows = pa.Table.from_batches([c.batch for c in chunks], SCHEMA)
    kept = [
        r
        for r in rows.to_pylist()
        if lo <= r["time"].value <= hi and (values is None or r["host"] in values["host"])
    ]
    want = picked_rows(pa.Table.from_pylist(kept, SCHEMA), tags, pick, SeriesHasher())
    shown = names or SCHEMA.names
    assert sorted(map(repr, got.select(shown).to_pylist())) == sorted(
        map(repr, want.select(shown).to_pylist())
    )


@pytest.mark.parametrize("seed", range(8))
def test_points_within_are_those_a_filter_finds(seed: int) -> None:
    # influxql.lean's read: one field's times and values, in any order, of the rows in a
    # time range with the tag values asked; None where the field holds a null
    rnd = random.Random(seed)
    chunks = [_chunk(rnd, k * 40, 90, False, rnd.random() < 0.5, shuffled=True) for k in range(4)]
    whole = pa.Table.from_batches([c.batch for c in chunks])
    t = time_values(whole.column("time"))
    for field, kind in (("usage", pa.float64()), ("n", pa.int64()), ("u", pa.uint64())):
        for _ in range(10):
            lo, hi = sorted(rnd.randrange(-10, 200) for _ in range(2))
            values = rnd.choice([{}, {"host": ["h1"]}, {"host": ["h2", "h4"], "dc": ["d1"]}])
            keep = (t >= lo) & (t <= hi)
            for tag, allowed in values.items():
                keep &= np.isin(np.asarray(whole.column(tag).cast(pa.string())), allowed)
            parts = points_within(chunks, lo, hi, values, field, kind)
            assert parts is not None
            at = [a for a, _ in parts] or [np.zeros(0, np.int64)]
            of = [b for _, b in parts] or [np.zeros(0)]
            found = sorted(
                zip(np.concatenate(at).tolist(), np.concatenate(of).tolist(), strict=True)
            )
            x = np.asarray(whole.column(field))
            assert found == sorted(zip(t[keep].tolist(), x[keep].tolist(), strict=True))
    nulls = [_chunk(rnd, 0, 50, True, True)]
    assert points_within(nulls, 0, 100, {}, "usage", pa.float64()) is None
    assert points_within(nulls, 0, 100, {}, "absent", pa.float64()) == []  # (no point)
