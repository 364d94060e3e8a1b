"""The buffer shared with the query workers (edge_common.shared): what a worker reads of it
is what the persister's own buffer answers, a newer state is found, files go when no state
names them, and whatever cannot be shared leaves the worker asking the persister."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import pyarrow as pa
import pytest
import zmq

import edge_common.shared as shared
from edge_common.chunks import Chunk
from edge_common.fetch import fetch_table
from edge_common.schema import ColumnType, TableSchema
from edge_common.settings import Settings
from edge_common.shared import FileSpan, SharedBuffer, SharedReader, Stale
from edge_common.wire import WriteRecord, pack
from edge_persister.buffer import TableBuffer
from edge_persister.server import Persister
from tests.persister.loop import record
from tests.persister.test_buffer import _batch, _rows, _schema

TAG, F = ColumnType.TAG, ColumnType.FLOAT


def _filled(schema: TableSchema, n: int, start: int = 0) -> TableBuffer:
    buf = TableBuffer()
    for k in range(n):
        rows = [
            {"time": start + 10 * k + i, "host": f"h{i % 3}", "usage": float(k * 10 + i)}
            for i in range(10)
        ]
        buf.append(_batch(schema, rows))
    return buf


def _file(chunk: Chunk) -> str:
    assert chunk.shared is not None
    return chunk.shared[0]


def _files(files: dict[tuple[str, str], list[FileSpan]]) -> Any:
    return lambda: iter(files.items())


def test_a_worker_reads_what_the_buffer_answers(tmp_path: Path) -> None:
    schema = _schema(host=TAG, usage=F)
    buf = _filled(schema, 5)
    pub = SharedBuffer(tmp_path / "share", "boot1")
    spans = {("db", "cpu"): [FileSpan("f/1.parquet", 0, 5)]}
    pub.publish({("db", "cpu"): buf}, 7, 3, _files(spans)())
    reader = SharedReader(tmp_path / "share")
    state = reader.state()
    assert state is not None and (state.boot, state.catalog, state.files) == ("boot1", 7, 3)
    table = reader.table(state, "db", "cpu")
    assert table is not None and table.time_range() == buf.time_range()
    assert reader.table(state, "db", "mem") is None  # nothing buffered
    assert reader.files(state, "db", "cpu") == spans[("db", "cpu")]
    assert reader.files(state, "db", "mem") == []
    cases: list[dict[str, Any]] = [
        {"name": "cpu", "columns": None},
        {"name": "cpu", "columns": ["time", "usage"], "min_ns": 12, "max_ns": 37},
        {"name": "cpu", "columns": ["usage"], "values": {"host": ["h1"]}, "min_ns": 5},
        {"name": "cpu", "columns": ["time"], "compare": [["usage", ">", 20.0]]},
    ]
    for req in cases:
        want = fetch_table(schema, req, buf, [])
        got = fetch_table(schema, req, table, [])
        assert got[0] == want[0]
        assert _rows(got[2]) == _rows(want[2]) and _rows(got[1]) == _rows(want[1])
        assert got[3] == want[3]
    # the persister's own chunks are now the mapped files: its rows are held once
    assert all(c.shared is not None for c in buf.chunks)
    assert _rows(buf.read(schema)) == _rows(table.read(schema))


def test_picks_from_shared_chunks_are_the_buffers(tmp_path: Path) -> None:
    """first()/last() and SHOW TAG VALUES' picks: a worker makes them of each chunk (kept
    with it) and joins them, as the persister's buffer does of its own."""
    schema = _schema(host=TAG, usage=F)
    buf = _filled(schema, 20)  # 16 joined into one, and 4 more
    buf.join_small_chunks()
    buf.append(_batch(schema, [{"time": 7000, "host": "h1"}]))  # (no usage: not picked for it)
    pub = SharedBuffer(tmp_path / "share", "b")
    pub.publish({("db", "cpu"): buf}, 1, 0, iter(()))
    reader = SharedReader(tmp_path / "share")
    state = reader.state()
    assert state is not None
    table = reader.table(state, "db", "cpu")
    assert table is not None and len(table.live) == 6
    picks = [
        {"pick": ["last", ["usage"]]},
        {"pick": ["first", ["usage"]]},
        {"pick": ["distinct", ["host"]]},
        {"pick": ["series", ["host"]]},
        {"pick": ["last", ["usage"]], "min_ns": 35, "max_ns": 120},
        {"pick": ["first", ["usage"]], "values": {"host": ["h2"]}, "min_ns": 50},
    ]
    for req in picks:
        req = {"name": "cpu", "columns": None, **req}
        want = fetch_table(schema, req, buf, [])
        for _ in range(2):  # (made, then kept)
            got = fetch_table(schema, req, table, [])
            assert got[0] == want[0]
            assert sorted(map(str, _rows(got[2]))) == sorted(map(str, _rows(want[2]))), req
    assert all(c.picks for c in table.live)


