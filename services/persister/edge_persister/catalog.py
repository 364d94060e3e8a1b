"""The authoritative catalog and where it is kept: a versioned JSON file, replaced atomically
and fsynced before any schema change is acknowledged."""

from __future__ import annotations

import os
from pathlib import Path

import orjson
from edge_common.schema import Catalog, ColumnType, TableSchema
from edge_common.settings import Settings
from edge_common.walformat import fsync_dir

__all__ = ["CatalogOwner"]


class CatalogOwner:
    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.path = settings.data_dir / "catalog" / "catalog.json"
        self.catalog = self._load()

    def _load(self) -> Catalog:
        if self.path.exists():
            return Catalog.from_json(orjson.loads(self.path.read_bytes()))
        return Catalog()

    def _save(self) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        tmp = self.path.with_suffix(".tmp")
        with open(tmp, "wb") as f:
            f.write(orjson.dumps(self.catalog.to_json()))
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, self.path)
        fsync_dir(self.path.parent)

    def ensure(self, db: str, tables: dict[str, dict[str, str]]) -> dict[str, TableSchema]:
        """Create what is missing (limits checked first, for the whole request), persist."""
        changed = False
        out = {}
        trial = Catalog.from_json(self.catalog.to_json())
        s = self.settings
        limits = {
            "max_databases": s.max_databases,
            "max_tables": s.max_tables_per_database,
            "max_columns": s.max_columns_per_table,
        }
        for table, cols in tables.items():  # dry run: a limit error changes nothing
            trial.ensure(db, table, {c: ColumnType(k) for c, k in cols.items()}, **limits)
        for table, cols in tables.items():
            schema, did = self.catalog.ensure(
                db, table, {c: ColumnType(k) for c, k in cols.items()}, **limits
            )
            out[table] = schema
            changed |= did
        if changed:
            self._save()
        return out

    def note_path(self) -> Path:
        return self.path
