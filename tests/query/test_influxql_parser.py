"""The InfluxQL parser: every construct → its syntax tree, and influxd's error messages."""

from __future__ import annotations

import os
from collections.abc import Iterator

import httpx
import pytest

from bench.influxd import INFLUXD, run_influxd
from edge_query.influxql import ast
from edge_query.influxql.parser import InfluxQLError, dimension_problem, parse

V = ast.VarRef
S = ast.StringLiteral
I = ast.IntegerLiteral  # noqa: E741
N = ast.NumberLiteral
B = ast.BinaryExpr
T = ast.TimeLiteral
R = ast.RegexLiteral
P = ast.ParenExpr
F = ast.Field
M = ast.Measurement
CPU: list[ast.Source] = [M("cpu")]
HOUR = 3_600_000_000_000
MINUTE = 60_000_000_000
SECOND = 1_000_000_000

_HOUR = 3_600_000_000_000
_DAY = 24 * _HOUR


def D(text: str, ns: int) -> ast.DurationLiteral:
    return ast.DurationLiteral(ns, text)


def C(name: str, *args: ast.Expr) -> ast.Call:
    return ast.Call(name, args)


def sel(
    *fields: ast.Expr | ast.Field, sources: list[ast.Source] | None = None, **kw: object
) -> ast.SelectStatement:
    """SELECT fields FROM cpu, with ``kw`` as the other SelectStatement attributes."""
    out = [f if isinstance(f, ast.Field) else F(f) for f in fields]
    return ast.SelectStatement(out, CPU if sources is None else sources, **kw)  # type: ignore[arg-type]


def where(cond: ast.Expr) -> ast.SelectStatement:
    return sel(ast.Wildcard(), condition=cond)


def one(text: str, params: dict[str, object] | None = None) -> ast.Statement:
    statements = parse(text, params)
    assert len(statements) == 1
    return statements[0]


# --- SELECT -----------------------------------------------------------------------------
SELECTS = [
    ("SELECT * FROM cpu", sel(ast.Wildcard())),
    ("select * from CPU", sel(ast.Wildcard(), sources=[M("CPU")])),
    ("SELECT usage FROM cpu", sel(V("usage"))),
    ("SELECT a, b AS bee, c FROM cpu", sel(V("a"), F(V("b"), "bee"), V("c"))),
    ("SELECT mean(usage) FROM cpu", sel(C("mean", V("usage")))),
    ("SELECT MEAN(usage) AS m FROM cpu", sel(F(C("mean", V("usage")), "m"))),
    ("SELECT count(*) FROM cpu", sel(C("count", ast.Wildcard()))),
    ("SELECT count(distinct(x)) FROM cpu", sel(C("count", C("distinct", V("x"))))),
    ("SELECT count(DISTINCT x) FROM cpu", sel(C("count", C("distinct", V("x"))))),
    ("SELECT DISTINCT x FROM cpu", sel(C("distinct", V("x")))),
    ("SELECT percentile(x, 95) FROM cpu", sel(C("percentile", V("x"), I(95)))),
    ("SELECT percentile(x, 99.9) FROM cpu", sel(C("percentile", V("x"), N(99.9)))),
    ("SELECT top(x, host, 3) FROM cpu", sel(C("top", V("x"), V("host"), I(3)))),
    (
        "SELECT moving_average(mean(x), 3) FROM cpu",
        sel(C("moving_average", C("mean", V("x")), I(3))),
    ),
    ("SELECT mean(/^u/) FROM cpu", sel(C("mean", R("^u")))),
    ("SELECT now() FROM cpu", sel(ast.NowCall())),
    ("SELECT /^usage/ FROM cpu", sel(R("^usage"))),
    ("SELECT /a\\/b/ FROM cpu", sel(R("a/b"))),
    ("SELECT /a\\d+/ FROM cpu", sel(R("a\\d+"))),
    ("SELECT *::field FROM cpu", sel(ast.Wildcard("field"))),
    ("SELECT *::tag FROM cpu", sel(ast.Wildcard("tag"))),
    ("SELECT x::field, h::tag FROM cpu", sel(V("x", "field"), V("h", "tag"))),
    (
        "SELECT a::integer, b::Float, c::string, d::boolean FROM cpu",
        sel(V("a", "integer"), V("b", "float"), V("c", "string"), V("d", "boolean")),
    ),
    ("SELECT cpu.usage FROM cpu", sel(V("cpu.usage"))),
    ("SELECT x FROM db.rp.cpu", sel(V("x"), sources=[M("cpu", None, "db", "rp")])),
    (
        'SELECT x FROM "my db"."my rp"."my m"',
        sel(V("x"), sources=[M("my m", None, "my db", "my rp")]),
    ),
    ("SELECT x FROM db..cpu", sel(V("x"), sources=[M("cpu", database="db")])),
    ("SELECT x FROM autogen.cpu", sel(V("x"), sources=[M("cpu", retention_policy="autogen")])),
    ("SELECT x FROM /c.u/", sel(V("x"), sources=[M(regex="c.u")])),
    (
        "SELECT x FROM db.rp./c/",
        sel(V("x"), sources=[M(regex="c", database="db", retention_policy="rp")]),
    ),
    ("SELECT x FROM db../c/", sel(V("x"), sources=[M(regex="c", database="db")])),
    ("SELECT x FROM rp./c/", sel(V("x"), sources=[M(regex="c", retention_policy="rp")])),
    ("SELECT x FROM cpu, mem, /d/", sel(V("x"), sources=[M("cpu"), M("mem"), M(regex="d")])),
    (
        "SELECT max(m) FROM (SELECT mean(x) AS m FROM cpu GROUP BY host)",
        sel(
            C("max", V("m")),
            sources=[
                ast.SubQuery(sel(F(C("mean", V("x")), "m"), dimensions=[ast.Dimension(V("host"))]))
            ],
        ),
    ),
    ("SELECT x INTO other FROM cpu", sel(V("x"), into=M("other"))),
    ("SELECT x INTO db.rp.other FROM cpu", sel(V("x"), into=M("other", None, "db", "rp"))),
    (
        "SELECT * INTO db.rp.:MEASUREMENT FROM cpu",
        sel(ast.Wildcard(), into=M(None, None, "db", "rp")),
    ),
    (
        "SELECT mean(x) FROM cpu GROUP BY time(10m)",
        sel(C("mean", V("x")), dimensions=[ast.Dimension(C("time", D("10m", 10 * MINUTE)))]),
    ),
    (
        "SELECT mean(x) FROM cpu GROUP BY time(10m, 5m), host",
        sel(
            C("mean", V("x")),
            dimensions=[
                ast.Dimension(C("time", D("10m", 10 * MINUTE), D("5m", 5 * MINUTE))),
                ast.Dimension(V("host")),
            ],
        ),
    ),
    (
        "SELECT mean(x) FROM cpu GROUP BY time(1h, -15m)",
        sel(
            C("mean", V("x")),
            dimensions=[ast.Dimension(C("time", D("1h", HOUR), D("-15m", -15 * MINUTE)))],
        ),
    ),
    (
        "SELECT mean(x) FROM cpu GROUP BY time(1h, now())",
        sel(C("mean", V("x")), dimensions=[ast.Dimension(C("time", D("1h", HOUR), ast.NowCall()))]),
    ),
    ("SELECT x FROM cpu GROUP BY *", sel(V("x"), dimensions=[ast.Dimension(ast.Wildcard())])),
    ("SELECT x FROM cpu GROUP BY /^h/", sel(V("x"), dimensions=[ast.Dimension(R("^h"))])),
    ("SELECT x FROM cpu GROUP BY (host)", sel(V("x"), dimensions=[ast.Dimension(V("host"))])),
    (
        'SELECT x FROM cpu GROUP BY host, "region"',
        sel(V("x"), dimensions=[ast.Dimension(V("host")), ast.Dimension(V("region"))]),
    ),
    ("SELECT x FROM cpu fill(null)", sel(V("x"), fill="null")),
    ("SELECT x FROM cpu fill(none)", sel(V("x"), fill="none")),
    ("SELECT x FROM cpu fill(previous)", sel(V("x"), fill="previous")),
    ("SELECT x FROM cpu fill(linear)", sel(V("x"), fill="linear")),
    ("SELECT x FROM cpu fill(0)", sel(V("x"), fill_value=0)),
    ("SELECT x FROM cpu FILL(-1.5)", sel(V("x"), fill_value=-1.5)),
    ("SELECT x FROM cpu ORDER BY time", sel(V("x"), order_by=[ast.SortField("time")])),
    ("SELECT x FROM cpu ORDER BY time ASC", sel(V("x"), order_by=[ast.SortField("time")])),
    ("SELECT x FROM cpu ORDER BY time DESC", sel(V("x"), order_by=[ast.SortField("time", False)])),
    ("SELECT x FROM cpu ORDER BY DESC", sel(V("x"), order_by=[ast.SortField("time", False)])),
    ("SELECT x FROM cpu LIMIT 10 OFFSET 5", sel(V("x"), limit=10, offset=5)),
    ("SELECT x FROM cpu SLIMIT 2 SOFFSET 1", sel(V("x"), slimit=2, soffset=1)),
    ("SELECT x FROM cpu LIMIT 0", sel(V("x"), limit=0)),
    ("SELECT x FROM cpu tz('Europe/Paris')", sel(V("x"), timezone="Europe/Paris")),
    (
        "SELECT mean(x) FROM cpu WHERE host = 'a' GROUP BY time(1m), host fill(0) "
        "ORDER BY time DESC LIMIT 5 OFFSET 1 SLIMIT 4 SOFFSET 2 tz('UTC')",
        sel(
            C("mean", V("x")),
            condition=B("=", V("host"), S("a")),
            dimensions=[ast.Dimension(C("time", D("1m", MINUTE))), ast.Dimension(V("host"))],
            fill_value=0,
            order_by=[ast.SortField("time", False)],
            limit=5,
            offset=1,
            slimit=4,
            soffset=2,
            timezone="UTC",
        ),
    ),
]


