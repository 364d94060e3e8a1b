from __future__ import annotations

import struct
from pathlib import Path

import google_crc32c
import pytest

from edge_common.walformat import (
    SEGMENT_HEADER,
    encode_record,
    fsync_dir,
    read_segment,
    segment_name,
    segments,
)

_HEAD = 16  # u32 length + u32 crc + u64 seq


def _write_segment(path: Path, records: list[tuple[int, bytes]]) -> list[int]:
    """Write a segment; return the end offset of each record."""
    data = bytearray(SEGMENT_HEADER)
    ends = []
    for seq, payload in records:
        data += encode_record(seq, payload)
        ends.append(len(data))
    path.write_bytes(bytes(data))
    return ends


def test_encode_record_layout() -> None:
    rec = encode_record(7, b"hello")
    length, crc, seq = struct.unpack_from("<IIQ", rec)
    assert (length, seq) == (5, 7)
    assert rec[_HEAD:] == b"hello"
    assert crc == google_crc32c.value(struct.pack("<Q", 7) + b"hello")
    # the sequence number is covered by the CRC
    assert struct.unpack_from("<I", encode_record(8, b"hello"), 4)[0] != crc


def test_segment_name_sorts_by_first_seq(tmp_path: Path) -> None:
    assert segment_name(1) == "00000000000000000001.wal"
    assert len(segment_name(2**63)) == 20 + 4
    for seq in (10, 9, 100, 2):
        (tmp_path / segment_name(seq)).write_bytes(SEGMENT_HEADER)
    (tmp_path / "notes.txt").write_text("x")
    (tmp_path / "abc.wal").write_bytes(SEGMENT_HEADER)
    (tmp_path / "00000000000000000003.wal.tmp").write_bytes(b"")
    assert [p.name for p in segments(tmp_path)] == [segment_name(s) for s in (2, 9, 10, 100)]


def test_segments_of_missing_directory_is_empty(tmp_path: Path) -> None:
    assert segments(tmp_path / "nope") == []


def test_read_clean_segment(tmp_path: Path) -> None:
    path = tmp_path / segment_name(5)
    payloads = [(5, b"a"), (6, b""), (7, b"x" * 1000)]
    ends = _write_segment(path, payloads)
    records, end, problem = read_segment(path)
    assert problem is None
    assert end == path.stat().st_size == ends[-1]
    assert [(r.seq, r.payload) for r in records] == payloads
    assert [r.end for r in records] == ends


def test_header_only_segment(tmp_path: Path) -> None:
    path = tmp_path / segment_name(1)
    path.write_bytes(SEGMENT_HEADER)
    assert read_segment(path) == ([], len(SEGMENT_HEADER), None)


@pytest.mark.parametrize(
    "data", [b"", b"EDGE", b"EDGEWAL\x02", b"XXXXXXXX" + encode_record(1, b"a")]
)
def test_missing_or_unknown_header(tmp_path: Path, data: bytes) -> None:
    path = tmp_path / segment_name(1)
    path.write_bytes(data)
    records, end, problem = read_segment(path)
    assert (records, end) == ([], 0)
    assert problem is not None and "header" in problem


@pytest.mark.parametrize("cut", [1, _HEAD - 1, _HEAD, _HEAD + 3])
def test_torn_tail_stops_at_last_whole_record(tmp_path: Path, cut: int) -> None:
    path = tmp_path / segment_name(1)
    ends = _write_segment(path, [(1, b"first"), (2, b"second"), (3, b"third!")])
    data = path.read_bytes()
    path.write_bytes(data[: ends[1] + cut])
    records, end, problem = read_segment(path)
    assert [r.seq for r in records] == [1, 2]
    assert end == ends[1]
    assert problem is not None and "torn" in problem and str(ends[1]) in problem


@pytest.mark.parametrize("offset", [4, 8, _HEAD, _HEAD + 2])  # crc, seq, payload start, payload
def test_corrupt_record_stops_reading(tmp_path: Path, offset: int) -> None:
    path = tmp_path / segment_name(1)
    ends = _write_segment(path, [(1, b"first"), (2, b"second"), (3, b"third")])
    data = bytearray(path.read_bytes())
    data[ends[0] + offset] ^= 0x40
    path.write_bytes(bytes(data))
    records, end, problem = read_segment(path)
    assert [(r.seq, r.payload) for r in records] == [(1, b"first")]
    assert end == ends[0]
    assert problem == f"CRC mismatch at offset {ends[0]}"


def test_oversized_length_is_torn(tmp_path: Path) -> None:
    path = tmp_path / segment_name(1)
    ends = _write_segment(path, [(1, b"ok")])
    bogus = struct.pack("<IIQ", 0xFFFFFFFF, 0, 2)
    path.write_bytes(path.read_bytes() + bogus + b"zz")
    records, end, problem = read_segment(path)
    assert [r.seq for r in records] == [1]
    assert end == ends[0]
    assert problem is not None and problem.startswith("torn record at offset")


def test_fsync_dir(tmp_path: Path) -> None:
    fsync_dir(tmp_path)
    with pytest.raises(FileNotFoundError):
        fsync_dir(tmp_path / "missing")
