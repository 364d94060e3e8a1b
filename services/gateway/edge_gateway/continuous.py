"""The continuous querier: runs each continuous query of the catalog when influxd would.

Once a second the gateway looks at the catalog (a persister call that answers "the same"
while nothing changed) and, for each continuous query whose RESAMPLE EVERY (else its GROUP
BY interval) has passed a boundary since it last ran, asks a query worker to run its
SELECT … INTO over the window influxd's continuous querier picks (its formula): up to the
interval boundary the run reaches, FOR (else the interval) long. A query runs at once the
first time the gateway sees it, as in influxd (which keeps no record of past runs either:
a run again after a restart writes the same points again, which changes nothing).
"""

from __future__ import annotations

import asyncio
import logging
import time
from typing import Any

from edge_common.schema import Catalog
from edge_gateway.pool import WorkerPool, next_piece

__all__ = ["ContinuousQuerier", "window"]

log = logging.getLogger(__name__)
_CHECK_S = 1.0  # influxd's [continuous_queries] run-interval


def window(query: dict[str, Any], now_ns: int) -> tuple[int, int, int]:
    """(the EVERY boundary this run belongs to, start, end) of a run at ``now_ns``."""
    interval, offset = int(query["interval"]), int(query["offset"])
    every = int(query["every"]) or interval
    span = int(query["for"]) or max(interval, every)
    step = min(every, interval)
    end = (now_ns + interval - step - offset) // interval * interval + offset
    start = (end - span - offset) // interval * interval + offset
    return now_ns // every * every, start, end


class ContinuousQuerier:
    def __init__(self, persister: WorkerPool, query: WorkerPool) -> None:
        self.persister = persister
        self.query = query
        self.catalog = Catalog()
        self.have: list[Any] = []  # [persister boot, catalog version] of our copy
        self.last: dict[tuple[str, str], int] = {}  # (db, name) → the boundary it last ran

    async def run(self) -> None:
        while True:
            await asyncio.sleep(_CHECK_S)
            try:
                await self.turn(time.time_ns())
            except asyncio.CancelledError:
                raise
            except Exception as err:  # the persister restarting, …: the next turn tries again
                log.warning("continuous queries not run this turn: %s", err)

    async def turn(self, now_ns: int) -> None:
        reply, _ = await self.persister.request({"op": "catalog", "have": self.have})
        if not reply.get("same"):
            self.catalog = Catalog.from_json(reply["catalog"])
            self.have = [reply.get("boot"), self.catalog.version]
        due, last = [], {}
        for db, schema in self.catalog.databases.items():
            for name, query in schema.continuous_queries.items():
                boundary, start, end = window(query, now_ns)
                last[(db, name)] = boundary
                if self.last.get((db, name)) != boundary and end > start:
                    due.append((db, name, query, start, end))
        self.last = last  # (of the queries there are: dropped ones are forgotten)
        for db, name, query, start, end in due:
            await self._run(db, name, query, start, end)

    async def _run(self, db: str, name: str, query: dict[str, Any], start: int, end: int) -> None:
        header = {
            "op": "influxql",
            "db": db,
            "q": query["query"],  # (what SHOW QUERIES lists while it runs)
            "continuous": {"db": db, "name": name, "start": start, "end": end},
            "format": "v1json",
            "readable": None,  # the server's own: every database
            "writable": None,
        }
        stream = self.query.stream(header)
        try:
            head, payloads = await stream.__anext__()
            if not head.get("ok"):
                log.warning("continuous query %s on %s: %s", name, db, head.get("error"))
                return
            body = bytes(payloads[0]) if head.get("whole") else b""
            if not head.get("whole"):  # (a whole answer has no end message)
                while (piece := await next_piece(stream)) is not None:
                    body += piece
            if b'"error"' in body:  # a statement's error: in the 1.x answer
                log.warning("continuous query %s on %s: %s", name, db, body[:300].decode())
        except Exception as err:
            log.warning("continuous query %s on %s did not run: %s", name, db, err)
        finally:
            await stream.aclose()