def test_a_newer_state_is_found_and_files_no_state_names_go(tmp_path: Path) -> None:
    schema = _schema(host=TAG, usage=F)
    root = tmp_path / "share"
    buf = _filled(schema, 16)
    pub = SharedBuffer(root, "b")
    pub.publish({("db", "cpu"): buf}, 1, 0, iter(()))
    reader = SharedReader(root)
    old = reader.state()
    assert old is not None
    first = reader.table(old, "db", "cpu")  # mapped: stays readable whatever comes
    assert first is not None
    before = _rows(first.read(schema))
    buf.join_small_chunks()  # 16 chunks become one (a new file; the 16 go)
    buf.append(_batch(schema, [{"time": 1000, "host": "h9", "usage": 9.0}]))
    pub.publish({("db", "cpu"): buf}, 1, 0, iter(()))
    assert sorted(os.listdir(root / "b")) == sorted(_file(c) for c in buf.chunks)
    assert _rows(first.read(schema)) == before
    reader2 = SharedReader(root)
    with pytest.raises(Stale):  # a state read before the join: its files are gone
        reader2.table(old, "db", "cpu")
    new = reader.state()
    assert new is not None and new is not old
    table = reader.table(new, "db", "cpu")
    assert table is not None and len(table.live) == 2
    assert _rows(table.read(schema)) == _rows(buf.read(schema))
    # the reader lets go of chunks no state names
    assert {f for _, f, _ in reader._chunks} == {_file(c) for c in buf.chunks}
    assert {f for _, f in reader._regions} == {_file(c) for c in buf.chunks}
    # an unchanged buffer is not published again
    mtime = (root / "state.json").stat().st_mtime_ns
    pub.publish({("db", "cpu"): buf}, 1, 0, iter(()))
    assert (root / "state.json").stat().st_mtime_ns == mtime


def test_what_cannot_be_shared_is_asked_of_the_persister(tmp_path: Path) -> None:
    schema = _schema(host=TAG, usage=F)
    root = tmp_path / "share"
    buf = _filled(schema, 2)
    buf.append(_batch(schema, [{"time": 1, "host": "h1", "usage": 5.0}]))  # a repeat
    assert buf.has_repeats
    pub = SharedBuffer(root, "b")
    pub.publish({("db", "cpu"): buf}, 1, 0, iter(()))
    reader = SharedReader(root)
    state = reader.state()
    assert state is not None
    with pytest.raises(LookupError):  # the persister merges repeats when it reads
        reader.table(state, "db", "cpu")
    buf.read(schema)  # (merged)
    pub.publish({("db", "cpu"): buf}, 1, 0, iter(()))
    state = reader.state()
    assert state is not None and reader.table(state, "db", "cpu") is not None
    # a clean stop, or a new persister process: no state is left to read
    pub.close()
    assert reader.state() is None
    assert not root.exists()


