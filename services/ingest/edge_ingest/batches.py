"""From parsed line protocol to record batches that fit the catalog.

New columns take the type of their first occurrence; lines that disagree with the catalog
(another type, a tag used as a field or the reverse, a reserved or invalid name) are rejected
one by one, the rest go in. A rejected line leaves nothing behind: the columns only it
would fill are not made (``kept_columns``). Each rejection also carries influxd 1.x's words
for it where influxd has some, for the 1.x write API.
"""

from __future__ import annotations

import dataclasses
import functools
from dataclasses import dataclass

import numpy as np
import pyarrow as pa

from edge_common.errors import BadRequest
from edge_common.lp_exact import ExactLine, parse_line
from edge_common.lp_rows import FieldGroup, ParsedTable
from edge_common.schema import TIME_COLUMN, ColumnType, TableSchema, validate_column_name

BEYOND_RETENTION = "points beyond retention policy"  # influxd's words
_UNMADE = "column {!r} was not made: the lines naming it first were refused"

__all__ = [
    "Rejection",
    "build_batch",
    "in_line_order",
    "influxd_conflict",
    "kept_columns",
    "proposed_columns",
    "refused",
]


@dataclass(frozen=True, slots=True)
class Rejection:
    line_number: int
    message: str
    influxd: str | None = None  # influxd 1.x's words for it, where it has them


def proposed_columns(table: ParsedTable) -> tuple[dict[str, ColumnType], list[Rejection]]:
    """Column kinds this table's rows ask for (first occurrence wins), and lines using names
    that may never be columns."""
    rejections: list[Rejection] = []
    for key, tag in table.tags.items():
        if _name_problem(key) is not None:
            valid = np.flatnonzero(np.asarray(tag.is_valid(), dtype=bool))
            said = _influxd_time("tag key: input tag", key, table)
            rejections += _reject(table, valid, _name_problem(key) or "", said)
    for key, groups in table.fields.items():
        problem = _name_problem(key)
        said = _influxd_time("field name: input field", key, table)
        for g in groups:
            if problem is not None:
                rejections += _reject(table, g.positions, problem, said)
    return _firsts(table), rejections


def _firsts(table: ParsedTable, bad: np.ndarray | None = None) -> dict[str, ColumnType]:
    """Each name's kind at its first occurrence (among the rows not ``bad``), in the order
    of those; names that may never be columns left out."""
    firsts: list[tuple[int, str, ColumnType]] = []
    for key, tag in table.tags.items():
        if _name_problem(key) is not None or not len(tag):
            continue
        if bad is None and not tag.null_count:  # (the common case: its first row)
            firsts.append((int(table.line_numbers[0]), key, ColumnType.TAG))
            continue
        valid = np.asarray(tag.is_valid(), dtype=bool)
        rows = np.flatnonzero(valid if bad is None else valid & ~bad)
        if len(rows):
            firsts.append((int(table.line_numbers[rows[0]]), key, ColumnType.TAG))
    for key, groups in table.fields.items():
        if _name_problem(key) is not None:
            continue
        for g in groups:
            rows = g.positions if bad is None else g.positions[~bad[g.positions]]
            if len(rows):
                firsts.append((int(table.line_numbers[rows.min()]), key, g.type))
    firsts.sort(key=lambda x: x[0])
    proposal: dict[str, ColumnType] = {}
    for _, key, kind in firsts:
        proposal.setdefault(key, kind)
    return proposal


@functools.lru_cache(maxsize=1 << 16)  # the same names come in every write
def _name_problem(name: str) -> str | None:
    try:
        validate_column_name(name)
    except BadRequest as err:
        return err.message
    return None


def _influxd_time(what: str, key: str, table: ParsedTable) -> str | None:
    """influxd's words for a tag or field named time (its other name problems it has none
    for: influxd takes them)."""
    if key != TIME_COLUMN:
        return None
    return f'invalid {what} "{key}" on measurement "{table.name}" is invalid'


def _reject(
    table: ParsedTable, positions: np.ndarray, message: str, influxd: str | None = None
) -> list[Rejection]:
    return [Rejection(int(n), message, influxd) for n in table.line_numbers[positions]]


def _conflict(name: str, expected: ColumnType, got: ColumnType) -> str:
    return (
        f"invalid column type for column '{name}', expected {expected.iox_name}, got {got.iox_name}"
    )


def influxd_conflict(measurement: str, name: str, expected: ColumnType, got: ColumnType) -> str:
    """influxd's words for a field of another type than its column's (a name that is a tag
    here and a field there has none: influxd keeps tags and fields apart)."""
    kinds = {ColumnType.UINTEGER: "unsigned"}
    return (
        f'field type conflict: input field "{name}" on measurement "{measurement}" is type '
        f"{kinds.get(got, got.value)}, already exists as type {kinds.get(expected, expected.value)}"
    )


def in_line_order(rejection: Rejection, line: str, schemas: dict[str, TableSchema]) -> Rejection:
    """A type conflict told of the line's first field of another type, as influxd tells it
    (``refused`` meets a line's fields by name, in the order the request first names
    them)."""
    if not (rejection.influxd or "").startswith("field type conflict"):
        return rejection
    parsed, _ = parse_line(line.encode(), 0)
    schema = schemas.get(parsed.measurement) if isinstance(parsed, ExactLine) else None
    if isinstance(parsed, ExactLine) and schema is not None:
        for key, kind, _ in parsed.fields:
            column = schema.columns.get(key)
            if column is not None and column.is_field and column is not kind:
                said = influxd_conflict(parsed.measurement, key, column, kind)
                return dataclasses.replace(rejection, influxd=said)
    return rejection


