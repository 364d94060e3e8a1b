"""The three write APIs: ``/api/v3/write_lp``, ``/api/v2/write`` and 1.x ``/write``.

Each hands the raw body to an ingest worker and shapes the answer the way its InfluxDB
version does: v3 partial writes with per-line data, v2 all-or-nothing, 1.x partial writes
with influxd's error text.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request, Response
from fastapi.responses import JSONResponse

from edge_common.errors import BadRequest, EdgeError, from_wire
from edge_common.lineprotocol import precision_factor
from edge_common.retention import storage_name
from edge_common.schema import validate_database_name
from edge_gateway.auth import authorize
from edge_gateway.body import read_body
from edge_gateway.errors import error_response
from edge_gateway.state import gateway

__all__ = ["router"]

router = APIRouter()

_V2_PRECISIONS = {"ns", "us", "ms", "s"}
_V1_PRECISIONS = {"n", "ns", "u", "us", "µ", "ms", "s", "m", "h"}


def _flag(value: str | None, default: bool, name: str) -> bool:
    if value is None or value == "":
        return default
    lowered = value.lower()
    if lowered in ("true", "1", "yes"):
        return True
    if lowered in ("false", "0", "no"):
        return False
    raise BadRequest(f"invalid value {value!r} for {name}: use true or false")


async def _write(
    request: Request,
    db: str | None,
    precision: str,
    accept_partial: bool,
    no_sync: bool,
    rp: str | None = None,
    influxd: bool = False,
) -> dict[str, Any]:
    gw = gateway(request)
    if not db:
        raise BadRequest("missing database: give the db parameter")
    authorize(request, "write", db)
    validate_database_name(db)
    precision_factor(precision)
    body = await read_body(request, gw.settings.max_http_request_size)
    gw.counters["writeReqBytes"] += len(body)
    if not body.strip():
        if influxd:  # (influxd answers 204: no point, no error)
            return {"written": 0, "rejected": 0, "errors": []}
        raise BadRequest("the request body is empty: send line protocol")
    reply, _ = await gw.ingest.request(
        {
            "op": "write",
            "db": db,
            "precision": precision,
            "accept_partial": accept_partial,
            "no_sync": no_sync,
            "rp": rp,  # (1.x) the retention policy; None: the database's default
            "influxd": influxd,  # (1.x) refusals in influxd's words too
        },
        body,
    )
    if not reply.get("ok", True):
        raise from_wire(reply["error"])
    gw.counters["pointsWrittenOK"] += int(reply.get("written", 0))
    gw.counters["pointsWrittenFail"] += int(reply.get("rejected", 0))
    return reply


@router.post("/api/v3/write_lp")
async def write_v3(
    request: Request,
    db: str | None = None,
    precision: str = "auto",
    accept_partial: str | None = None,
    no_sync: str | None = None,
) -> Response:
    try:
        partial = _flag(accept_partial, True, "accept_partial")
        reply = await _write(request, db, precision, partial, _flag(no_sync, False, "no_sync"))
    except EdgeError as err:
        return error_response(err, "v3")
    if reply["rejected"]:
        if not partial:
            return JSONResponse(
                {"error": "parsing failed for write_lp endpoint", "data": reply["errors"][0]},
                status_code=400,
            )
        return JSONResponse(
            {"error": "partial write of line protocol occurred", "data": reply["errors"]},
            status_code=400,
        )
    return Response(status_code=204)


@router.post("/api/v2/write")
async def write_v2(
    request: Request, bucket: str | None = None, org: str | None = None, precision: str = "ns"
) -> Response:
    try:
        if precision not in _V2_PRECISIONS:
            raise BadRequest(f"invalid precision {precision!r}: use ns, us, ms or s")
        if not bucket:
            raise BadRequest("missing bucket: give the bucket parameter")
        reply = await _write(request, bucket, precision, False, False)
    except EdgeError as err:
        return error_response(err, "v2")
    if reply["rejected"]:
        first = reply["errors"][0]
        return JSONResponse(
            {
                "code": "invalid",
                "message": f"failed to parse line protocol: error at line "
                f"{first['line_number']}: {first['error_message']}",
            },
            status_code=400,
        )
    return Response(status_code=204)


@router.post("/write")
async def write_v1(
    request: Request, db: str | None = None, rp: str | None = None, precision: str = "ns"
) -> Response:
    try:
        if precision not in _V1_PRECISIONS:
            raise BadRequest(f"invalid precision {precision!r}: use n, u, ms, s, m or h")
        if not db:
            raise BadRequest("database is required")
        if rp:  # kept where edge_common.retention says (checked as a database name)
            validate_database_name(storage_name(db, rp))
        policy = None if rp in (None, "", "default") else rp
        unit = "ns" if precision == "n" else precision
        reply = await _write(request, db, unit, True, False, policy, influxd=True)
    except EdgeError as err:
        return error_response(err, "v1")
    if reply["rejected"]:
        return JSONResponse({"error": _influxd_error(reply)}, status_code=400)
    return Response(status_code=204)


def _influxd_error(reply: dict[str, Any]) -> str:
    """A 1.x write's refusals told as influxd 1.6.7 tells them: a line refused when stored
    (a field's type, a name, a retention policy) alone, with the count of such lines;
    otherwise every line that did not parse, one a line, marked a partial write (dropped=0:
    influxd counts only the points it drops when storing) when some point was stored."""
    said = [e["influxd"] for e in reply["errors"]]
    late = [s for s in said if s["late"]]
    if late:
        return f"partial write: {late[0]['reason']} dropped={reply['late']}"
    text = "\n".join(f"unable to parse '{s['line']}': {s['reason']}" for s in said)
    return f"partial write: {text} dropped=0" if reply["written"] else text
