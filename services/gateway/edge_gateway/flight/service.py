"""Arrow Flight and Flight SQL: the query API of InfluxDB 3's native clients.

Queries run on the same query workers as HTTP; their answers arrive as Arrow IPC streams and
go out as Flight record batches, never as Python rows. Served on a unix socket (the HTTP port
hands gRPC connections to it, see :mod:`edge_gateway.flight.front`) and, with
``--flight-bind``, on a TCP port of its own.

- ``DoGet`` with a JSON ticket ``{"database", "sql_query", "query_type", "params"}``: what
  ``influxdb3-python`` sends.
- Flight SQL: statements, prepared statements (parameters bound by ``DoPut``), SqlInfo,
  catalogs, schemas, tables, table types. The database comes from the ``database`` header
  (or ``bucket``, ``bucket-name``); ``x-influxdata-query-language: influxql`` switches the
  language.

gRPC runs handlers on its own threads; they reach the gateway's worker pools and token cache
on the asyncio loop through :meth:`FlightService._await`.
"""

from __future__ import annotations

import asyncio
import functools
import logging
import secrets
import threading
import time
from collections.abc import AsyncGenerator, Callable, Coroutine, Iterator
from dataclasses import dataclass, field
from typing import Any, TypeVar

import orjson
import pyarrow as pa
import pyarrow.flight as flight

from edge_common.errors import (
    BadRequest,
    EdgeError,
    Forbidden,
    NotFound,
    QueryError,
    TooManyRequests,
    Unauthenticated,
    Unavailable,
    from_wire,
)
from edge_gateway.auth import Principal
from edge_gateway.flight import metadata, sqlproto
from edge_gateway.queries import query_request
from edge_gateway.state import Gateway
from edge_gateway.stats import asked, collect

__all__ = ["FlightService", "flight_error"]

log = logging.getLogger(__name__)
T = TypeVar("T")

_DB_HEADERS = ("database", "bucket", "bucket-name")
_HELD_S = 300.0  # an InfluxQL answer waits this long for its DoGet
_HELD_BYTES = 1 << 30
_PREPARED_IDLE_S = 3600.0  # a prepared statement unused this long is forgotten


def flight_error(err: EdgeError) -> Exception:
    """The gRPC status an error answers with; the message is the one HTTP gives."""
    msg = err.message
    if isinstance(err, Unauthenticated):
        return flight.FlightUnauthenticatedError(msg)
    if isinstance(err, Forbidden):
        return flight.FlightUnauthorizedError(msg)
    if isinstance(err, Unavailable | TooManyRequests):
        return flight.FlightUnavailableError(msg)
    if isinstance(err, NotFound):
        return pa.ArrowKeyError(msg)  # NOT_FOUND
    if isinstance(err, BadRequest | QueryError):
        return pa.ArrowInvalid(msg)  # INVALID_ARGUMENT
    return flight.FlightInternalError(msg)


def _client(peer: str) -> str:
    """The remote address of a call: the front names the real client in its socket name."""
    if peer.startswith("unix-abstract:edge-peer/"):
        return peer.split("/")[1]
    kind, _, rest = peer.partition(":")
    if kind == "ipv4":
        return rest.rpartition(":")[0]
    if kind == "ipv6":
        return rest.rpartition(":")[0].strip("[]")
    return peer or "unknown"


def _rpc(method: Callable[..., T]) -> Callable[..., T]:
    """An RPC handler: EdgeErrors leave it as the matching gRPC status."""

    @functools.wraps(method)
    def handler(*args: Any) -> T:
        try:
            return method(*args)
        except EdgeError as err:
            raise flight_error(err) from None

    return handler


class _Headers(flight.ServerMiddleware):
    def __init__(self, headers: dict[str, list[Any]], reply: dict[str, str]) -> None:
        self.headers = headers
        self.reply = reply

    def get(self, name: str) -> str | None:
        values = self.headers.get(name)
        if not values:
            return None
        value = values[0]
        return value.decode(errors="replace") if isinstance(value, bytes) else str(value)

    def sending_headers(self) -> dict[str, str]:
        return self.reply


