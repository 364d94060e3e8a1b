"""influxd 1.6.7's reasons for refusing a line, as its scanner gives them.

Each expected reason below is what a real influxd 1.6.7 answered for the line
(``tests/compat/writes.py`` asks it of thousands more, and of Edge's answers).
"""

from __future__ import annotations

import pytest

from edge_common.lp_influxd import line_end, refusal

PARSE_INT = "strconv.ParseInt:"
OUT_OF_RANGE = "time outside range -9223372036854775806 - 9223372036854775806"


@pytest.mark.parametrize(
    ("line", "reason"),
    [
        (b"m f=NaN 1", "invalid number"),
        (b"m f=nan 1", "invalid number"),
        (b"m f=-Inf 1", "invalid number"),
        (b"m f=1e400 1", "invalid float"),
        (b"m f=1e-400 1", None),
        (b"m f=1u 1", "invalid number"),
        (b"m f=- 1", "invalid number"),
        (b"m f=-i 1", "invalid number"),
        (b"m f=1.5i 1", "invalid number"),
        (b"m f=1i2 1", "invalid number"),
        (b"m,t=a=b f=1", "invalid tag format"),
        (b"m,t=a\\=b f=1", None),
        (b'm f="unterminated 1', "unbalanced quotes"),
        (b"m,a=1,a=2 f=1", "duplicate tags"),
        (b"m,b=1,a=1,b=2 f=1", "duplicate tags"),
        (b",t=1 f=1", "missing measurement"),
        (b"m, f=1", "missing tag key"),
        (b"m,t f=1", "missing tag value"),
        (b"m,t= f=1", "missing tag value"),
        (b"m,=v f=1", "missing tag key"),
        (b"m f", "invalid field format"),
        (b"m f=", "missing field value"),
        (b"m =1", "missing field key"),
        (b"m f=1,", "invalid field format"),
        (b"m f=1, g=2", "invalid field format"),
        (b"m f=1 1 2", "point is invalid"),
        (b"m f=1 -", 'strconv.ParseInt: parsing "-": invalid syntax'),
        (b"m f=1 --1", "bad timestamp"),
        (
            b"m f=1 99999999999999999999",
            'strconv.ParseInt: parsing "99999999999999999999": value out of range',
        ),
        (b"m\\ f=1 1", "invalid field format"),
        (b"m f=tru 1", "invalid boolean"),
        (b"m f=TRue 1", "invalid boolean"),
        (b'm f="a",g="b 1', "unbalanced quotes"),
        (b"m,t=a\\ f=1 1", "invalid tag format"),
        (b"m,t=a\\\\ f=1 1", "invalid tag format"),
        (b"m f=1,,g=2 1", "invalid field format"),
        (b"m f=.  1", "invalid number"),
        (b"m f=. 1", "invalid number"),
        (b"m f=1.2.3 1", "invalid number"),
        (
            b"m f=9223372036854775808i 1",
            f"unable to parse integer 9223372036854775808: {PARSE_INT} parsing "
            '"9223372036854775808": value out of range',
        ),
        (
            b"m f=-9223372036854775809i 1",
            f"unable to parse integer -9223372036854775809: {PARSE_INT} parsing "
            '"-9223372036854775809": value out of range',
        ),
        (b"m f=1E5 1", None),
        (b"m f=1e+5 1", None),
        (b"m f=1e 1", "invalid float"),
        (b"m f=1e- 1", "invalid float"),
        (b"m f=-e5 1", "invalid float"),
        (b"m f=5.e3 1", None),
        (b"m f=.e3 1", "invalid float"),
        (b"m f=+1 1", "invalid boolean"),
        (b"m f=1 1.5", "bad timestamp"),
        (b"m f=1 1e3", "bad timestamp"),
        (b"m f=1 0x10", "bad timestamp"),
        (
            b"m f=1 -9223372036854775808",
            "time outside range -9223372036854775806 - 9223372036854775806",
        ),
        (
            b"m f=1 9223372036854775807",
            "time outside range -9223372036854775806 - 9223372036854775806",
        ),
        (b"m f=1 9223372036854775806", None),
        (b"m f=1  1", None),
        (b"m  f=1 1", None),
        (b"m f=1 1 ", None),
        (b"m f=1 1\t", "bad timestamp"),
        (b"m,t==x f=1 1", None),
        (b"m,t=x= f=1 1", "invalid tag format"),
        (b"m,t\\=k=x f=1 1", None),
        (b"m f\\=g=1 1", None),
        (b"m f=1,g\\ =2 1", None),
        (b"m f=1, =2 1", "invalid field format"),
        (b"m ,f=1 1", "invalid field format"),
        (b"m, t=1 f=1", "missing tag key"),
        (b"m,t=1, f=1", "missing tag key"),
        (b"m,t=1,u f=1", "missing tag value"),
        (b"m,t=1 ", "invalid field format"),
        (b"m ", "invalid field format"),
        (b"m,", "missing tag key"),
        (b"m\\", "missing fields"),
        (b"m\\ ", "missing fields"),
        (b",", "missing measurement"),
        (b"\\ m f=1", None),
        (b"m f=T1 1", "invalid boolean"),
        (b"m f=1i,g=1.0i 1", "invalid number"),
        (b"m f=0000000000000000000000000000001 1", None),
        (b"m f=12345678901234567890123456789 1", None),
        (b"m f=1E400 1", "invalid float"),
        (b"m f=-1e309 1", "invalid float"),
        (b"m f=1u2 1", "invalid number"),
        (b"m f=n 1", "invalid number"),
        (b"m f=Nope 1", "invalid number"),
        (b"m f=N 1", "invalid number"),
        (b"m,a=1,b=2,a=3 f=1", "duplicate tags"),
        (b"m,b=1,a=2 f=1 1", None),
    ],
)
def test_reason_as_influxd_gives_it(line: bytes, reason: str | None) -> None:
    assert refusal(line) == reason


@pytest.mark.parametrize(
    ("line", "precision", "reason"),
    [
        (b"m f=1 153722868", "m", OUT_OF_RANGE),
        (b"m f=1 2562048", "m", None),
        (b"m f=1 2562048", "h", OUT_OF_RANGE),
        (b"m f=1 2562048", "s", None),
    ],
)
def test_time_range_by_precision(line: bytes, precision: str, reason: str | None) -> None:
    assert refusal(line, precision) == reason


@pytest.mark.parametrize(
    ("body", "end"),
    [
        (b"m f=1\nn f=2", 5),
        (b'm s="a\nb" 1\nn f=2', 11),  # a quoted value runs over the newline
        (b'm,t=a"b f=1\nn f=2', 11),  # a quote before the first space is a plain byte
        (b'm,t=a\\ b,u=x" f="a b\nc', 22),  # after it, one after a = opens a value
        (b"m,t=a\\\nb f=1\nn", 12),  # a backslash takes the newline along
        (b"m f=1", 5),
    ],
)
def test_line_end_as_influxd_scans(body: bytes, end: int) -> None:
    assert line_end(body, 0) == end
