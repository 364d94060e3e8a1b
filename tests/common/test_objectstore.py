from __future__ import annotations

from pathlib import Path

import pytest

from edge_common.objectstore import FileObjectStore, MemoryObjectStore, ObjectStore


@pytest.fixture(params=["file", "memory"])
def store(request: pytest.FixtureRequest, tmp_path: Path) -> ObjectStore:
    return FileObjectStore(tmp_path / "objects") if request.param == "file" else MemoryObjectStore()


def test_put_get_list_delete(store: ObjectStore) -> None:
    check_put_get_list_delete(store)


def check_put_get_list_delete(store: ObjectStore) -> None:
    """The contract every object store keeps (also run against S3 in test_objectstore_s3)."""
    assert store.get("a/b.json") is None
    assert store.list("") == []
    store.put("n/catalog/2.json", b"two")
    store.put("n/catalog/1.json", b"one")
    store.put("n/dbs/x.parquet", b"x")
    assert store.get("n/catalog/1.json") == b"one"
    assert store.list("n/catalog/") == ["n/catalog/1.json", "n/catalog/2.json"]
    store.put("n/catalog/1.json", b"uno")
    assert store.get("n/catalog/1.json") == b"uno"
    store.delete("n/catalog/1.json")
    store.delete("n/catalog/missing.json")
    assert store.get("n/catalog/1.json") is None
    assert store.list("n/") == ["n/catalog/2.json", "n/dbs/x.parquet"]


def test_file_store_refuses_keys_that_leave_it(tmp_path: Path) -> None:
    store = FileObjectStore(tmp_path / "objects")
    with pytest.raises(ValueError):
        store.put("../escape", b"x")
    assert not (tmp_path / "escape").exists()


def test_file_store_leaves_no_temporary_files(tmp_path: Path) -> None:
    store = FileObjectStore(tmp_path / "objects")
    store.put("k/v", b"data")
    assert [p.name for p in (tmp_path / "objects" / "k").iterdir()] == ["v"]