@pytest.mark.parametrize(("text", "expected"), SELECTS, ids=[t for t, _ in SELECTS])
def test_select(text: str, expected: ast.SelectStatement) -> None:
    assert one(text) == expected


# --- expressions (WHERE and fields) -------------------------------------------------------
a, b, c, d = V("a"), V("b"), V("c"), V("d")
EXPRESSIONS = [
    ("a = 1", B("=", a, I(1))),
    ("a != 1", B("!=", a, I(1))),
    ("a <> 1", B("!=", a, I(1))),
    ("a < 1 AND b <= 2 AND c > 3 AND d >= 4", None),  # checked below: left-associative ANDs
    (
        "a = 1 OR b = 2 AND c = 3",
        B("OR", B("=", a, I(1)), B("AND", B("=", b, I(2)), B("=", c, I(3)))),
    ),
    (
        "(a = 1 OR b = 2) AND c = 3",
        B("AND", P(B("OR", B("=", a, I(1)), B("=", b, I(2)))), B("=", c, I(3))),
    ),
    (
        "a = 1 or b = 2 and c = 3",
        B("OR", B("=", a, I(1)), B("AND", B("=", b, I(2)), B("=", c, I(3)))),
    ),
    ("a + b * c = d", B("=", B("+", a, B("*", b, c)), d)),
    ("a * b + c > d", B(">", B("+", B("*", a, b), c), d)),
    ("a - b - c = 0", B("=", B("-", B("-", a, b), c), I(0))),
    ("a / b % c = 0", B("=", B("%", B("/", a, b), c), I(0))),
    ("a | b & c = 0", B("=", B("|", a, B("&", b, c)), I(0))),
    ("a ^ b = 0", B("=", B("^", a, b), I(0))),
    ("(a + b) * c = 0", B("=", B("*", P(B("+", a, b)), c), I(0))),
    ("a = -1", B("=", a, I(-1))),
    ("a = -1.5", B("=", a, N(-1.5))),
    ("a = +2", B("=", a, I(2))),
    ("-a = 1", B("=", ast.UnaryExpr("-", a), I(1))),
    ("a = -(b)", B("=", a, ast.UnaryExpr("-", P(b)))),
    ("a =~ /x.*/", B("=~", a, R("x.*"))),
    ("a !~ /x/ AND b = 'y'", B("AND", B("!~", a, R("x")), B("=", b, S("y")))),
    ("a = 'it\\'s'", B("=", a, S("it's"))),
    ("a = 'line\\nbreak \\\\ \\\"'", B("=", a, S('line\nbreak \\ "'))),
    (
        "a = true OR b = FALSE",
        B("OR", B("=", a, ast.BoolLiteral(True)), B("=", b, ast.BoolLiteral(False))),
    ),
    ("a = 1.5e3 AND b = 2E-2", B("AND", B("=", a, N(1500.0)), B("=", b, N(0.02)))),
    ("a = .5", B("=", a, N(0.5))),
    ("a = 18446744073709551615", B("=", a, I(2**64 - 1))),
    ('"a b" = 1', B("=", V("a b"), I(1))),
    ('"select" = 1', B("=", V("select"), I(1))),
    ('"a\\"b" = 1', B("=", V('a"b'), I(1))),
    ("a::tag = 'x'", B("=", V("a", "tag"), S("x"))),
    ("time > now() - 1h", B(">", V("time"), B("-", ast.NowCall(), D("1h", HOUR)))),
    ("time > 1000", B(">", V("time"), I(1000))),
    ("time < now() + 10s", B("<", V("time"), B("+", ast.NowCall(), D("10s", 10 * SECOND)))),
]