class _HeadersFactory(flight.ServerMiddlewareFactory):
    """Keeps each call's request headers for the handler; answers a Basic handshake with the
    token to use as Bearer (the password is the token, as with 1.x ``p``)."""

    def __init__(self, service: FlightService) -> None:
        self.service = service

    def start_call(self, info: Any, headers: dict[str, list[Any]]) -> _Headers:
        mw = _Headers(headers, {})
        if info.method == flight.FlightMethod.HANDSHAKE:
            authz = mw.get("authorization")
            if authz is not None:
                try:
                    who = self.service._await(self.service.gw.auth.check("handshake", authz))
                except EdgeError as err:
                    raise flight_error(err) from None
                scheme, _, value = authz.partition(" ")
                if scheme.lower() == "basic" and who.user is not None:  # a 1.x user
                    session = self.service.gw.auth.session(who.user)
                    mw.reply["authorization"] = f"Bearer {session}"
                elif scheme.lower() == "basic":
                    import base64

                    token = base64.b64decode(value).decode().partition(":")[2]
                    mw.reply["authorization"] = f"Bearer {token}"
        return mw


class _AnyHandshake(flight.ServerAuthHandler):
    """The Handshake call itself: credentials are headers, checked on every call instead."""

    def authenticate(self, outgoing: Any, incoming: Any) -> None:
        return None

    def is_valid(self, token: bytes) -> bytes:
        return b""


@dataclass
class _Prepared:
    query: str
    database: str
    language: str
    owner: str
    params: dict[str, Any] | None = None
    used_at: float = field(default_factory=time.monotonic)


@dataclass
class _Held:
    """Answers computed while answering GetFlightInfo (InfluxQL), waiting for their DoGet."""

    items: dict[bytes, tuple[float, pa.Table]] = field(default_factory=dict)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def put(self, table: pa.Table) -> bytes:
        handle = b"held:" + secrets.token_hex(16).encode()
        now = time.monotonic()
        with self.lock:
            for key, (at, _) in list(self.items.items()):
                if now - at > _HELD_S:
                    del self.items[key]
            while self.items and sum(t.nbytes for _, t in self.items.values()) > _HELD_BYTES:
                del self.items[next(iter(self.items))]
            self.items[handle] = (now, table)
        return handle

    def take(self, handle: bytes) -> pa.Table:
        with self.lock:
            held = self.items.pop(handle, None)
        if held is None:
            raise NotFound("unknown or expired statement handle: run the query again")
        return held[1]


