"""The exact, per-line line protocol parser.

It handles every line the columnar parser (:mod:`edge_common.lineprotocol`) does not: lines
with escapes, quoted strings (which may hold raw newlines) and anything malformed, for which it
produces the precise reason. Both parsers must agree on every line the columnar one accepts; a
property test holds them to that.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass

from edge_common.schema import ColumnType

__all__ = [
    "ExactLine",
    "FieldValue",
    "LineSyntaxError",
    "parse_field_value",
    "parse_line",
    "skip_blank",
]

FieldValue = float | int | str | bool

_SPACE, _COMMA, _EQ, _QUOTE, _BSLASH, _NL, _CR = (ord(c) for c in ' ,="\\\n\r')
# what a backslash escapes in names (anything else it precedes is kept, backslash and all)
_KEY_ESCAPES = b" ,=\\"  # tag keys, tag values, field keys
_MEASUREMENT_ESCAPES = b" ,\\"
_FLOAT = re.compile(rb"-?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?")
_INT = re.compile(rb"-?\d+")
_UINT = re.compile(rb"\d+")
_TRUE = frozenset({b"t", b"T", b"true", b"True", b"TRUE"})
_FALSE = frozenset({b"f", b"F", b"false", b"False", b"FALSE"})
_I64_MIN, _I64_MAX, _U64_MAX = -(2**63), 2**63 - 1, 2**64 - 1


class LineSyntaxError(Exception):
    """A line that is not valid line protocol; the message says why."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        # where the physical line holding the error starts; past the first one only when a
        # quoted string carried the logical line over raw newlines
        self.resume: int | None = None


@dataclass(frozen=True, slots=True)
class ExactLine:
    measurement: str
    tags: tuple[tuple[str, str], ...]
    fields: tuple[tuple[str, ColumnType, FieldValue], ...]
    timestamp: int | None


def _decode(raw: bytes | bytearray, what: str) -> str:
    try:
        return raw.decode()
    except UnicodeDecodeError:
        raise LineSyntaxError(f"invalid UTF-8 in {what}") from None


def _unescape(raw: bytes, escapes: bytes, what: str) -> str:
    """Undo backslash escapes of the bytes in ``escapes``; other backslashes stay as they are."""
    if b"\\" not in raw:
        return _decode(raw, what)
    out = bytearray()
    i, n = 0, len(raw)
    while i < n:
        c = raw[i]
        if c == _BSLASH and i + 1 < n and raw[i + 1] in escapes:
            out.append(raw[i + 1])
            i += 2
        else:
            out.append(c)
            i += 1
    return _decode(out, what)


def _scan_name(buf: bytes, i: int, stops: bytes) -> int:
    """Index of the first unescaped byte of ``stops`` (or a newline) at or after ``i``.

    A backslash always takes the next byte with it (except a newline), as InfluxDB does: an
    escape it does not know is kept literally, but it still does not end the name.
    """
    n = len(buf)
    while i < n:
        c = buf[i]
        if c == _BSLASH and i + 1 < n and buf[i + 1] != _NL:
            i += 2
            continue
        if c in stops or c == _NL:
            return i
        i += 1
    return n


def _skip_spaces(buf: bytes, i: int) -> int:
    """Sections are separated by one or more spaces (a tab is an ordinary byte)."""
    n = len(buf)
    while i < n and buf[i] == _SPACE:
        i += 1
    return i


def _line_end(buf: bytes, i: int) -> int:
    j = buf.find(b"\n", i)
    return len(buf) if j < 0 else j


