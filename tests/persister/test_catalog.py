from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import orjson
import pyarrow as pa
import pytest

from edge_common.errors import BadRequest, DatabaseNotFound, LimitExceeded, QueryError
from edge_common.objectstore import FileObjectStore, MemoryObjectStore, ObjectStore
from edge_common.paths import catalog_key, catalog_prefix
from edge_common.retention import RetentionPolicy
from edge_common.schema import Catalog, ColumnType
from edge_common.settings import Settings
from edge_common.users import after_revoke, hash_password
from edge_persister.catalog import CatalogOwner


def _settings(tmp_path: Path, **limits: int) -> Settings:
    values: dict[str, Any] = {
        "max_databases": 5,
        "max_tables_per_database": 5,
        "max_columns_per_table": 5,
        **limits,
    }
    return Settings(data_dir=tmp_path, **values)


def _store(tmp_path: Path) -> FileObjectStore:
    return FileObjectStore(tmp_path / "objects")


def _snapshot(store: ObjectStore, node: str = "edge0") -> dict[str, bytes]:
    out = {}
    for key in store.list(catalog_prefix(node)):
        data = store.get(key)
        assert data is not None
        out[key] = data
    return out


def _newest(store: ObjectStore, owner: CatalogOwner) -> dict[str, Any]:
    data = store.get(catalog_key(owner.settings.node_id, owner.catalog.version))
    assert data is not None
    parsed: dict[str, Any] = orjson.loads(data)
    return parsed


def test_new_owner_starts_empty_without_writing(tmp_path: Path) -> None:
    store = _store(tmp_path)
    owner = CatalogOwner(_settings(tmp_path), store)
    assert owner.catalog == Catalog()
    assert _snapshot(store) == {}


def test_ensure_persists(tmp_path: Path) -> None:
    store = _store(tmp_path)
    owner = CatalogOwner(_settings(tmp_path), store)
    out = owner.ensure("db", {"cpu": {"host": "tag", "usage": "float"}, "mem": {"free": "integer"}})
    assert sorted(out) == ["cpu", "mem"]
    assert list(out["cpu"].columns) == ["time", "host", "usage"]
    assert out["cpu"] is owner.catalog.table("db", "cpu")
    assert owner.catalog.version == 1  # one version per ensure call
    # one object for the request, holding the whole catalog at its version
    assert list(_snapshot(store)) == [catalog_key("edge0", 1)]
    assert _newest(store, owner) == owner.catalog.to_json()
    # a real file on disk, with no temporary file left beside it
    files = sorted(p.name for p in (tmp_path / "objects" / "edge0" / "catalog").iterdir())
    assert files == [f"{1:020d}.json"]


def test_reload_gives_same_catalog(tmp_path: Path) -> None:
    owner = CatalogOwner(_settings(tmp_path), _store(tmp_path))
    owner.ensure("db", {"cpu": {"host": "tag", "usage": "float"}})
    owner.ensure("db", {"cpu": {"idle": "uinteger"}, "flags": {"ok": "boolean", "s": "string"}})
    owner.ensure("db2", {"m": {}})
    again = CatalogOwner(_settings(tmp_path), _store(tmp_path))
    assert again.catalog == owner.catalog
    assert again.catalog.version == owner.catalog.version == 3
    cpu = again.catalog.table("db", "cpu")
    assert cpu is not None
    assert cpu.columns == {
        "time": ColumnType.TIME,
        "host": ColumnType.TAG,
        "usage": ColumnType.FLOAT,
        "idle": ColumnType.UINTEGER,
    }
    # and it carries on from there
    again.ensure("db", {"cpu": {"extra": "float"}})
    assert CatalogOwner(_settings(tmp_path), _store(tmp_path)).catalog.version == 4


def test_reload_takes_newest_version(tmp_path: Path) -> None:
    store = MemoryObjectStore()
    owner = CatalogOwner(_settings(tmp_path), store)
    for i in range(3):
        owner.ensure("db", {f"t{i}": {}})
    again = CatalogOwner(_settings(tmp_path), store)
    assert again.catalog.version == 3
    assert sorted(again.catalog.databases["db"].tables) == ["t0", "t1", "t2"]


