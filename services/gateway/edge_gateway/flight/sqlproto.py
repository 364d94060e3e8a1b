"""The Flight SQL protocol messages this server reads and writes, built with ``protobuf``.

Flight SQL commands travel as ``google.protobuf.Any`` in a Flight descriptor's ``cmd``, in a
ticket, or in an action's body; the type URL names the message. The messages are described
here by name, field number and type, as the Flight SQL specification publishes them (package
``arrow.flight.protocol.sql``), and turned into ``protobuf`` message classes at import: no
generated code to keep in step, and protobuf does all the wire encoding.
"""

from __future__ import annotations

from typing import Any

from google.protobuf import any_pb2, descriptor_pb2, descriptor_pool, message_factory

__all__ = ["PACKAGE", "encode", "messages", "pack", "unpack"]

PACKAGE = "arrow.flight.protocol.sql"

_F = descriptor_pb2.FieldDescriptorProto
_TYPES = {
    "string": _F.TYPE_STRING,
    "bytes": _F.TYPE_BYTES,
    "bool": _F.TYPE_BOOL,
    "int64": _F.TYPE_INT64,
    "uint32": _F.TYPE_UINT32,
}

# message name -> [(field name, number, type, label)]; label: "" singular, "optional"
# (proto3 explicit presence) or "repeated"
_MESSAGES: dict[str, list[tuple[str, int, str, str]]] = {
    "CommandGetSqlInfo": [("info", 1, "uint32", "repeated")],
    "CommandGetCatalogs": [],
    "CommandGetDbSchemas": [
        ("catalog", 1, "string", "optional"),
        ("db_schema_filter_pattern", 2, "string", "optional"),
    ],
    "CommandGetTables": [
        ("catalog", 1, "string", "optional"),
        ("db_schema_filter_pattern", 2, "string", "optional"),
        ("table_name_filter_pattern", 3, "string", "optional"),
        ("table_types", 4, "string", "repeated"),
        ("include_schema", 5, "bool", ""),
    ],
    "CommandGetTableTypes": [],
    "CommandStatementQuery": [
        ("query", 1, "string", ""),
        ("transaction_id", 2, "bytes", "optional"),
    ],
    "CommandStatementUpdate": [
        ("query", 1, "string", ""),
        ("transaction_id", 2, "bytes", "optional"),
    ],
    "TicketStatementQuery": [("statement_handle", 1, "bytes", "")],
    "CommandPreparedStatementQuery": [("prepared_statement_handle", 1, "bytes", "")],
    "CommandPreparedStatementUpdate": [("prepared_statement_handle", 1, "bytes", "")],
    "ActionCreatePreparedStatementRequest": [
        ("query", 1, "string", ""),
        ("transaction_id", 2, "bytes", "optional"),
    ],
    "ActionCreatePreparedStatementResult": [
        ("prepared_statement_handle", 1, "bytes", ""),
        ("dataset_schema", 2, "bytes", ""),
        ("parameter_schema", 3, "bytes", ""),
    ],
    "ActionClosePreparedStatementRequest": [("prepared_statement_handle", 1, "bytes", "")],
    "DoPutUpdateResult": [("record_count", 1, "int64", "")],
    "DoPutPreparedStatementResult": [("prepared_statement_handle", 1, "bytes", "optional")],
}


def _build() -> dict[str, Any]:
    file = descriptor_pb2.FileDescriptorProto(
        name="edge_flight_sql.proto", package=PACKAGE, syntax="proto3"
    )
    for name, fields in _MESSAGES.items():
        msg = file.message_type.add(name=name)
        for fname, number, ftype, label in fields:
            field = msg.field.add(name=fname, number=number, type=_TYPES[ftype])
            field.label = _F.LABEL_REPEATED if label == "repeated" else _F.LABEL_OPTIONAL
            if label == "optional":
                # proto3 `optional`: a synthetic one-field oneof gives the field presence
                field.proto3_optional = True
                field.oneof_index = len(msg.oneof_decl)
                msg.oneof_decl.add(name=f"_{fname}")
    pool = descriptor_pool.DescriptorPool()
    pool.Add(file)
    return {
        name: message_factory.GetMessageClass(pool.FindMessageTypeByName(f"{PACKAGE}.{name}"))
        for name in _MESSAGES
    }


messages = _build()


def encode(name: str, **fields: Any) -> bytes:
    """The message ``name`` with ``fields``, serialised bare (``PutResult.app_metadata``)."""
    return bytes(messages[name](**fields).SerializeToString())


def pack(name: str, **fields: Any) -> bytes:
    """The message ``name`` with ``fields``, wrapped in ``Any`` and serialised."""
    wrapped = any_pb2.Any()
    wrapped.Pack(messages[name](**fields))
    return bytes(wrapped.SerializeToString())


def unpack(data: bytes) -> tuple[str, Any] | None:
    """``(message name, message)`` from a serialised ``Any``; None when it is not Flight SQL."""
    wrapped = any_pb2.Any()
    try:
        wrapped.ParseFromString(data)
    except Exception:
        return None
    prefix = f"type.googleapis.com/{PACKAGE}."
    if not wrapped.type_url.startswith(prefix):
        return None
    name = wrapped.type_url[len(prefix) :]
    cls = messages.get(name)
    if cls is None:
        return name, None  # a Flight SQL command this server does not implement
    msg = cls()
    wrapped.Unpack(msg)
    return name, msg
