"""Differential tests: the same data written to influxd 1.6.7 and to Edge, the same InfluxQL
asked of both, the parsed answers compared.

Allowed differences live in one place, :data:`ALLOWED`, each with its reason; everything
else must match: statement results, series names, tags, columns and values (floats within
1e-9 relative).
"""

from __future__ import annotations

import csv
import datetime
import io
import json
import math
import random
import re
import socket
import time
from collections.abc import Iterator
from typing import Any

import pytest

from bench.edge import EdgeServer, run_edge
from bench.influxd import run_influxd
from tests.compat import generated
from tests.http import http

DB = "compat"
# 2016-01-01T00:00:00Z onwards, irregular times, several measurements and every field type,
# names needing escapes, sparse fields, an overwritten point
BASE = 1451606400
LINES = [
    *(
        f"cpu,host=h{h},region={'eu' if h % 2 else 'us'} usage_user={(h * 7 + i * 3) % 100 + 0.5},"
        f"usage_system={(h + i) % 13}.25,cores={h + 1}i {BASE + i * 60 + h}"
        for h in range(4)
        for i in range(30)
    ),
    *(
        f"mem,host=h{h} free={1000 + i * 10 + h}i,used_pct={i % 17 * 1.5},swap=false "
        f"{BASE + i * 90}"
        for h in range(2)
        for i in range(20)
    ),
    'events,kind=deploy,svc=api msg="started",ok=true 1451606460',
    'events,kind=deploy,svc=web msg="started, then \\"stopped\\"",ok=false 1451607000',
    'events,kind=alert msg="disk" 1451608000',
    "temp\\ c,room=a\\,b,floor=1 v=21.5 1451606400",
    "temp\\ c,room=a\\,b,floor=1 v=22.5 1451606700",
    "cpu,host=h0,region=us usage_user=99.5 1451606400",  # overwrites a point
    "sparse,t=x a=1 1451606400",
    "sparse,t=x b=2 1451606460",
    "sparse,t=y a=3,b=4 1451606520",
]

_HALF = "time >= '2016-01-01T00:00:00Z' AND time < '2016-01-01T00:30:00Z'"
_SPARSE_TAIL = "time >= 1451606490000ms AND time <= 1451608290000ms"  # (from 00:01:30)
_HOUR = "time >= '2016-01-01T00:00:00Z' AND time < '2016-01-01T01:00:00Z'"
_DAYS = "time >= '2015-12-31T00:00:00Z' AND time < '2016-01-02T00:00:00Z'"

_SUBQUERY_LIMIT = (
    "influxd 1.6.7 keeps one row more per group than a subquery's LIMIT by GROUP BY tags "
    "(3 of LIMIT 2; the same statement alone keeps 2, as Edge does)"
)
ALLOWED: dict[str, str] = {
    "SELECT sample(free, 2) FROM mem GROUP BY host": (
        "sample() picks points at random (test_sample_picks_n_points_of_each_series checks it)"
    ),
    "SELECT * FROM (SELECT usage_user FROM cpu GROUP BY host ORDER BY time DESC LIMIT 2) "
    "ORDER BY time DESC": _SUBQUERY_LIMIT,
    "SELECT * FROM (SELECT usage_user FROM cpu GROUP BY host LIMIT 2)": _SUBQUERY_LIMIT,
    # query text → why the answers may differ (checked only for answering without error)
}
_MAP_ORDER = "influxd 1.6.7's integral emits grouped series in Go map order"
UNORDERED: dict[str, str] = {
    # query text → why the order of series may differ (compared after sorting the series)
    "SELECT integral(free, 1m) FROM mem GROUP BY host": _MAP_ORDER,
    "SELECT integral(free) FROM mem GROUP BY host": _MAP_ORDER,
}

