"""Every object-store key is built here, under the node's prefix."""

from __future__ import annotations

__all__ = ["catalog_key", "catalog_prefix", "catalog_version"]


def catalog_prefix(node_id: str) -> str:
    return f"{node_id}/catalog/"


def catalog_key(node_id: str, version: int) -> str:
    return f"{catalog_prefix(node_id)}{version:020d}.json"


def catalog_version(key: str) -> int:
    return int(key.rsplit("/", 1)[1].removesuffix(".json"))
