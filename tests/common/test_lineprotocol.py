"""Line protocol, end to end through :func:`edge_common.lineprotocol.parse`.

Every table-driven case runs through both the columnar path and the exact parser (``path=``) and
checks that the two agree before checking the expected result; a property test then holds
the two paths to identical output on random bodies of valid and invalid lines.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pyarrow as pa
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from edge_common.errors import BadRequest
from edge_common.lineprotocol import PRECISIONS, parse, precision_factor
from edge_common.lp_rows import ParsedBody
from edge_common.schema import ColumnType

F, N, U, S, B = (  # float, integer (N), unsigned, string, boolean
    ColumnType.FLOAT,
    ColumnType.INTEGER,
    ColumnType.UINTEGER,
    ColumnType.STRING,
    ColumnType.BOOLEAN,
)
NOW = 1_700_000_000_123_456_789  # default_time_ns of every parse here
I64_MAX, I64_MIN, U64_MAX = 2**63 - 1, -(2**63), 2**64 - 1

Row = dict[str, Any]


# -- canonical form --------------------------------------------------------------------------


def _canon_value(kind: ColumnType, value: Any) -> Any:
    if kind is ColumnType.FLOAT:
        assert isinstance(value, float) and math.isfinite(value)
        return value.hex()  # tells -0.0 from 0.0 and compares bit for bit
    return value


def canonical(parsed: ParsedBody) -> dict[str, list[Row]]:
    """Each table as a list of rows ``{line, time, tags, fields}``, fields as (type, value);
    checks the structural invariants of :class:`ParsedTable` on the way."""
    out: dict[str, list[Row]] = {}
    for name, table in parsed.tables.items():
        assert table.name == name
        n = table.num_rows
        assert n > 0
        assert table.line_numbers.dtype == np.int64 and table.time_ns.dtype == np.int64
        assert len(table.time_ns) == n
        assert (np.diff(table.line_numbers) >= 0).all(), "rows must be in line order"
        rows: list[Row] = [
            {"line": int(ln), "time": int(ts), "tags": {}, "fields": {}}
            for ln, ts in zip(table.line_numbers.tolist(), table.time_ns.tolist(), strict=True)
        ]
        for key, col in table.tags.items():
            assert isinstance(col, pa.DictionaryArray) and len(col) == n
            assert col.type == pa.dictionary(pa.int32(), pa.string())
            for row, value in zip(rows, col.to_pylist(), strict=True):
                if value is not None:
                    row["tags"][key] = value
        for key, groups in table.fields.items():
            assert len({g.type for g in groups}) == len(groups), "one group per type"
            for group in groups:
                assert group.values.type == group.type.arrow_type
                assert len(group.positions) == len(group.values) > 0
                assert group.values.null_count == 0
                for pos, value in zip(
                    group.positions.tolist(), group.values.to_pylist(), strict=True
                ):
                    assert key not in rows[pos]["fields"], f"field {key!r} twice in one row"
                    rows[pos]["fields"][key] = (group.type, _canon_value(group.type, value))
        for row in rows:
            assert row["fields"], "every row has at least one field"
        out[name] = rows
    return out


def errors_of(parsed: ParsedBody) -> list[tuple[int, str, str]]:
    return [(e.line_number, e.error_message, e.original_line) for e in parsed.errors]


def parse_both(
    body: bytes, precision: str = "ns"
) -> tuple[dict[str, list[Row]], list[tuple[int, str, str]]]:
    """Parse with the columnar path and with the exact parser; they must agree exactly (and
    with the path ``parse`` chooses by itself)."""
    fast = parse(body, precision=precision, default_time_ns=NOW, path="columnar")
    exact = parse(body, precision=precision, default_time_ns=NOW, path="exact")
    chosen = parse(body, precision=precision, default_time_ns=NOW)
    assert canonical(chosen) == canonical(fast)
    assert errors_of(chosen) == errors_of(fast)
    fast_rows, exact_rows = canonical(fast), canonical(exact)
    assert fast_rows == exact_rows
    assert errors_of(fast) == errors_of(exact)
    lines = [e.line_number for e in fast.errors]
    assert lines == sorted(lines)
    return fast_rows, errors_of(fast)


def only_row(body: bytes, precision: str = "ns") -> tuple[str, Row]:
    tables, errors = parse_both(body, precision)
    assert errors == []
    assert len(tables) == 1
    (name, rows), *_ = tables.items()
    assert len(rows) == 1
    return name, rows[0]


def only_error(body: bytes, precision: str = "ns") -> tuple[int, str, str]:
    tables, errors = parse_both(body, precision)
    assert tables == {}
    assert len(errors) == 1
    return errors[0]


def fields(**kv: tuple[ColumnType, Any]) -> dict[str, tuple[ColumnType, Any]]:
    return {k: (t, _canon_value(t, v)) for k, (t, v) in kv.items()}


# -- one valid line at a time -----------------------------------------------------------------

ONE_F = {"f": (F, (1.0).hex())}


@pytest.mark.parametrize(
    ("line", "measurement", "tags", "fields_"),
    [
        pytest.param(b"m f=1", "m", {}, ONE_F, id="minimal"),
        pytest.param(b"m,t=a,u=b f=1", "m", {"t": "a", "u": "b"}, ONE_F, id="tags"),
        pytest.param(b"m,u=b,t=a f=1", "m", {"t": "a", "u": "b"}, ONE_F, id="unsorted-tags"),
        # escapes in names: \, \= \space \\ (measurements: \, \space \\)
        pytest.param(b"m\\ x f=1", "m x", {}, ONE_F, id="measurement-space"),
        pytest.param(b"m\\,x f=1", "m,x", {}, ONE_F, id="measurement-comma"),
        pytest.param(b"m\\\\x f=1", "m\\x", {}, ONE_F, id="measurement-backslash"),
        pytest.param(b"m\\=x f=1", "m\\=x", {}, ONE_F, id="measurement-equals-not-escape"),
        pytest.param(b"m=x f=1", "m=x", {}, ONE_F, id="measurement-raw-equals"),
        pytest.param(b"m\\ ,t\\ k=v\\ w f=1", "m ", {"t k": "v w"}, ONE_F, id="tag-space"),
        pytest.param(b"m,t\\,k=v\\,w f=1", "m", {"t,k": "v,w"}, ONE_F, id="tag-comma"),
        pytest.param(b"m,t\\=k=v\\=w f=1", "m", {"t=k": "v=w"}, ONE_F, id="tag-equals"),
        pytest.param(b"m,t\\\\k=v\\\\ f=1", "m", {"t\\k": "v\\"}, ONE_F, id="tag-backslash"),
        pytest.param(b"m,t=a=b f=1", "m", {"t": "a=b"}, ONE_F, id="tag-value-raw-equals"),
        pytest.param(b'm,t=a\\"b f=1', "m", {"t": 'a\\"b'}, ONE_F, id="quote-not-escape"),
        pytest.param(b'm,t="a" f=1', "m", {"t": '"a"'}, ONE_F, id="quoted-tag-literal"),
        pytest.param(b"m\\qx,t=a\\b f=1", "m\\qx", {"t": "a\\b"}, ONE_F, id="unknown-escape"),
        pytest.param(b"m f\\ k=1", "m", {}, {"f k": (F, (1.0).hex())}, id="field-key-space"),
        pytest.param(b"m f\\,k=1", "m", {}, {"f,k": (F, (1.0).hex())}, id="field-key-comma"),
        pytest.param(b"m f\\=k=1", "m", {}, {"f=k": (F, (1.0).hex())}, id="field-key-equals"),
        pytest.param(b"m f\\\\=1", "m", {}, {"f\\": (F, (1.0).hex())}, id="field-key-backslash"),
        pytest.param("mé,ü=ö 😀=1".encode(), "mé", {"ü": "ö"}, {"😀": (F, (1.0).hex())}, id="utf8"),
        pytest.param(
            b"m\tx,t=a\tb f\tg=1",
            "m\tx",
            {"t": "a\tb"},
            {"f\tg": (F, (1.0).hex())},
            id="tabs-are-ordinary",
        ),
        pytest.param(
            b"time,time=x time=1",
            "time",
            {"time": "x"},
            {"time": (F, (1.0).hex())},
            id="time-as-names",
        ),
        pytest.param(b"m,f=x f=1", "m", {"f": "x"}, ONE_F, id="tag-and-field-same-name"),
        pytest.param(b"m,t=a   f=1", "m", {"t": "a"}, ONE_F, id="several-spaces"),
        pytest.param(b"   m f=1", "m", {}, ONE_F, id="leading-spaces"),
        pytest.param(b"\t m f=1", "m", {}, ONE_F, id="leading-tab"),
        pytest.param(b"m f=1 ", "m", {}, ONE_F, id="trailing-space"),
        pytest.param(b"m f=1\r\n", "m", {}, ONE_F, id="crlf"),
    ],
)
def test_names_and_escapes(
    line: bytes, measurement: str, tags: dict[str, str], fields_: dict[str, Any]
) -> None:
    name, row = only_row(line)
    assert name == measurement
    assert row == {"line": 1, "time": NOW, "tags": tags, "fields": fields_}


@pytest.mark.parametrize(
    ("text", "kind", "value"),
    [
        # floats
        ("1", F, 1.0),
        ("-1", F, -1.0),
        ("1.5", F, 1.5),
        ("-1.5", F, -1.5),
        ("0", F, 0.0),
        ("-0", F, -0.0),
        ("-0.0", F, -0.0),
        (".5", F, 0.5),
        ("-.5", F, -0.5),
        ("5.", F, 5.0),
        ("007.5", F, 7.5),
        ("1e3", F, 1000.0),
        ("1E3", F, 1000.0),
        ("1e+3", F, 1000.0),
        ("1.5e-3", F, 0.0015),
        ("-2.5E+10", F, -2.5e10),
        ("1.7976931348623157e308", F, 1.7976931348623157e308),
        ("4.9e-324", F, 5e-324),
        ("1e-400", F, 0.0),
        ("0.1000000000000000055511151231257827", F, 0.1),
        ("123456789012345678901234567890", F, 1.2345678901234568e29),
        # int64
        ("1i", N, 1),
        ("-1i", N, -1),
        ("0i", N, 0),
        ("-0i", N, 0),
        ("007i", N, 7),
        ("9223372036854775807i", N, I64_MAX),
        ("-9223372036854775808i", N, I64_MIN),
        # uint64
        ("0u", U, 0),
        ("42u", U, 42),
        ("18446744073709551615u", U, U64_MAX),
        # booleans, every spelling
        *[(t, B, True) for t in ("t", "T", "true", "True", "TRUE")],
        *[(f, B, False) for f in ("f", "F", "false", "False", "FALSE")],
        # strings
        ('""', S, ""),
        ('"hello world"', S, "hello world"),
        ('"a,b=c d"', S, "a,b=c d"),
        ('"say \\"hi\\""', S, 'say "hi"'),
        ('"back\\\\slash"', S, "back\\slash"),
        ('"\\\\\\""', S, '\\"'),
        ('"a\\nb"', S, "a\\nb"),  # not an escape: backslash and n stay
        ('"trailing\\\\"', S, "trailing\\"),
        ('"1i"', S, "1i"),
        ('"true"', S, "true"),
        ('"ünïcødé 😀"', S, "ünïcødé 😀"),
        ('"#not a comment"', S, "#not a comment"),
    ],
)
def test_field_values(text: str, kind: ColumnType, value: Any) -> None:
    _, row = only_row(f"m f={text}".encode())
    assert row["fields"] == {"f": (kind, _canon_value(kind, value))}


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("nan", "invalid field value 'nan'"),
        ("NaN", "invalid field value 'NaN'"),
        ("inf", "invalid field value 'inf'"),
        ("-inf", "invalid field value '-inf'"),
        ("Infinity", "invalid field value 'Infinity'"),
        ("1e400", "float value 1e400 is out of range"),
        ("-1e400", "float value -1e400 is out of range"),
        ("+1", "invalid field value '+1'"),
        ("+1.5", "invalid field value '+1.5'"),
        ("1.5.5", "invalid field value '1.5.5'"),
        ("1e", "invalid field value '1e'"),
        ("e5", "invalid field value 'e5'"),
        (".", "invalid field value '.'"),
        ("-", "invalid field value '-'"),
        ("--1", "invalid field value '--1'"),
        ("0x10", "invalid field value '0x10'"),
        ("1_000", "invalid field value '1_000'"),
        ("1,5", "field key without a value"),
        ("9223372036854775808i", "integer value 9223372036854775808i is out of range for int64"),
        ("-9223372036854775809i", "integer value -9223372036854775809i is out of range for int64"),
        ("+1i", "invalid field value '+1i'"),
        ("1.5i", "invalid field value '1.5i'"),
        ("0x10i", "invalid field value '0x10i'"),
        ("i", "invalid field value 'i'"),
        ("-i", "invalid field value '-i'"),
        ("1ii", "invalid field value '1ii'"),
        ("1I", "invalid field value '1I'"),
        (
            "18446744073709551616u",
            "unsigned value 18446744073709551616u is out of range for uint64",
        ),
        ("-1u", "invalid field value '-1u'"),
        ("-0u", "invalid field value '-0u'"),
        ("+1u", "invalid field value '+1u'"),
        ("0x10u", "invalid field value '0x10u'"),
        ("1.5u", "invalid field value '1.5u'"),
        ("u", "invalid field value 'u'"),
        ("tRUE", "invalid field value 'tRUE'"),
        ("yes", "invalid field value 'yes'"),
        ("truee", "invalid field value 'truee'"),
        ("1\t", "invalid field value '1\\t'"),
        ("\t1", "invalid field value '\\t1'"),
        ("", "missing value for field 'f'"),
        ('"open', "unterminated string field value"),
        ('"a"b', "invalid timestamp 'b'"),
    ],
)
def test_invalid_field_values(text: str, message: str) -> None:
    line = f"m f={text}"
    assert only_error(line.encode()) == (1, message, line)


@pytest.mark.parametrize(
    ("line", "message"),
    [
        ("m", "missing fields"),
        ("m ", "missing fields"),
        ("m,t=a", "missing fields"),
        ("m,t=a ", "missing fields"),
        ("m\tf=1", "missing fields"),
        ("m f", "field key without a value"),
        ("m f g=1", "field key without a value"),
        ("m =1", "empty field key"),
        ("m f=1,", "empty field key"),
        ("m f=1,,g=2", "empty field key"),
        ("m f=1, g=2", "empty field key"),
        ("m f=1,g", "field key without a value"),
        ("m f=1,f=2", "duplicate field key 'f'"),
        ("m f=1,f=2i", "duplicate field key 'f'"),
        ('m f=1,g=2,f="x"', "duplicate field key 'f'"),
        ("m f\\ =1,f\\ =2", "duplicate field key 'f '"),
        ("m,t=a,t=b f=1", "duplicate tag key 't'"),
        ("m,t=a,u=b,t=a f=1", "duplicate tag key 't'"),
        ("m,t= f=1", "empty tag key or value"),
        ("m,t=,u=b f=1", "empty tag key or value"),
        ("m,=a f=1", "empty tag key or value"),
        ("m,t f=1", "tag key without a value (expected key=value)"),
        ("m,t,u=a f=1", "tag key without a value (expected key=value)"),
        ("m, f=1", "tag key without a value (expected key=value)"),
        ("m,t=a, f=1", "tag key without a value (expected key=value)"),
        (",t=a f=1", "missing measurement name"),
        (" ,t=a f=1", "missing measurement name"),
        ("m f=1 123 456", "trailing content after the timestamp: '456'"),
        ("m f=1 123x", "invalid timestamp '123x'"),
        ("m f=1 1.5", "invalid timestamp '1.5'"),
        ("m f=1 abc", "invalid timestamp 'abc'"),
        ("m f=1 +5", "invalid timestamp '+5'"),
        ("m f=1 0x10", "invalid timestamp '0x10'"),
        ("m f=1 5\t", "invalid timestamp '5\\t'"),
        ("m f=1 1_0", "invalid timestamp '1_0'"),
        ("m f=1 --1", "invalid timestamp '--1'"),
        ("m f=1 9223372036854775808", "timestamp 9223372036854775808 is out of range"),
        ("m f=1 -9223372036854775809", "timestamp -9223372036854775809 is out of range"),
        ("m f=1 123 \rx", "trailing content after the timestamp: '\\rx'"),
        ("m f=1\t123", "invalid field value '1\\t123'"),
    ],
)
def test_invalid_lines(line: str, message: str) -> None:
    assert only_error(line.encode()) == (1, message, line)


# -- timestamps ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("precision", "ts", "expected"),
    [
        ("ns", "1", 1),
        ("ns", "-1", -1),
        ("ns", "0", 0),
        ("ns", "9223372036854775807", I64_MAX),
        ("ns", "-9223372036854775808", I64_MIN),
        ("n", "7", 7),
        ("nanosecond", "7", 7),
        ("us", "2", 2_000),
        ("u", "2", 2_000),
        ("µ", "2", 2_000),
        ("microsecond", "2", 2_000),
        ("ms", "2", 2_000_000),
        ("millisecond", "2", 2_000_000),
        ("s", "2", 2_000_000_000),
        ("second", "2", 2_000_000_000),
        ("s", "-2", -2_000_000_000),
        ("m", "2", 120_000_000_000),
        ("h", "2", 7_200_000_000_000),
        ("s", "9223372036", 9_223_372_036_000_000_000),
        ("s", "-9223372036", -9_223_372_036_000_000_000),
        ("ms", "9223372036854", 9_223_372_036_854_000_000),
        ("us", "9223372036854775", 9_223_372_036_854_775_000),
        ("h", "2562047", 2_562_047 * 3_600_000_000_000),
        # auto guesses the unit from the magnitude, as InfluxDB 3 does
        ("auto", "1700000000", 1_700_000_000_000_000_000),
        ("auto", "-1700000000", -1_700_000_000_000_000_000),
        ("auto", "0", 0),
        ("auto", "4999999999", 4_999_999_999_000_000_000),
        ("auto", "5000000000", 5_000_000_000_000_000),
        ("auto", "1700000000000", 1_700_000_000_000_000_000),
        ("auto", "4999999999999", 4_999_999_999_999_000_000),
        ("auto", "5000000000000", 5_000_000_000_000_000),
        ("auto", "1700000000000000", 1_700_000_000_000_000_000),
        ("auto", "-1700000000000000", -1_700_000_000_000_000_000),
        ("auto", "4999999999999999", 4_999_999_999_999_999_000),
        ("auto", "5000000000000000", 5_000_000_000_000_000),
        ("auto", "1700000000000000000", 1_700_000_000_000_000_000),
        ("auto", "9223372036854775807", I64_MAX),
        ("auto", "-9223372036854775808", I64_MIN),
    ],
)
def test_precision(precision: str, ts: str, expected: int) -> None:
    _, row = only_row(f"m f=1 {ts}".encode(), precision)
    assert row["time"] == expected
    _, row = only_row(b"m f=1", precision)
    assert row["time"] == NOW  # the default time is never scaled


@pytest.mark.parametrize(
    ("precision", "ts"),
    [
        ("us", "9223372036854776"),
        ("us", "-9223372036854776"),
        ("ms", "9223372036855"),
        ("s", "9223372037"),
        ("s", "-9223372037"),
        ("s", "-9223372036854775808"),
        ("s", "9223372036854775807"),
        ("m", "153722868"),
        ("h", "2562048"),
        ("h", "-2562048"),
    ],
)
def test_timestamp_overflow_after_scaling(precision: str, ts: str) -> None:
    line = f"m f=1 {ts}"
    assert only_error(line.encode(), precision) == (1, f"timestamp {ts} is out of range", line)


def test_invalid_precision() -> None:
    with pytest.raises(BadRequest, match="invalid precision"):
        parse(b"m f=1", precision="d", default_time_ns=NOW)
    with pytest.raises(BadRequest):
        precision_factor("")
    assert precision_factor("ms") == 1_000_000


def test_precision_applies_per_line_in_auto() -> None:
    body = b"m f=1 1700000000\nm f=2 1700000000000\nm f=3 1700000000000000\nm f=4 5"
    tables, errors = parse_both(body, "auto")
    assert errors == []
    assert [r["time"] for r in tables["m"]] == [1_700_000_000_000_000_000] * 3 + [5 * 10**9]


# -- whole bodies ----------------------------------------------------------------------------


def test_empty_bodies() -> None:
    for body in (b"", b"\n", b"\n\n\n", b"   \n\t\n", b"# only a comment", b"\r\n\r\n"):
        assert parse_both(body) == ({}, [])


def test_comments_and_blank_lines() -> None:
    body = (
        b"# a comment\n"
        b"\n"
        b"m f=1\n"
        b'   # an indented comment, with "quotes" and \\ backslashes\n'
        b"\t\n"
        b"#m f=9\n"
        b"  \r\n"
        b"m f=2"
    )
    tables, errors = parse_both(body)
    assert errors == []
    assert [(r["line"], r["fields"]["f"][1]) for r in tables["m"]] == [
        (3, (1.0).hex()),
        (8, (2.0).hex()),
    ]


def test_crlf_line_endings() -> None:
    body = b'm f=1\r\nm,t=a f=2i 5\r\nm s="x"\r\n\r\nm b=t 6 \r\nm f=3'
    tables, errors = parse_both(body)
    assert errors == []
    rows = tables["m"]
    assert [r["line"] for r in rows] == [1, 2, 3, 5, 6]
    assert [r["time"] for r in rows] == [NOW, 5, NOW, 6, NOW]
    assert rows[2]["fields"] == {"s": (S, "x")}
    assert rows[3]["fields"] == {"b": (B, True)}


def test_crlf_error_text_drops_the_cr() -> None:
    assert parse_both(b"m f=1\r\nbad\r\n")[1] == [(2, "missing fields", "bad")]


def test_quoted_newlines_continue_the_line() -> None:
    body = b'm s="one\ntwo\n# three",g=1 7\nm f=1 8\nm s="a\r\nb"\nm f=2'
    tables, errors = parse_both(body)
    assert errors == []
    rows = tables["m"]
    assert [r["line"] for r in rows] == [1, 4, 5, 7]
    assert rows[0]["fields"] == {"s": (S, "one\ntwo\n# three"), "g": (F, (1.0).hex())}
    assert rows[0]["time"] == 7
    assert rows[2]["fields"] == {"s": (S, "a\r\nb")}


def test_quoted_strings_with_separators() -> None:
    body = b"\n".join(
        b'log,host=h%d msg="GET /a?b=c&d=e, took %d ms",ok=t,code=%di %d' % (i % 3, i, i, i)
        for i in range(300)
    )
    tables, errors = parse_both(body)
    assert errors == []
    rows = tables["log"]
    assert len(rows) == 300
    assert rows[7]["fields"] == {
        "msg": (S, "GET /a?b=c&d=e, took 7 ms"),
        "ok": (B, True),
        "code": (N, 7),
    }


@pytest.mark.parametrize(
    ("body", "rows", "errors"),
    [
        # line 2 is valid on its own, but it is inside the string that line 1 opens
        (b'm s="a\nm f=1\nb" 5', [(1, {"s": (S, "a\nm f=1\nb")})], []),
        (b'm s="a\nm t="b"\nc"', [], [(1, "invalid timestamp 'b\"'"), (3, "missing fields")]),
        # quotes do not protect spaces in a tag value
        (b'm,t="x y" f=1\nm s="a b"', [(2, {"s": (S, "a b")})], [(1, "field key without a value")]),
        (b'm,t="x" f=1', [(1, {"f": (F, (1.0).hex())})], []),
        (
            b'm s="a",t="b" 1\nm s="c',
            [(1, {"s": (S, "a"), "t": (S, "b")})],
            [(2, "unterminated string field value")],
        ),
        (b'm s="a"b" 1', [], [(1, "invalid timestamp 'b\"'")]),
        (b'm s=""\nm s="",t=""', [(1, {"s": (S, "")}), (2, {"s": (S, ""), "t": (S, "")})], []),
        (b'm "k"=1 2', [(1, {'"k"': (F, (1.0).hex())})], []),
        (b'm s="x\n\n" 3\nm f=1 4', [(1, {"s": (S, "x\n\n")}), (4, {"f": (F, (1.0).hex())})], []),
    ],
)
def test_quotes_and_line_continuations(
    body: bytes, rows: list[tuple[int, dict[str, Any]]], errors: list[tuple[int, str]]
) -> None:
    tables, errs = parse_both(body)
    assert [(r["line"], r["fields"]) for t in tables.values() for r in t] == rows
    assert [(n, msg) for n, msg, _ in errs] == errors


def test_errors_carry_physical_line_and_text() -> None:
    body = (
        b'm s="multi\nline"\n'  # lines 1-2
        b"m f=1\n"  # 3
        b"bad line\n"  # 4
        b"  m f=oops\n"  # 5
        b"\n"  # 6
        b'm s="a\nb" garbage\n'  # 7-8, one logical line
        b"m f=2 1 2\n"  # 9
        b'm s="never closed\n'  # 10
        b"m f=3"  # 11
    )
    tables, errors = parse_both(body)
    assert [r["line"] for r in tables["m"]] == [1, 3, 11]
    assert errors == [
        (4, "field key without a value", "bad line"),
        (5, "invalid field value 'oops'", "  m f=oops"),
        (7, "invalid timestamp 'garbage'", 'm s="a\nb" garbage'),
        (9, "trailing content after the timestamp: '2'", "m f=2 1 2"),
        (10, "unterminated string field value", 'm s="never closed'),
    ]


def test_invalid_utf8_rejects_only_that_line() -> None:
    body = (
        b"m f=1\n"
        b"m,t=\xff f=2\n"
        b"m f=3\n"
        b'm s="\xc3" 4\n'
        b"\xe2\x82 f=5\n"
        b"m \xff=1\n"
        b"# \xff\n"
        b"m,t=\xc3\xa9 f=6"
    )
    tables, errors = parse_both(body)
    assert [r["line"] for r in tables["m"]] == [1, 3, 8]
    assert tables["m"][2]["tags"] == {"t": "é"}
    assert [(n, msg) for n, msg, _ in errors] == [
        (2, "invalid UTF-8 in tag value"),
        (4, "invalid UTF-8 in string field value"),
        (5, "invalid UTF-8 in measurement"),
        (6, "invalid UTF-8 in field key"),
    ]
    assert errors[0][2] == "m,t=\ufffd f=2"


def test_several_tables_and_sparse_tags() -> None:
    body = b"cpu,host=a u=1 10\nmem,host=a free=2i 10\ncpu,host=b,dc=x u=3 20\ncpu u=4 30\n"
    tables, errors = parse_both(body)
    assert errors == []
    assert sorted(tables) == ["cpu", "mem"]
    assert [(r["line"], r["tags"]) for r in tables["cpu"]] == [
        (1, {"host": "a"}),
        (3, {"host": "b", "dc": "x"}),
        (4, {}),
    ]
    assert tables["mem"] == [
        {"line": 2, "time": 10, "tags": {"host": "a"}, "fields": {"free": (N, 2)}}
    ]
    parsed = parse(body, default_time_ns=NOW)
    assert parsed.tables["cpu"].tags["dc"].null_count == 2


def test_same_series_and_time_twice_keeps_both_rows() -> None:
    body = b"m,t=a f=1 5\nm,t=a f=2 5\nm,t=a g=3i 5"
    tables, errors = parse_both(body)
    assert errors == []
    assert [(r["line"], r["time"], r["fields"]) for r in tables["m"]] == [
        (1, 5, {"f": (F, (1.0).hex())}),
        (2, 5, {"f": (F, (2.0).hex())}),
        (3, 5, {"g": (N, 3)}),
    ]


def test_field_types_may_differ_between_lines() -> None:
    body = b'm f=1\nm f=1i\nm f=t\nm f="s"\nm f=1u\nm f=2'
    tables, _ = parse_both(body)
    assert [r["fields"]["f"][0] for r in tables["m"]] == [F, N, B, S, U, F]
    groups = parse(body, default_time_ns=NOW).tables["m"].fields["f"]
    assert sorted(g.type for g in groups) == sorted([F, N, B, S, U])


def test_mixed_clean_and_exact_lines_keep_line_order() -> None:
    lines = [b"m,t=a f=%di %d" % (i, i) for i in range(50)]
    lines[10] = b'm,t=a f=10i,s="x" 10'
    lines[20] = b"m,t\\ x=a f=20i 20"
    lines[30] = b"  m,t=a f=30i 30"
    lines[40] = b"m,t=a f=40.5 40"
    tables, errors = parse_both(b"\n".join(lines))
    assert errors == []
    assert [r["line"] for r in tables["m"]] == list(range(1, 51))
    assert [r["time"] for r in tables["m"]] == list(range(50))
    assert tables["m"][40]["fields"] == {"f": (F, (40.5).hex())}


def test_rejections_do_not_disturb_good_lines() -> None:
    good = [b"cpu,host=h%d usage=%d.5,n=%di %d" % (i % 3, i, i, i) for i in range(30)]
    body = b"\n".join(
        [*good[:10], b"cpu,host=h0 usage=oops 1", *good[10:20], b"cpu usage=1 2 3", *good[20:]]
    )
    tables, errors = parse_both(body)
    assert [e[0] for e in errors] == [11, 22]
    assert len(tables["cpu"]) == 30
    assert all(r["fields"]["n"][1] == r["time"] for r in tables["cpu"])


def test_large_clean_body() -> None:
    body = b"\n".join(
        b"cpu,host=h%d,region=r%d usage=%d.25,idle=%di,up=t,ver=%du %d"
        % (i % 7, i % 3, i, i, i, 1_600_000_000_000_000_000 + i)
        for i in range(2000)
    )
    tables, errors = parse_both(body)
    assert errors == []
    rows = tables["cpu"]
    assert len(rows) == 2000
    assert rows[1234] == {
        "line": 1235,
        "time": 1_600_000_000_000_001_234,
        "tags": {"host": "h2", "region": "r1"},
        "fields": {
            "usage": (F, (1234.25).hex()),
            "idle": (N, 1234),
            "up": (B, True),
            "ver": (U, 1234),
        },
    }


# -- property: the columnar path and the exact parser agree ----------------------------------

# name characters, including every one that needs an escape and a few that look special
NAME_ALPHABET = "abcxyzAZ019_-.:/é😀" + " ,=\\\"#'\t"
MEASUREMENT_ESCAPES = {"\\": "\\\\", ",": "\\,", " ": "\\ "}
KEY_ESCAPES = {"\\": "\\\\", ",": "\\,", " ": "\\ ", "=": "\\="}
BOOLS = {s: True for s in ("t", "T", "true", "True", "TRUE")} | {
    s: False for s in ("f", "F", "false", "False", "FALSE")
}


def _escape(name: str, table: dict[str, str]) -> str:
    return "".join(table.get(c, c) for c in name)


def scale_reference(ts: int, precision: str) -> int | None:
    """The nanosecond timestamp for ``ts`` at ``precision`` (None when out of range)."""
    if precision == "auto":
        mag = abs(ts)
        factor = (
            1_000_000_000
            if mag < 5_000_000_000
            else 1_000_000
            if mag < 5_000_000_000_000
            else 1_000
            if mag < 5_000_000_000_000_000
            else 1
        )
    else:
        factor = PRECISIONS[precision]
    scaled = ts * factor
    return scaled if I64_MIN <= scaled <= I64_MAX else None


measurement_names = st.text(NAME_ALPHABET, min_size=1, max_size=6).filter(
    lambda s: s[0] not in "#\t"
)
key_names = st.text(NAME_ALPHABET, min_size=1, max_size=6)


def _zeros(draw: st.DrawFn, v: int) -> str:
    """``v`` in decimal, sometimes with leading zeros."""
    zeros = "0" * draw(st.sampled_from([0, 0, 0, 1, 3]))
    return f"-{zeros}{-v}" if v < 0 else f"{zeros}{v}"


@st.composite
def float_fields(draw: st.DrawFn) -> tuple[str, ColumnType, Any]:
    value = draw(st.floats(allow_nan=False, allow_infinity=False))
    style = draw(st.sampled_from(["repr", "g17", "e", "E", "int", "dot", "digits"]))
    if style == "int":
        text = str(draw(st.integers(-(10**20), 10**20)))
    elif style == "digits":  # long mantissas and extreme exponents test the rounding
        text = draw(
            st.from_regex(
                r"-?([0-9]{1,30}\.?[0-9]{0,30}|\.[0-9]{1,30})([eE][+-]?[0-9]{1,3})?", fullmatch=True
            ).filter(lambda t: math.isfinite(float(t)))
        )
    elif style == "dot":
        text = draw(st.sampled_from(["1.", ".5", "-.5", "0.", "-0", "00.50", "1e5", "1E-5"]))
    else:
        text = {"repr": repr, "g17": "{:.17g}".format, "e": "{:e}".format, "E": "{:E}".format}[
            style
        ](value)
    return text, F, float(text)


@st.composite
def field_values(draw: st.DrawFn) -> tuple[str, ColumnType, Any]:
    kind = draw(st.sampled_from([F, F, N, U, S, B]))
    if kind is F:
        return draw(float_fields())
    if kind is N:
        v = draw(st.one_of(st.integers(I64_MIN, I64_MAX), st.integers(-100, 100)))
        return f"{_zeros(draw, v)}i", N, v
    if kind is U:
        u = draw(st.one_of(st.integers(0, U64_MAX), st.integers(0, 100)))
        return f"{_zeros(draw, u)}u", U, u
    if kind is B:
        text = draw(st.sampled_from(sorted(BOOLS)))
        return text, B, BOOLS[text]
    s = draw(st.text(st.characters(codec="utf-8", exclude_categories=["Cs"]), max_size=8))
    s = draw(st.one_of(st.just(s), st.text('ab \\"\n\r,=', max_size=8)))
    return '"' + s.replace("\\", "\\\\").replace('"', '\\"') + '"', S, s


@st.composite
def valid_lines(draw: st.DrawFn, precision: str) -> tuple[str, str, Row]:
    """A valid line (without terminator), its measurement and its expected row (no line)."""
    measurement = draw(measurement_names)
    tag_keys = draw(st.lists(key_names, max_size=3, unique=True))
    tags = {k: draw(key_names) for k in tag_keys}
    field_keys = draw(st.lists(key_names, min_size=1, max_size=4, unique=True))
    values = {k: draw(field_values()) for k in field_keys}
    sep = st.sampled_from([" ", " ", " ", "  "])
    text = _escape(measurement, MEASUREMENT_ESCAPES)
    for k, v in tags.items():
        text += f",{_escape(k, KEY_ESCAPES)}={_escape(v, KEY_ESCAPES)}"
    text += draw(sep)
    text += ",".join(f"{_escape(k, KEY_ESCAPES)}={v[0]}" for k, v in values.items())
    time = NOW
    if draw(st.booleans()):
        if precision == "auto":
            ts = draw(st.one_of(st.integers(I64_MIN, I64_MAX), st.integers(-(10**16), 10**16)))
        else:
            bound = I64_MAX // PRECISIONS[precision]
            ts = draw(st.integers(-bound, bound))
        scaled = scale_reference(ts, precision)
        assert scaled is not None
        text += draw(sep) + _zeros(draw, ts)
        time = scaled
    if draw(st.integers(0, 9)) == 0:
        text += " "
    row = {
        "time": time,
        "tags": tags,
        "fields": {k: (kind, _canon_value(kind, v)) for k, (_, kind, v) in values.items()},
    }
    return text, measurement, row


noise_lines = st.one_of(
    st.just(""),
    st.sampled_from(["  ", "\t", "\r", "# comment", '  # "quoted', "#m f=1"]),
    st.text("# abc,=\"'\\", max_size=10).map(lambda s: "#" + s),
)
precisions = st.sampled_from(["ns", "us", "ms", "s", "m", "h", "auto"])


@st.composite
def valid_bodies(draw: st.DrawFn) -> tuple[bytes, str, dict[str, list[Row]]]:
    precision = draw(precisions)
    expected: dict[str, list[Row]] = {}
    text = ""
    for _ in range(draw(st.integers(1, 8))):
        line_no = text.count("\n") + 1
        if draw(st.integers(0, 4)) == 0:
            text += draw(noise_lines)
        else:
            line, measurement, row = draw(valid_lines(precision))
            if draw(st.integers(0, 4)) == 0:
                line = draw(st.sampled_from([" ", "\t", "  "])) + line
            text += line
            expected.setdefault(measurement, []).append({"line": line_no, **row})
        text += draw(st.sampled_from(["\n", "\n", "\r\n"]))
    if draw(st.booleans()):
        text = text.rstrip("\n")
        if text.endswith("\r"):  # a lone trailing CR is fine, but keep the case simple
            text = text[:-1]
    return text.encode(), precision, expected


@settings(max_examples=300, deadline=None, database=None)
@given(valid_bodies())
def test_valid_bodies_round_trip(case: tuple[bytes, str, dict[str, list[Row]]]) -> None:
    body, precision, expected = case
    tables, errors = parse_both(body, precision)
    assert errors == []
    assert tables == expected


SPECIAL = ' ,="\\\t\r\n#iuetTfF.-+0x9é'
GARBAGE_BYTES = [b"\xff", b"\xc3", b"\xe2\x82", b"\xc3\xa9", b"\x00"]


@st.composite
def mutated(draw: st.DrawFn, line: str) -> bytes:
    data = line.encode()
    for _ in range(draw(st.integers(1, 3))):
        pos = draw(st.integers(0, len(data)))
        op = draw(st.sampled_from(["insert", "delete", "replace", "byte"]))
        if op == "byte":
            ins = draw(st.sampled_from(GARBAGE_BYTES))
        else:
            ins = draw(st.sampled_from(SPECIAL)).encode() if op != "delete" else b""
        cut = 1 if op in ("delete", "replace") else 0
        data = data[:pos] + ins + data[pos + cut :]
    return data


@st.composite
def mixed_bodies(draw: st.DrawFn, max_lines: int = 10) -> tuple[bytes, str]:
    precision = draw(precisions)
    parts: list[bytes] = []
    for _ in range(draw(st.integers(1, max_lines))):
        choice = draw(st.integers(0, 9))
        if choice <= 3:
            parts.append(draw(valid_lines(precision))[0].encode())
        elif choice <= 6:
            parts.append(draw(mutated(draw(valid_lines(precision))[0])))
        elif choice == 7:
            parts.append(draw(noise_lines).encode())
        elif choice == 8:
            alphabet = draw(st.sampled_from([SPECIAL + "ab1", 'mf=", 1\nt']))
            parts.append(draw(st.text(alphabet, max_size=14)).encode())
        else:
            value = draw(
                st.sampled_from(
                    [
                        "nan",
                        "inf",
                        "-inf",
                        "1e400",
                        "+1",
                        "0x10",
                        "0x10i",
                        "0x1u",
                        "-0u",
                        "-1u",
                        "9223372036854775808i",
                        "-9223372036854775809i",
                        "18446744073709551616u",
                        "1_0",
                        "1.5.5",
                        "tRUE",
                        "",
                        '"open',
                        "1\t",
                        "\t1",
                        "1e",
                        ".",
                        "-",
                    ]
                )
            )
            ts = draw(
                st.sampled_from(
                    [
                        "",
                        " 1",
                        " -1",
                        " +1",
                        " 0x10",
                        " 9223372036854775807",
                        " 9223372036854775808",
                        " -9223372036854775808",
                        " 12x",
                        " 1 2",
                        " 1.5",
                    ]
                )
            )
            parts.append(f"m,t=a f={value}{ts}".encode())
    sep = draw(st.sampled_from([b"\n", b"\r\n"]))
    return sep.join(parts), precision


@settings(
    max_examples=300, deadline=None, database=None, suppress_health_check=[HealthCheck.too_slow]
)
@given(mixed_bodies())
def test_columnar_and_exact_agree(case: tuple[bytes, str]) -> None:
    body, precision = case
    tables, errors = parse_both(body, precision)
    nlines = body.count(b"\n") + 1
    row_lines = {r["line"] for rows in tables.values() for r in rows}
    error_lines = {e[0] for e in errors}
    assert all(1 <= n <= nlines for n in row_lines | error_lines)
    assert not row_lines & error_lines


@settings(
    max_examples=30, deadline=None, database=None, suppress_health_check=[HealthCheck.too_slow]
)
@given(mixed_bodies(max_lines=120))
def test_columnar_and_exact_agree_on_long_bodies(case: tuple[bytes, str]) -> None:
    parse_both(*case)


def test_series_keys_remembered_across_bodies_give_the_same_answers() -> None:
    """Series keys parsed once are remembered for later bodies (clients repeat them); the
    answers, and the errors of keys the exact parser must judge, stay the same."""
    import edge_common.lineprotocol as lp

    body = b"m,b=2,a=1 v=1 1\nm,a=1,b=2 v=2 2\nm,a=1,a=2 v=3 3\nm v=4 4\n"

    def answer() -> tuple[list[str], int, dict[str, list[Any]]]:
        got = parse(body, default_time_ns=0, path="columnar")
        table = got.tables["m"]
        tags = {k: v.to_pylist() for k, v in table.tags.items()}
        return [e.error_message for e in got.errors], table.num_rows, tags

    first = answer()
    assert first[0] == ["duplicate tag key 'a'"] and first[1] == 3
    assert first[2] == {"a": ["1", "1", None], "b": ["2", "2", None]}
    assert lp._KEYS["m,a=1,a=2"] is lp._NOT_COLUMNAR  # remembered: the exact parser judges
    assert answer() == first
    lp._KEYS.clear()  # forgetting them changes nothing either
    assert answer() == first
