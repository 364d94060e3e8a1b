"""Object storage behind one small interface: ``file`` (a directory) and ``memory``.

Services never touch a storage backend directly; they are handed an :class:`ObjectStore`.
Keys are built by :mod:`edge_common.paths` only.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Protocol

from edge_common.settings import Settings

__all__ = ["FileObjectStore", "MemoryObjectStore", "ObjectStore", "object_store_from_settings"]


class ObjectStore(Protocol):
    def put(self, key: str, data: bytes) -> None:
        """Store ``data`` under ``key``; durable when this returns."""

    def get(self, key: str) -> bytes | None:
        """The object, or ``None`` when there is none."""

    def list(self, prefix: str) -> list[str]:
        """Keys that start with ``prefix``, sorted."""

    def delete(self, key: str) -> None:
        """Remove the object if it exists."""


class FileObjectStore:
    """Objects as files under ``root``; a put is written aside, fsynced and renamed."""

    def __init__(self, root: Path) -> None:
        self.root = root

    def _path(self, key: str) -> Path:
        path = (self.root / key).resolve()
        if not path.is_relative_to(self.root.resolve()):
            raise ValueError(f"object key {key!r} leaves the store")
        return path

    def put(self, key: str, data: bytes) -> None:
        path = self._path(key)
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_name(path.name + ".tmp")
        with open(tmp, "wb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
        fd = os.open(path.parent, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)

    def get(self, key: str) -> bytes | None:
        try:
            return self._path(key).read_bytes()
        except FileNotFoundError:
            return None

    def list(self, prefix: str) -> list[str]:
        base = self.root.resolve()
        if not base.is_dir():
            return []
        keys = (str(p.relative_to(base)) for p in base.rglob("*") if p.is_file())
        return sorted(k for k in keys if k.startswith(prefix) and not k.endswith(".tmp"))

    def delete(self, key: str) -> None:
        self._path(key).unlink(missing_ok=True)


class MemoryObjectStore:
    """Objects in a dict: for unit tests, and for servers that keep nothing across restarts."""

    def __init__(self) -> None:
        self.objects: dict[str, bytes] = {}

    def put(self, key: str, data: bytes) -> None:
        self.objects[key] = bytes(data)

    def get(self, key: str) -> bytes | None:
        return self.objects.get(key)

    def list(self, prefix: str) -> list[str]:
        return sorted(k for k in self.objects if k.startswith(prefix))

    def delete(self, key: str) -> None:
        self.objects.pop(key, None)


def object_store_from_settings(settings: Settings) -> ObjectStore:
    if settings.object_store == "memory":
        return MemoryObjectStore()
    return FileObjectStore(settings.data_dir / "objects")