def refused(
    table: ParsedTable,
    columns: dict[str, ColumnType],
    name_problems: list[Rejection],
    oldest_ns: int | None = None,
) -> tuple[np.ndarray, list[Rejection], dict[str, FieldGroup]]:
    """Which rows do not fit ``columns`` (a mask), why (names that may not be columns, a
    type other than the column's, a time before ``oldest_ns``: past the retention policy's
    duration), and the field group of each column the others fill."""
    n = table.num_rows
    bad = np.zeros(n, dtype=bool)
    rejections = list(name_problems)
    if oldest_ns is not None and len(pos := np.flatnonzero(table.time_ns < oldest_ns)):
        rejections += _reject(table, pos, BEYOND_RETENTION)
        bad[pos] = True
    if name_problems:
        bad_lines = np.array([r.line_number for r in name_problems])
        bad |= np.isin(table.line_numbers, bad_lines)
    for key, tag in table.tags.items():
        kind = columns.get(key)
        if kind is not None and kind is not ColumnType.TAG:
            pos = np.flatnonzero(np.asarray(tag.is_valid(), dtype=bool))
            rejections += _reject(table, pos, _conflict(key, kind, ColumnType.TAG))
            bad[pos] = True
    fields: dict[str, FieldGroup] = {}
    for key, groups in table.fields.items():
        kind = columns.get(key)
        for g in groups:
            if kind is g.type:
                fields[key] = g
            elif kind is not None:
                said = influxd_conflict(table.name, key, kind, g.type) if kind.is_field else None
                rejections += _reject(table, g.positions, _conflict(key, kind, g.type), said)
                bad[g.positions] = True
    return bad, _dedupe(rejections), fields


def kept_columns(
    table: ParsedTable,
    known: dict[str, ColumnType],
    proposal: dict[str, ColumnType],
    name_problems: list[Rejection],
    oldest_ns: int | None = None,
) -> dict[str, ColumnType]:
    """The columns to make for ``table`` (``proposal``: every name's first kind, from
    ``proposed_columns``): a refused line leaves none behind, and a new name takes its kind
    from the first line kept, as influxd makes no field for a point it drops. A line
    refused against ``known`` (the stored columns) makes nothing; of the others, the first
    kinds decide, and lines of another kind are refused (again, until that settles)."""
    if all(c in known for c in proposal):
        return proposal
    bad = refused(table, known, name_problems, oldest_ns)[0]
    for _ in range(4):  # (a line refused can leave a name's first kind to a later one)
        proposal = _firsts(table, bad)
        now_bad, _, fields = refused(table, proposal | known, name_problems, oldest_ns)
        settled = bool((now_bad == bad).all())
        bad = now_bad
        if settled:
            break
    used = {k for k, g in fields.items() if not bad[g.positions].all()}
    used |= {k for k, t in table.tags.items() if (np.asarray(t.is_valid(), bool) & ~bad).any()}
    return {c: kind for c, kind in proposal.items() if c in known or c in used}


def build_batch(
    table: ParsedTable,
    schema: TableSchema,
    name_problems: list[Rejection],
    oldest_ns: int | None = None,
) -> tuple[pa.RecordBatch | None, list[Rejection]]:
    """The rows that fit ``schema`` as one batch (columns in catalog order), and the
    rejections of the rows that do not (``refused``)."""
    n = table.num_rows
    bad, rejections, fields = refused(table, schema.columns, name_problems, oldest_ns)
    # (a name without a column, which kept_columns left out as only refused lines had it:
    # a line still holding it is refused too, never stored without it)
    for key, tag in table.tags.items():
        if key not in schema.columns and _name_problem(key) is None:
            pos = np.flatnonzero(np.asarray(tag.is_valid(), dtype=bool) & ~bad)
            rejections = _dedupe(rejections + _reject(table, pos, _UNMADE.format(key)))
            bad[pos] = True
    for key, groups in table.fields.items():
        if key not in schema.columns and _name_problem(key) is None:
            for g in groups:
                pos = g.positions[~bad[g.positions]]
                rejections = _dedupe(rejections + _reject(table, pos, _UNMADE.format(key)))
                bad[pos] = True
    keep = np.flatnonzero(~bad)
    if not len(keep):
        return None, rejections
    columns: dict[str, pa.Array] = {}
    take = None if len(keep) == n else pa.array(keep)
    for name, kind in schema.columns.items():
        if kind is ColumnType.TAG and name in table.tags:
            arr: pa.Array = table.tags[name]
            columns[name] = arr if take is None else arr.take(take)
        elif name in fields:
            g = fields[name]
            if len(g.positions) == n and take is None and np.all(g.positions == np.arange(n)):
                columns[name] = g.values
            else:
                index = np.full(n, -1, dtype=np.int64)
                index[g.positions] = np.arange(len(g.positions))
                index = index[keep]
                columns[name] = g.values.take(pa.array(index, mask=index < 0))
        elif name == TIME_COLUMN:
            columns[name] = pa.array(table.time_ns[keep], type=pa.timestamp("ns"))
    batch = pa.RecordBatch.from_arrays(
        list(columns.values()), schema=schema.arrow_schema(list(columns))
    )
    return batch, rejections


def _dedupe(rejections: list[Rejection]) -> list[Rejection]:
    seen: dict[int, Rejection] = {}
    for r in rejections:
        seen.setdefault(r.line_number, r)
    return sorted(seen.values(), key=lambda r: r.line_number)
