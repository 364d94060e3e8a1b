"""A tag's index (edge_common.tagindex): a value's rows within a time range found by a
binary search over its times are the rows a mask finds, in row order, also where its
times go back (rows written out of time order); where several values are asked for, the
index says it cannot (``None``). Its rows of values are in row order either way."""

from __future__ import annotations

import random

import numpy as np
import pyarrow as pa
import pytest

from edge_common.tagindex import TagIndex


def _rows_by_mask(
    values: list[str | None], times: np.ndarray, v: str, lo: int | None, hi: int | None
) -> list[int]:
    return [
        i
        for i, (w, t) in enumerate(zip(values, times.tolist(), strict=True))
        if w == v and (lo is None or t >= lo) and (hi is None or t <= hi)
    ]


@pytest.mark.parametrize("seed", range(12))
def test_a_values_rows_in_a_time_range(seed: int) -> None:
    rnd = random.Random(seed)
    names = ["a", "b", "c", "d"]
    values: list[str | None] = [rnd.choice([*names, None]) for _ in range(rnd.randrange(1, 400))]
    times = np.array(sorted(rnd.randrange(0, 1000) for _ in values), dtype=np.int64)
    back = rnd.choice(names)  # one value whose rows go back in time somewhere
    spots = [i for i, v in enumerate(values) if v == back]
    if len(spots) > 1:
        i, j = spots[0], spots[-1]
        times[i], times[j] = times[j] + 1, times[i]
    if seed % 3 == 0:  # every value's rows out of order (several writers at once)
        times = np.array([rnd.randrange(0, 1000) for _ in values], dtype=np.int64)
    index = TagIndex.of(pa.array(values).dictionary_encode(), len(values), times)
    for _ in range(20):
        v = rnd.choice([*names, "absent"])
        lo = rnd.choice([None, rnd.randrange(-10, 1010)])
        hi = rnd.choice([None, rnd.randrange(-10, 1010)])
        found = index.rows_between([v], times, lo, hi)
        assert found is not None
        assert found.tolist() == _rows_by_mask(values, times, v, lo, hi)
        anyhow = index.rows_between([v], times, lo, hi, in_row_order=False)
        assert anyhow is not None and sorted(anyhow.tolist()) == found.tolist()
        assert index.rows([v]).tolist() == _rows_by_mask(values, times, v, None, None)
    both = index.rows(["a", "b"]).tolist()
    assert both == [i for i, w in enumerate(values) if w in ("a", "b")]
    assert index.rows_between(["a", "b"], times, 0, 10) is None  # (several values: a mask's)
    without_times = TagIndex.of(pa.array(values).dictionary_encode(), len(values))
    assert without_times.rows_between(["a"], times, 0, 10) is None


def test_a_place_beginning_below_the_last_is_in_order() -> None:
    # the rows of "b" begin at an earlier time than the last of "a": no step back of either
    values = ["a", "a", "b", "b"]
    times = np.array([5, 9, 1, 2], dtype=np.int64)
    index = TagIndex.of(pa.array(values).dictionary_encode(), 4, times)
    assert index.rows_between(["b"], times, 2, None).tolist() == [3]
    assert index.rows_between(["a"], times, None, 8).tolist() == [0]