@pytest.mark.parametrize(("cond", "expected"), EXPRESSIONS, ids=[c for c, _ in EXPRESSIONS])
def test_expression(cond: str, expected: ast.Expr | None) -> None:
    got = one(f"SELECT * FROM cpu WHERE {cond}")
    if expected is None:
        chain = B("AND", B("AND", B("<", a, I(1)), B("<=", b, I(2))), B(">", c, I(3)))
        expected = B("AND", chain, B(">=", d, I(4)))
    assert got == where(expected)


def test_arithmetic_fields() -> None:
    got = one("SELECT a + b * 2, (a - b) / 2, -a, a % 2 & 1 FROM cpu")
    assert got == sel(
        B("+", a, B("*", b, I(2))),
        B("/", P(B("-", a, b)), I(2)),
        ast.UnaryExpr("-", a),
        B("&", B("%", a, I(2)), I(1)),
    )


# --- durations and time literals ----------------------------------------------------------
DURATIONS = [
    ("1ns", 1),
    ("5u", 5_000),
    ("5µ", 5_000),
    ("7ms", 7_000_000),
    ("10s", 10 * SECOND),
    ("10m", 10 * MINUTE),
    ("2h", 2 * HOUR),
    ("1d", 24 * HOUR),
    ("1w", 7 * 24 * HOUR),
    ("1h30m", HOUR + 30 * MINUTE),
    ("1d12h30m15s", 36 * HOUR + 30 * MINUTE + 15 * SECOND),
]


@pytest.mark.parametrize(("text", "ns"), DURATIONS, ids=[t for t, _ in DURATIONS])
def test_duration(text: str, ns: int) -> None:
    cond = B(">", V("time"), B("-", ast.NowCall(), D(text, ns)))
    assert one(f"SELECT * FROM cpu WHERE time > now() - {text}") == where(cond)


JAN1 = 1_451_606_400_000_000_000  # 2016-01-01T00:00:00Z
TIMES = [
    ("'2016-01-01T00:00:00Z'", JAN1),
    ("'2016-01-01T00:00:00.5Z'", JAN1 + 500_000_000),
    ("'2016-01-01T00:00:00.123456789Z'", JAN1 + 123_456_789),
    ("'2016-01-01T02:00:00+02:00'", JAN1),
    ("'2015-12-31T19:00:00.25-05:00'", JAN1 + 250_000_000),
    ("'2016-01-01 00:00:00'", JAN1),
    ("'2016-01-01 00:00:01.5'", JAN1 + 1_500_000_000),
    ("'2016-01-01'", JAN1),
    ("'1970-01-01T00:00:00Z'", 0),
]


@pytest.mark.parametrize(("literal", "ns"), TIMES, ids=[t for t, _ in TIMES])
def test_time_literal(literal: str, ns: int) -> None:
    assert one(f"SELECT * FROM cpu WHERE time > {literal}") == where(B(">", V("time"), T(ns)))


def test_time_literal_both_sides_and_arithmetic() -> None:
    got = one(
        "SELECT * FROM cpu WHERE '2016-01-01' <= time AND (time < '2016-01-02' - 1h) "
        "AND host = '2016-01-01'"
    )
    day = 86_400 * SECOND
    expected = B(
        "AND",
        B(
            "AND",
            B("<=", T(JAN1), V("time")),
            P(B("<", V("time"), B("-", T(JAN1 + day), D("1h", HOUR)))),
        ),
        B("=", V("host"), S("2016-01-01")),  # not compared with time: stays a string
    )
    assert got == where(expected)


def test_time_literal_in_tz_zone() -> None:
    got = one(
        "SELECT * FROM cpu WHERE time > '2016-01-01' AND time < '2016-01-01T00:00:00Z' "
        "tz('Europe/Paris')"
    )
    assert isinstance(got, ast.SelectStatement)
    paris = JAN1 - HOUR  # midnight in Paris is 23:00 UTC the day before
    assert got.condition == B("AND", B(">", V("time"), T(paris)), B("<", V("time"), T(JAN1)))


def test_time_stays_integer_and_non_dates_stay_strings() -> None:
    got = one("SELECT * FROM cpu WHERE time > 1451606400000000000 OR time > 'yesterday'")
    assert got == where(B("OR", B(">", V("time"), I(JAN1)), B(">", V("time"), S("yesterday"))))


def test_a_date_that_is_no_time_stays_a_string() -> None:
    """influxd refuses it when it runs the statement ("invalid timestamp string"), not as
    it parses: the other statements of the request are answered."""
    got = one("SELECT * FROM cpu WHERE time > '2016-13-01'")
    assert got == where(B(">", V("time"), S("2016-13-01")))


def test_time_literal_in_other_statements() -> None:
    got = one("DELETE FROM cpu WHERE time < '2016-01-01'")
    assert got == ast.Delete([M("cpu")], B("<", V("time"), T(JAN1)))


# --- lexical details ------------------------------------------------------------------------
def test_comments() -> None:
    text = "-- first\nSELECT x /* the fields */ -- trailing\nFROM cpu"
    assert one(text) == sel(V("x"))
    where = one("SELECT x FROM cpu WHERE /* c */ a = 1 /* end */")
    assert isinstance(where, ast.SelectStatement) and where.condition == B("=", V("a"), I(1))


