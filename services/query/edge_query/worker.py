"""The query worker's loop: plan over empty tables, fetch exactly the needed columns and
time range from the persister, run the query in DataFusion, stream the rendered result."""

from __future__ import annotations

import functools
import logging
import os
import re
import time
from collections.abc import Iterator
from typing import Any

import numpy as np
import pyarrow as pa
import zmq
from datafusion import SessionContext

from edge_common.chunks import Chunk, points_within, time_span
from edge_common.errors import DatabaseNotFound, EdgeError, QueryError, Unavailable, from_wire
from edge_common.fetch import fetch_table, overlapping
from edge_common.merge import conform, overlaps
from edge_common.objectstore import MemoryObjectStore, object_store_from_settings
from edge_common.schema import TIME_COLUMN, Catalog, DatabaseSchema, TableSchema, empty_table
from edge_common.settings import Settings
from edge_common.shared import SharedReader, Stale, State, shared_root
from edge_common.stream import Caller, Listener, StreamClient, Unreachable
from edge_common.wire import Endpoints, error_header, pack, read_ipc, unpack
from edge_query.cancel import INTERRUPTED, Canceller, Interrupted, interrupted_in, send_cancel
from edge_query.formats import CONTENT_TYPES, ipc_stream, render
from edge_query.influxql.diagnostics import diagnostics
from edge_query.influxql.executor import InfluxQLContext, run_influxql
from edge_query.influxql.policies import continuous_run
from edge_query.influxql.response import render_v1, to_arrow
from edge_query.planner import (
    READ_ONLY,
    TableNeed,
    TablePick,
    new_context,
    plan_needs,
    register_empty,
)
from edge_query.sources import ParquetSource, combine

__all__ = ["QueryWorker"]

log = logging.getLogger(__name__)
_CHUNK_BYTES = 1 << 20
_SMALL_ROWS = 65_536
_V1 = ("v1json", "v1csv")  # the 1.x API's answer formats (the others are v3's)


