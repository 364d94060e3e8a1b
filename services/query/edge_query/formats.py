"""Render Arrow record batches as the response formats of the query API, chunk by chunk so
that a large result never has to sit in memory as one document."""

from __future__ import annotations

import io
from collections.abc import Iterable, Iterator

import orjson
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv
import pyarrow.parquet as pq

from edge_common.errors import BadRequest

__all__ = ["ARROW_CHUNK_BYTES", "CONTENT_TYPES", "ipc_stream", "render"]

ARROW_CHUNK_BYTES = 1 << 20

CONTENT_TYPES = {
    "json": "application/json",
    "jsonl": "application/jsonl",
    "csv": "text/csv; charset=utf-8",
    "pretty": "text/plain; charset=utf-8",
    "parquet": "application/vnd.apache.parquet",
    "arrow": "application/vnd.apache.arrow.stream",
}


def _display(batch: pa.RecordBatch) -> pa.RecordBatch:
    """Timestamps as ISO-8601 text (``2024-01-01T00:00:00.5``), dictionaries decoded."""
    arrays, fields = [], []
    for f, col in zip(batch.schema, batch.columns, strict=True):
        if pa.types.is_timestamp(f.type):
            text = pc.strftime(col.cast(pa.timestamp("ns")), format="%Y-%m-%dT%H:%M:%S")
            col = pc.replace_substring_regex(text, pattern=r"\.?0+$", replacement="")
            f = pa.field(f.name, pa.string())
        elif pa.types.is_dictionary(f.type):
            col = col.cast(f.type.value_type)
            f = pa.field(f.name, f.type.value_type)
        arrays.append(col)
        fields.append(f)
    return pa.RecordBatch.from_arrays(arrays, schema=pa.schema(fields))


def _rows(batch: pa.RecordBatch) -> list[dict[str, object]]:
    # InfluxDB 3 leaves null columns out of a row's object
    return [{k: v for k, v in row.items() if v is not None} for row in _display(batch).to_pylist()]


def render(fmt: str, schema: pa.Schema, batches: Iterable[pa.RecordBatch]) -> Iterator[bytes]:
    if fmt == "json":
        yield b"["
        first = True
        for batch in batches:
            if batch.num_rows:
                body = orjson.dumps(_rows(batch))[1:-1]
                yield body if first else b"," + body
                first = False
        yield b"]"
    elif fmt == "jsonl":
        for batch in batches:
            if batch.num_rows:
                yield b"".join(orjson.dumps(r) + b"\n" for r in _rows(batch))
    elif fmt == "csv":
        header = True
        for batch in batches:
            if batch.num_rows or header:
                yield _csv(batch, header)
                header = False
        if header:  # not a single batch (an empty result): the header line alone
            yield _csv(pa.RecordBatch.from_pylist([], schema=schema), True)
    elif fmt == "pretty":
        yield _pretty(schema, list(batches)).encode()
    elif fmt == "parquet":
        out = io.BytesIO()
        with pq.ParquetWriter(out, schema) as writer:
            for batch in batches:
                writer.write_batch(batch)
        yield out.getvalue()
    elif fmt == "arrow":
        # self-contained IPC streams of about 1 MiB: each is decoded on its own as it arrives
        pending: list[pa.RecordBatch] = []
        size, sent = 0, False
        for batch in batches:
            pending.append(batch)
            size += batch.nbytes
            if size >= ARROW_CHUNK_BYTES:
                yield ipc_stream(schema, pending)
                pending, size, sent = [], 0, True
        if pending or not sent:
            yield ipc_stream(schema, pending)
    else:
        raise BadRequest(f"unknown format {fmt!r}: use json, jsonl, csv, pretty or parquet")


def ipc_stream(schema: pa.Schema, batches: list[pa.RecordBatch]) -> bytes:
    sink = pa.BufferOutputStream()
    with pa.ipc.new_stream(sink, schema) as writer:
        for batch in batches:
            writer.write_batch(batch)
    return sink.getvalue().to_pybytes()


def _csv(batch: pa.RecordBatch, header: bool) -> bytes:
    out = io.BytesIO()
    pacsv.write_csv(
        _display(batch), out, pacsv.WriteOptions(include_header=header, quoting_style="needed")
    )
    return out.getvalue()


def _pretty(schema: pa.Schema, batches: list[pa.RecordBatch]) -> str:
    names = schema.names
    rows: list[list[str]] = []
    for batch in batches:
        for row in _display(batch).to_pylist():
            rows.append(["" if row[n] is None else str(row[n]) for n in names])
    widths = [max([len(n), *(len(r[i]) for r in rows)]) for i, n in enumerate(names)]
    rule = "+" + "+".join("-" * (w + 2) for w in widths) + "+"

    def line(cells: list[str]) -> str:
        return "| " + " | ".join(c.ljust(w) for c, w in zip(cells, widths, strict=True)) + " |"

    return "\n".join([rule, line(names), rule, *(line(r) for r in rows), rule]) + "\n"