def test_a_slash_where_a_regex_may_stand_is_a_regex() -> None:
    """influxd looks for a regex before any comment: ``/* here */`` after FROM is one, and
    Go's regexp refuses it."""
    with pytest.raises(InfluxQLError) as err:
        parse("SELECT x FROM /* here */ cpu")
    assert str(err.value) == (
        "error parsing query: error parsing regexp: missing argument to repetition "
        "operator: `*` at line 1, char 14"
    )


def test_a_quoted_part_right_after_a_word_is_the_name() -> None:
    """influxd's scanner: ``x"a"`` is the name a, and a keyword so followed is no keyword."""
    assert one('SELECT x"a" FROM cpu') == sel(V("a"))
    with pytest.raises(InfluxQLError, match="found a, expected SELECT"):
        parse('SELECT"a" FROM cpu')


def test_keywords_are_case_insensitive() -> None:
    text = "sElEcT x FrOm cpu wHeRe a = 1 GrOuP bY host oRdEr By time dEsC lImIt 1"
    assert one(text) == sel(
        V("x"),
        condition=B("=", a, I(1)),
        dimensions=[ast.Dimension(V("host"))],
        order_by=[ast.SortField("time", False)],
        limit=1,
    )


def test_quoted_identifiers() -> None:
    got = one('SELECT "value" AS "the value", "with\\"quote" FROM "db"."rp"."cpu.load"')
    expected = sel(
        F(V("value"), "the value"), V('with"quote'), sources=[M("cpu.load", None, "db", "rp")]
    )
    assert got == expected


def test_identifiers_with_digits_and_underscores() -> None:
    assert one("SELECT _x1, y_2 FROM cpu_9") == sel(V("_x1"), V("y_2"), sources=[M("cpu_9")])


def test_multiple_statements() -> None:
    got = parse("SELECT x FROM cpu; SHOW DATABASES;; DROP MEASUREMENT cpu;")
    assert got == [sel(V("x")), ast.ShowStatement("DATABASES"), ast.DropMeasurement("cpu")]


def test_empty_queries() -> None:
    assert parse("") == []
    assert parse("  ;  ; -- nothing\n") == []


def test_bind_parameters() -> None:
    params: dict[str, object] = {"host": "h1", "n": 3, "f": 0.5, "ok": True, "lim": 10}
    got = one(
        "SELECT x FROM cpu WHERE host = $host AND n > $n AND f < $f AND ok = $ok LIMIT $lim",
        params,
    )
    cond = B(
        "AND",
        B(
            "AND",
            B("AND", B("=", V("host"), S("h1")), B(">", V("n"), I(3))),
            B("<", V("f"), N(0.5)),
        ),
        B("=", V("ok"), ast.BoolLiteral(True)),
    )
    assert got == sel(V("x"), condition=cond, limit=10)


def test_bind_parameter_as_time() -> None:
    got = one("SELECT * FROM cpu WHERE time > $t", {"t": "2016-01-01T00:00:00Z"})
    assert got == where(B(">", V("time"), T(JAN1)))


