from __future__ import annotations

from typing import Any

import numpy as np
import pyarrow as pa
import pytest

from edge_common.picks import Pick
from edge_common.schema import ColumnType, TableSchema
from edge_persister.buffer import TableBuffer

TAG, F, INT, S = ColumnType.TAG, ColumnType.FLOAT, ColumnType.INTEGER, ColumnType.STRING


def _schema(**columns: ColumnType) -> TableSchema:
    t = TableSchema("cpu")
    t.columns.update(columns)
    return t


def _batch(schema: TableSchema, rows: list[dict[str, Any]]) -> pa.RecordBatch:
    """A batch with the columns the rows mention, in catalog order and catalog types."""
    names = [n for n in schema.columns if any(n in r for r in rows)]
    return pa.RecordBatch.from_pylist(rows, schema=schema.arrow_schema(names))


def _rows(batches: list[pa.RecordBatch]) -> list[dict[str, Any]]:
    out = []
    for b in batches:
        cols = {
            n: (c.cast(pa.int64()) if n == "time" else c).to_pylist()
            for n, c in zip(b.schema.names, b.columns, strict=True)
        }
        out += [dict(zip(cols, v, strict=True)) for v in zip(*cols.values(), strict=True)]
    return out


def _sorted(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return sorted(rows, key=lambda r: (r["time"], str(r.get("host")), str(r.get("zone"))))


def test_append_and_read() -> None:
    schema = _schema(host=TAG, usage=F)
    buf = TableBuffer()
    b1 = _batch(schema, [{"time": 1, "host": "a", "usage": 1.0}, {"time": 2, "host": "b"}])
    b2 = _batch(schema, [{"time": 3, "host": "a", "usage": 3.0}])
    buf.append(b1)
    buf.append(b2)
    buf.append(b2.slice(0, 0))  # empty batches are ignored
    assert buf.num_rows == 3
    assert len(buf.chunks) == 2
    assert buf.nbytes == b1.nbytes + b2.nbytes
    assert not buf.has_repeats
    out = buf.read(schema)
    assert all(b.schema == schema.arrow_schema() for b in out)
    assert _rows(out) == [
        {"time": 1, "host": "a", "usage": 1.0},
        {"time": 2, "host": "b", "usage": None},
        {"time": 3, "host": "a", "usage": 3.0},
    ]


def test_projection() -> None:
    schema = _schema(host=TAG, usage=F, idle=F)
    buf = TableBuffer()
    buf.append(_batch(schema, [{"time": 1, "host": "a", "usage": 1.0, "idle": 9.0}]))
    out = buf.read(schema, ["idle", "host"])
    assert out[0].schema == schema.arrow_schema(["idle", "host"])
    assert _rows(out) == [{"idle": 9.0, "host": "a"}]


def test_read_of_empty_buffer() -> None:
    assert TableBuffer().read(_schema(v=F)) == []


def _time_buffer(schema: TableSchema) -> TableBuffer:
    buf = TableBuffer()
    buf.append(_batch(schema, [{"time": t, "v": float(t)} for t in (10, 11, 12)]))
    buf.append(_batch(schema, [{"time": t, "v": float(t)} for t in (20, 21, 22)]))
    buf.append(_batch(schema, [{"time": t, "v": float(t)} for t in (35, 30)]))
    return buf


@pytest.mark.parametrize(
    ("lo", "hi", "expected"),
    [
        (None, None, [10, 11, 12, 20, 21, 22, 35, 30]),
        (11, None, [11, 12, 20, 21, 22, 35, 30]),
        (None, 21, [10, 11, 12, 20, 21]),
        (12, 20, [12, 20]),  # bounds are inclusive
        (13, 19, []),
        (31, 34, []),  # inside a chunk's range, but no row matches
        (0, 100, [10, 11, 12, 20, 21, 22, 35, 30]),
        (30, 30, [30]),
    ],
)
def test_time_range(lo: int | None, hi: int | None, expected: list[int]) -> None:
    schema = _schema(v=F)
    buf = _time_buffer(schema)
    out = buf.read(schema, min_ns=lo, max_ns=hi)
    assert [r["time"] for r in _rows(out)] == expected
    assert all(b.num_rows for b in out)  # no empty batches
    # the same rows when time is not projected
    out = buf.read(schema, ["v"], min_ns=lo, max_ns=hi)
    assert [r["v"] for r in _rows(out)] == [float(t) for t in expected]


def test_chunks_outside_the_range_are_not_touched() -> None:
    schema = _schema(v=F)
    buf = _time_buffer(schema)

    class Boom:
        @property
        def schema(self) -> pa.Schema:
            raise AssertionError("a pruned chunk was read")

    buf.chunks[0].batch = Boom()
    buf.chunks[2].batch = Boom()
    assert [r["time"] for r in _rows(buf.read(schema, min_ns=15, max_ns=25))] == [20, 21, 22]
    assert (buf.chunks[1].min_ns, buf.chunks[1].max_ns) == (20, 22)


def test_schema_evolution_fills_nulls() -> None:
    schema = _schema(host=TAG, usage=F)
    buf = TableBuffer()
    buf.append(_batch(schema, [{"time": 1, "host": "a", "usage": 1.0}]))
    schema.columns.update({"zone": TAG, "idle": INT})
    buf.append(_batch(schema, [{"time": 2, "host": "a", "zone": "z", "idle": 5}]))
    out = buf.read(schema)
    assert all(b.schema == schema.arrow_schema() for b in out)
    assert _rows(out) == [
        {"time": 1, "host": "a", "usage": 1.0, "zone": None, "idle": None},
        {"time": 2, "host": "a", "usage": None, "zone": "z", "idle": 5},
    ]
    assert _rows(buf.read(schema, ["idle"])) == [{"idle": None}, {"idle": 5}]


def test_repeat_across_batches_merges_fields_later_wins() -> None:
    schema = _schema(host=TAG, a=F, b=INT, c=S)
    buf = TableBuffer()
    buf.append(_batch(schema, [{"time": 5, "host": "x", "a": 1.0, "b": 1, "c": "old"}]))
    assert not buf.has_repeats
    buf.append(_batch(schema, [{"time": 5, "host": "x", "a": 2.0}]))
    assert buf.has_repeats
    buf.append(_batch(schema, [{"time": 5, "host": "x", "c": "new"}, {"time": 6, "host": "x"}]))
    assert _sorted(_rows(buf.read(schema))) == [
        {"time": 5, "host": "x", "a": 2.0, "b": 1, "c": "new"},
        {"time": 6, "host": "x", "a": None, "b": None, "c": None},
    ]
    assert buf.num_rows == 2
    assert not buf.has_repeats
    # merged state stays merged; later writes still merge into it
    buf.append(_batch(schema, [{"time": 5, "host": "x", "b": 7}]))
    assert _sorted(_rows(buf.read(schema))) == [
        {"time": 5, "host": "x", "a": 2.0, "b": 7, "c": "new"},
        {"time": 6, "host": "x", "a": None, "b": None, "c": None},
    ]


def test_repeat_within_one_batch() -> None:
    schema = _schema(host=TAG, a=F, b=INT)
    buf = TableBuffer()
    buf.append(
        _batch(
            schema,
            [
                {"time": 1, "host": "x", "a": 1.0, "b": 1},
                {"time": 1, "host": "x", "a": None, "b": 2},
                {"time": 2, "host": "x", "a": 5.0},
                {"time": 1, "host": "x", "a": 3.0},
            ],
        )
    )
    assert buf.has_repeats
    assert _sorted(_rows(buf.read(schema))) == [
        {"time": 1, "host": "x", "a": 3.0, "b": 2},
        {"time": 2, "host": "x", "a": 5.0, "b": None},
    ]


def test_other_tag_set_at_same_time_is_not_merged() -> None:
    schema = _schema(host=TAG, zone=TAG, v=F)
    buf = TableBuffer()
    buf.append(_batch(schema, [{"time": 1, "host": "a", "zone": "z", "v": 1.0}]))
    buf.append(
        _batch(
            schema,
            [
                {"time": 1, "host": "b", "zone": "z", "v": 2.0},
                {"time": 1, "host": "a", "zone": "y", "v": 3.0},
                {"time": 1, "host": "z", "zone": "a", "v": 4.0},  # same values, other keys
            ],
        )
    )
    assert not buf.has_repeats
    assert len(_rows(buf.read(schema))) == 4
    # a real repeat forces a merge, which must still keep the four series apart
    buf.append(_batch(schema, [{"time": 1, "host": "a", "zone": "z", "v": 9.0}]))
    assert _sorted(_rows(buf.read(schema))) == _sorted(
        [
            {"time": 1, "host": "a", "zone": "z", "v": 9.0},
            {"time": 1, "host": "b", "zone": "z", "v": 2.0},
            {"time": 1, "host": "a", "zone": "y", "v": 3.0},
            {"time": 1, "host": "z", "zone": "a", "v": 4.0},
        ]
    )


def test_missing_tag_is_its_own_series() -> None:
    schema = _schema(host=TAG, zone=TAG, v=F)
    buf = TableBuffer()
    buf.append(_batch(schema, [{"time": 1, "host": "a", "v": 1.0}]))  # no zone column at all
    buf.append(_batch(schema, [{"time": 1, "host": "a", "zone": "z", "v": 2.0}]))
    buf.append(_batch(schema, [{"time": 1, "zone": "z", "v": 3.0}]))  # no host
    assert not buf.has_repeats
    # null zone in a batch that has the column is the same series as no zone column at all
    buf.append(_batch(schema, [{"time": 1, "host": "a", "zone": None, "v": 4.0}]))
    assert buf.has_repeats
    assert _sorted(_rows(buf.read(schema))) == _sorted(
        [
            {"time": 1, "host": "a", "zone": None, "v": 4.0},
            {"time": 1, "host": "a", "zone": "z", "v": 2.0},
            {"time": 1, "host": None, "zone": "z", "v": 3.0},
        ]
    )


def test_merge_across_schema_evolution() -> None:
    schema = _schema(host=TAG, a=F)
    buf = TableBuffer()
    buf.append(_batch(schema, [{"time": 1, "host": "x", "a": 1.0}]))
    schema.columns["b"] = INT
    buf.append(_batch(schema, [{"time": 1, "host": "x", "b": 2}]))
    out = buf.read(schema)
    assert _rows(out) == [{"time": 1, "host": "x", "a": 1.0, "b": 2}]
    assert all(b.schema == schema.arrow_schema() for b in out)


def test_dictionaries_differ_between_batches() -> None:
    schema = _schema(host=TAG, v=F)
    tag = pa.dictionary(pa.int32(), pa.string())
    t = pa.timestamp("ns")

    def batch(codes: list[int], words: list[str], times: list[int], vals: list[float]) -> Any:
        host = pa.DictionaryArray.from_arrays(pa.array(codes, pa.int32()), pa.array(words))
        return pa.RecordBatch.from_arrays(
            [pa.array(times, t), host, pa.array(vals)],
            schema=pa.schema([("time", t), ("host", tag), ("v", pa.float64())]),
        )

    buf = TableBuffer()
    buf.append(batch([0, 1], ["a", "b"], [1, 1], [1.0, 2.0]))
    # same host values under other dictionary codes
    buf.append(batch([1, 0], ["b", "a"], [1, 2], [10.0, 3.0]))
    assert buf.has_repeats
    assert _sorted(_rows(buf.read(schema))) == [
        {"time": 1, "host": "a", "v": 10.0},
        {"time": 1, "host": "b", "v": 2.0},
        {"time": 2, "host": "b", "v": 3.0},
    ]


def test_read_keeps_only_allowed_tag_values() -> None:
    schema = _schema(host=TAG, zone=TAG, v=F)
    buf = TableBuffer()
    buf.append(
        _batch(schema, [{"time": 1, "host": "a", "v": 1.0}, {"time": 2, "host": "b", "v": 2.0}])
    )
    buf.append(
        _batch(schema, [{"time": 3, "host": "c", "zone": "z", "v": 3.0}, {"time": 4, "v": 4.0}])
    )
    got = _rows(buf.read(schema, ["time", "v"], values={"host": ["a", "c"]}))
    assert [r["v"] for r in got] == [1.0, 3.0]
    # a chunk without the column has the tag null everywhere: nothing passes
    assert _rows(buf.read(schema, None, values={"zone": ["z"]})) == [
        {"time": 3, "host": "c", "zone": "z", "v": 3.0}
    ]
    assert buf.read(schema, None, 0, 10, values={"host": []}) == []


def test_few_rows_of_many_chunks_come_as_one_batch_with_the_texts_they_hold() -> None:
    schema = _schema(host=TAG, zone=TAG, v=F)
    buf = TableBuffer()
    for chunk in range(12):  # each chunk: 500 hosts, its own dictionary; zone set in some
        rows = [{"time": chunk * 1000 + h, "host": f"h{h}", "v": float(h)} for h in range(500)]
        rows[7]["zone"] = f"z{chunk % 2}" if chunk % 3 else None
        buf.append(_batch(schema, rows))
    batches = buf.read(schema, None, 0, 7_000, values={"host": ["h7", "h9"]})
    assert len(batches) == 1
    for name in ("host", "zone"):
        assert len(batches[0].column(name).dictionary) <= 2
    assert _rows(batches) == [
        {"time": c * 1000 + h, "host": f"h{h}", "zone": z, "v": float(h)}
        for c in range(7)
        for h, z in ((7, f"z{c % 2}" if c % 3 else None), (9, None))
    ]


def test_tag_values_time_and_comparisons_together_as_row_by_row() -> None:
    """Rows found by each chunk's index of a tag's values, cut by time and comparisons,
    are the rows a test of every row keeps, in the order they were written."""
    rng = np.random.default_rng(7)
    schema = _schema(host=TAG, zone=TAG, v=F)
    buf = TableBuffer()
    written: list[dict[str, Any]] = []
    for chunk in range(6):
        rows = []
        for i in range(200):
            row: dict[str, Any] = {"time": chunk * 1000 + i * 5, "v": float(rng.integers(100))}
            if rng.random() < 0.9:
                row["host"] = f"h{rng.integers(6)}"
            if chunk % 2 and rng.random() < 0.7:
                row["zone"] = f"z{rng.integers(3)}"
            rows.append(row)
        buf.append(_batch(schema, rows))
        written += rows
    asks: list[tuple[dict[str, list[str]], int | None, int | None, list[Any]]] = [
        ({"host": ["h1"]}, None, None, []),
        ({"host": ["h4", "h2", "nope"]}, 1500, 4200, []),
        ({"host": ["h0"], "zone": ["z1", "z2"]}, None, 3000, [("v", ">", 40.0)]),
        ({"zone": ["z0"]}, 999, 1001, []),
        ({"host": ["nope"]}, None, None, []),
    ]
    for values, lo, hi, compare in asks:
        for _ in range(2):  # built on the first read, used on the second
            got = _rows(buf.read(schema, None, lo, hi, values, compare))
            want = [
                {k: r.get(k) for k in ("time", "host", "zone", "v")}
                for r in written
                if all(r.get(t) in allowed for t, allowed in values.items())
                and (lo is None or r["time"] >= lo)
                and (hi is None or r["time"] <= hi)
                and all(r["v"] > c[2] for c in compare)
            ]
            assert got == want, (values, lo, hi)


def test_allowed_values_keep_every_version_of_a_row() -> None:
    """An overwritten point passes or fails the tag filter whole; the later write wins."""
    schema = _schema(host=TAG, v=F, w=F)
    buf = TableBuffer()
    buf.append(_batch(schema, [{"time": 5, "host": "a", "v": 1.0, "w": 7.0}]))
    buf.append(_batch(schema, [{"time": 5, "host": "a", "v": 2.0}]))
    got = _rows(buf.read(schema, None, values={"host": ["a"]}))
    assert got == [{"time": 5, "host": "a", "v": 2.0, "w": 7.0}]


def test_read_keeps_only_rows_passing_comparisons() -> None:
    schema = _schema(host=TAG, v=F, n=INT, s=S)
    buf = TableBuffer()
    buf.append(
        _batch(
            schema,
            [
                {"time": 1, "host": "a", "v": 95.0, "n": 1, "s": "x"},
                {"time": 2, "host": "b", "v": 5.0, "n": 2, "s": "y"},
                {"time": 3, "host": "c", "n": 3},  # v null: fails every comparison on v
            ],
        )
    )
    buf.append(_batch(schema, [{"time": 4, "host": "d", "n": 4}]))  # a chunk without v
    assert [r["time"] for r in _rows(buf.read(schema, compare=[("v", ">", 90)]))] == [1]
    assert [r["time"] for r in _rows(buf.read(schema, compare=[("v", "!=", 95.0)]))] == [2]
    both = [("n", ">=", 2), ("host", "<", "d")]  # a tag (dictionary) and an integer
    assert [r["time"] for r in _rows(buf.read(schema, compare=both))] == [2, 3]
    # a comparison Arrow cannot make is left to the query, not taken as "no row passes";
    # a chunk without the column holds it null: no row there passes
    assert [r["time"] for r in _rows(buf.read(schema, compare=[("s", ">", 3)]))] == [1, 2, 3]


def test_read_with_a_pick_hands_over_only_the_rows_it_can_pick() -> None:
    schema = _schema(host=TAG, v=F, n=INT)
    buf = TableBuffer()
    buf.append(
        _batch(schema, [{"time": 1, "host": "a", "v": 1.0}, {"time": 2, "host": "b", "v": 2.0}])
    )
    buf.append(
        _batch(
            schema, [{"time": 3, "host": "a", "v": 3.0, "n": 1}, {"time": 4, "host": "a", "n": 2}]
        )
    )
    last = Pick("last", ("v",))

    def times(**kw: Any) -> list[int]:
        return sorted(r["time"] for r in _rows(buf.read(schema, pick=last, **kw)))

    assert times() == [2, 3]
    buf.append(_batch(schema, [{"time": 9, "host": "b", "v": 9.0}]))  # picks brought up to date
    assert times() == [3, 9]
    assert times(min_ns=None, max_ns=5) == [2, 3]  # a range that cuts the buffer: afresh
    assert times(values={"host": ["b"]}) == [9]
    assert times(values={"host": ["b"]}) == [9]  # the picks' chunk (and its index) kept
    assert times(min_ns=None, max_ns=5, values={"host": ["b"]}) == [2]  # afresh, one host's
    assert times(min_ns=None, max_ns=5, values={"host": ["a", "z"]}) == [3]
    buf.append(_batch(schema, [{"time": 3, "host": "a", "n": 5}]))  # a repeat: merged first
    assert _rows(buf.read(schema, ["time", "v", "n"], pick=last)) == [
        {"time": 3, "v": 3.0, "n": 5},
        {"time": 9, "v": 9.0, "n": None},
    ]
    assert sorted(r["time"] for r in _rows(buf.read(schema, pick=Pick("first", ("n",))))) == [3]
    buf.freeze(schema)
    assert sorted(r["time"] for r in _rows(buf.read(schema, pick=last, frozen=True))) == [3, 9]
    assert buf.read(schema, pick=last) == []


def test_many_small_writes_are_joined_into_few_chunks_that_read_the_same() -> None:
    """Each write is a chunk; small ones are joined (a query pays per chunk). Reads, picks
    kept up to date across joins, repeats and columns that appear midway: all as if every
    row were in chunks of its own."""
    rng = np.random.default_rng(11)
    schema = _schema(host=TAG, zone=TAG, v=F, n=INT)
    buf = TableBuffer()
    latest: dict[tuple[Any, int], dict[str, Any]] = {}
    last = Pick("last", ("v",))
    for write in range(300):
        rows = []
        for _ in range(int(rng.integers(1, 40))):
            row: dict[str, Any] = {
                "time": int(rng.integers(0, 5000)),
                "host": f"h{rng.integers(5)}",
            }
            if rng.random() < 0.8:
                row["v"] = float(rng.integers(100))
            if write > 150:  # a tag and a field first written midway
                row["zone"] = f"z{rng.integers(2)}"
                row["n"] = int(rng.integers(10))
            rows.append(row)
        buf.append(_batch(schema, rows))
        if write % 3 == 0:  # as the persister does after each turn of its loop
            buf.join_small_chunks()
        for r in rows:  # the later write wins per field
            key = ((r["host"], r.get("zone")), r["time"])
            merged = {"time": r["time"], "host": r["host"], "zone": r.get("zone")}
            merged |= {k: v for k, v in latest.get(key, {}).items() if k in ("v", "n")}
            merged |= {k: r[k] for k in ("v", "n") if k in r}
            latest[key] = merged
        if write % 37 == 0:  # picks made now are brought up to date after later joins
            buf.read(schema, pick=last)
    assert len(buf.chunks) < 300 // 8
    many = TableBuffer()  # a replay: thousands of writes before the first turn
    for t in range(2000):
        many.append(_batch(schema, [{"time": t, "host": "a", "v": 1.0}]))
    many.join_small_chunks()
    assert len(many.chunks) == 20 and many.num_rows == 2000  # 7 of 256 rows, 13 of 16
    assert [r["time"] for r in _rows(many.read(schema))] == list(range(2000))
    want = sorted(
        ({"v": None, "n": None} | r for r in latest.values()),
        key=lambda r: (r["time"], r["host"], str(r["zone"])),
    )
    assert _sorted(_rows(buf.read(schema))) == want
    host = [r for r in want if r["host"] == "h2" and 1000 <= r["time"] <= 3000]
    assert _sorted(_rows(buf.read(schema, None, 1000, 3000, {"host": ["h2"]}))) == host
    newest: dict[tuple[Any, Any], dict[str, Any]] = {}
    for r in want:
        if r["v"] is not None:
            newest[(r["host"], r["zone"])] = r  # want is in time order
    picked = _rows(buf.read(schema, pick=last))
    assert sorted((r["host"], str(r["zone"]), r["time"], r["v"]) for r in picked) == sorted(
        (h, str(z), r["time"], r["v"]) for (h, z), r in newest.items()
    )
