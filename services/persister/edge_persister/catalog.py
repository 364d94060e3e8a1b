"""The authoritative catalog and where it is kept: one versioned JSON object per change in
the object store (``<node>/catalog/<version>.json``), written before any schema change is
acknowledged; the newest one is loaded on start."""

from __future__ import annotations

import logging
from typing import Any

import orjson
import pyarrow as pa

from edge_common.auth import TokenRecord, hashes_equal
from edge_common.errors import Conflict, DatabaseNotFound, LimitExceeded, NotFound, QueryError
from edge_common.objectstore import ObjectStore
from edge_common.paths import catalog_key, catalog_prefix, catalog_version
from edge_common.retention import (
    AUTOGEN,
    MIN_DURATION_NS,
    RetentionPolicy,
    go_duration,
    shard_duration,
    storage_name,
)
from edge_common.schema import (
    Catalog,
    ColumnType,
    DatabaseSchema,
    TableSchema,
    validate_database_name,
)
from edge_common.settings import Settings
from edge_common.users import UserRecord, after_revoke

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

    def create_database(self, name: str, policy: dict[str, Any] | None = None) -> None:
        """An empty database (1.x clients create them before writing); no-op if it exists.
        ``policy`` (CREATE DATABASE … WITH): its default retention policy, as influxd makes
        it (``name``, else "autogen"; ``duration_ns``, ``shard_duration_ns``,
        ``replication``, any of them absent)."""
        rp_name, rp = (AUTOGEN, None) if policy is None else _spec(policy)
        existing = self.catalog.databases.get(name)
        if existing is not None:
            held = existing.retention_policies().get(rp_name)
            if rp is not None and (held != rp or existing.default_policy != rp_name):
                raise QueryError("retention policy conflicts with an existing policy")
            return
        validate_database_name(name)
        if len(self.catalog.databases) >= self.settings.max_databases:
            raise LimitExceeded(
                f"database limit reached: this server holds at most "
                f"{self.settings.max_databases} databases"
            )
        trial = Catalog.from_json(self.catalog.to_json())
        d = trial.databases[name] = DatabaseSchema(name)
        if rp is not None:
            d.policies, d.default_policy = {rp_name: rp}, rp_name
        self._commit(trial)

    def create_policy(self, db: str, spec: dict[str, Any], make_default: bool) -> None:
        """CREATE RETENTION POLICY, with influxd's checks and answers: the same policy
        again is no change; another one of that name is an error."""
        name, rp = _spec(spec)
        d = self._database(db)
        held = d.retention_policies().get(name)
        if held is not None:
            if held != rp:
                raise QueryError("retention policy already exists")
            if make_default and d.default_policy != name:
                raise QueryError("retention policy conflicts with an existing policy")
            return
        self._put_policy(db, name, rp, make_default)

    def alter_policy(self, db: str, name: str, spec: dict[str, Any], make_default: bool) -> None:
        """ALTER RETENTION POLICY: the options given change; the rest stay (a new duration
        keeps the shard duration, as influxd's does)."""
        duration = spec.get("duration_ns")
        _check_duration(duration)
        d = self._database(db)
        held = d.retention_policies().get(name)
        if held is None:
            raise QueryError(f"retention policy not found: {name}")
        shard = spec.get("shard_duration_ns")
        after = duration if duration is not None else held.duration_ns
        if after and after < (shard if shard is not None else held.shard_duration_ns):
            raise QueryError("retention policy duration must be greater than the shard duration")
        rp = RetentionPolicy(
            after,
            held.shard_duration_ns if shard is None else shard_duration(after, shard),
            held.replication if spec.get("replication") is None else int(spec["replication"]),
        )
        self._put_policy(db, name, rp, make_default)

    def _put_policy(self, db: str, name: str, rp: RetentionPolicy, make_default: bool) -> None:
        trial = Catalog.from_json(self.catalog.to_json())
        t = trial.databases[db]
        t.policies = {**t.retention_policies(), name: rp}  # (a new one last, as influxd's)
        if make_default:
            t.default_policy = name
        self._commit(trial)

    def drop_policy(self, db: str, name: str) -> str | None:
        """DROP RETENTION POLICY: forgets it and returns the database holding its rows, for
        the caller to drop (None: there was no such policy, nor perhaps such a database,
        which influxd does not call an error)."""
        d = self.catalog.databases.get(db)
        if d is None or name not in d.retention_policies():
            return None
        trial = Catalog.from_json(self.catalog.to_json())
        t = trial.databases[db]
        t.policies = {n: p for n, p in t.retention_policies().items() if n != name}
        self._commit(trial)
        return storage_name(db, name)

    def create_continuous_query(self, db: str, name: str, query: dict[str, Any]) -> None:
        """CREATE CONTINUOUS QUERY (``query``: as DatabaseSchema keeps it): the same one
        again is no change, another one of that name an error (influxd's)."""
        held = self._database(db).continuous_queries.get(name)
        if held is not None and held["query"] == query["query"]:
            return
        if held is not None:
            raise QueryError("continuous query already exists")
        trial = Catalog.from_json(self.catalog.to_json())
        trial.databases[db].continuous_queries[name] = query
        self._commit(trial)

    def drop_continuous_query(self, db: str, name: str) -> None:
        """DROP CONTINUOUS QUERY: one not there (or its database) is no error, as influxd."""
        d = self.catalog.databases.get(db)
        if d is None or name not in d.continuous_queries:
            return
        trial = Catalog.from_json(self.catalog.to_json())
        del trial.databases[db].continuous_queries[name]
        self._commit(trial)

    def _database(self, db: str) -> DatabaseSchema:
        d = self.catalog.databases.get(db)
        if d is None or self.catalog.is_policy_storage(db):
            raise DatabaseNotFound(f"database not found: {db}")
        return d

    def drop(self, db: str, table: str | None) -> bool:
        """Remove a database or one of its tables; whether there was anything to remove."""
        d = self.catalog.databases.get(db)
        if d is None or (table is not None and table not in d.tables):
            return False
        trial = Catalog.from_json(self.catalog.to_json())
        if table is None:
            del trial.databases[db]
            for user in trial.users.values():  # (influxd forgets grants on it too)
                user.privileges.pop(db, None)
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

    def change_user(self, op: dict[str, Any]) -> None:
        """CREATE USER, DROP USER, SET PASSWORD, GRANT and REVOKE (``op["action"]``), with
        influxd's errors. Passwords arrive hashed: a query worker hashes them (and tells
        whether CREATE USER of one that exists is the same user again, influxd's no-op)."""
        action, name = op["action"], str(op["name"])
        trial = Catalog.from_json(self.catalog.to_json())
        if action == "create":
            if not name:
                raise QueryError("username required")
            if name in trial.users:
                raise QueryError("user already exists")
            trial.users[name] = UserRecord(name, str(op["password_hash"]), bool(op["admin"]))
            self._commit(trial)
            return
        user = trial.users.get(name)
        if user is None:
            raise QueryError("user not found")
        if action == "drop":
            del trial.users[name]
        elif action == "set_password":
            user.password_hash = str(op["password_hash"])
        elif op.get("db") is None:  # GRANT ALL TO / REVOKE ALL FROM: admin or not
            user.admin = action == "grant"
        else:
            db, privilege = str(op["db"]), str(op["privilege"])
            self._database(db)
            held = user.privileges.get(db)
            user.privileges[db] = privilege if action == "grant" else after_revoke(held, privilege)
        self._commit(trial)

    def adopt(self, db: str, table: str, schema: pa.Schema) -> None:
        """Make sure a replayed batch's columns are known (a catalog kept in memory does not
        survive a restart; the WAL does). Limits do not apply: the data was accepted."""
        known = self.catalog.table(db, table)
        if known is not None and all(n in known.columns for n in schema.names):
            return
        cols = {f.name: ColumnType.from_arrow(f.type) for f in schema if f.name != "time"}
        self.ensure(db, {table: {c: k.value for c, k in cols.items()}}, limits=False)


def _check_duration(duration_ns: int | None) -> None:
    if duration_ns and duration_ns < MIN_DURATION_NS:
        least = go_duration(MIN_DURATION_NS)
        raise QueryError(f"retention policy duration must be at least {least}")


def _spec(spec: dict[str, Any]) -> tuple[str, RetentionPolicy]:
    """A new policy's name and settings from a statement's options, as influxd fills them
    in: for ever, a shard duration that follows from the duration, one replica."""
    duration = int(spec.get("duration_ns") or 0)
    _check_duration(duration)
    shard = shard_duration(duration, int(spec.get("shard_duration_ns") or 0))
    if duration and duration < shard:
        raise QueryError("retention policy duration must be greater than the shard duration")
    rp = RetentionPolicy(duration, shard, int(spec.get("replication") or 1))
    return str(spec.get("name") or AUTOGEN), rp
