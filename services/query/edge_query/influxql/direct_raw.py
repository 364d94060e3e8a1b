"""Raw points without SQL: ``SELECT usage_user, usage_system FROM cpu WHERE host = 'a' AND
time > now() - 1h``, columns that are fields and tags as stored, conditions on tags equal
to text and on time (the shape of ``influxql.direct``'s aggregates, and its reasons).

The answer is the table select.py's SQL would return: group tags as text, ``__time``, the
columns, rows holding a value in any field shown, ordered by the group tags (a missing one
last), time, then the other tags (a missing one first: 1.x's series key order).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pyarrow as pa

from edge_common.schema import TIME_COLUMN, TableSchema
from edge_query.influxql import ast
from edge_query.influxql.columns import Column, is_field
from edge_query.influxql.direct import (
    MOST_CELLS,
    Coded,
    Resolve,
    selected,
    tag_equalities,
    text_codes,
)
from edge_query.influxql.translate import TimeRange, quote_ident
from edge_query.planner import TableNeed

__all__ = ["DirectRaw", "direct_raw"]


@dataclass
class DirectRaw:
    table: TableSchema
    cols: list[Column]
    group: list[str]
    equal: dict[str, set[str]]
    rng: TimeRange
    need: TableNeed
    rows_are_points: bool = False  # (a subquery's answer: every row, see run_select)

    def run(self, data: pa.Table) -> pa.Table | None:
        """The SQL's answer over ``data``; None: many rows, for SQL over them instead."""
        if data.num_rows * (1 + len(self.cols)) > MOST_CELLS:
            return None
        return _points(self, data)

    def sql_rows(self, data: pa.Table) -> pa.Table:
        """``data`` for SQL to answer over (every column it names was fetched)."""
        return data


def direct_raw(
    table: TableSchema,
    cols: list[Column],
    group: list[str],
    residual: ast.Expr | None,
    rng: TimeRange,
    resolve: Resolve | None = None,
) -> DirectRaw | None:
    """The plan for a raw statement this module answers; None sends it to SQL."""
    if not cols or any(
        c.kind != "raw" or c.field not in table.columns or c.sql != quote_ident(c.field or "")
        for c in cols
    ):
        return None  # expressions, math, unknown names: SQL
    if any(c.name in group or c.name.startswith("__") for c in cols):
        return None  # a name the answer's own columns take
    equal = tag_equalities(residual, table, resolve)
    if equal is None:
        return None
    need = TableNeed(table.name)
    need.widen(
        sorted({TIME_COLUMN, *table.tag_names, *(c.field or "" for c in cols)}),
        rng.lo if rng.bounded_below else None,
        rng.hi if rng.bounded_above else None,
        equal,
    )
    return DirectRaw(table, cols, group, equal, rng, need)


