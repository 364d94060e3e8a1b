"""Retention policies' model: durations as influxd writes them, shard durations as it
derives them, where a policy's rows are kept, and the catalog's copy of them."""

from __future__ import annotations

import pytest

from edge_common.retention import AUTOGEN, RetentionPolicy, go_duration, shard_duration
from edge_common.schema import Catalog, ColumnType

_S = 1_000_000_000
_H = 3600 * _S
_D = 24 * _H


@pytest.mark.parametrize(
    ("ns", "text"),
    [
        (0, "0s"),
        (_H, "1h0m0s"),
        (168 * _H, "168h0m0s"),
        (90 * _S, "1m30s"),
        (5 * _S, "5s"),
        (1500 * 1_000_000, "1.5s"),
        (500 * 1_000_000, "500ms"),
        (1500, "1.5µs"),
        (7, "7ns"),
        (_H + 61 * _S + 250 * 1_000_000, "1h1m1.25s"),
    ],
)
def test_durations_read_as_go_writes_them(ns: int, text: str) -> None:
    assert go_duration(ns) == text


@pytest.mark.parametrize(
    ("duration", "asked", "shard"),
    [
        (0, 0, 7 * _D),  # INF: a week
        (180 * _D, 0, 7 * _D),
        (179 * _D, 0, _D),
        (2 * _D, 0, _D),
        (2 * _D - 1, 0, _H),
        (_H, 0, _H),
        (3 * _D, 2 * _H, 2 * _H),  # asked for
        (3 * _D, 30 * 60 * _S, _H),  # at least an hour
    ],
)
def test_shard_durations_follow_influxd(duration: int, asked: int, shard: int) -> None:
    assert shard_duration(duration, asked) == shard


def test_policies_decide_where_rows_are_kept_and_survive_the_catalog_format() -> None:
    c = Catalog()
    bounds = {"max_databases": 10, "max_tables": 10, "max_columns": 10}
    c.ensure("db", "m", {"v": ColumnType.FLOAT}, **bounds)
    assert c.databases["db"].retention_policies() == {AUTOGEN: RetentionPolicy()}
    assert c.storage("db") == "db" and c.storage("db", "week") == "db/week"
    # a write naming a policy the database lacks declares it, kept for ever
    c.ensure("db/week", "m", {"v": ColumnType.FLOAT}, **bounds)
    assert list(c.databases["db"].policies) == [AUTOGEN, "week"]
    assert c.owner("db/week") == ("db", "week") and c.owner("db") == ("db", AUTOGEN)
    assert c.is_policy_storage("db/week") and not c.is_policy_storage("db")
    # ... and of a database not yet there, both
    c.ensure("new/rp", "m", {"v": ColumnType.FLOAT}, **bounds)
    assert c.owner("new/rp") == ("new", "rp")
    d = c.databases["db"]
    d.policies["week"] = RetentionPolicy(7 * _D, _D, 2)
    d.default_policy = "week"
    assert c.storage("db") == "db/week" and c.storage("db", AUTOGEN) == "db"
    assert c.policy_of("db/week") == RetentionPolicy(7 * _D, _D, 2)
    again = Catalog.from_json(c.to_json())
    assert again.databases["db"].policies == d.policies
    assert list(again.databases["db"].policies) == [AUTOGEN, "week"]  # made in this order
    assert again.databases["db"].default_policy == "week"
    assert again.databases["db/week"].policies == {}
    # a catalog written before policies existed reads as autogen alone
    old = c.to_json()
    del old["policies"]
    assert Catalog.from_json(old).databases["db"].retention_policies() == {
        AUTOGEN: RetentionPolicy()
    }
    assert RetentionPolicy(2 * _H).cutoff(10 * _H) == 8 * _H
    assert RetentionPolicy().cutoff(10 * _H) is None
