"""Every object-store key is built here, under the node's prefix."""

from __future__ import annotations

__all__ = [
    "catalog_key",
    "catalog_prefix",
    "catalog_version",
    "parquet_key",
    "snapshot_key",
    "snapshot_prefix",
]


def catalog_prefix(node_id: str) -> str:
    return f"{node_id}/catalog/"


def catalog_key(node_id: str, version: int) -> str:
    return f"{catalog_prefix(node_id)}{version:020d}.json"


def catalog_version(key: str) -> int:
    return int(key.rsplit("/", 1)[1].removesuffix(".json"))


def snapshot_prefix(node_id: str) -> str:
    return f"{node_id}/snapshots/"


def snapshot_key(node_id: str, seq: int) -> str:
    return f"{snapshot_prefix(node_id)}{seq:020d}.json"


def parquet_key(node_id: str, db: str, table: str, window_start_ns: int, file_id: str) -> str:
    """``<node>/dbs/<db>/<table>/<YYYY-MM-DD>/<HH-MM>/<id>.parquet`` (the window's UTC start).
    Database and table names are percent-encoded where they hold ``/`` or other characters
    unsafe in a path segment."""
    import datetime
    from urllib.parse import quote

    start = datetime.datetime.fromtimestamp(window_start_ns // 1_000_000_000, datetime.UTC)
    return (
        f"{node_id}/dbs/{quote(db, safe='')}/{quote(table, safe='')}/"
        f"{start:%Y-%m-%d}/{start:%H-%M}/{file_id}.parquet"
    )