class QueryWorker:
    files_kind: type[ParquetSource] = ParquetSource  # (the gateway's reader: its own kind)

    def __init__(self, settings: Settings, worker_id: int, ctx: zmq.Context[Any]) -> None:
        self.settings = settings
        self.worker_id = worker_id
        self.ctx = ctx
        self.endpoints = Endpoints.for_data_dir(settings.data_dir)
        self.catalog = Catalog()
        self._planners: dict[str, tuple[tuple[str | None, int], SessionContext]] = {}
        self._catalog_boot: str | None = None  # the persister process our catalog came from
        # an InfluxQL SELECT: the catalog version it was answered from, and the versions the
        # persister's fetch replies named meanwhile (equal: the answer is current)
        self._answered_from: tuple[str | None, int] | None = None
        self._fetched_at: list[tuple[str | None, int]] = []
        self._ingest: list[StreamClient] = []
        self._writes = 0
        self.persister = StreamClient(self.endpoints.persister)
        root = shared_root(settings)  # the buffer, as the persister shares it
        self.shared = None if root is None else SharedReader(root)
        self.store = object_store_from_settings(settings)
        self.parquet = self._new_parquet()
        self.canceller = Canceller(self.endpoints.query_control(worker_id), self._control_answer)
        self._head_sent = False  # the request at hand has had its first answer
        self.stopping = False

    def _new_parquet(self) -> ParquetSource:
        return self.files_kind(
            self.store,
            self.settings.data_dir / "cache",
            self.settings.parquet_cache_mb << 20,
            self._fetch_object if isinstance(self.store, MemoryObjectStore) else None,
            self.settings.query_file_cache_mb << 20,
        )

    def run(self) -> int:
        self.endpoints.prepare()  # the socket directory, whoever starts first
        poller = zmq.Poller()
        requests = Listener(self.endpoints.query(self.worker_id), poller)
        self.canceller.start()
        log.info("query worker %d ready", self.worker_id)
        while not self.stopping:
            try:
                requests.take(dict(poller.poll(0 if requests.queue else 500)))
                if (request := requests.pop()) is not None:
                    self._handle(*request)
                elif self.shared is not None:
                    self.shared.state()  # (idle: let go of chunks no longer buffered)
                requests.sweep()
            except Interrupted as err:  # a kill as its query was ending: answered already
                err.acknowledge()
                self.canceller.end()
                self._recover()
        self.canceller.stopping = True
        requests.close()
        return 0

    # --- persister and ingest links (edge_common.stream) -------------------------------
    def _ask(
        self,
        client: StreamClient,
        header: dict[str, Any],
        payloads: tuple[bytes, ...],
        timeout_s: float | None,
        who: str,
    ) -> tuple[dict[str, Any], list[Any]]:
        wait = self.settings.request_timeout_ms / 1000 if timeout_s is None else timeout_s
        try:
            frames = client.call(pack(header, *payloads), wait)
        except Unreachable as err:
            raise Unavailable(
                f"the {who} gave no answer ({err}); the request may be retried"
            ) from None
        reply, out = unpack(frames)
        if not reply.get("ok", True):
            raise from_wire(reply["error"])
        return reply, out

    def _call(
        self, header: dict[str, Any], timeout_s: float | None = None
    ) -> tuple[dict[str, Any], list[Any]]:
        """Ask the persister (every query does, at least once)."""
        return self._ask(self.persister, header, (), timeout_s, "persister")

    def _ingest_clients(self) -> list[StreamClient]:
        if not self._ingest:
            self._ingest = [
                StreamClient(self.endpoints.ingest(i)) for i in range(self.settings.ingest_workers)
            ]
        return self._ingest

    def _ingest_catalogs(self) -> None:
        """Have each ingest worker take the catalog anew, and wait for it: a write without
        a retention policy goes to the default one, and one of its points older than its
        policy allows is refused, by the catalog the ingest worker holds. (One not reached
        takes the catalog when it starts, or when the persister's answer to a write says
        its copy is behind.)"""
        for client in self._ingest_clients():
            try:
                self._ask(client, {"op": "catalog"}, (), 10.0, "ingest worker")
            except Unavailable:
                log.warning("an ingest worker did not take the new catalog; it will on start")

    def _write(self, db: str, body: bytes) -> int:
        """Line protocol through an ingest worker (its WAL, then the persister), as an HTTP
        write goes: answered once durable. Returns the points written. (Sent again should
        the worker go away before answering: points with their times, written twice, are
        stored once.)"""
        clients = self._ingest_clients()
        self._writes += 1  # spread over the ingest workers
        client = clients[self._writes % len(clients)]
        header = {"op": "write", "db": db, "precision": "ns", "accept_partial": False}
        reply, _ = self._ask(client, header, (body,), None, "ingest worker")
        if reply.get("rejected"):
            first = (reply.get("errors") or [{}])[0]
            raise QueryError(f"SELECT ... INTO wrote nothing: {first.get('error_message')}")
        return int(reply.get("written", 0))

    def _fetch_object(self, key: str) -> bytes:
        """A persisted file from a store only the persister holds (``memory``)."""
        _, frames = self._call({"op": "get_object", "key": key})
        return bytes(frames[0])

    def _refresh_catalog(self) -> None:
        # the whole catalog only when it changed since our copy (it may be large); not asked
        # at all where the shared buffer's state names our copy's version: the persister
        # publishes it before answering anything (a SHOW's round trip, ~0.15 ms)
        state = self.shared.state() if self.shared is not None else None
        if state is not None and self.current(state):
            return
        reply, _ = self._call(self.catalog_request())
        self.take_catalog(reply)

    def current(self, state: State) -> bool:
        """Whether our catalog is the one the shared buffer's ``state`` names."""
        return (state.boot, state.catalog) == (self._catalog_boot, self.catalog.version)

    def catalog_request(self) -> dict[str, Any]:
        """The persister's ``catalog`` request: the whole catalog unless ours is current."""
        return {"op": "catalog", "have": [self._catalog_boot, self.catalog.version]}

    def take_catalog(self, reply: dict[str, Any]) -> None:
        """Take the persister's answer to :meth:`catalog_request`."""
        if not reply.get("same"):
            self.catalog = Catalog.from_json(reply["catalog"])
            self._catalog_boot = reply.get("boot")

    def _database(self, db: str) -> DatabaseSchema:
        schema = self.catalog.databases.get(db)
        if schema is None:
            self._refresh_catalog()
            schema = self.catalog.databases.get(db)
        if schema is None:
            raise DatabaseNotFound(f"database not found: {db}")
        return schema

    # --- a query -----------------------------------------------------------------------
    def _handle(self, caller: Caller, frames: list[Any]) -> None:
        try:
            header, _ = unpack(frames)
        except Exception as err:  # not our wire format: nothing to run
            error = err if isinstance(err, EdgeError) else QueryError(_clean(str(err)))
            self._send(caller, {"id": None, "kind": "head", **error_header(error)})
            return
        rid = header.get("id")
        if not self.canceller.begin(rid):  # killed while it waited in our queue
            self._answer_interrupted(caller, header)
            return
        self._head_sent = False
        try:
            self._serve(caller, header)
        except Interrupted as err:
            err.acknowledge()
            log.info("request %s interrupted (KILL QUERY)", rid)
            if self._head_sent:
                self._send(caller, {"id": rid, "kind": "error", "message": INTERRUPTED})
            else:
                self._answer_interrupted(caller, header)
            self._recover()
        finally:
            self.canceller.end()

    def _answer_interrupted(self, caller: Caller, header: dict[str, Any]) -> None:
        """A killed request's answer: for the 1.x API influxd's, a statement error inside
        ``results`` (200); else the error itself."""
        rid = header.get("id")
        if header.get("op") != "influxql" or header.get("format") not in _V1:
            error = error_header(QueryError(INTERRUPTED))
            self._send(caller, {"id": rid, "kind": "head", **error})
            return
        chunks, media = _rendered(header, [{"statement_id": 0, "error": INTERRUPTED}])
        head = {"id": rid, "kind": "head", "ok": True, "content_type": media, "whole": True}
        self._send(caller, head, b"".join(chunks))

    def _recover(self) -> None:
        """After an interrupted query: drop what it may have left half updated (the file
        caches and planning contexts; they fill again as queries come)."""
        self.parquet = self._new_parquet()
        self._planners.clear()

    def _serve(self, caller: Caller, header: dict[str, Any]) -> None:
        try:
            if header.get("op") == "ping":
                pong = {"id": header.get("id"), "kind": "head", "ok": True, "pid": os.getpid()}
                self._send(caller, pong)
                return
            if header.get("op") == "tables":
                self._send(
                    caller,
                    {"id": header.get("id"), "kind": "head", "ok": True},
                    ipc_stream(*self._tables(str(header["db"]))),
                )
                return
            if header.get("op") == "schema":
                schema = self._schema(str(header["db"]), str(header["q"]))
                self._send(
                    caller,
                    {"id": header.get("id"), "kind": "head", "ok": True},
                    ipc_stream(schema, []),
                )
                return
            if header.get("op") == "influxql":
                chunks, content_type, told = self._influxql(header)
                first = next(chunks, b"")
                self._stream(caller, header.get("id"), content_type, first, chunks, told)
                return
            fmt = str(header.get("format", "json"))
            if fmt not in CONTENT_TYPES:
                raise QueryError(f"unknown format {fmt!r}: use json, jsonl, csv, pretty or parquet")
            schema, batches = self.execute(
                str(header["db"]), str(header["q"]), header.get("params") or None
            )
            chunks = render(fmt, schema, batches)
            first = next(chunks, b"")
        except Exception as err:
            if (stop := interrupted_in(err)) is not None:
                raise stop from None
            if isinstance(err, EdgeError):
                self._send(caller, {"id": header.get("id"), "kind": "head", **error_header(err)})
                return
            # DataFusion reports planning and execution errors this way
            self._send(
                caller,
                {
                    "id": header.get("id"),
                    "kind": "head",
                    **error_header(QueryError(_clean(str(err)))),
                },
            )
            return
        self._stream(caller, header.get("id"), CONTENT_TYPES[fmt], first, chunks)

    def _stream(
        self,
        caller: Caller,
        rid: Any,
        content_type: str,
        first: bytes,
        chunks: Iterator[bytes],
        told: dict[str, Any] | None = None,
    ) -> None:
        """Send an answer; ``told``: what its head tells the gateway besides (InfluxQL's
        ``access_changed``: users changed, look them up again)."""
        # Arrow chunks are whole IPC streams each: sent one by one, never joined
        whole = content_type == CONTENT_TYPES["arrow"]
        pending = [first]
        size = len(first)
        if not whole:  # most answers are small: head and body in one message
            try:
                while size < _CHUNK_BYTES and (chunk := next(chunks, None)) is not None:
                    pending.append(chunk)
                    size += len(chunk)
            except Exception as err:
                if (stop := interrupted_in(err)) is not None:
                    raise stop from None
                log.exception("query failed while rendering")
                error = QueryError(_clean(str(err)))
                self._send(caller, {"id": rid, "kind": "head", **error_header(error)})
                return
        head = {"id": rid, "kind": "head", "ok": True, "content_type": content_type, **(told or {})}
        if not whole and size < _CHUNK_BYTES:
            self._send(caller, {**head, "whole": True}, b"".join(pending))
            return
        self._send(caller, head)
        try:
            for chunk in chunks:
                if whole:
                    self._send(caller, {"id": rid, "kind": "chunk"}, *pending)
                    pending, size = [], 0
                pending.append(chunk)
                size += len(chunk)
                if not whole and size >= _CHUNK_BYTES:
                    self._send(caller, {"id": rid, "kind": "chunk"}, b"".join(pending))
                    pending, size = [], 0
            if pending:
                self._send(caller, {"id": rid, "kind": "chunk"}, b"".join(pending))
            self._send(caller, {"id": rid, "kind": "end"})
        except Exception as err:
            if (stop := interrupted_in(err)) is not None:
                raise stop from None
            log.exception("query failed while streaming")
            self._send(caller, {"id": rid, "kind": "error", "message": _clean(str(err))})

    def _planning_context(self, db: str) -> SessionContext:
        """A context with every table of ``db``, empty: enough to plan, name and describe."""
        self._refresh_catalog()
        return self._planner(db, self._database(db))

    def _tables(self, db: str) -> tuple[pa.Schema, list[pa.RecordBatch]]:
        """Every table SQL can name in ``db``, with its Arrow schema (Flight SQL GetTables)."""
        ctx = self._planning_context(db)
        listed = ctx.sql(
            "SELECT table_catalog, table_schema, table_name, table_type "
            "FROM information_schema.tables ORDER BY 1, 2, 3, 4"
        ).to_pylist()
        rows: dict[str, list[Any]] = {n: [] for n in _TABLES_SCHEMA.names}
        for t in listed:
            qualified = f'"{t["table_catalog"]}"."{t["table_schema"]}"."{t["table_name"]}"'
            rows["catalog_name"].append(t["table_catalog"])
            rows["db_schema_name"].append(t["table_schema"])
            rows["table_name"].append(t["table_name"])
            rows["table_type"].append(t["table_type"])
            rows["table_schema"].append(ctx.table(qualified).schema().serialize().to_pybytes())
        return _TABLES_SCHEMA, [pa.RecordBatch.from_pydict(rows, schema=_TABLES_SCHEMA)]

    def _schema(self, db: str, sql: str) -> pa.Schema:
        """The schema a SQL query's answer will have, found by planning alone."""
        try:
            schema: pa.Schema = self._planning_context(db).sql(sql, options=READ_ONLY).schema()
        except Exception as err:
            raise QueryError(_clean(str(err))) from None
        return schema

    def _planning_with(self, db: str, extra: dict[str, pa.Table]) -> SessionContext:
        """A context to plan SQL over ``db``'s tables, empty, and ``extra`` tables (a
        subquery's answer) in place of stored ones of the same name."""
        schema = self._database(db)
        if not extra:
            return self._planner(db, schema)
        planning = new_context()  # (a context of its own: the cached one stays as it is)
        register_empty(planning, schema)
        for name, table in extra.items():
            planning.deregister_table(name)
            _register(planning, name, empty_table(table.schema))
        return planning

    def _plan(
        self, db: str, sql: str, extra: dict[str, pa.Table] | None
    ) -> tuple[pa.Schema, list[str]]:
        """EXPLAIN: the schema of ``sql``'s answer and DataFusion's optimized plan of it, by
        planning alone."""
        try:
            frame = self._planning_with(db, extra or {}).sql(sql, options=READ_ONLY)
            plan = frame.optimized_logical_plan().display_indent()
        except Exception as err:
            raise QueryError(_clean(str(err))) from None
        return frame.schema(), plan.splitlines()

    def _influxql(self, header: dict[str, Any]) -> tuple[Iterator[bytes], str, dict[str, Any]]:
        """Run InfluxQL; render the 1.x answer (``format`` v1json or v1csv) or, for the v3
        API, one table in a v3 format."""
        fmt = str(header.get("format", "v1json"))

        def run_sql(
            db: str, sql: str, extra: dict[str, pa.Table] | None, pick: TablePick | None
        ) -> pa.Table:
            schema, batches = self.execute(db, sql, None, extra, pick)
            return pa.Table.from_batches(list(batches), schema)

        def create_database(name: str, policy: dict[str, Any] | None) -> None:
            self._call({"op": "create_database", "db": name, "policy": policy})
            self._refresh_catalog()
            if policy is not None:  # writes to it go to its default policy
                self._ingest_catalogs()

        def change_catalog(op: dict[str, Any]) -> None:
            self._call(op, timeout_s=600.0)  # (a dropped policy's rows are deleted)
            self._refresh_catalog()
            if op["op"].endswith("_policy"):  # (writes follow the default policy)
                self._ingest_catalogs()

        def catalog(fresh: bool) -> Catalog:
            # our copy, looked up again when a statement needs the newest (SHOW, after
            # CREATE or DROP); a SELECT learns from its fetches whether its copy was current
            # (a write may have added tables or columns), see settled()
            if fresh:
                self._refresh_catalog()
            self._answered_from = (self._catalog_boot, self.catalog.version)
            return self.catalog

        def settled(check: bool) -> bool:
            seen, self._fetched_at = self._fetched_at, []
            used = self._answered_from
            if not check or (seen and all(k == used for k in seen)):
                return True
            self._refresh_catalog()  # nothing fetched, or the catalog changed meanwhile
            return (self._catalog_boot, self.catalog.version) == used

        def delete(
            db: str, tables: list[str] | None, predicate: Any, lo: int | None, hi: int | None
        ) -> None:
            self._call(
                {
                    "op": "delete",
                    "db": db,
                    "tables": tables,
                    "predicate": predicate,
                    "min_ns": lo,
                    "max_ns": hi,
                },
                timeout_s=600.0,
            )
            self._refresh_catalog()

        def drop(db: str, table: str | None) -> None:
            self._call({"op": "drop", "db": db, "table": table}, timeout_s=600.0)
            self._refresh_catalog()
            if table is None:  # made again, it may have other policies
                self._ingest_catalogs()

        ctx = InfluxQLContext(
            catalog,
            run_sql,
            create_database,
            self._rows,
            header.get("readable"),
            time.time_ns(),
            go_floats=fmt in _V1,
            drop=drop,
            writable=header.get("writable"),
            write=self._write,
            delete=delete,
            read_only=bool(header.get("read_only")),
            diagnostics=lambda: diagnostics(self.settings),
            settled=settled,
            running=header.get("running"),
            stats=header.get("stats"),
            kill=self._kill,
            rp=header.get("rp") or None,
            change_catalog=change_catalog,
            admin=bool(header.get("admin")),
            plan_sql=self._plan,
            who=str(header.get("who") or "this token"),
            user=header.get("user"),
            span=self._span,
            points=self._points,
        )
        self._fetched_at = []
        text = str(header["q"])
        if (run := header.get("continuous")) is not None:  # edge_gateway.continuous
            self._refresh_catalog()
            text = continuous_run(self.catalog, run["db"], run["name"], run["start"], run["end"])
        results = run_influxql(text, header.get("db") or None, header.get("params") or None, ctx)
        if ctx.interrupted:
            log.info("request %s interrupted (KILL QUERY)", header.get("id"))
            self._recover()
        return *_rendered(header, results), {"access_changed": True} if ctx.access_changed else {}

    def _control_answer(self, header: dict[str, Any]) -> tuple[str, bytes]:
        """SHOW QUERIES and KILL QUERY, answered on the control thread while the main
        thread may be running a long query (the gateway sends them there: a kill must not
        wait for a free worker). They need no data, only the list that came with them."""

        def none(*_: Any) -> Any:  # what these statements never call
            raise QueryError("only SHOW QUERIES and KILL QUERY are answered here")

        ctx = InfluxQLContext(
            none,
            none,
            none,
            none,
            header.get("readable"),
            time.time_ns(),
            go_floats=header.get("format", "v1json") in _V1,
            writable=header.get("writable"),
            running=header.get("running"),
            kill=self._kill,
        )
        results = run_influxql(str(header["q"]), header.get("db") or None, None, ctx)
        chunks, content_type = _rendered(header, results)
        return content_type, b"".join(chunks)

    def _kill(self, worker: int, request_id: Any) -> None:
        """KILL QUERY: tell ``worker``'s control thread to stop ``request_id``."""
        send_cancel(self.endpoints.query_control(worker), request_id)

    def _send(self, caller: Caller, header: dict[str, Any], *payloads: bytes) -> None:
        with self.canceller.shielded():
            caller.send(pack(header, *payloads))
            if header.get("kind") == "head":
                self._head_sent = True

    def execute(
        self,
        db: str,
        sql: str,
        params: dict[str, Any] | None,
        extra: dict[str, pa.Table] | None = None,
        pick: TablePick | None = None,
    ) -> tuple[pa.Schema, Iterator[pa.RecordBatch]]:
        """Run ``sql`` over ``db``; ``extra`` tables (a subquery's answer) shadow stored
        tables of the same name and are not fetched. ``pick``: the caller knows that only
        the rows first()/last() picks of that table can matter (one scan of it)."""
        extra = extra or {}
        for attempt in range(2):
            schema = self._database(db)
            planning = self._planning_with(db, extra)
            try:
                needs = plan_needs(planning, sql, params)
            except Exception as err:
                if attempt == 0 and "not found" in str(err):
                    self._refresh_catalog()  # a table created since our last look
                    continue
                raise QueryError(_clean(str(err))) from None
            if pick is not None and pick[0] not in extra and pick[0] in needs:
                needs[pick[0]].pick = pick[1] if needs[pick[0]].scans == 1 else None
            wanted = [need.to_wire() for name, need in needs.items() if name not in extra]
            reply, parts = self._fetch(db, wanted)
            current = (reply.get("boot"), reply["catalog_version"])
            self._fetched_at.append(current)
            if current != (self._catalog_boot, self.catalog.version) and attempt == 0:
                self._refresh_catalog()  # new columns since we planned: plan again
                continue
            fetched = {}
            for i, entry in enumerate(reply["tables"]):
                name = entry["name"]
                data = self._assemble(
                    schema.tables[name], needs[name], entry, parts[2 * i : 2 * i + 2]
                )
                # columns the SQL names but the optimizer found it never reads come as
                # nulls: planning checks every name before it prunes
                have = set(data.column_names)
                wider = pa.schema(
                    [
                        f
                        for f in schema.tables[name].query_schema()
                        if f.name in have or _names_column(sql, f.name)
                    ]
                )
                if len(wider) > len(have):
                    data = pa.Table.from_batches(
                        [conform(b, wider) for b in data.to_batches()], wider
                    )
                fetched[name] = data
            # few rows: one partition (splitting them costs more than it saves)
            rows = sum(t.num_rows for t in [*fetched.values(), *extra.values()])
            small = rows < _SMALL_ROWS
            ctx = new_context(1 if small else 2)
            for name, data in [*fetched.items(), *extra.items()]:
                _register(ctx, name, data, split=not small)
            df = None
            if all(name in schema.tables or name in extra for name in needs):
                try:
                    df = ctx.sql(sql, options=READ_ONLY, param_values=params)
                except Exception as err:
                    if (stop := interrupted_in(err)) is not None:
                        raise stop from None
                    df = None  # it names a table the optimizer proved empty: no scan, no fetch
            if df is None:  # every table then (information_schema asks about them all)
                for name, table in schema.tables.items():
                    if name not in fetched and name not in extra:
                        _register(ctx, name, empty_table(table.query_schema()))
                df = ctx.sql(sql, options=READ_ONLY, param_values=params)
            return df.schema(), (b.to_pyarrow() for b in df.execute_stream())
        raise QueryError("the catalog kept changing while the query was planned")

    def _rows(self, db: str, need: TableNeed) -> pa.Table:
        """One stored table's rows as ``need`` describes them, repeats merged: no SQL."""
        schema = self._database(db)
        reply, parts = self._fetch(db, [need.to_wire()])
        self._fetched_at.append((reply.get("boot"), reply["catalog_version"]))
        table = schema.tables.get(need.name)
        if not reply["tables"] or table is None:  # dropped since: no rows
            return pa.table({TIME_COLUMN: pa.array([], pa.timestamp("ns"))})
        return self._assemble(table, need, reply["tables"][0], parts[:2])

    def _points(
        self, db: str, name: str, lo: int, hi: int, values: dict[str, list[str]], field: str
    ) -> tuple[np.ndarray, np.ndarray] | None:
        """``influxql.lean``'s points of one field (its ``Points``), read from the shared
        buffer and the files as numpy; ``None`` where the general fetch must read them:
        nothing shared, our catalog not the one shared, repeats not merged yet, sources
        holding versions of the same rows (their times overlap), nulls."""
        shared = self.shared.state() if self.shared is not None else None
        if shared is None or self.shared is None or not self.current(shared):
            return None
        schema = self.catalog.databases.get(db)
        table = None if schema is None else schema.tables.get(name)
        kind = None if table is None else table.columns.get(field)
        if table is None or kind is None:
            return None
        try:
            buf = self.shared.table(shared, db, name)
            files = overlapping(self.shared.files(shared, db, name), lo, hi)
        except (LookupError, Stale):  # (replaced meanwhile: the general fetch reads again)
            return None
        sets = [] if buf is None else [buf.frozen, buf.live]
        spans = [(f.min_time_ns, f.max_time_ns) for f in files] + [time_span(c) for c in sets]
        if overlaps(spans):
            return None
        arrow = kind.arrow_type
        parts = []
        for f in files:
            part = self.parquet.points(f.path, lo, hi, values, field, arrow)
            if part is None:
                return None
            parts.append(part)
        for chunks in sets:
            self._indexed([c for c in chunks if c.max_ns >= lo and c.min_ns <= hi], [*values])
            taken = points_within(chunks, lo, hi, values, field, arrow)
            if taken is None:
                return None
            parts += taken
        self._fetched_at.append((shared.boot, shared.catalog))
        if len(parts) == 1:
            return parts[0]
        if not parts:
            return np.zeros(0, dtype=np.int64), np.zeros(0, dtype=arrow.to_pandas_dtype())
        return np.concatenate([t for t, _ in parts]), np.concatenate([x for _, x in parts])

    def _indexed(self, chunks: list[Chunk], tags: list[str]) -> None:
        """Before ``chunks`` are read by ``tags``' values: their indexes are made on first
        use, here as they are read (the gateway's reader has them made elsewhere)."""

    def _span(
        self, db: str, name: str, lo: int | None, hi: int | None
    ) -> tuple[int, int, int] | None:
        """The first and last time of a stored table's rows within ``lo``..``hi``, as its
        sources' time ranges tell (a source may hold none there), and the rows of those
        sources; ``None``: no source. No row is read."""
        wire = {"name": name, "columns": [TIME_COLUMN], "min_ns": lo, "max_ns": hi}
        reply, _ = self._fetch(db, [{**wire, "spans_only": True}])
        self._fetched_at.append((reply.get("boot"), reply["catalog_version"]))
        if not reply["tables"]:
            return None
        entry = reply["tables"][0]
        spans = [(int(f["min_time_ns"]), int(f["max_time_ns"])) for f in entry["files"]]
        spans += [(int(r[0]), int(r[1])) for r in (entry["frozen"], entry["live"]) if r]
        if not spans:
            return None
        return min(a for a, _ in spans), max(b for _, b in spans), int(entry.get("rows") or 0)

    def _fetch(
        self, db: str, wanted: list[dict[str, Any]]
    ) -> tuple[dict[str, Any], list[pa.Table | None]]:
        """Per table wanted (``TableNeed.to_wire``): where its rows are, and its frozen and
        live buffered rows (``None``: none), read from the chunks the persister shares
        where it can be (``edge_common.shared``), else asked of the persister."""
        for _ in range(3):  # (a newer state replaced the one read meanwhile: read it)
            try:
                local = self._fetch_shared(db, wanted)
            except Stale:
                continue
            if local is not None:
                return local
            break
        reply, frames = self._call({"op": "fetch", "db": db, "tables": wanted})
        return reply, [read_ipc(f) if len(f) else None for f in frames]

    def _fetch_shared(
        self, db: str, wanted: list[dict[str, Any]]
    ) -> tuple[dict[str, Any], list[pa.Table | None]] | None:
        """``_fetch`` from the shared buffer, or ``None`` where the persister must answer:
        nothing shared, our catalog not the one shared (the persister's answer tells the
        query to plan again), a table holding repeats not merged yet."""
        shared = self.shared.state() if self.shared is not None else None
        if shared is None or self.shared is None:
            return None
        if not self.current(shared):
            return None
        schema = self.catalog.databases.get(db)
        if schema is None:
            return None  # (the persister's answer: database not found)
        tables, parts = [], []
        for req in wanted:
            table = schema.tables.get(req["name"])
            if table is None:
                continue
            try:
                buf = self.shared.table(shared, db, req["name"])
            except LookupError:
                return None
            held = self.shared.files(shared, db, req["name"])
            files = overlapping(held, req.get("min_ns"), req.get("max_ns"))
            entry, frozen, live, arrow = fetch_table(table, req, buf, files)
            parts += [pa.Table.from_batches(b, arrow) if b else None for b in (frozen, live)]
            tables.append(entry)
        reply = {"tables": tables, "catalog_version": shared.catalog, "boot": shared.boot}
        return reply, parts

    def _planner(self, db: str, schema: DatabaseSchema) -> SessionContext:
        """A context with every table of ``db``, empty, for planning: kept while the
        catalog's version stays the same (queries cannot change it: they are read-only)."""
        key = (self._catalog_boot, self.catalog.version)
        cached = self._planners.get(db)
        if cached is not None and cached[0] == key:
            return cached[1]
        ctx = new_context()
        register_empty(ctx, schema)
        self._planners[db] = (key, ctx)
        return ctx

    def _assemble(
        self,
        table: TableSchema,
        need: TableNeed,
        entry: dict[str, Any],
        parts: list[pa.Table | None],
    ) -> pa.Table:
        # the persister widens the columns by each row's identity when sources overlap
        cols = entry["columns"]
        names = sorted(table.columns) if cols is None else sorted(cols)
        target = table.arrow_schema(names)
        sources: list[tuple[tuple[int, int] | None, pa.Table]] = []
        tags = table.tag_set()
        values = {k: sorted(v) for k, v in need.values.items() if k in tags}
        compare = need.compare if entry.get("compared") else None
        # picks are sound only when no condition on a field drops rows first
        pick = need.pick if all(c[0] in tags for c in need.compare) else None
        files = [
            (f["path"], (int(f["min_time_ns"]), int(f["max_time_ns"]))) for f in entry["files"]
        ]
        if pick is not None and len(files) > 1 and not overlaps([s for _, s in files]):
            data = self.parquet.read_picked(
                files, target, need.min_ns, need.max_ns, values, compare, pick, table
            )
            sources.append(((min(s[0] for _, s in files), max(s[1] for _, s in files)), data))
        else:
            for path, held in files:
                data = self.parquet.read(
                    path, target, need.min_ns, need.max_ns, values, compare, pick, table, held
                )
                sources.append((held, data))
        for rng, part in zip((entry["frozen"], entry["live"]), parts, strict=True):
            span = None if rng is None else (int(rng[0]), int(rng[1]))
            rows = empty_table(target) if part is None else part.select(names)
            sources.append((span, rows))
        return combine(table, target, sources)


