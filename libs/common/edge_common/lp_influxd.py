"""Why influxd 1.x refuses a line of line protocol, in its words.

The 1.x ``/write`` API answers a malformed line as influxd 1.6.7 does (``unable to parse
'<line>': invalid tag format``), so scripts and tests written against it read the same
text. Edge's own parser (:mod:`edge_common.lp_exact`) decides which lines are taken and
explains its refusals in its own words for the v2 and v3 APIs; this module is asked only
about the lines it refused, and only for a 1.x write.

influxd's scanner looks at a line in four passes (measurement, tags, fields, time), each
stopping at the first thing it does not expect, and the reason is the one of the pass that
stopped. Its rules are followed here as they behave, quirks included:

- a backslash makes the next byte plain wherever it stands (so ``a\\\\ b`` does not end a
  tag value at the space);
- a field value is a number when it starts with a digit, ``.``, ``-``, ``N`` or ``n``; a
  string when it starts with ``"``; else a boolean (``+1`` is an invalid boolean);
- unsigned integers (``1u``) are an invalid number: 1.6.7 was built without them.

``refusal`` returns ``None`` for a line influxd takes; the caller then keeps its own reason
(Edge refuses a few lines influxd takes, listed in docs/write-compat.md). ``line_end`` is
where influxd ends a line it refuses, which a stray quote may carry over newlines.
"""

from __future__ import annotations

import math

__all__ = ["echoed", "line_end", "refusal"]

_MAX_KEY = 65535  # influxd's longest series key, in bytes
_MIN_NS, _MAX_NS = -(2**63) + 2, 2**63 - 2  # influxd's time range
_UNIT_NS = {"u": 1_000, "us": 1_000, "ms": 1_000_000, "s": 10**9, "m": 60 * 10**9}
_UNIT_NS["h"] = 3600 * 10**9
_TRUE_FALSE = {b"true", b"false", b"TRUE", b"True", b"FALSE", b"False"}
_BS, _SP, _COMMA, _EQ, _QUOTE, _NL = (ord(c) for c in '\\ ,="\n')


def line_end(buf: bytes, i: int) -> int:
    """Where influxd ends the line that starts at ``buf[i]``: at its first newline outside a
    quoted value. A backslash takes the next byte with it, a newline too; after the line's
    first space a quote opens or closes a value wherever a ``=`` came after the last comma
    (even in what turns out to be a tag value: the line then swallows the next ones)."""
    n = len(buf)
    quoted = after_space = False
    equals = commas = 0
    while i < n:
        c = buf[i]
        if c == _BS:
            i += 2
            continue
        after_space = after_space or c == _SP
        if after_space and not quoted and c in (_EQ, _COMMA):
            equals, commas = equals + (c == _EQ), commas + (c == _COMMA)
        elif after_space and c == _QUOTE and equals > commas:
            quoted = not quoted
        elif c == _NL and not quoted:
            return i
        i += 1
    return n


class _Refused(Exception):
    pass


def refusal(line: bytes, precision: str = "ns") -> str | None:
    """influxd's reason to refuse ``line`` (one line, without its line ending), or None."""
    try:
        _check(line, precision)
    except _Refused as err:
        return str(err)
    return None


def _check(buf: bytes, precision: str) -> None:
    i = _skip_blank(buf, 0)
    start = i
    i, tagged = _measurement(buf, i)
    keys: list[bytes] = []
    if tagged:
        i = _tags(buf, i, keys)
    if len(set(keys)) < len(keys):
        raise _Refused("duplicate tags")
    key_size = i - start
    if key_size > _MAX_KEY:
        raise _Refused(f"max key length exceeded: {key_size} > {_MAX_KEY}")
    i, names = _fields(buf, i)
    for name in names:
        if (size := key_size + 4 + len(name)) > _MAX_KEY:  # (the key "#!~#" the field)
            raise _Refused(f"max key length exceeded: {size} > {_MAX_KEY}")
    _time(buf, i, precision)


_BLANKS = " \t\x00"  # what influxd skips before a line and its sections


def echoed(line: str) -> str:
    """A refused line as influxd repeats it in its answer (the blanks before it left out)."""
    return line.lstrip(_BLANKS)


def _skip_blank(buf: bytes, i: int) -> int:
    while i < len(buf) and chr(buf[i]) in _BLANKS:
        i += 1
    return i


def _measurement(buf: bytes, i: int) -> tuple[int, bool]:
    """Past the measurement: (where its tags start, True) or (the space before the fields,
    False)."""
    if i >= len(buf) or buf[i] == _COMMA:
        raise _Refused("missing measurement")
    while True:
        i += 1
        if i >= len(buf):
            raise _Refused("missing fields")
        if buf[i - 1] == _BS:
            continue
        if buf[i] == _COMMA:
            return i + 1, True
        if buf[i] == _SP:
            return i, False


