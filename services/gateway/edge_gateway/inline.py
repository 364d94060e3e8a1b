"""Small InfluxQL SELECTs answered by the gateway itself; every other query goes to a query
worker, as before.

A dashboard panel's question (``SELECT max(usage_user) FROM cpu WHERE host = 'a' AND time
> now() - 1h GROUP BY time(1m)``) reads a few hundred rows. Sent to a query worker it cost
more in passing than in answering (one host's hour: gateway ~0.21 ms and worker ~0.52 ms
of CPU, ~0.16 ms of it the passing; answered here, ~0.6 ms in all). So DESIGN.md's "the
gateway never runs queries" gives way, within bounds that keep the event loop, which every
other request waits on, free:

- only while the gateway has no other request in hand (``routes/v1.py``; with more at once
  the workers' cores share them, and writes do not wait behind queries);
- only requests of SELECTs without INTO and SHOWs of the data (DATABASES, MEASUREMENTS,
  TAG KEYS, TAG VALUES, FIELD KEYS, SERIES, RETENTION POLICIES: a dashboard's variables),
  and only what the query worker's own code answers without SQL (``edge_query.influxql.
  direct`` and its kin): no DataFusion, no persister asked (a catalog that is not current
  is taken again in the background, meanwhile the workers answer), no file read (a
  persisted file's columns not decoded yet are read by a thread of their own, meanwhile
  the workers answer; then kept as a worker keeps them, in a quarter of
  ``--query-file-cache-mb``); a large buffered chunk's index by a tag's value is made on
  that thread too, and so are the picks of first()/last() and of a SHOW's values or
  series of large chunks and of whole files;
- a budget of ``--gateway-query-rows`` rows read, rows picked from, intervals filled and
  series answered (each as 16 rows) (``edge_query.budget``): a query past it stops and
  goes to a worker, which starts it over (it is read-only: nothing was changed). A text
  that went over is sent straight to a worker the next times.

The answer is the worker's, made by the same code: ``_Reader`` is a ``QueryWorker`` that
never waits. It is not listed by SHOW QUERIES, nor stopped by KILL QUERY: it ends within
its budget.
"""

from __future__ import annotations

import asyncio
import functools
import logging
import re
import threading
import time
from collections import OrderedDict
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import zmq

from edge_common.chunks import Chunk, chunk_picks, within_range
from edge_common.errors import EdgeError
from edge_common.fetch import request_pick
from edge_common.merge import within
from edge_common.picks import Pick
from edge_common.schema import TIME_COLUMN, TableSchema
from edge_common.settings import Settings
from edge_common.shared import SharedTable, Stale, State, shared_root
from edge_common.stream import StreamClient
from edge_gateway.pool import WorkerPool
from edge_gateway.running import Running
from edge_query.budget import OverBudget, budget, spend
from edge_query.filecache import ColumnCache
from edge_query.influxql import ast
from edge_query.influxql.parser import parse
from edge_query.planner import TableNeed
from edge_query.sources import ParquetSource
from edge_query.worker import QueryWorker

__all__ = ["InlineQueries"]

log = logging.getLogger(__name__)

_READING = re.compile(r"\s*(select|show)\b", re.IGNORECASE)  # (a look before the parse)
# what a dashboard's variables ask (Grafana's SHOW TAG VALUES at every load); not the SHOWs
# of the server's own state (QUERIES, STATS, DIAGNOSTICS: the gateway sends what they need)
_SHOWN = frozenset(
    (
        "DATABASES",
        "RETENTION POLICIES",
        "MEASUREMENTS",
        "TAG KEYS",
        "TAG VALUES",
        "FIELD KEYS",
        "SERIES",
    )
)


def _reads_only(statements: list[ast.Statement]) -> bool:
    """Whether every statement only reads: SELECT without INTO, or a SHOW of ``_SHOWN``."""
    return all(
        (isinstance(s, ast.SelectStatement) and s.into is None)
        or (isinstance(s, ast.ShowStatement) and s.what in _SHOWN)
        for s in statements
    )


_REMEMBERED = 1024  # texts that went over the budget, sent straight to a worker
_INDEXED_HERE = 16_384  # rows of a buffered chunk indexed on the event loop (~0.5 ms)


