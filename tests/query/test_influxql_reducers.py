"""The reducers redone from influxd's steps (edge_query.influxql.reducers). Their answers
are compared with influxd's own in tests/compat; here, what they must do on any input."""

from __future__ import annotations

import random

import pytest

from edge_query.influxql.reducers import MOST_SORTED, go_sort, integral, mode


@pytest.mark.parametrize("n", [0, 1, 2, 12, 13, 49, 50, 51, 200, 3000])
def test_go_sort_sorts(n: int) -> None:
    rng = random.Random(n)
    for spread in (3, 1000):  # many equal values, and few
        data = [rng.randint(0, spread) for _ in range(n)]
        for start in (data, sorted(data), sorted(data, reverse=True)):
            a = list(start)
            go_sort(a, lambda i, j, a=a: a[i] < a[j])
            assert a == sorted(start)


def test_go_sort_is_not_stable_as_gos_is_not() -> None:
    """Equal values do not keep their order: which one a tie lands on is the point."""
    points = [(t, t % 3) for t in range(100)]
    go_sort(points, lambda i, j: points[i][1] < points[j][1])
    assert [v for _, v in points] == sorted(v for _, v in points)
    assert [t for t, v in points if v == 0] != sorted(t for t, v in points if v == 0)


def test_mode() -> None:
    assert mode([(1, 5.0)]) == 5.0
    assert mode([(1, 3.0), (2, 1.0), (3, 2.0)]) == 1.0  # nothing repeats: the smallest
    assert mode([(1, 3.0), (2, 1.0), (3, 3.0)]) == 3.0
    assert mode([(1, "b"), (2, "a"), (3, "b")]) == "b"
    assert mode([(1, True), (2, False)]) is True  # booleans tied: true
    assert mode([(1, False), (2, False), (3, True)]) is False
    tie = [(t, float(t % 2)) for t in range(MOST_SORTED + 2)]
    assert mode(tie) == 0.0  # a tie among too many points: the smallest


def test_integral_without_intervals() -> None:
    # floats: the area of each trapezoid, shown at time 0
    points = [(0, 1.0), (10, 3.0), (20, 3.0)]
    assert integral(points, 1, None, True, False) == [(0, 20.0 + 30.0)]
    # a point again at the same time replaces the one before
    assert integral([(0, 1.0), (10, 3.0), (10, 5.0)], 1, None, True, False) == [(0, 20.0)]
    assert integral([], 1, None, True, False) == []


def test_integral_interpolates_at_interval_ends() -> None:
    def window(t: int) -> tuple[int, int]:
        return t - t % 10, t - t % 10 + 10

    # 0..10: from 0 (0) to the end (5): 25; 10..20: from 5 to 10 at 15: 37.5 (its last
    # point is not at the interval's start, so it is emitted)
    out = integral([(0, 0.0), (15, 7.5), (20, 10.0)], 1, window, True, False)
    assert out == [(0, 25.0), (10, 0.5 * (5.0 + 7.5) * 5 + 0.5 * (7.5 + 10.0) * 5)]