# --- SHOW and the other statements --------------------------------------------------------
Show = ast.ShowStatement
KEY = V("_tagKey")
STATEMENTS = [
    ("SHOW DATABASES", Show("DATABASES")),
    ("SHOW RETENTION POLICIES", Show("RETENTION POLICIES")),
    ("SHOW RETENTION POLICIES ON db", Show("RETENTION POLICIES", database="db")),
    ("SHOW MEASUREMENTS", Show("MEASUREMENTS")),
    (
        "SHOW MEASUREMENTS ON db LIMIT 5 OFFSET 2",
        Show("MEASUREMENTS", database="db", limit=5, offset=2),
    ),
    (
        "SHOW MEASUREMENTS WITH MEASUREMENT =~ /c.*/",
        Show("MEASUREMENTS", with_measurement=B("=~", V("_name"), R("c.*"))),
    ),
    (
        "SHOW MEASUREMENTS WITH MEASUREMENT = cpu WHERE host = 'a'",
        Show(
            "MEASUREMENTS",
            with_measurement=B("=", V("_name"), S("cpu")),
            condition=B("=", V("host"), S("a")),
        ),
    ),
    ("SHOW TAG KEYS", Show("TAG KEYS")),
    (
        "SHOW TAG KEYS ON db FROM cpu, /m/ WHERE host = 'a' LIMIT 1 OFFSET 1",
        Show(
            "TAG KEYS",
            database="db",
            sources=[M("cpu"), M(regex="m")],
            condition=B("=", V("host"), S("a")),
            limit=1,
            offset=1,
        ),
    ),
    ("SHOW TAG VALUES WITH KEY = host", Show("TAG VALUES", with_key=B("=", KEY, S("host")))),
    ("SHOW TAG VALUES WITH KEY != host", Show("TAG VALUES", with_key=B("!=", KEY, S("host")))),
    ("SHOW TAG VALUES WITH KEY =~ /h/", Show("TAG VALUES", with_key=B("=~", KEY, R("h")))),
    ("SHOW TAG VALUES WITH KEY !~ /h/", Show("TAG VALUES", with_key=B("!~", KEY, R("h")))),
    (
        'SHOW TAG VALUES ON db FROM cpu WITH KEY IN (host, "region") WHERE a = 1 LIMIT 3',
        Show(
            "TAG VALUES",
            database="db",
            sources=CPU,
            with_key=B("IN", KEY, C("list", S("host"), S("region"))),
            condition=B("=", a, I(1)),
            limit=3,
        ),
    ),
    ("SHOW FIELD KEYS", Show("FIELD KEYS")),
    ("SHOW FIELD KEYS ON db FROM cpu", Show("FIELD KEYS", database="db", sources=CPU)),
    ("SHOW SERIES", Show("SERIES")),
    (
        "SHOW SERIES ON db FROM cpu WHERE host = 'a' LIMIT 2 OFFSET 1",
        Show(
            "SERIES",
            database="db",
            sources=CPU,
            condition=B("=", V("host"), S("a")),
            limit=2,
            offset=1,
        ),
    ),
    ("SHOW MEASUREMENT CARDINALITY", Show("MEASUREMENT CARDINALITY")),
    (
        "SHOW MEASUREMENT EXACT CARDINALITY ON db",
        Show("MEASUREMENT CARDINALITY", database="db", exact=True),
    ),
    ("SHOW SERIES CARDINALITY FROM cpu", Show("SERIES CARDINALITY", sources=CPU)),
    ("SHOW SERIES EXACT CARDINALITY", Show("SERIES CARDINALITY", exact=True)),
    ("SHOW TAG KEY CARDINALITY", Show("TAG KEY CARDINALITY")),
    (
        "SHOW TAG KEY EXACT CARDINALITY WHERE a = 1",
        Show("TAG KEY CARDINALITY", exact=True, condition=B("=", a, I(1))),
    ),
    (
        "SHOW TAG VALUES CARDINALITY WITH KEY = host",
        Show("TAG VALUES CARDINALITY", with_key=B("=", KEY, S("host"))),
    ),
    (
        "SHOW TAG VALUES EXACT CARDINALITY FROM cpu WITH KEY =~ /h/",
        Show("TAG VALUES CARDINALITY", sources=CPU, with_key=B("=~", KEY, R("h")), exact=True),
    ),
    ("SHOW FIELD KEY CARDINALITY", Show("FIELD KEY CARDINALITY")),
    (
        "SHOW FIELD KEY EXACT CARDINALITY ON db",
        Show("FIELD KEY CARDINALITY", database="db", exact=True),
    ),
    ("CREATE DATABASE mydb", ast.CreateDatabase("mydb")),
    ('CREATE DATABASE "my db"', ast.CreateDatabase("my db")),
    (
        "CREATE DATABASE mydb WITH DURATION 7d REPLICATION 1 SHARD DURATION 1h NAME rp",
        ast.CreateDatabase(
            "mydb",
            {
                "duration_ns": 7 * _DAY,
                "replication": 1,
                "shard_duration_ns": _HOUR,
                "name": "rp",
            },
        ),
    ),
    ("CREATE DATABASE mydb WITH DURATION INF", ast.CreateDatabase("mydb", {"duration_ns": 0})),
    ("CREATE DATABASE mydb WITH NAME rp", ast.CreateDatabase("mydb", {"name": "rp"})),
    (
        "CREATE RETENTION POLICY rp ON db DURATION 2d REPLICATION 1",
        ast.CreateRetentionPolicy("rp", "db", 2 * _DAY, 1),
    ),
    (
        'CREATE RETENTION POLICY "a year" ON db DURATION 52w REPLICATION 3 SHARD DURATION 1d '
        "DEFAULT",
        ast.CreateRetentionPolicy("a year", "db", 364 * _DAY, 3, _DAY, True),
    ),
    (
        "CREATE RETENTION POLICY rp ON db DURATION INF REPLICATION 1 DEFAULT",
        ast.CreateRetentionPolicy("rp", "db", 0, 1, 0, True),
    ),
    (
        "ALTER RETENTION POLICY rp ON db DURATION 3d",
        ast.AlterRetentionPolicy("rp", "db", duration_ns=3 * _DAY),
    ),
    (
        "ALTER RETENTION POLICY rp ON db DEFAULT SHARD DURATION 2h REPLICATION 2",
        ast.AlterRetentionPolicy("rp", "db", None, 2, 2 * _HOUR, True),
    ),
    (
        "ALTER RETENTION POLICY DEFAULT ON db DEFAULT",
        ast.AlterRetentionPolicy("default", "db", default=True),
    ),
    ("DROP RETENTION POLICY rp ON db", ast.DropRetentionPolicy("rp", "db")),
    (
        "CREATE CONTINUOUS QUERY cq ON db RESAMPLE EVERY 30m FOR 2h BEGIN "
        "SELECT mean(v) INTO m2 FROM m GROUP BY time(1h) END",
        ast.CreateContinuousQuery(
            "cq",
            "db",
            sel(
                ast.Call("mean", (V("v"),)),
                sources=[M("m")],
                into=M("m2"),
                dimensions=[ast.Dimension(ast.Call("time", (ast.DurationLiteral(_HOUR, "1h"),)))],
            ),
            30 * 60 * 10**9,
            2 * _HOUR,
        ),
    ),
    ("DROP CONTINUOUS QUERY cq ON db", ast.DropContinuousQuery("cq", "db")),
    ("DROP DATABASE mydb", ast.DropDatabase("mydb")),
    ("DROP MEASUREMENT cpu", ast.DropMeasurement("cpu")),
    ("DROP SERIES FROM cpu", ast.DropSeries([M("cpu")])),
    ("DROP SERIES WHERE host = 'a'", ast.DropSeries([], B("=", V("host"), S("a")))),
    (
        "DROP SERIES FROM cpu, /m/ WHERE host = 'a'",
        ast.DropSeries([M("cpu"), M(regex="m")], B("=", V("host"), S("a"))),
    ),
    ("DELETE FROM cpu", ast.Delete([M("cpu")])),
    ("DELETE WHERE time < 100", ast.Delete([], B("<", V("time"), I(100)))),
    ("CREATE USER bob WITH PASSWORD 'pw'", ast.CreateUser("bob", "pw")),
    ("CREATE USER \"a b\" WITH PASSWORD '' WITH ALL PRIVILEGES", ast.CreateUser("a b", "", True)),
    ("DROP USER bob", ast.DropUser("bob")),
    ("SET PASSWORD FOR bob = 'new'", ast.SetPassword("bob", "new")),
    ("GRANT READ ON db TO bob", ast.Grant("READ", "db", "bob")),
    ("grant write on db to bob", ast.Grant("WRITE", "db", "bob")),
    ("GRANT ALL ON db TO bob", ast.Grant("ALL PRIVILEGES", "db", "bob")),
    ("GRANT ALL PRIVILEGES TO bob", ast.Grant("ALL PRIVILEGES", None, "bob")),
    ("REVOKE READ ON db FROM bob", ast.Grant("READ", "db", "bob", revoke=True)),
    ("REVOKE ALL FROM bob", ast.Grant("ALL PRIVILEGES", None, "bob", revoke=True)),
    ("SHOW GRANTS FOR bob", ast.ShowStatement("GRANTS", user="bob")),
    ("SHOW USERS", ast.ShowStatement("USERS")),
    ("EXPLAIN SELECT v FROM m", ast.Explain(sel(V("v"), sources=[M("m")]))),
    ("EXPLAIN ANALYZE SELECT v FROM m", ast.Explain(sel(V("v"), sources=[M("m")]), True)),
]


