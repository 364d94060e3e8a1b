"""A set of 64-bit row keys that answers "was any of these seen before?" cheaply.

Keys are kept as sorted runs whose sizes at least double from newest to oldest (a small
log-structured merge): an insert sorts only the new keys, a lookup is a binary search per
run (O(log² n)), and merging costs O(log n) amortised per key instead of re-sorting every
key held on each insert.
"""

from __future__ import annotations

import numpy as np

__all__ = ["KeyIndex"]


class KeyIndex:
    def __init__(self) -> None:
        self.runs: list[np.ndarray] = []

    def __len__(self) -> int:
        return sum(len(r) for r in self.runs)

    def add(self, keys: np.ndarray) -> bool:
        """Insert ``keys``; return whether any was already held or repeats within ``keys``."""
        new = np.sort(keys.astype(np.uint64, copy=False))
        seen = len(new) > 1 and bool((new[1:] == new[:-1]).any())
        for run in self.runs:
            if seen:
                break
            idx = np.minimum(np.searchsorted(run, new), len(run) - 1)
            seen = bool((run[idx] == new).any())
        if len(new):
            self.runs.append(new)
        while len(self.runs) > 1 and 2 * len(self.runs[-1]) >= len(self.runs[-2]):
            newer, older = self.runs.pop(), self.runs.pop()
            self.runs.append(np.sort(np.concatenate((older, newer)), kind="stable"))
        return seen
