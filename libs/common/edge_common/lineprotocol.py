"""Columnar line protocol parser: a request body in, one set of columns per measurement out.

The common path never builds a Python object per field value: lines are split, tokens cut and
values cast with ``pyarrow.compute`` and numpy over whole columns; each distinct series key is
parsed once. Quoted string values are taken too, as long as every quote of the line is an end
of one. Any line the columnar path does not fully trust (escapes, odd spacing, values that
fail to cast) goes to the exact per-line parser in :mod:`edge_common.lp_exact`, which also
writes the error message for lines that are invalid. Both give the same result for any line.

The columnar path has a fixed cost of ~0.8 ms a body (some fifty Arrow and numpy calls),
more than the exact parser takes for a few lines: a body of up to ``_SMALL_BODY`` bytes goes
to the exact parser whole (one TSBS line: 0.93 ms columnar, 0.47 exact; they cost the same
at ~3 KB). ``path`` chooses a parser for every body ("columnar", "exact"), for tests.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from edge_common.errors import BadRequest
from edge_common.lp_exact import ExactLine, LineSyntaxError, parse_line, skip_blank
from edge_common.lp_influxd import line_end
from edge_common.lp_rows import LineError, ParsedBody, RowCollector, SeriesKey, group_positions
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
_I64_MIN, _I64_MAX = -(2**63), 2**63 - 1
_BOOL_TRUE = pa.array(["t", "T", "true", "True", "TRUE"])
_BOOL_ALL = pa.array(["t", "T", "true", "True", "TRUE", "f", "F", "false", "False", "FALSE"])
_CHECK = {
    ColumnType.FLOAT: r"^-?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$",
    ColumnType.INTEGER: r"^-?\d+$",
    ColumnType.UINTEGER: r"^\d+$",
}
_TS_CHECK = r"^-?\d+$"
# a measurement, then tags with one "=" each and no whitespace (else the exact parser judges)
_SERIES_KEY = re.compile(r"[^,#][^,]*(?:,[^,=\s]+=[^,=\s]+)*")
# value kinds of the columnar path, by code
_KINDS = (
    ColumnType.FLOAT,
    ColumnType.INTEGER,
    ColumnType.UINTEGER,
    ColumnType.BOOLEAN,
    ColumnType.STRING,
)
# what _mask_quoted puts for a space and a comma inside quotes: bytes no columnar line holds
_HIDDEN_SPACE, _HIDDEN_COMMA = "\n", "\\"
_SMALL_BODY = 2048  # bytes: a body this small goes to the exact parser (module docstring)


def precision_factor(precision: str) -> int:
    try:
        return PRECISIONS[precision]
    except KeyError:
        raise BadRequest(
            f"invalid precision {precision!r}: use one of ns, us, ms, s (or n, u, m, h, auto)"
        ) from None


def parse(
    body: bytes,
    *,
    precision: str = "ns",
    default_time_ns: int,
    path: str = "auto",
    influxd: bool = False,
) -> ParsedBody:
    """Parse a whole body. Lines without a timestamp get ``default_time_ns``.

    ``influxd`` (a 1.x write): influxd 1.x's rules where they differ from InfluxDB 3's. A
    tag value holding an unescaped ``=`` is refused (the columnar path never takes one: such
    lines go to the exact parser), and a refused line ends where influxd ends it
    (``lp_influxd.line_end``: a quote after a space may carry it over newlines)."""
    factor = precision_factor(precision)
    rows = RowCollector()
    errors: list[LineError] = []
    if not body:
        return ParsedBody({}, errors)
    if path == "exact" or (path == "auto" and len(body) <= _SMALL_BODY):
        starts = np.concatenate(([0], np.flatnonzero(np.frombuffer(body, np.uint8) == 10) + 1))
        every = np.arange(len(starts))
        _parse_exact(body, starts, every, rows, errors, factor, default_time_ns, influxd)
        errors.sort(key=lambda e: e.line_number)
        return ParsedBody(rows.finish(), errors)
    lines = pc.split_pattern(pa.array([body], pa.binary()), b"\n").flatten()
    lengths = np.asarray(pc.binary_length(lines), dtype=np.int64)
    starts = np.concatenate(([0], np.cumsum(lengths + 1)[:-1]))
    first, last = _edge_bytes(lines, lengths)
    nonblank = lengths > 0
    comment = nonblank & (first == ord("#"))
    # lines the columnar path cannot take: escapes, CR, leading space, odd or bad UTF-8
    dirty = nonblank & ~comment & ((first == ord(" ")) | (first == ord("\t")) | (last == 13))
    if b"\\" in body:
        dirty |= _lines_holding(body, b"\\", starts)
    if not body.isascii():
        if _valid_utf8(body):
            printable = pc.utf8_is_printable(lines.cast(pa.string()))
            dirty |= ~np.asarray(printable, dtype=bool) & nonblank & ~comment
        else:  # the exact parser rejects the lines that are not UTF-8
            dirty |= _non_ascii_lines(body, starts, lengths) & ~comment
    candidates = np.flatnonzero(nonblank & ~comment & ~dirty)
    exact = np.flatnonzero(dirty)
    columnar: _Columnar | None = None
    if len(candidates):
        sub = lines if len(candidates) == len(lines) else lines.take(pa.array(candidates))
        quotes = None
        if b'"' in body:
            sub, quotes = _mask_quoted(sub)
        columnar = _parse_columnar(
            sub.cast(pa.string()), candidates + 1, quotes, rows, factor, default_time_ns
        )
        if columnar.bad.any():
            exact = np.union1d(exact, candidates[columnar.bad])
    # in line order, so that a quoted string running over several lines takes them along
    consumed = _parse_exact(body, starts, exact, rows, errors, factor, default_time_ns, influxd)
    if columnar is not None:
        columnar.commit(rows, ~consumed[candidates])
    errors.sort(key=lambda e: e.line_number)
    return ParsedBody(rows.finish(), errors)


def _valid_utf8(body: bytes) -> bool:
    try:
        body.decode()
    except UnicodeDecodeError:
        return False
    return True


def _lines_holding(body: bytes, byte: bytes, starts: np.ndarray) -> np.ndarray:
    """Mask of the lines holding ``byte`` (numpy over the body: much faster than Arrow's
    substring match on binary)."""
    where = np.flatnonzero(np.frombuffer(body, dtype=np.uint8) == ord(byte))
    mask = np.zeros(len(starts), dtype=bool)
    mask[np.searchsorted(starts, where, side="right") - 1] = True
    return mask


def _non_ascii_lines(body: bytes, starts: np.ndarray, lengths: np.ndarray) -> np.ndarray:
    """Mask of the lines holding a byte above 0x7f."""
    high = np.concatenate(([0], np.cumsum(np.frombuffer(body, dtype=np.uint8) >= 0x80)))
    return (high[starts + lengths] - high[starts]) > 0


def _offsets(arr: pa.Array) -> np.ndarray:
    """The int32 offsets of a (binary or string) array, ``len(arr) + 1`` of them."""
    return np.frombuffer(
        arr.buffers()[1], dtype=np.int32, count=len(arr) + 1, offset=arr.offset * 4
    )


def _edge_bytes(arr: pa.Array, lengths: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """First and last byte of each (binary or string) value; 0 for empty values."""
    offsets = _offsets(arr)
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


# precision=auto: below each magnitude, the nanoseconds per unit (else nanoseconds)
_AUTO = ((5_000_000_000, 1_000_000_000), (5_000_000_000_000, 1_000_000), (5 * 10**15, 1_000))


def _scale_time(raw: np.ndarray, factor: int) -> tuple[np.ndarray, np.ndarray]:
    """Timestamps in ns and a mask of those out of range."""
    if factor == 0:  # auto: seconds, ms, us or ns by magnitude; never out of range
        mag = np.abs(raw)
        mag[mag < 0] = _I64_MAX  # abs(int64 min) wraps around
        factors = np.ones(len(raw), dtype=np.int64)
        for bound, unit in reversed(_AUTO):
            factors[mag < bound] = unit
        return raw * factors, np.zeros(len(raw), dtype=bool)
    if factor == 1:
        return raw, np.zeros(len(raw), dtype=bool)
    limit = _I64_MAX // factor  # == -(_I64_MIN // factor) as no factor is a power of two
    bad = (raw > limit) | (raw < -limit)
    return np.where(bad, 0, raw) * factor, bad


def _scale_one(ts: int, factor: int) -> int | None:
    """One timestamp in ns, None when out of range: :func:`_scale_time` for one value."""
    if factor == 0:
        factor = next((unit for bound, unit in _AUTO if abs(ts) < bound), 1)
    scaled = ts * factor
    return scaled if _I64_MIN <= scaled <= _I64_MAX else None


def _parse_exact(
    body: bytes,
    starts: np.ndarray,
    physical: np.ndarray,
    rows: RowCollector,
    errors: list[LineError],
    factor: int,
    default_time_ns: int,
    influxd: bool = False,
) -> np.ndarray:
    """Parse the given physical lines (ascending) one by one; return the mask of physical
    lines consumed, including those a quoted string carried a line over."""
    consumed = np.zeros(len(starts), dtype=bool)
    line_no: list[int] = []
    series: list[int] = []
    times: list[int] = []
    values: dict[tuple[str, ColumnType], tuple[list[int], list[object]]] = {}
    for k in physical.tolist():
        if consumed[k]:
            continue
        start = int(starts[k])
        i, blank = skip_blank(body, start)
        if blank:
            consumed[k] = True
            continue
        result, end = parse_line(body, i, strict_tags=influxd)
        if influxd and isinstance(result, LineSyntaxError):
            end = min(line_end(body, start) + 1, len(body))
        stop = int(np.searchsorted(starts, end, side="left"))
        consumed[k : max(stop, k + 1)] = True
        if isinstance(result, LineSyntaxError):
            errors.append(LineError(k + 1, _text(body, start, end), str(result)))
            continue
        ts = default_time_ns
        if result.timestamp is not None:
            scaled = _scale_one(result.timestamp, factor)
            if scaled is None:
                message = f"timestamp {result.timestamp} is out of range"
                errors.append(LineError(k + 1, _text(body, start, end), message))
                continue
            ts = scaled
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
    """The original text of a (logical) line, without its line ending."""
    text = body[start:end]
    if text.endswith(b"\n"):
        text = text[:-1]
    if text.endswith(b"\r"):
        text = text[:-1]
    return text.decode(errors="replace")


def _mask_quoted(lines: pa.Array) -> tuple[pa.Array, np.ndarray]:
    """Hide the spaces and commas inside quotes from the splitting that follows; also count
    the quotes of each line.

    Quotes pair up in order within each line holding an even number of them. Inside a pair a
    space becomes a newline and a comma a backslash (neither occurs in a line the columnar
    path takes); string values turn them back. Whether the pairs really were string values is
    checked afterwards: a line passes only when each of its quotes ends one of its strings.
    """
    n = len(lines)
    offsets = _offsets(lines)
    base = int(offsets[0])
    data = np.frombuffer(lines.buffers()[2], dtype=np.uint8)[base : int(offsets[-1])].copy()
    rel = offsets - base
    quotes = np.flatnonzero(data == ord('"'))
    line_of = np.searchsorted(rel, quotes, side="right") - 1
    counts = np.bincount(line_of, minlength=n)
    quotes = quotes[counts[line_of] % 2 == 0]
    opens, closes = quotes[0::2], quotes[1::2]
    if len(opens):
        seps = np.flatnonzero((data == ord(" ")) | (data == ord(",")))
        pair = np.searchsorted(opens, seps, side="right") - 1
        inside = seps[(pair >= 0) & (seps < closes[np.maximum(pair, 0)])]
        data[inside] = np.where(
            data[inside] == ord(" "), ord(_HIDDEN_SPACE), ord(_HIDDEN_COMMA)
        ).astype(np.uint8)
    masked = pa.Array.from_buffers(
        pa.binary(), n, [None, pa.py_buffer(rel.astype(np.int32)), pa.py_buffer(data)]
    )
    return masked, counts


@dataclass
class _Columnar:
    """What the columnar path made of its lines; :meth:`commit` adds the rows."""

    bad: np.ndarray  # per line: left for the exact parser to judge
    line_numbers: np.ndarray
    line_series: np.ndarray
    time_ns: np.ndarray
    parent: np.ndarray  # per field entry: its line
    key_idx: np.ndarray  # per field entry: its key, an index into key_names
    key_names: list[str]
    casts: list[tuple[ColumnType, np.ndarray, pa.Array]]  # entries of one type, their values

    def commit(self, rows: RowCollector, keep: np.ndarray) -> None:
        """Add the lines that are good and in ``keep`` (not swallowed by a quoted string of an
        earlier line) to ``rows``."""
        good = np.flatnonzero(~self.bad & keep)
        if not len(good):
            return
        row_of_line = np.full(len(self.bad), -1, dtype=np.int64)
        row_of_line[good] = np.arange(len(good))
        first_row = rows.add_rows(
            self.line_numbers[good], self.line_series[good], self.time_ns[good]
        )
        for col_type, idx, typed in self.casts:
            entry_rows = row_of_line[self.parent[idx]]
            kept = entry_rows >= 0
            kept_idx = np.arange(len(idx)) if kept.all() else np.flatnonzero(kept)
            for key_i, at in group_positions(self.key_idx[idx[kept_idx]], len(self.key_names)):
                sel = kept_idx[at]
                rows.add_field(
                    self.key_names[key_i],
                    col_type,
                    entry_rows[sel] + first_row,
                    typed.take(pa.array(sel)) if len(sel) != len(typed) else typed,
                )


def _parse_columnar(
    lines: pa.StringArray,
    line_numbers: np.ndarray,
    quotes: np.ndarray | None,
    rows: RowCollector,
    factor: int,
    default_time_ns: int,
) -> _Columnar:
    """Parse lines column by column; those it does not take are marked ``bad``, for the exact
    parser to judge and explain. ``quotes`` counts the quotes of each line (None: no quotes;
    else the lines come from :func:`_mask_quoted`)."""
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
    keys, vals, no_eq = _split_once(kv, "=")
    bad[parent[no_eq]] = True
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
    if quotes is not None:
        kind[(vfirst == ord('"')) & (vlast == ord('"')) & (val_len >= 2)] = 4
        # every quote of the line must be an end of one of its string values
        bad |= quotes != 2 * np.bincount(parent[kind == 4], minlength=n)
    bad[parent[kind < 0]] = True
    casts: list[tuple[ColumnType, np.ndarray, pa.Array]] = []
    for k_code, col_type in enumerate(_KINDS):
        idx = np.flatnonzero(kind == k_code)
        if not len(idx):
            continue
        raw_vals = vals if len(idx) == len(vals) else vals.take(pa.array(idx))
        if col_type is ColumnType.BOOLEAN:
            typed: pa.Array = pc.is_in(raw_vals, value_set=_BOOL_TRUE)
        elif col_type is ColumnType.STRING:
            typed = pc.utf8_slice_codeunits(raw_vals, 1, -1)
            typed = pc.replace_substring(typed, _HIDDEN_SPACE, " ")
            typed = pc.replace_substring(typed, _HIDDEN_COMMA, ",")
        else:
            if col_type is not ColumnType.FLOAT:
                raw_vals = pc.utf8_slice_codeunits(raw_vals, 0, -1)
            cast, ok = _cast_checked(raw_vals, col_type.arrow_type, _CHECK[col_type])
            if col_type is ColumnType.FLOAT:
                ok &= np.isfinite(cast)
            bad[parent[idx[~ok]]] = True
            typed = pa.array(cast)
        casts.append((col_type, idx, typed))
    return _Columnar(bad, line_numbers, line_series, time_ns, parent, key_idx, key_names, casts)


def _split_once(values: pa.StringArray, sep: str) -> tuple[pa.Array, pa.Array, np.ndarray]:
    """Cut each value at its first ``sep`` (one byte): the parts before and after it, and the
    mask of values without one (which come back whole, with nothing after).

    Faster than ``split_pattern(max_splits=1)``: one ``find_substring``, then the two parts
    are read straight out of the data buffer through new offsets."""
    m = len(values)
    at = np.asarray(pc.find_substring(values, sep), dtype=np.int64)
    offsets = _offsets(values)
    missing = at < 0
    cut = np.where(missing, offsets[1:], offsets[:-1] + at)
    # tokens, three per value: before, the separator, after
    bounds = np.empty(3 * m + 1, dtype=np.int32)
    bounds[0::3] = offsets
    bounds[1::3] = cut
    bounds[2::3] = np.where(missing, cut, cut + 1)
    data = values.buffers()[2]
    tokens = pa.StringArray.from_buffers(
        3 * m, pa.py_buffer(bounds), data if data is not None else pa.py_buffer(b"")
    )
    before = tokens.take(pa.array(np.arange(0, 3 * m, 3)))
    after = tokens.take(pa.array(np.arange(2, 3 * m, 3)))
    return before, after, missing


def _cast_checked(values: pa.Array, to: pa.DataType, pattern: str) -> tuple[np.ndarray, np.ndarray]:
    """Cast strings to ``to``; values that do not cast come back masked as not ok.

    Arrow's cast is more lenient than line protocol (it reads ``0x1f`` as an integer), so the
    fast path is only taken when no value can be hexadecimal."""
    if to == pa.float64() or not _maybe_hex(values):
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


def _maybe_hex(values: pa.Array) -> bool:
    """Whether an ``x`` or ``X`` occurs in the data of a (compact) string array."""
    data = values.buffers()[2]
    if data is None:
        return False
    raw = data.to_pybytes()
    return b"x" in raw or b"X" in raw


def _columnar_series(rows: RowCollector, key: str) -> int:
    """Series id of an unescaped series key ``measurement[,k=v...]``; -1 when the exact parser
    must judge it (empty parts, repeated tag keys, odd characters)."""
    parsed = _KEYS.get(key)
    if parsed is None:
        parsed = _KEYS[key] = _split_series_key(key)
        if len(_KEYS) > _KEYS_KEPT:  # a bound, not an LRU: forgotten keys are parsed again
            _KEYS.clear()
    return -1 if parsed is _NOT_COLUMNAR else rows.series_id(parsed)


# Series keys parsed before, across bodies: clients send the same series in every write,
# and a small write is mostly new lines of known series (200 TSBS lines: 100 series keys
# of 10 tags each, parsed anew in each body, took ~0.6 ms of its 2.2 ms).
_NOT_COLUMNAR: SeriesKey = ("", ())
_KEYS: dict[str, SeriesKey] = {}
_KEYS_KEPT = 100_000


def _split_series_key(key: str) -> SeriesKey:
    if not _SERIES_KEY.fullmatch(key):
        return _NOT_COLUMNAR
    measurement, *pairs = key.split(",")
    tags = sorted((k, v) for k, v in (pair.split("=") for pair in pairs))
    if len({k for k, _ in tags}) != len(tags):
        return _NOT_COLUMNAR
    return (measurement, tuple(tags))
