"""The queries handed to query workers and not yet answered: what SHOW QUERIES lists and
KILL QUERY names (influxd's task manager, kept here because only the gateway sees every
worker's queries).

A query's id (qid) counts from 1 for the gateway's life, as influxd's do. A query whose text
may hold SHOW QUERIES or KILL QUERY is sent with the list (its own entry included, as
influxd lists itself): the worker answers from it and, for KILL QUERY, tells the worker
running the query named (``edge_query.cancel``).
"""

from __future__ import annotations

import itertools
import time
from dataclasses import dataclass
from typing import Any

__all__ = ["Running"]

_QUERY_OPS = frozenset(("query", "influxql"))


@dataclass(frozen=True, slots=True)
class _Query:
    text: str
    database: str
    started_ns: int
    worker: int
    request_id: int


class Running:
    def __init__(self) -> None:
        self._qids = itertools.count(1)
        self.queries: dict[int, _Query] = {}
        self.finished = 0
        self.duration_ns = 0  # of the finished ones

    def begin(
        self, header: dict[str, Any], worker: int, request_id: int
    ) -> tuple[int | None, dict[str, Any]]:
        """Enter a request sent to ``worker``: its qid (None: not a query) and the header
        to send (with the list of running queries when the text may ask for it)."""
        if header.get("op") not in _QUERY_OPS:
            return None, header
        qid = next(self._qids)
        text = str(header.get("q", ""))
        database = str(header.get("db") or "").split("/")[0]  # "db/rp": the database
        self.queries[qid] = _Query(text, database, time.monotonic_ns(), worker, request_id)
        if header["op"] == "influxql" and ("QUERIES" in text.upper() or "KILL" in text.upper()):
            header = {**header, "running": self.listing()}
        return qid, header

    def end(self, qid: int | None) -> None:
        query = None if qid is None else self.queries.pop(qid, None)
        if query is not None:
            self.finished += 1
            self.duration_ns += time.monotonic_ns() - query.started_ns

    def stats(self) -> dict[str, int | float]:
        """influxd's queryExecutor statistics."""
        return {
            "queriesActive": len(self.queries),
            "queriesExecuted": self.finished + len(self.queries),
            "queriesFinished": self.finished,
            "queryDurationNs": self.duration_ns,
        }

    def listing(self) -> list[list[Any]]:
        """[qid, text, database, nanoseconds running, worker, request id] of each query."""
        now = time.monotonic_ns()
        return [
            [qid, q.text, q.database, now - q.started_ns, q.worker, q.request_id]
            for qid, q in sorted(self.queries.items())
        ]