@pytest.mark.parametrize(("text", "expected"), STATEMENTS, ids=[t for t, _ in STATEMENTS])
def test_statement(text: str, expected: ast.Statement) -> None:
    assert one(text) == expected


# --- errors -------------------------------------------------------------------------------
ERRORS = [
    ("SELECT", "found EOF, expected identifier, string, number, bool at line 1, char 8", 8),
    ("SELECT * FROM", "found EOF, expected identifier at line 1, char 15", 15),
    (
        "SELECT * FROM m WHERE",
        "found EOF, expected identifier, string, number, bool at line 1, char 23",
        23,
    ),
    ("SELECT FROM m", "found FROM, expected identifier, string, number, bool at line 1, char 8", 8),
    ("SELECT *", "found EOF, expected FROM at line 1, char 9", 9),
    ("SELECT a b FROM m", "found b, expected FROM at line 1, char 10", 10),
    ("SELECT (a FROM m", "found FROM, expected ) at line 1, char 11", 11),
    ("SELECT * FROM m WHERE (a = 1", "found EOF, expected ) at line 1, char 29", 29),
    ("SELECT * FROM m WHERE a = 1)", "found ), expected ; at line 1, char 28", 28),
    (
        "SELECT count( FROM m",
        "found FROM, expected identifier, string, number, bool at line 1, char 15",
        15,
    ),
    ("SELECT * FROM m WHERE time > now() - 10x", "invalid duration", 38),
    ("SELECT * FROM m GROUP BY time(1x)", "invalid duration", 31),
    (
        "SELECT 'abc FROM m",
        "found abc FROM m, expected identifier, string, number, bool at line 1, char 7",
        7,
    ),
    (
        'SELECT "abc FROM m',
        "found abc FROM m, expected identifier, string, number, bool at line 1, char 7",
        7,
    ),
    ("SELECT * FROM /abc", "bad regex:  at line 1, char 14", 14),
    ("SELECT * FROM m WHERE a =~ /x", "bad regex:  at line 1, char 27", 27),
    ("SELECT * FROM m WHERE a =~ 'x'", "found x, expected regex at line 1, char 27", 27),
    (
        "SELECT * FROM m WHERE a = 'x\\q'",
        "found \\q, expected identifier, string, number, bool at line 1, char 30",
        30,
    ),
    ("SELECT * FROM m LIMIT -1", "found -, expected integer at line 1, char 23", 23),
    ("SELECT * FROM m LIMIT 1.5", "found 1.5, expected integer at line 1, char 23", 23),
    ("SELECT * FROM m OFFSET", "found EOF, expected integer at line 1, char 24", 24),
    ("SELECT * FROM m GROUP", "found EOF, expected BY at line 1, char 23", 23),
    ("SELECT * FROM m ORDER BY foo", "only ORDER BY time supported at this time", 26),
    ("SELECT * FROM m fill(foo)", "expected number argument in fill()", 17),
    (
        "SELECT * FROM m fill()",
        "fill requires an argument, e.g.: 0, null, none, previous, linear",
        17,
    ),
    ("SELECT * FROM m fill", "fill must be a function call", 17),
    ("SELECT * FROM m tz('Nowhere/Atlantis')", "unable to find time zone Nowhere/Atlantis", 17),
    (
        "SELECT a = 1 FROM m",
        "invalid operator = in SELECT clause at line 1, char 8; "
        "operator is intended for WHERE clause",
        8,
    ),
    (
        "SELECT a::foo FROM m",
        "found foo, expected float, integer, unsigned, string, boolean, field, tag "
        "at line 1, char 11",
        11,
    ),
    ("SELECT *::foo FROM m", "found foo, expected field, tag at line 1, char 11", 11),
    (
        "SELECT key FROM m",
        "found KEY, expected identifier, string, number, bool at line 1, char 8",
        8,
    ),
    ("SELECT * FROM m SELECT", "found SELECT, expected ; at line 1, char 17", 17),
    (
        "SELECT * FROM m;\nSELECT",
        "found EOF, expected identifier, string, number, bool at line 2, char 8",
        25,
    ),
    ("SELECT * FROM m\nLIMIT 1 x", "found x, expected ; at line 2, char 9", 25),
    ("  SELECT * FROM  ", "found EOF, expected identifier at line 1, char 15", 17),
    ("SELECT * FROM a.b.c.d", 'too many segments in "a"."b"."c".d at line 1, char 15', 15),
    ("SELECT * FROM m WHERE a = $x", "missing parameter: x", 27),
    ("SELECT * FROM m /* open", "found  , expected regex at line 1, char 16", 16),
    ("SELECT a FROM m GROUP BY a /* open", "found ILLEGAL, expected ; at line 1, char 28", 28),
    ("SELECT a /* open", "found ILLEGAL, expected FROM at line 1, char 10", 10),
    ("SELECT a, /* open", "bad regex:  at line 1, char 10", 10),
    (
        "FOO",
        "found FOO, expected SELECT, DELETE, SHOW, CREATE, DROP, EXPLAIN, GRANT, REVOKE, ALTER, "
        "SET, KILL at line 1, char 1",
        1,
    ),
    # users: influxd 1.6.7's messages
    ("CREATE USER bob", "found EOF, expected WITH at line 1, char 17", 17),
    ("CREATE USER bob WITH PASSWORD", "found EOF, expected string at line 1, char 31", 31),
    (
        "CREATE USER b WITH PASSWORD 'x' WITH READ",
        "found READ, expected ALL at line 1, char 38",
        38,
    ),
    (
        "CREATE USER 'bob' WITH PASSWORD 'x'",
        "found bob, expected identifier at line 1, char 12",
        12,
    ),
    ("GRANT READ TO bob", "found TO, expected ON at line 1, char 12", 12),
    ("GRANT READ ON d", "found EOF, expected TO at line 1, char 17", 17),
    ("GRANT ALL x", "found x, expected ON, TO at line 1, char 11", 11),
    ("REVOKE ALL ON d TO x", "found TO, expected FROM at line 1, char 17", 17),
    (
        "GRANT FOO ON d TO bob",
        "found FOO, expected READ, WRITE, ALL [PRIVILEGES] at line 1, char 7",
        7,
    ),
    ("SET PASSWORD bob = 'x'", "found bob, expected FOR at line 1, char 14", 14),
    ("SET PASSWORD FOR bob 'x'", "found x, expected = at line 1, char 21", 21),
    ("SHOW GRANTS bob", "found bob, expected FOR at line 1, char 13", 13),
    ("DROP USER", "found EOF, expected identifier at line 1, char 11", 11),
    ("EXPLAIN SHOW DATABASES", "found SHOW, expected SELECT at line 1, char 9", 9),
    # retention policies: influxd 1.6.7's messages
    (
        "CREATE RETENTION POLICY r ON d DURATION 2d",
        "found EOF, expected REPLICATION at line 1, char 43",
        43,
    ),
    (
        "CREATE RETENTION POLICY r ON d DURATION 2d REPLICATION 1 foo",
        "found foo, expected ; at line 1, char 58",
        58,
    ),
    (
        "CREATE RETENTION POLICY r ON d DURATION 2d REPLICATION 1 SHARD DURATION INF",
        "invalid duration INF for shard duration at line 1, char 73",
        73,
    ),
    (
        "CREATE RETENTION POLICY r ON d DURATION 2d REPLICATION 0",
        "invalid value 0: must be 1 <= n <= 2147483647 at line 1, char 56",
        56,
    ),
    ("CREATE RETENTION POLICY r d DURATION 2d", "found d, expected ON at line 1, char 27", 27),
    ("CREATE RETENTION r", "found r, expected POLICY at line 1, char 18", 18),
    (
        "CREATE RETENTION POLICY r ON d DURATION 2x REPLICATION 1",
        "invalid duration at line 1, char 41",
        41,
    ),
    (
        "ALTER RETENTION POLICY r ON d",
        "found EOF, expected DURATION, REPLICATION, SHARD, DEFAULT at line 1, char 31",
        31,
    ),
    (
        "ALTER RETENTION POLICY r ON d DURATION 1d DURATION 2d",
        "found duplicate DURATION option at line 1, char 43",
        43,
    ),
    (
        "ALTER RETENTION POLICY r ON d SHARD 1d",
        "found 1d, expected DURATION at line 1, char 37",
        37,
    ),
    ("ALTER x", "found x, expected RETENTION at line 1, char 7", 7),
    ("ALTER RETENTION POLICY r ON d DEFAULT x", "found x, expected ; at line 1, char 39", 39),
    ("DROP RETENTION POLICY r", "found EOF, expected ON at line 1, char 25", 25),
    ("DROP RETENTION POLICY ON d", "found ON, expected identifier at line 1, char 23", 23),
    (
        "CREATE DATABASE d WITH SHARD DURATION 3d DURATION 2d",
        "found DURATION, expected ; at line 1, char 42",
        42,
    ),
    (
        "SELECT * FROM m; CREATE CONTINUOUS QUERY cq ON db BEGIN SELECT 1 END",
        "found END, expected INTO at line 1, char 66",
        66,
    ),
    ("SHOW STATS FOR x", "found x, expected string at line 1, char 16", 16),
    ("SHOW SHARD", "found EOF, expected GROUPS at line 1, char 12", 12),
    ("KILL QUERY abc", "found abc, expected integer at line 1, char 12", 12),
    ("KILL QUERY 1.5", "found 1.5, expected integer at line 1, char 12", 12),
    ("KILL QUERY -1", "found -, expected integer at line 1, char 12", 12),
    ("KILL x", "found x, expected QUERY at line 1, char 6", 6),
    ("SHOW TAG VALUES", "found EOF, expected WITH at line 1, char 17", 17),
    ("SHOW TAG VALUES WITH KEY", "found EOF, expected IN, =, =~ at line 1, char 26", 26),
    ("SHOW TAG FOO", "found FOO, expected KEY, KEYS, VALUES at line 1, char 10", 10),
    ("SHOW MEASUREMENT FOO", "found FOO, expected EXACT, CARDINALITY at line 1, char 18", 18),
    ("SHOW MEASUREMENTS WITH MEASUREMENT != m", "found !=, expected =, =~ at line 1, char 36", 36),
    ("CREATE DATABASE", "found EOF, expected identifier at line 1, char 17", 17),
    (
        "CREATE DATABASE d WITH FOO",
        "found FOO, expected DURATION, NAME, REPLICATION, SHARD at line 1, char 24",
        24,
    ),
    ("DROP SERIES", "found EOF, expected FROM, WHERE at line 1, char 13", 13),
    ("DELETE", "found EOF, expected FROM, WHERE at line 1, char 8", 8),
    ("DELETE FROM rp.m", "retention policy not supported at line 1, char 13", 13),
    ("DROP SERIES FROM db..m", "database not supported at line 1, char 18", 18),
]