def _points(d: DirectRaw, data: pa.Table) -> pa.Table:
    if not data.num_rows:  # (a LIMIT's probe of a window often finds none: no tag decoded)
        empty: dict[str, pa.Array | pa.ChunkedArray] = dict.fromkeys(
            d.group, pa.array([], pa.string())
        )
        empty["__time"] = pa.array([], pa.int64())
        for c in d.cols:
            empty[c.name] = data.column(c.field or "").slice(0, 0)
        return pa.table(empty)
    # the group tags and those the condition names as ranks; the others only when they
    # order rows (most hold one text per group: a host's own tags)
    t, keep, codes = selected(data, d.rng, d.equal, {*d.group, *d.equal})
    shown = np.zeros(len(t), dtype=bool)  # a value in any field shown (a tag makes no row)
    shown[:] = d.rows_are_points
    for c in d.cols:
        if is_field(d.table, c.field):
            column = data.column(c.field or "")
            if not column.null_count:  # every row holds this one (a compute call less)
                shown[:] = True
                break
            shown |= np.asarray(column.is_valid(), dtype=bool)
    rows = np.flatnonzero(keep & shown)
    # sort keys, least significant first: the other tags (missing first), time, the group
    # tags (missing last)
    keys: list[np.ndarray] = []
    groups = _group_numbers(d.group, codes)
    present = set(data.schema.names)
    for tag in reversed([g for g in sorted(d.table.tag_names) if g not in d.group]):
        if tag not in present:
            continue
        if _one_per_group(data.column(tag), groups):
            continue  # one text in each group (a host's own tags): no order among them
        found, names = codes[tag] if tag in codes else text_codes(data.column(tag))
        missing = len(names) - 1
        keys.append(np.where(found == missing, 0, found + 1)[rows])
    order = rows[_order(keys, t[rows], d.group, codes, groups, rows)]
    # every row, in the order held (one series' rows in time order): no take
    whole = len(order) == data.num_rows and np.array_equal(order, np.arange(len(order)))
    out: dict[str, pa.Array | pa.ChunkedArray] = {}
    for g in d.group:
        if g in codes:  # (by the codes: Python texts of 432,000 rows took ~20 ms)
            found, names = codes[g]
            at = found[order]
            missing = at == len(names) - 1
            index = pa.array(at.astype(np.int32), mask=missing if missing.any() else None)
            texts = pa.array(names[:-1], pa.string())
            out[g] = pa.DictionaryArray.from_arrays(index, texts).cast(pa.string())
        else:
            out[g] = pa.nulls(len(order), pa.string())
    out["__time"] = pa.array(t[order], pa.int64())
    # the fields taken in one call (a compute call costs ~10 µs before any work)
    fields = data.select([c.field or "" for c in d.cols])
    if not whole:
        fields = fields.take(pa.array(order, pa.int64()))
    for k, c in enumerate(d.cols):
        out[c.name] = fields.column(k)
    return pa.table(out)


def _group_numbers(group: list[str], codes: dict[str, Coded]) -> Groups | None:
    """Each row's group, numbered from its group tags' ranks in their order (so numbers
    order as the tags do), how many numbers there can be, and how many occur; ``None``
    where too many could (then every tag is a sort key)."""
    number: np.ndarray | None = None
    size = 1
    for g in group:
        if g in codes:
            found, names = codes[g]
            number = found if number is None else number * len(names) + found
            size *= len(names)
            if size > _MOST_NUMBERS:
                return None
    if number is None:
        return None
    return number, size, int(np.count_nonzero(np.bincount(number, minlength=size)))


# rows' group numbers, how many there can be, how many occur (_group_numbers)
Groups = tuple[np.ndarray, int, int]


def _one_per_group(column: pa.ChunkedArray, groups: Groups | None) -> bool:
    """Whether a tag holds one value in each group (a missing one counts as a value): then
    it orders nothing within one. Asked of its dictionary's indices, not its texts (a text
    twice in a dictionary only makes the answer no, never wrong)."""
    arr = column.combine_chunks() if column.num_chunks != 1 else column.chunk(0)
    if not pa.types.is_dictionary(arr.type):
        return False
    texts = len(arr.dictionary) + 1
    indices = arr.indices
    found = np.asarray(indices.fill_null(texts - 1) if indices.null_count else indices)
    if not len(found) or (found == found[0]).all():
        return True  # one value at every row (or no row)
    if groups is None or groups[1] * texts > _MOST_NUMBERS:
        return False
    number, size, occur = groups
    pairs = np.bincount(number * texts + found, minlength=size * texts)
    return int(np.count_nonzero(pairs)) == occur


def _order(
    keys: list[np.ndarray],
    t: np.ndarray,
    group: list[str],
    codes: dict[str, Coded],
    groups: Groups | None,
    rows: np.ndarray,
) -> np.ndarray:
    """The rows' order: by group tags (a missing one last), time, then ``keys`` (the other
    tags, least significant first). Without other keys, one stable argsort of the group
    number and time together where they fit 63 bits (lexsort sorts once per key)."""
    if not keys and groups is not None and len(t):
        lo, span = int(t.min()), int(t.max()) - int(t.min()) + 1
        if groups[1] * span < 1 << 62:
            return np.argsort(groups[0][rows] * span + (t - lo), kind="stable")
    keys = [*keys, t]
    for g in reversed(group):
        if g in codes:
            keys.append(codes[g][0][rows])
    return np.lexsort(keys)


_MOST_NUMBERS = 1 << 20  # groups times a tag's texts counted with bincount, at most