QUERIES = [
    "SHOW DATABASES",
    "SHOW MEASUREMENTS",
    "SHOW MEASUREMENTS LIMIT 2",
    "SHOW MEASUREMENTS WITH MEASUREMENT =~ /^c/",
    "SHOW TAG KEYS",
    "SHOW TAG KEYS FROM cpu",
    "SHOW TAG VALUES WITH KEY = host",
    "SHOW TAG VALUES FROM cpu WITH KEY = region",
    "SHOW TAG VALUES FROM cpu WITH KEY IN (host, region)",
    "SHOW TAG VALUES WITH KEY =~ /^ro/",
    "SHOW FIELD KEYS",
    "SHOW FIELD KEYS FROM mem",
    "SHOW SERIES",
    "SHOW SERIES FROM cpu",
    "SHOW SERIES FROM cpu WHERE region = 'eu'",
    "SHOW RETENTION POLICIES",
    "SELECT * FROM cpu WHERE host = 'h1' LIMIT 5",
    "SELECT usage_user FROM cpu WHERE host = 'h2' AND time < '2016-01-01T00:10:00Z'",
    "SELECT usage_user, host FROM cpu WHERE time >= '2016-01-01T00:20:00Z' LIMIT 3",
    "SELECT * FROM mem ORDER BY time DESC LIMIT 4",
    "SELECT free FROM mem WHERE free > 1150",
    "SELECT free FROM mem WHERE free > 1150 AND host = 'h1'",
    "SELECT free FROM mem WHERE host =~ /1$/ LIMIT 3",
    "SELECT free FROM mem WHERE host !~ /1$/ LIMIT 3",
    "SELECT free FROM mem WHERE host != 'h0' LIMIT 3",
    "SELECT * FROM events",
    "SELECT msg FROM events WHERE ok = true",
    'SELECT * FROM "temp c"',
    "SELECT * FROM sparse",
    "SELECT a FROM sparse",
    "SELECT b FROM sparse",
    "SELECT usage_user FROM cpu WHERE time = '2016-01-01T00:00:00Z'",
    "SELECT usage_user FROM cpu GROUP BY host LIMIT 2",
    "SELECT usage_user FROM cpu GROUP BY host SLIMIT 2 LIMIT 1",
    "SELECT usage_user FROM cpu GROUP BY * LIMIT 1",
    "SELECT usage_user * 2 AS double FROM cpu WHERE host = 'h3' LIMIT 3",
    "SELECT count(usage_user) FROM cpu",
    "SELECT count(*) FROM cpu",
    "SELECT count(*) FROM mem",
    "SELECT sum(cores) FROM cpu",
    "SELECT mean(usage_user) FROM cpu",
    "SELECT mean(usage_user) FROM cpu GROUP BY host",
    "SELECT mean(usage_user) FROM cpu GROUP BY region",
    "SELECT min(usage_user), max(usage_user) FROM cpu",
    "SELECT max(usage_user) FROM cpu",
    "SELECT min(free) FROM mem",
    "SELECT first(usage_user) FROM cpu",
    "SELECT last(usage_user) FROM cpu",
    "SELECT last(free) FROM mem GROUP BY host",
    "SELECT median(usage_user) FROM cpu",
    "SELECT spread(usage_user) FROM cpu",
    "SELECT stddev(usage_user) FROM cpu",
    "SELECT percentile(usage_user, 90) FROM cpu",
    "SELECT count(distinct(host)) FROM cpu",
    "SELECT mean(usage_user) FROM cpu WHERE time >= '2016-01-01T00:00:00Z' AND "
    "time < '2016-01-01T00:30:00Z' GROUP BY time(10m)",
    "SELECT mean(usage_user) FROM cpu WHERE time >= '2016-01-01T00:00:00Z' AND "
    "time < '2016-01-01T00:30:00Z' GROUP BY time(10m), host",
    "SELECT max(usage_user) FROM cpu WHERE time >= '2016-01-01T00:00:00Z' AND "
    "time < '2016-01-01T01:00:00Z' GROUP BY time(15m)",
    "SELECT count(free) FROM mem WHERE time >= '2016-01-01T00:00:00Z' AND "
    "time < '2016-01-01T01:00:00Z' GROUP BY time(10m)",
    "SELECT count(free) FROM mem WHERE time >= '2016-01-01T00:00:00Z' AND "
    "time < '2016-01-01T01:00:00Z' GROUP BY time(10m) fill(none)",
    "SELECT mean(free) FROM mem WHERE time >= '2016-01-01T00:00:00Z' AND "
    "time < '2016-01-01T01:00:00Z' GROUP BY time(10m) fill(0)",
    "SELECT mean(free) FROM mem WHERE time >= '2016-01-01T00:00:00Z' AND "
    "time < '2016-01-01T01:00:00Z' GROUP BY time(10m) fill(previous)",
    "SELECT mean(free) FROM mem WHERE time >= '2016-01-01T00:00:00Z' AND "
    "time < '2016-01-01T01:00:00Z' GROUP BY time(10m) fill(linear)",
    "SELECT mean(usage_user) FROM cpu WHERE time >= '2016-01-01T00:00:00Z' AND "
    "time < '2016-01-01T00:30:00Z' GROUP BY time(10m, 5m)",
    "SELECT mean(usage_user) FROM cpu WHERE time >= '2016-01-01T00:00:00Z' AND "
    "time < '2016-01-01T00:30:00Z' GROUP BY time(10m) ORDER BY time DESC",
    "SELECT sum(free) FROM mem WHERE time >= '2016-01-01T00:00:00Z' AND "
    "time < '2016-01-01T01:00:00Z' GROUP BY time(20m), host LIMIT 2",
    "SELECT mean(usage_user) FROM /c.u/",
    "SELECT * FROM nosuchmeasurement",
    "SELECT mean(usage_user) FROM cpu WHERE host = 'nobody'",
    "SELECT usage_user FROM cpu WHERE time > now()",
    "SELECT usage_user FROM cpu LIMIT 2 OFFSET 3",
    "SELECT count(usage_user) FROM cpu WHERE region = 'eu' OR host = 'h0'",
    "SELECT count(usage_user) FROM cpu WHERE (region = 'eu' AND usage_user > 50) OR host = 'h0'",
    "SHOW MEASUREMENTS; SHOW TAG KEYS FROM mem",
    "SELECT derivative(usage_user) FROM cpu WHERE host = 'h1' LIMIT 5",
    "SELECT derivative(usage_user, 1m) FROM cpu WHERE host = 'h1' LIMIT 5",
    "SELECT non_negative_derivative(free) FROM mem WHERE host = 'h0' LIMIT 5",
    "SELECT difference(free) FROM mem WHERE host = 'h1' LIMIT 5",
    "SELECT non_negative_difference(usage_user) FROM cpu WHERE host = 'h2' LIMIT 5",
    "SELECT cumulative_sum(free) FROM mem WHERE host = 'h0' LIMIT 5",
    "SELECT moving_average(usage_user, 3) FROM cpu WHERE host = 'h0' LIMIT 5",
    "SELECT elapsed(free) FROM mem WHERE host = 'h0' LIMIT 3",
    "SELECT elapsed(free, 1s) FROM mem WHERE host = 'h0' LIMIT 3",
    "SELECT derivative(usage_user) FROM cpu GROUP BY host LIMIT 2",
    "SELECT derivative(mean(usage_user)) FROM cpu WHERE time >= '2016-01-01T00:00:00Z' AND "
    "time < '2016-01-01T00:30:00Z' GROUP BY time(10m)",
    "SELECT derivative(mean(usage_user), 1s) FROM cpu WHERE time >= '2016-01-01T00:00:00Z' AND "
    "time < '2016-01-01T00:30:00Z' GROUP BY time(10m)",
    "SELECT non_negative_derivative(max(free), 1m) FROM mem WHERE "
    "time >= '2016-01-01T00:00:00Z' AND time < '2016-01-01T01:00:00Z' GROUP BY time(10m), host",
    "SELECT cumulative_sum(count(free)) FROM mem WHERE time >= '2016-01-01T00:00:00Z' AND "
    "time < '2016-01-01T01:00:00Z' GROUP BY time(10m)",
    "SELECT moving_average(mean(usage_user), 2) FROM cpu WHERE time >= '2016-01-01T00:00:00Z' "
    "AND time < '2016-01-01T00:30:00Z' GROUP BY time(5m)",
    "SELECT difference(sum(cores)) FROM cpu WHERE time >= '2016-01-01T00:00:00Z' AND "
    "time < '2016-01-01T00:30:00Z' GROUP BY time(10m)",
    "SELECT derivative(usage_user) FROM cpu",
    "SELECT abs(usage_user - 50) FROM cpu WHERE host = 'h1' LIMIT 3",
    "SELECT floor(usage_user), ceil(usage_system) FROM cpu WHERE host = 'h2' LIMIT 3",
    "SELECT round(usage_user) AS r FROM cpu WHERE host = 'h3' LIMIT 3",
    "SELECT sqrt(free), pow(cores, 2) FROM mem, cpu WHERE host = 'h0' LIMIT 2",
    "SELECT pow(cores, 2) FROM cpu WHERE host = 'h0' LIMIT 2",
    "SELECT ln(free), log(free, 10), log2(free), log10(free), exp(used_pct) FROM mem "
    "WHERE host = 'h1' LIMIT 2",
    "SELECT sin(usage_user), cos(usage_user), atan2(usage_user, usage_system) FROM cpu "
    "WHERE host = 'h1' LIMIT 2",
    "SELECT abs(mean(usage_user)) FROM cpu",
    "SELECT round(mean(usage_user)) FROM cpu GROUP BY host",
    "SELECT top(usage_user, 3) FROM cpu",
    "SELECT bottom(usage_user, 2) FROM cpu",
    "SELECT top(free, 2) FROM mem GROUP BY host",
    "SELECT bottom(free, 3) FROM mem WHERE host = 'h1'",
    "SELECT distinct(cores) FROM cpu",
    "SELECT distinct(free) FROM mem WHERE free < 1030",
    "SELECT distinct(msg) FROM events",
    "SELECT mode(cores) FROM cpu",
    "SELECT mode(usage_system) FROM cpu GROUP BY host",
    "SELECT mode(msg) FROM events",
    "SELECT integral(free) FROM mem",
    "SELECT integral(free, 1m) FROM mem GROUP BY host",
    "SELECT integral(usage_user) FROM cpu WHERE host = 'h2'",
    "SELECT mean(usage_user) FROM cpu WHERE time >= '2016-01-01T00:00:00Z' AND "
    "time < '2016-01-01T00:30:00Z' GROUP BY time(10m), host fill(none) SLIMIT 1 SOFFSET 1",
    "SELECT mean(usage_user) FROM cpu; SELECT count(free) FROM mem",
    "SELECT sample(free, 1) FROM mem WHERE host = 'nobody'",
    "SELECT sample(free, -1) FROM mem",
    "SELECT top(free) FROM mem",
    "SELECT sample(free, 100) FROM mem",
    "SELECT sample(free, 100) FROM mem GROUP BY host",
    "SELECT sample(free, 0) FROM mem",
    "SELECT sample(free) FROM mem",
    "SELECT sample(msg, 10) FROM events",
    "SELECT sample(usage_user, 50) FROM cpu WHERE host = 'h2'",
    "SELECT top(usage_user, 200) FROM cpu WHERE time < '2016-01-01T00:03:00Z'",
    "SELECT bottom(free, 100) FROM mem",
    "SELECT sample(free, 2) FROM mem GROUP BY host",
    # top/bottom with tag arguments
    "SELECT top(usage_user, host, 2) FROM cpu",
    "SELECT top(usage_user, host, 10) FROM cpu",
    "SELECT bottom(usage_user, region, 2) FROM cpu",
    "SELECT top(usage_user, host, region, 3) FROM cpu",
    "SELECT top(usage_user, host, 1) FROM cpu GROUP BY region",
    "SELECT bottom(free, host, 1) FROM mem",
    "SELECT top(usage_user, nosuchtag, 2) FROM cpu",
    "SELECT top(usage_user, 2) FROM cpu WHERE host = 'h3'",
    # fields, tags and expressions beside top()/bottom(): their values at each point picked
    "SELECT top(usage_user, 3), host FROM cpu",
    f"SELECT host, bottom(usage_user, 2), usage_system * 2 FROM cpu WHERE {_HALF}",
    "SELECT top(usage_user, host, 2), usage_system FROM cpu",
    f"SELECT top(usage_user, 2) AS t, * FROM cpu WHERE {_HALF} GROUP BY host",
    f"SELECT bottom(free, 1), host FROM mem WHERE {_DAYS} GROUP BY time(1d)",
    "SELECT top(usage_user, 2), max(usage_system) FROM cpu",
    "SELECT top(usage_user, 2), bottom(usage_user, 2) FROM cpu",
    "SELECT distinct(cores), usage_user FROM cpu",
    "SELECT top(usage_user, host) FROM cpu",
    "SELECT top(usage_user, host, 'x') FROM cpu",
    # several transformations in one query
    "SELECT derivative(mean(usage_user)), derivative(mean(usage_system)) FROM cpu WHERE "
    f"{_HALF} GROUP BY time(10m)",
    f"SELECT difference(max(free)), cumulative_sum(max(free)) FROM mem WHERE {_HOUR} GROUP "
    "BY time(10m), host",
    "SELECT derivative(usage_user), difference(usage_system) FROM cpu WHERE host = 'h1' LIMIT 4",
    "SELECT moving_average(usage_user, 3), derivative(usage_user) FROM cpu WHERE host = "
    "'h2' LIMIT 4",
    "SELECT derivative(usage_user), usage_system FROM cpu WHERE host = 'h1' LIMIT 2",
    "SELECT difference(free) AS d, non_negative_difference(free) AS nn FROM mem WHERE "
    "host = 'h0' LIMIT 5",
    # exponential moving averages
    "SELECT exponential_moving_average(usage_user, 3) FROM cpu WHERE host = 'h1' LIMIT 6",
    "SELECT exponential_moving_average(usage_user, 3, 0) FROM cpu WHERE host = 'h1' LIMIT 6",
    "SELECT exponential_moving_average(usage_user, 3, 0, 'simple') FROM cpu WHERE host = "
    "'h1' LIMIT 6",
    "SELECT double_exponential_moving_average(usage_user, 3) FROM cpu WHERE host = 'h2' LIMIT 6",
    "SELECT double_exponential_moving_average(usage_user, 3, 0) FROM cpu WHERE host = 'h2' LIMIT 6",
    "SELECT triple_exponential_moving_average(free, 2) FROM mem WHERE host = 'h0' LIMIT 6",
    "SELECT triple_exponential_moving_average(free, 2, 0) FROM mem WHERE host = 'h0' LIMIT 6",
    f"SELECT exponential_moving_average(mean(usage_user), 2) FROM cpu WHERE {_HALF} "
    "GROUP BY time(5m)",
    "SELECT exponential_moving_average(usage_user, 0) FROM cpu",
    "SELECT exponential_moving_average(usage_user, 3, -1, 'none') FROM cpu WHERE host = 'h1'",
    # relative strength index, Chande momentum oscillator
    "SELECT relative_strength_index(usage_user, 3) FROM cpu WHERE host = 'h1' LIMIT 6",
    "SELECT relative_strength_index(usage_user, 3, 0) FROM cpu WHERE host = 'h1' LIMIT 6",
    "SELECT relative_strength_index(usage_system, 4) FROM cpu WHERE host = 'h2' LIMIT 8",
    "SELECT relative_strength_index(usage_system, 4, 0, 'simple') FROM cpu WHERE host = "
    "'h2' LIMIT 8",
    "SELECT relative_strength_index(free, 2) FROM mem WHERE host = 'h1' LIMIT 8",
    f"SELECT relative_strength_index(mean(usage_user), 2) FROM cpu WHERE {_HALF} GROUP BY time(5m)",
    "SELECT relative_strength_index(usage_user, 5) FROM cpu GROUP BY host LIMIT 3",
    "SELECT chande_momentum_oscillator(usage_system, 3) FROM cpu WHERE host = 'h2' LIMIT 10",
    "SELECT chande_momentum_oscillator(usage_system, 3, 0) FROM cpu WHERE host = 'h2' LIMIT 10",
    "SELECT chande_momentum_oscillator(usage_system, 4, -1, 'exponential') FROM cpu WHERE "
    "host = 'h2' LIMIT 10",
    "SELECT chande_momentum_oscillator(usage_system, 4, 0, 'simple') FROM cpu WHERE host "
    "= 'h2' LIMIT 10",
    "SELECT chande_momentum_oscillator(usage_system, 2) FROM cpu WHERE host = 'h3' LIMIT 10",
    "SELECT chande_momentum_oscillator(free, 3) FROM mem WHERE host = 'h1' LIMIT 5",
    # Kaufman's efficiency ratio and adaptive average, TRIX
    "SELECT kaufmans_efficiency_ratio(usage_system, 3, 0) FROM cpu WHERE host = 'h2' LIMIT 10",
    "SELECT kaufmans_efficiency_ratio(usage_system, 3) FROM cpu WHERE host = 'h2' LIMIT 10",
    "SELECT kaufmans_adaptive_moving_average(usage_system, 3, 0) FROM cpu WHERE host = "
    "'h2' LIMIT 10",
    "SELECT kaufmans_adaptive_moving_average(usage_system, 3) FROM cpu WHERE host = 'h2' LIMIT 10",
    "SELECT triple_exponential_derivative(usage_user, 3, 0) FROM cpu WHERE host = 'h1' LIMIT 10",
    "SELECT triple_exponential_derivative(usage_user, 3) FROM cpu WHERE host = 'h1' LIMIT 10",
    "SELECT kaufmans_efficiency_ratio(free, 2) FROM mem WHERE host = 'h1' LIMIT 6",
    "SELECT kaufmans_adaptive_moving_average(usage_user, 4) FROM cpu WHERE host = 'h3' LIMIT 8",
    "SELECT triple_exponential_derivative(usage_system, 2) FROM cpu WHERE host = 'h0' LIMIT 8",
    f"SELECT kaufmans_efficiency_ratio(mean(usage_user), 2) FROM cpu WHERE {_HALF} "
    "GROUP BY time(5m)",
    # subqueries
    "SELECT max(m) FROM (SELECT mean(usage_user) AS m FROM cpu GROUP BY host)",
    "SELECT mean(m) FROM (SELECT max(usage_user) AS m FROM cpu GROUP BY host)",
    "SELECT sum(m) FROM (SELECT max(usage_user) AS m FROM cpu GROUP BY host, region) "
    "GROUP BY region",
    f"SELECT max(mean) FROM (SELECT mean(usage_user) FROM cpu WHERE {_HALF} GROUP BY "
    "time(10m), host)",
    "SELECT max(mean) FROM (SELECT mean(usage_user) FROM cpu GROUP BY time(10m), host) "
    f"WHERE {_HALF}",
    f"SELECT max(mean) FROM (SELECT mean(usage_user) FROM cpu WHERE {_HALF} GROUP BY "
    "time(10m), host) GROUP BY host",
    "SELECT count(usage_user) FROM (SELECT usage_user FROM cpu WHERE usage_user > 50)",
    "SELECT * FROM (SELECT usage_user FROM cpu WHERE host = 'h1') LIMIT 3",
    # an inner LIMIT, read in windows of time (select._first_rows)
    "SELECT max(usage_user) FROM (SELECT usage_user FROM cpu LIMIT 7)",
    "SELECT * FROM (SELECT usage_user FROM cpu GROUP BY host ORDER BY time DESC LIMIT 2)",
    "SELECT * FROM (SELECT usage_user FROM cpu GROUP BY host ORDER BY time DESC LIMIT 2) "
    "ORDER BY time DESC",
    "SELECT * FROM (SELECT usage_user FROM cpu LIMIT 2) ORDER BY time DESC",
    "SELECT * FROM (SELECT usage_user FROM cpu ORDER BY time ASC LIMIT 2) ORDER BY time DESC",
    "SELECT max(usage_user) FROM (SELECT usage_user FROM cpu WHERE host = 'h3' LIMIT 4) "
    "ORDER BY time DESC",
    "SELECT * FROM (SELECT usage_user FROM cpu GROUP BY host LIMIT 2)",
    "SELECT count(free) FROM (SELECT free FROM mem WHERE host = 'h1' LIMIT 3 OFFSET 2)",
    "SELECT usage_user FROM (SELECT usage_user, usage_system FROM cpu WHERE host = 'h2') "
    "WHERE usage_user > 50",
    "SELECT top(m, 2) FROM (SELECT mean(usage_user) AS m FROM cpu GROUP BY host)",
    f"SELECT count(m) FROM (SELECT max(free) AS m FROM mem GROUP BY time(10m), host) WHERE {_HOUR}",
    "SELECT max(d) FROM (SELECT derivative(usage_user) AS d FROM cpu WHERE host = 'h1')",
    "SELECT mean(m) FROM (SELECT mean(usage_user) AS m FROM nosuch GROUP BY host)",
    "SELECT spread(m) FROM (SELECT sum(free) AS m FROM mem GROUP BY host)",
    "SELECT max(m) FROM (SELECT mean(usage_user) AS m FROM cpu, mem GROUP BY host)",
    "SELECT mean(free) FROM (SELECT * FROM cpu, mem WHERE host = 'h0')",
    "SELECT count(*) FROM (SELECT * FROM /^(cpu|mem)$/)",
    "SELECT max(mean) FROM (SELECT mean(*) FROM cpu, mem GROUP BY host) GROUP BY host",
    "SELECT * FROM (SELECT last(*) FROM /.*/)",
    "SELECT mean(usage_user) FROM (SELECT usage_user, host FROM cpu) GROUP BY host",
    "SELECT count(usage_user) FROM (SELECT * FROM cpu) WHERE region = 'eu'",
    "SELECT max(free) FROM (SELECT free, host FROM mem) GROUP BY host",
    # tz(): bucket boundaries and times in the zone
    "SELECT usage_user FROM cpu WHERE host = 'h1' LIMIT 3 tz('Europe/Paris')",
    "SELECT usage_user FROM cpu WHERE host = 'h1' LIMIT 3 tz('America/New_York')",
    "SELECT usage_user FROM cpu WHERE host = 'h1' LIMIT 3 tz('UTC')",
    "SELECT usage_user FROM cpu WHERE host = 'h1' LIMIT 3 tz('Asia/Kolkata')",
    f"SELECT mean(usage_user) FROM cpu WHERE {_HALF} GROUP BY time(10m) tz('Europe/Paris')",
    f"SELECT mean(usage_user) FROM cpu WHERE {_HALF} GROUP BY time(10m) tz('Asia/Kolkata')",
    f"SELECT count(usage_user) FROM cpu WHERE {_DAYS} GROUP BY time(1d) tz('America/New_York')",
    f"SELECT count(usage_user) FROM cpu WHERE {_DAYS} GROUP BY time(1d) tz('Asia/Kolkata')",
    "SELECT count(usage_user) FROM cpu WHERE time >= '2016-01-01 00:00:00' AND "
    "time < '2016-01-01 01:00:00' GROUP BY time(20m) tz('Europe/Paris')",
    f"SELECT count(usage_user) FROM cpu WHERE {_DAYS} GROUP BY time(1d) fill(none) "
    "tz('America/New_York')",
    "SELECT max(usage_user) FROM cpu tz('Europe/Paris')",
    # several points per interval, the intervals in the zone
    f"SELECT top(usage_user, 2) FROM cpu WHERE {_HALF} GROUP BY time(10m) tz('Asia/Kolkata')",
    f"SELECT bottom(usage_user, 1) FROM cpu WHERE {_DAYS} GROUP BY time(1d), host "
    "tz('America/New_York')",
    f"SELECT distinct(host) FROM cpu WHERE {_DAYS} GROUP BY time(1d) tz('Asia/Kolkata')",
    f"SELECT top(usage_user, 3) FROM cpu WHERE {_HALF} GROUP BY time(20m) "
    "ORDER BY time DESC tz('Asia/Kolkata')",
    "SELECT usage_user FROM cpu LIMIT 1 tz('Nowhere/Land')",
    "SELECT usage_user FROM cpu LIMIT 1 tz('')",
    # --- metadata, selection, conditions, arithmetic, aggregates, selectors, time buckets,
    # fill, transformations
    "SHOW MEASUREMENTS WITH MEASUREMENT = cpu",
    "SHOW MEASUREMENTS WITH MEASUREMENT =~ /e/ LIMIT 1",
    "SHOW MEASUREMENTS LIMIT 2 OFFSET 1",
    "SHOW MEASUREMENTS WHERE host = 'h1'",
    "SHOW MEASUREMENTS WHERE region = 'eu'",
    "SHOW TAG KEYS FROM mem",
    "SHOW TAG KEYS FROM events",
    'SHOW TAG KEYS FROM "temp c"',
    "SHOW TAG KEYS FROM /^c/",
    "SHOW TAG KEYS LIMIT 1",
    "SHOW TAG VALUES FROM cpu WITH KEY = host",
    "SHOW TAG VALUES FROM cpu WITH KEY = host WHERE region = 'eu'",
    "SHOW TAG VALUES FROM cpu WITH KEY = host LIMIT 2",
    "SHOW TAG VALUES FROM cpu WITH KEY = host LIMIT 2 OFFSET 1",
    "SHOW TAG VALUES FROM events WITH KEY = svc",
    "SHOW TAG VALUES FROM events WITH KEY =~ /.*/",
    'SHOW TAG VALUES FROM "temp c" WITH KEY = room',
    "SHOW TAG VALUES WITH KEY = kind",
    "SHOW TAG VALUES WITH KEY != host",
    "SHOW TAG VALUES FROM mem WITH KEY IN (host)",
    "SHOW FIELD KEYS FROM cpu",
    "SHOW FIELD KEYS FROM events",
    "SHOW FIELD KEYS FROM sparse",
    'SHOW FIELD KEYS FROM "temp c"',
    "SHOW FIELD KEYS FROM /^s/",
    "SHOW SERIES FROM mem",
    "SHOW SERIES FROM events",
    "SHOW SERIES WHERE host = 'h0'",
    "SHOW SERIES FROM cpu WHERE host =~ /[01]/",
    # Grafana's forms for chained template variables (answered from a row per series)
    'SHOW TAG VALUES WITH KEY = "host" WHERE "region" =~ /^(eu|us)$/',
    "SHOW TAG VALUES FROM cpu WITH KEY IN (host, region) WHERE host = 'h1'",
    "SHOW SERIES WHERE region = 'eu' AND host = 'h1'",
    "SHOW SERIES FROM cpu WHERE host =~ /^(h0|h2)$/ LIMIT 1",
    "SHOW MEASUREMENTS WHERE host =~ /^(h0|h1)$/",
    "SHOW SERIES CARDINALITY WHERE region = 'eu'",
    "SHOW TAG VALUES WITH KEY = region WHERE host =~ /[12]/",
    "SHOW SERIES WHERE host =~ /^h[0-2]$/ AND region =~ /u/",
    "SHOW MEASUREMENTS WHERE host =~ /3/",
    "SHOW SERIES LIMIT 3",
    "SHOW SERIES LIMIT 3 OFFSET 2",
    "SHOW SERIES CARDINALITY",
    "SHOW SERIES CARDINALITY FROM cpu",
    "SHOW MEASUREMENT CARDINALITY",
    "SHOW TAG KEY CARDINALITY",
    "SHOW TAG KEY CARDINALITY FROM cpu",
    "SHOW TAG VALUES CARDINALITY WITH KEY = host",
    "SHOW FIELD KEY CARDINALITY",
    "SHOW FIELD KEY CARDINALITY FROM mem",
    "SHOW RETENTION POLICIES ON compat",
    "SHOW USERS",
    "SHOW CONTINUOUS QUERIES",
    "SHOW SUBSCRIPTIONS",
    "SELECT * FROM cpu LIMIT 3",
    "SELECT * FROM cpu WHERE region = 'us' LIMIT 4",
    "SELECT * FROM cpu WHERE region = 'us' AND host = 'h2' LIMIT 4",
    "SELECT host, usage_user FROM cpu LIMIT 3",
    "SELECT region FROM cpu LIMIT 3",
    "SELECT usage_user, usage_system, cores FROM cpu WHERE host = 'h3' ORDER BY time DESC LIMIT 3",
    "SELECT usage_user::field FROM cpu LIMIT 2",
    "SELECT host::tag, usage_user::field FROM cpu LIMIT 2",
    "SELECT usage_user::tag FROM cpu LIMIT 2",
    "SELECT /usage/ FROM cpu LIMIT 2",
    "SELECT /^usage_u/ FROM cpu WHERE host = 'h1' LIMIT 2",
    "SELECT * FROM cpu, mem LIMIT 2",
    "SELECT * FROM /^(cpu|mem)$/ WHERE host = 'h1' LIMIT 2",
    "SELECT free FROM compat.autogen.mem LIMIT 2",
    "SELECT free FROM compat..mem LIMIT 2",
    'SELECT free FROM "compat"."autogen"."mem" LIMIT 2',
    "SELECT usage_user + usage_system FROM cpu WHERE host = 'h0' LIMIT 3",
    "SELECT usage_user - usage_system AS d FROM cpu WHERE host = 'h0' LIMIT 3",
    "SELECT usage_user / 2 FROM cpu WHERE host = 'h0' LIMIT 3",
    "SELECT usage_user * cores FROM cpu WHERE host = 'h1' LIMIT 3",
    "SELECT (usage_user + 1) * 2 FROM cpu WHERE host = 'h1' LIMIT 3",
    "SELECT -usage_user FROM cpu WHERE host = 'h1' LIMIT 2",
    "SELECT cores % 2 FROM cpu WHERE host = 'h1' LIMIT 2",
    "SELECT cores / 2 FROM cpu WHERE host = 'h1' LIMIT 2",
    "SELECT free / 3 FROM mem WHERE host = 'h0' LIMIT 2",
    "SELECT usage_user FROM cpu WHERE usage_user > 90",
    "SELECT usage_user FROM cpu WHERE usage_user >= 90.5 AND usage_user <= 99.5",
    "SELECT usage_user FROM cpu WHERE usage_user < 5",
    "SELECT usage_user FROM cpu WHERE usage_user = 50.5",
    "SELECT usage_user FROM cpu WHERE usage_user <> 50.5 AND host = 'h0' LIMIT 3",
    "SELECT cores FROM cpu WHERE cores = 2 LIMIT 2",
    "SELECT free FROM mem WHERE used_pct > 20 AND free < 1100",
    "SELECT * FROM mem WHERE swap = false LIMIT 2",
    "SELECT * FROM events WHERE msg = 'disk'",
    "SELECT * FROM events WHERE msg =~ /start/",
    "SELECT * FROM events WHERE msg !~ /start/",
    "SELECT * FROM events WHERE kind = 'deploy' AND svc = 'web'",
    "SELECT * FROM events WHERE svc = ''",
    "SELECT * FROM events WHERE svc != ''",
    "SELECT * FROM sparse WHERE a > 0",
    "SELECT * FROM sparse WHERE t = 'y'",
    "SELECT * FROM cpu WHERE time > '2016-01-01T00:28:00Z'",
    "SELECT * FROM cpu WHERE time >= '2016-01-01T00:28:00Z' AND time <= '2016-01-01T00:29:00Z'",
    "SELECT usage_user FROM cpu WHERE time < '2016-01-01T00:02:00Z'",
    "SELECT usage_user FROM cpu WHERE time > 1451607960000000000",
    "SELECT usage_user FROM cpu WHERE time > 1451607960s",
    "SELECT usage_user FROM cpu WHERE time > 1451607960000ms AND host = 'h1'",
    "SELECT usage_user FROM cpu WHERE time > '2016-01-01T00:28:00Z' - 1m AND host = 'h1'",
    "SELECT usage_user FROM cpu WHERE time < now() - 1000d",
    "SELECT usage_user FROM cpu WHERE time > now() - 100000d AND host = 'h3' LIMIT 2",
    "SELECT usage_user FROM cpu WHERE time = 1451606460000000000",
    "SELECT usage_user FROM cpu WHERE host = 'h0' OR host = 'h1' LIMIT 3",
    "SELECT usage_user FROM cpu WHERE (host = 'h0' OR host = 'h1') AND usage_user > 60",
    "SELECT usage_user FROM cpu WHERE host = 'h0' AND (usage_user > 90 OR usage_user < 10)",
    "SELECT usage_user FROM cpu WHERE NOT host = 'h0' LIMIT 2",
    "SELECT usage_user FROM cpu WHERE host =~ /^h[23]$/ AND time < '2016-01-01T00:03:00Z'",
    "SELECT usage_user FROM cpu WHERE region =~ /u/ LIMIT 3",
    # Grafana's form for a variable with several values (and one)
    "SELECT mean(usage_user) FROM cpu WHERE host =~ /^(h1|h3)$/ AND time >= "
    "'2016-01-01T00:00:00Z' AND time < '2016-01-01T00:10:00Z' GROUP BY time(1m), host",
    "SELECT max(usage_user) FROM cpu WHERE host =~ /^h2$/ AND region =~ /^(?:eu|us)$/ "
    "GROUP BY region",
    "SELECT usage_user FROM cpu WHERE host =~ /^(h0|nosuch)$/ LIMIT 4",
    # any other regex on a tag: resolved to the tag's values it matches (RE2, as Go's)
    "SELECT mean(usage_user) FROM cpu WHERE host =~ /[13]$/ AND time >= "
    "'2016-01-01T00:00:00Z' AND time < '2016-01-01T00:10:00Z' GROUP BY time(2m), host",
    "SELECT count(usage_user) FROM cpu WHERE region =~ /^E/ GROUP BY region",
    "SELECT count(usage_user) FROM cpu WHERE region =~ /(?i)^E/ GROUP BY region",
    "SELECT max(usage_user) FROM cpu WHERE host =~ /h\\d/ AND region =~ /u/ GROUP BY host",
    "SELECT usage_user FROM cpu WHERE host =~ /zz/",
    "SELECT count(usage_user) FROM cpu WHERE host =~ /h*/ GROUP BY host",
    "SELECT usage_user FROM cpu WHERE nosuchtag = 'x'",
    "SELECT usage_user FROM cpu WHERE nosuchtag != 'x' LIMIT 2",
    "SELECT nosuchfield FROM cpu",
    "SELECT usage_user, nosuchfield FROM cpu LIMIT 2",
    "SHOW MEASUREMENT EXACT CARDINALITY",
    "SHOW SERIES EXACT CARDINALITY",
    "SHOW SERIES EXACT CARDINALITY FROM cpu",
    "SHOW SERIES CARDINALITY WHERE host = 'h0'",
    "SHOW MEASUREMENT CARDINALITY WHERE host = 'h0'",
    "SHOW MEASUREMENT EXACT CARDINALITY WHERE host = 'h0'",
    "SHOW TAG VALUES EXACT CARDINALITY WITH KEY = host",
    "SHOW TAG KEY EXACT CARDINALITY",
    "SHOW FIELD KEY EXACT CARDINALITY",
    "SHOW SERIES CARDINALITY ON compat",
    "SELECT count(usage_user), sum(usage_user), mean(usage_user) FROM cpu GROUP BY host",
    "SELECT count(*) FROM cpu GROUP BY host",
    "SELECT count(*) FROM cpu GROUP BY region, host",
    "SELECT count(*) FROM sparse GROUP BY t",
    "SELECT count(*) FROM events",
    "SELECT count(msg) FROM events",
    "SELECT count(ok) FROM events GROUP BY kind",
    "SELECT sum(free) FROM mem GROUP BY host",
    "SELECT sum(free), count(free) FROM mem",
    "SELECT mean(free) FROM mem GROUP BY *",
    "SELECT mean(used_pct) FROM mem WHERE host = 'h0'",
    "SELECT median(free) FROM mem GROUP BY host",
    "SELECT median(cores) FROM cpu",
    "SELECT spread(free) FROM mem GROUP BY host",
    "SELECT spread(cores) FROM cpu",
    "SELECT stddev(free) FROM mem GROUP BY host",
    "SELECT stddev(cores) FROM cpu WHERE host = 'h1'",
    "SELECT min(usage_user) FROM cpu GROUP BY host",
    "SELECT max(usage_user) FROM cpu GROUP BY host",
    "SELECT max(usage_user), host FROM cpu",
    "SELECT min(free), host FROM mem",
    "SELECT max(usage_user), usage_system FROM cpu",
    "SELECT first(free) FROM mem GROUP BY host",
    "SELECT last(usage_user) FROM cpu GROUP BY host",
    "SELECT first(msg) FROM events",
    "SELECT last(msg) FROM events",
    "SELECT last(ok) FROM events",
    "SELECT first(*) FROM mem",
    "SELECT last(*) FROM sparse",
    "SELECT max(*) FROM cpu",
    "SELECT count(*) FROM sparse",
    "SELECT mean(*) FROM mem",
    "SELECT percentile(free, 50) FROM mem",
    "SELECT percentile(free, 99) FROM mem GROUP BY host",
    "SELECT percentile(usage_user, 5) FROM cpu WHERE host = 'h2'",
    "SELECT percentile(cores, 100) FROM cpu",
    "SELECT count(distinct(region)) FROM cpu",
    "SELECT count(distinct(free)) FROM mem GROUP BY host",
    "SELECT distinct(region) FROM cpu",
    "SELECT distinct(kind) FROM events",
    "SELECT distinct(cores) FROM cpu GROUP BY region",
    "SELECT top(usage_user, 1) FROM cpu GROUP BY host",
    "SELECT bottom(usage_user, 1) FROM cpu GROUP BY region",
    "SELECT top(cores, 2) FROM cpu",
    "SELECT bottom(free, 1) FROM mem",
    "SELECT top(usage_user, 5) FROM cpu WHERE time < '2016-01-01T00:05:00Z'",
    f"SELECT mean(usage_user) FROM cpu WHERE {_HALF} GROUP BY time(5m) fill(none)",
    f"SELECT mean(usage_user) FROM cpu WHERE {_HALF} GROUP BY time(7m)",
    "SELECT mean(usage_user) FROM cpu WHERE time >= '2016-01-01T00:03:00Z' AND "
    "time < '2016-01-01T00:30:00Z' GROUP BY time(10m)",
    f"SELECT count(usage_user) FROM cpu WHERE {_HALF} GROUP BY time(1h)",
    f"SELECT sum(cores) FROM cpu WHERE {_HALF} GROUP BY time(10m), region",
    f"SELECT max(usage_user), min(usage_user) FROM cpu WHERE {_HALF} GROUP BY time(10m)",
    f"SELECT first(usage_user) FROM cpu WHERE {_HALF} GROUP BY time(10m)",
    f"SELECT last(usage_user) FROM cpu WHERE {_HALF} GROUP BY time(10m), host",
    f"SELECT spread(usage_user) FROM cpu WHERE {_HALF} GROUP BY time(10m)",
    f"SELECT median(usage_user) FROM cpu WHERE {_HALF} GROUP BY time(10m)",
    f"SELECT stddev(usage_user) FROM cpu WHERE {_HALF} GROUP BY time(10m)",
    f"SELECT percentile(usage_user, 90) FROM cpu WHERE {_HALF} GROUP BY time(10m)",
    f"SELECT count(distinct(host)) FROM cpu WHERE {_HALF} GROUP BY time(10m)",
    f"SELECT mean(free) FROM mem WHERE {_HOUR} GROUP BY time(10m), host fill(previous)",
    f"SELECT mean(free) FROM mem WHERE {_HOUR} GROUP BY time(10m), host fill(linear)",
    f"SELECT mean(free) FROM mem WHERE {_HOUR} GROUP BY time(10m) fill(-1)",
    f"SELECT count(free) FROM mem WHERE {_HOUR} GROUP BY time(10m) fill(null)",
    f"SELECT mean(free) FROM mem WHERE {_HOUR} GROUP BY time(10m) fill(1.5)",
    f"SELECT max(free) FROM mem WHERE {_HOUR} GROUP BY time(10m) ORDER BY time DESC LIMIT 3",
    f"SELECT max(free) FROM mem WHERE {_HOUR} GROUP BY time(10m) LIMIT 2 OFFSET 1",
    f"SELECT mean(usage_user) FROM cpu WHERE {_HALF} GROUP BY time(10m), host SLIMIT 2",
    f"SELECT mean(usage_user) FROM cpu WHERE {_HALF} GROUP BY time(10m), * SLIMIT 1 SOFFSET 2",
    f"SELECT mean(usage_user) FROM cpu WHERE host = 'h1' AND {_HALF} GROUP BY time(10m)",
    f"SELECT mean(usage_user) FROM cpu WHERE usage_user > 50 AND {_HALF} GROUP BY time(10m)",
    f"SELECT mean(usage_user) FROM cpu WHERE {_HALF} GROUP BY time(10m, -2m)",
    f"SELECT mean(usage_user) FROM cpu WHERE {_HALF} GROUP BY time(1m) LIMIT 3",
    "SELECT count(usage_user) FROM cpu WHERE time >= '2016-01-01T00:00:00Z' AND "
    "time <= '2016-01-01T00:29:59Z' GROUP BY time(10m)",
    "SELECT mean(usage_user) * 2 FROM cpu",
    "SELECT mean(usage_user) + mean(usage_system) FROM cpu",
    "SELECT sum(free) / count(free) FROM mem GROUP BY host",
    "SELECT max(usage_user) - min(usage_user) AS range FROM cpu GROUP BY host",
    "SELECT mean(usage_user) AS m FROM cpu GROUP BY host",
    "SELECT count(usage_user) AS n, mean(usage_user) AS m FROM cpu",
    "SELECT mean(usage_user), mean(usage_user) FROM cpu",
    "SELECT mean(usage_user) FROM cpu, mem",
    "SELECT mean(free) FROM cpu, mem GROUP BY host",
    "SELECT count(*) FROM /.*/",
    'SELECT count(v) FROM "temp c"',
    'SELECT mean(v) FROM "temp c" GROUP BY room',
    "SELECT * FROM \"temp c\" WHERE room = 'a,b'",
    "SELECT * FROM \"temp c\" WHERE floor = '1'",
    'SELECT v FROM "temp c" ORDER BY time DESC',
    "SELECT derivative(free, 1s) FROM mem WHERE host = 'h1' LIMIT 3",
    "SELECT derivative(usage_user, 1h) FROM cpu WHERE host = 'h3' LIMIT 3",
    "SELECT non_negative_derivative(usage_user) FROM cpu WHERE host = 'h0' LIMIT 5",
    "SELECT non_negative_derivative(usage_user, 1m) FROM cpu GROUP BY host LIMIT 2",
    "SELECT difference(usage_user) FROM cpu WHERE host = 'h0' LIMIT 5",
    "SELECT difference(cores) FROM cpu WHERE host = 'h0' LIMIT 3",
    "SELECT non_negative_difference(free) FROM mem WHERE host = 'h1' LIMIT 3",
    "SELECT cumulative_sum(usage_user) FROM cpu WHERE host = 'h1' LIMIT 5",
    "SELECT cumulative_sum(cores) FROM cpu WHERE host = 'h1' LIMIT 3",
    "SELECT moving_average(free, 2) FROM mem WHERE host = 'h1' LIMIT 4",
    "SELECT moving_average(usage_user, 5) FROM cpu GROUP BY host LIMIT 2",
    "SELECT elapsed(usage_user, 1m) FROM cpu WHERE host = 'h2' LIMIT 3",
    "SELECT elapsed(usage_user) FROM cpu WHERE host = 'h2' LIMIT 2",
    "SELECT derivative(usage_user) FROM cpu WHERE host = 'h1' ORDER BY time DESC LIMIT 3",
    "SELECT difference(usage_user) FROM cpu WHERE host = 'h1' ORDER BY time DESC LIMIT 3",
    f"SELECT derivative(max(free), 10m) FROM mem WHERE {_HOUR} GROUP BY time(10m), host",
    f"SELECT difference(mean(free)) FROM mem WHERE {_HOUR} GROUP BY time(10m)",
    f"SELECT non_negative_difference(mean(free)) FROM mem WHERE {_HOUR} GROUP BY time(10m)",
    f"SELECT moving_average(max(free), 3) FROM mem WHERE {_HOUR} GROUP BY time(10m)",
    f"SELECT cumulative_sum(sum(free)) FROM mem WHERE {_HOUR} GROUP BY time(10m), host",
    f"SELECT elapsed(max(free)) FROM mem WHERE {_HOUR} GROUP BY time(10m)",
    f"SELECT derivative(mean(free)) FROM mem WHERE {_HOUR} GROUP BY time(10m) fill(0)",
    "SELECT mode(free) FROM mem",
    "SELECT mode(region) FROM cpu",
    "SELECT mode(ok) FROM events",
    "SELECT integral(free) FROM mem GROUP BY host",
    "SELECT integral(free, 1s) FROM mem",
    "SELECT integral(used_pct, 1h) FROM mem WHERE host = 'h0'",
    # found by comparing generated statements (see test_generated_statements_like_influxd)
    "SELECT a + b FROM sparse",
    "SELECT a, t FROM sparse WHERE t =~ /x$/",
    "SELECT a, t FROM sparse GROUP BY t",
    "SELECT last(a), t FROM sparse GROUP BY t",
    "SELECT last(free), last(usage_user) FROM cpu, mem GROUP BY host ORDER BY time DESC",
    "SELECT last(free), last(usage_user) FROM cpu, mem GROUP BY host ORDER BY time DESC SLIMIT 3",
    "SELECT ln(free) FROM mem GROUP BY host ORDER BY time DESC",
    f"SELECT mean(b) FROM sparse WHERE {_HALF} GROUP BY time(10m) fill(previous) "
    "ORDER BY time DESC",
    f'SELECT count(v) FROM "temp c" WHERE {_HALF} GROUP BY time(7m) fill(previous) '
    "ORDER BY time DESC",
    f"SELECT count(free) FROM mem WHERE {_HOUR} GROUP BY time(10m) fill(linear)",
    "SELECT difference(free) FROM mem WHERE time < '2016-01-01T00:05:00Z'",
    "SELECT derivative(free, 1s) FROM mem",
    "SELECT first(b), first(b) FROM sparse GROUP BY t ORDER BY time DESC",
    f"SELECT integral(usage_user) FROM cpu WHERE {_HALF}",
    f"SELECT integral(free) FROM mem WHERE {_HALF}",
    'SELECT percentile(v, 5) FROM "temp c"',
    f'SELECT percentile(v, 5) FROM "temp c" WHERE {_HOUR} GROUP BY time(7m)',
    # mode() and integral() by interval and with other aggregates; top(), bottom() and
    # distinct() by interval; each column filled on its own
    f'SELECT mode(v) FROM "temp c" WHERE {_HALF} GROUP BY time(10m)',
    "SELECT mode(used_pct) FROM mem",  # a tie: settled where Go's sort leaves it
    f"SELECT mode(usage_user), count(usage_user) FROM cpu WHERE {_HALF} GROUP BY time(10m)",
    f"SELECT integral(free) FROM mem WHERE {_HALF} GROUP BY time(4m)",
    f"SELECT integral(used_pct, 1m) FROM mem WHERE host = 'h0' AND {_HOUR} "
    "GROUP BY time(90s, 2m) fill(0)",
    f'SELECT integral(v), min(v) FROM "temp c" WHERE {_HALF} GROUP BY room',
    f"SELECT top(free, 3) FROM mem WHERE {_HALF} GROUP BY time(10m), host",
    f"SELECT bottom(free, 2) FROM mem WHERE {_HALF} GROUP BY time(5m) ORDER BY time DESC",
    f"SELECT distinct(used_pct) FROM mem WHERE {_HALF} GROUP BY time(10m) ORDER BY time DESC",
    "SELECT top(free, 3) FROM mem LIMIT 2",
    "SELECT bottom(free, 2) FROM mem WHERE host = 'h1' ORDER BY time DESC",
    f"SELECT sum(a), sum(b) FROM sparse WHERE {_HALF} GROUP BY time(1m) fill(0)",
    f"SELECT count(a), count(b) FROM sparse WHERE {_HALF} GROUP BY time(1m) fill(none)",
    f"SELECT mean(a), last(b) FROM sparse WHERE {_HALF} GROUP BY time(1m) fill(previous)",
    f"SELECT integral(a), integral(b) FROM sparse WHERE {_HALF} GROUP BY time(1m) fill(0)",
    f"SELECT integral(a), integral(b) FROM sparse WHERE {_HALF} GROUP BY time(1m) fill(previous)",
    # a series whose only points lie just before the range, where only transformations look,
    # in a field none of them reads: no series (t=x), fill(0) or not
    f"SELECT difference(count(a)), count(b) FROM sparse WHERE {_SPARSE_TAIL} "
    "GROUP BY time(30s), * fill(0)",
    f"SELECT non_negative_difference(percentile(a, 95)), first(b), moving_average(first(a), 3) "
    f"FROM sparse WHERE {_SPARSE_TAIL} GROUP BY time(30s), * fill(0)",
    f"SELECT difference(count(b)), count(a) FROM sparse WHERE {_SPARSE_TAIL} "
    "GROUP BY time(30s), * fill(0)",  # (t=x's b is there: its series answers)
    # a row only a late transformation makes (under LIMIT, each column limited alone):
    # an expression's cell there is filled as its empty intervals are (0 - 0.5, not 0)
    "SELECT kaufmans_adaptive_moving_average(max(a), 5), max(a) - 0.5 FROM sparse WHERE "
    "time >= 1451606400000ms AND time <= 1451607000000ms GROUP BY time(2m) fill(0) LIMIT 1",
    "SELECT kaufmans_adaptive_moving_average(max(a), 5), max(a) * 2 + count(a) FROM sparse "
    "WHERE time >= 1451606400000ms AND time <= 1451607000000ms GROUP BY time(2m) fill(7) "
    "LIMIT 2",
    # fill(<float>) in a column of integers (a count(), an aggregate of an integer field):
    # truncated toward zero, as influxd's integer iterators take it, also in arithmetic
    # (the first is answered from the points: influxql.lean)
    "SELECT max(free) FROM mem WHERE host = 'h1' AND time >= '2016-01-01T00:00:00Z' AND "
    "time < '2016-01-01T01:30:00Z' GROUP BY time(10m) fill(2.5)",
    "SELECT count(free) + 1 FROM mem WHERE host = 'h1' AND time >= '2016-01-01T00:00:00Z' "
    "AND time < '2016-01-01T01:30:00Z' GROUP BY time(10m) fill(-1.5)",
    "SELECT sum(free), count(used_pct) FROM mem WHERE host = 'h1' AND "
    "time >= '2016-01-01T00:00:00Z' AND time < '2016-01-01T01:30:00Z' GROUP BY time(10m) "
    "fill(-1.5)",
    "SELECT max(free) * 2, mean(free) FROM mem WHERE host = 'h1' AND "
    "time >= '2016-01-01T00:00:00Z' AND time < '2016-01-01T01:30:00Z' GROUP BY time(10m) "
    "fill(2.5)",
    "SELECT count(free) FROM mem WHERE time >= '2016-01-01T00:00:00Z' AND "
    "time < '2016-01-01T01:30:00Z' GROUP BY time(10m), host fill(-1.5)",
    "SELECT percentile(usage_system, 90) FROM cpu",  # equal values: the time Go's sort picks
    "SELECT exp(usage_user) FROM cpu WHERE host = 'h2' LIMIT 3",
    # type casts, GROUP BY * over several measurements, a missing tag's series first, the
    # series a SHOW TAG KEYS … WHERE matches, booleans in arithmetic and comparisons
    "SELECT usage_user::integer, host::string, cores::float FROM cpu WHERE host = 'h1' LIMIT 2",
    "SELECT msg::string, ok::boolean, ok::integer, msg::float FROM events",
    "SELECT usage_user::string FROM cpu",
    "SELECT max(usage_user::integer), mean(cores::float) FROM cpu",
    "SELECT usage_user::integer FROM cpu WHERE usage_user::integer > 90",
    "SELECT max(msg::integer) FROM events",
    "SELECT count(usage_user::string) FROM cpu",
    "SELECT msg FROM events WHERE msg::string = 'disk'",
    f"SELECT sum(usage_user::integer) FROM cpu WHERE {_HALF} GROUP BY time(10m)",
    "SELECT last(usage_user::integer) FROM cpu GROUP BY host",
    "SELECT difference(usage_user::integer) FROM cpu WHERE host = 'h1' LIMIT 3",
    "SELECT free, a, swap FROM /.*/ GROUP BY * LIMIT 1",
    "SELECT count(msg) FROM events GROUP BY svc",
    "SELECT msg FROM events GROUP BY svc",
    "SHOW TAG KEYS FROM cpu WHERE host = 'h1'",
    "SHOW TAG KEYS WHERE kind = 'deploy'",
    "SHOW TAG KEYS FROM /.*/ WHERE kind =~ /1/",
    "SELECT swap FROM mem WHERE swap + 1 > 50",
    "SELECT used_pct FROM mem WHERE free > 1180 OR swap < 5 GROUP BY host",
    "SELECT max(msg) FROM events",
    "SELECT mode(*) FROM cpu, mem",
    "SELECT integral(/u/) FROM cpu",
    f'SELECT count(x) FROM (SELECT v AS x, floor FROM "temp c" WHERE {_HALF}) GROUP BY *',
    # a subquery takes the outer GROUP BY tags and interval; its fill(null) becomes none
    f"SELECT max(v) FROM (SELECT mean(usage_user) AS v FROM cpu GROUP BY host) WHERE {_HALF} "
    "GROUP BY time(10m)",
    f"SELECT max(v) FROM (SELECT mean(usage_user) AS v FROM cpu) WHERE {_HALF} "
    "GROUP BY time(10m), host",
    f"SELECT count(v) FROM (SELECT count(b) AS v FROM sparse WHERE {_HALF} GROUP BY time(5m)) "
    f"WHERE {_HALF} GROUP BY time(10m)",
    f"SELECT sum(v) FROM (SELECT count(cores) AS v FROM cpu WHERE {_HALF} GROUP BY time(5m)) "
    "GROUP BY host",
    f"SELECT mean(v) FROM (SELECT count(b) AS v FROM sparse WHERE {_HALF} GROUP BY time(10m) "
    "fill(0))",
    # a call without a point in a series whose row is there for another call's: filled as
    # fill() says, a count() null under fill(null) (its empty intervals 0 only where it
    # has points); stddev() of one point is null and stays so
    "SELECT count(msg), count(ok) FROM events GROUP BY kind",
    "SELECT count(*) FROM events GROUP BY kind fill(none)",
    "SELECT count(msg), last(ok) FROM events GROUP BY kind fill(7)",
    f"SELECT count(msg), count(ok) FROM events WHERE {_HALF} GROUP BY time(10m), kind",
    f"SELECT count(msg), count(ok) FROM events WHERE {_HALF} GROUP BY time(10m), kind fill(7)",
    f"SELECT mean(usage_user), mean(nosuch), max(region) FROM cpu WHERE {_HALF} GROUP BY host "
    "fill(7)",
    f"SELECT mean(usage_user), count(free) FROM cpu, mem WHERE {_HALF} GROUP BY time(10m), host",
    f"SELECT mean(usage_user), mean(free) FROM cpu, mem WHERE {_HALF} GROUP BY time(10m), host "
    "fill(-1)",
    f"SELECT count(a), stddev(b) FROM sparse WHERE {_HALF} GROUP BY t fill(7)",
    # fill(linear) over a null made of a point (stddev() of one) leaves it and after it null
    f"SELECT stddev(usage_user) FROM cpu WHERE usage_system < 2.5 AND {_HALF} "
    "GROUP BY time(7m, 2m) fill(linear)",
    f"SELECT stddev(usage_user) FROM cpu WHERE usage_system < 2.5 AND {_HALF} "
    "GROUP BY time(7m, 2m) fill(linear) ORDER BY time DESC",
    # fill() other than null over several fields, and no row in the range
    "SELECT max(b), spread(a) FROM sparse WHERE time > '2016-01-01T00:07:30Z' AND "
    "time < '2016-01-01T00:27:10Z' GROUP BY time(15m, 2m) fill(0)",
    # transformations of aggregates beside aggregates, joined by time (a row of each
    # interval the aggregates have, nulls too)
    f"SELECT difference(max(a)), count(b) FROM sparse WHERE {_HALF} GROUP BY time(1m)",
    f"SELECT derivative(mean(usage_user)), mean(usage_user) FROM cpu WHERE {_HALF} "
    "GROUP BY time(5m), host",
    f"SELECT mean(usage_user), non_negative_derivative(max(usage_user), 1m) FROM cpu "
    f"WHERE {_HALF} GROUP BY time(5m) fill(none)",
    f"SELECT moving_average(mean(usage_user), 3), max(usage_user) FROM cpu WHERE {_HALF} "
    "GROUP BY time(5m) ORDER BY time DESC",
    f"SELECT cumulative_sum(count(usage_user)), count(usage_user) FROM cpu WHERE {_HALF} "
    "GROUP BY time(7m) fill(0) LIMIT 2",
    f"SELECT difference(max(a)), mean(b) FROM sparse WHERE {_HALF} GROUP BY time(1m) "
    "fill(previous)",
    f"SELECT difference(max(a)), b FROM sparse WHERE {_HALF} GROUP BY time(1m)",
    # integral() beside other aggregates by time(): an interval where it makes nothing but
    # the others have a point keeps its row (stddev() of one point: null), integral()'s
    # cell filled as fill() says
    "SELECT integral(a, 1s), stddev(b) FROM sparse WHERE time >= '2016-01-01T00:00:00Z' AND "
    "time <= '2016-01-01T01:00:00Z' GROUP BY time(15m, 2m) fill(0)",
    f"SELECT min(a), integral(a, 1m) FROM sparse WHERE {_HALF} GROUP BY time(1m, -1m) fill(-1)",
    f'SELECT integral(v), stddev(v) FROM "temp c" WHERE room =~ /b$/ AND {_HALF} '
    "GROUP BY time(1m) fill(none)",
    # arithmetic over aggregates by time(): fill() fills each call, then the arithmetic
    # (count() + 1024 of an empty interval is 1024); math functions of such arithmetic;
    # one selector in arithmetic keeps its point's time; x / 0 and x % 0 are 0
    f"SELECT count(free) + 1024, mean(free) + 0.5 FROM mem WHERE {_HALF} GROUP BY time(1m)",
    f"SELECT count(free) * 2, max(free) - 8 FROM mem WHERE {_HALF} GROUP BY time(1m) fill(7)",
    f"SELECT sqrt(mean(free)) FROM mem WHERE {_HALF} GROUP BY time(1m), host fill(4)",
    f"SELECT round(mean(free) / 3), abs(max(free) - 2000.5) FROM mem WHERE {_HALF} "
    "GROUP BY time(1m), host fill(previous)",
    "SELECT max(usage_user) - 100, last(usage_user) * 2 FROM cpu GROUP BY host",
    "SELECT abs(max(usage_user) - 100) FROM cpu WHERE time >= '2016-01-01T00:05:00Z'",
    "SELECT free / 0, free % 0, (free - 1000) % 7 FROM mem LIMIT 3",
    "SELECT mean(free) / 0, count(free) % 0 FROM mem GROUP BY host",
    # fill(linear) of a float column whose values are whole draws its line in floats
    f"SELECT count(free) * 2, mean(free) FROM mem WHERE host = 'h0' AND {_HALF} "
    "GROUP BY time(30s) fill(linear)",
    # transformations of booleans and texts refused in influxd's words (elapsed() takes
    # them); of mode(); joined with others, a cell without a value is fill(<number>)'s
    f"SELECT derivative(swap) FROM mem WHERE {_HALF}",
    f"SELECT cumulative_sum(msg) FROM events WHERE {_HALF}",
    f"SELECT difference(last(swap)) FROM mem WHERE {_HALF} GROUP BY time(5m)",
    f"SELECT chande_momentum_oscillator(first(msg), 2) FROM events WHERE {_HALF} GROUP BY time(5m)",
    f"SELECT elapsed(msg) FROM events WHERE {_HALF}",
    f"SELECT derivative(mode(free), 1m), mode(used_pct) FROM mem WHERE {_HALF} "
    "GROUP BY time(2m) fill(0)",
    f"SELECT non_negative_difference(mean(free)), difference(max(used_pct)) FROM mem "
    f"WHERE {_HALF} GROUP BY time(1m) fill(0)",
    # beside a transformation that reads intervals before the range, the aggregates read
    # from the range's start (first(used_pct) of the partial first hour)
    "SELECT first(used_pct), moving_average(max(free), 2) FROM mem WHERE host = 'h0' AND "
    "time >= '2016-01-01T00:05:00Z' AND time <= '2016-01-01T01:00:00Z' GROUP BY time(1h)",
    "SELECT sum(free), non_negative_difference(sum(used_pct)) FROM mem WHERE "
    "time >= '2016-01-01T00:05:00Z' AND time <= '2016-01-01T00:12:00Z' GROUP BY time(10m), "
    "host fill(previous)",
    # spread() in arithmetic (max - min, in parentheses); fill(linear) of integers between
    # points, each truncated
    f"SELECT spread(a) * 1024, sum(b) FROM sparse WHERE {_HALF} GROUP BY time(7m)",
    "SELECT count(cores) FROM cpu WHERE time >= '2016-01-01T00:05:00Z' AND "
    "time <= '2016-01-01T00:12:00Z' GROUP BY time(10s) fill(linear)",
    # arithmetic of booleans, texts and tags refused in influxd's words (innermost first,
    # fields named with their types); a math function of them is null; a cast to a type
    # the field cannot be holds no value
    "SELECT swap + 1 FROM mem",
    "SELECT -swap FROM mem",
    "SELECT sum(swap) + 0.5 FROM mem",
    "SELECT max(free) - first(swap) FROM mem",
    "SELECT first(msg) + 'a' FROM events",
    "SELECT (free + 1) * (swap - 2) FROM mem",
    "SELECT free + host FROM mem LIMIT 2",
    "SELECT mode(swap) * 8 FROM mem",
    "SELECT sqrt(swap), abs(first(swap)) FROM mem",
    "SELECT swap::integer + 1 FROM mem LIMIT 2",
    "SELECT swap::integer + free FROM mem LIMIT 2",
    # arithmetic of mode() (fill() fills it first); every field's types checked before
    # any other error; no line of fill(linear) between booleans; a series whose points lie
    # only before the range (read for a transformation's look back) answers nothing
    f"SELECT mode(b) * 8, mode(a) - 0.5 FROM sparse WHERE {_HALF} GROUP BY time(10m), t",
    f"SELECT mode(used_pct) / 8 FROM mem WHERE {_HALF} GROUP BY time(5m) fill(7)",
    "SELECT spread(swap), spread(swap) - 2 FROM mem",
    f"SELECT mean(free), mode(swap) FROM mem WHERE host = 'h1' AND {_HALF} "
    "GROUP BY time(30s) fill(linear)",
    "SELECT mode(b) * 8, min(a), relative_strength_index(min(b), 5) FROM sparse WHERE "
    "time >= '2016-01-01T00:01:30Z' AND time <= '2016-01-01T01:00:00Z' GROUP BY time(10m), t "
    "fill(linear)",
    # a subquery reads within the outer time range too, and its rows count in the outer
    # interval holding them though timed before the outer range (an inner interval's start)
    "SELECT max(v) FROM (SELECT max(usage_user) AS v FROM cpu WHERE "
    "time > '2016-01-01T00:07:30Z' AND time < '2016-01-01T00:27:10Z' GROUP BY time(1m)) "
    "WHERE time >= '2016-01-01T00:05:00Z' AND time <= '2016-01-01T00:20:00Z' GROUP BY time(10m)",
    "SELECT count(v) FROM (SELECT min(free) AS v FROM mem WHERE "
    "time >= '2016-01-01T00:00:00Z' AND time < '2016-01-01T00:30:00Z' GROUP BY time(5m)) "
    "WHERE time > '2016-01-01T00:07:30Z' AND time < '2016-01-01T00:27:10Z' GROUP BY time(5m)",
    "SELECT first(v) FROM (SELECT mean(free) AS v FROM mem WHERE "
    "time > '2016-01-01T00:07:30Z' AND time < '2016-01-01T00:27:10Z' GROUP BY time(5m), *) "
    "WHERE time > '2016-01-01T00:07:30Z' AND time < '2016-01-01T00:27:10Z' "
    "GROUP BY time(10m), host",
    # each transformation reads back as far as it needs alone
    'SELECT derivative(spread("used_pct"), 10s), cumulative_sum(last("free")) FROM "mem" '
    "WHERE \"host\" = 'h1' AND time >= 1451606460000ms and time <= 1451610060000ms "
    "GROUP BY time(1m), * fill(none)",
    # stddev() of one point is NaN (written null): a point still, for count() of it, for
    # mean() and sum() over it, and for a transformation's values from it
    f"SELECT stddev(usage_system) FROM cpu WHERE host = 'h1' AND {_HALF} GROUP BY time(1m)",
    f"SELECT count(s), mean(s), sum(s), first(s) FROM (SELECT stddev(usage_system) AS s "
    f"FROM cpu WHERE host = 'h1' AND {_HALF} GROUP BY time(1m))",
    f'SELECT s FROM (SELECT stddev(v) AS s FROM "temp c" WHERE {_HALF} GROUP BY time(5m))',
    f"SELECT difference(stddev(usage_system)), cumulative_sum(stddev(usage_system)) FROM cpu "
    f"WHERE host = 'h1' AND {_HALF} GROUP BY time(1m)",
    f"SELECT stddev(a) FROM sparse WHERE {_HALF} GROUP BY time(1m) fill(linear)",
    # each row of a subquery's answer is a point: a raw row shows though the fields
    # selected are null there
    "SELECT b FROM (SELECT b, a FROM sparse)",
    f"SELECT a * 2 FROM (SELECT a, b FROM sparse WHERE {_HALF}) LIMIT 3",
    # a field of the measurement with no value in the inner answer is a column still
    "SELECT * FROM (SELECT b, a FROM sparse WHERE t = 'x' AND a < 2.5)",
    "SELECT b FROM (SELECT b, a FROM sparse WHERE t = 'x' AND a < 2.5)",
    # moving_average(…, N) of an aggregate reads one interval before the range, not N - 1
    "SELECT moving_average(mean(usage_user), 3) FROM cpu WHERE "
    "time >= '2016-01-01T00:05:00Z' AND time < '2016-01-01T00:20:00Z' GROUP BY time(1m)",
    "SELECT moving_average(max(usage_user), 5) FROM cpu WHERE "
    "time >= '2016-01-01T00:05:00Z' AND time < '2016-01-01T00:20:00Z' GROUP BY time(1m), host "
    "fill(0)",
    "SELECT moving_average(sum(cores), 4) FROM cpu WHERE time >= '2016-01-01T00:05:00Z' AND "
    "time < '2016-01-01T00:20:00Z' GROUP BY time(2m) fill(previous) ORDER BY time DESC",
    # joined with other columns under fill(previous), a transformation's cell without a
    # value is its value before
    "SELECT last(usage_system), non_negative_derivative(last(usage_system), 10s) FROM cpu "
    "WHERE time >= '2016-01-01T00:01:30Z' AND time <= '2016-01-01T00:11:30Z' "
    "GROUP BY time(30s) fill(previous)",
    # relative_strength_index() of no rise nor fall is NaN (null), as Go divides 0 by 0
    f"SELECT relative_strength_index(spread(cores), 2) FROM cpu WHERE host = 'h3' AND {_HALF} "
    "GROUP BY time(7m)",
    # whole floats past 2**53 in Go's digits (1054923577702081400, not …408); past 2**63
    # (up to 1e21) Edge writes 2.1188706471076393e+19 where influxd writes the digits of
    # the same float, 21188706471076393000: not asked here
    "SELECT exp(usage_user) FROM cpu WHERE host = 'h2' AND time > '2016-01-01T00:07:30Z' "
    "AND time < '2016-01-01T00:09:30Z' GROUP BY region",
    # SHOW MEASUREMENTS' WHERE names measurements, not series: != and !~ name those holding
    # the tag key with no value matching, AND and OR intersect and join
    "SHOW MEASUREMENTS WHERE host != 'h1'",
    "SHOW MEASUREMENTS WHERE host != 'h9'",
    "SHOW MEASUREMENTS WHERE host !~ /^h0$/",
    "SHOW MEASUREMENTS WHERE host = ''",
    "SHOW MEASUREMENTS WHERE host = 'h1' AND region = 'us'",
    "SHOW MEASUREMENTS WHERE (host = 'h0' AND region = 'eu') OR t = 'y'",
    "SHOW MEASUREMENTS WHERE _name =~ /m/ AND host = 'h1'",
    "SHOW MEASUREMENTS WITH MEASUREMENT = cpu WHERE region !~ /^eu$/",
    "SHOW MEASUREMENTS WHERE time > 0",
    "SHOW MEASUREMENTS WHERE usage_user > 1",
    "SHOW MEASUREMENTS WHERE host = h1",
    "SHOW MEASUREMENTS WHERE 'h1' = host",
    "SHOW MEASUREMENTS WHERE host",
    # LIMIT and OFFSET page each measurement's field and tag keys; an empty page is no series
    "SHOW FIELD KEYS LIMIT 2 OFFSET 1",
    "SHOW FIELD KEYS FROM cpu LIMIT 1",
    "SHOW TAG KEYS LIMIT 1 OFFSET 1",
    # the cardinalities under WHERE: of what the SHOW statement answers; none is no series
    "SHOW MEASUREMENT CARDINALITY WHERE region = 'eu' AND region = 'us'",
    "SHOW TAG KEY CARDINALITY WHERE t = 'x'",
    "SHOW TAG KEY EXACT CARDINALITY FROM events WHERE host = 'h0' OR region = 'us'",
    "SHOW FIELD KEY CARDINALITY WHERE host = 'h1'",
    "SHOW FIELD KEY CARDINALITY WHERE nosuch = 'x'",
    "SHOW TAG VALUES CARDINALITY FROM cpu WITH KEY = host WHERE host = 'h1'",
    # … where a comparison of a tag holds only for series that have the tag
    "SHOW TAG VALUES CARDINALITY WITH KEY = kind WHERE svc != 'api'",
    "SHOW TAG VALUES CARDINALITY WITH KEY = region WHERE nosuch != 'x' OR region = 'eu'",
    "SHOW TAG VALUES CARDINALITY WITH KEY = kind WHERE svc = ''",
    # found by the explore family of statements with a mistake each (mistakes): a text
    # compared with time that is no time is refused when the statement runs, in influxd's
    # words (the other statements are answered); Go reads an hour of one digit
    "SELECT a FROM sparse WHERE time > '2016-13-01'",
    "SELECT a FROM sparse WHERE time > '2016-02-30T00:00:00Z'",
    "SELECT a FROM sparse WHERE time < '201601-01T00:20:00Z'",
    "SELECT a FROM sparse WHERE time < '2016-01-01T0:20:00Z'",
    # a WHERE term that is no comparison, checked before GROUP BY and the fields
    "SELECT a FROM sparse WHERE 5",
    "SELECT a FROM sparse WHERE 'x'",
    "SELECT a FROM sparse WHERE b > 10 OR a",
    'SELECT derivative(mean(v)) FROM "temp c" WHERE time',
    "SHOW FIELD KEY CARDINALITY WHERE svc",
    "SHOW TAG KEYS WHERE host",
    # texts and tags compare by = and != only; a name compared with a duration: no row
    "SELECT a FROM sparse WHERE t < 'z'",
    "SELECT a FROM sparse WHERE t >= 'a'",
    "SELECT msg FROM events WHERE msg > 'a'",
    "SELECT a FROM sparse WHERE tme >= '2016-01-01T00:00:00Z'",
    "SELECT a FROM sparse WHERE a < 2ms",
    f"SELECT min(b) FROM sparse WHERE tie <= 1451607060000ms AND {_HALF}",
    # GROUP BY checked with the statement (an error of it, not of parsing)
    f"SELECT sum(a) FROM sparse WHERE {_HALF} GROUP BY time(2m), time(2m)",
    "SELECT a FROM sparse GROUP BY fill(previous)",
    "SELECT a FROM sparse GROUP BY a + 1",
    "SELECT a FROM sparse GROUP BY time",
    # each function's arguments, as influxd counts and checks them
    "SELECT mean(usage_user, 2) FROM cpu",
    "SELECT count() FROM cpu",
    "SELECT ount(a) FROM sparse",
    "SELECT derivative(usage_user, 2) FROM cpu",
    "SELECT derivative(usage_user, -1s) FROM cpu",
    "SELECT elapsed(usage_user, 0s) FROM cpu",
    "SELECT elapsed(usage_user, 1s, 2) FROM cpu",
    "SELECT integral(usage_user, 0s) FROM cpu",
    "SELECT moving_average(usage_user, 1) FROM cpu",
    "SELECT moving_average(usage_user, 'a') FROM cpu",
    "SELECT difference(usage_user, 1) FROM cpu",
    "SELECT exponential_moving_average(usage_user, 2.5) FROM cpu",
    "SELECT exponential_moving_average(usage_user, 2, 'x') FROM cpu",
    "SELECT kaufmans_efficiency_ratio(usage_user, 2, 0, 1) FROM cpu",
    "SELECT count(distinct(usage_user, 2)) FROM cpu",
    "SELECT top(mean(usage_user), 2) FROM cpu",
    "SELECT top(usage_user, 2, 3) FROM cpu",
    "SELECT top(usage_user, 2.5) FROM cpu",
    "SELECT sqrt(usage_user, 2) FROM cpu",
    "SELECT pow(usage_user) FROM cpu",
    # each field reads a name, and one is not time; now() in a field is no function
    "SELECT 2 FROM sparse",
    "SELECT a, 2 FROM sparse",
    "SELECT 2, mean(a, 3) FROM sparse",
    "SELECT time FROM sparse",
    "SELECT time, 2 FROM sparse",
    "SELECT now(), a FROM sparse",
    # compiled, every field, before the types of any (a boolean's mean() refused last)
    "SELECT mean(swap), derivative(stddev(swap), 1s) FROM mem",
    "SELECT min(swap) * 0.5, mi(swap) FROM mem",
    # GROUP BY time() of no time groups by no time; of a negative one, raw rows refused
    "SELECT a FROM sparse GROUP BY time(0m)",
    f"SELECT sum(b) FROM sparse WHERE {_HALF} GROUP BY time(-1m)",
    "SELECT sum(b) FROM sparse GROUP BY time(0s)",
    "SELECT a FROM sparse GROUP BY time(-1s)",
    # SHOW SERIES EXACT is SHOW SERIES; a FROM naming a database there is not
    "SHOW SERIES EXACT",
    "SHOW SERIES FROM nosuch..cpu",
    "SHOW FIELD KEYS FROM nosuch..cpu",
    "SHOW TAG KEY CARDINALITY FROM nosuch..cpu",
    "SHOW SERIES EXACT CARDINALITY FROM nosuch..cpu",
    "SHOW TAG KEYS FROM nosuch..mem",
    # millions of intervals (an epoch mistyped) under LIMIT: only those kept are made
    "SELECT min(a) FROM sparse WHERE time >= 145160640000ms AND time <= 1451610000000ms "
    "GROUP BY time(10s), t fill(null) LIMIT 3",
    "SELECT min(a) FROM sparse WHERE time >= 145160640000ms AND time <= 1451610000000ms "
    "GROUP BY time(10s), t fill(previous) ORDER BY time DESC LIMIT 4 OFFSET 2",
    "SELECT count(a) FROM sparse WHERE time >= 145160640000ms AND time <= 1451610000000ms "
    "GROUP BY time(1m) LIMIT 2 OFFSET 1",
    f"SELECT max(usage_user), count(cores) FROM cpu WHERE {_HALF} GROUP BY time(1m), host "
    "fill(previous) ORDER BY time DESC LIMIT 3 OFFSET 1",
    f"SELECT mean(a) FROM sparse WHERE {_HALF} GROUP BY time(1m) fill(7) LIMIT 5",
    # the fields compiled before anything is read: a subquery answering nothing, a
    # measurement that is not there
    f'SELECT ast(x) FROM (SELECT usage_user AS x, room FROM "temp c" WHERE {_HALF})',
    "SELECT mean(a, 2) FROM nosuch",
    "SELECT 2 FROM nosuch",
    # cumulative_sum() beside a transformation that reads an interval before the range:
    # its aggregate is over the range asked, its sum of the range only
    "SELECT derivative(mean(usage_system)), cumulative_sum(stddev(usage_user)) FROM cpu "
    "WHERE region = 'eu' AND time >= 1451606460000ms AND time <= 1451606880000ms "
    "GROUP BY time(1h) fill(null) ORDER BY time DESC",
    "SELECT chande_momentum_oscillator(percentile(usage_system, 95), 3), "
    "cumulative_sum(stddev(usage_user)) FROM cpu WHERE region = 'eu' AND "
    "time >= 1451606460000ms AND time <= 1451606880000ms GROUP BY time(1h) fill(null)",
    "SELECT moving_average(mean(usage_system), 2), cumulative_sum(mean(usage_user)) FROM cpu "
    "WHERE time >= '2016-01-01T00:03:00Z' AND time <= '2016-01-01T00:20:00Z' GROUP BY time(5m)",
    "SELECT difference(mean(usage_system)), cumulative_sum(max(usage_user)), max(usage_user) "
    "FROM cpu WHERE time >= '2016-01-01T00:03:00Z' AND time <= '2016-01-01T00:20:00Z' "
    "GROUP BY time(5m), host ORDER BY time DESC LIMIT 2",
    # GROUP BY time() of duration arithmetic, worked out as influxd reduces it
    *(
        f"SELECT sum(free), max(free) FROM mem WHERE time >= 1451606400s AND "
        f"time < 1451608200s GROUP BY time({every})"
        for every in (
            "1h -1m",
            "10m - 1m",
            "(10m + 1m), 1m + 1m",
            "5m * 2",
            "2 * 5m",
            "10m * 1.5",
            "10m / 3",
            "10m / 0",
            "1m - 10m",
        )
    ),
]


