from __future__ import annotations

import csv
import io
from typing import Any

import orjson
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from edge_common.errors import BadRequest
from edge_query.formats import CONTENT_TYPES, render

T0 = 1_704_067_200_000_000_000  # 2024-01-01T00:00:00Z
TAG = pa.dictionary(pa.int32(), pa.string())
SCHEMA = pa.schema(
    [
        ("time", pa.timestamp("ns")),
        ("host", TAG),
        ("usage", pa.float64()),
        ("n", pa.int64()),
        ("ok", pa.bool_()),
        ("note", pa.string()),
    ]
)


def _batch(rows: list[dict[str, Any]]) -> pa.RecordBatch:
    arrays = [pa.array([r.get(f.name) for r in rows], f.type) for f in SCHEMA]
    return pa.RecordBatch.from_arrays(arrays, schema=SCHEMA)


B1 = _batch(
    [
        {"time": T0, "host": "a", "usage": 1.5, "n": 1, "ok": True, "note": "x"},
        {"time": T0 + 500_000_000, "host": None, "usage": None, "n": 2},
    ]
)
B2 = _batch([{"time": T0 + 61_000_000_001, "host": "b", "usage": -2.25, "ok": False}])
EMPTY = B1.slice(0, 0)


def _render(fmt: str, batches: list[pa.RecordBatch], schema: pa.Schema = SCHEMA) -> bytes:
    return b"".join(render(fmt, schema, iter(batches)))


EXPECTED = [
    {"time": "2024-01-01T00:00:00", "host": "a", "usage": 1.5, "n": 1, "ok": True, "note": "x"},
    {"time": "2024-01-01T00:00:00.5", "n": 2},
    {"time": "2024-01-01T00:01:01.000000001", "host": "b", "usage": -2.25, "ok": False},
]


def test_json() -> None:
    out = _render("json", [B1, EMPTY, B2])
    assert orjson.loads(out) == EXPECTED
    # key order follows the schema
    assert list(orjson.loads(out)[0]) == SCHEMA.names


def test_json_empty_result() -> None:
    assert _render("json", []) == b"[]"
    assert _render("json", [EMPTY, EMPTY]) == b"[]"


def test_jsonl() -> None:
    out = _render("jsonl", [B1, EMPTY, B2])
    assert out.endswith(b"\n")
    assert [orjson.loads(line) for line in out.splitlines()] == EXPECTED
    assert _render("jsonl", []) == b""


@pytest.mark.parametrize(
    ("ns", "text"),
    [
        (0, "2024-01-01T00:00:00"),
        (10_000_000_000, "2024-01-01T00:00:10"),  # trailing zeros of the seconds stay
        (100_000_000, "2024-01-01T00:00:00.1"),
        (120_000_000, "2024-01-01T00:00:00.12"),
        (1, "2024-01-01T00:00:00.000000001"),
        (3_600_000_001_000, "2024-01-01T01:00:00.000001"),
    ],
)
def test_time_text(ns: int, text: str) -> None:
    schema = pa.schema([("time", pa.timestamp("ns"))])
    batch = pa.RecordBatch.from_arrays([pa.array([T0 + ns], pa.timestamp("ns"))], schema=schema)
    assert orjson.loads(_render("json", [batch], schema)) == [{"time": text}]


@pytest.mark.parametrize("unit", ["s", "ms", "us"])
def test_other_time_units(unit: str) -> None:
    schema = pa.schema([("t", pa.timestamp(unit))])
    batch = pa.RecordBatch.from_arrays([pa.array([0], pa.timestamp(unit))], schema=schema)
    assert orjson.loads(_render("json", [batch], schema)) == [{"t": "1970-01-01T00:00:00"}]


def test_csv() -> None:
    out = _render("csv", [B1, EMPTY, B2]).decode()
    rows = list(csv.reader(io.StringIO(out)))
    assert rows[0] == SCHEMA.names  # one header, first
    assert rows[1][:2] == ["2024-01-01T00:00:00", "a"]
    assert rows[2] == ["2024-01-01T00:00:00.5", "", "", "2", "", ""]
    assert rows[3][:2] == ["2024-01-01T00:01:01.000000001", "b"]
    assert len(rows) == 4
    assert float(rows[3][2]) == -2.25
    assert out.count("time") == 1


def test_csv_empty_result_is_a_header() -> None:
    for batches in ([], [EMPTY], [EMPTY, EMPTY]):
        out = _render("csv", batches).decode()
        assert list(csv.reader(io.StringIO(out))) == [SCHEMA.names]


def test_pretty() -> None:
    out = _render("pretty", [B1, B2]).decode()
    lines = out.splitlines()
    assert out.endswith("\n")
    assert lines[0] == lines[2] == lines[-1]
    assert set(lines[0]) == {"+", "-"}
    assert [c.strip() for c in lines[1].strip("|").split("|")] == SCHEMA.names
    assert len({len(line) for line in lines}) == 1  # a rectangle
    cells = [[c.strip() for c in line.strip("|").split("|")] for line in lines[3:-1]]
    assert cells == [
        ["2024-01-01T00:00:00", "a", "1.5", "1", "True", "x"],
        ["2024-01-01T00:00:00.5", "", "", "2", "", ""],
        ["2024-01-01T00:01:01.000000001", "b", "-2.25", "", "False", ""],
    ]


def test_pretty_empty_result() -> None:
    lines = _render("pretty", []).decode().splitlines()
    assert len(lines) == 4
    assert [c.strip() for c in lines[1].strip("|").split("|")] == SCHEMA.names


def test_parquet_reads_back() -> None:
    out = _render("parquet", [B1, EMPTY, B2])
    table = pq.read_table(io.BytesIO(out))
    expected = pa.Table.from_batches([B1, B2])
    assert table.num_rows == 3
    assert table.column_names == SCHEMA.names
    assert table.column("time").type == pa.timestamp("ns")
    for name in SCHEMA.names:
        got = table.column(name)
        want = expected.column(name)
        if pa.types.is_dictionary(want.type):
            got, want = got.cast(pa.string()), want.cast(pa.string())
        assert got.equals(want), name


def test_parquet_empty_result() -> None:
    table = pq.read_table(io.BytesIO(_render("parquet", [])))
    assert table.num_rows == 0
    assert table.column_names == SCHEMA.names


def test_arrow_stream() -> None:
    out = _render("arrow", [B1, B2])
    table = pa.ipc.open_stream(out).read_all()
    assert table.schema == SCHEMA
    assert table.equals(pa.Table.from_batches([B1, B2]))


def test_every_format_has_a_content_type() -> None:
    for fmt in CONTENT_TYPES:
        assert isinstance(_render(fmt, [B1]), bytes)
    assert CONTENT_TYPES["json"] == "application/json"
    assert CONTENT_TYPES["csv"].startswith("text/csv")


def test_unknown_format() -> None:
    with pytest.raises(BadRequest, match="unknown format 'xml'"):
        _render("xml", [B1])


def test_render_streams_batch_by_batch() -> None:
    produced: list[int] = []

    def batches() -> Any:
        for i, b in enumerate([B1, B2]):
            produced.append(i)
            yield b

    chunks = render("jsonl", SCHEMA, batches())
    first = next(chunks)
    assert produced == [0]  # the second batch is not pulled yet
    assert [orjson.loads(line) for line in first.splitlines()] == EXPECTED[:2]