class _Held(ColumnCache):
    """Columns of persisted files, on the event loop only as far as they are decoded
    already: any other is read by ``warm`` (on its own thread, where this cache reads as
    any does) and the query goes elsewhere."""

    def __init__(self, limit_bytes: int, warm: Callable[[Any, Callable[[], Any]], None]) -> None:
        super().__init__(limit_bytes)
        self.warm = warm
        self.loop_thread = threading.get_ident()  # (made on the event loop's thread)

    def arrays(self, key: str, path: Callable[[], Path], wanted: list[str]) -> dict[str, pa.Array]:
        if threading.get_ident() == self.loop_thread and not self.holds(key, wanted):
            read = super().arrays
            self.warm((key, *wanted), lambda: read(key, path, wanted))
            raise OverBudget("columns not read yet", lasting=False)
        return super().arrays(key, path, wanted)

    def rows_with(
        self,
        key: str,
        path: Callable[[], Path],
        tag: str,
        allowed: list[str],
        times: np.ndarray | None = None,
        lo: int | None = None,
        hi: int | None = None,
    ) -> np.ndarray:
        if threading.get_ident() == self.loop_thread and not self.indexed(key, tag):
            index = super().rows_with
            self.warm((key, tag, "index"), lambda: index(key, path, tag, []))
            raise OverBudget("tag index not made yet", lasting=False)
        return super().rows_with(key, path, tag, allowed, times, lo, hi)


class _HeldFiles(ParquetSource):
    """Persisted files, with picks (first()/last(), a SHOW's values or series) on the
    event loop only as far as they are made already: a file's picks over its whole time
    span (kept for good: files never change) are made by ``warm``, and the query goes
    elsewhere; those of a time range within a file (made afresh for each range) spend the
    rows of the series asked for, as the tag indexes count them, or go to a worker when
    no series is named (each series' rows in the range)."""

    warm: Callable[[Any, Callable[[], Any]], None]
    columns: _Held

    def read(
        self,
        key: str,
        target: pa.Schema,
        lo: int | None,
        hi: int | None,
        values: dict[str, list[str]] | None = None,
        compare: list[tuple[str, str, Any]] | None = None,
        pick: Pick | None = None,
        table: TableSchema | None = None,
        span: tuple[int, int] | None = None,
    ) -> pa.Table:
        here = threading.get_ident() == self.columns.loop_thread
        if here and pick is not None and table is not None:
            memo = self.pick_memo(key, target, lo, hi, values, compare, pick, span)
            if not self.held_picks(memo):
                if memo[3] == (None, None):  # (over the file's whole span: kept for good)
                    read = super().read
                    args = (key, target, lo, hi, values, compare, pick, table, span)
                    self.warm(memo, lambda: read(*args))
                    raise OverBudget("a file's picks not made yet", lasting=False)
                if not values:  # (every series' rows in the range: a worker's)
                    raise OverBudget("picks of a file's rows in a time range")
                # the rows of those series in the range (a tag index or the times not at
                # hand yet: made by ``warm``, meanwhile a worker answers)
                rows = None
                path = functools.partial(self._local, key)
                at = self.columns.numbers(key, path, [TIME_COLUMN])[TIME_COLUMN]
                for tag, allowed in values.items():
                    these = self.columns.rows_with(key, path, tag, allowed, at, lo, hi)
                    rows = these if rows is None else np.intersect1d(rows, these)
                spend(0 if rows is None else len(rows))
        found = super().read(key, target, lo, hi, values, compare, pick, table, span)
        if pick is not None:
            spend(found.num_rows)  # (joined with the other files' picks)
        return found


