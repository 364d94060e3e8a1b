"""The reducers redone from influxd's steps (edge_query.influxql.reducers). Their answers
are compared with influxd's own in tests/compat; here, what they must do on any input."""

from __future__ import annotations

import random
from collections import Counter
from typing import Any

import numpy as np
import pyarrow as pa
import pytest

from edge_query.influxql.reducers import (
    MOST_SORTED,
    go_sort,
    integral,
    mode,
    percentile_times,
)
from edge_query.influxql.vectorized import integrals, modes


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


@pytest.mark.parametrize("desc", [False, True])
def test_a_lone_percentile_has_the_time_go_s_sort_puts_at_its_rank(desc: bool) -> None:
    """Each series' percentile() row gets the time of the point at its rank once the points
    are sorted by value as influxd sorts them (Go's sort: equal values in no set order),
    whether other points share its value or not; points without a value do not count."""
    rnd = random.Random(11)
    hosts, rows = ["a", "b", "c"], []
    for h in hosts:  # a: few values (ties), b: distinct values, c: ties and missing values
        for i in range(300):
            v = {"a": float(rnd.randrange(6)), "b": rnd.random(), "c": float(rnd.randrange(4))}[h]
            rows.append((h, 1_000 + 10 * i, None if h == "c" and i % 7 == 0 else v))
    points = pa.table(
        {
            "host": pa.array([r[0] for r in rows]),
            "__time": pa.array([r[1] for r in rows], pa.int64()),
            "f": pa.array([r[2] for r in rows], pa.float64()),
        }
    )
    for percent in (1.0, 50.0, 95.0, 100.0):
        series: list[dict[str, Any]] = [{"tags": {"host": h}, "values": [[0, 9.0]]} for h in hosts]
        percentile_times(series, points, "f", percent, ["host"], desc)
        for s in series:
            pts = [(t, v) for h, t, v in rows if h == s["tags"]["host"] and v is not None]
            if desc:
                pts.reverse()
            go_sort(pts, lambda i, j, p=pts: p[i][1] < p[j][1])
            rank = int(np.floor(len(pts) * percent / 100 + 0.5)) - 1
            assert s["values"][0][0] == pts[rank][0], (s["tags"], percent)


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


def _groups(seed: int, integer: bool) -> tuple[np.ndarray, np.ndarray, np.ndarray, list[Any]]:
    """Random series as with_reduced gets them: by group, then time; repeated times, nulls,
    points on interval ends, single-point groups, many equal values (ties)."""
    rng = np.random.default_rng(seed)
    times: list[int] = []
    runs: list[tuple[int, int]] = []
    for _ in range(int(rng.integers(1, 9))):
        n = int(rng.choice([1, 2, 5, 40, 300]))
        t = np.sort(rng.integers(-50, 400, n)) * 10  # on a 10-step grid: on interval ends too
        runs.append((len(times), len(times) + n))
        times += t.tolist()
    n = len(times)
    values = rng.integers(-3, 4, n) if integer else np.round(rng.normal(0, 3, n), 1)
    held = rng.random(n) > 0.1
    return np.array(times, dtype=np.int64), values, held, runs


def _one_by_one(times: Any, values: Any, held: Any, a: int, b: int) -> list[tuple[int, Any]]:
    return [(int(times[j]), values[j].item()) for j in range(a, b) if held[j]]


@pytest.mark.parametrize("integer", [False, True])
@pytest.mark.parametrize("every", [None, 70, 1000])
@pytest.mark.parametrize("seed", range(12))
def test_integrals_at_once_are_the_point_by_point_answers(
    seed: int, every: int | None, integer: bool
) -> None:
    times, values, held, runs = _groups(seed, integer)
    offset = 30

    def window(t: int) -> tuple[int, int]:
        assert every is not None
        return t - (t - offset) % every, t - (t - offset) % every + every

    def many(t: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        assert every is not None
        start = t - (t - offset) % every
        return start, start + every

    found = integrals(times, values, held, runs, many if every else None, 7, integer)
    for k, (a, b) in enumerate(runs):
        pts = _one_by_one(times, values, held, a, b)
        expected = integral(pts, 7, window if every else None, True, integer)
        assert found.get(k, []) == expected  # the same floats: the same steps in the same order


@pytest.mark.parametrize("every", [None, 70, 1000])
@pytest.mark.parametrize("seed", range(12))
def test_modes_at_once_are_the_point_by_point_answers(seed: int, every: int | None) -> None:
    times, values, held, runs = _groups(seed, integer=seed % 2 == 0)

    def many(t: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        assert every is not None
        start = t - t % every
        return start, start + every

    found, left = modes(times, values, held, runs, many if every else None, -5)
    settled = {(g, a) for g, a, _ in left}
    for k, (a, b) in enumerate(runs):
        cells: dict[int, list[tuple[int, Any]]] = {}
        for t, v in _one_by_one(times, values, held, a, b):
            cells.setdefault(t - t % every if every else -5, []).append((t, v))
        # a cell in a tie is left to mode(): those come back by their rows
        expected = [(start, mode(pts)) for start, pts in cells.items()]
        got = found.get(k, [])
        assert len(got) + sum(1 for g, _ in settled if g == k) == len(expected)
        assert set(got) <= set(expected)
        for g, first, end in left:
            if g == k:
                pts = _one_by_one(times, values, held, first, end)
                counts = sorted(Counter(v for _, v in pts).values())
                assert len(counts) > 1 and counts[-1] == counts[-2] > 1  # a true tie
