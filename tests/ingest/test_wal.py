from __future__ import annotations

import logging
import os
import threading
from collections.abc import Callable
from pathlib import Path

import pytest

from edge_common.walformat import (
    SEGMENT_HEADER,
    encode_record,
    read_segment,
    segment_name,
    segments,
)
from edge_ingest.wal import WalWriter


class Durable:
    """Collects ``on_durable`` calls; lets a test wait for a given seq."""

    def __init__(self) -> None:
        self.seqs: list[int] = []
        self.cond = threading.Condition()

    def __call__(self, seq: int) -> None:
        with self.cond:
            self.seqs.append(seq)
            self.cond.notify_all()

    def wait_for(self, seq: int, timeout: float = 5.0) -> None:
        with self.cond:
            ok = self.cond.wait_for(lambda: bool(self.seqs) and self.seqs[-1] >= seq, timeout)
        assert ok, f"seq {seq} never became durable (got {self.seqs})"


def _all_records(directory: Path) -> list[tuple[int, bytes]]:
    out = []
    for path in segments(directory):
        records, _, problem = read_segment(path)
        assert problem is None, (path, problem)
        out += [(r.seq, r.payload) for r in records]
    return out


def _writer(directory: Path, **kw: int) -> tuple[WalWriter, Durable]:
    durable = Durable()
    return WalWriter(directory, durable, **kw), durable


def test_append_returns_increasing_seqs(tmp_path: Path) -> None:
    wal, durable = _writer(tmp_path / "wal")
    assert wal.last_seq == 0
    seqs = [wal.append(f"p{i}".encode()) for i in range(5)]
    assert seqs == [1, 2, 3, 4, 5]
    assert wal.last_seq == 5
    durable.wait_for(5)
    wal.close()
    assert _all_records(tmp_path / "wal") == [(i + 1, f"p{i}".encode()) for i in range(5)]
    assert [p.name for p in segments(tmp_path / "wal")] == [segment_name(1)]


def test_on_durable_reports_synced_seq(tmp_path: Path) -> None:
    directory = tmp_path / "wal"
    on_disk_at_call: dict[int, list[int]] = {}
    durable = Durable()

    def on_durable(seq: int) -> None:
        on_disk_at_call[seq] = [s for s, _ in _all_records(directory)]
        durable(seq)

    wal = WalWriter(directory, on_durable)
    first = wal.append(b"a")
    durable.wait_for(first)
    assert durable.seqs == [1]
    wal.append(b"b")
    wal.append(b"c")
    wal.close()  # syncs whatever is left and reports it before returning
    assert durable.seqs[-1] == 3
    assert durable.seqs == sorted(set(durable.seqs))
    # a seq is only reported once it and everything before it is in the file
    for seq, on_disk in on_disk_at_call.items():
        assert on_disk[:seq] == list(range(1, seq + 1))