def _tags(buf: bytes, i: int, keys: list[bytes]) -> int:
    """Past the tags (the space before the fields); each tag key's text put in ``keys``."""
    n = len(buf)
    while True:
        if i >= n or buf[i] in b" ,=":
            raise _Refused("missing tag key")
        key_start = i
        while True:
            i += 1
            if i >= n or (buf[i] in b" ," and buf[i - 1] != _BS):
                raise _Refused("missing tag value")
            if buf[i] == _EQ and buf[i - 1] != _BS:
                break
        keys.append(buf[key_start:i])
        i += 1
        if i >= n or buf[i] in b", ":
            raise _Refused("missing tag value")
        while True:
            i += 1
            if i >= n:
                raise _Refused("missing fields")
            plain = buf[i - 1] != _BS
            if buf[i] == _EQ and plain:
                raise _Refused("invalid tag format")
            if buf[i] == _COMMA and plain:
                i += 1
                break
            if buf[i] == _SP and plain:
                return i


def _fields(buf: bytes, i: int) -> tuple[int, list[bytes]]:
    """Past the field set, and its keys' texts."""
    n = len(buf)
    i = _skip_blank(buf, i)
    quoted = False
    equals = commas = 0
    names: list[bytes] = []
    key_start = i
    while i < n:
        c = buf[i]
        if c == _BS and i + 1 < n:
            i += 2
            continue
        if c == _QUOTE and equals > commas:
            quoted = not quoted
            i += 1
            continue
        if c == _EQ and not quoted:
            equals += 1
            before = buf[i - 1]
            if before in b" ," and (i < 2 or buf[i - 2] != _BS):
                raise _Refused("missing field key")
            if i + 1 >= n or buf[i + 1] in b", ":
                raise _Refused("missing field value")
            names.append(buf[key_start:i])
            nxt = buf[i + 1]
            if nxt in b"0123456789.-Nn":
                i = _number(buf, i + 1)
                continue
            if nxt != _QUOTE:
                i = _boolean(buf, i + 1)
                continue
        if c == _COMMA and not quoted:
            commas += 1
            key_start = i + 1
        if c == _SP and not quoted:
            break
        i += 1
    if quoted:
        raise _Refused("unbalanced quotes")
    if equals == 0 or commas != equals - 1:
        raise _Refused("invalid field format")
    return i, names


def _number(buf: bytes, i: int) -> int:
    n, start = len(buf), i
    integer = unsigned = decimal = scientific = False
    if buf[i] == ord("-"):
        i += 1
        if i == n:
            raise _Refused("invalid number")
    while i < n and buf[i] not in b", ":
        c = buf[i]
        if c in b"iu" and i > start and not (integer or unsigned):
            integer, unsigned = c == ord("i"), c == ord("u")
            i += 1
            continue
        if c == ord("."):
            if decimal:
                raise _Refused("invalid number")
            decimal = True
        if i > start and c in b"eE":
            scientific = True
            i += 1
            continue
        if c in b"+-" and buf[i - 1] in b"eE":
            i += 1
            continue
        if (i + 2 < n and c in b"Nn") or c not in b"0123456789.":
            raise _Refused("invalid number")
        i += 1
    if (integer or unsigned) and (decimal or scientific):
        raise _Refused("invalid number")
    digits = i - start - integer - decimal - (buf[start] == ord("-"))
    if digits == 0 or unsigned:  # (1.6.7 takes no unsigned integers)
        raise _Refused("invalid number")
    text = buf[start:i].decode()
    if integer:
        if buf[i - 1] != ord("i"):
            raise _Refused("invalid number")
        if not -(2**63) <= int(text[:-1]) < 2**63:
            raise _Refused(
                f"unable to parse integer {text[:-1]}: strconv.ParseInt: parsing "
                f'"{text[:-1]}": value out of range'
            )
    elif scientific or len(text) >= 25:
        try:
            value = float(text)
        except ValueError:
            raise _Refused("invalid float") from None
        if math.isinf(value):
            raise _Refused("invalid float")
    return i


def _boolean(buf: bytes, i: int) -> int:
    n, start = len(buf), i
    if buf[i] not in b"tfTF":
        raise _Refused("invalid boolean")
    i += 1
    while i < n and buf[i] not in b", ":
        i += 1
    if i - start > 1 and buf[start:i] not in _TRUE_FALSE:
        raise _Refused("invalid boolean")
    return i


def _time(buf: bytes, i: int, precision: str) -> None:
    n = len(buf)
    i = start = _skip_blank(buf, i)
    while i < n and buf[i] not in b"\n ":
        if not (i == start and buf[i] == ord("-")) and buf[i] not in b"0123456789":
            raise _Refused("bad timestamp")
        i += 1
    text = buf[start:i].decode()
    if not text:
        return
    if text == "-":
        raise _Refused('strconv.ParseInt: parsing "-": invalid syntax')
    value = int(text)
    if not -(2**63) <= value < 2**63:
        raise _Refused(f'strconv.ParseInt: parsing "{text}": value out of range')
    if not _MIN_NS <= value * _UNIT_NS.get(precision, 1) <= _MAX_NS:
        raise _Refused(f"time outside range {_MIN_NS} - {_MAX_NS}")
    if buf[i:].strip(b" "):
        raise _Refused("point is invalid")
