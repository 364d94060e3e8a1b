"""Rows grouped by one tag's value, for reading one series of thousands by position.

A buffer chunk or a persisted file holds the rows of many series; a query for a few of them
(``WHERE host = 'a'``) took their rows by testing every row, O(rows) and a pass over the
tag's whole dictionary each time. An index made once per chunk or file (both never change)
gives their positions directly: one host's hour of 50,000 in a 1 M-row file, 15 → ~1 ms.
"""

from __future__ import annotations

import bisect
from dataclasses import dataclass, field

import numpy as np
import pyarrow as pa

__all__ = ["TagIndex"]


@dataclass(slots=True)
class TagIndex:
    position: dict[str, int]  # value → its place in the dictionary
    order: np.ndarray  # row numbers, grouped by dictionary place (row order within)
    bounds: np.ndarray  # rows of place k: order[bounds[k]:bounds[k + 1]]
    # made with the rows' times (``of(…, times)``): per place, whether its rows' times never
    # go back (rows_between). The times themselves are not kept (the chunk's column is):
    # in order of place they were another 8 bytes a row, for ~2 µs a query saved
    ordered: np.ndarray | None = None
    # of a place whose times go back, its rows in time order, made when first searched
    # (a buffer chunk written by several connections at once holds each series' rows out
    # of time order: TSBS loaded by 4, 99 % of its hosts); kept for the places a
    # dashboard asks about, not all (``_TIMED_PLACES``)
    timed: dict[int, np.ndarray] = field(default_factory=dict)

    @classmethod
    def of(
        cls, column: pa.Array | None, num_rows: int, times: np.ndarray | None = None
    ) -> TagIndex:
        """The index of a tag ``column`` (dictionary-encoded; ``None``: the tag is absent,
        null in every one of ``num_rows`` rows). With the rows' ``times`` (int64 ns), the
        index also finds a value's rows within a time range by a binary search
        (``rows_between``)."""
        if column is None or not pa.types.is_dictionary(column.type):
            values, codes = [], np.full(num_rows, 0, dtype=np.int64)
        else:
            values = column.dictionary.to_pylist()
            codes = np.asarray(column.indices.fill_null(len(values)), dtype=np.int64)
        order = np.argsort(codes, kind="stable").astype(np.int32)
        bounds = np.searchsorted(codes[order], np.arange(len(values) + 1))
        position = {v: k for k, v in enumerate(values) if v is not None}
        index = cls(position, order, bounds)
        if times is not None:
            grouped = times[order]
            # a place is in time order unless a row's time is before the previous row's
            # of the same place (a step back where a place begins is no step back)
            back = np.flatnonzero(grouped[1:] < grouped[:-1]) + 1
            place = np.searchsorted(bounds, back, side="right") - 1
            index.ordered = np.ones(len(bounds), dtype=bool)
            index.ordered[place[back != bounds[place]]] = False
        return index

    @property
    def nbytes(self) -> int:
        held = 0 if self.ordered is None else self.ordered.nbytes
        return self.order.nbytes + self.bounds.nbytes + 100 * len(self.position) + held

    def rows_between(
        self,
        allowed: list[str] | set[str],
        times: np.ndarray,
        lo: int | None,
        hi: int | None,
        in_row_order: bool = True,
    ) -> np.ndarray | None:
        """Positions, in row order (or, ``in_row_order`` False, in any), of the rows holding
        the one value in ``allowed`` with ``lo <= time <= hi`` (``times``: each row's, as
        the index was made with), by a binary search over that value's times; ``None``
        where that cannot be: made without times, or several values. A buffer chunk holds
        its rows as written, many series mixed: masking one host's 700 rows of a chunk by
        time was ~15 µs of a one-host hour's ~300."""
        if self.ordered is None or len(allowed) != 1:
            return None
        k = self.position.get(next(iter(allowed)))
        if k is None:
            return self.order[:0]
        rows = self.order[self.bounds[k] : self.bounds[k + 1]]
        if not self.ordered[k]:
            timed = self.timed.get(k)
            if timed is None:
                if len(self.timed) >= _TIMED_PLACES:
                    self.timed.clear()
                timed = self.timed[k] = rows[np.argsort(times[rows], kind="stable")]
            rows = timed
        # a search reading ~20 of the value's times, not all of them gathered first (700
        # rows scattered over a 70,000-row chunk: ~8 µs of cache misses)
        at = times.item
        first = 0 if lo is None else bisect.bisect_left(rows, lo, key=at)
        last = len(rows) if hi is None else bisect.bisect_right(rows, hi, first, key=at)
        rows = rows[first : max(last, first)]
        return rows if self.ordered[k] or not in_row_order else np.sort(rows)

    def rows(self, allowed: list[str] | set[str]) -> np.ndarray:
        """Positions of the rows holding one of ``allowed``, in row order."""
        parts = [
            self.order[self.bounds[k] : self.bounds[k + 1]]
            for k in sorted(self.position[v] for v in allowed if v in self.position)
        ]
        if len(parts) == 1:
            return parts[0]
        return np.sort(np.concatenate(parts)) if parts else np.zeros(0, dtype=np.int32)


_TIMED_PLACES = 256  # places kept in time order per index (each ~3 KB: one host's rows)