@pytest.mark.parametrize(("text", "message", "position"), ERRORS, ids=[t for t, _, _ in ERRORS])
def test_error(text: str, message: str, position: int) -> None:
    with pytest.raises(InfluxQLError) as caught:
        parse(text)
    assert str(caught.value) == f"error parsing query: {message}"
    assert caught.value.position == position
    assert caught.value.message in message


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("SELECT * FROM m GROUP BY time()", "time dimension expected 1 or 2 arguments"),
        ("SELECT * FROM m GROUP BY time(5)", "time dimension must have duration argument"),
        (
            "SELECT * FROM m GROUP BY time(1m, 'x')",
            "time dimension offset must be duration or now()",
        ),
        ("SELECT * FROM m GROUP BY time(1m), time(2m)", "multiple time dimensions not allowed"),
        ("SELECT * FROM m GROUP BY time", "time() is a function and expects at least one argument"),
        ("SELECT * FROM m GROUP BY a + 1", "only time and tag dimensions allowed"),
        ("SELECT * FROM m GROUP BY mean(x)", "only time() calls allowed in dimensions"),
        ("SELECT * FROM m GROUP BY fill(previous)", "only time() calls allowed in dimensions"),
    ],
)
def test_group_by_is_checked_with_the_statement(text: str, message: str) -> None:
    """influxd checks GROUP BY when it compiles the statement: parsed, then refused."""
    statement = one(text)
    assert isinstance(statement, ast.SelectStatement)
    assert dimension_problem(statement) == message


