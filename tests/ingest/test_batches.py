from __future__ import annotations

from typing import Any

import pyarrow as pa

from edge_common.lineprotocol import parse
from edge_common.lp_rows import ParsedTable
from edge_common.schema import Catalog, ColumnType, TableSchema
from edge_ingest.batches import (
    Rejection,
    build_batch,
    in_line_order,
    kept_columns,
    proposed_columns,
)

LIMITS = {"max_databases": 10, "max_tables": 10, "max_columns": 100}
TAG, F, INT, U, S, B = (
    ColumnType.TAG,
    ColumnType.FLOAT,
    ColumnType.INTEGER,
    ColumnType.UINTEGER,
    ColumnType.STRING,
    ColumnType.BOOLEAN,
)


def _table(body: bytes, name: str = "cpu") -> ParsedTable:
    parsed = parse(body, precision="ns", default_time_ns=0)
    assert parsed.errors == []
    return parsed.tables[name]


def _schema(columns: dict[str, ColumnType]) -> TableSchema:
    t = TableSchema("cpu")
    t.columns.update(columns)
    return t


def _fit(table: ParsedTable) -> tuple[TableSchema, pa.RecordBatch | None, list[Rejection]]:
    """What the ingest worker does with a fresh catalog."""
    proposal, problems = proposed_columns(table)
    schema, _ = Catalog().ensure("db", table.name, proposal, **LIMITS)
    batch, rejections = build_batch(table, schema, problems)
    return schema, batch, rejections


def _rows(batch: pa.RecordBatch) -> list[dict[str, Any]]:
    cols = {
        n: (c.cast(pa.int64()) if n == "time" else c).to_pylist()
        for n, c in zip(batch.schema.names, batch.columns, strict=True)
    }
    return [dict(zip(cols, vals, strict=True)) for vals in zip(*cols.values(), strict=True)]


def test_proposed_columns_first_occurrence_wins() -> None:
    table = _table(
        b"cpu,host=a usage=1i 1\n"
        b"cpu,host=b usage=2.5,idle=1u 2\n"
        b'cpu,usage=x,zone=z idle=true,note="hi" 3\n'
    )
    proposal, problems = proposed_columns(table)
    assert problems == []
    assert proposal == {"host": TAG, "usage": INT, "idle": U, "zone": TAG, "note": S}


def test_proposed_columns_tag_before_field_on_later_line() -> None:
    table = _table(b"cpu v=1 1\ncpu,k=a v=2 2\ncpu k=1i 3\n")
    proposal, _ = proposed_columns(table)
    assert proposal == {"v": F, "k": TAG}
    table = _table(b"cpu v=1,k=1i 1\ncpu,k=a v=2 2\n")
    proposal, _ = proposed_columns(table)
    assert proposal == {"v": F, "k": INT}


def test_reserved_time_name_is_rejected() -> None:
    table = _table(b"cpu v=1 1\ncpu time=2,v=3 2\ncpu,time=x v=4 3\ncpu v=5 4\n")
    proposal, problems = proposed_columns(table)
    assert "time" not in proposal
    assert sorted(p.line_number for p in problems) == [2, 3]
    assert all("'time' is reserved" in p.message for p in problems)
    schema, batch, rejections = _fit(table)
    assert schema.columns["time"] is ColumnType.TIME
    assert [r.line_number for r in rejections] == [2, 3]
    assert all("'time' is reserved" in r.message for r in rejections)
    assert batch is not None
    assert _rows(batch) == [{"time": 1, "v": 1.0}, {"time": 4, "v": 5.0}]


def test_field_type_conflict_rejects_only_those_rows() -> None:
    table = _table(b"cpu,host=a usage=1.5 1\ncpu,host=b usage=2i 2\ncpu,host=c usage=3.5 3\n")
    schema = _schema({"host": TAG, "usage": F})
    batch, rejections = build_batch(table, schema, [])
    assert len(rejections) == 1
    assert rejections[0].line_number == 2
    message = rejections[0].message
    assert "'usage'" in message
    assert "iox::column_type::field::float" in message  # the catalog's type
    assert "iox::column_type::field::integer" in message  # the line's type
    assert message.index("float") < message.index("integer")
    assert batch is not None
    assert _rows(batch) == [
        {"time": 1, "host": "a", "usage": 1.5},
        {"time": 3, "host": "c", "usage": 3.5},
    ]


def test_conflict_against_type_set_by_earlier_line_in_same_body() -> None:
    table = _table(b'cpu v=1i 1\ncpu v=2.0 2\ncpu v="s" 3\ncpu v=4i 4\n')
    schema, batch, rejections = _fit(table)
    assert schema.columns["v"] is INT
    assert [r.line_number for r in rejections] == [2, 3]
    assert "got iox::column_type::field::float" in rejections[0].message
    assert "got iox::column_type::field::string" in rejections[1].message
    assert batch is not None and _rows(batch) == [{"time": 1, "v": 1}, {"time": 4, "v": 4}]


