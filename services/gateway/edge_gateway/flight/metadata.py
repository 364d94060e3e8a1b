"""Answers to the Flight SQL metadata commands, as Arrow tables of the schemas the Flight SQL
specification fixes: server information (GetSqlInfo), catalogs, schemas, tables, table types.

Tables come from the query worker (``tables`` op: what DataFusion's information_schema lists,
with each table's Arrow schema), so Flight SQL names exactly what SQL can query.
"""

from __future__ import annotations

import re
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc

from edge_common import __version__

__all__ = [
    "CATALOGS_SCHEMA",
    "DB_SCHEMAS_SCHEMA",
    "SQL_INFO_SCHEMA",
    "TABLES_SCHEMA",
    "TABLE_TYPES_SCHEMA",
    "catalogs",
    "db_schemas",
    "sql_info",
    "table_types",
    "tables",
]

CATALOGS_SCHEMA = pa.schema([pa.field("catalog_name", pa.string(), nullable=False)])
DB_SCHEMAS_SCHEMA = pa.schema(
    [("catalog_name", pa.string()), pa.field("db_schema_name", pa.string(), nullable=False)]
)
_TABLES_BASE = [
    ("catalog_name", pa.string()),
    ("db_schema_name", pa.string()),
    pa.field("table_name", pa.string(), nullable=False),
    pa.field("table_type", pa.string(), nullable=False),
]
TABLES_SCHEMA = pa.schema(_TABLES_BASE)
TABLES_WITH_SCHEMA = pa.schema([*_TABLES_BASE, pa.field("table_schema", pa.binary(), False)])
TABLE_TYPES_SCHEMA = pa.schema([pa.field("table_type", pa.string(), nullable=False)])

_INFO_VALUE = pa.dense_union(
    [
        pa.field("string_value", pa.string()),
        pa.field("bool_value", pa.bool_()),
        pa.field("bigint_value", pa.int64()),
        pa.field("int32_bitmask", pa.int32()),
        pa.field("string_list", pa.list_(pa.field("item", pa.string()))),
        pa.field(
            "int32_to_int32_list_map",
            pa.map_(pa.int32(), pa.list_(pa.field("item", pa.int32()))),
        ),
    ]
)
SQL_INFO_SCHEMA = pa.schema(
    [pa.field("info_name", pa.uint32(), nullable=False), pa.field("value", _INFO_VALUE, False)]
)

# SqlInfo ids of the specification -> value; the union member follows from the Python type
_SQL_INFO: dict[int, Any] = {
    0: "Edge",  # FLIGHT_SQL_SERVER_NAME
    1: __version__,  # FLIGHT_SQL_SERVER_VERSION
    2: pa.__version__,  # FLIGHT_SQL_SERVER_ARROW_VERSION
    3: True,  # FLIGHT_SQL_SERVER_READ_ONLY: data arrives as line protocol, not SQL
    4: True,  # FLIGHT_SQL_SERVER_SQL
    5: False,  # FLIGHT_SQL_SERVER_SUBSTRAIT
    8: 0,  # FLIGHT_SQL_SERVER_TRANSACTION: none
    9: False,  # FLIGHT_SQL_SERVER_CANCEL
    500: False,  # SQL_DDL_CATALOG
    501: False,  # SQL_DDL_SCHEMA
    502: False,  # SQL_DDL_TABLE
    504: '"',  # SQL_IDENTIFIER_QUOTE_CHAR
    506: True,  # SQL_ALL_TABLES_ARE_SELECTABLE
    515: True,  # SQL_SUPPORTS_COLUMN_ALIASING
    516: True,  # SQL_NULL_PLUS_NULL_IS_NULL
    529: "schema",  # SQL_SCHEMA_TERM
    531: "catalog",  # SQL_CATALOG_TERM
    532: True,  # SQL_CATALOG_AT_START
}
_INT32_INFO = {8}  # ids whose integer value is an int32 (bitmask or ordinal), not a bigint