def test_catalog_is_per_node(tmp_path: Path) -> None:
    store = MemoryObjectStore()
    CatalogOwner(Settings(data_dir=tmp_path, node_id="a"), store).ensure("db", {"t": {}})
    other = CatalogOwner(Settings(data_dir=tmp_path, node_id="b"), store)
    assert other.catalog == Catalog()


def test_old_versions_are_pruned(tmp_path: Path) -> None:
    store = MemoryObjectStore()
    owner = CatalogOwner(_settings(tmp_path, max_columns_per_table=100), store)
    for i in range(15):
        owner.ensure("db", {"t": {f"c{i}": "float"}})
    assert owner.catalog.version == 15
    keys = list(_snapshot(store))
    assert keys[-1] == catalog_key("edge0", 15)
    assert len(keys) == 10
    assert CatalogOwner(_settings(tmp_path), store).catalog == owner.catalog


def test_nothing_new_does_not_write(tmp_path: Path) -> None:
    store = MemoryObjectStore()
    owner = CatalogOwner(_settings(tmp_path), store)
    owner.ensure("db", {"cpu": {"usage": "float"}})
    before = _snapshot(store)
    out = owner.ensure("db", {"cpu": {"usage": "float"}})
    # a type that differs is left alone (the ingest worker rejects those lines)
    owner.ensure("db", {"cpu": {"usage": "string"}})
    assert out["cpu"].columns["usage"] is ColumnType.FLOAT
    assert owner.catalog.version == 1
    assert _snapshot(store) == before