def test_tag_field_kind_conflicts() -> None:
    schema = _schema({"host": TAG, "usage": F})
    # a field written where the catalog has a tag, and a tag where it has a field
    table = _table(b'cpu host=1 1\ncpu,usage=x host="a" 2\ncpu,host=ok usage=1 3\n')
    batch, rejections = build_batch(table, schema, [])
    by_line = {r.line_number: r.message for r in rejections}
    assert sorted(by_line) == [1, 2]
    assert "'host'" in by_line[1]
    assert "expected iox::column_type::tag, got iox::column_type::field::float" in by_line[1]
    # line 2 breaks both ways; it is reported once, for its tag
    assert by_line[2] == (
        "invalid column type for column 'usage', "
        "expected iox::column_type::field::float, got iox::column_type::tag"
    )
    assert batch is not None and _rows(batch) == [{"time": 3, "host": "ok", "usage": 1.0}]


def test_one_rejection_per_line() -> None:
    schema = _schema({"a": F, "b": F})
    table = _table(b"cpu a=1i,b=2i 1\ncpu a=1 2\n")
    batch, rejections = build_batch(table, schema, [])
    assert [r.line_number for r in rejections] == [1]
    assert batch is not None and batch.num_rows == 1


def test_every_row_rejected_gives_no_batch() -> None:
    schema = _schema({"v": F})
    batch, rejections = build_batch(_table(b"cpu v=1i 1\ncpu v=2i 2\n"), schema, [])
    assert batch is None
    assert [r.line_number for r in rejections] == [1, 2]


def test_columns_in_catalog_order_with_nulls() -> None:
    schema = _schema({"zone": TAG, "b": F, "host": TAG, "a": INT, "unused": S, "flag": B})
    table = _table(
        b"cpu,host=h1 a=1i,b=1.5 10\n"
        b"cpu,zone=z,host=h2 b=2.5 20\n"
        b"cpu,host=h1 a=3i 30\n"
        b"cpu a=4i,flag=true 40\n"
    )
    batch, rejections = build_batch(table, schema, [])
    assert rejections == []
    assert batch is not None
    # catalog order; columns no line had are left out (readers fill them in)
    assert batch.schema.names == ["time", "zone", "b", "host", "a", "flag"]
    assert batch.schema == schema.arrow_schema(batch.schema.names)
    assert _rows(batch) == [
        {"time": 10, "zone": None, "b": 1.5, "host": "h1", "a": 1, "flag": None},
        {"time": 20, "zone": "z", "b": 2.5, "host": "h2", "a": None, "flag": None},
        {"time": 30, "zone": None, "b": None, "host": "h1", "a": 3, "flag": None},
        {"time": 40, "zone": None, "b": None, "host": None, "a": 4, "flag": True},
    ]


def test_nulls_line_up_after_rejections() -> None:
    schema = _schema({"host": TAG, "a": F, "b": INT})
    table = _table(
        b"cpu,host=h1 a=1 1\n"
        b"cpu,host=h2 a=2i,b=2i 2\n"  # rejected: a is a float
        b"cpu,host=h3 b=3i 3\n"
        b"cpu,host=h4 a=4,b=4i 4\n"
    )
    batch, rejections = build_batch(table, schema, [])
    assert [r.line_number for r in rejections] == [2]
    assert batch is not None
    assert _rows(batch) == [
        {"time": 1, "host": "h1", "a": 1.0, "b": None},
        {"time": 3, "host": "h3", "a": None, "b": 3},
        {"time": 4, "host": "h4", "a": 4.0, "b": 4},
    ]


def test_name_problems_passed_in_are_rejected_and_reported() -> None:
    table = _table(b"cpu v=1 1\ncpu v=2 2\n")
    schema = _schema({"v": F})
    problem = Rejection(2, "made up")
    batch, rejections = build_batch(table, schema, [problem])
    assert rejections == [problem]
    assert batch is not None and _rows(batch) == [{"time": 1, "v": 1.0}]


def test_all_types_through_a_fresh_catalog() -> None:
    table = _table(b'cpu,host=a f=1.5,i=-2i,u=3u,s="x",b=t 5\n')
    schema, batch, rejections = _fit(table)
    assert rejections == []
    assert batch is not None
    assert batch.schema == schema.arrow_schema()
    assert batch.schema.field("host").type == pa.dictionary(pa.int32(), pa.string())
    assert _rows(batch) == [
        {"time": 5, "host": "a", "f": 1.5, "i": -2, "u": 3, "s": "x", "b": True}
    ]