@pytest.fixture(scope="module")
def servers(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, EdgeServer]]:
    with (
        run_influxd(tmp_path_factory.mktemp("influxd")) as influxd,
        run_edge(tmp_path_factory.mktemp("edge") / "data") as edge,
    ):
        for base in (influxd, edge.url):
            r = http.post(f"{base}/query", data={"q": f"CREATE DATABASE {DB}"})
            assert r.status_code == 200, r.text
            r = http.post(
                f"{base}/write", params={"db": DB, "precision": "s"}, content="\n".join(LINES)
            )
            assert r.status_code == 204, (base, r.text)
        yield influxd, edge


def _norm(value: Any) -> Any:
    if isinstance(value, float) and math.isfinite(value) and value == int(value):
        return int(value)
    if isinstance(value, float):
        return round(value, 9)
    if isinstance(value, list):
        return [_norm(v) for v in value]
    if isinstance(value, dict):
        return {k: _norm(v) for k, v in value.items()}
    return value


def _load(servers: tuple[str, EdgeServer], db: str, lines: list[str]) -> None:
    """A database of a test's own on both servers, holding ``lines``."""
    for base in (servers[0], servers[1].url):
        assert http.post(f"{base}/query", data={"q": f"CREATE DATABASE {db}"}).status_code == 200
        body = "\n".join(lines)
        r = http.post(f"{base}/write", params={"db": db, "precision": "s"}, content=body)
        assert r.status_code == 204, (base, r.text)


