"""The exact, per-line parser on its own: what it returns and where each line ends."""

from __future__ import annotations

import pytest

from edge_common.lp_exact import (
    ExactLine,
    FieldValue,
    LineSyntaxError,
    parse_field_value,
    parse_line,
    skip_blank,
)
from edge_common.schema import ColumnType
from tests.common.test_lineprotocol import B, F, N, S, U


def ok(buf: bytes, start: int = 0) -> tuple[ExactLine, int]:
    result, end = parse_line(buf, start)
    assert isinstance(result, ExactLine), result
    return result, end


def err(buf: bytes, start: int = 0) -> tuple[str, int]:
    result, end = parse_line(buf, start)
    assert isinstance(result, LineSyntaxError), result
    return str(result), end


@pytest.mark.parametrize(
    ("buf", "expected"),
    [
        (b"m f=1", ExactLine("m", (), (("f", F, 1.0),), None)),
        (b"m,b=2,a=1 f=1i 5", ExactLine("m", (("b", "2"), ("a", "1")), (("f", N, 1),), 5)),
        (
            b'm s="x",u=3u,b=FALSE -7',
            ExactLine("m", (), (("s", S, "x"), ("u", U, 3), ("b", B, False)), -7),
        ),
        (b"a\\ b\\,c\\\\d f=1", ExactLine("a b,c\\d", (), (("f", F, 1.0),), None)),
        (b"a\\=b f=1", ExactLine("a\\=b", (), (("f", F, 1.0),), None)),
        (
            b"m,k\\ \\,\\=\\\\=v\\ \\,\\=\\\\ f\\ \\,\\=\\\\=1",
            ExactLine("m", (("k ,=\\", "v ,=\\"),), (("f ,=\\", F, 1.0),), None),
        ),
        (b'm,t=a\\"b f=1', ExactLine("m", (("t", 'a\\"b'),), (("f", F, 1.0),), None)),
        (b"m,t=a\\xb f=1", ExactLine("m", (("t", "a\\xb"),), (("f", F, 1.0),), None)),
        (b"m  f=1   2  ", ExactLine("m", (), (("f", F, 1.0),), 2)),
        (b"m\tx f\t=1", ExactLine("m\tx", (), (("f\t", F, 1.0),), None)),
        (b'm s="a\\"b\\\\c\\d"', ExactLine("m", (), (("s", S, 'a"b\\c\\d'),), None)),
        (b'm s="a\nb"', ExactLine("m", (), (("s", S, "a\nb"),), None)),
        ('m s="é"'.encode(), ExactLine("m", (), (("s", S, "é"),), None)),
    ],
)
def test_parse_line(buf: bytes, expected: ExactLine) -> None:
    line, end = ok(buf)
    assert line == expected
    assert end == len(buf)


def test_line_ends_after_its_newline() -> None:
    buf = b'm f=1\nm f=2 3\r\nm s="x\ny" 4\nlast'
    line, end = ok(buf)
    assert (line.fields, end) == ((("f", F, 1.0),), 6)
    line, end = ok(buf, end)
    assert (line.timestamp, end) == (3, 15)
    line, end = ok(buf, end)
    assert (line.fields, line.timestamp) == ((("s", S, "x\ny"),), 4)
    assert buf[end:] == b"last"


@pytest.mark.parametrize(
    ("buf", "message", "end"),
    [
        (b"m\nm f=1", "missing fields", 2),
        (b"m f=oops\nm f=1", "invalid field value 'oops'", 9),
        # an error after a string that spans lines ends at the line the string closed on
        (b'm s="a\nb" x\nm f=1', "invalid timestamp 'x'", 12),
        (b'm s="a\nb",g=oops\nm f=1', "invalid field value 'oops'", 17),
        (b'm s="a\nb",t="c\nd" 1 2\nm f=1', "trailing content after the timestamp: '2'", 22),
        # an unterminated string ends after the first newline after the last closed string
        (b'm s="a\nb\nc', "unterminated string field value", 7),
        (b'm s="a\nb",t="c\nd', "unterminated string field value", 15),
        (b"m f=1,f=2\r\nx", "duplicate field key 'f'", 11),
        (b"m,\xff=1 f=1\n", "invalid UTF-8 in tag key", 10),
        (b'm f="\xff"', "invalid UTF-8 in string field value", 7),
    ],
)
def test_errors_and_where_the_line_ends(buf: bytes, message: str, end: int) -> None:
    assert err(buf) == (message, end)


@pytest.mark.parametrize(
    ("raw", "kind", "value"),
    [
        (b"1", F, 1.0),
        (b"-1.5e3", F, -1500.0),
        (b".5", F, 0.5),
        (b"5.", F, 5.0),
        (b"-0", F, -0.0),
        (b"12i", N, 12),
        (b"-9223372036854775808i", N, -(2**63)),
        (b"18446744073709551615u", U, 2**64 - 1),
        (b"t", B, True),
        (b"FALSE", B, False),
    ],
)
def test_parse_field_value(raw: bytes, kind: ColumnType, value: FieldValue) -> None:
    assert parse_field_value(raw) == (kind, value)


@pytest.mark.parametrize(
    "raw",
    [
        b"nan",
        b"inf",
        b"1e309",
        b"+1",
        b"1e",
        b"0x1",
        b"9223372036854775808i",
        b"-1u",
        b"-0u",
        b"18446744073709551616u",
        b"tru",
        b"1.0i",
        b"\xff",
    ],
)
def test_parse_field_value_rejects(raw: bytes) -> None:
    with pytest.raises(LineSyntaxError):
        parse_field_value(raw)


@pytest.mark.parametrize(
    ("buf", "start", "expected"),
    [
        (b"m f=1", 0, (0, False)),
        (b"  \tm f=1", 0, (3, False)),
        (b"", 0, (0, True)),
        (b"\n", 0, (0, True)),
        (b"   \n", 0, (3, True)),
        (b" \t\r\n", 0, (2, True)),
        (b"\r", 0, (0, True)),
        (b"\r\r\n", 0, (0, True)),
        (b"\rm f=1", 0, (0, False)),
        (b"  # comment", 0, (2, True)),
        (b"x\n  m", 2, (4, False)),
    ],
)
def test_skip_blank(buf: bytes, start: int, expected: tuple[int, bool]) -> None:
    assert skip_blank(buf, start) == expected
