from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

from edge_query.filecache import ColumnCache


def _file(tmp_path: Path, name: str, rows: int) -> Path:
    path = tmp_path / name
    pq.write_table(
        pa.table(
            {
                "time": pa.array(range(rows), pa.timestamp("ns")),
                "host": pa.array([f"h{i % 3}" for i in range(rows)]).dictionary_encode(),
                "v": [float(i) for i in range(rows)],
            }
        ),
        path,
        row_group_size=max(rows // 3, 1),  # several row groups: one array comes back
    )
    return path


def _opening(path: Path) -> tuple[list[str], Callable[[], Path]]:
    """The file's opener for the cache, and the list of times it was called."""
    opened: list[str] = []

    def local() -> Path:
        opened.append("open")
        return path

    return opened, local


def test_columns_are_read_once_and_only_those_missing(tmp_path: Path) -> None:
    opened, local = _opening(_file(tmp_path, "a.parquet", 1000))
    cache = ColumnCache(1 << 30)
    first = cache.batch("a", local, ["time", "v", "absent"])
    assert first.schema.names == ["time", "v"]  # columns the file lacks are left out
    assert first.column("v").to_pylist()[:3] == [0.0, 1.0, 2.0]
    reads = len(opened)
    again = cache.batch("a", local, ["v", "time"])
    assert len(opened) == reads  # all held: the file is not touched
    assert again.schema.names == ["v", "time"]
    both = cache.batch("a", local, ["time", "host", "v"])
    assert len(opened) > reads  # host had to be read, and only host was added
    assert both.column("host").to_pylist()[:4] == ["h0", "h1", "h2", "h0"]
    assert pa.types.is_dictionary(both.schema.field("host").type)


def test_least_recently_used_columns_leave_first(tmp_path: Path) -> None:
    a, b = _file(tmp_path, "a.parquet", 10_000), _file(tmp_path, "b.parquet", 10_000)
    cache = ColumnCache(100_000)  # room for one float column of 10,000 rows, not two
    cache.batch("a", lambda: a, ["v"])
    cache.batch("b", lambda: b, ["v"])
    assert cache.used <= cache.limit
    assert ("a", "v") not in cache._columns and ("b", "v") in cache._columns
    # a column larger than the whole cache is still answered, then let go
    tiny = ColumnCache(10)
    assert tiny.batch("a", lambda: a, ["v"]).num_rows == 10_000
    assert tiny.used == 0


def test_rows_of_tag_values_come_from_an_index_made_once_and_kept(tmp_path: Path) -> None:
    opened, local = _opening(_file(tmp_path, "a.parquet", 1000))
    cache = ColumnCache(1 << 30)
    rows = cache.rows_with("a", local, "host", ["h1", "h9"])
    assert rows.tolist() == list(range(1, 1000, 3))
    reads, used = len(opened), cache.used
    assert cache.rows_with("a", local, "host", ["h2", "h0"]).tolist() == [
        i for i in range(1000) if i % 3 != 1
    ]
    assert (len(opened), cache.used) == (reads, used)  # nothing read or made again
    assert len(cache.rows_with("a", local, "zone", ["z"])) == 0  # a tag the file lacks


def test_rows_of_tag_values_within_a_time_range(tmp_path: Path) -> None:
    # rows written out of time order too (the index's binary search runs over each value's
    # rows in time order), of one value and of several
    path = tmp_path / "a.parquet"
    times = [(i * 7919) % 1000 for i in range(1000)]
    hosts = [f"h{i % 3}" for i in range(1000)]
    pq.write_table(
        pa.table(
            {
                "time": pa.array(times, pa.timestamp("ns")),
                "host": pa.array(hosts).dictionary_encode(),
            }
        ),
        path,
    )
    cache = ColumnCache(1 << 30)
    at = np.array(times, dtype=np.int64)
    for allowed in (["h1"], ["h0", "h2"], ["h9"]):
        for lo, hi in ((None, 500), (100, None), (250, 260), (900, 100)):
            found = cache.rows_with("a", lambda: path, "host", allowed, at, lo, hi)
            assert found.tolist() == [
                i
                for i, (t, h) in enumerate(zip(times, hosts, strict=True))
                if h in allowed and (lo is None or t >= lo) and (hi is None or t <= hi)
            ]


def test_holds_and_indexed_tell_what_would_be_read(tmp_path: Path) -> None:
    opened, local = _opening(_file(tmp_path, "a.parquet", 30))
    cache = ColumnCache(1 << 20)
    assert not cache.holds("a", ["time", "v"]) and not cache.indexed("a", "host")
    cache.batch("a", local, ["time"])
    assert cache.holds("a", ["time"]) and not cache.holds("a", ["time", "v"])
    assert cache.holds("a", ["time", "nowhere"])  # (a column the file lacks reads nothing)
    cache.rows_with("a", local, "host", ["h1"])
    assert cache.indexed("a", "host") and not cache.indexed("a", "v")
    read = len(opened)
    cache.batch("a", local, ["time", "host"])
    assert len(opened) == read  # held, as holds() told


def test_numbers_are_views_of_the_columns_kept_with_them(tmp_path: Path) -> None:
    path = tmp_path / "a.parquet"
    pq.write_table(
        pa.table(
            {
                "time": pa.array([5, 6, 7], pa.timestamp("ns")),
                "v": [1.5, 2.5, 3.5],
                "gaps": pa.array([1, None, 3], pa.int64()),
                "s": ["x", "y", "z"],
            }
        ),
        path,
    )
    cache = ColumnCache(1 << 20)
    found = cache.numbers("a", lambda: path, ["time", "v", "gaps", "s", "absent"])
    assert list(found) == ["time", "v", "gaps", "s"]  # (a column the file lacks: left out)
    assert found["time"].dtype == np.int64 and found["time"].tolist() == [5, 6, 7]
    assert found["v"].tolist() == [1.5, 2.5, 3.5]
    assert found["gaps"] is None and found["s"] is None  # a null, no number
    again = cache.numbers("a", lambda: path, ["v"])
    assert again["v"] is found["v"]  # kept
    cache.limit = 0
    cache.batch("b", lambda: path, ["v"])  # (nothing fits: every column and view let go)
    assert not cache._views