def _same_over_get(servers: tuple[str, EdgeServer], db: str, queries: list[str], key: str) -> int:
    """Each query sent with GET to both: the same answers. Returns how many had ``key``."""
    having = 0
    for q in queries:
        theirs = http.get(f"{servers[0]}/query", params={"db": db, "q": q}, timeout=60).json()
        # (Edge's holt_winters() fits in Python: seconds where influxd takes 0.2 s)
        ours = http.get(f"{servers[1].url}/query", params={"db": db, "q": q}, timeout=60).json()
        assert _norm(ours) == _norm(theirs), q
        having += key in theirs["results"][0]
    return having


def _ask(base: str, q: str, **params: str) -> tuple[int, Any]:
    r = http.get(f"{base}/query", params={"db": DB, "q": q, **params}, timeout=60)
    return r.status_code, _norm(r.json())


def _same(ours: Any, theirs: Any) -> bool:
    """Equal answers, floats within 1e-9 relative (Go's and Rust's exp(), for one, may
    differ in the last digit)."""
    if isinstance(ours, float) or isinstance(theirs, float):
        both = isinstance(ours, int | float) and isinstance(theirs, int | float)
        return both and math.isclose(ours, theirs, rel_tol=1e-9, abs_tol=1e-12)
    if isinstance(ours, list) and isinstance(theirs, list):
        return len(ours) == len(theirs) and all(map(_same, ours, theirs))
    if isinstance(ours, dict) and isinstance(theirs, dict):
        return ours.keys() == theirs.keys() and all(_same(ours[k], theirs[k]) for k in ours)
    return bool(ours == theirs)


