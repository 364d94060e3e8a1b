"""The authoritative catalog and where it is kept: one versioned JSON object per change in
the object store (``<node>/catalog/<version>.json``), written before any schema change is
acknowledged; the newest one is loaded on start."""

from __future__ import annotations

import logging

import orjson
import pyarrow as pa

from edge_common.auth import TokenRecord, hashes_equal
from edge_common.errors import Conflict, LimitExceeded, NotFound
from edge_common.objectstore import ObjectStore
from edge_common.paths import catalog_key, catalog_prefix, catalog_version
from edge_common.schema import (
    Catalog,
    ColumnType,
    DatabaseSchema,
    TableSchema,
    validate_database_name,
)
from edge_common.settings import Settings

__all__ = ["CatalogOwner"]

log = logging.getLogger(__name__)
_KEEP_VERSIONS = 10


class CatalogOwner:
    def __init__(self, settings: Settings, store: ObjectStore) -> None:
        self.settings = settings
        self.store = store
        self.catalog = self._load()

    def _load(self) -> Catalog:
        keys = self.store.list(catalog_prefix(self.settings.node_id))
        if not keys:
            return Catalog()
        newest = max(keys, key=catalog_version)
        data = self.store.get(newest)
        assert data is not None
        return Catalog.from_json(orjson.loads(data))

    def _save(self, catalog: Catalog) -> None:
        node = self.settings.node_id
        self.store.put(catalog_key(node, catalog.version), orjson.dumps(catalog.to_json()))
        for key in self.store.list(catalog_prefix(node)):
            if catalog_version(key) <= catalog.version - _KEEP_VERSIONS:
                self.store.delete(key)

    def _limits(self) -> dict[str, int]:
        s = self.settings
        return {
            "max_databases": s.max_databases,
            "max_tables": s.max_tables_per_database,
            "max_columns": s.max_columns_per_table,
        }

    def ensure(
        self, db: str, tables: dict[str, dict[str, str]], *, limits: bool = True
    ) -> dict[str, TableSchema]:
        """Create what is missing, all or nothing: the change is made on a copy, stored, and
        only then becomes the catalog (a limit error or a failed store changes nothing)."""
        wanted = {t: {c: ColumnType(k) for c, k in cols.items()} for t, cols in tables.items()}
        bounds = self._limits() if limits else dict.fromkeys(self._limits(), 2**62)
        trial = Catalog.from_json(self.catalog.to_json())
        for table, cols in wanted.items():
            trial.ensure(db, table, cols, **bounds)
        if trial.version != self.catalog.version:
            self._commit(trial)
        out = {}
        for table in wanted:
            schema = self.catalog.table(db, table)
            assert schema is not None
            out[table] = schema
        return out

    def _commit(self, trial: Catalog) -> None:
        trial.version = self.catalog.version + 1
        self._save(trial)
        self.catalog = trial

    def create_database(self, name: str) -> None:
        """An empty database (1.x clients create them before writing); no-op if it exists."""
        if name in self.catalog.databases:
            return
        validate_database_name(name)
        if len(self.catalog.databases) >= self.settings.max_databases:
            raise LimitExceeded(
                f"database limit reached: this server holds at most "
                f"{self.settings.max_databases} databases"
            )
        trial = Catalog.from_json(self.catalog.to_json())
        trial.databases[name] = DatabaseSchema(name)
        self._commit(trial)

    def drop(self, db: str, table: str | None) -> bool:
        """Remove a database or one of its tables; whether there was anything to remove."""
        d = self.catalog.databases.get(db)
        if d is None or (table is not None and table not in d.tables):
            return False
        trial = Catalog.from_json(self.catalog.to_json())
        if table is None:
            del trial.databases[db]
        else:
            del trial.databases[db].tables[table]
        self._commit(trial)
        return True

    def create_token(self, record: TokenRecord) -> None:
        if record.name in self.catalog.tokens:
            raise Conflict(f"a token named {record.name!r} exists already")
        if any(hashes_equal(t.hash, record.hash) for t in self.catalog.tokens.values()):
            raise Conflict("a token with this value exists already")
        trial = Catalog.from_json(self.catalog.to_json())
        trial.tokens[record.name] = record
        self._commit(trial)

    def delete_token(self, name: str) -> None:
        if name not in self.catalog.tokens:
            raise NotFound(f"no token named {name!r}")
        trial = Catalog.from_json(self.catalog.to_json())
        del trial.tokens[name]
        self._commit(trial)

    def adopt(self, db: str, table: str, schema: pa.Schema) -> None:
        """Make sure a replayed batch's columns are known (a catalog kept in memory does not
        survive a restart; the WAL does). Limits do not apply: the data was accepted."""
        known = self.catalog.table(db, table)
        if known is not None and all(n in known.columns for n in schema.names):
            return
        cols = {f.name: ColumnType.from_arrow(f.type) for f in schema if f.name != "time"}
        self.ensure(db, {table: {c: k.value for c, k in cols.items()}}, limits=False)
