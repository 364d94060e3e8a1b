"""Names, column types and the catalog model (databases → tables → typed columns).

Every name is validated here and nowhere else. The persister owns the authoritative
:class:`Catalog`; other processes hold copies that they refresh from it.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

import pyarrow as pa

from edge_common.auth import TokenRecord
from edge_common.errors import BadRequest, LimitExceeded, SchemaConflict
from edge_common.retention import AUTOGEN, RetentionPolicy, storage_name
from edge_common.users import UserRecord

__all__ = [
    "TIME_COLUMN",
    "Catalog",
    "ColumnType",
    "DatabaseSchema",
    "TableSchema",
    "empty_table",
    "validate_column_name",
    "validate_database_name",
    "validate_table_name",
]

TIME_COLUMN = "time"


def empty_table(schema: pa.Schema) -> pa.Table:
    """A table of ``schema`` without rows. ``Schema.empty_table()`` builds an empty array
    per column through Python: 0.3 ms for a 21-column TSBS table, paid on every fetch that
    found nothing in a source; this is ~1.5 µs (its columns hold no chunks)."""
    return pa.Table.from_batches([], schema)


_DB_NAME = re.compile(r"[A-Za-z0-9_][A-Za-z0-9_\-./]{0,63}")
_MAX_NAME_BYTES = 512


class ColumnType(StrEnum):
    """A column's kind and type; fixed when the column is first written."""

    TAG = "tag"
    TIME = "time"
    FLOAT = "float"
    INTEGER = "integer"
    UINTEGER = "uinteger"
    STRING = "string"
    BOOLEAN = "boolean"

    @property
    def is_field(self) -> bool:
        return self not in (ColumnType.TAG, ColumnType.TIME)

    @classmethod
    def from_arrow(cls, dtype: pa.DataType) -> ColumnType:
        for kind, arrow in _ARROW.items():
            if arrow.equals(dtype):
                return kind
        raise SchemaConflict(f"no column type for Arrow type {dtype}")

    @property
    def arrow_type(self) -> pa.DataType:
        return _ARROW[self]

    @property
    def iox_name(self) -> str:
        """The name InfluxDB 3 uses in its error messages."""
        if self is ColumnType.TAG:
            return "iox::column_type::tag"
        if self is ColumnType.TIME:
            return "iox::column_type::timestamp"
        return f"iox::column_type::field::{self.value}"


_ARROW: dict[ColumnType, pa.DataType] = {
    ColumnType.TAG: pa.dictionary(pa.int32(), pa.string()),
    ColumnType.TIME: pa.timestamp("ns"),
    ColumnType.FLOAT: pa.float64(),
    ColumnType.INTEGER: pa.int64(),
    ColumnType.UINTEGER: pa.uint64(),
    ColumnType.STRING: pa.string(),
    ColumnType.BOOLEAN: pa.bool_(),
}


def validate_database_name(name: str) -> str:
    if not _DB_NAME.fullmatch(name):
        raise BadRequest(
            f"invalid database name {name!r}: use 1-64 characters from letters, digits, "
            "'_', '-', '.' and '/', starting with a letter, digit or '_'"
        )
    return name


def _validate_name(kind: str, name: str) -> str:
    if not name:
        raise BadRequest(f"{kind} name must not be empty")
    if len(name.encode()) > _MAX_NAME_BYTES:
        raise BadRequest(f"{kind} name longer than {_MAX_NAME_BYTES} bytes")
    if any(ord(c) < 32 or ord(c) == 127 for c in name):
        raise BadRequest(f"{kind} name {name!r} contains a control character")
    return name


def validate_table_name(name: str) -> str:
    return _validate_name("table", name)


def validate_column_name(name: str) -> str:
    _validate_name("column", name)
    if name == TIME_COLUMN:
        raise BadRequest("'time' is reserved for the timestamp and cannot be a tag or field key")
    return name


