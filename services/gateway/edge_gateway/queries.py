"""What every query API shares: the request a query worker gets (HTTP v3, the 1.x
``/query`` and Flight all build it here), bind parameters, and the answer format."""

from __future__ import annotations

from typing import Any

import orjson

from edge_common.errors import BadRequest, Forbidden
from edge_gateway.auth import Principal

__all__ = ["FORMATS", "choose_format", "parse_params", "query_request"]

FORMATS = ("json", "jsonl", "csv", "pretty", "parquet")
_ACCEPT = {
    "application/json": "json",
    "application/jsonl": "jsonl",
    "application/x-ndjson": "jsonl",
    "text/csv": "csv",
    "text/plain": "pretty",
    "application/vnd.apache.parquet": "parquet",
}


def choose_format(explicit: str | None, accept: str) -> str:
    """The v3 answer format: ``format`` when given, else from ``Accept``, else JSON."""
    if explicit:
        if explicit not in FORMATS:
            raise BadRequest(f"unknown format {explicit!r}: use one of {', '.join(FORMATS)}")
        return explicit
    for part in accept.split(","):
        fmt = _ACCEPT.get(part.split(";")[0].strip().lower())
        if fmt:
            return fmt
    return "json"


def parse_params(raw: Any) -> dict[str, Any] | None:
    """Bind parameters (a JSON object, or its text) by name, without a leading ``$``."""
    if raw is None or raw == "":
        return None
    if isinstance(raw, str):
        try:
            raw = orjson.loads(raw)
        except orjson.JSONDecodeError as err:
            raise BadRequest(f"params is not valid JSON: {err}") from None
    if not isinstance(raw, dict):
        raise BadRequest("params must be a JSON object of name → value")
    return {str(k).lstrip("$"): v for k, v in raw.items()}


def query_request(
    who: Principal, db: str | None, q: str, language: str, fmt: str, params: Any
) -> dict[str, Any]:
    """The request for a query worker, once ``who`` may read ``db`` (InfluxQL may name no
    database: SHOW DATABASES; it learns which databases the caller may read and change)."""
    if language not in ("sql", "influxql"):
        raise BadRequest(f"unknown query language {language!r}: use sql or influxql")
    if db and not who.allows("read", db):
        raise Forbidden(f"{who.subject} may not read database {db!r}")
    header: dict[str, Any] = {
        "op": "query" if language == "sql" else "influxql",
        "db": db,
        "q": q,
        "format": fmt,
        "params": parse_params(params),
        "language": language,
    }
    if language == "influxql":
        header["readable"] = who.databases("read")
        header["writable"] = who.databases("write")
        header["admin"] = who.admin
        header["who"] = who.subject  # (in the worker's messages)
        header["user"] = None if who.user is None else who.user.name
    return header
