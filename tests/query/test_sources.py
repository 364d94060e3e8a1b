"""Reading a persisted file's rows of some tag values and times (``ParquetSource.read``):
the same rows whether they lie in one run (a series of a file sorted by tags, then time,
read by slicing and a binary search) or scattered (taken one by one)."""

from __future__ import annotations

import random
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from edge_common.objectstore import FileObjectStore
from edge_query.sources import ParquetSource

_SCHEMA = pa.schema(
    [
        ("host", pa.dictionary(pa.int32(), pa.string())),
        ("time", pa.timestamp("ns")),
        ("v", pa.float64()),
    ]
)


def _file(tmp_path: Path, rows: list[tuple[str, int, float]]) -> tuple[ParquetSource, str]:
    store = FileObjectStore(tmp_path / "objects")
    table = pa.table(
        {
            "host": pa.array([r[0] for r in rows]).dictionary_encode(),
            "time": pa.array([r[1] for r in rows], pa.timestamp("ns")),
            "v": pa.array([r[2] for r in rows]),
        }
    ).cast(_SCHEMA)
    key = "f.parquet"
    (tmp_path / "objects").mkdir(parents=True, exist_ok=True)
    pq.write_table(table, tmp_path / "objects" / key)
    return ParquetSource(store, tmp_path / "cache", 1 << 20), key


@pytest.mark.parametrize("layout", ["sorted", "shuffled", "times out of order"])
@pytest.mark.parametrize(("lo", "hi"), [(None, None), (30, 70), (None, 55), (41, None), (500, 900)])
def test_rows_of_a_tag_value_and_time_range(
    tmp_path: Path, layout: str, lo: int | None, hi: int | None
) -> None:
    rng = random.Random(7)
    rows = [(f"h{h}", t * 10 + h, rng.random()) for h in range(3) for t in range(10)]
    if layout == "shuffled":
        rng.shuffle(rows)
    elif layout == "times out of order":  # one run of h1, its times not in order
        block = [r for r in rows if r[0] == "h1"]
        rng.shuffle(block)
        rows = [r for r in rows if r[0] == "h0"] + block + [r for r in rows if r[0] == "h2"]
    source, key = _file(tmp_path, rows)
    got = source.read(key, _SCHEMA, lo, hi, {"host": ["h1"]}).to_pylist()
    expected = [
        {"host": h, "time": t, "v": v}
        for h, t, v in rows
        if h == "h1" and (lo is None or t >= lo) and (hi is None or t <= hi)
    ]
    key_of = lambda r: r["time"]  # noqa: E731
    as_ns = [{**r, "time": r["time"].value} for r in got]
    assert sorted(as_ns, key=key_of) == sorted(expected, key=key_of)