@dataclass
class TableSchema:
    """Columns of one table in creation order; ``time`` is always present."""

    name: str
    columns: dict[str, ColumnType] = field(default_factory=lambda: {TIME_COLUMN: ColumnType.TIME})
    # Arrow schemas made, by (names asked, columns held): columns are only ever added and
    # never change type, so the count tells a stale entry (a fetch asked for three, ~25 µs)
    _arrow: dict[tuple[tuple[str, ...] | None, int], pa.Schema] = field(
        default_factory=dict, init=False, repr=False, compare=False
    )

    _tags: tuple[int, frozenset[str]] | None = field(
        default=None, init=False, repr=False, compare=False
    )

    def arrow_schema(self, names: list[str] | None = None) -> pa.Schema:
        key = (None if names is None else tuple(names), len(self.columns))
        found = self._arrow.get(key)
        if found is None:
            wanted = self.columns if names is None else names
            found = pa.schema([(n, self.columns[n].arrow_type) for n in wanted])
            if len(self._arrow) >= 256:
                self._arrow.clear()
            self._arrow[key] = found
        return found

    def query_schema(self) -> pa.Schema:
        """The table as SQL sees it: columns in name order, as InfluxDB 3 shows them."""
        return self.arrow_schema(sorted(self.columns))

    @property
    def tag_names(self) -> list[str]:
        return [n for n, t in self.columns.items() if t is ColumnType.TAG]

    def tag_set(self) -> frozenset[str]:
        """The tags' names, kept while the columns stay as many (each query's fetch asks)."""
        held = self._tags
        if held is None or held[0] != len(self.columns):
            held = self._tags = (len(self.columns), frozenset(self.tag_names))
        return held[1]


@dataclass
class DatabaseSchema:
    name: str
    tables: dict[str, TableSchema] = field(default_factory=dict)
    # its retention policies by name (none declared: "autogen", for ever) and the default
    # one (edge_common.retention); a database holding another's policy's rows has none
    policies: dict[str, RetentionPolicy] = field(default_factory=dict)
    default_policy: str = AUTOGEN
    # continuous queries by name: "query" (the CREATE statement as influxd lists it) and
    # when it runs: "interval", "offset" (its GROUP BY time()), "every", "for" (RESAMPLE;
    # 0: the interval), all in ns (edge_gateway.continuous)
    continuous_queries: dict[str, dict[str, Any]] = field(default_factory=dict)

    def retention_policies(self) -> dict[str, RetentionPolicy]:
        return self.policies or {AUTOGEN: RetentionPolicy()}


