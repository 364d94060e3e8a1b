"""Compaction: the files of a finished day (or hour) of a table become one, in the
persister's loop, with later writes still winning and restarts seeing the same files."""

from __future__ import annotations

import io
import time
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq
import zmq

from edge_common.persist import ParquetFile, SnapshotManifest
from edge_common.schema import ColumnType
from edge_common.settings import Settings
from edge_persister import compaction
from edge_persister.compaction import plan, sweep
from edge_persister.persistence import FileIndex
from edge_persister.server import Persister
from tests.persister.loop import record, turn

MIN = 60 * 10**9
HOUR = 60 * MIN
DAY = 24 * HOUR
T0 = 1451606400 * 10**9  # 2016-01-01T00:00:00Z


def _file(path: str, lo: int, hi: int, rows: int = 10) -> ParquetFile:
    return ParquetFile("db", "cpu", path, lo, hi, rows, 100)


def _index(*files: ParquetFile) -> FileIndex:
    index = FileIndex()
    for seq, f in enumerate(files, 1):
        index.add(SnapshotManifest(seq, [f]))
    return index


def test_plan_joins_a_finished_day_else_its_finished_hours() -> None:
    a = _file("a", T0, T0 + 9 * MIN)
    b = _file("b", T0 + 10 * MIN, T0 + 19 * MIN)
    c = _file("c", T0 + DAY + HOUR, T0 + DAY + HOUR + 5 * MIN)
    d = _file("d", T0 + DAY + HOUR + 10 * MIN, T0 + DAY + HOUR + 15 * MIN)
    e = _file("e", T0 + DAY + 3 * HOUR, T0 + DAY + 3 * HOUR + 5 * MIN)
    index = _index(a, b, c, d, e)
    assert plan(index, T0 + 5 * DAY, 10**6) == [a, b]  # the first finished day
    # the second day is not over: its finished hour 1 is joined, hour 3 (one file) is not
    assert plan(_index(c, d, e), T0 + DAY + 4 * HOUR, 10**6) == [c, d]
    assert plan(_index(c, d, e), T0 + DAY + HOUR + 30 * MIN, 10**6) is None  # hour not over
    assert plan(index, T0 + 5 * DAY, 15) is None  # every group holds more rows than allowed
    # a file spanning the whole day (joined before) and a late one: joined as a day again,
    # never by the hour (the hour's join would overlap the day's file)
    whole = _file("whole", T0, T0 + DAY - 1, rows=100)
    late = _file("late", T0 + 2 * HOUR, T0 + 2 * HOUR)
    assert plan(_index(whole, late), T0 + 5 * DAY, 10**6) == [whole, late]
    assert plan(_index(whole, late), T0 + 5 * DAY, 50) is None
    assert plan(_index(a), T0 + 5 * DAY, 10**6) is None
    # a large joined day and a few late files wait for more: each join rewrites the day
    big = _file("big", T0, T0 + DAY - 1, rows=2_000_000)
    lates = [_file(f"late{i}", T0 + i * HOUR, T0 + i * HOUR) for i in range(8)]
    assert plan(_index(big, *lates[:7]), T0 + 5 * DAY, 10**7) is None
    assert plan(_index(big, *lates), T0 + 5 * DAY, 10**7) == [big, *lates]


def _rows(p: Persister) -> list[tuple[str, int, float]]:
    out = []
    for f in p.persistence.index.under("db", "cpu"):
        table = pq.read_table(io.BytesIO(p.store.get(f.path) or b""))
        times = table.column("time").cast(pa.int64()).to_pylist()
        hosts, values = table.column("host").to_pylist(), table.column("v").to_pylist()
        out += list(zip(hosts, times, values, strict=True))
    return sorted(out)


