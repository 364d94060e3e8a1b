from __future__ import annotations

import io
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq

from edge_common.objectstore import MemoryObjectStore
from edge_common.persist import ParquetFile, SnapshotManifest
from edge_persister.deletion import doomed, rewrite
from edge_persister.persistence import FileIndex


def _table(rows: list[dict[str, Any]]) -> pa.Table:
    schema = pa.schema(
        [
            ("host", pa.dictionary(pa.int32(), pa.string())),
            ("dc", pa.dictionary(pa.int32(), pa.string())),
            ("v", pa.float64()),
            ("time", pa.timestamp("ns")),
        ]
    )
    return pa.Table.from_pylist(rows, schema=schema)


ROWS = [
    {"host": "a", "dc": "x", "v": 1.0, "time": 10},
    {"host": "b", "dc": None, "v": 2.0, "time": 20},
    {"host": "a", "dc": "y", "v": 3.0, "time": 30},
]


def test_doomed_rows() -> None:
    t = _table(ROWS)
    assert doomed(t, None, None, None).tolist() == [True, True, True]
    assert doomed(t, None, 15, 30).tolist() == [False, True, True]
    eq_a = {"op": "=", "tag": "host", "value": "a"}
    assert doomed(t, eq_a, None, 20).tolist() == [True, False, False]
    # a tag a row lacks is the empty string, as in 1.x
    assert doomed(t, {"op": "=", "tag": "dc", "value": ""}, None, None).tolist() == [
        False,
        True,
        False,
    ]
    assert doomed(t, {"op": "!=", "tag": "nosuch", "value": "x"}, None, None).all()
    either = {"op": "or", "args": [{"op": "=~", "tag": "dc", "value": "^y"}, eq_a]}
    assert doomed(t, either, None, None).tolist() == [True, False, True]
    assert doomed(t, {"op": "not", "arg": eq_a}, None, None).tolist() == [False, True, False]


def _put(store: MemoryObjectStore, path: str, rows: list[dict[str, Any]]) -> ParquetFile:
    sink = io.BytesIO()
    pq.write_table(_table(rows), sink)
    store.put(path, sink.getvalue())
    return ParquetFile("db", "m", path, 10, 30, len(rows), len(sink.getvalue()))


def test_rewrite_keeps_the_old_files_place() -> None:
    store = MemoryObjectStore()
    old = _put(store, "n/dbs/db/m/2024-01-01/00-00/1.parquet", ROWS)
    later = _put(store, "n/dbs/db/m/2024-01-01/00-00/2.parquet", ROWS[:1])
    gone = _put(store, "n/dbs/db/m/2024-01-01/00-00/3.parquet", ROWS[1:2])
    index = FileIndex()
    index.add(SnapshotManifest(1, [old]))
    index.add(SnapshotManifest(2, [later]))
    index.add(SnapshotManifest(3, [gone]))
    new, replaced, removed = rewrite(
        store, 4, [old, gone], {"op": "=", "tag": "host", "value": "b"}, None, None
    )
    assert removed == 2
    assert replaced[gone.path] is None
    assert replaced[old.path] == new[0].path and new[0].path.startswith("n/dbs/db/m/2024")
    assert pq.read_table(io.BytesIO(store.get(new[0].path) or b"")).column("v").to_pylist() == [
        1.0,
        3.0,
    ]
    index.add(SnapshotManifest(4, new, replaced=replaced))
    # the rewritten file comes before the later one still: later writes keep winning
    assert [f.path for f in index.under("db", "m")] == [new[0].path, later.path]
    # and so after a restart, from the manifests alone
    again = FileIndex()
    for seq, files, rep in [(1, [old], {}), (2, [later], {}), (3, [gone], {}), (4, new, replaced)]:
        again.add(SnapshotManifest.decode(SnapshotManifest(seq, files, replaced=rep).encode()))
    assert [f.path for f in again.under("db", "m")] == [new[0].path, later.path]
