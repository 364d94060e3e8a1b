from __future__ import annotations

import random
from typing import Any

import numpy as np
import pyarrow as pa
import pytest

from edge_common.picks import Pick, SeriesHasher, picked_rows

SCHEMA = pa.schema(
    [
        ("time", pa.timestamp("ns")),
        ("host", pa.dictionary(pa.int32(), pa.string())),
        ("dc", pa.dictionary(pa.int32(), pa.string())),
        ("a", pa.float64()),
        ("b", pa.int64()),
    ]
)


def _table(rows: list[dict[str, Any]]) -> pa.Table:
    return pa.Table.from_pylist(rows, schema=SCHEMA)


def _picked(rows: list[dict[str, Any]], pick: Pick) -> set[tuple[Any, ...]]:
    got = picked_rows(_table(rows), ["host", "dc"], pick, SeriesHasher()).to_pylist()
    return {(r["host"], r["dc"], r["time"].value) for r in got}


def test_newest_and_oldest_row_with_each_field_set_per_series() -> None:
    rows = [
        {"time": 1, "host": "x", "a": 1.0, "b": 10},
        {"time": 3, "host": "x", "a": 3.0},
        {"time": 2, "host": "x", "b": 20},  # b's newest for x, though not the newest row
        {"time": 5, "host": "x", "dc": "d1", "a": 5.0},  # another series: x with dc
        {"time": 4, "host": "y", "b": 7},  # y never sets a
        {"time": 6, "host": "y"},  # neither field: never picked
    ]
    assert _picked(rows, Pick("last", ("a", "b"))) == {
        ("x", None, 2),
        ("x", None, 3),
        ("x", "d1", 5),
        ("y", None, 4),
    }
    assert _picked(rows, Pick("first", ("a",))) == {("x", None, 1), ("x", "d1", 5)}
    assert _picked(rows, Pick("last", ("nosuch",))) == set()


def test_series_keys_ignore_column_order_and_differing_dictionaries() -> None:
    hasher = SeriesHasher()
    one = pa.table({"h": pa.array(["a", "b"]).dictionary_encode(), "z": ["q", None]})
    two = pa.table({"z": pa.array([None, "q"]).dictionary_encode(), "h": ["b", "a"]})
    k1 = hasher.keys(one, ["h", "z"]).tolist()
    k2 = hasher.keys(two, ["h", "z", "absent"]).tolist()
    assert k1 == k2[::-1] and k1[0] != k1[1]


def test_series_keys_of_few_rows_equal_those_of_many() -> None:
    """A batch of a few rows is keyed row by row, a larger one column-wise: the same keys."""
    rng = random.Random(11)
    rows = [
        {"h": rng.choice(["a", "b", "c", None]), "z": rng.choice(["q", "r", None])}
        for _ in range(200)
    ]
    whole = SeriesHasher().keys(pa.Table.from_pylist(rows), ["h", "z"]).tolist()
    hasher = SeriesHasher()
    for i in range(0, 200, 5):  # 5 rows at a time: the row-by-row path
        part = pa.Table.from_pylist(rows[i : i + 5])
        assert hasher.keys(part, ["z", "h"]).tolist() == whole[i : i + 5]


def test_picks_of_parts_give_the_picks_of_the_whole() -> None:
    """Picking per part and then again over the union equals picking over everything:
    what lets the buffer keep picks per chunk and each Parquet file hand over its own."""
    rng = random.Random(7)
    rows = [
        {
            "time": t,
            "host": f"h{rng.randrange(5)}",
            "dc": rng.choice([None, "d1"]),
            "a": rng.choice([None, rng.random()]),
            "b": rng.choice([None, rng.randrange(100)]),
        }
        for t in rng.sample(range(10_000), 600)
    ]
    hasher = SeriesHasher()
    for kind in ("first", "last"):
        pick = Pick(kind, ("a", "b"))
        whole = picked_rows(_table(rows), ["host", "dc"], pick, hasher)
        parts = [
            picked_rows(_table(rows[i : i + 50]), ["host", "dc"], pick, hasher)
            for i in range(0, 600, 50)
        ]
        joined = pa.concat_tables(parts).unify_dictionaries().combine_chunks()
        again = picked_rows(joined, ["host", "dc"], pick, hasher)
        assert sorted(again.to_pylist(), key=str) == sorted(whole.to_pylist(), key=str)


def test_wire_form() -> None:
    pick = Pick("last", ("a", "b"))
    assert Pick.from_wire(pick.to_wire()) == pick
    assert Pick.from_wire(None) is None
    with pytest.raises(ValueError):
        Pick("max", ("a",))


def test_one_row_per_value_of_a_tag_and_parts_give_the_whole() -> None:
    rng = np.random.default_rng(3)
    rows = [
        {
            "time": int(t),
            "host": None if rng.random() < 0.1 else f"h{rng.integers(7)}",
            "dc": f"z{rng.integers(3)}",
            "a": float(t),
        }
        for t in rng.integers(0, 1000, 300)
    ]
    whole = _table(rows)
    pick = Pick("distinct", ("host",))
    kept = picked_rows(whole, ["host", "dc"], pick, SeriesHasher())
    hosts = kept.column("host").to_pylist()
    assert sorted(hosts) == sorted({r["host"] for r in rows if r["host"] is not None})
    # parts, each with a dictionary of its own, picked and picked again: the same values
    parts = [_table(rows[i : i + 70]) for i in range(0, 300, 70)]
    again = pa.concat_tables(
        [picked_rows(p, ["host", "dc"], pick, SeriesHasher()) for p in parts]
    ).unify_dictionaries()
    twice = picked_rows(again, ["host", "dc"], pick, SeriesHasher())
    assert sorted(twice.column("host").to_pylist()) == sorted(hosts)
    assert Pick.from_wire(pick.to_wire()) == pick


def test_one_row_per_series_and_parts_give_the_whole() -> None:
    rng = np.random.default_rng(5)
    rows = [
        {
            "time": int(t),
            "host": None if rng.random() < 0.1 else f"h{rng.integers(6)}",
            "dc": None if rng.random() < 0.2 else f"z{rng.integers(3)}",
            "a": float(t),
        }
        for t in rng.integers(0, 1000, 400)
    ]
    series = {(r["host"], r["dc"]) for r in rows}
    pick = Pick("series", ("dc", "host"))
    kept = picked_rows(_table(rows), ["host", "dc"], pick, SeriesHasher())
    found = list(zip(kept.column("host").to_pylist(), kept.column("dc").to_pylist(), strict=True))
    assert sorted(found, key=str) == sorted(series, key=str)  # each once
    # a condition on tags holds for all of a series' rows: before or after the pick alike
    eu = [r for r in rows if r["dc"] == "z1"]
    after = {(h, d) for h, d in found if d == "z1"}
    before = picked_rows(_table(eu), ["host", "dc"], pick, SeriesHasher())
    hosts, dcs = before.column("host").to_pylist(), before.column("dc").to_pylist()
    assert set(zip(hosts, dcs, strict=True)) == after
    parts = [_table(rows[i : i + 90]) for i in range(0, 400, 90)]
    again = pa.concat_tables(
        [picked_rows(p, ["host", "dc"], pick, SeriesHasher()) for p in parts]
    ).unify_dictionaries()
    twice = picked_rows(again, ["host", "dc"], pick, SeriesHasher())
    assert twice.num_rows == len(series)