class FlightService(flight.FlightServerBase):
    def __init__(
        self, location: str, gw: Gateway, loop: asyncio.AbstractEventLoop, timeout_s: float
    ) -> None:
        self.gw = gw
        self.loop = loop
        self.timeout_s = timeout_s
        self.held = _Held()
        self.prepared: dict[bytes, _Prepared] = {}
        super().__init__(
            location, auth_handler=_AnyHandshake(), middleware={"edge": _HeadersFactory(self)}
        )

    # --- plumbing ----------------------------------------------------------------------
    def _await(self, coro: Coroutine[Any, Any, T]) -> T:
        """Run ``coro`` on the gateway's loop and wait for it (from a gRPC thread)."""
        return asyncio.run_coroutine_threadsafe(coro, self.loop).result(self.timeout_s + 5)

    @staticmethod
    def _header(context: Any, name: str) -> str | None:
        mw = context.get_middleware("edge")
        return mw.get(name) if mw is not None else None

    def _who(self, context: Any) -> Principal:
        authz = self._header(context, "authorization")
        return self._await(self.gw.auth.check(_client(context.peer()), authz))

    def _database(self, context: Any) -> str:
        for name in _DB_HEADERS:
            value = self._header(context, name)
            if value:
                return value
        raise BadRequest("missing database: give it in the 'database' header")

    def _language(self, context: Any) -> str:
        value = (self._header(context, "x-influxdata-query-language") or "sql").lower()
        if value not in ("sql", "influxql"):
            raise BadRequest(f"unknown query language {value!r}: use sql or influxql")
        return value

    def _query_header(
        self, who: Principal, db: str, query: str, language: str, params: Any
    ) -> dict[str, Any]:
        if not db:
            raise BadRequest("missing database")
        if not query:
            raise BadRequest("missing query")
        header = query_request(who, db, query, language, "arrow", params)
        if asked(header):  # SHOW STATS: the group's statistics, gathered here
            header["stats"] = self._await(collect(self.gw))
        return header

    def _open(self, header: dict[str, Any]) -> tuple[pa.Schema, Iterator[pa.RecordBatch]]:
        """Start a query on a worker: its schema, and its batches as they arrive."""
        running = self.gw.query.running
        if running is not None and running.takes(header):
            # SHOW QUERIES / KILL QUERY: a control thread's answer, one IPC stream
            head, payloads = self._await(running.answer(header))
            if not head.get("ok"):
                raise from_wire(head["error"])
            answer = pa.ipc.open_stream(pa.py_buffer(payloads[0]))
            return answer.schema, iter(answer)
        agen = self.gw.query.stream(header)

        async def step() -> tuple[dict[str, Any], list[Any]]:
            return await agen.__anext__()

        head, _ = self._await(step())
        if not head.get("ok"):
            self._await(agen.aclose())
            raise from_wire(head["error"])
        if head.get("access_changed"):  # (CREATE USER, REVOKE, …: in force from now on)
            self._await(self.gw.auth.tokens.refresh(force=True))
        reply, frames = self._await(step())
        if reply.get("kind") != "chunk":
            self._await(agen.aclose())
            raise QueryError(reply.get("message", "the query worker sent no result"))
        first = pa.ipc.open_stream(pa.py_buffer(frames[0]))
        return first.schema, self._batches(agen, step, first)

    def _batches(self, agen: AsyncGenerator[Any, None], step: Any, first: Any) -> Iterator[Any]:
        try:
            yield from first
            while True:
                reply, frames = self._await(step())
                kind = reply.get("kind")
                if kind == "chunk":
                    yield from pa.ipc.open_stream(pa.py_buffer(frames[0]))
                elif kind == "end":
                    return
                else:
                    raise flight.FlightInternalError(reply.get("message", "query failed"))
        finally:
            self._await(agen.aclose())

    def _ask(self, header: dict[str, Any]) -> list[Any]:
        reply, frames = self._await(self.gw.query.request(header))
        if not reply.get("ok"):
            raise from_wire(reply["error"])
        return frames

    def _listed(self, db: str) -> pa.Table:
        frames = self._ask({"op": "tables", "db": db})
        return pa.ipc.open_stream(pa.py_buffer(frames[0])).read_all()

    def _schema_of(self, who: Principal, db: str, query: str, language: str) -> pa.Schema | None:
        """The answer's schema by planning alone (SQL); None when only running tells."""
        if language != "sql":
            return None
        self._query_header(who, db, query, language, None)
        frames = self._ask({"op": "schema", "db": db, "q": query})
        schema: pa.Schema = pa.ipc.open_stream(pa.py_buffer(frames[0])).schema
        return schema

    # --- RPCs --------------------------------------------------------------------------
    @_rpc
    def do_get(self, context: Any, ticket: flight.Ticket) -> flight.FlightDataStream:
        who = self._who(context)
        raw = ticket.ticket
        command = sqlproto.unpack(raw)
        if command is None:
            return self._json_ticket(who, raw)
        name, msg = command
        if name == "TicketStatementQuery":
            handle = bytes(msg.statement_handle)
            if handle.startswith(b"held:"):
                return flight.RecordBatchStream(self.held.take(handle))
            return self._json_ticket(who, handle)
        return flight.RecordBatchStream(self._metadata(context, who, name, msg))

    def _json_ticket(self, who: Principal, raw: bytes) -> flight.FlightDataStream:
        try:
            doc = orjson.loads(raw)
        except orjson.JSONDecodeError:
            raise BadRequest(
                'the ticket is not JSON {"database", "sql_query", "query_type", "params"} '
                "nor a Flight SQL ticket"
            ) from None
        if not isinstance(doc, dict):
            raise BadRequest('the ticket must be a JSON object {"database", "sql_query", ...}')
        header = self._query_header(
            who,
            str(doc.get("database") or ""),
            str(doc.get("sql_query") or ""),
            str(doc.get("query_type") or "sql").lower(),
            doc.get("params"),
        )
        schema, batches = self._open(header)
        # a RecordBatchStream over a reader (not a GeneratorStream, which drops dictionaries)
        return flight.RecordBatchStream(pa.RecordBatchReader.from_batches(schema, batches))

    @_rpc
    def get_flight_info(
        self, context: Any, descriptor: flight.FlightDescriptor
    ) -> flight.FlightInfo:
        who = self._who(context)
        name, msg = _command(descriptor)
        if name in ("CommandStatementQuery", "CommandPreparedStatementQuery"):
            db, query, language, params = self._statement(context, who, name, msg)
            schema = self._schema_of(who, db, query, language)
            if schema is not None:
                handle = orjson.dumps(
                    {
                        "database": db,
                        "sql_query": query,
                        "query_type": language,
                        "params": params,
                    }
                )
            else:  # InfluxQL: run it now for the schema, hand the answer to DoGet
                header = self._query_header(who, db, query, language, params)
                schema, batches = self._open(header)
                table = pa.Table.from_batches(list(batches), schema)
                handle = self.held.put(table)
            ticket = sqlproto.pack("TicketStatementQuery", statement_handle=handle)
        else:
            schema = self._metadata(context, who, name, msg).schema
            ticket = descriptor.command
        endpoint = flight.FlightEndpoint(ticket, [])
        return flight.FlightInfo(schema, descriptor, [endpoint], -1, -1)

    @_rpc
    def get_schema(self, context: Any, descriptor: flight.FlightDescriptor) -> pa.Schema:
        who = self._who(context)
        name, msg = _command(descriptor)
        if name in ("CommandStatementQuery", "CommandPreparedStatementQuery"):
            db, query, language, _ = self._statement(context, who, name, msg)
            schema = self._schema_of(who, db, query, language)
            if schema is None:
                raise BadRequest("the schema of an InfluxQL answer is known only by running it")
            return schema
        return self._metadata(context, who, name, msg).schema

    def _statement(
        self, context: Any, who: Principal, name: str, msg: Any
    ) -> tuple[str, str, str, dict[str, Any] | None]:
        if name == "CommandStatementQuery":
            return self._database(context), msg.query, self._language(context), None
        prepared = self._prepared(who, bytes(msg.prepared_statement_handle))
        return prepared.database, prepared.query, prepared.language, prepared.params

    def _prepared(self, who: Principal, handle: bytes) -> _Prepared:
        prepared = self.prepared.get(handle)
        if prepared is None or prepared.owner != _owner(who):
            raise NotFound("unknown prepared statement handle")
        prepared.used_at = time.monotonic()
        return prepared

    def _metadata(self, context: Any, who: Principal, name: str, msg: Any) -> pa.Table:
        if name == "CommandGetSqlInfo":
            return metadata.sql_info(list(msg.info))
        if name not in (
            "CommandGetCatalogs",
            "CommandGetDbSchemas",
            "CommandGetTables",
            "CommandGetTableTypes",
        ):
            raise BadRequest(f"Flight SQL command {name} is not supported by this server")
        db = self._database(context)
        if not who.allows("read", db):
            raise Forbidden(f"{who.subject} may not read database {db!r}")
        listed = self._listed(db)
        if name == "CommandGetCatalogs":
            return metadata.catalogs(listed)
        if name == "CommandGetTableTypes":
            return metadata.table_types(listed)
        catalog = msg.catalog if msg.HasField("catalog") else None
        pattern = msg.db_schema_filter_pattern if msg.HasField("db_schema_filter_pattern") else None
        if name == "CommandGetDbSchemas":
            return metadata.db_schemas(listed, catalog, pattern)
        return metadata.tables(
            listed,
            catalog,
            pattern,
            msg.table_name_filter_pattern if msg.HasField("table_name_filter_pattern") else None,
            list(msg.table_types),
            msg.include_schema,
        )

    @_rpc
    def do_action(self, context: Any, action: flight.Action) -> Iterator[flight.Result]:
        who = self._who(context)
        command = sqlproto.unpack(action.body.to_pybytes() if action.body else b"")
        if action.type == "CreatePreparedStatement":
            if command is None or command[0] != "ActionCreatePreparedStatementRequest":
                raise BadRequest(
                    "CreatePreparedStatement takes an ActionCreatePreparedStatementRequest"
                )
            query = command[1].query
            db, language = self._database(context), self._language(context)
            schema = self._schema_of(who, db, query, language)
            handle = secrets.token_bytes(16)
            now = time.monotonic()
            for key, old in list(self.prepared.items()):  # clients that never closed theirs
                if now - old.used_at > _PREPARED_IDLE_S:
                    self.prepared.pop(key, None)
            self.prepared[handle] = _Prepared(query, db, language, _owner(who))
            result = sqlproto.pack(
                "ActionCreatePreparedStatementResult",
                prepared_statement_handle=handle,
                dataset_schema=b"" if schema is None else schema.serialize().to_pybytes(),
                parameter_schema=b"",
            )
            return iter([flight.Result(result)])
        if action.type == "ClosePreparedStatement":
            if command is None or command[0] != "ActionClosePreparedStatementRequest":
                raise BadRequest(
                    "ClosePreparedStatement takes an ActionClosePreparedStatementRequest"
                )
            handle = bytes(command[1].prepared_statement_handle)
            self._prepared(who, handle)
            self.prepared.pop(handle, None)
            return iter([])
        raise BadRequest(f"unknown action {action.type!r}")

    @_rpc
    def list_flights(self, context: Any, criteria: bytes) -> Iterator[flight.FlightInfo]:
        self._who(context)
        return iter([])  # nothing is named in advance: every answer is asked for by a command

    @_rpc
    def do_exchange(
        self, context: Any, descriptor: flight.FlightDescriptor, reader: Any, writer: Any
    ) -> None:
        self._who(context)
        raise NotImplementedError("DoExchange is not supported: use DoGet or Flight SQL")

    @_rpc
    def list_actions(self, context: Any) -> list[tuple[str, str]]:
        self._who(context)
        return [
            ("CreatePreparedStatement", "prepare a query; bind parameters with DoPut"),
            ("ClosePreparedStatement", "forget a prepared query"),
        ]

    @_rpc
    def do_put(
        self,
        context: Any,
        descriptor: flight.FlightDescriptor,
        reader: flight.MetadataRecordBatchReader,
        writer: flight.FlightMetadataWriter,
    ) -> None:
        who = self._who(context)
        command = sqlproto.unpack(descriptor.command or b"")
        if command is None or command[0] != "CommandPreparedStatementQuery":
            raise BadRequest(
                "DoPut binds parameters of a prepared statement; this server takes writes "
                "as line protocol over HTTP"
            )
        handle = bytes(command[1].prepared_statement_handle)
        prepared = self._prepared(who, handle)
        table = reader.read_all()
        if table.num_rows > 1:
            raise BadRequest("bind one row of parameters per execution")
        params: dict[str, Any] = {}
        for i, (name, column) in enumerate(zip(table.column_names, table.columns, strict=True)):
            value = column[0].as_py() if table.num_rows else None
            params[str(i + 1)] = value
            if name and not name.isdigit():
                params[name.lstrip("$")] = value
        prepared.params = params if table.num_rows else None
        # bare, not in an Any: clients read app_metadata as this message itself
        result = sqlproto.encode("DoPutPreparedStatementResult", prepared_statement_handle=handle)
        writer.write(pa.py_buffer(result))


def _command(descriptor: flight.FlightDescriptor) -> tuple[str, Any]:
    """The Flight SQL command a descriptor carries (name, message)."""
    command = sqlproto.unpack(descriptor.command or b"")
    if command is None or command[1] is None:
        raise BadRequest("expected a Flight SQL command in the descriptor")
    return command


def _owner(who: Principal) -> str:
    if who.user is not None:
        return f"user:{who.user.name}"
    return "admin" if who.admin or who.token is None else who.token.hash