GENERATED = [
    *generated.statements(1, 400),
    *generated.statements(2, 400),
    *generated.shapes(1, 400),
    *generated.selectors(1, 150),
]


def test_generated_statements_like_influxd(servers: tuple[str, EdgeServer]) -> None:
    """1,350 statements made at random from fixed seeds (tests/compat/generated.py, which
    lists what it leaves out and why), each answer equal to influxd's."""
    influxd, edge = servers
    differ = []
    for q in GENERATED:
        r = http.get(f"{influxd}/query", params={"db": DB, "q": q}, timeout=60)
        if r.text.startswith("json: "):
            # influxd 1.6.7 fails to write -Inf (log of 0) and answers this text instead
            assert _ask(edge.url, q)[0] == 200, q
            continue
        if r.json()["results"][0].get("statement_id") == -1:
            # influxd 1.6.7 panicked (mean() of a boolean over several measurements)
            assert "error" in _ask(edge.url, q)[1]["results"][0], q
            continue
        mine = http.get(f"{edge.url}/query", params={"db": DB, "q": q}, timeout=60)
        same = mine.status_code == r.status_code and _same(mine.json(), r.json())
        if not same:
            differ.append(q)
    assert not differ, f"{len(differ)} of {len(GENERATED)} differ, e.g. {differ[:3]}"


@pytest.mark.parametrize("q", QUERIES)
def test_same_answer_as_influxd(servers: tuple[str, EdgeServer], q: str) -> None:
    influxd, edge = servers
    theirs = _ask(influxd, q)
    ours = _ask(edge.url, q)
    if q in ALLOWED:
        assert ours[0] == 200 and "error" not in str(ours[1])
        return
    if q in UNORDERED:
        ours, theirs = _sorted_series(ours), _sorted_series(theirs)
    assert ours[0] == theirs[0] and _same(ours[1], theirs[1]), (ours, theirs)


def test_a_long_or_is_answered(servers: tuple[str, EdgeServer]) -> None:
    """A WHERE of hundreds of ORs (a script's list of hosts): Edge's SQL had nested a pair of
    parentheses a term deep, which DataFusion refuses past 50."""
    influxd, edge = servers
    hosts = " OR ".join(f"host = 'h{i}'" for i in range(1, 400, 2))
    for q in (
        f"SELECT usage_user FROM cpu WHERE ({hosts}) AND {_HALF}",
        f"SHOW TAG VALUES WITH KEY = region WHERE {hosts}",
        f"SELECT count(free) FROM mem WHERE {hosts} OR free > 1100",
    ):
        theirs, ours = _ask(influxd, q), _ask(edge.url, q)
        assert ours[0] == theirs[0] == 200 and "series" in str(ours[1])
        assert _same(ours[1], theirs[1])