def sql_info(wanted: list[int]) -> pa.Table:
    """One row per known id asked for (every known id when none are asked for)."""
    ids = [i for i in (wanted or sorted(_SQL_INFO)) if i in _SQL_INFO]
    codes, offsets = [], []
    children: list[list[Any]] = [[] for _ in range(6)]
    for i in ids:
        value = _SQL_INFO[i]
        if isinstance(value, bool):
            code = 1
        elif isinstance(value, int):
            code = 3 if i in _INT32_INFO else 2
        else:
            code = 0
        codes.append(code)
        offsets.append(len(children[code]))
        children[code].append(value)
    arrays = [pa.array(values, type=_INFO_VALUE.field(k).type) for k, values in enumerate(children)]
    union = pa.UnionArray.from_dense(
        pa.array(codes, pa.int8()),
        pa.array(offsets, pa.int32()),
        arrays,
        [f.name for f in _INFO_VALUE],
        list(range(6)),
    )
    return pa.Table.from_arrays([pa.array(ids, pa.uint32()), union], schema=SQL_INFO_SCHEMA)


def like(pattern: str | None) -> re.Pattern[str] | None:
    """A Flight SQL filter pattern (``%`` any run, ``_`` one character) as a regex."""
    if pattern is None:
        return None
    parts = []
    escaped = False
    for ch in pattern:
        if escaped:
            parts.append(re.escape(ch))
            escaped = False
        elif ch == "\\":
            escaped = True
        elif ch == "%":
            parts.append(".*")
        elif ch == "_":
            parts.append(".")
        else:
            parts.append(re.escape(ch))
    return re.compile("".join(parts), re.DOTALL)


def _keep(listed: pa.Table, column: str, value: str | None, pattern: str | None) -> pa.Table:
    if value is not None:
        listed = listed.filter(pc.equal(listed[column], value))
    rx = like(pattern)
    if rx is not None:
        mask = [rx.fullmatch(v or "") is not None for v in listed[column].to_pylist()]
        listed = listed.filter(pa.array(mask, pa.bool_()))
    return listed


def catalogs(listed: pa.Table) -> pa.Table:
    names = sorted(set(listed["catalog_name"].to_pylist()))
    return pa.Table.from_pydict({"catalog_name": names}, schema=CATALOGS_SCHEMA)


def db_schemas(listed: pa.Table, catalog: str | None, pattern: str | None) -> pa.Table:
    listed = _keep(_keep(listed, "catalog_name", catalog, None), "db_schema_name", None, pattern)
    pairs = sorted(
        set(
            zip(
                listed["catalog_name"].to_pylist(),
                listed["db_schema_name"].to_pylist(),
                strict=True,
            )
        )
    )
    return pa.Table.from_pydict(
        {"catalog_name": [p[0] for p in pairs], "db_schema_name": [p[1] for p in pairs]},
        schema=DB_SCHEMAS_SCHEMA,
    )


def tables(
    listed: pa.Table,
    catalog: str | None,
    schema_pattern: str | None,
    table_pattern: str | None,
    types: list[str],
    include_schema: bool,
) -> pa.Table:
    listed = _keep(listed, "catalog_name", catalog, None)
    listed = _keep(listed, "db_schema_name", None, schema_pattern)
    listed = _keep(listed, "table_name", None, table_pattern)
    if types:
        listed = listed.filter(pc.is_in(listed["table_type"], pa.array(types, pa.string())))
    listed = listed.sort_by(
        [(c, "ascending") for c in ("catalog_name", "db_schema_name", "table_name", "table_type")]
    )
    target = TABLES_WITH_SCHEMA if include_schema else TABLES_SCHEMA
    return listed.select(target.names).cast(target)


def table_types(listed: pa.Table) -> pa.Table:
    names = sorted(set(listed["table_type"].to_pylist()))
    return pa.Table.from_pydict({"table_type": names}, schema=TABLE_TYPES_SCHEMA)
