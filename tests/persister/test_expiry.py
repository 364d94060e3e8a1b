"""Files whose rows are all past their retention policy leave the index (and, after the
grace period, the store); a file holding any row within the duration stays whole."""

from __future__ import annotations

import time
from pathlib import Path

import zmq

from edge_common.settings import Settings
from edge_persister.server import Persister
from tests.persister.loop import record, turn

_H = 3_600_000_000_000
_D = 24 * _H


def test_expired_files_leave_and_the_rest_stay(tmp_path: Path) -> None:
    p = Persister(Settings(data_dir=tmp_path), zmq.Context.instance())
    now = time.time_ns()
    # a row a day for six days: each in a file of its own (ten-minute windows)
    p.apply(0, 1, record([("a", now - i * _D - 2 * _H, float(i)) for i in range(6)]), adopt=True)
    p.apply(0, 2, record([("b", now - 5 * _D, 9.0)], db="other"), adopt=True)  # kept for ever
    flushed: list[bool] = []
    p.persistence.request_flush(lambda _: flushed.append(True))
    turn(p, lambda: bool(flushed))
    assert len(p.persistence.index.under("db", "cpu")) == 6
    p.catalog.alter_policy("db", "autogen", {"duration_ns": 3 * _D, "shard_duration_ns": _D}, False)
    p.expiry.next_check = 0.0
    turn(p, lambda: len(p.persistence.index.under("db", "cpu")) == 3)
    left = sorted(f.max_time_ns for f in p.persistence.index.under("db", "cpu"))
    assert all(t >= now - 3 * _D for t in left)
    assert len(p.persistence.index.under("other", "cpu")) == 1
    gone = p.compactor.retired[-1][1]  # deleted from the store after the grace period
    assert len(gone) == 3 and all(p.store.get(path) is not None for path in gone)
    # what a restart reads: the manifest that dropped them
    again = Persister(Settings(data_dir=tmp_path), zmq.Context.instance())
    assert sorted(f.path for f in again.persistence.index.under("db", "cpu")) == sorted(
        f.path for f in p.persistence.index.under("db", "cpu")
    )
    # the whole table past the duration: the table goes, as after a deletion
    p.catalog.alter_policy("db", "autogen", {"duration_ns": _H, "shard_duration_ns": _H}, False)
    p.expiry.next_check = 0.0
    turn(p, lambda: "cpu" not in p.catalog.catalog.databases["db"].tables)
    assert p.persistence.index.under("db", "cpu") == []
