from __future__ import annotations

import itertools
import random

import pyarrow as pa
import pytest

from edge_common.merge import compact, joined, overlaps

Span = tuple[int, int] | None


def _covered_twice(ranges: list[Span]) -> set[int]:
    """The definition, point by point: every time two or more ranges hold."""
    counts: dict[int, int] = {}
    for r in ranges:
        if r is not None:
            for t in range(r[0], r[1] + 1):
                counts[t] = counts.get(t, 0) + 1
    return {t for t, n in counts.items() if n >= 2}


@pytest.mark.parametrize(
    ("ranges", "expected"),
    [
        ([], []),
        ([(0, 10), None], []),
        ([(0, 10), (11, 20)], []),  # touching is not overlapping
        ([(0, 10), (10, 20)], [(10, 10)]),  # bounds are inclusive
        ([(0, 100), (10, 20), (50, 60)], [(10, 20), (50, 60)]),
        ([(50, 60), (0, 100), (55, 200)], [(50, 100)]),
    ],
)
def test_overlaps(ranges: list[Span], expected: list[tuple[int, int]]) -> None:
    assert overlaps(ranges) == expected


def test_overlaps_agrees_with_every_pair_of_ranges() -> None:
    rng = random.Random(1)
    for _ in range(5000):
        ranges: list[Span] = []
        for _ in range(rng.randrange(0, 9)):
            start = rng.randrange(0, 60)
            ranges.append(None if rng.random() < 0.1 else (start, start + rng.randrange(0, 15)))
        found = overlaps(ranges)
        assert {t for lo, hi in found for t in range(lo, hi + 1)} == _covered_twice(ranges)
        # as few stretches as can be: in order, neither overlapping nor touching
        assert all(a[1] + 1 < b[0] for a, b in itertools.pairwise(found)), found


def test_compact_keeps_the_rows_texts_and_drops_the_dictionary_they_do_not_use() -> None:
    hosts = pa.array([f"host_{i}" for i in range(10_000)])
    codes = pa.array([7, None, 9_999, 7, 3], pa.int32())
    tag = pa.DictionaryArray.from_arrays(codes, hosts)
    small = pa.DictionaryArray.from_arrays(pa.array([0, 1, 0, 1, 0], pa.int32()), ["a", "b"])
    batch = pa.record_batch({"host": tag, "dc": small, "v": [1.0, 2.0, 3.0, 4.0, 5.0]})
    out = compact(batch)
    assert out.schema == batch.schema
    assert out.to_pylist() == batch.to_pylist()
    assert len(out.column(0).dictionary) == 3  # host_7, host_9999, host_3
    assert out.column(1) is batch.column(1) or out.column(1).equals(batch.column(1))
    # a dictionary no larger than the rows is left as it is (nothing to gain)
    assert compact(out) is out


def test_joined_keeps_row_order_and_unites_columns_and_dictionaries() -> None:
    a = pa.record_batch(
        {"host": pa.array(["x", "y"]).dictionary_encode(), "v": pa.array([1.0, 2.0])}
    )
    b = pa.record_batch(
        {"host": pa.array(["z", "x"]).dictionary_encode(), "n": pa.array([7, 8], pa.int64())}
    )
    out = joined([a, b])
    assert out.to_pydict() == {
        "host": ["x", "y", "z", "x"],
        "v": [1.0, 2.0, None, None],
        "n": [None, None, 7, 8],
    }
    assert out.column(0).dictionary.to_pylist() == ["x", "y", "z"]
    assert joined([a]) is a
