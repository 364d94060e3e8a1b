from __future__ import annotations

import orjson
import pyarrow as pa
import pytest

from edge_common.errors import BadRequest, LimitExceeded, SchemaConflict
from edge_common.schema import (
    TIME_COLUMN,
    Catalog,
    ColumnType,
    TableSchema,
    validate_column_name,
    validate_database_name,
    validate_table_name,
)

LIMITS = {"max_databases": 10, "max_tables": 10, "max_columns": 10}
F = ColumnType.FLOAT
TAG = ColumnType.TAG


def test_column_type_properties() -> None:
    assert [t for t in ColumnType if t.is_field] == [
        ColumnType.FLOAT,
        ColumnType.INTEGER,
        ColumnType.UINTEGER,
        ColumnType.STRING,
        ColumnType.BOOLEAN,
    ]
    assert ColumnType.TAG.arrow_type == pa.dictionary(pa.int32(), pa.string())
    assert ColumnType.TIME.arrow_type == pa.timestamp("ns")
    assert ColumnType.UINTEGER.arrow_type == pa.uint64()
    assert ColumnType.BOOLEAN.arrow_type == pa.bool_()
    assert ColumnType.TAG.iox_name == "iox::column_type::tag"
    assert ColumnType.TIME.iox_name == "iox::column_type::timestamp"
    assert ColumnType.INTEGER.iox_name == "iox::column_type::field::integer"


@pytest.mark.parametrize("name", ["a", "_x", "9", "my-db.v1/sub_2", "a" * 64])
def test_valid_database_names(name: str) -> None:
    assert validate_database_name(name) == name


@pytest.mark.parametrize("name", ["", "-a", ".a", "/a", "a" * 65, "a b", "a\n", "db!", "dé", "a,b"])
def test_invalid_database_names(name: str) -> None:
    with pytest.raises(BadRequest, match="invalid database name"):
        validate_database_name(name)


@pytest.mark.parametrize("name", ["cpu", "with space", "dé", "é" * 256, "a" * 512, "Time"])
def test_valid_table_and_column_names(name: str) -> None:
    assert validate_table_name(name) == name
    assert validate_column_name(name) == name


@pytest.mark.parametrize(
    ("name", "message"),
    [
        ("", "must not be empty"),
        ("a" * 513, "longer than 512 bytes"),
        ("é" * 257, "longer than 512 bytes"),  # 514 bytes in UTF-8
        ("a\tb", "control character"),
        ("a\x00", "control character"),
    ],
)
def test_invalid_table_and_column_names(name: str, message: str) -> None:
    with pytest.raises(BadRequest, match=message):
        validate_table_name(name)
    with pytest.raises(BadRequest, match=message):
        validate_column_name(name)


def test_time_is_reserved_for_columns_only() -> None:
    with pytest.raises(BadRequest, match="reserved"):
        validate_column_name(TIME_COLUMN)
    assert validate_table_name(TIME_COLUMN) == TIME_COLUMN


def test_table_schema() -> None:
    t = TableSchema("cpu")
    assert t.columns == {TIME_COLUMN: ColumnType.TIME}
    t.columns.update({"zone": TAG, "usage": F, "host": TAG})
    assert t.tag_names == ["zone", "host"]
    assert t.arrow_schema().names == ["time", "zone", "usage", "host"]
    assert t.arrow_schema(["usage", "time"]) == pa.schema(
        [("usage", pa.float64()), ("time", pa.timestamp("ns"))]
    )
    assert t.query_schema().names == ["host", "time", "usage", "zone"]
    # each table gets its own column dict
    assert TableSchema("other").columns == {TIME_COLUMN: ColumnType.TIME}


def test_ensure_creates_and_reports_changes() -> None:
    cat = Catalog()
    assert cat.table("db", "cpu") is None
    t, changed = cat.ensure("db", "cpu", {"host": TAG, "usage": F}, **LIMITS)
    assert changed and cat.version == 1
    assert t is cat.table("db", "cpu")
    assert list(t.columns) == ["time", "host", "usage"]
    # nothing new: no change, same version
    _, changed = cat.ensure("db", "cpu", {"usage": F}, **LIMITS)
    assert not changed and cat.version == 1
    _, changed = cat.ensure("db", "cpu", {}, **LIMITS)
    assert not changed and cat.version == 1
    # one new column: one version step
    t, changed = cat.ensure("db", "cpu", {"usage": F, "idle": ColumnType.INTEGER}, **LIMITS)
    assert changed and cat.version == 2
    assert list(t.columns) == ["time", "host", "usage", "idle"]
    # another table and another database
    cat.ensure("db", "mem", {"free": F}, **LIMITS)
    cat.ensure("db2", "cpu", {}, **LIMITS)
    assert cat.version == 4
    assert sorted(cat.databases) == ["db", "db2"]
    assert cat.table("db2", "cpu") is not None
    assert cat.table("db2", "mem") is None


