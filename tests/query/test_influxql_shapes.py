"""Statements made from one parsed before whose text differs only in literals of WHERE
conditions (``influxql.shapes``): each is what a parse of its own text gives, errors
included."""

from __future__ import annotations

import random
import re

import pytest

from edge_query.influxql import ast, parser, shapes
from edge_query.influxql.parser import InfluxQLError, parse
from tests.compat import generated
from tests.compat.test_influxql import QUERIES


def _fresh(text: str) -> tuple[str, object]:
    """What a parse of ``text`` alone gives: its statements, or its error."""
    try:
        return "ok", parser._Parser(text, {}).parse()
    except InfluxQLError as err:
        return "error", str(err)


def _remembered(text: str) -> tuple[str, object]:
    parser._PARSED.clear()  # (not the same text: from its shape, if at all)
    try:
        return "ok", parse(text)
    except InfluxQLError as err:
        return "error", str(err)


_AT_1 = "SELECT mean(v) FROM m WHERE time >= '2016-03-27 01:00:00' GROUP BY time(1h) tz("
_AT_3 = "SELECT mean(v) FROM m WHERE time >= '2016-03-27 03:00:00' GROUP BY time(1h) tz("
TSBS = (
    "SELECT max(usage_user) FROM cpu WHERE hostname = '{host}' AND "
    "time >= '{lo}' AND time < '{hi}' GROUP BY time(1m)"
)


def test_made_from_the_statement_of_the_same_shape() -> None:
    first = parse(TSBS.format(host="host_1", lo="2016-01-01T01:00:00Z", hi="2016-01-01T02:00:00Z"))
    text = TSBS.format(host="host_7", lo="2016-01-01T03:00:00Z", hi="2016-01-01T04:00:00Z")
    made = _remembered(text)
    assert made == _fresh(text)
    statement = made[1][0]  # type: ignore[index]
    assert isinstance(statement, ast.SelectStatement)
    assert statement.fields is first[0].fields  # type: ignore[attr-defined]  (shared: made)
    condition = statement.condition
    assert isinstance(condition, ast.BinaryExpr) and isinstance(condition.rhs, ast.BinaryExpr)
    assert condition.rhs.rhs == ast.TimeLiteral(1451620800000000000)


@pytest.mark.parametrize(
    ("first", "then"),
    [
        # a time that does not parse: influxd's error, from a parse of the text
        (
            TSBS.format(host="a", lo="2016-01-01", hi="2016-01-02"),
            TSBS.format(host="a", lo="2016-13-01", hi="2016-01-02"),
        ),
        # a string compared with time that is no date, then one that is
        ("SELECT v FROM m WHERE time > 'soon'", "SELECT v FROM m WHERE time > '2016-01-01'"),
        # a date-like string compared with a tag stays a string
        ("SELECT v FROM m WHERE host = 'a'", "SELECT v FROM m WHERE host = '2016-01-01'"),
        # literals outside conditions: LIMIT, fill(), GROUP BY time(), a field, tz()
        ("SELECT v FROM m WHERE a = 'x' LIMIT 5", "SELECT v FROM m WHERE a = 'y' LIMIT 6"),
        (
            "SELECT mean(v) FROM m WHERE a = 1 GROUP BY time(1m) fill(1)",
            "SELECT mean(v) FROM m WHERE a = 2 GROUP BY time(5m) fill(2)",
        ),
        ("SELECT v * 2 FROM m WHERE a > 1", "SELECT v * 3 FROM m WHERE a > 1.5"),
        (_AT_1 + "'UTC')", _AT_1 + "'Europe/Paris')"),
        # times read in the statement's zone
        (_AT_1 + "'Europe/Paris')", _AT_3 + "'Europe/Paris')"),
        # numbers of another kind, out of range, durations that are none
        ("SELECT v FROM m WHERE a > 1", "SELECT v FROM m WHERE a > 18446744073709551616"),
        ("SELECT v FROM m WHERE a > 1", "SELECT v FROM m WHERE a > 1e3"),
        (
            "SELECT v FROM m WHERE time > 1451606400000ms",
            "SELECT v FROM m WHERE time > 1451606400000xs",
        ),
        (
            "SELECT v FROM m WHERE time > 1451606400000ms",
            "SELECT v FROM m WHERE time > 1451606400001ms",
        ),
        # negated: the parser's node is not the literal's
        ("SELECT v FROM m WHERE a > -1", "SELECT v FROM m WHERE a > -2"),
        # what our scan takes for literals inside a regex, a quoted name, a comment
        ("SELECT v FROM m WHERE a =~ /x '1' 2/", "SELECT v FROM m WHERE a =~ /x '3' 4/"),
        ("SELECT \"it's 1\" FROM m WHERE a = 'b'", "SELECT \"it's 2\" FROM m WHERE a = 'c'"),
        ("SELECT v FROM m WHERE a = 1 -- 'x' 2", "SELECT v FROM m WHERE a = 3 -- 'y' 4"),
        # in a subquery, and in several statements
        (
            "SELECT max(v) FROM (SELECT v FROM m WHERE a = 'x') WHERE time > '2016-01-01'",
            "SELECT max(v) FROM (SELECT v FROM m WHERE a = 'y') WHERE time > '2016-01-02'",
        ),
        (
            "SELECT v FROM m WHERE a = 'x'; SHOW TAG VALUES WITH KEY = h WHERE a = 'x'",
            "SELECT v FROM m WHERE a = 'y'; SHOW TAG VALUES WITH KEY = h WHERE a = 'z'",
        ),
        # escapes
        ("SELECT v FROM m WHERE a = 'x'", "SELECT v FROM m WHERE a = 'it\\'s'"),
        ("SELECT v FROM m WHERE a = 'x'", "SELECT v FROM m WHERE a = 'bad \\q'"),
    ],
)
def test_each_as_its_own_parse(first: str, then: str) -> None:
    _remembered(first)
    assert _remembered(then) == _fresh(then)


