"""The persister's event loop: applies write records in order, owns the catalog, serves
buffered rows to query workers.

On start it rebuilds the buffer from every ingest worker's WAL (records merged by their write
stamp, so the later write still wins), then binds its sockets. Each worker's records are
applied exactly once: a record already applied (replayed, or sent again after a timeout) is
acknowledged without being applied twice.
"""

from __future__ import annotations

import heapq
import logging
import os
import secrets
import time
from collections.abc import Callable, Iterator
from concurrent.futures import Future
from dataclasses import asdict
from pathlib import Path
from typing import Any

import zmq

from edge_common.auth import TokenRecord
from edge_common.errors import DatabaseNotFound, EdgeError, NotFound
from edge_common.fetch import fetch_table
from edge_common.objectstore import object_store_from_settings
from edge_common.paths import snapshot_key, table_prefix
from edge_common.persist import SnapshotManifest
from edge_common.retention import storage_name
from edge_common.settings import Settings
from edge_common.shared import FileSpan, SharedBuffer, shared_root
from edge_common.stream import Caller, Listener
from edge_common.walformat import read_segment, segments
from edge_common.wire import Endpoints, WriteRecord, error_header, ipc_bytes, pack, unpack
from edge_persister.buffer import TableBuffer
from edge_persister.catalog import CatalogOwner
from edge_persister.compaction import Compactor, sweep
from edge_persister.deletion import rewrite
from edge_persister.events import MemoryPublisher, ZmqPublisher
from edge_persister.expiry import Expiry
from edge_persister.persistence import FileIndex, Persistence

__all__ = ["Persister"]

log = logging.getLogger(__name__)


class _Applied:
    """Sequence numbers of one worker already applied: a watermark plus those above it."""

    def __init__(self) -> None:
        self.upto = 0
        self.above: set[int] = set()

    def __contains__(self, seq: int) -> bool:
        return seq <= self.upto or seq in self.above

    def add(self, seq: int) -> None:
        self.above.add(seq)
        while self.upto + 1 in self.above:
            self.upto += 1
            self.above.discard(self.upto)


