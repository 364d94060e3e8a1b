"""Retention: the files whose rows are all past their policy's duration leave.

Every ``retention_check_interval_s`` (influxd's check interval, 30 minutes), when no other
file work runs, the persister lists the files of each policy with a duration whose newest
row is older than now minus that duration, and writes a manifest that drops them (the
deletion's form: each old path replaced by nothing); the index follows once it is stored,
and the files leave the store after the compactor's grace period, as replaced files do.
A file holding any row still within the duration stays whole, as influxd keeps a shard
group until its end is past: rows a little older than the duration may be read until then.
Rows still buffered are persisted first, like any others, and leave at a later check.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from concurrent.futures import Future

from edge_common.objectstore import ObjectStore
from edge_common.paths import snapshot_key
from edge_common.persist import ParquetFile, SnapshotManifest
from edge_common.retention import storage_name
from edge_common.schema import Catalog
from edge_persister.persistence import Persistence

__all__ = ["Expiry", "expired"]

log = logging.getLogger(__name__)


def expired(catalog: Catalog, persistence: Persistence, now_ns: int) -> list[ParquetFile]:
    """The files whose every row is past its policy's duration."""
    out = []
    for db, schema in catalog.databases.items():
        for name, policy in schema.policies.items():
            cutoff = policy.cutoff(now_ns)
            if cutoff is None:
                continue
            out += [
                f
                for f in persistence.index.under(storage_name(db, name), None)
                if f.max_time_ns < cutoff
            ]
    return out


class Expiry:
    def __init__(self, store: ObjectStore, node_id: str, interval_s: float) -> None:
        self.store = store
        self.node_id = node_id
        self.interval_s = interval_s
        self.next_check = time.monotonic() + interval_s

    def turn(
        self,
        persistence: Persistence,
        catalog: Catalog,
        done: Callable[[SnapshotManifest], None],
    ) -> None:
        """On the persister's loop: once the interval has passed and no file work runs,
        drop the expired files; ``done`` gets the stored manifest (on the loop)."""
        now = time.monotonic()
        if now < self.next_check or not persistence.idle:
            return
        self.next_check = now + self.interval_s
        files = expired(catalog, persistence, time.time_ns())
        if not files:
            return
        manifest = SnapshotManifest(
            persistence.next_seq(),
            created_ns=time.time_ns(),
            replaced=dict.fromkeys((f.path for f in files), None),
        )
        key = snapshot_key(self.node_id, manifest.seq)

        def work() -> SnapshotManifest:
            self.store.put(key, manifest.encode())  # from here on the files are gone
            return manifest

        def finished(future: Future[SnapshotManifest]) -> None:
            try:
                done(future.result())
            except Exception:  # the files stay; the next check tries again
                log.exception("dropping files past their retention failed")

        persistence.run_exclusive(work, finished)
