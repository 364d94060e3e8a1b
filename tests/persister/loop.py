"""Driving a persister in-process: write records for its ``apply``, and turns of its loop."""

from __future__ import annotations

import time
from typing import Any

import pyarrow as pa

from edge_common.wire import WriteRecord
from edge_persister.server import Persister


def record(rows: list[tuple[str, int, float]], db: str = "db") -> bytes:
    """A write of ``cpu`` rows (host, time ns, v), as an ingest worker hands it over."""
    host = pa.array([r[0] for r in rows], pa.string()).dictionary_encode()
    batch = pa.RecordBatch.from_arrays(
        [
            pa.array([r[1] for r in rows], pa.timestamp("ns")),
            host.cast(pa.dictionary(pa.int32(), pa.string())),
            pa.array([r[2] for r in rows], pa.float64()),
        ],
        names=["time", "host", "v"],
    )
    return WriteRecord(db, time.time_ns(), {"cpu": batch}).encode()


def turn(p: Persister, until: Any, seconds: float = 20.0) -> None:
    """Turn the persister's loop (its persistence step, then sharing the buffer and sending
    the answers held) until ``until()`` holds."""
    deadline = time.monotonic() + seconds
    while not until():
        assert time.monotonic() < deadline, "the persister did not get there"
        p._persist()
        p._share()
        time.sleep(0.005)