def parse_field_value(raw: bytes) -> tuple[ColumnType, FieldValue]:
    """Type and value of an unquoted field value."""
    last = raw[-1:]
    if last == b"i" and _INT.fullmatch(raw, 0, len(raw) - 1):
        v = int(raw[:-1])
        if not _I64_MIN <= v <= _I64_MAX:
            raise LineSyntaxError(f"integer value {raw.decode()} is out of range for int64")
        return ColumnType.INTEGER, v
    if last == b"u" and _UINT.fullmatch(raw, 0, len(raw) - 1):
        u = int(raw[:-1])
        if u > _U64_MAX:
            raise LineSyntaxError(f"unsigned value {raw.decode()} is out of range for uint64")
        return ColumnType.UINTEGER, u
    if raw in _TRUE:
        return ColumnType.BOOLEAN, True
    if raw in _FALSE:
        return ColumnType.BOOLEAN, False
    if _FLOAT.fullmatch(raw):
        f = float(raw)
        if not math.isfinite(f):
            raise LineSyntaxError(f"float value {raw.decode()} is out of range")
        return ColumnType.FLOAT, f
    raise LineSyntaxError(f"invalid field value {raw.decode(errors='replace')!r}")


def _parse_string(buf: bytes, i: int) -> tuple[str, int]:
    """``buf[i]`` is the opening quote; return the unescaped string and the index after it.

    Only ``\\"`` and ``\\\\`` are escapes; any other backslash is kept. Raw newlines are part
    of the string.
    """
    out = bytearray()
    i += 1
    n = len(buf)
    while i < n:
        c = buf[i]
        if c == _BSLASH and i + 1 < n and buf[i + 1] in (_QUOTE, _BSLASH):
            out.append(buf[i + 1])
            i += 2
        elif c == _QUOTE:
            return _decode(out, "string field value"), i + 1
        else:
            out.append(c)
            i += 1
    raise LineSyntaxError("unterminated string field value")


def skip_blank(buf: bytes, i: int) -> tuple[int, bool]:
    """Skip the leading spaces and tabs of the line at ``buf[i]``. Returns the index of its
    first other byte and whether the line is blank (only spaces, tabs and carriage returns)
    or a comment: nothing to parse."""
    n = len(buf)
    while i < n and buf[i] in b" \t":
        i += 1
    if i >= n or buf[i] in b"\n#":
        return i, True
    j = i
    while j < n and buf[j] in b" \t\r":  # only whitespace, carriage returns included
        j += 1
    return i, j >= n or buf[j] == _NL


def parse_line(
    buf: bytes, start: int, strict_tags: bool = False
) -> tuple[ExactLine | LineSyntaxError, int]:
    """Parse the logical line that starts at ``buf[start]`` (its first non-blank byte).

    Returns the line (or the reason it is invalid) and the index just past its terminating
    newline. A quoted string may span physical lines; an invalid line ends at the first
    newline after the last string that closed.
    """
    try:
        line, end = _parse(buf, start, strict_tags)
    except LineSyntaxError as err:
        resume = start if err.resume is None else err.resume
        return err, min(_line_end(buf, resume) + 1, len(buf))
    return line, min(end + 1, len(buf))


def _parse(buf: bytes, i: int, strict_tags: bool) -> tuple[ExactLine, int]:
    n = len(buf)
    j = _scan_name(buf, i, b", ")
    if j == i:
        raise LineSyntaxError("missing measurement name")
    measurement = _unescape(buf[i:j], _MEASUREMENT_ESCAPES, "measurement")
    tags: list[tuple[str, str]] = []
    seen_tags: set[str] = set()
    i = j
    while i < n and buf[i] == _COMMA:
        k_end = _scan_name(buf, i + 1, b",= ")
        if k_end >= n or buf[k_end] != _EQ:
            raise LineSyntaxError("tag key without a value (expected key=value)")
        v_end = _scan_name(buf, k_end + 1, b", ")
        if k_end == i + 1 or v_end == k_end + 1:
            raise LineSyntaxError("empty tag key or value")
        # (influxd never looks at a value's first byte: "==a" is the text "=a")
        after = k_end + 2 if buf[k_end + 1] == _EQ else k_end + 1
        if strict_tags and _scan_name(buf, after, b",= ") < v_end:
            raise LineSyntaxError("unescaped '=' in a tag value (write it as \\=)")
        key = _unescape(buf[i + 1 : k_end], _KEY_ESCAPES, "tag key")
        if key in seen_tags:
            raise LineSyntaxError(f"duplicate tag key {key!r}")
        seen_tags.add(key)
        tags.append((key, _unescape(buf[k_end + 1 : v_end], _KEY_ESCAPES, "tag value")))
        i = v_end
    if i >= n or buf[i] != _SPACE:
        raise LineSyntaxError("missing fields")
    i = _skip_spaces(buf, i)
    fields, i, resume = _parse_fields(buf, i)
    try:
        timestamp, i = _parse_timestamp(buf, i)
    except LineSyntaxError as err:
        err.resume = resume
        raise
    return ExactLine(measurement, tuple(tags), tuple(fields), timestamp), i


