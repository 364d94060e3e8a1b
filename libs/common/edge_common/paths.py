"""Every object-store key is built here, under the node's prefix."""

from __future__ import annotations

__all__ = [
    "catalog_key",
    "catalog_prefix",
    "catalog_version",
    "parquet_key",
    "snapshot_key",
    "snapshot_prefix",
    "table_prefix",
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


def table_prefix(node_id: str, db: str, table: str | None = None) -> str:
    """``<node>/dbs/<db>/`` (or ``…/<table>/``): where a database's (a table's) Parquet files
    live. Names are percent-encoded where they hold ``/`` or other characters unsafe in a
    path segment."""
    from urllib.parse import quote

    base = f"{node_id}/dbs/{quote(db, safe='')}/"
    return base if table is None else f"{base}{quote(table, safe='')}/"


def parquet_key(node_id: str, db: str, table: str, window_start_ns: int, file_id: str) -> str:
    """``<node>/dbs/<db>/<table>/<YYYY-MM-DD>/<HH-MM>/<id>.parquet`` (the window's UTC
    start), under ``table_prefix``."""
    import datetime

    start = datetime.datetime.fromtimestamp(window_start_ns // 1_000_000_000, datetime.UTC)
    return f"{table_prefix(node_id, db, table)}{start:%Y-%m-%d}/{start:%H-%M}/{file_id}.parquet"