def test_statements_after_an_error_are_not_run(servers: tuple[str, EdgeServer]) -> None:
    """influxd stops at a statement's error: those after it are not run, nor answered.
    (1.6.7 answers "not executed" in place of the error of a statement others follow, and
    the error itself when it is the last: Edge answers the error.)"""
    influxd, edge = servers
    failing = "SELECT a FROM sparse WHERE time > '2016-13-01'"
    for q in (
        f"SHOW DATABASES; {failing}; CREATE DATABASE after_error; SHOW DATABASES",
        f"{failing}; SELECT a FROM sparse LIMIT 1",
        f"SELECT a FROM sparse LIMIT 1; {failing}",
    ):
        (s1, theirs), (s2, ours) = _ask(influxd, q), _ask(edge.url, q)
        assert s1 == s2 == 200
        last = theirs["results"][-1]
        if last.get("error") == "not executed":
            last["error"] = "invalid timestamp string"
        assert _same(ours, theirs), (q, ours, theirs)
    for base in (influxd, edge.url):
        _, shown = _ask(base, "SHOW DATABASES")
        assert ["after_error"] not in shown["results"][0]["series"][0]["values"]


def _series_key(series: dict[str, Any]) -> tuple[str, list[tuple[str, str]]]:
    return series.get("name", ""), sorted(series.get("tags", {}).items())


def _sorted_series(answer: tuple[int, Any]) -> tuple[int, Any]:
    status, doc = answer
    for r in doc.get("results", []):
        r.get("series", []).sort(
            key=lambda s: (s.get("name", ""), sorted(s.get("tags", {}).items()))
        )
    return status, doc


@pytest.mark.parametrize("epoch", ["ns", "u", "ms", "s", "m", "h"])
def test_epoch_matches(servers: tuple[str, EdgeServer], epoch: str) -> None:
    influxd, edge = servers
    q = "SELECT usage_user FROM cpu WHERE host = 'h1' LIMIT 3"
    assert _ask(edge.url, q, epoch=epoch) == _ask(influxd, q, epoch=epoch)


def test_parse_errors_are_400_like_influxd(servers: tuple[str, EdgeServer]) -> None:
    influxd, edge = servers
    for q in ["SELEC * FROM cpu", "SELECT * FROM", "SELECT * FROM cpu WHERE"]:
        theirs = http.get(f"{influxd}/query", params={"db": DB, "q": q})
        ours = http.get(f"{edge.url}/query", params={"db": DB, "q": q})
        assert ours.status_code == theirs.status_code == 400
        assert ours.json()["error"].startswith("error parsing query:")


def test_csv_output(servers: tuple[str, EdgeServer]) -> None:
    influxd, edge = servers
    q = "SELECT usage_user FROM cpu WHERE host = 'h1' LIMIT 2"
    headers = {"Accept": "application/csv"}
    theirs = http.get(f"{influxd}/query", params={"db": DB, "q": q, "epoch": "ns"}, headers=headers)
    ours = http.get(f"{edge.url}/query", params={"db": DB, "q": q, "epoch": "ns"}, headers=headers)
    assert ours.text.splitlines() == theirs.text.splitlines()


@pytest.mark.parametrize("pretty", ["false", "true"])
@pytest.mark.parametrize("chunked", ["false", "true"])
def test_json_bytes_like_influxd(
    servers: tuple[str, EdgeServer], pretty: str, chunked: str
) -> None:
    """The JSON text itself, not only what it parses to: key order (a series' tags after
    its name), four-space pretty printing, a line break at the end (values chosen with no
    character Go escapes and no float Go writes with another exponent)."""
    influxd, edge = servers
    for q in (
        "SELECT last(usage_user) FROM cpu GROUP BY host",
        "SELECT usage_user FROM cpu WHERE host = 'h1' LIMIT 2; SHOW TAG KEYS FROM mem",
        "SELECT * FROM nope",
    ):
        params = {"db": DB, "q": q, "pretty": pretty, "chunked": chunked, "chunk_size": "1"}
        theirs = http.get(f"{influxd}/query", params=params).content
        ours = http.get(f"{edge.url}/query", params=params).content
        assert ours == theirs, q


def _same_csv(ours: str, theirs: str) -> bool:
    """Equal CSV answers, numbers within 1e-9 relative."""

    def cells(text: str) -> list[list[str]]:
        return list(csv.reader(io.StringIO(text)))

    def close(a: str, b: str) -> bool:
        if a == b:
            return True
        try:
            return math.isclose(float(a), float(b), rel_tol=1e-9, abs_tol=1e-12)
        except ValueError:
            return False

    mine, yours = cells(ours), cells(theirs)
    return len(mine) == len(yours) and all(
        len(a) == len(b) and all(map(close, a, b)) for a, b in zip(mine, yours, strict=True)
    )


def test_csv_answers_like_influxd(servers: tuple[str, EdgeServer]) -> None:
    """Accept: application/csv over generated statements: times in nanoseconds (zone or
    not), floats as Go writes them, tags escaped, a missing tag left out, text/csv, and a
    request error in CSV too. influxd 1.6.7 writes nothing for a statement's error; Edge
    writes it (``error`` and the message)."""
    influxd, edge = servers
    headers = {"Accept": "application/csv"}
    for q in [*GENERATED[::6], "SELEC x"]:
        params = {"db": DB, "q": q}
        theirs = http.get(f"{influxd}/query", params=params, headers=headers, timeout=60)
        if "panic" in theirs.text:
            continue  # (see test_generated_statements_like_influxd)
        ours = http.get(f"{edge.url}/query", params=params, headers=headers, timeout=60)
        assert ours.status_code == theirs.status_code, q
        assert ours.headers["content-type"].startswith("text/csv"), q
        if theirs.text == "" and ours.text.startswith("error\n"):
            continue
        assert _same_csv(ours.text, theirs.text), (q, ours.text[:200], theirs.text[:200])


_CHUNKED_SHOWS = [
    "SHOW DATABASES",
    "SHOW RETENTION POLICIES",
    "SHOW MEASUREMENTS",
    "SHOW MEASUREMENTS LIMIT 3",
    "SHOW TAG KEYS",
    "SHOW TAG VALUES WITH KEY = host",
    "SHOW TAG VALUES FROM cpu WITH KEY = host WHERE host != 'x'",
    "SHOW FIELD KEYS",
    "SHOW SERIES",
    "SHOW SERIES EXACT CARDINALITY",
    "SHOW TAG VALUES CARDINALITY WITH KEY = host",
    "SHOW FIELD KEY CARDINALITY",
    "SHOW USERS",
    "SHOW CONTINUOUS QUERIES",
    "SHOW SUBSCRIPTIONS",
]


def test_chunked_answers_like_influxd(servers: tuple[str, EdgeServer]) -> None:
    """chunked=true (the influx CLI asks so) as influxd cuts it: SELECT, SHOW SERIES, SHOW
    FIELD KEYS and the cardinalities in chunks of rows; the other SHOW statements a series
    a message, whole (SHOW USERS of none used to fail the request)."""
    influxd, edge = servers
    for q in [*_CHUNKED_SHOWS, *GENERATED[::12]]:
        params = {"db": DB, "q": q, "chunked": "true", "chunk_size": "2"}
        theirs = http.get(f"{influxd}/query", params=params, timeout=60)
        if theirs.text.startswith("json: ") or '"statement_id":-1' in theirs.text:
            continue  # (see test_generated_statements_like_influxd)
        ours = http.get(f"{edge.url}/query", params=params, timeout=60)
        mine = [json.loads(line) for line in ours.text.splitlines()]
        assert ours.status_code == theirs.status_code, q
        assert _same(mine, [json.loads(line) for line in theirs.text.splitlines()]), q


_ON_NO_DATABASE = [
    "SHOW MEASUREMENTS",
    "SHOW SERIES",
    "SHOW TAG KEYS",
    "SHOW FIELD KEYS",
    "SHOW TAG VALUES WITH KEY = a",
    "SHOW SERIES CARDINALITY",
    "SHOW MEASUREMENT CARDINALITY",
    "SHOW SERIES EXACT CARDINALITY",
    "SHOW MEASUREMENT EXACT CARDINALITY",
    "SHOW TAG KEY CARDINALITY",
    "SHOW FIELD KEY CARDINALITY",
    "SHOW RETENTION POLICIES",
    "SELECT * FROM m",
    "DELETE FROM m",
    "DROP MEASUREMENT m",
    "DROP SERIES FROM m",
]


@pytest.mark.parametrize("q", _ON_NO_DATABASE)
def test_statements_on_a_database_that_does_not_exist(
    servers: tuple[str, EdgeServer], q: str
) -> None:
    """influxd's answers, some of them an error and some not (SHOW MEASUREMENTS is empty)."""
    influxd, edge = servers
    theirs = http.post(f"{influxd}/query", data={"db": "nosuchdb", "q": q}).json()
    ours = http.post(f"{edge.url}/query", data={"db": "nosuchdb", "q": q}).json()
    assert ours == theirs


def test_missing_query_and_unknown_db(servers: tuple[str, EdgeServer]) -> None:
    influxd, edge = servers
    for base in (influxd, edge.url):
        assert http.get(f"{base}/query", params={"db": DB}).status_code == 400
    q = "SELECT * FROM cpu"
    theirs = http.get(f"{influxd}/query", params={"db": "nodb", "q": q}).json()
    ours = http.get(f"{edge.url}/query", params={"db": "nodb", "q": q}).json()
    assert ours == theirs


def test_drop_measurement_and_database_like_influxd(servers: tuple[str, EdgeServer]) -> None:
    influxd, edge = servers
    for base in (influxd, edge.url):
        r = http.post(f"{base}/query", data={"q": "CREATE DATABASE dropme"})
        assert r.status_code == 200
        r = http.post(
            f"{base}/write",
            params={"db": "dropme", "precision": "s"},
            content="a v=1 1\nb v=2 2\nb v=3 3",
        )
        assert r.status_code == 204
    # a flush puts one of the tables into Parquet first, so the drop must hide files too
    assert http.post(f"{edge.url}/api/v3/flush", timeout=60).status_code == 200
    http.post(f"{edge.url}/write", params={"db": "dropme", "precision": "s"}, content="b v=4 4")
    http.post(f"{influxd}/write", params={"db": "dropme", "precision": "s"}, content="b v=4 4")
    statements = ["DROP MEASUREMENT b", "SHOW MEASUREMENTS", "SELECT * FROM b", "SELECT * FROM a"]
    for q in statements:
        theirs = http.post(f"{influxd}/query", data={"db": "dropme", "q": q}).json()
        ours = http.post(f"{edge.url}/query", data={"db": "dropme", "q": q}).json()
        assert _norm(ours) == _norm(theirs), q
    for base in (influxd, edge.url):
        r = http.post(f"{base}/query", data={"q": "DROP DATABASE dropme"})
        assert r.json() == {"results": [{"statement_id": 0}]}
    q = "SHOW DATABASES"
    assert _ask(edge.url, q) == _ask(influxd, q)
    assert not [p for p in edge.data_dir.rglob("*.parquet") if "dropme" in str(p)]


INTO = [
    f"SELECT mean(usage_user) INTO intodb..cpu_10m FROM cpu WHERE {_HALF} GROUP BY time(10m), host",
    "SELECT free, used_pct INTO intodb..mem_copy FROM mem WHERE host = 'h0'",
    "SELECT * INTO intodb..events_copy FROM events",
    f"SELECT max(free) INTO intodb.autogen.:MEASUREMENT FROM mem WHERE {_HOUR} GROUP BY time(20m)",
    "SELECT count(usage_user) INTO intodb..totals FROM cpu GROUP BY region",
    "SELECT * INTO intodb..empty_copy FROM cpu WHERE host = 'nobody'",
    "SELECT usage_user INTO intodb..cpu_copy FROM cpu WHERE host = 'h1' "
    "AND time < '2016-01-01T00:05:00Z'",
    "SELECT * INTO nodb..x FROM mem",
]
AFTER_INTO = [
    "SHOW MEASUREMENTS",
    "SELECT * FROM cpu_10m",
    "SHOW TAG KEYS FROM cpu_10m",
    "SELECT * FROM mem_copy LIMIT 3",
    "SELECT count(*) FROM mem_copy",
    "SELECT * FROM events_copy",
    "SHOW FIELD KEYS FROM events_copy",
    "SELECT * FROM mem",
    "SELECT * FROM totals",
    "SELECT * FROM cpu_copy",
]


def test_select_into_like_influxd(servers: tuple[str, EdgeServer]) -> None:
    """SELECT … INTO writes through the write path; what lands is what influxd stores."""
    influxd, edge = servers
    for base in (influxd, edge.url):
        assert http.post(f"{base}/query", data={"q": "CREATE DATABASE intodb"}).status_code == 200
    for q in INTO:  # POST: influxd warns about writes over GET
        theirs = http.post(f"{influxd}/query", data={"db": DB, "q": q}).json()
        ours = http.post(f"{edge.url}/query", data={"db": DB, "q": q}).json()
        assert _norm(ours) == _norm(theirs), q
    for q in AFTER_INTO:
        theirs = http.get(f"{influxd}/query", params={"db": "intodb", "q": q}).json()
        ours = http.get(f"{edge.url}/query", params={"db": "intodb", "q": q}).json()
        assert _norm(ours) == _norm(theirs), q


def test_sample_picks_n_points_of_each_series(servers: tuple[str, EdgeServer]) -> None:
    _, edge = servers
    every = _ask(edge.url, "SELECT free FROM mem GROUP BY host")[1]["results"][0]["series"]
    picked = _ask(edge.url, "SELECT sample(free, 2) FROM mem GROUP BY host")[1]
    series = picked["results"][0]["series"]
    assert [s["tags"] for s in series] == [s["tags"] for s in every]
    for s, all_rows in zip(series, every, strict=True):
        assert len(s["values"]) == 2
        assert all(row in all_rows["values"] for row in s["values"])
        assert s["values"] == sorted(s["values"])


@pytest.mark.parametrize("order", ["", " ORDER BY time DESC"])
def test_a_subquery_limit_by_group_keeps_what_the_statement_alone_keeps(
    servers: tuple[str, EdgeServer], order: str
) -> None:
    """influxd 1.6.7 keeps a row more per group in a subquery (``ALLOWED``); Edge keeps
    the rows influxd keeps for the inner statement alone."""
    influxd, edge = servers
    inner = f"SELECT usage_user FROM cpu GROUP BY host{order} LIMIT 2"
    alone = _ask(influxd, inner)[1]["results"][0]["series"]
    expected = [[r[0], s["tags"]["host"], r[1]] for s in alone for r in s["values"]]
    expected.sort(key=lambda row: row[0], reverse=bool(order))
    got = _ask(edge.url, f"SELECT * FROM ({inner}){order}")[1]["results"][0]["series"]
    assert [s["columns"] for s in got] == [["time", "host", "usage_user"]]
    assert got[0]["values"] == expected


DELETIONS = [
    "DELETE FROM cpu WHERE usage_user > 5",
    "DROP SERIES FROM cpu WHERE time > '2016-01-01T00:00:00Z'",
    "DELETE FROM sparse WHERE t = 'x'",
    "SELECT * FROM sparse",
    "SHOW SERIES FROM sparse",
    "DELETE FROM cpu WHERE host = 'h0' AND time < '2016-01-01T00:10:00Z'",
    "SELECT count(*) FROM cpu GROUP BY host",
    "SELECT * FROM cpu WHERE host = 'h0' LIMIT 3",
    "DROP SERIES FROM mem WHERE host = 'h1'",
    "SHOW SERIES FROM mem",
    "SELECT count(*) FROM mem",
    "DELETE WHERE time >= '2016-01-01T00:25:00Z'",
    "SELECT count(*) FROM cpu",
    "SELECT max(time) FROM cpu",
    "SELECT last(usage_user) FROM cpu",
    "DROP SERIES WHERE kind = 'alert'",
    "SELECT * FROM events",
    'DELETE FROM "temp c"',
    "SHOW MEASUREMENTS",
    'SHOW FIELD KEYS FROM "temp c"',
    'SELECT * FROM "temp c"',
    "DROP SERIES FROM events WHERE svc =~ /^w/",
    "SELECT * FROM events",
    "DELETE FROM nosuch WHERE host = 'x'",
    "DELETE FROM cpu WHERE region != 'eu' AND time < '2016-01-01T00:15:00Z'",
    "SELECT count(usage_user) FROM cpu GROUP BY host",
]


def test_delete_and_drop_series_like_influxd(servers: tuple[str, EdgeServer]) -> None:
    """DELETE and DROP SERIES, each followed by reads, on a database of their own; Edge
    persists first, so rows are deleted from Parquet files too."""
    influxd, edge = servers
    _load(servers, "deldb", LINES)
    for q in DELETIONS:
        theirs = http.post(f"{influxd}/query", data={"db": "deldb", "q": q}).json()
        ours = http.post(f"{edge.url}/query", data={"db": "deldb", "q": q}, timeout=120).json()
        # influxd names the shard that refused a field condition; Edge has no shards
        theirs = json.loads(re.sub(r'"shard \d+: ', '"', json.dumps(theirs)))
        assert _norm(ours) == _norm(theirs), q


PARAMS: list[tuple[str, dict[str, Any]]] = [
    ("SELECT usage_user FROM cpu WHERE host = $h LIMIT 2", {"h": "h1"}),
    ("SELECT usage_user FROM cpu WHERE usage_user > $v AND host = $h", {"v": 90, "h": "h0"}),
    ("SELECT usage_user FROM cpu WHERE usage_user > $v LIMIT 2", {"v": 90.5}),
    ("SELECT free FROM mem WHERE swap = $b LIMIT 1", {"b": False}),
    ("SELECT usage_user FROM cpu WHERE time > $t AND host = 'h1'", {"t": "2016-01-01T00:27:00Z"}),
    ("SELECT usage_user FROM cpu WHERE host = $missing", {}),
    (
        "SELECT mean(usage_user) FROM cpu WHERE time >= $a AND time < $b GROUP BY time(10m)",
        {"a": "2016-01-01T00:00:00Z", "b": "2016-01-01T00:30:00Z"},
    ),
]


