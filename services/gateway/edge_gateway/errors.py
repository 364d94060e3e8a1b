"""The one table from error class to HTTP status, and the body shapes of each API family."""

from __future__ import annotations

import csv
import io
from typing import Any

from fastapi.responses import JSONResponse, Response

from edge_common.errors import (
    BadRequest,
    Conflict,
    EdgeError,
    Forbidden,
    LimitExceeded,
    NotFound,
    PayloadTooLarge,
    QueryError,
    SchemaConflict,
    TooManyRequests,
    Unauthenticated,
    Unavailable,
)

__all__ = ["error_response", "query_error_response", "status_of"]

_STATUS: dict[type[EdgeError], int] = {
    BadRequest: 400,
    QueryError: 400,
    SchemaConflict: 400,
    PayloadTooLarge: 413,
    NotFound: 404,
    Conflict: 409,
    Unauthenticated: 401,
    Forbidden: 403,
    TooManyRequests: 429,
    LimitExceeded: 422,
    Unavailable: 503,
}


def status_of(err: EdgeError) -> int:
    for cls in type(err).__mro__:
        if cls in _STATUS:
            return _STATUS[cls]
    return 500


def error_response(err: EdgeError, api: str = "v3") -> JSONResponse:
    """``v3`` and ``v1``: ``{"error": msg}``; ``v2``: ``{"code", "message"}``."""
    status = status_of(err)
    body: dict[str, Any]
    if api == "v2":
        code = {  # InfluxDB 2's error codes
            400: "invalid",
            401: "unauthorized",
            403: "forbidden",
            404: "not found",
            405: "method not allowed",
            409: "conflict",
            413: "request too large",
            422: "unprocessable entity",
            429: "too many requests",
            503: "unavailable",
        }.get(status, "internal error")
        body = {"code": code, "message": err.message}
    else:
        body = {"error": err.message}
        if err.data is not None:
            body["data"] = err.data
    headers = {"Retry-After": str(err.data)} if status == 429 and err.data else None
    if status == 429:
        body.pop("data", None)
    return JSONResponse(body, status_code=status, headers=headers)


def query_error_response(err: EdgeError, api: str, fmt: str | None) -> Response:
    """A query's request error in the shape its API answers: ``fmt`` v1csv (the 1.x
    ``/query`` asked for CSV) in CSV, as influxd writes it; else ``error_response``."""
    return _csv_error_response(err) if fmt == "v1csv" else error_response(err, api)


def _csv_error_response(err: EdgeError) -> Response:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(["error"])
    writer.writerow([err.message])
    return Response(out.getvalue(), status_code=status_of(err), media_type="text/csv")


def api_of(path: str) -> str:
    """Which API family's error shape a path answers in."""
    return "v2" if path.startswith("/api/v2/") else "v3"