def test_ensure_keeps_existing_column_type() -> None:
    cat = Catalog()
    cat.ensure("db", "cpu", {"usage": F, "host": TAG}, **LIMITS)
    t, changed = cat.ensure(
        "db", "cpu", {"usage": ColumnType.STRING, "host": ColumnType.FLOAT}, **LIMITS
    )
    assert not changed
    assert t.columns["usage"] is F and t.columns["host"] is TAG


def test_database_limit() -> None:
    cat = Catalog()
    limits = {**LIMITS, "max_databases": 2}
    cat.ensure("a", "t", {}, **limits)
    cat.ensure("b", "t", {}, **limits)
    with pytest.raises(LimitExceeded, match="at most 2 databases"):
        cat.ensure("c", "t", {}, **limits)
    assert sorted(cat.databases) == ["a", "b"] and cat.version == 2
    # existing databases still take new tables
    _, changed = cat.ensure("a", "u", {}, **limits)
    assert changed


def test_table_limit() -> None:
    cat = Catalog()
    limits = {**LIMITS, "max_tables": 2}
    cat.ensure("db", "t1", {}, **limits)
    cat.ensure("db", "t2", {}, **limits)
    with pytest.raises(LimitExceeded, match="database 'db' holds at most 2 tables"):
        cat.ensure("db", "t3", {}, **limits)
    assert sorted(cat.databases["db"].tables) == ["t1", "t2"]
    # the limit is per database
    cat.ensure("other", "t3", {}, **limits)
    assert cat.table("other", "t3") is not None


def test_column_limit_counts_time() -> None:
    cat = Catalog()
    limits = {**LIMITS, "max_columns": 3}
    cat.ensure("db", "cpu", {"a": F, "b": F}, **limits)  # time + 2 = 3: allowed
    version = cat.version
    with pytest.raises(LimitExceeded, match="at most 3 columns, this write would make 5"):
        cat.ensure("db", "cpu", {"a": F, "c": F, "d": F}, **limits)
    with pytest.raises(LimitExceeded, match="this write would make 4"):
        cat.ensure("db", "cpu", {"c": F}, **limits)  # one over
    t = cat.table("db", "cpu")
    assert t is not None and list(t.columns) == ["time", "a", "b"]
    assert cat.version == version
    # known columns do not count against the limit
    _, changed = cat.ensure("db", "cpu", {"a": F, "b": F}, **limits)
    assert not changed


def test_invalid_names_rejected_by_ensure() -> None:
    cat = Catalog()
    with pytest.raises(BadRequest, match="invalid database name"):
        cat.ensure("bad name", "t", {}, **LIMITS)
    with pytest.raises(BadRequest, match="table name must not be empty"):
        cat.ensure("db", "", {}, **LIMITS)
    with pytest.raises(BadRequest, match="control character"):
        cat.ensure("db", "t", {"a\x01": F}, **LIMITS)


def test_time_already_exists_as_the_timestamp() -> None:
    cat = Catalog()
    cat.ensure("db", "t", {}, **LIMITS)
    # "time" is never new, so it is left as the timestamp and the caller rejects the lines
    t, changed = cat.ensure("db", "t", {"time": F}, **LIMITS)
    assert not changed
    assert t.columns == {"time": ColumnType.TIME}


def test_json_roundtrip_keeps_order_types_and_version() -> None:
    cat = Catalog()
    cat.ensure("db", "cpu", {"zone": TAG, "usage": F, "host": TAG}, **LIMITS)
    cat.ensure(
        "db",
        "flags",
        {"ok": ColumnType.BOOLEAN, "n": ColumnType.UINTEGER, "s": ColumnType.STRING},
        **LIMITS,
    )
    cat.ensure("db2", "m", {"i": ColumnType.INTEGER}, **LIMITS)
    data = cat.to_json()
    assert data["format"] == 1 and data["version"] == 3
    assert data["databases"]["db"]["cpu"] == {
        "time": "time",
        "zone": "tag",
        "usage": "float",
        "host": "tag",
    }
    back = Catalog.from_json(orjson.loads(orjson.dumps(data)))
    assert back == cat
    assert back.version == 3
    cpu = back.table("db", "cpu")
    assert cpu is not None and list(cpu.columns) == ["time", "zone", "usage", "host"]
    assert all(isinstance(t, ColumnType) for t in cpu.columns.values())
    assert back.to_json() == data
    # the copy is independent
    back.ensure("db", "cpu", {"new": F}, **LIMITS)
    assert "new" not in cat.databases["db"].tables["cpu"].columns


def test_empty_catalog_roundtrip() -> None:
    assert Catalog.from_json(Catalog().to_json()) == Catalog()


@pytest.mark.parametrize("fmt", [None, 2, "1"])
def test_unknown_catalog_format(fmt: object) -> None:
    data = Catalog().to_json()
    data["format"] = fmt
    with pytest.raises(SchemaConflict, match="unknown catalog format"):
        Catalog.from_json(data)