def test_group_commit_shares_fsyncs(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    wal, durable = _writer(tmp_path / "wal")
    real_fsync = os.fsync
    entered, release = threading.Event(), threading.Event()
    fsyncs: list[str] = []

    def slow_fsync(fd: int) -> None:
        name = threading.current_thread().name
        fsyncs.append(name)
        if name == "wal-sync":
            entered.set()
            assert release.wait(5)
        real_fsync(fd)

    monkeypatch.setattr(os, "fsync", slow_fsync)
    assert wal.append(b"first") == 1
    assert entered.wait(5)  # the sync thread is now inside fsync for seq 1
    for i in range(2, 51):
        assert wal.append(b"x") == i
    release.set()
    durable.wait_for(50)
    wal.close()
    # one fsync for seq 1, one for everything written while it ran
    assert durable.seqs == [1, 50]
    assert fsyncs.count("wal-sync") == 2


def test_reopen_continues_seq(tmp_path: Path) -> None:
    directory = tmp_path / "wal"
    wal, _ = _writer(directory)
    for p in (b"a", b"b", b"c"):
        wal.append(p)
    wal.close()
    wal, durable = _writer(directory)
    assert wal.last_seq == 3
    assert wal.append(b"d") == 4
    wal.close()
    assert durable.seqs[-1] == 4
    assert [p.name for p in segments(directory)] == [segment_name(1), segment_name(4)]
    assert _all_records(directory) == [(1, b"a"), (2, b"b"), (3, b"c"), (4, b"d")]


def test_reopen_of_empty_log(tmp_path: Path) -> None:
    directory = tmp_path / "wal"
    _writer(directory)[0].close()
    wal, _ = _writer(directory)
    assert wal.last_seq == 0
    assert wal.append(b"a") == 1
    wal.close()
    assert _all_records(directory) == [(1, b"a")]


def _three_records(directory: Path) -> tuple[Path, list[int]]:
    wal, _ = _writer(directory)
    for p in (b"one", b"two", b"three"):
        wal.append(p)
    wal.close()
    path = directory / segment_name(1)
    ends, pos = [], len(SEGMENT_HEADER)
    for seq, p in ((1, b"one"), (2, b"two"), (3, b"three")):
        pos += len(encode_record(seq, p))
        ends.append(pos)
    assert path.stat().st_size == ends[-1]
    return path, ends


def test_torn_tail_is_cut_on_reopen(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    directory = tmp_path / "wal"
    path, ends = _three_records(directory)
    with open(path, "r+b") as f:
        f.truncate(ends[2] - 3)  # record 3 loses the end of its payload
    with caplog.at_level(logging.WARNING, logger="edge_ingest.wal"):
        wal, _ = _writer(directory)
    warnings = [r for r in caplog.records if r.levelno == logging.WARNING]
    assert len(warnings) == 1
    assert "torn record" in warnings[0].getMessage()
    assert path.stat().st_size == ends[1]  # cut back to the end of record 2
    assert wal.last_seq == 2
    assert wal.append(b"new three") == 3
    wal.close()
    assert _all_records(directory) == [(1, b"one"), (2, b"two"), (3, b"new three")]


def test_corrupt_record_is_cut_on_reopen(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    directory = tmp_path / "wal"
    path, ends = _three_records(directory)
    data = bytearray(path.read_bytes())
    data[ends[0] + 16] ^= 0xFF  # first payload byte of record 2
    path.write_bytes(bytes(data))
    with caplog.at_level(logging.WARNING, logger="edge_ingest.wal"):
        wal, _ = _writer(directory)
    messages = [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]
    assert len(messages) == 1 and "CRC mismatch" in messages[0]
    # record 1 survives; the corrupt record and everything after it is gone
    assert path.stat().st_size == ends[0]
    assert wal.last_seq == 1
    assert wal.append(b"two again") == 2
    wal.close()
    assert _all_records(directory) == [(1, b"one"), (2, b"two again")]


def test_segment_with_torn_header_is_removed(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    directory = tmp_path / "wal"
    _writer(directory)[0].close()
    (directory / segment_name(1)).write_bytes(SEGMENT_HEADER[:3])
    with caplog.at_level(logging.WARNING, logger="edge_ingest.wal"):
        wal, _ = _writer(directory)
    assert any("header" in r.getMessage() for r in caplog.records)
    assert wal.last_seq == 0
    assert wal.append(b"a") == 1
    wal.close()
    assert _all_records(directory) == [(1, b"a")]


def test_clean_reopen_logs_no_warning(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    directory = tmp_path / "wal"
    _three_records(directory)
    with caplog.at_level(logging.WARNING, logger="edge_ingest.wal"):
        wal, _ = _writer(directory)
    wal.close()
    assert not [r for r in caplog.records if r.levelno >= logging.WARNING]


def test_segment_rotation(tmp_path: Path) -> None:
    directory = tmp_path / "wal"
    record = len(encode_record(1, b"x" * 10))
    # room for two 10-byte records per segment
    wal, durable = _writer(directory, segment_bytes=len(SEGMENT_HEADER) + 2 * record)
    seqs = [wal.append(b"%09d!" % i) for i in range(5)]
    big = wal.append(b"B" * 1000)  # larger than a segment: gets one of its own
    after = wal.append(b"y" * 10)
    wal.close()
    assert seqs == [1, 2, 3, 4, 5] and (big, after) == (6, 7)
    assert durable.seqs[-1] == 7
    assert [p.name for p in segments(directory)] == [segment_name(s) for s in (1, 3, 5, 6, 7)]
    for path in segments(directory):
        assert path.stat().st_size <= len(SEGMENT_HEADER) + max(2 * record, 1016)
    assert [s for s, _ in _all_records(directory)] == list(range(1, 8))
    # reopening after rotation continues from the newest segment
    wal, _ = _writer(directory, segment_bytes=1 << 20)
    assert wal.append(b"z") == 8
    wal.close()
    assert [s for s, _ in _all_records(directory)] == list(range(1, 9))


def test_concurrent_appends_get_unique_seqs(tmp_path: Path) -> None:
    wal, durable = _writer(tmp_path / "wal", segment_bytes=4096)
    got: list[int] = []
    lock = threading.Lock()

    def worker(tag: int) -> Callable[[], None]:
        def run() -> None:
            for i in range(50):
                seq = wal.append(b"%d-%d" % (tag, i))
                with lock:
                    got.append(seq)

        return run

    threads = [threading.Thread(target=worker(t)) for t in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    wal.close()
    assert sorted(got) == list(range(1, 201))
    assert durable.seqs[-1] == 200
    assert [s for s, _ in _all_records(tmp_path / "wal")] == list(range(1, 201))
