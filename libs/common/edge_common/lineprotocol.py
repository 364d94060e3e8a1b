"""Columnar line protocol parser: a request body in, one set of columns per measurement out.

The common path never builds a Python object per field value: lines are split, tokens cut and
values cast with ``pyarrow.compute`` and numpy over whole columns; each distinct series key is
parsed once. Any line the columnar path does not fully trust (escapes, quotes, odd spacing,
values that fail to cast) goes to the exact per-line parser in :mod:`edge_common.lp_exact`,
which also writes the error message for lines that are invalid.
"""

from __future__ import annotations

import re

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from edge_common.errors import BadRequest
from edge_common.lp_exact import ExactLine, LineSyntaxError, parse_line
from edge_common.lp_rows import LineError, ParsedBody, RowCollector
from edge_common.schema import ColumnType

__all__ = ["PRECISIONS", "parse", "precision_factor"]

# nanoseconds per unit; "auto" guesses per timestamp from its magnitude, as InfluxDB 3 does
PRECISIONS: dict[str, int] = {
    "ns": 1,
    "n": 1,
    "nanosecond": 1,
    "us": 1_000,
    "u": 1_000,
    "µ": 1_000,
    "microsecond": 1_000,
    "ms": 1_000_000,
    "millisecond": 1_000_000,
    "s": 1_000_000_000,
    "second": 1_000_000_000,
    "m": 60_000_000_000,
    "h": 3_600_000_000_000,
    "auto": 0,
}
_I64_MAX = 2**63 - 1
_BOOL_TRUE = pa.array(["t", "T", "true", "True", "TRUE"])
_BOOL_ALL = pa.array(["t", "T", "true", "True", "TRUE", "f", "F", "false", "False", "FALSE"])
_CHECK = {
    ColumnType.FLOAT: r"^-?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$",
    ColumnType.INTEGER: r"^-?\d+$",
    ColumnType.UINTEGER: r"^\d+$",
}
_TS_CHECK = r"^-?\d+$"
_SERIES_PART = re.compile(r"[^,=\s]+=[^,=\s]+")


def precision_factor(precision: str) -> int:
    try:
        return PRECISIONS[precision]
    except KeyError:
        raise BadRequest(
            f"invalid precision {precision!r}: use one of ns, us, ms, s (or n, u, m, h, auto)"
        ) from None


def parse(
    body: bytes, *, precision: str = "ns", default_time_ns: int, force_exact: bool = False
) -> ParsedBody:
    """Parse a whole body. Lines without a timestamp get ``default_time_ns``."""
    factor = precision_factor(precision)
    rows = RowCollector()
    errors: list[LineError] = []
    if not body:
        return ParsedBody({}, errors)
    lines = pc.split_pattern(pa.array([body], pa.binary()), b"\n").flatten()
    lengths = np.asarray(pc.binary_length(lines), dtype=np.int64)
    starts = np.concatenate(([0], np.cumsum(lengths + 1)[:-1]))
    first, last = _edge_bytes(lines, lengths)
    nonblank = lengths > 0
    comment = nonblank & (first == ord("#"))
    # lines the columnar path cannot take: escapes, quotes, CR, leading space, bad UTF-8
    dirty = nonblank & ~comment & ((first == ord(" ")) | (first == ord("\t")) | (last == 13))
    if force_exact:
        dirty = nonblank & ~comment
    else:
        if b'"' in body:
            dirty |= np.asarray(pc.match_substring(lines, b'"'), dtype=bool)
        if b"\\" in body:
            dirty |= np.asarray(pc.match_substring(lines, b"\\"), dtype=bool)
        if not body.isascii():
            utf8_ok = np.asarray(
                pc.utf8_is_printable(lines.cast(pa.string()))
                if _valid_utf8(body)
                else pa.repeat(False, len(lines))
            )
            dirty |= ~utf8_ok & nonblank & ~comment
    consumed = _parse_exact(
        body, starts, np.flatnonzero(dirty), rows, errors, factor, default_time_ns
    )
    clean = nonblank & ~comment & ~dirty & ~consumed
    if clean.any():
        clean_idx = np.flatnonzero(clean)
        sub = lines if len(clean_idx) == len(lines) else lines.take(pa.array(clean_idx))
        rejected = _parse_columnar(
            sub.cast(pa.string()), clean_idx + 1, rows, factor, default_time_ns
        )
        if len(rejected):
            _parse_exact(body, starts, clean_idx[rejected], rows, errors, factor, default_time_ns)
    errors.sort(key=lambda e: e.line_number)
    return ParsedBody(rows.finish(), errors)