def test_the_persister_joins_the_files_of_a_past_day_later_writes_winning(
    tmp_path: Path,
) -> None:
    p = Persister(Settings(data_dir=tmp_path), zmq.Context.instance())
    p.catalog.ensure("db", {"cpu": {"host": ColumnType.TAG.value, "v": ColumnType.FLOAT.value}})
    p.compactor.max_rows = 0  # off while the files are made
    flushed: list[Any] = []

    def flush() -> None:
        p.persistence.request_flush(flushed.append)
        turn(p, lambda: len(flushed) == n)

    # three windows in one snapshot, then a rewrite of one point and a new one in another
    p.apply(0, 1, record([("a", T0, 1.0), ("b", T0 + 11 * MIN, 2.0)]))
    p.apply(0, 2, record([("a", T0 + 25 * MIN, 3.0)]))
    n = 1
    flush()
    p.apply(0, 3, record([("b", T0 + 11 * MIN, 20.0), ("c", T0 + 12 * MIN, 4.0)]))
    n = 2
    flush()
    before = _rows(p)  # the index's files as a query reads them (the later file last)
    files = p.persistence.index.under("db", "cpu")
    assert len(files) == 4
    p.compactor.max_rows = 1000
    turn(p, lambda: len(p.persistence.index.under("db", "cpu")) == 1)
    (joined,) = p.persistence.index.under("db", "cpu")
    assert (joined.min_time_ns, joined.max_time_ns, joined.row_count) == (T0, T0 + 25 * MIN, 4)
    assert _rows(p) == [
        ("a", T0, 1.0),
        ("a", T0 + 25 * MIN, 3.0),
        ("b", T0 + 11 * MIN, 20.0),  # the later write
        ("c", T0 + 12 * MIN, 4.0),
    ]
    assert len(before) == 5  # both versions of b's point, before the join
    # a restart reads the same files from the manifests; the old files are still stored
    # (a query may have been handed them) and go once no manifest names them
    again = FileIndex.load(p.store, p.settings.node_id)
    assert again.under("db", "cpu") == [joined]
    assert all(p.store.get(f.path) is not None for f in files)
    assert sweep(p.store, p.settings.node_id, again) == 4
    assert all(p.store.get(f.path) is None for f in files)
    assert p.store.get(joined.path) is not None
    # nothing more to join; the retired files' deletion finds them gone already
    p.compactor.next_check = 0.0
    p.compactor.retired = [(0.0, [f.path for f in files])]
    p._persist()
    assert p.persistence.exclusive is None and not p.compactor.retired


def test_a_join_whose_files_a_deletion_replaced_writes_nothing(tmp_path: Path) -> None:
    p = Persister(Settings(data_dir=tmp_path), zmq.Context.instance())
    p.catalog.ensure("db", {"cpu": {"host": ColumnType.TAG.value, "v": ColumnType.FLOAT.value}})
    a = _file("n/a.parquet", T0, T0 + MIN)
    schema = p.catalog.catalog.table("db", "cpu")
    assert schema is not None
    before = set(p.store.list(""))
    assert compaction.compact(p.store, "n", 9, [a, _file("n/b", T0, T0)], schema) is None
    assert set(p.store.list("")) == before


def test_a_failed_join_changes_nothing_and_is_not_retried_at_once(tmp_path: Path) -> None:
    p = Persister(Settings(data_dir=tmp_path), zmq.Context.instance())
    p.catalog.ensure("db", {"cpu": {"host": ColumnType.TAG.value, "v": ColumnType.FLOAT.value}})
    p.compactor.max_rows = 0
    flushed: list[Any] = []
    p.apply(0, 1, record([("a", T0, 1.0), ("b", T0 + 11 * MIN, 2.0)]))
    p.persistence.request_flush(flushed.append)
    turn(p, lambda: bool(flushed))
    files = p.persistence.index.under("db", "cpu")
    p.store.put(files[1].path, b"not parquet")  # a damaged file
    p.compactor.max_rows = 1000
    turn(p, lambda: p.compactor.next_check > time.monotonic() + 60)
    assert p.persistence.exclusive is None
    assert p.persistence.index.under("db", "cpu") == files


def test_dropping_a_database_deletes_the_files_a_join_replaced_at_once(tmp_path: Path) -> None:
    p = Persister(Settings(data_dir=tmp_path), zmq.Context.instance())
    for db in ("db", "dbx"):  # a database whose name begins with the other's stays whole
        p.catalog.ensure(db, {"cpu": {"host": ColumnType.TAG.value, "v": ColumnType.FLOAT.value}})
    p.compactor.max_rows = 0
    flushed: list[Any] = []
    for seq, db in enumerate(("db", "dbx"), 1):
        p.apply(0, seq, record([("a", T0, 1.0), ("b", T0 + 11 * MIN, 2.0)], db))
    p.persistence.request_flush(flushed.append)
    turn(p, lambda: bool(flushed))
    p.compactor.max_rows = 1000
    turn(p, lambda: all(len(p.persistence.index.under(d, "cpu")) == 1 for d in ("db", "dbx")))
    node = p.settings.node_id
    assert len(p.store.list(f"{node}/dbs/db/")) == 3  # the joined file, two kept a while
    p._apply_drop("db", None)
    assert p.store.list(f"{node}/dbs/db/") == []
    assert len(p.store.list(f"{node}/dbs/dbx/")) == 3
