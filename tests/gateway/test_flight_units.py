"""Unit tests of the Flight pieces that need no server: the Flight SQL messages, the metadata
tables, and how the front tells gRPC from HTTP."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import pyarrow as pa
import pytest

from edge_gateway.flight import metadata, sqlproto
from edge_gateway.flight.front import PREFACE, front_protocol
from edge_gateway.flight.service import _client


def test_messages_round_trip_through_any() -> None:
    raw = sqlproto.pack("CommandGetTables", table_name_filter_pattern="c%", include_schema=True)
    name, msg = sqlproto.unpack(raw)  # type: ignore[misc]
    assert name == "CommandGetTables"
    assert msg.table_name_filter_pattern == "c%" and msg.include_schema
    assert msg.HasField("table_name_filter_pattern") and not msg.HasField("catalog")
    assert raw.startswith(b"\n>type.googleapis.com/arrow.flight.protocol.sql.CommandGetTables")


def test_unknown_or_foreign_messages() -> None:
    assert sqlproto.unpack(b'{"database": "x"}') is None  # a JSON ticket
    assert sqlproto.unpack(b"\xff\xff") is None
    from google.protobuf import any_pb2

    other = any_pb2.Any(
        type_url="type.googleapis.com/arrow.flight.protocol.sql.CommandGetXdbcTypeInfo"
    )
    assert sqlproto.unpack(other.SerializeToString()) == ("CommandGetXdbcTypeInfo", None)


def test_bare_encoding_for_put_results() -> None:
    raw = sqlproto.encode("DoPutPreparedStatementResult", prepared_statement_handle=b"h1")
    assert raw == b"\n\x02h1"  # field 1, length 2: no Any around it


@pytest.mark.parametrize(
    ("pattern", "matches", "misses"),
    [
        ("c%", ["cpu", "c"], ["mem", "acpu"]),
        ("c_u", ["cpu"], ["cpuu", "cu"]),
        ("%", ["", "anything"], []),
        ("a\\_b", ["a_b"], ["axb"]),
        ("x.y", ["x.y"], ["xzy"]),
    ],
)
def test_like_patterns(pattern: str, matches: list[str], misses: list[str]) -> None:
    rx = metadata.like(pattern)
    assert rx is not None
    assert all(rx.fullmatch(m) for m in matches)
    assert not any(rx.fullmatch(m) for m in misses)


def test_sql_info_is_a_dense_union_of_the_spec() -> None:
    table = metadata.sql_info([0, 3, 8, 9999])
    assert table.schema.equals(metadata.SQL_INFO_SCHEMA)
    assert table.to_pylist() == [
        {"info_name": 0, "value": "Edge"},
        {"info_name": 3, "value": True},
        {"info_name": 8, "value": 0},
    ]
    union = table.column("value").chunk(0)
    assert union.type_codes.to_pylist() == [0, 1, 3]  # string, bool, int32
    assert metadata.sql_info([]).num_rows > 10  # none asked for: everything known


def _listed() -> pa.Table:
    schema = pa.schema([("v", pa.float64())]).serialize().to_pybytes()
    rows = [
        ("public", "iox", "mem", "BASE TABLE"),
        ("public", "iox", "cpu", "BASE TABLE"),
        ("public", "information_schema", "tables", "VIEW"),
    ]
    return pa.table(
        {
            "catalog_name": [r[0] for r in rows],
            "db_schema_name": [r[1] for r in rows],
            "table_name": [r[2] for r in rows],
            "table_type": [r[3] for r in rows],
            "table_schema": [schema] * 3,
        }
    )


def test_metadata_tables() -> None:
    listed = _listed()
    assert metadata.catalogs(listed).to_pylist() == [{"catalog_name": "public"}]
    assert metadata.db_schemas(listed, "public", "io%").to_pylist() == [
        {"catalog_name": "public", "db_schema_name": "iox"}
    ]
    assert metadata.db_schemas(listed, "other", None).num_rows == 0
    got = metadata.tables(listed, None, None, None, ["BASE TABLE"], False)
    assert got.schema.equals(metadata.TABLES_SCHEMA)
    assert got.column("table_name").to_pylist() == ["cpu", "mem"]
    with_schema = metadata.tables(listed, "public", "iox", "c%", [], True)
    assert with_schema.schema.equals(metadata.TABLES_WITH_SCHEMA)
    assert with_schema.num_rows == 1
    assert metadata.table_types(listed).to_pylist() == [
        {"table_type": "BASE TABLE"},
        {"table_type": "VIEW"},
    ]


@pytest.mark.parametrize(
    ("peer", "client"),
    [
        ("unix-abstract:edge-peer/10.0.0.7/5555/12-3", "10.0.0.7"),
        ("ipv4:127.0.0.1:40000", "127.0.0.1"),
        ("ipv6:[::1]:40000", "::1"),
        ("", "unknown"),
    ],
)
def test_client_address_of_a_call(peer: str, client: str) -> None:
    assert _client(peer) == client


class _Transport:
    def close(self) -> None:
        pass


def _decisions(chunks: list[bytes]) -> list[str]:
    decided: list[str] = []
    base: Any = front_protocol(Path("/nonexistent"))

    class Probe(base):  # type: ignore[misc, valid-type]
        def _to_http(self) -> None:
            self._decided()
            decided.append("http")

        def _to_flight(self) -> None:
            self._decided()
            decided.append("grpc")

    async def run() -> None:
        proto = Probe(None, None, None)
        proto.connection_made(_Transport())
        for chunk in chunks:
            proto.data_received(chunk)
        proto.connection_lost(None)

    asyncio.run(run())
    return decided


def test_front_tells_grpc_from_http() -> None:
    assert _decisions([b"GET /ping HTTP/1.1\r\n\r\n"]) == ["http"]
    assert _decisions([b"P", b"OST /write HTTP/1.1\r\n"]) == ["http"]  # P alone: wait
    assert _decisions([PREFACE + b"\x00\x00\x00\x04"]) == ["grpc"]
    assert _decisions([PREFACE[:5], PREFACE[5:]]) == ["grpc"]
    assert _decisions([PREFACE[:10]]) == []  # not yet known, then the client left