def _valid_utf8(body: bytes) -> bool:
    try:
        body.decode()
    except UnicodeDecodeError:
        return False
    return True


def _edge_bytes(arr: pa.Array, lengths: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """First and last byte of each (binary or string) value; 0 for empty values."""
    offsets = np.frombuffer(
        arr.buffers()[1], dtype=np.int32, count=len(arr) + 1, offset=arr.offset * 4
    )
    data_buf = arr.buffers()[2]
    data = (
        np.frombuffer(data_buf, dtype=np.uint8) if data_buf is not None else np.zeros(1, np.uint8)
    )
    if not len(data):
        data = np.zeros(1, np.uint8)
    lo = np.minimum(offsets[:-1], len(data) - 1)
    hi = np.clip(offsets[1:] - 1, 0, len(data) - 1)
    empty = lengths == 0
    return np.where(empty, 0, data[lo]), np.where(empty, 0, data[hi])


def _scale_time(raw: np.ndarray, factor: int) -> tuple[np.ndarray, np.ndarray]:
    """Timestamps in ns and a mask of those out of range."""
    if factor == 0:  # auto: seconds, ms, us or ns by magnitude
        mag = np.abs(raw)
        factor_arr = np.where(
            mag < 5_000_000_000,
            1_000_000_000,
            np.where(mag < 5_000_000_000_000, 1_000_000, np.where(mag < 5e15, 1_000, 1)),
        ).astype(np.int64)
    else:
        factor_arr = np.full(len(raw), factor, dtype=np.int64)
    bad = np.abs(raw) > (_I64_MAX // factor_arr)
    return np.where(bad, 0, raw) * factor_arr, bad


def _parse_exact(
    body: bytes,
    starts: np.ndarray,
    physical: np.ndarray,
    rows: RowCollector,
    errors: list[LineError],
    factor: int,
    default_time_ns: int,
) -> np.ndarray:
    """Parse the given physical lines one by one; return the mask of physical lines consumed."""
    consumed = np.zeros(len(starts), dtype=bool)
    line_no: list[int] = []
    series: list[int] = []
    times: list[int] = []
    values: dict[tuple[str, ColumnType], tuple[list[int], list[object]]] = {}
    for k in physical.tolist():
        if consumed[k]:
            continue
        start = int(starts[k])
        i = start
        while i < len(body) and body[i] in b" \t\r":
            i += 1
        if i >= len(body) or body[i] in b"\n#":
            consumed[k] = True
            continue
        result, end = parse_line(body, i)
        stop = int(np.searchsorted(starts, end, side="left"))
        consumed[k : max(stop, k + 1)] = True
        if isinstance(result, LineSyntaxError):
            errors.append(LineError(k + 1, _text(body, start, end), str(result)))
            continue
        ts = default_time_ns if result.timestamp is None else result.timestamp
        if result.timestamp is not None:
            scaled, bad = _scale_time(np.array([ts], dtype=np.int64), factor)
            if bad[0]:
                errors.append(
                    LineError(k + 1, _text(body, start, end), f"timestamp {ts} is out of range")
                )
                continue
            ts = int(scaled[0])
        row = len(line_no)
        line_no.append(k + 1)
        series.append(rows.series_id(_series_key(result)))
        times.append(ts)
        for key, kind, value in result.fields:
            entry = values.setdefault((key, kind), ([], []))
            entry[0].append(row)
            entry[1].append(value)
    if line_no:
        first = rows.add_rows(np.array(line_no), np.array(series), np.array(times))
        for (key, kind), (r, v) in values.items():
            rows.add_field(key, kind, np.array(r) + first, pa.array(v, type=kind.arrow_type))
    return consumed


def _series_key(line: ExactLine) -> tuple[str, tuple[tuple[str, str], ...]]:
    return line.measurement, tuple(sorted(line.tags))


def _text(body: bytes, start: int, end: int) -> str:
    return body[start:end].rstrip(b"\r\n").decode(errors="replace")


def _parse_columnar(
    lines: pa.StringArray,
    line_numbers: np.ndarray,
    rows: RowCollector,
    factor: int,
    default_time_ns: int,
) -> np.ndarray:
    """Parse clean lines column by column. Returns the indices (into ``lines``) it rejects, for
    the exact parser to judge and explain."""
    n = len(lines)
    bad = np.zeros(n, dtype=bool)
    parts = pc.split_pattern(lines, " ")
    nparts = np.asarray(pc.list_value_length(parts), dtype=np.int64)
    bad |= (nparts < 2) | (nparts > 3)
    flat = parts.flatten()
    offs = np.asarray(parts.offsets, dtype=np.int64)[:-1]
    last_part = len(flat) - 1
    key_col = flat.take(pa.array(offs))
    field_col = flat.take(pa.array(np.minimum(offs + 1, last_part)))
    # series keys: parse each distinct one once
    enc = pc.dictionary_encode(key_col)
    series_of_distinct = np.array(
        [_columnar_series(rows, s) for s in enc.dictionary.to_pylist()], dtype=np.int64
    )
    line_series = series_of_distinct[np.asarray(enc.indices, dtype=np.int64)]
    bad |= line_series < 0
    # timestamps
    time_ns = np.full(n, default_time_ns, dtype=np.int64)
    has_ts = nparts == 3
    if has_ts.any():
        ts_idx = np.flatnonzero(has_ts)
        ts_str = flat.take(pa.array(offs[ts_idx] + 2))
        raw, ok = _cast_checked(ts_str, pa.int64(), _TS_CHECK)
        bad[ts_idx[~ok]] = True
        scaled, out_of_range = _scale_time(raw, factor)
        bad[ts_idx[out_of_range]] = True
        time_ns[ts_idx] = scaled
    # fields: split "k=v,k=v" into one entry per value with its line as parent
    fparts = pc.split_pattern(field_col, ",")
    nfields = np.asarray(pc.list_value_length(fparts), dtype=np.int64)
    kv = fparts.flatten()
    parent = np.repeat(np.arange(n), nfields)
    kvs = pc.split_pattern(kv, "=", max_splits=1)
    nkv = np.asarray(pc.list_value_length(kvs), dtype=np.int64)
    kv_flat = kvs.flatten()
    kv_offs = np.asarray(kvs.offsets, dtype=np.int64)[:-1]
    bad[parent[nkv != 2]] = True
    keys = kv_flat.take(pa.array(kv_offs))
    vals = kv_flat.take(pa.array(np.minimum(kv_offs + 1, len(kv_flat) - 1)))
    key_len = np.asarray(pc.binary_length(keys), dtype=np.int64)
    val_len = np.asarray(pc.binary_length(vals), dtype=np.int64)
    bad[parent[(key_len == 0) | (val_len == 0)]] = True
    key_enc = pc.dictionary_encode(keys)
    key_names: list[str] = key_enc.dictionary.to_pylist()
    key_idx = np.asarray(key_enc.indices, dtype=np.int64)
    code = parent * max(len(key_names), 1) + key_idx
    if len(code) > 1 and (np.diff(code) <= 0).any():  # a key twice in one line
        uniq, counts = np.unique(code, return_counts=True)
        bad[uniq[counts > 1] // max(len(key_names), 1)] = True
    # types from the first and last byte of each value
    vfirst, vlast = _edge_bytes(vals, val_len)
    kind = np.full(len(vals), -1, dtype=np.int8)
    digit_or_dot = ((vlast >= 48) & (vlast <= 57)) | (vlast == ord("."))
    kind[digit_or_dot] = 0
    kind[vlast == ord("i")] = 1
    kind[vlast == ord("u")] = 2
    boolish = np.isin(vlast, np.frombuffer(b"tTeEfF", dtype=np.uint8))
    if boolish.any():
        bidx = np.flatnonzero(boolish)
        is_bool = np.asarray(pc.is_in(vals.take(pa.array(bidx)), value_set=_BOOL_ALL), dtype=bool)
        kind[bidx[is_bool]] = 3
    kind[vfirst == ord("+")] = -1
    bad[parent[kind < 0]] = True
    casts: list[tuple[int, ColumnType, np.ndarray, pa.Array]] = []
    for k_code, col_type in enumerate(
        (ColumnType.FLOAT, ColumnType.INTEGER, ColumnType.UINTEGER, ColumnType.BOOLEAN)
    ):
        idx = np.flatnonzero(kind == k_code)
        if not len(idx):
            continue
        raw_vals = vals.take(pa.array(idx))
        if col_type is ColumnType.BOOLEAN:
            typed: pa.Array = pc.is_in(raw_vals, value_set=_BOOL_TRUE)
        else:
            if col_type is not ColumnType.FLOAT:
                raw_vals = pc.utf8_slice_codeunits(raw_vals, 0, -1)
            cast, ok = _cast_checked(raw_vals, col_type.arrow_type, _CHECK[col_type])
            if col_type is ColumnType.FLOAT:
                ok &= np.isfinite(cast)
            bad[parent[idx[~ok]]] = True
            typed = pa.array(cast)
        casts.append((k_code, col_type, idx, typed))
    good = np.flatnonzero(~bad)
    if not len(good):
        return np.flatnonzero(bad)
    row_of_line = np.full(n, -1, dtype=np.int64)
    row_of_line[good] = np.arange(len(good))
    first_row = rows.add_rows(line_numbers[good], line_series[good], time_ns[good])
    for _, col_type, idx, typed in casts:
        entry_rows = row_of_line[parent[idx]]
        keep = entry_rows >= 0
        kidx = key_idx[idx]
        for key_i in np.unique(kidx[keep]):
            sel = np.flatnonzero(keep & (kidx == key_i))
            rows.add_field(
                key_names[int(key_i)],
                col_type,
                entry_rows[sel] + first_row,
                typed.take(pa.array(sel)) if len(sel) != len(typed) else typed,
            )
    return np.flatnonzero(bad)


def _cast_checked(values: pa.Array, to: pa.DataType, pattern: str) -> tuple[np.ndarray, np.ndarray]:
    """Cast strings to ``to``; values that do not cast come back masked as not ok."""
    try:
        out = pc.cast(values, to)
        return np.asarray(out), np.ones(len(values), dtype=bool)
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
        pass
    ok = np.asarray(pc.match_substring_regex(values, pattern), dtype=bool)
    result = np.zeros(len(values), dtype=to.to_pandas_dtype())
    idx = np.flatnonzero(ok)
    if len(idx):
        try:
            result[idx] = np.asarray(pc.cast(values.take(pa.array(idx)), to))
        except (pa.ArrowInvalid, pa.ArrowNotImplementedError):  # overflow: find each one
            for i in idx.tolist():
                try:
                    result[i] = pc.cast(values.slice(i, 1), to)[0].as_py()
                except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
                    ok[i] = False
    return result, ok


def _columnar_series(rows: RowCollector, key: str) -> int:
    """Series id of an unescaped series key ``measurement[,k=v...]``; -1 when the exact parser
    must judge it (empty parts, repeated tag keys, odd characters)."""
    measurement, *pairs = key.split(",")
    if not measurement or measurement.startswith("#"):
        return -1
    tags: list[tuple[str, str]] = []
    for pair in pairs:
        if not _SERIES_PART.fullmatch(pair):
            return -1
        k, v = pair.split("=")
        tags.append((k, v))
    tags.sort()
    if any(tags[i][0] == tags[i + 1][0] for i in range(len(tags) - 1)):
        return -1
    return rows.series_id((measurement, tuple(tags)))