def test_writes_that_arrive_together_join_in_order_stamped_as_the_last() -> None:
    """An ingest worker's joined record (edge_ingest.worker._joined): tables in order of
    first use, rows in write order, the union of columns, the last write's stamp (a
    replay orders records by stamp; the joined one is applied after all its writes)."""
    from edge_common.wire import WriteRecord
    from edge_ingest.worker import _joined

    a = WriteRecord(
        "db", 10, {"cpu": pa.record_batch({"v": [1.0]}), "mem": pa.record_batch({"f": [5]})}
    )
    b = WriteRecord("db", 30, {"cpu": pa.record_batch({"v": [2.0], "w": [3.0]})})
    joined = _joined([a, b])
    assert (joined.db, joined.stamp_ns, list(joined.tables)) == ("db", 30, ["cpu", "mem"])
    assert joined.tables["cpu"].to_pydict() == {"v": [1.0, 2.0], "w": [None, 3.0]}
    assert joined.tables["mem"].to_pydict() == {"f": [5]}


def test_refused_lines_leave_no_column_behind() -> None:
    # line 2 conflicts on "usage" (float in the catalog): "extra" and "zone", which only it
    # names, are not made; line 3's "other" is
    table = _table(b"cpu,host=a usage=1 1\ncpu,zone=z usage=2i,extra=1 2\ncpu other=3 3\n")
    known = {"time": ColumnType.TIME, "host": TAG, "usage": F}
    proposal, problems = proposed_columns(table)
    assert set(proposal) == {"host", "usage", "zone", "extra", "other"}
    kept = kept_columns(table, known, proposal, problems)
    assert set(kept) == {"host", "usage", "other"}


def test_a_line_past_retention_leaves_no_column_behind() -> None:
    table = _table(b"cpu usage=1 100\ncpu old=1 1\n")
    proposal, problems = proposed_columns(table)
    assert set(kept_columns(table, {}, proposal, problems, oldest_ns=50)) == {"usage"}


def test_refusals_in_influxd_words() -> None:
    table = _table(b"cpu usage=1i 1\ncpu,time=x v=1 2\ncpu time=1 3\ncpu,host=a u=1 4\n")
    _, problems = proposed_columns(table)
    schema = _schema({"usage": F, "u": TAG})
    _, rejections = build_batch(table, schema, problems)
    assert [r.influxd for r in rejections] == [
        'field type conflict: input field "usage" on measurement "cpu" is type integer, '
        "already exists as type float",
        'invalid tag key: input tag "time" on measurement "cpu" is invalid',
        'invalid field name: input field "time" on measurement "cpu" is invalid',
        None,  # a tag here and a field there: influxd keeps them apart, it has no words
    ]


def test_a_new_name_takes_its_kind_from_the_first_line_kept() -> None:
    # line 1 is refused ("usage" is stored as a float): "z" is an integer there only; line
    # 2 makes it a float, and is kept with it, never stored without it
    table = _table(b'cpu usage="x",z=1i 1\ncpu z=1.5 2\n')
    known = {"time": ColumnType.TIME, "usage": F}
    proposal, problems = proposed_columns(table)
    assert proposal["z"] is INT
    kept = kept_columns(table, known, proposal, problems)
    assert kept == {"z": F}  # (of the rows kept; "usage" is stored already)
    batch, rejections = build_batch(table, _schema({"usage": F, "z": F}), problems)
    assert [r.line_number for r in rejections] == [1]
    assert batch is not None and _rows(batch) == [{"time": 2, "z": 1.5}]


def test_a_line_is_never_stored_without_a_name_it_holds() -> None:
    table = _table(b"cpu a=1 1\ncpu a=2,b=3 2\n")
    batch, rejections = build_batch(table, _schema({"a": F}), [])  # (no column "b")
    assert [r.line_number for r in rejections] == [2]
    assert "'b'" in rejections[0].message
    assert batch is not None and _rows(batch) == [{"time": 1, "a": 1.0}]


def test_a_conflict_is_told_of_the_lines_first_field_of_another_type() -> None:
    # the request names "b" first (line 1), but line 2's first field of another type is "a"
    table = _table(b"cpu b=1 1\ncpu a=1i,b=2i 2\n")
    schema = _schema({"a": F, "b": F})
    _, rejections = build_batch(table, schema, [])
    assert '"b"' in (rejections[0].influxd or "")  # (the request's first)
    told = in_line_order(rejections[0], "cpu a=1i,b=2i 2", {"cpu": schema})
    assert told.influxd == (
        'field type conflict: input field "a" on measurement "cpu" is type integer, '
        "already exists as type float"
    )
    assert told.message == rejections[0].message  # (Edge's own words unchanged)
