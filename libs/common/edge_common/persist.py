"""What the persister writes besides Parquet: snapshot manifests and persist events.

Both are versioned JSON. A manifest lists the Parquet files one snapshot added and, per
ingest worker, the WAL sequence number up to which everything is now in those files. A
persist event announces one file to outside subscribers (topic: the database name).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

import orjson

from edge_common.errors import EdgeError

__all__ = [
    "MANIFEST_VERSION",
    "PERSIST_EVENT_VERSION",
    "ParquetFile",
    "PersistEvent",
    "SnapshotManifest",
]

MANIFEST_VERSION = 1
PERSIST_EVENT_VERSION = 1


@dataclass(frozen=True)
class ParquetFile:
    database: str
    table: str
    path: str  # object-store key
    min_time_ns: int
    max_time_ns: int
    row_count: int
    size_bytes: int


@dataclass
class SnapshotManifest:
    seq: int
    files: list[ParquetFile] = field(default_factory=list)
    wal_upto: dict[int, int] = field(default_factory=dict)  # ingest worker → last seq covered
    created_ns: int = 0
    # dropped databases/tables ({"database", "table": None for the whole database}): files
    # of earlier snapshots under them no longer count
    drops: list[dict[str, str | None]] = field(default_factory=list)
    # files rewritten without deleted rows (DELETE, DROP SERIES): old path → the path of
    # the file that takes its place (in ``files``), or None when no row was left
    replaced: dict[str, str | None] = field(default_factory=dict)

    def encode(self) -> bytes:
        return orjson.dumps(
            {
                "version": MANIFEST_VERSION,
                "seq": self.seq,
                "created_ns": self.created_ns,
                "wal_upto": {str(k): v for k, v in self.wal_upto.items()},
                "files": [asdict(f) for f in self.files],
                "drops": self.drops,
                "replaced": self.replaced,
            }
        )

    @classmethod
    def decode(cls, data: bytes) -> SnapshotManifest:
        doc = orjson.loads(data)
        if doc.get("version") != MANIFEST_VERSION:
            raise EdgeError(f"unsupported snapshot manifest version {doc.get('version')!r}")
        return cls(
            int(doc["seq"]),
            [ParquetFile(**f) for f in doc["files"]],
            {int(k): int(v) for k, v in doc["wal_upto"].items()},
            int(doc.get("created_ns", 0)),
            list(doc.get("drops", [])),
            dict(doc.get("replaced", {})),
        )


@dataclass(frozen=True)
class PersistEvent:
    """One Parquet file, as published on the persist-events socket."""

    database: str
    table: str
    path: str
    uri: str
    min_time_ns: int
    max_time_ns: int
    row_count: int
    size_bytes: int
    snapshot_seq: int

    def encode(self) -> list[bytes]:
        """The two frames: topic (database name), then the JSON body."""
        body = {"version": PERSIST_EVENT_VERSION, **asdict(self)}
        return [self.database.encode(), orjson.dumps(body)]

    @classmethod
    def decode(cls, frames: list[bytes]) -> PersistEvent:
        doc: dict[str, Any] = orjson.loads(frames[1])
        if doc.pop("version", None) != PERSIST_EVENT_VERSION:
            raise EdgeError("unsupported persist event version")
        return cls(**doc)