def test_an_exact_of_show_series_without_cardinality_is_ignored() -> None:
    assert one("SHOW SERIES EXACT") == one("SHOW SERIES")
    exact = one("SHOW SERIES EXACT CARDINALITY")
    assert isinstance(exact, ast.ShowStatement) and exact.exact


def test_error_attributes() -> None:
    with pytest.raises(InfluxQLError) as caught:
        parse("SELECT *\nFROM m WHERE a = ")
    err = caught.value
    assert (err.message, err.position, err.line, err.char) == (
        "found EOF, expected identifier, string, number, bool",
        26,
        2,
        17,
    )


def test_show_queries_and_kill_query() -> None:
    assert parse('show queries; KILL QUERY 12; KILL QUERY 3 ON "host:8088"') == [
        ast.ShowStatement("QUERIES"),
        ast.KillQuery(12),
        ast.KillQuery(3),  # ON names a node of a cluster: there is one
    ]
    assert parse("SHOW STATS; SHOW STATS FOR 'httpd'") == [
        ast.ShowStatement("STATS"),
        ast.ShowStatement("STATS", module="httpd"),
    ]


def test_unsupported_bind_parameter_type() -> None:
    with pytest.raises(InfluxQLError, match="unable to bind parameter with type list"):
        parse("SELECT * FROM m WHERE a = $x", {"x": [1]})


def test_deep_nesting_is_an_error_not_a_crash() -> None:
    with pytest.raises(InfluxQLError, match="nested too deeply"):
        parse("SELECT " + "(" * 5000 + "1" + ")" * 5000 + " FROM m")


# --- influxd agrees -------------------------------------------------------------------------
# Malformed queries whose message (text and position) we match exactly.
MALFORMED = [
    "SELECT",
    "SELECT * FROM",
    "SELECT * FROM m WHERE",
    "SELECT FROM m",
    "SELECT *",
    "SELECT (a FROM m",
    "SELECT * FROM m WHERE (a = 1",
    "SELECT * FROM m WHERE a = 1)",
    "SELECT count(a, FROM m",
    "SELECT max(a) AS FROM m",
    "SELECT * FROM m WHERE time > now() - 10x",
    "SELECT 'abc FROM m",
    'SELECT "abc FROM m',
    "SELECT * FROM /abc",
    "SELECT * FROM m WHERE a =~ 'x'",
    "SELECT * FROM m WHERE a =~",
    "SELECT * FROM m WHERE a = 'x\\q'",
    'SELECT "a\\qb" FROM m',
    "SELECT * FROM m LIMIT -1",
    "SELECT * FROM m LIMIT 10s",
    "SELECT * FROM m LIMIT -- comment",
    "SELECT * FROM m LIMIT /* comment */",
    "SELECT * FROM m\nLIMIT 1 x",
    "SELECT * FROM m ORDER BY foo",
    "SELECT * FROM m fill(foo)",
    "SELECT * FROM m fill(1, 2)",
    "SELECT * FROM m tz('Foo/Bar')",
    "SELECT a = 1 FROM m",
    "SELECT a::foo FROM m",
    "SELECT *::foo FROM m",
    "SELECT - 'a' FROM m",
    "SELECT 99999999999999999999 FROM m",
    "SELECT mean(x) FROM m GROUP BY time(",
    "SELECT a,",
    "SELECT * FROM db.",
    "SELECT * FROM (SELECT a FROM m",
    "SELECT * FROM m; SELECT",
    "SELECT $x",
    "  SELECT * FROM m WHERE  ",
    "FOO",
    "SHOW",
    "SHOW TAG VALUES WITH KEY IN (a",
    "SHOW TAG VALUES WITH KEY =~ 'a'",
    "SHOW MEASUREMENTS ON *",
    "SHOW RETENTION POLICIES db0",
    "CREATE DATABASE d WITH",
    "CREATE FOO",
    "DROP FOO",
    "DROP SERIES",
    "DELETE x",
    # block comments where influxd looks for a regex, and unterminated ones
    "SELECT * FROM m /* open",
    "SELECT a FROM m GROUP BY a /* open",
    "SELECT a /* open",
    "SELECT a, /* open",
    "SELECT x FROM /* here */ cpu",
    "SHOW SERIES CARDINALITY FROM /*/",
    "SELECT * FROM m WHERE t =~ /(a/",
    "SELECT * FROM cpu /x/",
    # a quoted part right after a word
    'SELECT"a" FROM cpu',
    'SELECT a FROM c" LIMIT 3',
    'SHOW FIELD KEYS FROM c" "temp',
    'SELECT min(free") - 0.5, stddev("free") FROM mem',
]


@pytest.fixture(scope="module")
def influxd(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    with run_influxd(tmp_path_factory.mktemp("influxd")) as url:
        yield url


@pytest.mark.skipif(not os.path.exists(INFLUXD), reason="needs /usr/bin/influxd")
def test_messages_match_influxd(influxd: str) -> None:
    mismatches = []
    for text in MALFORMED:
        r = httpx.get(f"{influxd}/query", params={"q": text})
        assert r.status_code == 400, (text, r.text)
        theirs = r.json()["error"]
        try:
            parse(text)
            ours = "no error"
        except InfluxQLError as err:
            ours = str(err)
        if ours != theirs:
            mismatches.append((text, theirs, ours))
    assert mismatches == []


def test_statements_parsed_before_come_from_memory() -> None:
    q = "SELECT mean(v) FROM m WHERE host = $h AND time > now() - 1h GROUP BY time(1m)"
    first = parse(q, {"h": "a"})
    again = parse(q, {"h": "a"})
    assert again == first and again is not first  # the list is the caller's own
    assert again[0] is first[0]  # the statement itself is kept
    other = parse(q, {"h": "b"})  # other parameters: parsed again
    assert other != first and other[0] is not first[0]
    assert parse(q, {"h": 1}) != parse(q, {"h": "1"})  # told apart by type
    with pytest.raises(InfluxQLError):  # errors are not kept: raised each time
        parse("SELECT * FROM")
    with pytest.raises(InfluxQLError):
        parse("SELECT * FROM")
