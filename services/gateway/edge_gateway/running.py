"""The queries handed to query workers and not yet answered: what SHOW QUERIES lists and
KILL QUERY names (influxd's task manager, kept here because only the gateway sees every
worker's queries).

A query's id (qid) counts from 1 for the gateway's life, as influxd's do. A query whose text
may hold SHOW QUERIES or KILL QUERY is sent with the list (its own entry included, as
influxd lists itself). A text of those statements alone goes to a query worker's control
thread (``takes``, ``answer``), free even when every worker runs a query; it answers from
the list and, for KILL QUERY, tells the control thread of the worker running the query
named (``edge_query.cancel``). A query the gateway stops waiting for
(``--request-timeout-ms``) is stopped the same way: its client was answered 503, and the
worker would otherwise go on computing an answer no one reads.
"""

from __future__ import annotations

import asyncio
import itertools
import re
import time
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from edge_gateway.pool import WorkerPool

__all__ = ["Running"]

_QUERY_OPS = frozenset(("query", "influxql"))
# a text of SHOW QUERIES and KILL QUERY statements only: answered by a worker's control
# thread, which is free even when every worker runs a query
_CONTROL = re.compile(r"\s*(show\s+queries|kill\s+query\s+\d+(\s+on\s+\S+)?)\s*", re.I)


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
        self.control: WorkerPool | None = None  # the query workers' control sockets
        self._tasks: set[asyncio.Task[Any]] = set()
        self.finished = 0
        self.duration_ns = 0  # of the finished ones
        self.in_gateway = 0  # of the finished ones, answered by the gateway (edge_gateway.inline)

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
        upper = text.upper()
        if header["op"] == "influxql" and ("QUERIES" in upper or "KILL" in upper):
            header = {**header, "running": self.listing()}
        return qid, header

    def end(self, qid: int | None) -> None:
        query = None if qid is None else self.queries.pop(qid, None)
        if query is not None:
            self.finished += 1
            self.duration_ns += time.monotonic_ns() - query.started_ns

    def answered_here(self, duration_ns: int) -> None:
        """Count a query the gateway answered itself (never listed: it ran to its end)."""
        self.finished += 1
        self.in_gateway += 1
        self.duration_ns += duration_ns

    def cancel(self, qid: int | None) -> None:
        """Stop query ``qid`` where its worker runs it (or skip it in its queue); the
        gateway does not wait for the worker to confirm."""
        query = None if qid is None else self.queries.get(qid)
        if query is None or query.worker < 0 or self.control is None:
            return
        link = self.control.links[query.worker]
        ask = self.control.request({"op": "cancel", "cancel": query.request_id}, link=link)
        task = asyncio.get_running_loop().create_task(ask)
        self._tasks.add(task)  # kept until done; its failure (a worker gone) is moot
        task.add_done_callback(self._done)

    def _done(self, task: asyncio.Task[Any]) -> None:
        self._tasks.discard(task)
        if not task.cancelled():
            task.exception()  # retrieved: not logged as never retrieved

    @staticmethod
    def is_control(text: str) -> bool:
        """Whether ``text`` holds only SHOW QUERIES and KILL QUERY statements."""
        parts = [p for p in text.split(";") if p.strip()]
        return bool(parts) and all(_CONTROL.fullmatch(p) for p in parts)

    def takes(self, header: dict[str, Any]) -> bool:
        """Whether a query worker's control thread answers this request (``answer``)."""
        return (
            self.control is not None
            and header.get("language") == "influxql"
            and self.is_control(str(header.get("q", "")))
        )

    async def answer(self, header: dict[str, Any]) -> tuple[dict[str, Any], list[Any]]:
        """SHOW QUERIES / KILL QUERY (``takes``), answered by the control thread of the
        least busy worker; listed while it runs, as influxd lists itself."""
        assert self.control is not None
        qid, header = self.begin(header, -1, -1)
        try:
            return await self.control.request(header)
        finally:
            self.end(qid)

    def stats(self) -> dict[str, int | float]:
        """influxd's queryExecutor statistics."""
        return {
            "queriesActive": len(self.queries),
            "queriesExecuted": self.finished + len(self.queries),
            "queriesFinished": self.finished,
            "queryDurationNs": self.duration_ns,
            "queriesInGateway": self.in_gateway,  # (Edge's: edge_gateway.inline)
        }

    def listing(self) -> list[list[Any]]:
        """[qid, text, database, nanoseconds running, worker, request id] of each query."""
        now = time.monotonic_ns()
        return [
            [qid, q.text, q.database, now - q.started_ns, q.worker, q.request_id]
            for qid, q in sorted(self.queries.items())
        ]
