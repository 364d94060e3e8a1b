"""A DELETE rewrites Parquet files on the snapshot thread: the persister's loop goes on
applying writes and answering fetches meanwhile, and the deletion's answer comes once its
manifest is stored."""

from __future__ import annotations

import io
import threading
from pathlib import Path
from typing import Any

import pyarrow.parquet as pq
import pytest
import zmq

import edge_persister.server as server
from edge_common.schema import ColumnType
from edge_common.settings import Settings
from edge_common.wire import read_ipc, unpack
from edge_persister.server import Persister
from tests.persister.loop import record, turn


class _Replies:
    """Stands in for the caller (server.Caller): keeps what the persister sends."""

    def __init__(self) -> None:
        self.sent: list[dict[str, Any]] = []

    def send(self, frames: list[Any]) -> None:
        header, _ = unpack([bytes(f) for f in frames])
        header.pop("v", None)  # the wire format's version
        self.sent.append(header)


@pytest.fixture
def persister(tmp_path: Path) -> Persister:
    p = Persister(Settings(data_dir=tmp_path), zmq.Context.instance())
    p.catalog.ensure("db", {"cpu": {"host": ColumnType.TAG.value, "v": ColumnType.FLOAT.value}})
    return p


def test_writes_and_fetches_go_on_while_a_delete_rewrites(
    persister: Persister, monkeypatch: pytest.MonkeyPatch
) -> None:
    p = persister
    p.apply(0, 1, record([("a", 1, 1.0), ("b", 2, 2.0), ("a", 3, 3.0)]))
    release = threading.Event()
    rewriting = threading.Event()
    real_rewrite = server.rewrite

    def slow_rewrite(*args: Any) -> Any:
        rewriting.set()
        assert release.wait(10)  # held until the test has written and read meanwhile
        return real_rewrite(*args)

    monkeypatch.setattr(server, "rewrite", slow_rewrite)
    sock = _Replies()
    predicate = {"op": "=", "tag": "host", "value": "a"}
    p._delete(
        sock,
        {
            "op": "delete",
            "db": "db",
            "tables": None,  # type: ignore[arg-type]
            "predicate": predicate,
            "min_ns": None,
            "max_ns": None,
            "call": 7,
        },
    )
    turn(p, rewriting.is_set)
    # the loop is free: a write is applied and a fetch answered while the files are rewritten
    assert p.apply(0, 2, record([("a", 10, 10.0), ("c", 11, 11.0)]))
    reply, frames = p._dispatch(
        {"op": "fetch", "db": "db", "tables": [{"name": "cpu", "columns": None}]}, []
    )
    assert reply["ok"] and len(reply["tables"][0]["files"]) == 1
    assert read_ipc(frames[1]).num_rows == 2  # the live rows: the write just made
    assert sock.sent == []  # the deletion is not answered before it holds
    # no snapshot starts while the rewrite runs (they would take the same manifest number)
    p.persistence.request_flush(lambda manifest: None)
    p._persist()
    assert p.persistence.job is None
    release.set()
    turn(p, lambda: bool(sock.sent))
    assert sock.sent == [{"ok": True, "removed": 2, "call": 7}]
    # the write made meanwhile is untouched; the flush asked for meanwhile runs after
    turn(p, lambda: p.persistence.job is None and not p.persistence.flush_requested)
    rows = []
    for f in p.persistence.index.under("db", "cpu"):
        rows += pq.read_table(io.BytesIO(p.store.get(f.path) or b"")).to_pylist()
    assert sorted((r["host"], r["v"]) for r in rows) == [("a", 10.0), ("b", 2.0), ("c", 11.0)]
