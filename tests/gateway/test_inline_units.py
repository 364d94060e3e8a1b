"""The gateway's cache of Parquet columns (edge_gateway.inline._Held): on the event loop's
thread it answers only from what it holds, and has the rest read on another thread."""

from __future__ import annotations

import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from edge_gateway.inline import _Held
from edge_query.budget import OverBudget


def _file(tmp_path: Path) -> Path:
    path = tmp_path / "a.parquet"
    pq.write_table(
        pa.table(
            {
                "time": pa.array(range(6), pa.timestamp("ns")),
                "host": pa.array(["a", "b"] * 3).dictionary_encode(),
                "v": [float(i) for i in range(6)],
            }
        ),
        path,
    )
    return path


def test_the_loop_reads_nothing_and_a_thread_reads_the_rest(tmp_path: Path) -> None:
    path = _file(tmp_path)
    asked: list[tuple[Any, Callable[[], Any]]] = []
    cache = _Held(1 << 20, lambda key, read: asked.append((key, read)))

    def on_a_thread(read: Callable[[], Any]) -> None:
        t = threading.Thread(target=read)
        t.start()
        t.join()

    with pytest.raises(OverBudget) as why:
        cache.rows_with("a", lambda: path, "host", ["b"])  # (neither column nor index held)
    assert not why.value.lasting and len(asked) == 1
    on_a_thread(asked.pop()[1])  # the index, and the column it is made of, read there
    assert cache.rows_with("a", lambda: path, "host", ["b"]).tolist() == [1, 3, 5]
    with pytest.raises(OverBudget):
        cache.batch("a", lambda: path, ["time", "v"])
    key, read = asked.pop()
    assert key == ("a", "time", "v")
    on_a_thread(read)
    got = cache.batch("a", lambda: path, ["time", "v"])
    assert got.column("v").to_pylist() == [0.0, 1.0, 2.0, 3.0, 4.0, 5.0]
    assert asked == []
