"""The 1.x ``/query`` answer: JSON (optionally pretty or chunked) or CSV, times as RFC3339
text or epoch integers; and the same results as one Arrow table for
``/api/v3/query_influxql`` (first column ``iox::measurement``)."""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Iterator
from typing import Any

import numpy as np
import orjson
import pyarrow as pa

from edge_common.errors import from_wire
from edge_query.influxql.text import escape_key
from edge_query.influxql.timefmt import format_times

__all__ = ["render_v1", "to_arrow"]


def _times(results: list[dict[str, Any]], epoch: str | None) -> list[dict[str, Any]]:
    for r in results:
        zone = r.pop("_tz", None)  # tz('Zone'): RFC3339 times with the zone's offset
        # every series' rows at once: one pass, not one per series (100s of them)
        rows = [
            row
            for s in r.get("series", [])
            if s["columns"] and s["columns"][0] == "time"
            for row in s["values"]
        ]
        if rows:
            stamps = [row[0] for row in rows]
            for row, t in zip(rows, format_times(stamps, epoch, zone), strict=True):
                row[0] = t
    return results


def render_v1(
    results: list[dict[str, Any]],
    *,
    epoch: str | None,
    pretty: bool,
    fmt: str,
    chunked: bool,
    chunk_size: int,
) -> Iterator[bytes]:
    whole = set()
    for i, r in enumerate(results):
        r.pop("code", None)  # the v3 API's status hint; not part of the 1.x answer
        if r.pop("_whole", False):
            whole.add(i)
    if fmt == "csv" and not epoch:  # influxd's CSV writes times as nanoseconds, zone or not
        epoch = "ns"
    results = _times(results, epoch)
    if fmt == "csv":
        yield _csv(results)
        return
    dumps = _pretty if pretty else orjson.dumps
    for r in results:
        if "series" in r:
            r["series"] = [_in_order(s) for s in r["series"]]
    if not chunked:
        yield dumps({"results": results}) + b"\n"
        return
    for n, r in enumerate(results):
        if n in whole and r.get("series"):  # a series a message, as influxd's meta statements
            for s in r["series"]:
                yield dumps({"results": [{"statement_id": r["statement_id"], "series": [s]}]})
                yield b"\n"
            continue
        pieces = list(_chunks(r, chunk_size))
        for i, piece in enumerate(pieces):
            if i < len(pieces) - 1:
                piece["partial"] = True
            yield dumps({"results": [piece]}) + b"\n"


_SERIES_KEYS = ("name", "tags", "columns", "values", "partial")
_INDENT = re.compile(rb"(?m)^( +)")


def _in_order(series: dict[str, Any]) -> dict[str, Any]:
    """A series' keys in influxd's order (tags after the name; its JSON shows them so)."""
    if "tags" not in series:
        return series
    return {k: series[k] for k in (*_SERIES_KEYS, *series) if k in series}


def _pretty(doc: Any) -> bytes:
    """``pretty=true`` as influxd writes it: four spaces a level (orjson indents by two;
    each line's indent is doubled: a JSON string holds no raw line break)."""
    text = orjson.dumps(doc, option=orjson.OPT_INDENT_2)
    return _INDENT.sub(lambda m: m.group(1) * 2, text)


def _chunks(result: dict[str, Any], size: int) -> Iterator[dict[str, Any]]:
    if "series" not in result:
        yield result
        return
    for s in result["series"]:
        values = s.get("values")
        if values is None:  # a series without rows (SHOW USERS of none)
            yield {"statement_id": result["statement_id"], "series": [s]}
            continue
        for start in range(0, max(len(values), 1), size):
            part = {**s, "values": values[start : start + size]}
            if start + size < len(values):
                part["partial"] = True
            yield {"statement_id": result["statement_id"], "series": [part]}


def _csv(results: list[dict[str, Any]]) -> bytes:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    columns: list[str] | None = None
    for r in results:
        if "error" in r:
            writer.writerow(["error"])
            writer.writerow([r["error"]])
            continue
        for s in r.get("series", []):
            if s["columns"] != columns:
                if columns is not None:
                    out.write("\n")
                columns = s["columns"]
                writer.writerow(["name", "tags", *columns])
            tags = ",".join(  # (a tag the series lacks, "" in JSON, is left out)
                f"{escape_key(k)}={escape_key(v)}"
                for k, v in sorted(s.get("tags", {}).items())
                if v
            )
            for row in s["values"]:
                writer.writerow(
                    [s.get("name", ""), tags, *("" if v is None else _csv_value(v) for v in row)]
                )
    return out.getvalue().encode()


def _csv_value(v: Any) -> str:
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, float) and v != v:
        return ""  # NaN (stddev() of one point), as influxd writes it: nothing
    if isinstance(v, float):  # as Go's FormatFloat(v, 'f', -1): 1 for 1.0, no exponent
        return np.format_float_positional(v, trim="-")
    return str(v)


def to_arrow(results: list[dict[str, Any]]) -> pa.Table:
    """All series of all statements as one table: ``iox::measurement``, then the columns."""
    rows: list[dict[str, Any]] = []
    columns: dict[str, None] = {"iox::measurement": None}
    for r in results:
        r.pop("_tz", None)  # Arrow timestamps are instants: no zone to show
        if "error" in r:
            raise from_wire({"code": r.get("code", "query"), "message": r["error"]})
        for s in r.get("series", []):
            for c in s["columns"]:
                columns.setdefault(c)
            for k in s.get("tags", {}):
                columns.setdefault(k)
            for row in s["values"]:
                d = {
                    "iox::measurement": s.get("name", ""),
                    **s.get("tags", {}),
                    **dict(zip(s["columns"], row, strict=True)),
                }
                if "time" in d and isinstance(d["time"], int):
                    d["time"] = pa.scalar(d["time"], pa.timestamp("ns"))
                rows.append(d)
    names = list(columns)
    if not rows:
        return pa.table({n: pa.array([], pa.string()) for n in names})
    return pa.Table.from_pylist([{n: r.get(n) for n in names} for r in rows])