_TABLES_SCHEMA = pa.schema(
    [
        ("catalog_name", pa.string()),
        ("db_schema_name", pa.string()),
        pa.field("table_name", pa.string(), nullable=False),
        pa.field("table_type", pa.string(), nullable=False),
        pa.field("table_schema", pa.binary(), nullable=False),
    ]
)


def _names_column(sql: str, name: str) -> bool:
    """Whether ``sql`` may name column ``name``: quoted, or as a whole word. (Asked for each
    column a query did not fetch, 16 of TSBS's cpu: a pattern each cost ~0.15 ms a query.)"""
    if f'"{name}"' in sql:
        return True
    if _WORD.fullmatch(name):
        return name in _bare_words(sql)
    word = re.escape(name)
    return re.search(rf'(?<![\w"]){word}(?![\w"])', sql) is not None


_WORD = re.compile(r"\w+")
_BARE_WORD = re.compile(r'(?<![\w"])\w+(?![\w"])')


@functools.lru_cache(maxsize=64)
def _bare_words(sql: str) -> frozenset[str]:
    """The whole words of ``sql`` not touching a double quote."""
    return frozenset(_BARE_WORD.findall(sql))


def _register(ctx: SessionContext, name: str, table: pa.Table, split: bool = True) -> None:
    batches = table.to_batches()
    if not batches:
        batches = [pa.RecordBatch.from_pylist([], schema=table.schema)]
    half = (len(batches) + 1) // 2
    parts = [batches[:half], batches[half:]] if split and len(batches) > 1 else [batches]
    ctx.register_record_batches(name, parts)


def _rendered(header: dict[str, Any], results: list[dict[str, Any]]) -> tuple[Iterator[bytes], str]:
    """InfluxQL results as the request asked: the 1.x answer (``format`` v1json or v1csv),
    or one table in a v3 format."""
    fmt = str(header.get("format", "v1json"))
    if fmt in _V1:
        chunks = render_v1(
            results,
            epoch=header.get("epoch") or None,
            pretty=bool(header.get("pretty")),
            fmt=fmt[2:],
            chunked=bool(header.get("chunked")),
            chunk_size=int(header.get("chunk_size") or 10_000),
        )
        # (influxd answers text/csv whichever CSV type was asked)
        return chunks, ("text/csv" if fmt == "v1csv" else "application/json")
    if fmt not in CONTENT_TYPES:
        raise QueryError(f"unknown format {fmt!r}: use json, jsonl, csv, pretty or parquet")
    table = to_arrow(results)
    return render(fmt, table.schema, iter(table.to_batches())), CONTENT_TYPES[fmt]


def _clean(message: str) -> str:
    """DataFusion's message without the wrapper text of the Python binding."""
    for prefix in ("DataFusion error: ", "Execution error: "):
        message = message.removeprefix(prefix)
    return message.strip()
