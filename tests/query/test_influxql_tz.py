from __future__ import annotations

import numpy as np
import pytest

import edge_query.influxql.timefmt as timefmt
from edge_query.influxql.parser import parse
from edge_query.influxql.timefmt import format_times
from edge_query.influxql.translate import split_condition
from edge_query.influxql.zones import windows, zoned

HOUR = 3600 * 10**9
T0 = 1451606400 * 10**9  # 2016-01-01T00:00:00Z


def _range(q: str) -> tuple[object, object]:
    (stmt,) = parse(q, {}, T0)
    return stmt, split_condition(stmt.condition, T0)[1]


def test_buckets_start_at_local_boundaries() -> None:
    stmt, rng = _range(
        "SELECT count(v) FROM m WHERE time >= '2016-01-01T00:00:00Z' AND "
        "time < '2016-01-03T00:00:00Z' GROUP BY time(1d) tz('America/New_York')"
    )
    # New York is UTC-5 in January: days start at 05:00 UTC
    assert zoned(stmt, 24 * HOUR, 0, rng) == (5 * HOUR, None)  # type: ignore[arg-type]


def test_an_offset_change_that_moves_boundaries_needs_the_zones_clock() -> None:
    stmt, rng = _range(
        "SELECT count(v) FROM m WHERE time >= '2016-03-01T00:00:00Z' AND "
        "time < '2016-04-01T00:00:00Z' GROUP BY time(1d) tz('Europe/Paris')"
    )
    offset, clock = zoned(stmt, 24 * HOUR, 0, rng)  # type: ignore[arg-type]
    assert offset == 0 and clock is not None
    # summer time starts on 27 March 2016 at 01:00 UTC
    assert clock.changes == [1459040400 * 10**9]
    assert clock.values == [3600 * 10**9, 7200 * 10**9]
    # ten-minute buckets do not move when the offset changes by an hour
    assert zoned(stmt, 600 * 10**9, 0, rng) == (0, None)  # type: ignore[arg-type]


def test_windows_around_the_change_last_23_hours_and_start_at_local_midnight() -> None:
    stmt, rng = _range(
        "SELECT count(v) FROM m WHERE time >= '2016-03-20T00:00:00Z' AND "
        "time < '2016-04-01T00:00:00Z' GROUP BY time(1d) tz('Europe/Paris')"
    )
    _, clock = zoned(stmt, 24 * HOUR, 0, rng)  # type: ignore[arg-type]
    assert clock is not None
    noon = np.array([1459080000, 1459166400], dtype=np.int64) * 10**9  # 27 and 28 March, 12Z
    starts, ends = windows(noon, 24 * HOUR, 0, clock)
    assert (starts // 10**9).tolist() == [1459033200, 1459116000]  # 23:00Z, then 22:00Z
    assert ((ends - starts) // HOUR).tolist() == [23, 24]


def test_times_shown_in_the_zone() -> None:
    ns = np.array([T0, T0 + 1_500_000_000, T0 + 6 * 30 * 24 * HOUR], dtype=np.int64)
    assert format_times(ns, None, "Europe/Paris") == [
        "2016-01-01T01:00:00+01:00",
        "2016-01-01T01:00:01.5+01:00",
        "2016-06-29T02:00:00+02:00",
    ]
    assert format_times(ns[:1], None, "Asia/Kolkata") == ["2016-01-01T05:30:00+05:30"]
    assert format_times(ns[:1], "s", "Asia/Kolkata") == [1451606400]


def test_few_times_are_written_as_many_are(monkeypatch: pytest.MonkeyPatch) -> None:
    """A small answer's times come from remembered seconds, a large one's from numpy: the
    same texts, fractions and times before 1970 included."""
    rng = np.random.default_rng(1)
    whole = rng.integers(-2_000_000_000, 4_000_000_000, 500) * 1_000_000_000
    fractions = rng.integers(0, 1_000_000_000, 500) * (rng.random(500) < 0.5)
    edges = [0, 1, -1, 999_999_999, -1_000_000_000, 1_500_000_000_123_000_000]
    for ns in (whole + fractions, np.array(edges, dtype=np.int64)):
        few = format_times(ns, None)
        monkeypatch.setattr(timefmt, "_FEW", 0)
        assert format_times(ns, None) == few
        monkeypatch.setattr(timefmt, "_FEW", 1024)
    assert format_times(np.array([-1], dtype=np.int64), None) == ["1969-12-31T23:59:59.999999999Z"]