@dataclass
class Catalog:
    """All databases; ``version`` grows by one on every change."""

    version: int = 0
    databases: dict[str, DatabaseSchema] = field(default_factory=dict)
    tokens: dict[str, TokenRecord] = field(default_factory=dict)  # by name
    users: dict[str, UserRecord] = field(default_factory=dict)  # 1.x users, by name

    def table(self, db: str, table: str) -> TableSchema | None:
        d = self.databases.get(db)
        return None if d is None else d.tables.get(table)

    def storage(self, db: str, rp: str | None = None) -> str:
        """The database holding the rows of ``db``'s policy ``rp`` (None: its default)."""
        if rp is None:
            d = self.databases.get(db)
            rp = AUTOGEN if d is None else d.default_policy
        return storage_name(db, rp)

    def owner(self, storage: str) -> tuple[str, str] | None:
        """(database, policy) whose rows ``storage`` holds; None for a database holding
        no declared policy's rows."""
        db, _, rp = storage.rpartition("/")
        d = self.databases.get(db)
        if d is not None and rp in d.policies:
            return db, rp
        if storage in self.databases and AUTOGEN in self.databases[storage].retention_policies():
            return storage, AUTOGEN
        return None

    def policy_of(self, storage: str) -> RetentionPolicy | None:
        found = self.owner(storage)
        if found is None:
            return None
        return self.databases[found[0]].retention_policies()[found[1]]

    def is_policy_storage(self, name: str) -> bool:
        """Whether ``name`` holds the rows of another database's policy (not listed as a
        database of its own by the 1.x API)."""
        found = self.owner(name)
        return found is not None and found[0] != name

    def ensure(
        self,
        db: str,
        table: str,
        columns: dict[str, ColumnType],
        *,
        max_databases: int,
        max_tables: int,
        max_columns: int,
    ) -> tuple[TableSchema, bool]:
        """Create what is missing of ``db.table`` and ``columns``; return the table and whether
        anything changed. Columns whose existing type differs are left as they are: the caller
        rejects the lines that disagree."""
        changed = False
        d = self.databases.get(db)
        if d is None:
            validate_database_name(db)
            if len(self.databases) >= max_databases:
                raise LimitExceeded(
                    f"database limit reached: this server holds at most {max_databases} databases"
                )
            d = self.databases[db] = DatabaseSchema(db)
            changed = True
            self._declare(db)
        t = d.tables.get(table)
        if t is None:
            validate_table_name(table)
            if len(d.tables) >= max_tables:
                raise LimitExceeded(
                    f"table limit reached: database {db!r} holds at most {max_tables} tables"
                )
            t = d.tables[table] = TableSchema(table)
            changed = True
        new = [n for n in columns if n not in t.columns]
        if new:
            if len(t.columns) + len(new) > max_columns:
                raise LimitExceeded(
                    f"column limit reached: table {table!r} in database {db!r} may hold at most "
                    f"{max_columns} columns, this write would make {len(t.columns) + len(new)}"
                )
            for n in new:
                validate_column_name(n)
                t.columns[n] = columns[n]
            changed = True
        if changed:
            self.version += 1
        return t, changed

    def _declare(self, storage: str) -> None:
        """A write naming a policy the database lacks (``db/rp``, made on first write as a
        database is) declares it, kept for ever, so that SHOW RETENTION POLICIES lists it."""
        db, _, rp = storage.rpartition("/")
        if not db or not rp:
            return
        d = self.databases.get(db)
        if d is None:
            d = self.databases[validate_database_name(db)] = DatabaseSchema(db)
        if rp in d.policies:
            return
        if not d.policies:
            d.policies[AUTOGEN] = RetentionPolicy()
        d.policies[rp] = RetentionPolicy()

    def to_json(self) -> dict[str, Any]:
        return {
            "format": 1,
            "version": self.version,
            "databases": {
                dn: {tn: {c: ty.value for c, ty in t.columns.items()} for tn, t in d.tables.items()}
                for dn, d in self.databases.items()
            },
            "policies": {
                dn: {
                    "default": d.default_policy,
                    "policies": {n: p.to_json() for n, p in d.policies.items()},
                }
                for dn, d in self.databases.items()
                if d.policies
            },
            "continuous_queries": {
                dn: {n: dict(q) for n, q in d.continuous_queries.items()}
                for dn, d in self.databases.items()
                if d.continuous_queries
            },
            "tokens": [t.to_json() for t in self.tokens.values()],
            "users": [u.to_json() for u in self.users.values()],  # (in creation order)
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Catalog:
        if data.get("format") != 1:
            raise SchemaConflict(f"unknown catalog format {data.get('format')!r}")
        cat = cls(version=int(data["version"]))
        for dn, tables in data["databases"].items():
            d = cat.databases[dn] = DatabaseSchema(dn)
            for tn, cols in tables.items():
                d.tables[tn] = TableSchema(tn, {c: ColumnType(v) for c, v in cols.items()})
        for dn, held in data.get("policies", {}).items():
            d = cat.databases[dn]
            d.default_policy = held["default"]
            d.policies = {n: RetentionPolicy.from_json(p) for n, p in held["policies"].items()}
        for dn, queries in data.get("continuous_queries", {}).items():
            cat.databases[dn].continuous_queries = {n: dict(q) for n, q in queries.items()}
        for t in data.get("tokens", []):
            record = TokenRecord.from_json(t)
            cat.tokens[record.name] = record
        for u in data.get("users", []):
            user = UserRecord.from_json(u)
            cat.users[user.name] = user
        return cat
