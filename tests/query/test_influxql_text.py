"""Statements written back as influxd 1.6.7 writes them; each expected text was read off
influxd's warning for the statement sent with GET."""

from __future__ import annotations

import pytest

from edge_query.influxql.explain import go_duration_exact
from edge_query.influxql.parser import parse
from edge_query.influxql.text import go_integer, read_only_warning


@pytest.mark.parametrize(
    ("q", "text"),
    [
        (
            "DROP SERIES FROM cpu, mem WHERE \"host\" != 'a'",
            "DROP SERIES FROM cpu, mem WHERE host != 'a'",
        ),
        ('DROP MEASUREMENT "select"', 'DROP MEASUREMENT "select"'),
        ('CREATE DATABASE "my-db"', 'CREATE DATABASE "my-db"'),
        ("DROP DATABASE nosuch", "DROP DATABASE nosuch"),
        (
            r"SELECT v INTO x FROM m WHERE x = 3 AND t = true AND d > 10d AND s !~ /a\/b/",
            r"SELECT v INTO bench.autogen.x FROM bench.autogen.m WHERE x = 3 AND t = true "
            r"AND d > 10d AND s !~ /a\/b/",
        ),
        (
            "SELECT mean(usage_user) AS m, max(usage_user) * 2.5 INTO bench.autogen.x3 "
            "FROM bench..cpu WHERE time >= '2016-01-01T00:00:00Z' AND usage_user > 1.5 "
            "GROUP BY time(30m, 5m), hostname fill(0) LIMIT 2 SLIMIT 1",
            "SELECT mean(usage_user) AS m, max(usage_user) * 2.500 INTO bench.autogen.x3 "
            "FROM bench.autogen.cpu WHERE time >= '2016-01-01T00:00:00Z' AND usage_user > 1.500 "
            "GROUP BY time(30m, 5m), hostname fill(0) LIMIT 2 SLIMIT 1",
        ),
        (
            'SELECT usage_user INTO "x 4" FROM cpu WHERE time > now() - 3650d AND '
            "hostname = 'host_1' ORDER BY time DESC LIMIT 1 tz('Europe/Paris')",
            'SELECT usage_user INTO bench.autogen."x 4" FROM bench.autogen.cpu WHERE '
            "time > now() - 3650d AND hostname = 'host_1' ORDER BY time DESC LIMIT 1 "
            "TZ('Europe/Paris')",
        ),
        (
            "SELECT usage_user INTO x5 FROM cpu WHERE (hostname = 'host_1' OR "
            "hostname = 'host_2') AND usage_user < -0.5 LIMIT 1",
            "SELECT usage_user INTO bench.autogen.x5 FROM bench.autogen.cpu WHERE "
            "(hostname = 'host_1' OR hostname = 'host_2') AND usage_user < -0.500 LIMIT 1",
        ),
    ],
)
def test_warning_names_the_statement_as_influxd_does(q: str, text: str) -> None:
    (stmt,) = parse(q)
    warning = read_only_warning(stmt, "bench")
    assert warning == {
        "level": "warning",
        "text": f"deprecated use of '{text}' in a read only context, "
        "please use a POST request instead",
    }


@pytest.mark.parametrize("q", ["SELECT v FROM m", "DELETE FROM m WHERE h = 'a'", "SHOW DATABASES"])
def test_no_warning_for_reads_and_delete(q: str) -> None:
    (stmt,) = parse(q)
    assert read_only_warning(stmt, "bench") is None


@pytest.mark.parametrize(
    ("ns", "text"),
    [
        (0, "0ns"),
        (999, "999ns"),
        (25_001, "25.001µs"),
        (538_721, "538.721µs"),
        (1_000_000, "1ms"),
        (1_234_567, "1.234567ms"),
        (1_500_000_000, "1.5s"),
        (62_500_000_000, "1m2.5s"),
        (120_000_000_000, "2m0s"),
    ],
)
def test_durations_are_written_as_go_writes_them(ns: int, text: str) -> None:
    assert go_duration_exact(ns) == text


@pytest.mark.parametrize(
    ("value", "written"),
    [
        (123.0, 123),
        (-4.0, -4),
        (2.0**53, 9007199254740992),
        # past 2**53: Go's shortest digits, then zeros (json.Marshal's 'f' format)
        (1054923577702081408.0, 1054923577702081400),
        (52521552285925160.0, 52521552285925160),
        (-(2.0**62), -4611686018427388000),
    ],
)
def test_whole_floats_are_the_integers_go_writes(value: float, written: int) -> None:
    assert go_integer(value) == written