class Persister:
    def __init__(self, settings: Settings, ctx: zmq.Context[Any]) -> None:
        self.settings = settings
        self.ctx = ctx
        self.boot_id = secrets.token_hex(8)  # catalog versions count within one process
        self.endpoints = Endpoints.for_data_dir(settings.data_dir)
        self.store = object_store_from_settings(settings)
        self.catalog = CatalogOwner(settings, self.store)
        self.buffers: dict[tuple[str, str], TableBuffer] = {}
        self._appended: set[tuple[str, str]] = set()  # tables written since the last turn
        self.applied: dict[int, _Applied] = {}
        self.persistence = Persistence(
            settings, self.store, MemoryPublisher(), FileIndex.load(self.store, settings.node_id)
        )
        for worker, upto in self.persistence.index.wal_upto.items():
            self.applied.setdefault(worker, _Applied()).upto = upto
        self.wal_root = settings.data_dir / "wal"
        self.compactor = Compactor(self.store, settings.node_id, settings.compaction_max_rows)
        self.expiry = Expiry(self.store, settings.node_id, settings.retention_check_interval_s)
        self.stopping = False
        self.shared: SharedBuffer | None = None  # the buffer as the query workers read it
        self._outbox: list[tuple[Caller, list[Any]]] = []  # answers, sent once shared
        self.reads = 0  # fetches answered: what the query workers could not read themselves

    # --- state -------------------------------------------------------------------------
    def apply(
        self, worker: int, seq: int, payload: bytes | memoryview, *, adopt: bool = False
    ) -> bool:
        done = self.applied.setdefault(worker, _Applied())
        if seq in done:
            return False
        # shared with the query workers: decoded from the record's file, in place
        shared = None if self.shared is None else self.shared.record(payload)
        record = WriteRecord.decode(payload if shared is None else shared[1])
        for table, batch in record.tables.items():
            if adopt:
                self.catalog.adopt(record.db, table, batch.schema)
            key = (record.db, table)
            buf = self.buffers.get(key)
            if buf is None:
                buf = self.buffers[key] = TableBuffer()
            span = record.spans.get(table)
            buf.append(batch, shared=None if shared is None or span is None else (shared[0], *span))
            self._appended.add(key)
        done.add(seq)
        return True

    def replay(self) -> None:
        """Apply every WAL record of every worker, oldest write first."""
        started = time.monotonic()
        streams = []
        if self.wal_root.is_dir():
            for d in sorted(self.wal_root.iterdir()):
                if d.is_dir() and d.name.startswith("ingest-"):
                    streams.append(self._records(int(d.name.removeprefix("ingest-")), d))
        count = 0
        for _, worker, seq, payload in heapq.merge(*streams):
            count += self.apply(worker, seq, payload, adopt=True)
        log.info("replayed %d WAL records in %.2f s", count, time.monotonic() - started)

    def catch_up(self, worker: int) -> int:
        """Apply what a (re)started worker's WAL holds that has not been applied yet."""
        count = 0
        for _, w, seq, payload in self._records(worker, self.wal_root / f"ingest-{worker}"):
            count += self.apply(w, seq, payload, adopt=True)
        return count

    def _seq_floor(self, worker: int) -> int:
        """The highest sequence number of ``worker`` that is taken: applied here, or covered
        by a snapshot. A (re)started worker numbers its records above it, so a number is
        never used twice even when its WAL lost segments (deleted once persisted, a fresh
        data directory on an old object store, a torn tail cut off)."""
        done = self.applied.get(worker)
        applied = 0 if done is None else max(done.upto, max(done.above, default=0))
        return max(applied, self.persistence.index.wal_upto.get(worker, 0))

    def _records(self, worker: int, directory: Path) -> Iterator[tuple[int, int, int, bytes]]:
        done = self.applied.get(worker)
        for path in segments(directory):
            records, _, problem = read_segment(path)
            for rec in records:
                if done is not None and rec.seq in done:
                    continue
                yield WriteRecord.peek_stamp(rec.payload), worker, rec.seq, rec.payload
            if problem is not None:
                log.info("WAL %s ends early (%s); the owning worker cuts it", path, problem)
                return

    # --- serving -----------------------------------------------------------------------
    def run(self) -> int:
        self.endpoints.prepare()
        swept = sweep(self.store, self.settings.node_id, self.persistence.index)
        if swept:
            log.info("deleted %d Parquet files no manifest names", swept)
        if (root := shared_root(self.settings)) is not None:
            try:
                self.shared = SharedBuffer(root, self.boot_id)
            except OSError as err:
                log.warning("not sharing the buffer with the query workers: %s", err)
        self.replay()
        events = self.settings.persist_events_bind or self.endpoints.persist_events
        self.persistence.publisher = ZmqPublisher(self.ctx, events)
        ing = self.ctx.socket(zmq.ROUTER)  # write records from the ingest workers
        ing.setsockopt(zmq.LINGER, 0)
        ing.bind(self.endpoints.persister_ingest)
        poller = zmq.Poller()
        poller.register(ing, zmq.POLLIN)
        calls = Listener(self.endpoints.persister, poller)
        self._share()
        log.info("persister ready: %d tables buffered", len(self.buffers))
        while not self.stopping:
            ready = dict(poller.poll(100))
            if ing in ready:
                for _ in range(64):
                    try:
                        frames = ing.recv_multipart(zmq.NOBLOCK, copy=False)
                    except zmq.Again:
                        break
                    self._handle(_ZmqCaller(ing, frames[0].bytes), frames[1:])
            calls.take(ready)
            while (call := calls.pop()) is not None:
                self._handle(*call)
            self._share()
            self._persist()
            self._share()
            calls.sweep()
        calls.close()
        self._final_snapshot()
        if self.shared is not None:
            self.shared.close()
        self.persistence.close()
        self.persistence.publisher.close()
        return 0

    def _final_snapshot(self, timeout_s: float = 60.0) -> None:
        """On a clean stop, persist what is buffered (the WAL would replay it anyway; without
        a WAL this is what keeps it)."""
        if not any(b.chunks for b in self.buffers.values()) and self.persistence.job is None:
            return
        done: list[bool] = []
        self.persistence.request_flush(lambda m: done.append(True))
        deadline = time.monotonic() + timeout_s
        while not done and time.monotonic() < deadline:
            self._persist()
            self._share()
            time.sleep(0.05)
        if not done:
            log.warning("stopping with buffered data not yet persisted (the WAL keeps it)")

    def _share(self) -> None:
        """Publish the buffer as it is now to the query workers (``edge_common.shared``),
        then send the answers held: whoever was answered (a write applied, a table dropped)
        finds the change in what the workers read."""
        if self.shared is not None:
            index = self.persistence.index
            self.shared.publish(
                self.buffers,
                self.catalog.catalog.version,
                index.version,
                (
                    (
                        key,
                        [
                            FileSpan(f.path, f.min_time_ns, f.max_time_ns, f.row_count)
                            for _, f in entries
                        ],
                    )
                    for key, entries in index.files.items()
                ),
            )
        outbox, self._outbox = self._outbox, []
        for caller, frames in outbox:
            caller.send(frames)

    def _reply(
        self, caller: Caller, header: dict[str, Any], reply: dict[str, Any], *out: Any
    ) -> None:
        """Answer the caller of ``header`` once the buffer is shared as it is (``_share``),
        with the keys it matches answers by."""
        for k in ("call", "id", "seq"):
            if k in header:
                reply[k] = header[k]
        self._outbox.append((caller, pack(reply, *out)))

    def _persist(self) -> None:
        for key in self._appended:  # the writes at hand are answered: join small chunks
            if (buf := self.buffers.get(key)) is not None:
                buf.join_small_chunks()
        self._appended.clear()
        p = self.persistence
        p.maybe_start(
            self.buffers, self.catalog.catalog, {w: a.upto for w, a in self.applied.items()}
        )
        self.compactor.turn(p, self.catalog.catalog)
        self.expiry.turn(p, self.catalog.catalog, self._expired)
        if p.poll() is not None:
            removed = p.delete_covered_wal(self.wal_root)
            if removed:
                log.info("deleted %d WAL segments now in Parquet", removed)

    def _handle(self, caller: Caller, frames: list[Any]) -> None:
        header: dict[str, Any] = {}
        try:
            header, payloads = unpack(frames)
            if header.get("op") == "flush":
                self._flush(caller, header)
                return
            if header.get("op") in ("drop", "drop_policy"):
                self._drop(caller, header)
                return
            if header.get("op") == "delete":
                self._delete(caller, header)
                return
            reply, out = self._dispatch(header, payloads)
        except EdgeError as err:
            reply, out = error_header(err), []
        except Exception as err:  # keep serving; report the failure to the caller
            log.exception("persister: %s failed", header.get("op"))
            reply, out = error_header(EdgeError(f"persister error: {err}")), []
        self._reply(caller, header, reply, *out)

    def _flush(self, caller: Caller, header: dict[str, Any]) -> None:
        """Persist everything buffered now; answer once files and manifest are durable."""

        def answer(manifest: SnapshotManifest | None) -> None:
            reply = {
                "ok": True,
                "snapshot_seq": None if manifest is None else manifest.seq,
                "files": [] if manifest is None else [asdict(f) for f in manifest.files],
            }
            self._reply(caller, header, reply)

        self.persistence.request_flush(answer)

    def _after_flush(
        self,
        caller: Caller,
        header: dict[str, Any],
        work: Callable[[], dict[str, Any]],
    ) -> None:
        """Persist everything buffered, then run ``work`` and answer with what it returns
        (or its error): for changes that must find every earlier row in a file."""

        def answer(_: SnapshotManifest | None) -> None:
            reply: dict[str, Any]
            try:
                reply = {"ok": True, **work()}
            except EdgeError as err:
                reply = error_header(err)
            self._reply(caller, header, reply)

        self.persistence.request_flush(answer)

    def _drop(self, caller: Caller, header: dict[str, Any]) -> None:
        """DROP DATABASE / MEASUREMENT / RETENTION POLICY: persist what is buffered first
        (so the WAL holds nothing the drop must also cover), then remove it from the
        catalog, the buffer and the file index, record a tombstone manifest, and delete its
        files. A database goes with the databases holding its policies' rows; a policy's
        rows go before the policy (a crash between leaves a policy without rows)."""
        db, table = str(header["db"]), header.get("table")

        def work() -> dict[str, Any]:
            schema = self.catalog.catalog.databases.get(db)
            if header["op"] == "drop_policy":
                name = str(header["name"])
                if schema is not None and name in schema.retention_policies():
                    storage = storage_name(db, name)
                    if storage == db:  # autogen's rows are the database's own tables
                        for t in sorted(schema.tables):
                            self._apply_drop(db, t)
                    else:
                        self._apply_drop(storage, None)
                self.catalog.drop_policy(db, name)
                return {}
            if table is None and schema is not None:
                for rp in schema.policies:
                    if storage_name(db, rp) != db:
                        self._apply_drop(storage_name(db, rp), None)
            self._apply_drop(db, table)
            return {}

        self._after_flush(caller, header, work)

    def _delete(self, caller: Caller, header: dict[str, Any]) -> None:
        """DELETE / DROP SERIES: persist what is buffered, then rewrite the files holding
        doomed rows (see :mod:`edge_persister.deletion`) on the snapshot thread: writes and
        queries go on meanwhile (rewriting many files takes seconds)."""

        def reply(body: dict[str, Any]) -> None:
            self._reply(caller, header, body)

        def flushed(_: SnapshotManifest | None) -> None:
            try:
                tables, work = self._plan_delete(header)
            except EdgeError as err:
                reply(error_header(err))
                return

            def done(future: Future[tuple[SnapshotManifest | None, int]]) -> None:
                try:
                    manifest, removed = future.result()
                    self._deleted(str(header["db"]), tables, manifest, removed)
                except EdgeError as err:
                    reply(error_header(err))
                    return
                except Exception as err:  # keep serving; report the failure to the caller
                    log.exception("persister: delete failed")
                    reply(error_header(EdgeError(f"persister error: {err}")))
                    return
                reply({"ok": True, "removed": removed})

            self.persistence.run_exclusive(work, done)

        self.persistence.request_flush(flushed)

    def _plan_delete(
        self, header: dict[str, Any]
    ) -> tuple[list[str], Callable[[], tuple[SnapshotManifest | None, int]]]:
        """On the loop: the tables and files a deletion must look at, and the manifest
        number its result takes; returns the tables and the work (run on the snapshot
        thread) that writes the new files and the manifest naming them."""
        db = str(header["db"])
        schema = self.catalog.catalog.databases.get(db)
        if schema is None:
            raise DatabaseNotFound(f"database not found: {db}")
        names = header.get("tables")
        tables = (
            sorted(schema.tables) if names is None else [n for n in names if n in schema.tables]
        )
        lo, hi = header.get("min_ns"), header.get("max_ns")
        index = self.persistence.index
        seq = self.persistence.next_seq()
        files = [f for t in tables for f in index.overlapping(db, t, lo, hi)]
        store, predicate = self.store, header.get("predicate")
        key = snapshot_key(self.settings.node_id, seq)

        def work() -> tuple[SnapshotManifest | None, int]:
            new_files, replaced, removed = rewrite(store, seq, files, predicate, lo, hi)
            if not replaced:
                return None, removed
            manifest = SnapshotManifest(
                seq, new_files, created_ns=time.time_ns(), replaced=replaced
            )
            store.put(key, manifest.encode())  # from here on the deletion holds
            return manifest, removed

        return tables, work

    def _deleted(
        self, db: str, tables: list[str], manifest: SnapshotManifest | None, n: int
    ) -> None:
        """On the loop, once the manifest is stored: the index follows it, the old files
        go, and a measurement left without any row is gone (as its last series in 1.x)."""
        index = self.persistence.index
        if manifest is not None:
            index.add(manifest)
            for old in manifest.replaced:
                try:
                    self.store.delete(old)
                except EdgeError as err:  # the manifest already hides it; log and go on
                    log.warning("could not delete %s: %s", old, err)
        self._forget_empty(db, tables)
        rewritten = 0 if manifest is None else len(manifest.replaced)
        log.info("deleted %d rows from %s (%d files rewritten)", n, db, rewritten)

    def _forget_empty(self, db: str, tables: list[str]) -> None:
        """Tables left without a row, in a file or buffered, are gone."""
        for t in tables:
            buf = self.buffers.get((db, t))
            if not self.persistence.index.under(db, t) and (
                buf is None or buf.time_range() is None
            ):
                self.catalog.drop(db, t)
                self.buffers.pop((db, t), None)

    def _expired(self, manifest: SnapshotManifest) -> None:
        """On the loop, once the manifest dropping files past their retention is stored."""
        old = set(manifest.replaced)
        gone = {(f.database, f.table) for f in self.persistence.index.under_all() if f.path in old}
        self.persistence.index.add(manifest)
        self.compactor.retire(sorted(old))
        for db in {d for d, _ in gone}:
            self._forget_empty(db, sorted(t for d, t in gone if d == db))
        log.info("dropped %d files past their retention policy", len(old))

    def _apply_drop(self, db: str, table: str | None) -> None:
        index = self.persistence.index
        files = index.under(db, table)
        if not self.catalog.drop(db, table) and not files:
            return
        # no WAL watermark: the flush before covered what the drop removes, and rows of
        # other tables applied since are only in memory (a watermark would skip their
        # records on replay after a crash)
        manifest = SnapshotManifest(
            self.persistence.next_seq(),
            created_ns=time.time_ns(),
            drops=[{"database": db, "table": table}],
        )
        self.store.put(snapshot_key(self.settings.node_id, manifest.seq), manifest.encode())
        index.add(manifest)
        for key in [k for k in self.buffers if k[0] == db and table in (None, k[1])]:
            del self.buffers[key]
        for f in files:
            try:
                self.store.delete(f.path)
            except EdgeError as err:  # the tombstone already hides it; log and go on
                log.warning("could not delete %s: %s", f.path, err)
        self.compactor.drop(table_prefix(self.settings.node_id, db, table))
        log.info("dropped %s%s: %d files", db, "" if table is None else f".{table}", len(files))

    def _dispatch(
        self, header: dict[str, Any], payloads: list[Any]
    ) -> tuple[dict[str, Any], list[Any]]:
        op = header.get("op")
        if op == "apply":
            self.apply(int(header["worker"]), int(header["seq"]), payloads[0].buffer)
            return {
                "op": "applied",
                "ok": True,
                "full": self.persistence.is_full(self.buffers),
                "catalog_version": self.catalog.catalog.version,  # (see the ingest worker)
            }, []
        if op == "get_object":
            data = self.store.get(str(header["key"]))
            if data is None:
                raise NotFound(f"no object {header['key']!r}")
            return {"ok": True}, [data]
        if op == "ensure":
            self.catalog.ensure(str(header["db"]), header["tables"])
            return {"ok": True, "catalog": self.catalog.catalog.to_json()}, []
        if op == "hello":
            worker = int(header["worker"])
            n = self.catch_up(worker)
            if n:
                log.info("applied %d records of ingest worker %d on its start", n, worker)
            return {
                "ok": True,
                "catalog": self.catalog.catalog.to_json(),
                "seq_floor": self._seq_floor(worker),
            }, []
        if op == "catalog":
            # a caller whose copy is current (this process's, same version) gets no copy
            current = self.catalog.catalog
            if header.get("have") == [self.boot_id, current.version]:
                return {"ok": True, "same": True}, []
            return {"ok": True, "catalog": current.to_json(), "boot": self.boot_id}, []
        if op == "create_database":
            self.catalog.create_database(str(header["db"]), header.get("policy"))
            return {"ok": True}, []
        if op == "create_policy":
            self.catalog.create_policy(str(header["db"]), header["policy"], bool(header["default"]))
            return {"ok": True}, []
        if op == "create_continuous_query":
            db, name = str(header["db"]), str(header["name"])
            self.catalog.create_continuous_query(db, name, header["query"])
            return {"ok": True}, []
        if op == "drop_continuous_query":
            self.catalog.drop_continuous_query(str(header["db"]), str(header["name"]))
            return {"ok": True}, []
        if op == "alter_policy":
            db, name = str(header["db"]), str(header["name"])
            self.catalog.alter_policy(db, name, header["policy"], bool(header["default"]))
            return {"ok": True}, []
        if op == "user":
            self.catalog.change_user(header)
            return {"ok": True}, []
        if op == "tokens":  # (and users: the gateway's view of who may do what)
            held = self.catalog.catalog
            tokens = [t.to_json() for t in held.tokens.values()]
            return {
                "ok": True,
                "tokens": tokens,
                "users": [u.to_json() for u in held.users.values()],
            }, []
        if op == "token_create":
            self.catalog.create_token(TokenRecord.from_json(header["token"]))
            return {"ok": True}, []
        if op == "token_delete":
            self.catalog.delete_token(str(header["name"]))
            return {"ok": True}, []
        if op == "fetch":
            return self._fetch(header)
        if op == "ping":
            return {
                "ok": True,
                "tables": len(self.buffers),
                "rows": sum(b.num_rows for b in self.buffers.values()),
                "buffered_bytes": self.persistence.buffered_bytes(self.buffers),
                "full": self.persistence.is_full(self.buffers),
                "persist_events": self.settings.persist_events_bind
                or self.endpoints.persist_events,
                "pid": os.getpid(),
                "counts": self.persistence.counts,
                "shared": self.shared is not None and self.shared.enabled,
                "reads": self.reads,
            }, []
        raise EdgeError(f"unknown operation {op!r}")

    def _fetch(self, header: dict[str, Any]) -> tuple[dict[str, Any], list[Any]]:
        """Per table: the Parquet files that overlap the time range, then the rows being
        persisted and the live rows (two Arrow IPC frames), each with its time range so the
        query can tell where repeats across them are possible."""
        self.reads += 1
        db = str(header["db"])
        d = self.catalog.catalog.databases.get(db)
        if d is None:
            raise DatabaseNotFound(f"database not found: {db}")
        tables, frames = [], []
        for req in header["tables"]:
            schema = d.tables.get(req["name"])
            if schema is None:
                continue
            files = self.persistence.index.overlapping(
                db, req["name"], req.get("min_ns"), req.get("max_ns")
            )
            buf = self.buffers.get((db, req["name"]))
            entry, frozen, live, arrow = fetch_table(schema, req, buf, files)
            for batches in (frozen, live):
                frames.append(ipc_bytes(batches, arrow) if batches else b"")  # b"": none
            tables.append(entry)
        return {
            "ok": True,
            "tables": tables,
            "catalog_version": self.catalog.catalog.version,
            "boot": self.boot_id,
        }, frames


class _ZmqCaller:
    __slots__ = ("identity", "sock")

    def __init__(self, sock: zmq.Socket[Any], identity: bytes) -> None:
        self.sock = sock
        self.identity = identity

    def send(self, frames: list[Any]) -> None:
        self.sock.send_multipart([self.identity, *frames], copy=False)