@pytest.mark.parametrize(("q", "params"), PARAMS)
@pytest.mark.parametrize("method", ["GET", "POST"])
def test_bind_parameters_like_influxd(
    servers: tuple[str, EdgeServer], q: str, params: dict[str, Any], method: str
) -> None:
    influxd, edge = servers
    values = {"db": DB, "q": q, "params": json.dumps(params)}

    def ask(base: str) -> tuple[int, Any]:
        if method == "GET":
            r = http.get(f"{base}/query", params=values)
        else:
            r = http.post(f"{base}/query", data=values)
        return r.status_code, _norm(r.json())

    assert ask(edge.url) == ask(influxd)


GET_CHANGES = [
    "CREATE DATABASE getdb2",
    'CREATE DATABASE "my-db"',
    "DROP DATABASE getdb2",
    'DROP DATABASE "my-db"',
    "DROP MEASUREMENT nosuch",
    "DROP SERIES FROM nosuch WHERE host != 'a'",
    "DELETE FROM nosuch WHERE host = 'x'",  # 1.6 does not warn about DELETE
    "SELECT usage_user * 2.5 AS x INTO getdb..x1 FROM cpu WHERE usage_user > 1.5 "
    "AND host =~ /h.*/ AND time < '2016-01-01T00:05:00Z'",
    "SELECT mean(usage_user), max(usage_user) INTO getdb.autogen.x2 FROM getdb..cpu "
    "WHERE time >= '2016-01-01T00:00:00Z' AND time < now() + 1d "
    "GROUP BY time(10m, 1m), host fill(0) LIMIT 2 SLIMIT 1",
    "SELECT count(free) INTO x6 FROM mem WHERE time >= '2016-01-01T00:00:00Z' "
    "AND time < '2016-01-01T01:30:00Z' GROUP BY time(90m) fill(previous)",
    "SELECT * INTO x3 FROM mem WHERE (host = 'h0' OR host = 'h1') AND free > -0.5 "
    "ORDER BY time DESC LIMIT 2 OFFSET 1",
    "SELECT usage_user INTO \"x 4\" FROM cpu WHERE host = 'h1' AND time > 1451606400000000000 "
    "LIMIT 1",
    "SELECT * INTO x5 FROM cpu WHERE time > now() - 30000d AND host = 'h0' LIMIT 1",
    "SELECT usage_user FROM cpu LIMIT 1",  # reads: no warning
    "SELECT * INTO nodb..x FROM mem",  # an error: no warning either
]


def test_changing_statements_sent_with_get_are_warned_like_influxd(
    servers: tuple[str, EdgeServer],
) -> None:
    """influxd answers a statement that changes something, sent with GET, and adds a
    warning naming the statement as it runs it (SELECT … INTO with every name qualified)."""
    _, edge = servers
    _load(servers, "getdb", LINES)
    assert _same_over_get(servers, "getdb", GET_CHANGES, "messages") == 12
    # the same statement sent with POST: no warning
    q = "CREATE DATABASE getdb3"
    assert http.post(f"{edge.url}/query", data={"q": q}).json() == {
        "results": [{"statement_id": 0}]
    }
    http.post(f"{edge.url}/query", data={"q": "DROP DATABASE getdb3"})  # Edge alone has it


def _seasonal_lines() -> list[str]:
    """Two series with a trend, a 6-minute season, noise, irregular times and (b) gaps."""
    rng = random.Random(5)
    lines = []
    for host in ("a", "b"):
        for i in range(48):
            if host == "b" and i in (7, 8, 20):
                continue
            v = 10 + 0.3 * i + 4 * math.sin(i * 2 * math.pi / 6) + rng.uniform(-1, 1)
            t = BASE + i * 60 + rng.randrange(0, 20)
            lines.append(f"hw,host={host} v={v:.4f},n={int(v * 10)}i {t}")
    return lines


_HW_RANGE = "time >= '2016-01-01T00:00:00Z' AND time < '2016-01-01T00:48:00Z'"
HOLT_WINTERS = [
    f"SELECT holt_winters(first(v), 5, 6) FROM hw WHERE {_HW_RANGE} GROUP BY time(1m), host",
    f"SELECT holt_winters_with_fit(max(n), 3, 0) FROM hw WHERE host = 'a' AND {_HW_RANGE} "
    "GROUP BY time(4m)",
    f"SELECT holt_winters(first(v), 10, 0) FROM hw WHERE {_HW_RANGE} GROUP BY time(2m), host",
    f"SELECT holt_winters_with_fit(last(v), 4, 3) FROM hw WHERE {_HW_RANGE} GROUP BY time(3m), "
    "host fill(none)",
    f"SELECT holt_winters(sum(n), 2, 12) FROM hw WHERE {_HW_RANGE} GROUP BY time(1m)",
    "SELECT holt_winters(max(v), 3, 6) FROM hw WHERE host = 'b' AND time >= "
    "'2016-01-01T00:00:00Z' AND time < '2016-01-01T00:30:00Z' GROUP BY time(1m) fill(none)",
    "SELECT holt_winters(min(v), 3, 6) AS forecast FROM hw WHERE host = 'b' AND time >= "
    "'2016-01-01T00:00:00Z' AND time < '2016-01-01T00:30:00Z' GROUP BY time(1m) fill(previous)",
    "SELECT holt_winters(first(v), 3, 2) FROM hw WHERE host = 'a' AND time >= "
    "'2016-01-01T00:00:00Z' AND time < '2016-01-01T00:03:00Z' GROUP BY time(1m)",
    "SELECT holt_winters(first(v), 3, 6) FROM hw WHERE host = 'a' AND time >= "
    "'2016-01-01T00:00:00Z' AND time < '2016-01-01T00:04:00Z' GROUP BY time(1m)",
    "SELECT holt_winters(mean(v), 5) FROM hw WHERE time < now() GROUP BY time(1h)",
    "SELECT holt_winters(v, 5, 4) FROM hw",
    "SELECT holt_winters(mean(v), 5, 4) FROM hw",
    "SELECT holt_winters(mean(v), 0, 4) FROM hw WHERE time < now() GROUP BY time(1h)",
    "SELECT holt_winters(mean(v), 3, -1) FROM hw WHERE time < now() GROUP BY time(1h)",
    "SELECT holt_winters(mean(v), 3.5, 1) FROM hw WHERE time < now() GROUP BY time(1h)",
    "SELECT holt_winters(mean(v), 3, 1.5) FROM hw WHERE time < now() GROUP BY time(1h)",
]


def test_holt_winters_like_influxd(servers: tuple[str, EdgeServer]) -> None:
    """Forecasts fitted by the same simplex search as influxd's come out the same (inputs
    chosen so that no aggregate sums floats in another order: the search would amplify a
    last-bit difference of its input)."""
    _load(servers, "hwdb", _seasonal_lines())
    # the last valid one has fewer points than a season: no series
    assert _same_over_get(servers, "hwdb", HOLT_WINTERS, "series") == 8


def test_shards_and_diagnostics_keep_influxd_shapes(servers: tuple[str, EdgeServer]) -> None:
    """Edge keeps no shards: SHOW SHARDS and SHOW SHARD GROUPS answer influxd's series and
    columns without rows. SHOW DIAGNOSTICS has influxd's sections, holding Edge's facts."""
    influxd, edge = servers
    for q in ("SHOW SHARDS", "SHOW SHARD GROUPS"):
        theirs = _ask(influxd, q)[1]["results"][0]["series"]
        ours = _ask(edge.url, q)[1]["results"][0]["series"]
        shape = sorted((s.get("name"), s["columns"]) for s in theirs)  # (influxd: no order)
        assert sorted((s.get("name"), s["columns"]) for s in ours) == shape, q
        assert not any("values" in s for s in ours)
    theirs = _ask(influxd, "SHOW DIAGNOSTICS")[1]["results"][0]["series"]
    ours = {s["name"]: s for s in _ask(edge.url, "SHOW DIAGNOSTICS")[1]["results"][0]["series"]}
    assert {"build", "network", "runtime", "system"} <= {s["name"] for s in theirs}
    assert {"build", "network", "runtime", "system"} <= ours.keys()

    def row(section: str) -> dict[str, Any]:
        return dict(zip(ours[section]["columns"], ours[section]["values"][0], strict=True))

    assert row("build")["Version"].startswith("edge ")
    assert row("network")["hostname"] == socket.gethostname()
    assert row("system")["PID"] == edge.proc.pid  # influxdb3 serve, the group's leader
    assert row("system")["started"] <= row("system")["currentTime"]
    assert row("config")["data-dir"] == str(edge.data_dir)


def test_show_queries_and_kill_query_like_influxd(servers: tuple[str, EdgeServer]) -> None:
    """SHOW QUERIES lists the asking query itself, its text as influxd writes it (ids and
    durations are each server's own); KILL QUERY of an id no query has, or of no integer,
    fails as in influxd. (Killing a running query: tests/e2e/test_kill_query.py.)"""
    influxd, edge = servers
    q = "show queries ; SHOW   QUERIES"
    answers = [_ask(base, q) for base in (influxd, edge.url)]
    for status, doc in answers:
        assert status == 200
        for result in doc["results"]:
            (series,) = result["series"]
            assert series["columns"] == ["qid", "query", "database", "duration", "status"]
            ((qid, text, database, duration, state),) = series["values"]
            assert (text, database, state) == ("SHOW QUERIES;\nSHOW QUERIES", DB, "running")
            assert isinstance(qid, int) and duration.endswith(("µs", "ms", "s"))
    for q in ("KILL QUERY 99999999", "KILL QUERY abc", "KILL QUERY", "KILL x"):
        assert _ask(edge.url, q) == _ask(influxd, q), q


def test_show_stats_httpd_names_are_influxds(servers: tuple[str, EdgeServer]) -> None:
    """Edge's httpd statistics carry influxd's names (dashboards built on Telegraf's
    influxdb_httpd measurement find them), columns in the same order; SHOW STATS FOR a
    module no one has answers nothing, as influxd."""
    influxd, edge = servers
    q = "SHOW STATS FOR 'httpd'"
    (theirs,) = _ask(influxd, q)[1]["results"][0]["series"]
    (ours,) = _ask(edge.url, q)[1]["results"][0]["series"]
    assert ours["name"] == theirs["name"] == "httpd" and set(ours["tags"]) == {"bind"}
    assert set(ours["columns"]) < set(theirs["columns"])
    assert ours["columns"] == sorted(ours["columns"])
    q = "SHOW STATS FOR 'nothing'"
    assert _ask(edge.url, q) == _ask(influxd, q) == (200, {"results": [{"statement_id": 0}]})


def _dst_lines() -> list[str]:
    """Hourly points of two series (b half an hour later, with gaps) over the 2016 changes
    of summer time in Europe (27 Mar, 30 Oct) and the US (13 Mar, 6 Nov)."""
    lines = []
    for day in ("2016-03-10", "2016-03-24", "2016-10-27", "2016-11-03"):
        start = int(datetime.datetime.fromisoformat(f"{day}T00:00:00+00:00").timestamp())
        for i in range(6 * 24):
            for host in ("a", "b"):
                if host == "b" and i % 5 == 0:
                    continue
                t = start + i * 3600 + (0 if host == "a" else 1800)
                lines.append(f"dst,host={host} v={(i * 7) % 11}i,f={i * 0.5} {t}")
    return lines


def _dst(what: str, span: str, group: str, zone: str = "Europe/Paris", tail: str = "") -> str:
    """``span`` as "MM-DDTHH/MM-DDTHH" in 2016, UTC."""
    lo, hi = (f"2016-{t}:00:00Z" for t in span.split("/"))
    return (
        f"SELECT {what} FROM dst WHERE time >= '{lo}' AND time < '{hi}' GROUP BY {group}"
        f"{tail} tz('{zone}')"
    )


_SPRING, _AUTUMN, _NY = "03-25T00/03-30T00", "10-29T00/11-01T00", "America/New_York"
DST = [
    _dst("count(v)", _SPRING, "time(1d)"),
    _dst("count(v)", "03-26T20/03-27T06", "time(2h)"),
    _dst("count(v)", _AUTUMN, "time(1d)"),
    _dst("count(v)", "10-29T20/10-30T06", "time(2h)"),
    _dst("sum(v), max(f)", _SPRING, "time(1d), host"),
    _dst("mean(f)", "10-29T12/10-31T00", "time(3h)", tail=" fill(none)"),
    _dst("count(v)", "03-12T00/03-15T00", "time(1d)", _NY),
    _dst("count(v)", "03-13T00/03-13T12", "time(2h)", _NY, " fill(0)"),
    _dst("count(v)", "11-05T00/11-08T00", "time(1d)", _NY, " fill(previous)"),
    _dst("last(v)", "11-06T00/11-06T12", "time(2h), host", _NY),
    _dst("count(v)", "03-26T00/03-28T00", "time(1d, 6h)"),
    _dst("count(v)", "03-26T00/03-28T00", "time(1d, -2h)"),
    _dst("max(v)", "03-24T00/03-30T00", "time(2d)"),
    _dst("count(v)", "03-27T00/03-27T04", "time(30m)"),
    _dst("count(v)", _AUTUMN, "time(1d)", tail=" fill(linear)"),
    _dst("count(v)", _SPRING, "time(1d)", tail=" ORDER BY time DESC"),
    _dst("count(v)", "10-29T20/10-30T06", "time(2h)", tail=" fill(none) LIMIT 3"),
    _dst("count(v)", "10-30T00/10-30T04", "time(90m)"),
    _dst("count(v)", "03-20T00/11-10T00", "time(7d)", tail=" fill(none)"),
    _dst("derivative(sum(v))", _AUTUMN, "time(1d)"),
    _dst("moving_average(sum(v), 2)", "03-11T00/03-14T00", "time(1d)"),
    _dst("count(v)", "04-01T00/04-05T00", "time(1d)", "Australia/Sydney"),  # no points
    "SELECT derivative(sum(v)) FROM dst WHERE time >= '2016-03-25T00:30:00Z' "
    "AND time < '2016-03-25T06:00:00Z' GROUP BY time(1h)",
]


def test_time_zones_whose_offset_changes_like_influxd(servers: tuple[str, EdgeServer]) -> None:
    """GROUP BY time() in a tz() across summer-time changes: 23- and 25-hour days, windows
    that start at local boundaries, fill() stepping over the change, as influxd cuts them."""
    _load(servers, "dstdb", _dst_lines())
    # every range but one (Sydney's, where no points lie) has series
    assert (
        _same_over_get(servers, "dstdb", DST, "series") == len(DST) - 1
    )  # one range holds no points


def _rp_steps(now_s: int) -> list[tuple[str, dict[str, str], str]]:
    """(method, parameters, line protocol or "") of the retention policy test, in order."""
    hour = 3600

    def q(text: str, method: str = "POST", **params: str) -> tuple[str, dict[str, str], str]:
        return method, {"q": text, "db": "rpdb", **params}, ""

    def w(body: str, **params: str) -> tuple[str, dict[str, str], str]:
        return "WRITE", {"db": "rpdb", "precision": "s", **params}, body

    return [
        q("CREATE DATABASE rpdb"),
        w(f"m,h=a v=1 {now_s - hour}"),
        q('CREATE RETENTION POLICY "r2d" ON rpdb DURATION 2d REPLICATION 1 DEFAULT'),
        q("SHOW RETENTION POLICIES ON rpdb", "GET"),
        w(f"m,h=b v=2 {now_s - hour // 2}"),  # to the new default
        w(f"m,h=c v=3 {now_s - 5 * 24 * hour}\nm,h=e v=5 {now_s - 100}"),  # one too old
        w(f"m,h=c v=3 {now_s - 5 * 24 * hour}"),  # all too old
        q("SELECT * FROM m", "GET"),
        q("SELECT * FROM autogen.m", "GET"),
        q("SELECT * FROM rpdb.r2d.m", "GET"),
        q("SELECT * FROM rpdb..m", "GET"),
        q("SELECT * FROM m", "GET", rp="autogen"),
        q("SELECT * FROM nope.m", "GET"),
        q("SELECT * FROM m", "GET", rp="nope"),
        q('CREATE RETENTION POLICY "r2d" ON rpdb DURATION 2d REPLICATION 1 DEFAULT'),
        q('CREATE RETENTION POLICY "r2d" ON rpdb DURATION 3d REPLICATION 1'),
        q("CREATE RETENTION POLICY autogen ON rpdb DURATION INF REPLICATION 1 DEFAULT"),
        q("CREATE RETENTION POLICY short ON rpdb DURATION 30m REPLICATION 1"),
        q("CREATE RETENTION POLICY short ON rpdb DURATION 2h REPLICATION 1 SHARD DURATION 3h"),
        q("CREATE RETENTION POLICY short ON nodb DURATION 2h REPLICATION 1"),
        q("CREATE RETENTION POLICY empty ON rpdb DURATION 2h REPLICATION 2"),
        q("SELECT * FROM empty.m", "GET"),
        q("ALTER RETENTION POLICY autogen ON rpdb DURATION 2h"),
        q("ALTER RETENTION POLICY nope ON rpdb DURATION 2h"),
        q("ALTER RETENTION POLICY autogen ON nodb DURATION 2h"),
        q("ALTER RETENTION POLICY autogen ON rpdb DURATION 2w SHARD DURATION 1d DEFAULT"),
        q("ALTER RETENTION POLICY empty ON rpdb SHARD DURATION 30m"),
        q("SHOW RETENTION POLICIES ON rpdb", "GET"),
        w(f"m,h=d v=4 {now_s - 600}", rp="r2d"),
        w(f"m,h=f v=6 {now_s - 600}"),  # autogen is the default again
        q("SELECT * FROM r2d.m", "GET"),
        q("SELECT * FROM m", "GET"),
        q("SELECT v INTO r2d.m2 FROM autogen.m"),
        q("SELECT * FROM r2d.m2", "GET"),
        q("SHOW FIELD KEYS FROM r2d.m2", "GET"),
        q("SHOW TAG KEYS FROM r2d.m", "GET"),
        q("SHOW MEASUREMENTS", "GET"),  # of every policy
        q("SHOW MEASUREMENTS LIMIT 1 OFFSET 1", "GET"),
        q("SHOW MEASUREMENTS WITH MEASUREMENT =~ /2/", "GET"),
        q("DELETE FROM m WHERE h = 'd'"),  # in every policy
        q("SELECT * FROM r2d.m", "GET"),
        q("DROP SERIES FROM m WHERE h = 'a'"),
        q("SELECT * FROM autogen.m", "GET"),
        q("SELECT * FROM r2d.m2", "GET"),
        q("DROP MEASUREMENT m2"),
        q("SELECT * FROM r2d.m2", "GET"),
        q("DROP RETENTION POLICY r2d ON rpdb"),
        q("DROP RETENTION POLICY r2d ON rpdb"),
        q("DROP RETENTION POLICY r2d ON nodb"),
        q("SHOW RETENTION POLICIES ON rpdb", "GET"),
        q("SELECT * FROM r2d.m", "GET"),
        q("SHOW RETENTION POLICIES ON nodb", "GET"),
        q("CREATE DATABASE rpdb2 WITH DURATION 3d REPLICATION 1 SHARD DURATION 1h NAME short"),
        q("SHOW RETENTION POLICIES ON rpdb2", "GET"),
        q("CREATE DATABASE rpdb2 WITH DURATION 3d REPLICATION 1 SHARD DURATION 1h NAME short"),
        q("CREATE DATABASE rpdb2 WITH DURATION 4d"),
        q("CREATE DATABASE rpdb3 WITH DURATION 30m"),
        q("CREATE DATABASE rpdb3 WITH DURATION 3d"),
        q("SHOW RETENTION POLICIES ON rpdb3", "GET"),
        q("DROP DATABASE rpdb2"),
        q("DROP DATABASE rpdb3"),
    ]


