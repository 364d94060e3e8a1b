"""The write-ahead log's on-disk format, shared by its writer (ingest) and its readers
(the persister replays it on start).

A segment file starts with ``EDGEWAL`` and a format byte, then holds records of
``u32 payload length | u32 CRC32C(seq + payload) | u64 seq | payload``. A record that is cut
short or fails its CRC marks the end of the valid data: readers stop there and never trust
what follows; only the owning writer cuts the file.
"""

from __future__ import annotations

import logging
import os
import struct
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import google_crc32c

__all__ = [
    "SEGMENT_HEADER",
    "WalRecord",
    "encode_record",
    "read_segment",
    "segment_name",
    "segments",
]

SEGMENT_HEADER = b"EDGEWAL\x01"
_REC = struct.Struct("<IIQ")
_MAX_RECORD = 1 << 31
log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class WalRecord:
    seq: int
    payload: bytes
    end: int  # file offset just past this record


def encode_record(seq: int, payload: bytes) -> bytes:
    seq_bytes = struct.pack("<Q", seq)
    crc = google_crc32c.value(seq_bytes + payload)
    return _REC.pack(len(payload), crc, seq) + payload


def segment_name(first_seq: int) -> str:
    return f"{first_seq:020d}.wal"


def segments(directory: Path) -> list[Path]:
    """A worker's segment files, oldest first."""
    if not directory.is_dir():
        return []
    return sorted(p for p in directory.iterdir() if p.suffix == ".wal" and p.stem.isdigit())


def read_segment(path: Path) -> tuple[list[WalRecord], int, str | None]:
    """Every valid record, the offset where valid data ends, and why reading stopped early
    (``None`` when the file ended cleanly)."""
    with open(path, "rb") as f:
        data = f.read()
    if len(data) < len(SEGMENT_HEADER) or not data.startswith(SEGMENT_HEADER):
        return [], 0, "missing or unknown segment header"
    records: list[WalRecord] = []
    pos = len(SEGMENT_HEADER)
    for rec in _iter(data, pos):
        if isinstance(rec, str):
            return records, pos, rec
        records.append(rec)
        pos = rec.end
    return records, pos, None


def _iter(data: bytes, pos: int) -> Iterator[WalRecord | str]:
    view = memoryview(data)
    while pos < len(data):
        if pos + _REC.size > len(data):
            yield f"torn record header at offset {pos}"
            return
        length, crc, seq = _REC.unpack_from(data, pos)
        body_start = pos + _REC.size
        end = body_start + length
        if length >= _MAX_RECORD or end > len(data):
            yield f"torn record at offset {pos} (needs {length} bytes)"
            return
        payload = bytes(view[body_start:end])
        if google_crc32c.value(data[pos + 8 : pos + 16] + payload) != crc:
            yield f"CRC mismatch at offset {pos}"
            return
        yield WalRecord(seq, payload, end)
        pos = end


def fsync_dir(directory: Path) -> None:
    fd = os.open(directory, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
