from __future__ import annotations

import random

import pytest

from edge_common.merge import overlaps

Span = tuple[int, int] | None


def _by_pairs(ranges: list[Span]) -> list[tuple[int, int]]:
    """The definition: every pairwise intersection, merged where they touch."""
    spans = [r for r in ranges if r is not None]
    hits = sorted(
        (max(a[0], b[0]), min(a[1], b[1]))
        for i, a in enumerate(spans)
        for b in spans[i + 1 :]
        if max(a[0], b[0]) <= min(a[1], b[1])
    )
    merged: list[tuple[int, int]] = []
    for lo, hi in hits:
        if merged and lo <= merged[-1][1] + 1:
            merged[-1] = (merged[-1][0], max(merged[-1][1], hi))
        else:
            merged.append((lo, hi))
    return merged


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
        assert overlaps(ranges) == _by_pairs(ranges), ranges