class _Reader(QueryWorker):
    """A query worker's InfluxQL, minus everything that waits or runs long."""

    files_kind = _HeldFiles

    def __init__(self, settings: Settings, warm: Callable[[Any, Callable[[], Any]], None]) -> None:
        self.warm = warm
        super().__init__(settings, -1, zmq.Context.instance())

    def _new_parquet(self) -> ParquetSource:
        source = super()._new_parquet()
        assert isinstance(source, _HeldFiles)
        # (a quarter of a worker's room: the columns of the files dashboards ask about)
        source.columns = _Held(self.settings.query_file_cache_mb << 18, self.warm)
        source.warm = self.warm
        return source

    def _ask(
        self,
        client: StreamClient,
        header: dict[str, Any],
        payloads: tuple[bytes, ...],
        timeout_s: float | None,
        who: str,
    ) -> tuple[dict[str, Any], list[Any]]:
        # the catalog, a write, a file of the memory store: a worker's to wait for
        raise OverBudget(f"asks the {who}", lasting=False)

    def execute(self, *args: Any, **kwargs: Any) -> Any:
        raise OverBudget("SQL")  # DataFusion's plans and threads: a worker's

    def _fetch(
        self, db: str, wanted: list[dict[str, Any]]
    ) -> tuple[dict[str, Any], list[pa.Table | None]]:
        try:
            self._bounded(db, wanted)
            local = self._fetch_shared(db, wanted)
        except Stale:
            local = None
        if local is None:
            raise OverBudget("rows only the persister has", lasting=False)
        return local

    def _indexed(self, chunks: list[Chunk], tags: list[str]) -> None:
        """A large chunk's index by a tag's value is made by the reading thread, all of
        them at once (a query at a time took one each), meanwhile the workers answer."""
        unindexed = [
            (chunk, tag)
            for chunk in chunks
            for tag in tags
            if tag not in chunk.by_tag and chunk.batch.num_rows > _INDEXED_HERE
        ]
        for chunk, tag in unindexed:
            self.warm((id(chunk), tag), functools.partial(chunk.index, tag))
        if unindexed:
            raise OverBudget("buffered rows not indexed yet", lasting=False)

    def _bounded(self, db: str, wanted: list[dict[str, Any]]) -> None:
        """What a fetch makes of the buffered rows before its rows are counted, bounded:
        a large chunk's index by a tag's value, and its picks (first()/last(), a SHOW's
        values or series), are made on first use (per process: ~3 ms and ~10-100 ms for
        70,000 rows) by the reading thread, not on the event loop, meanwhile the workers
        answer; picks made afresh of the rows in a time range spend those rows from the
        budget (the last value of every host over six hours read 216,000 rows to answer
        100: the event loop stood still ~120 ms)."""
        state = _state(self)
        schema = self.catalog.databases.get(db)
        if state is None or self.shared is None or schema is None:
            return  # (_fetch_shared tells)
        for req in wanted:
            table = schema.tables.get(req["name"])
            if table is None:
                continue
            try:
                held = self.shared.table(state, db, req["name"])
            except LookupError:
                return
            if held is None:
                continue
            tags = [t for t in req.get("values") or () if t in table.tag_set()]
            lo, hi = req.get("min_ns"), req.get("max_ns")
            pick = request_pick(req, table.tag_set())  # (as fetch_table reads)
            for chunks in (held.live, held.frozen):
                inside = [
                    c
                    for c in chunks
                    if (lo is None or c.max_ns >= lo) and (hi is None or c.min_ns <= hi)
                ]
                self._indexed(inside, tags)
                if pick is not None and chunks:
                    _picks_bounded(held, chunks, inside, table, pick, req, self.warm)

    def _assemble(
        self,
        table: TableSchema,
        need: TableNeed,
        entry: dict[str, Any],
        parts: list[pa.Table | None],
    ) -> pa.Table:
        rows = super()._assemble(table, need, entry, parts)
        spend(rows.num_rows)
        return rows