def test_tmpfs_full_stops_sharing(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    schema = _schema(host=TAG, usage=F)
    root = tmp_path / "share"
    buf = _filled(schema, 2)
    pub = SharedBuffer(root, "b")
    pub.publish({("db", "cpu"): buf}, 1, 0, iter(()))
    reader = SharedReader(root)
    assert reader.state() is not None
    real = shared._write

    def full(path: Path, data: Any, replace: bool = True) -> None:
        if not replace:  # a chunk's file (the state's is replaced whole)
            raise OSError(28, "No space left on device")
        real(path, data, replace)

    monkeypatch.setattr(shared, "_write", full)
    buf.append(_batch(schema, [{"time": 500, "host": "h1", "usage": 5.0}]))
    pub.publish({("db", "cpu"): buf}, 1, 0, iter(()))
    assert not pub.enabled
    assert reader.state() is None  # the workers ask the persister from now on
    assert len(_rows(buf.read(schema))) == 21  # its buffer unharmed
    pub.publish({("db", "cpu"): buf}, 1, 0, iter(()))  # and stays off
    assert not root.exists()
    assert pub.record(b"a write record") is None  # (the persister decodes it as it came)


def test_a_full_tmpfs_on_a_write_stops_sharing(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    pub = SharedBuffer(tmp_path / "share", "b")
    got = pub.record(b"12345")
    assert got is not None and bytes(got[1]) == b"12345"
    monkeypatch.setattr(shared, "_write", _full)
    assert pub.record(b"678") is None and not pub.enabled
    assert not (tmp_path / "share").exists()


def _full(path: Path, data: Any, replace: bool = True) -> None:
    raise OSError(28, "No space left on device")


def test_files_lists_are_kept_a_while(tmp_path: Path) -> None:
    root = tmp_path / "share"
    pub = SharedBuffer(root, "b")
    for v in range(1, 8):
        spans = {("db", "cpu"): [FileSpan(f"f{i}", i, i) for i in range(v)]}
        pub.publish({}, 1, v, iter(spans.items()))
    assert sorted(p.name for p in root.glob("files-*")) == [f"files-{v}.json" for v in (4, 5, 6, 7)]
    reader = SharedReader(root)
    state = reader.state()
    assert state is not None and len(reader.files(state, "db", "cpu")) == 7
    state.files = 2
    with pytest.raises(Stale):
        reader.files(state, "db", "cpu")


def test_the_persister_answers_a_write_once_it_is_shared(tmp_path: Path) -> None:
    class Caller:
        def __init__(self) -> None:
            self.sent: list[Any] = []

        def send(self, frames: list[Any]) -> None:
            self.sent.append(frames)

    settings = Settings(
        data_dir=tmp_path / "data", object_store="memory", buffer_share_dir=str(tmp_path)
    )
    p = Persister(settings, zmq.Context.instance())
    root = shared.shared_root(settings)
    assert root is not None and root.parent == tmp_path
    p.shared = SharedBuffer(root, p.boot_id)
    p.catalog.ensure("db", {"cpu": {"host": "tag", "v": "float"}})
    caller = Caller()
    payload = record([("a", 5, 1.5)])
    header = pack({"op": "apply", "worker": 0, "seq": 1})[0]
    p._handle(caller, [header, zmq.Frame(payload)])  # (as the ZeroMQ socket hands it over)
    assert caller.sent == []  # applied, not answered: no worker could read it yet
    # the record was written as it came, its batch read from the file in place
    (chunk,) = p.buffers[("db", "cpu")].chunks
    assert chunk.shared is not None and chunk.shared[1] > 0
    assert (root / p.boot_id / chunk.shared[0]).read_bytes() == payload
    p._handle(caller, [header, zmq.Frame(payload)])  # sent again: applied once, no file
    p._share()
    assert len(caller.sent) == 2
    assert os.listdir(root / p.boot_id) == [chunk.shared[0]]
    reader = SharedReader(root)
    state = reader.state()
    assert state is not None and state.catalog == p.catalog.catalog.version
    table = reader.table(state, "db", "cpu")
    assert table is not None
    cpu = p.catalog.catalog.databases["db"].tables["cpu"]
    assert [r["v"] for r in _rows(table.read(cpu))] == [1.5]
    assert pa.Table.from_batches(table.read(cpu)).num_rows == 1


def test_a_killed_persisters_buffer_is_removed_by_the_next_one(tmp_path: Path) -> None:
    uid = os.getuid()
    gone = tmp_path / f"edge-{uid}-dead"
    (gone / "b").mkdir(parents=True)
    (gone / "owner").write_text("999999999")  # no such process
    (gone / "state.json").write_text("{}")
    alive = tmp_path / f"edge-{uid}-alive"
    alive.mkdir()
    (alive / "owner").write_text(str(os.getppid()))
    SharedBuffer(tmp_path / f"edge-{uid}-mine", "b")
    assert not gone.exists() and alive.exists()
    assert (tmp_path / f"edge-{uid}-mine" / "owner").read_text() == str(os.getpid())


def test_a_name_taken_by_someone_else_is_not_used(tmp_path: Path) -> None:
    """tmpfs is every user's: a directory made (or linked) there first by anyone else is
    neither written in, cleared, nor read from."""
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    (elsewhere / "state.json").write_text("{}")
    link = tmp_path / f"edge-{os.getuid()}-linked"
    link.symlink_to(elsewhere)
    with pytest.raises(OSError):
        SharedBuffer(link, "b")
    assert (elsewhere / "state.json").exists()  # not cleared through the link
    assert SharedReader(link).state() is None
    # a directory others may write in: a state planted there is not read
    open_dir = tmp_path / "share"
    pub = SharedBuffer(open_dir, "b")
    pub.publish({}, 1, 0, iter(()))
    assert SharedReader(open_dir).state() is not None
    os.chmod(open_dir, 0o777)
    assert SharedReader(open_dir).state() is None
    with pytest.raises(OSError):
        SharedBuffer(open_dir, "c")


def test_many_tables_each_change_remakes_its_own_entry(tmp_path: Path) -> None:
    """A write to one of many tables remakes that table's entry alone; a dropped table's
    files go; files several tables name stay while any does."""
    schema = _schema(host=TAG, usage=F)
    root = tmp_path / "share"
    pub = SharedBuffer(root, "b")
    bufs = {("db", f"t{i}"): _filled(schema, 2, start=1000 * i) for i in range(30)}
    pub.publish(bufs, 1, 0, iter(()))
    reader = SharedReader(root)

    def everything() -> dict[str, list[Any]]:
        state = reader.state()
        assert state is not None
        out = {}
        for (db, t), _ in bufs.items():
            table = reader.table(state, db, t)
            assert table is not None
            out[t] = _rows(table.read(schema))
        return out

    before = everything()
    bufs[("db", "t7")].append(_batch(schema, [{"time": 99_999, "host": "h1", "usage": 1.0}]))
    del bufs[("db", "t3")]
    pub.publish(bufs, 1, 0, iter(()))
    after = everything()
    assert len(after["t7"]) == len(before["t7"]) + 1
    assert {t: r for t, r in after.items() if t != "t7"} == {
        t: r for t, r in before.items() if t not in ("t3", "t7")
    }
    named = {_file(c) for b in bufs.values() for c in b.chunks}
    assert set(os.listdir(root / "b")) == named


def test_a_record_of_two_tables_stays_while_either_names_it(tmp_path: Path) -> None:
    settings = Settings(
        data_dir=tmp_path / "data", object_store="memory", buffer_share_dir=str(tmp_path)
    )
    p = Persister(settings, zmq.Context.instance())
    root = shared.shared_root(settings)
    assert root is not None
    p.shared = SharedBuffer(root, p.boot_id)
    p.catalog.ensure("db", {t: {"v": "float"} for t in ("a", "b")})
    batch = pa.RecordBatch.from_pydict({"time": pa.array([5], pa.timestamp("ns")), "v": [1.0]})
    p.apply(0, 1, WriteRecord("db", 1, {"a": batch, "b": batch}).encode())
    p._share()
    (file,) = os.listdir(root / p.boot_id)
    assert {_file(c) for t in "ab" for c in p.buffers[("db", t)].chunks} == {file}
    del p.buffers[("db", "a")]  # (as a DROP MEASUREMENT)
    p._share()
    assert os.listdir(root / p.boot_id) == [file]  # b still names it
    del p.buffers[("db", "b")]
    p._share()
    assert os.listdir(root / p.boot_id) == []