def _parse_timestamp(buf: bytes, i: int) -> tuple[int | None, int]:
    """The optional timestamp after the field set, and the index of the line's end."""
    n = len(buf)
    timestamp: int | None = None
    i = _skip_spaces(buf, i)
    if i < n and buf[i] not in (_NL, _CR):
        t_end = i
        while t_end < n and buf[t_end] not in (_SPACE, _NL, _CR):
            t_end += 1
        raw_ts = buf[i:t_end]
        if not _INT.fullmatch(raw_ts):
            raise LineSyntaxError(f"invalid timestamp {raw_ts.decode(errors='replace')!r}")
        timestamp = int(raw_ts)
        if not _I64_MIN <= timestamp <= _I64_MAX:
            raise LineSyntaxError(f"timestamp {timestamp} is out of range")
        i = _skip_spaces(buf, t_end)
    if i < n and buf[i] == _CR and (i + 1 == n or buf[i + 1] == _NL):
        i += 1  # CRLF line ending
    if i < n and buf[i] != _NL:
        rest = buf[i : _line_end(buf, i)].decode(errors="replace")
        raise LineSyntaxError(f"trailing content after the timestamp: {rest!r}")
    return timestamp, i


def _parse_fields(
    buf: bytes, i: int
) -> tuple[list[tuple[str, ColumnType, FieldValue]], int, int | None]:
    """The field set at ``buf[i]``; returns it, the index after it and the start of the
    physical line it ends on (None when that is the line it started on)."""
    n = len(buf)
    fields: list[tuple[str, ColumnType, FieldValue]] = []
    seen_fields: set[str] = set()
    resume: int | None = None
    try:
        while True:
            k_end = _scan_name(buf, i, b",= ")
            if k_end == i:
                at_eq = k_end < n and buf[k_end] == _EQ
                raise LineSyntaxError("empty field key" if at_eq or fields else "missing fields")
            if k_end >= n or buf[k_end] != _EQ:
                raise LineSyntaxError("field key without a value")
            key = _unescape(buf[i:k_end], _KEY_ESCAPES, "field key")
            if key in seen_fields:
                raise LineSyntaxError(f"duplicate field key {key!r}")
            seen_fields.add(key)
            i = k_end + 1
            if i < n and buf[i] == _QUOTE:
                string_start = i
                text, i = _parse_string(buf, i)
                if buf.find(b"\n", string_start, i) >= 0:
                    resume = buf.rfind(b"\n", string_start, i) + 1
                fields.append((key, ColumnType.STRING, text))
            else:
                v_end = i
                while v_end < n and buf[v_end] not in (_COMMA, _SPACE, _NL):
                    v_end += 1
                raw = buf[i:v_end]
                if raw.endswith(b"\r") and (v_end == n or buf[v_end] == _NL):
                    raw = raw[:-1]  # CRLF line ending
                if not raw:
                    raise LineSyntaxError(f"missing value for field {key!r}")
                kind, value = parse_field_value(raw)
                fields.append((key, kind, value))
                i = v_end
            if i < n and buf[i] == _COMMA:
                i += 1
                continue
            return fields, i, resume
    except LineSyntaxError as err:
        err.resume = resume
        raise
