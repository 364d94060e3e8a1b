"""The ingest worker's event loop.

A write: parse the body, fit it to the catalog (asking the persister for new columns), append
one record to the WAL, send the same bytes to the persister, and answer the gateway once the
record is durable (unless ``no_sync``) and applied (so the next query sees it). Records the
persister has not confirmed are sent again until it does; it ignores ones it already has.
"""

from __future__ import annotations

import itertools
import logging
import os
import time
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import pyarrow as pa
import zmq

from edge_common.errors import BadRequest, EdgeError, Unavailable, from_wire
from edge_common.lineprotocol import parse, precision_factor
from edge_common.lp_influxd import echoed, refusal
from edge_common.lp_rows import LineError
from edge_common.merge import joined
from edge_common.schema import Catalog, ColumnType, TableSchema, validate_database_name
from edge_common.settings import Settings
from edge_common.stream import Caller, Listener
from edge_common.wire import Endpoints, WriteRecord, error_header, pack, unpack
from edge_ingest.batches import (
    Rejection,
    build_batch,
    in_line_order,
    kept_columns,
    proposed_columns,
    refused,
)
from edge_ingest.wal import NoWal, WalWriter

__all__ = ["IngestWorker"]

log = logging.getLogger(__name__)
_RESEND_S = 2.0
_MAX_ERRORS_REPORTED = 100


@dataclass
class _Pending:
    # each write the record holds: its caller and the answer it gets
    clients: list[tuple[Caller, dict[str, Any]]]
    payload: bytes
    need_sync: bool
    sent_at: float
    applied: bool = False
    error: dict[str, Any] | None = None


