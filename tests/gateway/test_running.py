"""The gateway's list of running queries (edge_gateway.running), without a server."""

from __future__ import annotations

import pytest

from edge_gateway.running import Running


@pytest.mark.parametrize(
    ("text", "control"),
    [
        ("SHOW QUERIES", True),
        ("show queries; KILL QUERY 3", True),
        ('KILL QUERY 12 ON "host:8088"', True),
        ("  SHOW   QUERIES ; ", True),
        ("SELECT 1", False),
        ("SHOW QUERIES; SELECT * FROM m", False),  # a worker's main loop runs the SELECT
        ("KILL QUERY x", False),  # its parse error comes from a worker as usual
        ("/* c */ SHOW QUERIES", False),
        ("", False),
    ],
)
def test_which_texts_a_control_thread_answers(text: str, control: bool) -> None:
    assert Running.is_control(text) is control


def test_queries_are_listed_while_they_run_and_counted_after() -> None:
    running = Running()
    qid, header = running.begin({"op": "query", "q": "SELECT 1", "db": "a/rp"}, 1, 77)
    assert qid == 1 and "running" not in header  # SQL that cannot ask for the list
    other, asking = running.begin({"op": "influxql", "q": "show queries", "db": "b"}, 0, 78)
    assert other == 2
    listed = asking["running"]
    assert [(q[0], q[1], q[2], q[4], q[5]) for q in listed] == [
        (1, "SELECT 1", "a", 1, 77),
        (2, "show queries", "b", 0, 78),
    ]
    assert running.begin({"op": "ping"}, 0, 79) == (None, {"op": "ping"})  # not a query
    running.end(qid)
    running.end(other)
    stats = running.stats()
    assert stats["queriesActive"] == 0 and stats["queriesFinished"] == 2
    assert stats["queriesExecuted"] == 2 and stats["queryDurationNs"] >= 0
