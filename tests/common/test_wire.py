from __future__ import annotations

import stat
import struct
import tempfile
from pathlib import Path
from typing import Any

import orjson
import pyarrow as pa
import pytest

from edge_common.errors import BadRequest, EdgeError
from edge_common.wire import (
    WIRE_VERSION,
    Endpoints,
    WriteRecord,
    error_header,
    ipc_bytes,
    pack,
    read_ipc,
    unpack,
)

TAG = pa.dictionary(pa.int32(), pa.string())


def _cpu() -> pa.RecordBatch:
    return pa.RecordBatch.from_arrays(
        [
            pa.array([1, 2, 3], pa.timestamp("ns")),
            pa.DictionaryArray.from_arrays(
                pa.array([0, None, 1], pa.int32()), pa.array(["a", "b"])
            ),
            pa.DictionaryArray.from_arrays(pa.array([0, 0, 0], pa.int32()), pa.array(["eu"])),
            pa.array([1.5, None, -2.0]),
            pa.array([True, False, None]),
        ],
        names=["time", "host", "region", "usage", "ok"],
    )


def _mem() -> pa.RecordBatch:
    return pa.RecordBatch.from_arrays(
        [
            pa.array([10], pa.timestamp("ns")),
            pa.array([2**64 - 1], pa.uint64()),
            pa.array([-(2**63)], pa.int64()),
            pa.array(["ünïcode"]),
        ],
        names=["time", "free", "delta", "note"],
    )


def test_write_record_roundtrip() -> None:
    rec = WriteRecord("my-db", 1_700_000_000_123_456_789, {"cpu": _cpu(), "mem": _mem()})
    data = rec.encode()
    for form in (data, memoryview(data), memoryview(bytearray(data))):
        back = WriteRecord.decode(form)
        assert back.db == "my-db"
        assert back.stamp_ns == 1_700_000_000_123_456_789
        assert list(back.tables) == ["cpu", "mem"]
        for name in ("cpu", "mem"):
            assert back.tables[name].schema == rec.tables[name].schema
            assert back.tables[name].equals(rec.tables[name])
    cpu = WriteRecord.decode(data).tables["cpu"]
    assert pa.types.is_dictionary(cpu.schema.field("host").type)
    assert cpu.column("host").to_pylist() == ["a", None, "b"]
    assert WriteRecord.peek_stamp(data) == rec.stamp_ns


def test_write_record_table_order_and_empty_batch() -> None:
    empty = _mem().slice(0, 0)
    rec = WriteRecord("db", 0, {"z": _mem(), "a": empty, "m": _cpu()})
    back = WriteRecord.decode(rec.encode())
    assert list(back.tables) == ["z", "a", "m"]
    assert back.tables["a"].num_rows == 0
    assert back.tables["a"].schema == empty.schema
    assert back.tables["m"].equals(_cpu())


def test_write_record_without_tables() -> None:
    back = WriteRecord.decode(WriteRecord("db", 5, {}).encode())
    assert (back.db, back.stamp_ns, back.tables) == ("db", 5, {})


def test_write_record_version_check() -> None:
    data = WriteRecord("db", 1, {"cpu": _cpu()}).encode()
    (hlen,) = struct.unpack_from("<I", data)
    head = orjson.loads(data[4 : 4 + hlen])
    head["v"] = 2
    new_head = orjson.dumps(head)
    forged = struct.pack("<I", len(new_head)) + new_head + data[4 + hlen :]
    with pytest.raises(EdgeError, match="unsupported write record version 2"):
        WriteRecord.decode(forged)


def test_pack_unpack() -> None:
    frames = pack({"op": "apply", "seq": 3}, b"one", memoryview(b"two"))
    assert len(frames) == 3
    assert orjson.loads(bytes(frames[0])) == {"v": WIRE_VERSION, "op": "apply", "seq": 3}
    header, payloads = unpack(frames)
    assert header == {"v": WIRE_VERSION, "op": "apply", "seq": 3}
    assert [bytes(p) for p in payloads] == [b"one", b"two"]
    # a memoryview header (zero-copy frames) works too
    header, payloads = unpack([memoryview(bytes(frames[0]))])
    assert header["op"] == "apply" and payloads == []


@pytest.mark.parametrize("header", [{"v": WIRE_VERSION + 1, "op": "x"}, {"op": "x"}])
def test_unpack_rejects_other_versions(header: dict[str, Any]) -> None:
    with pytest.raises(EdgeError, match="unsupported wire version"):
        unpack([orjson.dumps(header), b"payload"])


def test_error_header() -> None:
    h = error_header(BadRequest("nope", data={"line": 3}))
    assert h == {
        "ok": False,
        "error": {"code": "bad_request", "message": "nope", "data": {"line": 3}},
    }


class _Frame:
    """Stands in for a zmq.Frame: the bytes are under ``.buffer``."""

    def __init__(self, data: bytes) -> None:
        self.buffer = memoryview(data)


def test_ipc_roundtrip() -> None:
    batch = _cpu()
    buf = ipc_bytes([batch, batch.slice(1)], batch.schema)
    for frame in (buf, buf.to_pybytes(), _Frame(buf.to_pybytes())):
        table = read_ipc(frame)
        assert table.schema == batch.schema
        assert table.num_rows == 5
        assert table.column("host").to_pylist() == ["a", None, "b", None, "b"]
    empty = read_ipc(ipc_bytes([], batch.schema))
    assert empty.num_rows == 0 and empty.schema == batch.schema


def test_endpoints_short_path_stays_in_data_dir() -> None:
    data_dir = Path("/srv/edge-data")
    run = data_dir.resolve() / "run"
    assert len(str(run)) <= 60
    ep = Endpoints.for_data_dir(data_dir)
    assert ep.run_dir == run
    assert ep.persister_ingest == f"ipc://{run}/persister-ingest.sock"  # (ZeroMQ's)
    streams = [ep.ingest(0), ep.ingest(1), ep.query(0), ep.query(1), ep.persister]
    streams += [ep.query_control(0), ep.query_control(1)]  # edge_common.stream's sockets
    assert ep.persister == run / "persister.stream"
    assert len(set(streams)) == len(streams) and all(p.parent == run for p in streams)


def test_endpoints_long_path_moves_to_tempdir(tmp_path: Path) -> None:
    long_dir = tmp_path / ("d" * 80)
    ep = Endpoints.for_data_dir(long_dir)
    assert ep.run_dir.parent == Path(tempfile.gettempdir())
    assert ep.run_dir.name.startswith("edge-") and len(ep.run_dir.name) == len("edge-") + 16
    # deterministic per directory, distinct between directories
    assert Endpoints.for_data_dir(long_dir) == ep
    assert Endpoints.for_data_dir(tmp_path / ("e" * 80)) != ep
    assert len(ep.persister_ingest.removeprefix("ipc://").encode()) < 107
    for path in (ep.ingest(63), ep.query(63), ep.query_control(63), ep.persister):
        assert len(str(path).encode()) < 107


def test_endpoints_prepare_makes_private_dir(tmp_path: Path) -> None:
    ep = Endpoints(tmp_path / "a" / "run")
    ep.prepare()
    ep.prepare()  # idempotent
    assert ep.run_dir.is_dir()
    assert stat.S_IMODE(ep.run_dir.stat().st_mode) == 0o700