class IngestWorker:
    def __init__(self, settings: Settings, worker_id: int, ctx: zmq.Context[Any]) -> None:
        self.settings = settings
        self.worker_id = worker_id
        self.ctx = ctx
        self.endpoints = Endpoints.for_data_dir(settings.data_dir)
        self.catalog = Catalog()
        self.pending: dict[int, _Pending] = {}
        self._durable_seq = 0
        self._call_id = 0
        self._persister_full = False
        self._catalog_behind = False  # the persister's catalog is newer (see _take_catalog)
        self._full_checked = 0.0
        self.stopping = False

    # --- sockets -----------------------------------------------------------------------
    def _open(self) -> None:
        self.endpoints.prepare()  # the socket directory, whoever starts first
        self.pers = self.ctx.socket(zmq.DEALER)
        self.pers.setsockopt(zmq.LINGER, 0)
        self.pers.connect(self.endpoints.persister_ingest)
        self.sync_rx = self.ctx.socket(zmq.PULL)
        self.sync_rx.bind(f"inproc://wal-sync-{self.worker_id}")
        self._sync_tx = self.ctx.socket(zmq.PUSH)
        self._sync_tx.connect(f"inproc://wal-sync-{self.worker_id}")

    def run(self) -> int:
        self._open()
        wal_dir = self.settings.data_dir / "wal" / f"ingest-{self.worker_id}"
        self.wal: WalWriter | NoWal = (
            NoWal() if self.settings.wal_disable else WalWriter(wal_dir, self._on_durable_notify)
        )
        self._hello()
        poller = zmq.Poller()
        poller.register(self.pers, zmq.POLLIN)
        poller.register(self.sync_rx, zmq.POLLIN)
        requests = Listener(self.endpoints.ingest(self.worker_id), poller)
        log.info("ingest worker %d ready (WAL at seq %d)", self.worker_id, self.wal.last_seq)
        while not (self.stopping and not self.pending):
            events = dict(poller.poll(0 if requests.queue and not self.stopping else 500))
            if self.sync_rx in events:
                self._drain_sync()
            if self.pers in events:
                self._drain_persister()
            if not self.stopping:
                requests.take(events)
                waiting = [r for r in (requests.pop() for _ in range(8)) if r is not None]
                if waiting:
                    self._handle(waiting)
            self._resend_stale()
            requests.sweep()
        requests.close()
        self.wal.close()
        return 0

    def _on_durable_notify(self, seq: int) -> None:
        # runs in the WAL sync thread, the only user of the PUSH socket
        self._sync_tx.send(seq.to_bytes(8, "little"))

    def _drain_sync(self) -> None:
        while True:
            try:
                msg = self.sync_rx.recv(zmq.NOBLOCK)
            except zmq.Again:
                break
            self._durable_seq = max(self._durable_seq, int.from_bytes(msg, "little"))
        for seq in [s for s in self.pending if s <= self._durable_seq]:
            self._maybe_finish(seq)

    # --- persister link ----------------------------------------------------------------
    def _call(self, header: dict[str, Any], timeout_s: float = 10.0) -> dict[str, Any]:
        """A request to the persister, answered in order with other traffic dispatched."""
        self._call_id += 1
        call_id = self._call_id
        deadline = time.monotonic() + timeout_s
        self.pers.send_multipart(pack({**header, "call": call_id}))
        while time.monotonic() < deadline:
            if not self.pers.poll(200):
                continue
            frames = self.pers.recv_multipart()
            reply, _ = unpack(frames)
            if reply.get("call") == call_id:
                if not reply.get("ok", True):
                    raise from_wire(reply["error"])
                return reply
            self._on_persister_reply(reply)
        raise Unavailable("the persister did not answer in time")

    def _hello(self) -> None:
        while True:
            try:
                reply = self._call(
                    {"op": "hello", "worker": self.worker_id, "last_seq": self.wal.last_seq},
                    timeout_s=5.0,
                )
                self.catalog = Catalog.from_json(reply["catalog"])
                self.wal.advance_to(int(reply["seq_floor"]))
                return
            except Unavailable:
                log.warning("ingest worker %d: waiting for the persister", self.worker_id)

    def _drain_persister(self) -> None:
        while True:
            try:
                frames = self.pers.recv_multipart(zmq.NOBLOCK)
            except zmq.Again:
                return
            reply, _ = unpack(frames)
            self._on_persister_reply(reply)

    def _on_persister_reply(self, reply: dict[str, Any]) -> None:
        if reply.get("op") != "applied":
            return
        self._persister_full = bool(reply.get("full"))
        # a catalog newer than ours (a retention policy changed, and the query worker that
        # changed it could not tell us): the next write takes it first
        self._catalog_behind |= int(reply.get("catalog_version", 0)) > self.catalog.version
        p = self.pending.get(int(reply["seq"]))
        if p is None:
            return
        if reply.get("ok", True):
            p.applied = True
        else:
            p.error = reply["error"]
        self._maybe_finish(int(reply["seq"]))

    def _resend_stale(self) -> None:
        now = time.monotonic()
        for seq, p in self.pending.items():
            if not p.applied and now - p.sent_at > _RESEND_S:
                p.sent_at = now
                self.pers.send_multipart(
                    pack({"op": "apply", "worker": self.worker_id, "seq": seq}, p.payload),
                    copy=False,
                )

    def _maybe_finish(self, seq: int) -> None:
        p = self.pending[seq]
        if p.error is not None:
            for client, _ in p.clients:
                self._reply(client, {"ok": False, "error": p.error})
        elif p.applied and (not p.need_sync or seq <= self._durable_seq):
            for client, reply in p.clients:
                self._reply(client, reply)
        else:
            return
        del self.pending[seq]

    def _reply(self, client: Caller, header: dict[str, Any]) -> None:
        client.send(pack(header))

    # --- a write -----------------------------------------------------------------------
    def _handle(self, waiting: Sequence[tuple[Caller, list[Any]]]) -> None:
        """The requests that were waiting, in order. Writes to one database that arrived
        together become one record: one WAL append, one apply by the persister, each client
        answered when it is durable (a one-line write cost the persister as much as
        thousands of lines; under concurrent small writes they now share it)."""
        accepted: list[tuple[Caller, dict[str, Any], WriteRecord, bool]] = []
        for client, frames in waiting:
            item = self._admit(client, frames)
            if item is not None:
                accepted.append(item)
        for _, together in itertools.groupby(accepted, key=lambda a: (a[2].db, a[3])):
            items = list(together)
            if len(items) > 1:
                try:
                    record = _joined([a[2] for a in items])
                except (pa.ArrowInvalid, pa.ArrowTypeError):  # (batches built from one
                    # catalog agree; should two not, each write keeps a record of its own)
                    log.exception("writes not joined; they are logged one by one")
                    for item in items:
                        self._log(item[2], [item[:2]], item[3])
                    continue
            else:
                record = items[0][2]
            self._log(record, [(client, reply) for client, reply, _, _ in items], items[0][3])

    def _log(
        self,
        record: WriteRecord,
        clients: list[tuple[Caller, dict[str, Any]]],
        need_sync: bool,
    ) -> None:
        """Append ``record`` to the WAL and send it to the persister; ``clients`` are
        answered once it is applied (and durable, with ``need_sync``)."""
        payload = record.encode()
        seq = self.wal.append(payload)
        self.pending[seq] = _Pending(clients, payload, need_sync, time.monotonic())
        self.pers.send_multipart(
            pack({"op": "apply", "worker": self.worker_id, "seq": seq}, payload), copy=False
        )

    def _admit(
        self, client: Caller, frames: list[Any]
    ) -> tuple[Caller, dict[str, Any], WriteRecord, bool] | None:
        """Answer a request that needs no record (ping, error, nothing to store); else its
        caller, answer, record and whether it waits for the fsync."""
        try:
            header, payloads = unpack(frames)
        except EdgeError as err:
            self._reply(client, error_header(err))
            return None
        client_header = {"id": header.get("id")}
        if header.get("op") == "ping":
            pong = {"ok": True, "worker": self.worker_id, "pid": os.getpid()}
            self._reply(client, {**client_header, **pong})
            return None
        if header.get("op") == "catalog":  # a retention policy changed: writes follow it
            try:
                self._take_catalog()
                self._reply(client, {**client_header, "ok": True})
            except EdgeError as err:
                self._reply(client, {**client_header, **error_header(err)})
            return None
        try:
            result, record = self._prepare(header, bytes(payloads[0]) if payloads else b"")
        except EdgeError as err:
            self._reply(client, {**client_header, **error_header(err)})
            return None
        reply = {**client_header, "ok": True, **result}
        if record is None:
            self._reply(client, reply)
            return None
        need_sync = not header.get("no_sync") and not self.settings.wal_disable
        return client, reply, record, need_sync

    def _take_catalog(self) -> None:
        self.catalog = Catalog.from_json(self._call({"op": "catalog"})["catalog"])
        self._catalog_behind = False

    def _check_room(self) -> None:
        """Refuse writes while the persister's buffer is over its ceiling (asking it again
        at most twice a second, since refused writes bring no news)."""
        if not self._persister_full:
            return
        now = time.monotonic()
        if now - self._full_checked > 0.5:
            self._full_checked = now
            self._persister_full = bool(self._call({"op": "ping"}).get("full"))
        if self._persister_full:
            raise Unavailable(
                "the write buffer is full while data is being persisted to object storage; "
                "retry shortly"
            )

    def _prepare(
        self, header: dict[str, Any], body: bytes
    ) -> tuple[dict[str, Any], WriteRecord | None]:
        named = validate_database_name(str(header["db"]))
        if self._catalog_behind:
            self._take_catalog()
        # the rows of a policy named go where it keeps them; of none, to the default's
        db = validate_database_name(self.catalog.storage(named, header.get("rp") or None))
        self._check_room()
        now = time.time_ns()
        precision = str(header.get("precision", "auto"))
        v1 = bool(header.get("influxd"))  # a 1.x write: influxd's rules (lineprotocol.parse)
        # influxd gives a point without a time the server's, cut to the write's precision
        default = now - now % (precision_factor(precision) or 1) if v1 else now
        parsed = parse(body, precision=precision, default_time_ns=default, influxd=v1)
        accept_partial = bool(header.get("accept_partial", True))
        errors: list[LineError] = list(parsed.errors)
        # a 1.x write's refusals are also told in influxd's words (gateway.routes.write)
        influxd = precision if v1 else None
        if errors and not accept_partial:
            return _result(errors, 0, body, influxd), None
        proposals: dict[str, dict[str, ColumnType]] = {}
        name_problems: dict[str, list[Rejection]] = {}
        policy = self.catalog.policy_of(db)
        oldest = None if policy is None else policy.cutoff(now)
        rejections: list[Rejection] = []
        for name, table in parsed.tables.items():
            proposal, problems = proposed_columns(table)
            known = self.catalog.table(db, name)
            held = {} if known is None else known.columns
            # a refused line leaves nothing behind: no column, no table (batches.kept_columns)
            kept = kept_columns(table, held, proposal, problems, oldest)
            if known is None and not any(kind.is_field for kind in kept.values()):
                bad, reasons, _ = refused(table, proposal, problems, oldest)
                if bad.all():  # (else build_batch refuses each line holding a name not made)
                    rejections += reasons
                    continue
            proposals[name], name_problems[name] = kept, problems
        schemas = self._ensure(db, proposals)
        batches = {}
        for name in proposals:
            table = parsed.tables[name]
            batch, rejected = build_batch(table, schemas[name], name_problems[name], oldest)
            rejections += rejected
            if batch is not None and batch.num_rows:
                batches[name] = batch
        if rejections:
            texts = _line_texts(body, [r.line_number for r in rejections])
            if v1:  # (influxd names a line's first field of another type)
                rejections = [in_line_order(r, texts[r.line_number], schemas) for r in rejections]
            errors += [
                LineError(r.line_number, texts[r.line_number], r.message, True, r.influxd)
                for r in rejections
            ]
            errors.sort(key=lambda e: e.line_number)
        if errors and not accept_partial:
            return _result(errors, 0, body, influxd), None
        written = sum(b.num_rows for b in batches.values())
        result = _result(errors, written, body, influxd)
        if not batches:
            return result, None
        return result, WriteRecord(db, now, batches)

    def _ensure(
        self, db: str, proposals: dict[str, dict[str, ColumnType]]
    ) -> dict[str, TableSchema]:
        """Table schemas from the local catalog copy, asking the persister for what is new."""
        missing: dict[str, dict[str, str]] = {}
        for table, cols in proposals.items():
            known = self.catalog.table(db, table)
            new = {c: k.value for c, k in cols.items() if known is None or c not in known.columns}
            if known is None or new:
                missing[table] = new
        if missing:
            reply = self._call({"op": "ensure", "db": db, "tables": missing})
            self.catalog = Catalog.from_json(reply["catalog"])
        out = {}
        for table in proposals:
            schema = self.catalog.table(db, table)
            if schema is None:
                raise BadRequest(f"table {table!r} could not be created")
            out[table] = schema
        return out