def test_retention_policies_like_influxd(servers: tuple[str, EdgeServer]) -> None:
    """CREATE / ALTER / DROP RETENTION POLICY, the default policy, writes and reads naming
    one (``rp``, ``db.rp.m``, ``rp.m``, INTO) and points older than a policy keeps."""
    influxd, edge = servers
    for method, params, body in _rp_steps(int(time.time())):
        answers = []
        for base in (influxd, edge.url):
            if method == "WRITE":
                r = http.post(f"{base}/write", params=params, content=body)
            elif method == "GET":
                r = http.get(f"{base}/query", params=params)
            else:
                r = http.post(f"{base}/query", data=params)
            answers.append((r.status_code, _norm(r.json()) if r.content else None))
        assert answers[1] == answers[0], (params, body)
    names = http.get(f"{edge.url}/query", params={"q": "SHOW DATABASES"}).json()
    assert ["rpdb/r2d"] not in names["results"][0]["series"][0]["values"]


_CQS = [
    "CREATE CONTINUOUS QUERY cq1 ON cqdb BEGIN SELECT mean(v) INTO m_1h FROM m "
    "GROUP BY time(1h) END",
    "CREATE CONTINUOUS QUERY cq1 ON cqdb BEGIN SELECT mean(v) INTO m_1h FROM m "
    "GROUP BY time(1h) END",  # the same again: fine
    "CREATE CONTINUOUS QUERY cq1 ON cqdb BEGIN SELECT max(v) INTO m_1h FROM m "
    "GROUP BY time(1h) END",  # another of that name
    'CREATE CONTINUOUS QUERY "cq 2" ON cqdb RESAMPLE EVERY 30m FOR 2h BEGIN SELECT mean(v) AS v '
    "INTO cqdb.autogen.m2 FROM m WHERE host = 'a' GROUP BY time(1h, 5m), host fill(0) END",
    "CREATE CONTINUOUS QUERY cq3 ON cqdb RESAMPLE FOR 3h BEGIN SELECT v INTO m3 FROM m, /^x/ "
    "GROUP BY time(1h) END",
    "CREATE CONTINUOUS QUERY cq4 ON cqdb RESAMPLE EVERY 2h BEGIN SELECT count(v) INTO r.m4 "
    "FROM r.m GROUP BY time(1h), * END",
    "CREATE CONTINUOUS QUERY cq5 ON nodb BEGIN SELECT mean(v) INTO x FROM m GROUP BY time(1h) END",
    "SHOW CONTINUOUS QUERIES",
    "DROP CONTINUOUS QUERY cq1 ON cqdb",
    "DROP CONTINUOUS QUERY cq1 ON cqdb",
    "DROP CONTINUOUS QUERY cq1 ON nodb",
    "SHOW CONTINUOUS QUERIES",
    # parse errors
    "CREATE CONTINUOUS QUERY cq ON cqdb BEGIN SELECT mean(v) INTO m3 FROM m END",
    "CREATE CONTINUOUS QUERY cq ON cqdb BEGIN SELECT mean(v) FROM m GROUP BY time(1h) END",
    "CREATE CONTINUOUS QUERY cq ON cqdb RESAMPLE BEGIN SELECT mean(v) INTO x FROM m "
    "GROUP BY time(1h) END",
    "CREATE CONTINUOUS QUERY cq ON cqdb BEGIN SELECT mean(v) INTO x FROM m GROUP BY time(1h)",
    "CREATE CONTINUOUS QUERY cq ON cqdb SELECT mean(v) INTO x FROM m GROUP BY time(1h) END",
    "CREATE CONTINUOUS QUERY cq ON cqdb RESAMPLE FOR 30m BEGIN SELECT mean(v) INTO x FROM m "
    "GROUP BY time(1h) END",
    "DROP CONTINUOUS QUERY cq1",
]


def test_continuous_queries_like_influxd(servers: tuple[str, EdgeServer]) -> None:
    """CREATE / DROP / SHOW CONTINUOUS QUERIES: the same answers, the queries listed as
    influxd keeps them (measurements named with database and retention policy), the same
    errors. (That Edge runs them: tests/e2e/test_continuous.py.)"""
    influxd, edge = servers
    for base in (influxd, edge.url):
        for q in (
            "CREATE DATABASE cqdb",
            "CREATE RETENTION POLICY r ON cqdb DURATION 1d REPLICATION 1",
        ):
            assert http.post(f"{base}/query", data={"q": q}).status_code == 200
    for q in _CQS:
        theirs = http.post(f"{influxd}/query", data={"db": "cqdb", "q": q})
        ours = http.post(f"{edge.url}/query", data={"db": "cqdb", "q": q})
        if q == "SHOW CONTINUOUS QUERIES":  # (other tests' databases differ: this one's)
            pick = [_cq_series(r.json()) for r in (ours, theirs)]
            assert pick[0] == pick[1] and pick[0]["values"], q
            continue
        assert (ours.status_code, ours.json()) == (theirs.status_code, theirs.json()), q
    for base in (influxd, edge.url):
        assert http.post(f"{base}/query", data={"q": "DROP DATABASE cqdb"}).status_code == 200


def _cq_series(doc: dict[str, Any]) -> dict[str, Any]:
    return next(s for s in doc["results"][0]["series"] if s["name"] == "cqdb")


_USERS = [
    "CREATE DATABASE udb",
    "CREATE DATABASE udb2",
    "SHOW USERS",
    "CREATE USER bob WITH PASSWORD 'pw'",
    "CREATE USER bob WITH PASSWORD 'pw'",  # the same again: no change
    "CREATE USER bob WITH PASSWORD 'other'",  # another password: an error
    "CREATE USER bob WITH PASSWORD 'pw' WITH ALL PRIVILEGES",  # admin now: an error too
    "CREATE USER \"a b\" WITH PASSWORD '' WITH ALL PRIVILEGES",
    "CREATE USER \"\" WITH PASSWORD 'x'",
    "SHOW USERS",
    "GRANT READ ON udb TO bob",
    "GRANT WRITE ON udb2 TO bob",
    "SHOW GRANTS FOR bob",
    "GRANT WRITE ON udb TO bob",  # replaces READ
    "GRANT ALL PRIVILEGES ON udb2 TO bob",
    "SHOW GRANTS FOR bob",
    "REVOKE READ ON udb2 FROM bob",  # ALL less READ: WRITE
    "REVOKE WRITE ON udb FROM bob",  # nothing left: listed as NO PRIVILEGES
    "SHOW GRANTS FOR bob",
    "REVOKE ALL ON udb2 FROM bob",
    "SHOW GRANTS FOR bob",
    'SHOW GRANTS FOR "a b"',
    "GRANT READ ON nodb TO bob",
    "GRANT READ ON nodb TO nobody",
    "REVOKE READ ON udb FROM nobody",
    "SHOW GRANTS FOR nobody",
    "GRANT ALL TO bob",
    "SHOW USERS",
    'REVOKE ALL PRIVILEGES FROM "a b"',
    "SHOW USERS",
    "SET PASSWORD FOR bob = 'new'",
    "SET PASSWORD FOR nobody = 'new'",
    "CREATE USER bob WITH PASSWORD 'new' WITH ALL PRIVILEGES",  # the same user: fine
    "GRANT READ ON udb2 TO bob",
    "DROP DATABASE udb2",  # its grants go with it
    "SHOW GRANTS FOR bob",
    "DROP USER nobody",
    "DROP USER bob",
    "SHOW USERS",
    'DROP USER "a b"',
    "SHOW USERS",
    "DROP DATABASE udb",
    # parse errors
    "CREATE USER bob",
    "CREATE USER bob WITH PASSWORD 'x' WITH READ",
    "GRANT READ TO bob",
    "REVOKE ALL ON udb TO bob",
    "SET PASSWORD bob = 'x'",
    "SHOW GRANTS",
]
_USERS_GET = [  # sent with GET: influxd's warnings, the password never shown
    "CREATE USER \"c d\" WITH PASSWORD 'secret' WITH ALL PRIVILEGES",
    "CREATE DATABASE udb3",
    'GRANT READ ON udb3 TO "c d"',
    'GRANT ALL TO "c d"',
    'REVOKE ALL ON udb3 FROM "c d"',
    'REVOKE ALL FROM "c d"',
    "SET PASSWORD FOR \"c d\" = 'x'",
    'SHOW GRANTS FOR "c d"',
    "SHOW USERS",
    'DROP USER "c d"',
    "DROP DATABASE udb3",
]


def _sorted_grants(doc: dict[str, Any]) -> dict[str, Any]:
    """influxd lists a user's grants in Go map order: compared sorted."""
    for result in doc.get("results", ()):
        for series in result.get("series", ()):
            if series["columns"] == ["database", "privilege"] and "values" in series:
                series["values"].sort()
    return doc


def test_users_and_grants_like_influxd(servers: tuple[str, EdgeServer]) -> None:
    """CREATE USER, GRANT, REVOKE, SET PASSWORD, DROP USER, SHOW USERS and SHOW GRANTS on a
    server without authentication: the same answers and errors. (Logging in as a user:
    tests/e2e/test_users.py.)"""
    influxd, edge = servers
    for q in _USERS:
        answers = [http.post(f"{b}/query", data={"q": q}) for b in (influxd, edge.url)]
        theirs, ours = ((r.status_code, _sorted_grants(r.json())) for r in answers)
        assert ours == theirs, q
    for q in _USERS_GET:
        answers = [http.get(f"{b}/query", params={"q": q}) for b in (influxd, edge.url)]
        theirs, ours = ((r.status_code, r.json()) for r in answers)
        assert ours == theirs, q


_EXPLAINED = [
    "EXPLAIN SELECT * FROM cpu",
    "EXPLAIN SELECT *::field FROM cpu",
    "EXPLAIN SELECT /usage/ FROM /c.u/",
    "EXPLAIN SELECT usage_user * 2 + 1, host FROM cpu WHERE host = 'h1'",
    "EXPLAIN SELECT max(usage_user) FROM cpu WHERE host = 'h1' AND time >= "
    "'2016-01-01T00:00:00Z' AND time < '2016-01-01T01:00:00Z' GROUP BY time(1m)",
    "EXPLAIN SELECT mean(usage_user) * 2, count(usage_system) FROM cpu GROUP BY host",
    "EXPLAIN SELECT derivative(mean(usage_user)) FROM cpu WHERE time > 0 GROUP BY time(1m)",
    "EXPLAIN SELECT sum(free), last(used_pct) FROM mem",
    "EXPLAIN SELECT usage_user FROM cpu, mem",
    "EXPLAIN SELECT * FROM nosuch",
]


def _heading(doc: dict[str, Any]) -> list[str]:
    """EXPLAIN's lines naming what is read (influxd repeats them for each shard and
    measurement; its counters are about TSM files, Edge's lines about its own reads)."""
    lines = [v[0] for v in doc["results"][0]["series"][0]["values"]]
    named = [x for x in lines if x.startswith(("EXPRESSION:", "AUXILIARY FIELDS:"))]
    return sorted(set(named)) if named else lines  # (influxd's order of calls varies)


def test_explain_names_what_influxd_names(servers: tuple[str, EdgeServer]) -> None:
    """EXPLAIN answers influxd's shape: one QUERY PLAN column whose first lines are the
    calls (EXPRESSION) or the fields and tags (AUXILIARY FIELDS) read, with their types;
    Edge's further lines say how it reads them (tests/e2e/test_explain.py)."""
    influxd, edge = servers
    for q in _EXPLAINED:
        docs = [
            http.post(f"{b}/query", data={"db": DB, "q": q}).json() for b in (influxd, edge.url)
        ]
        assert [_heading(d) for d in docs[1:]] == [_heading(docs[0])], q
        assert docs[1]["results"][0]["series"][0]["columns"] == ["QUERY PLAN"]
    q = "EXPLAIN ANALYZE SELECT max(usage_user) FROM cpu GROUP BY host"
    docs = [http.post(f"{b}/query", data={"db": DB, "q": q}).json() for b in (influxd, edge.url)]
    theirs, ours = (d["results"][0]["series"][0] for d in docs)
    assert ours["columns"] == theirs["columns"] == ["EXPLAIN ANALYZE"]
    assert ours["values"][:2] == theirs["values"][:2] == [["."], ["└── select"]]
    for q in ("EXPLAIN SHOW DATABASES", "EXPLAIN ANALYZE", "EXPLAIN"):
        answers = [http.post(f"{b}/query", data={"q": q}) for b in (influxd, edge.url)]
        assert [(r.status_code, r.json()) for r in answers[1:]] == [
            (answers[0].status_code, answers[0].json())
        ], q


OTHER_DATABASE = [
    # a subquery reads the database its own FROM names, not the outer statement's
    "SELECT max(free) FROM (SELECT free FROM otherdb..mem)",
    "SELECT max(free) FROM (SELECT free FROM otherdb.autogen.mem)",
    "SELECT max(m) FROM (SELECT max(free) AS m FROM (SELECT free FROM otherdb..mem))",
    "SELECT mean(free) FROM (SELECT free, host FROM otherdb..mem) GROUP BY host",
    "SELECT max(free) FROM (SELECT free FROM mem)",  # (the request's database)
    # a database not there, in a subquery or beside another source
    "SELECT max(x) FROM (SELECT free AS x FROM nosuchdb..mem)",
    "SELECT * FROM mem, nosuchdb..cpu",
    "SELECT * FROM otherdb..mem",
]


def test_sources_of_another_database(servers: tuple[str, EdgeServer]) -> None:
    """Measurements named with another database: in a subquery (Edge had read the outer
    statement's database), alone, and a database that is not there."""
    _load(servers, "otherdb", ["mem,host=zz free=4242 1451606400", "mem,host=yy free=7 1451606460"])
    for q in OTHER_DATABASE:
        theirs, ours = (_ask(base, q) for base in (servers[0], servers[1].url))
        assert ours[0] == theirs[0] and _same(ours[1], theirs[1]), (q, ours, theirs)


def test_measurements_of_two_databases_in_one_from_are_refused(
    servers: tuple[str, EdgeServer],
) -> None:
    # influxd answers them together; Edge says plainly it does not (docs/influxql-compat.md)
    _load(servers, "otherdb2", ["mem,host=zz free=4242 1451606400"])
    status, doc = _ask(servers[1].url, "SELECT * FROM otherdb2..mem, cpu")
    assert status == 200
    assert doc["results"][0]["error"].startswith("measurements of more than one database")


def test_series_keys_in_influxd_order(servers: tuple[str, EdgeServer]) -> None:
    """SHOW SERIES: a key's tags by their escaped texts (k\\1 before k\\=v), the series by
    their tags' own texts (a tag " b" before "Host"), a measurement's = not escaped."""
    lines = [
        "q,k\\1=h2,k\\=v=h2 f=1 1451606400",
        "q,Host=y f=1 1451606400",
        "q,\\ b=x f=1 1451606400",
        "x=y,a=1 f=1 1451606400",
    ]
    _load(servers, "keysdb", lines)
    for q in ("SHOW SERIES", "SHOW SERIES FROM q", 'SHOW SERIES FROM "x=y"'):
        theirs, ours = (
            http.get(f"{base}/query", params={"db": "keysdb", "q": q}).json()
            for base in (servers[0], servers[1].url)
        )
        assert ours == theirs, q