def test_file_store_writes_atomically(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    store = _store(tmp_path)
    owner = CatalogOwner(_settings(tmp_path), store)
    replaced: list[str] = []
    real_replace = os.replace

    def checking_replace(src: Any, dst: Any) -> None:
        # the complete new content sits in a sibling file before it takes the real name
        assert Path(src).parent == Path(dst).parent and Path(src) != Path(dst)
        assert not Path(dst).exists()
        stored = orjson.loads(Path(src).read_bytes())
        assert stored["databases"] == {"db": {"cpu": {"time": "time", "idle": "float"}}}
        assert owner.catalog.version == 0  # the new catalog takes effect only once stored
        replaced.append(str(dst))
        real_replace(src, dst)

    monkeypatch.setattr(os, "replace", checking_replace)
    owner.ensure("db", {"cpu": {"idle": "float"}})
    assert len(replaced) == 1 and replaced[0].endswith(f"{1:020d}.json")


def test_failed_write_keeps_previous_version(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    store = _store(tmp_path)
    owner = CatalogOwner(_settings(tmp_path), store)
    owner.ensure("db", {"cpu": {"usage": "float"}})

    def failing_replace(src: Any, dst: Any) -> None:
        raise OSError("disk full")

    monkeypatch.setattr(os, "replace", failing_replace)
    with pytest.raises(OSError, match="disk full"):
        owner.ensure("db", {"cpu": {"idle": "float"}})
    monkeypatch.undo()
    reloaded = CatalogOwner(_settings(tmp_path), _store(tmp_path)).catalog
    assert reloaded.version == 1
    cpu = reloaded.table("db", "cpu")
    assert cpu is not None and "idle" not in cpu.columns


@pytest.mark.parametrize(
    ("limits", "db", "tables", "match"),
    [
        ({"max_databases": 1}, "db2", {"t": {"v": "float"}}, "database limit"),
        # several new tables in one request: the second one breaks the limit
        (
            {"max_tables_per_database": 3},
            "db",
            {"new1": {"v": "float"}, "new2": {"v": "float"}},
            "table limit",
        ),
        # a new column on an existing table, then a new table with too many columns
        (
            {"max_columns_per_table": 3},
            "db",
            {"cpu": {"c": "float"}, "wide": {"a": "float", "b": "float", "c": "float"}},
            "column limit",
        ),
    ],
)
def test_limit_error_changes_nothing(
    tmp_path: Path, limits: dict[str, int], db: str, tables: dict[str, Any], match: str
) -> None:
    store = _store(tmp_path)
    owner = CatalogOwner(_settings(tmp_path, **limits), store)
    owner.ensure("db", {"cpu": {"a": "float"}, "mem": {"b": "float"}})
    stored_before = _snapshot(store)
    memory_before = owner.catalog.to_json()
    with pytest.raises(LimitExceeded, match=match):
        owner.ensure(db, tables)
    assert owner.catalog.to_json() == memory_before
    assert _snapshot(store) == stored_before
    reloaded = CatalogOwner(_settings(tmp_path, **limits), _store(tmp_path))
    assert reloaded.catalog.to_json() == memory_before


def test_invalid_name_changes_nothing(tmp_path: Path) -> None:
    store = MemoryObjectStore()
    owner = CatalogOwner(_settings(tmp_path), store)
    owner.ensure("db", {"cpu": {"a": "float"}})
    stored_before = _snapshot(store)
    memory_before = owner.catalog.to_json()
    with pytest.raises(BadRequest):
        owner.ensure("db", {"ok": {"v": "float"}, "cpu": {"bad\x01": "float"}})
    with pytest.raises(BadRequest):
        owner.ensure("bad name", {"t": {}})
    assert owner.catalog.to_json() == memory_before
    assert _snapshot(store) == stored_before


def test_adopt_adds_missing_columns_from_arrow(tmp_path: Path) -> None:
    store = MemoryObjectStore()
    owner = CatalogOwner(_settings(tmp_path), store)
    schema = pa.schema(
        [
            ("time", pa.timestamp("ns")),
            ("host", pa.dictionary(pa.int32(), pa.string())),
            ("usage", pa.float64()),
            ("n", pa.uint64()),
        ]
    )
    owner.adopt("db", "cpu", schema)
    cpu = owner.catalog.table("db", "cpu")
    assert cpu is not None
    assert cpu.columns == {
        "time": ColumnType.TIME,
        "host": ColumnType.TAG,
        "usage": ColumnType.FLOAT,
        "n": ColumnType.UINTEGER,
    }
    version = owner.catalog.version
    owner.adopt("db", "cpu", schema.remove(3))  # nothing new
    assert owner.catalog.version == version
    assert CatalogOwner(_settings(tmp_path), store).catalog == owner.catalog


def test_retention_policies_keep_influxds_rules(tmp_path: Path) -> None:
    """CREATE / ALTER / DROP RETENTION POLICY and CREATE DATABASE … WITH, as the catalog
    owner checks them (influxd's messages; tests/compat compares them over HTTP too)."""
    owner = CatalogOwner(_settings(tmp_path), _store(tmp_path))
    hour, day = 3_600_000_000_000, 86_400_000_000_000
    with pytest.raises(DatabaseNotFound, match="database not found: nodb"):
        owner.create_policy("nodb", {"name": "r", "duration_ns": day}, False)
    owner.create_database("db")
    owner.create_policy("db", {"name": "r", "duration_ns": 2 * day}, True)
    d = owner.catalog.databases["db"]
    assert list(d.policies) == ["autogen", "r"] and d.default_policy == "r"
    assert d.policies["r"] == RetentionPolicy(2 * day, day, 1)
    owner.create_policy("db", {"name": "r", "duration_ns": 2 * day}, True)  # the same: fine
    with pytest.raises(QueryError, match="retention policy already exists"):
        owner.create_policy("db", {"name": "r", "duration_ns": 3 * day}, False)
    with pytest.raises(QueryError, match="conflicts with an existing policy"):
        owner.create_policy("db", {"name": "autogen"}, True)
    with pytest.raises(QueryError, match="must be at least 1h0m0s"):
        owner.create_policy("db", {"name": "s", "duration_ns": hour // 2}, False)
    with pytest.raises(QueryError, match="greater than the shard duration"):
        owner.create_policy(
            "db", {"name": "s", "duration_ns": 2 * hour, "shard_duration_ns": 3 * hour}, False
        )
    with pytest.raises(QueryError, match="retention policy not found: nope"):
        owner.alter_policy("db", "nope", {"duration_ns": day}, False)
    with pytest.raises(QueryError, match="greater than the shard duration"):
        owner.alter_policy("db", "autogen", {"duration_ns": 2 * hour}, False)  # shard: 168h
    owner.alter_policy("db", "autogen", {"duration_ns": 14 * day}, True)
    d = owner.catalog.databases["db"]
    assert d.policies["autogen"] == RetentionPolicy(14 * day, 7 * day, 1)
    assert d.default_policy == "autogen"
    owner.alter_policy("db", "r", {"shard_duration_ns": 60_000_000_000, "replication": 3}, False)
    assert owner.catalog.databases["db"].policies["r"] == RetentionPolicy(2 * day, hour, 3)
    assert owner.drop_policy("db", "r") == "db/r"
    assert owner.drop_policy("db", "r") is None  # gone already: no error, as influxd
    assert owner.drop_policy("nodb", "r") is None
    owner.create_database("w", {"name": "short", "duration_ns": 3 * day})
    w = owner.catalog.databases["w"]
    assert w.retention_policies() == {"short": RetentionPolicy(3 * day, day, 1)}
    assert w.default_policy == "short" and owner.catalog.storage("w") == "w/short"
    owner.create_database("w", {"name": "short", "duration_ns": 3 * day})  # the same
    with pytest.raises(QueryError, match="conflicts with an existing policy"):
        owner.create_database("w", {"duration_ns": 4 * day})
    # every change was stored: a new owner reads them back
    again = CatalogOwner(_settings(tmp_path), _store(tmp_path)).catalog
    assert again.databases["db"].policies == owner.catalog.databases["db"].policies
    assert again.databases["w"].default_policy == "short"


def test_users_are_kept_with_their_grants_and_errors(tmp_path: Path) -> None:
    """CREATE USER … REVOKE as the catalog keeps them: hashes only, grants per database
    (forgotten with it), influxd's errors, and all of it there after a restart."""
    store = _store(tmp_path)
    owner = CatalogOwner(_settings(tmp_path), store)
    owner.create_database("db")

    def change(action: str, name: str, **more: Any) -> None:
        owner.change_user({"op": "user", "action": action, "name": name, **more})

    change("create", "bob", password_hash=hash_password("pw"), admin=False)
    for bad, message in (
        (lambda: change("create", "bob", password_hash="x", admin=False), "user already exists"),
        (lambda: change("create", "", password_hash="x", admin=False), "username required"),
        (lambda: change("grant", "nobody", db="db", privilege="READ"), "user not found"),
        (lambda: change("drop", "nobody"), "user not found"),
    ):
        with pytest.raises(QueryError, match=message):
            bad()
    with pytest.raises(DatabaseNotFound, match="database not found: nodb"):
        change("grant", "bob", db="nodb", privilege="READ")
    change("grant", "bob", db="db", privilege="ALL PRIVILEGES")
    change("revoke", "bob", db="db", privilege="READ")
    change("grant", "bob", db=None, privilege="ALL PRIVILEGES")  # admin
    bob = owner.catalog.users["bob"]
    assert (bob.privileges, bob.admin) == ({"db": "WRITE"}, True)
    # (a longer password than "pw", which a random salt's text holds now and then)
    owner.change_user(
        {
            "op": "user",
            "action": "create",
            "name": "eve",
            "admin": False,
            "password_hash": hash_password("a password nobody stores"),
        }
    )
    assert "password nobody" not in orjson.dumps(_newest(store, owner)).decode()
    change("drop", "eve")
    again = CatalogOwner(_settings(tmp_path), store).catalog.users["bob"]
    assert again == bob and again.password_is("pw") and not again.password_is("pw2")
    owner.drop("db", None)
    assert owner.catalog.users["bob"].privileges == {}
    change("drop", "bob")
    assert owner.catalog.users == {}


@pytest.mark.parametrize(
    ("held", "revoked", "left"),
    [
        ("ALL PRIVILEGES", "READ", "WRITE"),
        ("ALL PRIVILEGES", "WRITE", "READ"),
        ("ALL PRIVILEGES", "ALL PRIVILEGES", "NO PRIVILEGES"),
        ("READ", "WRITE", "READ"),
        ("READ", "READ", "NO PRIVILEGES"),
        (None, "READ", "NO PRIVILEGES"),  # (influxd lists the database all the same)
    ],
)
def test_revoke_takes_away_what_it_names(held: str | None, revoked: str, left: str) -> None:
    assert after_revoke(held, revoked) == left