def _picks_bounded(
    held: SharedTable,
    chunks: list[Chunk],
    inside: list[Chunk],
    table: TableSchema,
    pick: Pick,
    req: dict[str, Any],
    warm: Callable[[Any, Callable[[], Any]], None],
) -> None:
    """``SharedTable._picked``'s work, bounded. Each chunk's picks (kept with it) not made
    yet are made here up to ``_INDEXED_HERE`` rows in all, else by the reading thread:
    over every chunk, or in a time range of every series (``picked_within``) the chunks
    wholly in it. The rows of the other chunks in the range (some series', or those the
    range cuts) are spent, and so are the picks joined when the join is to be made."""
    first, last = min(c.min_ns for c in chunks), max(c.max_ns for c in chunks)
    lo, hi = req.get("min_ns"), req.get("max_ns")
    values = {t: sorted(v) for t, v in (req.get("values") or {}).items() if t in table.tag_set()}
    afresh = (lo is not None and lo > first) or (hi is not None and hi < last)
    if not afresh:
        whole = chunks
    else:
        whole = [] if values else [c for c in inside if within_range(c, lo, hi)]
        for c in inside:
            if c not in whole:
                times = c.times()[c.rows_of_values(values)] if values else c.times()
                spend(int(np.count_nonzero(within(times, lo, hi))))
    full, tags = table.arrow_schema(), table.tag_names
    missing = [c for c in whole if (pick, full) not in c.picks]
    if sum(c.batch.num_rows for c in missing) > _INDEXED_HERE:
        for chunk in missing:
            picking = functools.partial(chunk_picks, chunk, full, tags, pick, held.hasher)
            warm((id(chunk), pick, full), picking)
        raise OverBudget("buffered rows not picked yet", lasting=False)
    if afresh or (pick, full, tuple(c.shared for c in chunks)) not in held.picks:
        spend(sum(c.picks[(pick, full)].num_rows for c in whole if c not in missing))


def _state(reader: QueryWorker) -> State | None:
    """The shared buffer's newest state (None: nothing shared)."""
    return reader.shared.state() if reader.shared is not None else None


class InlineQueries:
    def __init__(self, settings: Settings, persister: WorkerPool, running: Running) -> None:
        self.rows = settings.gateway_query_rows
        self.persister = persister
        self.running = running  # (its statistics count the queries answered here too)
        on = self.rows > 0 and shared_root(settings) is not None
        self.reader = _Reader(settings, self._warm) if on else None
        self._taking: asyncio.Task[None] | None = None
        self._over: OrderedDict[tuple[Any, str], None] = OrderedDict()
        self._warming: set[Any] = set()
        self._reading = ThreadPoolExecutor(1, thread_name_prefix="inline-read")

    def answer(self, header: dict[str, Any]) -> tuple[str, bytes] | None:
        """The answer to the InfluxQL request ``header`` (its content type and body), or
        ``None``: a query worker's to answer."""
        reader = self.reader
        q = header.get("q")
        if reader is None or not isinstance(q, str) or not _READING.match(q):
            return None
        if header.get("format") == "arrow":  # (Flight's: IPC streams sent one by one)
            return None
        try:  # (the worker's parse of it is then a lookup: parsed texts are kept)
            if not _reads_only(parse(q, header.get("params") or None)):
                return None
        except Exception:
            return None  # (the worker answers the error)
        asked = (header.get("db"), q)
        if asked in self._over:
            return None
        started = time.monotonic_ns()
        try:
            with budget(self.rows):
                chunks, media, _ = reader._influxql(header)
                body = b"".join(chunks)
        except OverBudget as why:
            if why.lasting:
                self._over[asked] = None
                if len(self._over) > _REMEMBERED:
                    self._over.popitem(last=False)
            elif (state := _state(reader)) is None or not reader.current(state):
                self._take_catalog()
            return None
        except Exception:  # the worker answers it (with its error, if it is one)
            log.debug("query left to a worker", exc_info=True)
            return None
        self.running.answered_here(time.monotonic_ns() - started)
        return media, body

    def close(self) -> None:
        self._reading.shutdown(wait=False, cancel_futures=True)

    def _warm(self, key: Any, read: Callable[[], Any]) -> None:
        """Run ``read`` (a file's columns into the cache) on our thread, once at a time."""
        if key in self._warming:
            return
        self._warming.add(key)

        def run() -> None:
            try:
                read()
            except BaseException:  # (gone since, or only the persister has it)
                log.debug("columns not read for the gateway", exc_info=True)
            finally:
                self._warming.discard(key)

        self._reading.submit(run)

    def _take_catalog(self) -> None:
        if self._taking is None or self._taking.done():
            self._taking = asyncio.get_running_loop().create_task(self._catalog())

    async def _catalog(self) -> None:
        assert self.reader is not None
        try:
            reply, _ = await self.persister.request(self.reader.catalog_request())
        except EdgeError:
            return  # (the next query left to a worker asks again)
        if reply.get("ok", True):
            self.reader.take_catalog(reply)