def test_generated_statements_with_other_literals(monkeypatch: pytest.MonkeyPatch) -> None:
    """Every hand-written compat statement and a sample of each generated family, asked
    again with other literals: as a parse of each text gives."""
    rng = random.Random(7)
    texts = [q if isinstance(q, str) else q[0] for q in QUERIES]
    for family in (generated.dashboards, generated.nested, generated.shapes):
        texts += family(11, 150)
    strings = ["2016-01-01T00:10:00Z", "2016-01-01", "x", "2016-13-01T00:00:00Z", "", "h1"]

    def other(m: re.Match[str]) -> str:
        if m.group(0).startswith("'"):
            return "'" + rng.choice(strings) + "'"
        return rng.choice([m.group(0), str(rng.randint(0, 10**13)), "2.5", "15ms", "1h"])

    string = re.compile(r"'[^'\\\n]*'")
    literal = re.compile(r"'[^'\\\n]*'|(?<![\w.$])\d+(?:\.\d+)?")
    made = 0
    make = shapes.Template.made_of

    def counted(template: shapes.Template, literals: tuple[str, ...]) -> object:
        nonlocal made
        statements = make(template, literals)
        made += statements is not None
        return statements

    monkeypatch.setattr(shapes.Template, "made_of", counted)
    for text in texts:
        _remembered(text)
        for i in range(3):  # the first time, other strings only (as dashboards ask)
            then = literal.sub(other, text) if i else string.sub(other, text)
            assert _remembered(then) == _fresh(then), then
    assert made > len(texts) // 2  # (made from their shape, not parsed)


def test_a_long_or_is_no_deeper_trouble_than_for_the_parser() -> None:
    """``a OR b OR …`` is as deep as it is long: found without recursion, and a literal
    deep in it is no slot (its statement is parsed)."""
    terms = [f"a = {i}" for i in range(900)]
    text = "SELECT v FROM m WHERE " + " OR ".join(terms)
    parse(text)
    changed = parse(text.removesuffix("899") + "7")  # the last term: the shallowest
    statement = changed[0]
    assert isinstance(statement, ast.SelectStatement)
    assert isinstance(statement.condition, ast.BinaryExpr)
    assert statement.condition.rhs == ast.BinaryExpr("=", ast.VarRef("a"), ast.IntegerLiteral(7))
    deep = parse(text.replace("a = 3 OR", "a = 5 OR", 1))  # the fourth term: deep
    assert isinstance(deep[0], ast.SelectStatement)
