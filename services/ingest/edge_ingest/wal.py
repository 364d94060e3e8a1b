"""The ingest worker's write-ahead log writer, with group commit.

Appends go straight to the segment file (``os.write``); a background thread fsyncs whatever
has been written since its last fsync and reports the highest sequence number now durable,
so concurrent writes share one fsync.
"""

from __future__ import annotations

import logging
import os
import threading
from collections.abc import Callable
from pathlib import Path

from edge_common.walformat import (
    SEGMENT_HEADER,
    encode_record,
    fsync_dir,
    read_segment,
    segment_name,
    segments,
)

__all__ = ["NoWal", "WalWriter"]

log = logging.getLogger(__name__)


class WalWriter:
    """One worker's log. ``on_durable(seq)`` is called from the sync thread after each fsync."""

    def __init__(
        self, directory: Path, on_durable: Callable[[int], None], segment_bytes: int = 64 << 20
    ) -> None:
        self.directory = directory
        self.segment_bytes = segment_bytes
        self._on_durable = on_durable
        directory.mkdir(parents=True, exist_ok=True)
        self.last_seq = self._recover()
        self._lock = threading.Lock()
        self._wake = threading.Condition(self._lock)
        self._written = self.last_seq
        self._synced = self.last_seq
        self._stopping = False
        self._fd = self._open_segment(self.last_seq + 1)
        self._size = len(SEGMENT_HEADER)
        self._thread = threading.Thread(target=self._sync_loop, name="wal-sync", daemon=True)
        self._thread.start()

    def _recover(self) -> int:
        """Cut a torn or corrupt tail off the newest segment; return the last valid seq."""
        last = 0
        for path in segments(self.directory):
            # a segment's name is the first number it was opened for: numbers below it are
            # taken even when the segments that held them are gone
            last = max(last, int(path.stem) - 1)
            records, end, problem = read_segment(path)
            if records:
                last = max(last, records[-1].seq)
            if problem is not None:
                log.warning(
                    "WAL %s: %s; cutting %d bytes of invalid tail",
                    path,
                    problem,
                    path.stat().st_size - end,
                )
                if end == 0:
                    path.unlink()
                else:
                    with open(path, "r+b") as f:
                        f.truncate(end)
                        os.fsync(f.fileno())
        return last

    def _open_segment(self, first_seq: int) -> int:
        path = self.directory / segment_name(first_seq)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC | os.O_APPEND, 0o600)
        os.write(fd, SEGMENT_HEADER)
        os.fsync(fd)
        fsync_dir(self.directory)
        return fd

    def advance_to(self, seq: int) -> None:
        """Number the next record above ``seq`` (the persister's floor for this worker)."""
        with self._lock:
            if seq > self.last_seq:
                self.last_seq = self._written = self._synced = seq

    def append(self, payload: bytes) -> int:
        """Write one record; return its sequence number (not yet durable)."""
        with self._lock:
            seq = self.last_seq + 1
            data = encode_record(seq, payload)
            if self._size + len(data) > self.segment_bytes and self._size > len(SEGMENT_HEADER):
                os.fsync(self._fd)
                os.close(self._fd)
                self._fd = self._open_segment(seq)
                self._size = len(SEGMENT_HEADER)
            view = memoryview(data)
            while view:
                view = view[os.write(self._fd, view) :]
            self._size += len(data)
            self.last_seq = self._written = seq
            self._wake.notify()
            return seq

    def _sync_loop(self) -> None:
        while True:
            with self._lock:
                while self._written == self._synced and not self._stopping:
                    self._wake.wait()
                if self._stopping and self._written == self._synced:
                    return
                target, fd = self._written, self._fd
            try:
                os.fsync(fd)
            except OSError:  # the segment rotated under us; rotation fsynced it already
                with self._lock:
                    fd = self._fd
                os.fsync(fd)
            with self._lock:
                self._synced = max(self._synced, target)
            self._on_durable(target)

    def close(self) -> None:
        with self._lock:
            self._stopping = True
            self._wake.notify()
        self._thread.join(timeout=10)
        os.fsync(self._fd)
        os.close(self._fd)


class NoWal:
    """``--wal-disable``: records are numbered but kept nowhere; nothing is ever durable
    before a snapshot, so writes are acknowledged once applied in memory."""

    def __init__(self) -> None:
        self.last_seq = 0

    def advance_to(self, seq: int) -> None:
        self.last_seq = max(self.last_seq, seq)

    def append(self, payload: bytes) -> int:
        self.last_seq += 1
        return self.last_seq

    def close(self) -> None:
        pass
