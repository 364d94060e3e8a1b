from __future__ import annotations

import numpy as np

from edge_persister.keyindex import KeyIndex


def test_reports_repeats_across_and_within_inserts_like_a_set() -> None:
    rng = np.random.default_rng(3)
    index = KeyIndex()
    model: set[int] = set()
    for _ in range(300):
        keys = rng.integers(0, 20_000, size=int(rng.integers(1, 60)), dtype=np.uint64)
        expected = len(set(keys.tolist())) < len(keys) or bool(model & set(keys.tolist()))
        assert index.add(keys) == expected
        model |= set(keys.tolist())
    assert len(index) >= len(model)


def test_runs_stay_logarithmic_and_sorted() -> None:
    index = KeyIndex()
    for i in range(1024):
        assert not index.add(np.arange(i * 100, (i + 1) * 100, dtype=np.uint64))
    assert len(index.runs) <= 11
    for run in index.runs:
        assert (np.diff(run.astype(np.int64)) > 0).all()
    assert index.add(np.array([0], dtype=np.uint64))
    assert not index.add(np.array([10**9], dtype=np.uint64))