def _joined(records: list[WriteRecord]) -> WriteRecord:
    """Records of one database as one, rows in their order. Stamped as the last: the
    record is applied after all of them, and a replay orders records by stamp."""
    names = list(dict.fromkeys(name for r in records for name in r.tables))
    tables = {name: joined([r.tables[name] for r in records if name in r.tables]) for name in names}
    return WriteRecord(records[0].db, max(r.stamp_ns for r in records), tables)


def _line_texts(body: bytes, line_numbers: list[int]) -> dict[int, str]:
    wanted = set(line_numbers)
    out: dict[int, str] = {}
    for i, raw in enumerate(body.split(b"\n"), start=1):
        if i in wanted:
            out[i] = raw.rstrip(b"\r").decode(errors="replace")
    return out


def _result(
    errors: list[LineError], written: int, body: bytes, influxd: str | None = None
) -> dict[str, Any]:
    """The answer to a write; with ``influxd`` (the precision of a 1.x write), each error
    reported also says whether it is late (a line refused when stored) and why influxd 1.x
    refuses such a line, in its words (``lp_influxd``; a line influxd would take: ours)."""
    reported = []
    for e in errors[:_MAX_ERRORS_REPORTED]:
        shown = e.original_line[:1024]
        entry: dict[str, Any] = {
            "line_number": e.line_number,
            "original_line": shown,
            "error_message": e.error_message,
        }
        if influxd is not None:
            said = e.influxd if e.late else refusal(e.original_line.encode(), influxd)
            reason = said or e.error_message
            entry["influxd"] = {"late": e.late, "reason": reason, "line": echoed(shown)}
        reported.append(entry)
    return {
        "written": written,
        "rejected": len(errors),
        "late": sum(e.late for e in errors),
        "errors": reported,
    }
