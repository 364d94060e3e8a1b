"""InfluxQL over HTTP: the 1.x ``/query`` API (GET and POST, JSON or CSV) and
``/api/v3/query_influxql`` (the v3 formats)."""

from __future__ import annotations

from urllib.parse import parse_qs

from fastapi import APIRouter, Request, Response

from edge_common.errors import BadRequest, EdgeError
from edge_gateway.auth import principal
from edge_gateway.body import read_body
from edge_gateway.errors import error_response, query_error_response
from edge_gateway.queries import choose_format, query_request
from edge_gateway.routes.query import control_query, stream_query
from edge_gateway.state import gateway
from edge_gateway.stats import asked, collect

__all__ = ["router"]

router = APIRouter()

_EPOCHS = {"ns", "n", "u", "µ", "us", "ms", "s", "m", "h"}


async def _form(request: Request) -> dict[str, str]:
    """Query parameters, overlaid by a form body or a raw ``application/vnd.influxql`` body."""
    values = {k: v for k, v in request.query_params.items()}
    if request.method != "POST":
        return values
    body = await read_body(request, 1 << 24)
    kind = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if kind == "application/vnd.influxql":
        values["q"] = body.decode()
    elif body:
        for k, v in parse_qs(body.decode(), keep_blank_values=True).items():
            values[k] = v[-1]
    return values


async def _influxql(request: Request, values: dict[str, str], fmt: str, api: str) -> Response:
    q = values.get("q")
    if not q:
        raise BadRequest('missing required parameter "q"')
    db = values.get("db") or None
    header = query_request(principal(request), db, q, "influxql", fmt, values.get("params"))
    if db and values.get("rp") not in (None, "", "default"):
        header["rp"] = values["rp"]  # the retention policy a FROM without one reads
    header |= {
        "epoch": values.get("epoch") or None,
        "pretty": values.get("pretty") == "true",
        "chunked": values.get("chunked") == "true",
        "chunk_size": int(values.get("chunk_size") or 10_000),
        # influxd warns about a statement that changes something sent with GET
        "read_only": request.method == "GET" and api == "v1",
    }
    if header["epoch"] and header["epoch"] not in _EPOCHS:
        raise BadRequest(f"invalid epoch {header['epoch']!r}: use ns, u, ms, s, m or h")
    gw = gateway(request)
    if asked(header):  # SHOW STATS: the group's statistics, gathered here
        header["stats"] = await collect(gw)
    if gw.query.running is not None and gw.query.running.takes(header):
        return await control_query(request, header, api)
    # answered here only when nothing else is in hand (reqActive counts this request):
    # with more at once, the query workers' cores share them and writes do not wait
    alone = gw.counters["reqActive"] <= 1
    if alone and gw.inline is not None and (answer := gw.inline.answer(header)) is not None:
        media, body = answer
        return Response(body, media_type=media)
    return await stream_query(request, header, api)


@router.api_route("/query", methods=["GET", "POST"])
async def query_v1(request: Request) -> Response:
    accept = request.headers.get("accept", "")
    fmt = "v1csv" if "application/csv" in accept or "text/csv" in accept else "v1json"
    try:
        values = await _form(request)
        return await _influxql(request, values, fmt, "v1")
    except EdgeError as err:
        return query_error_response(err, "v1", fmt)


@router.api_route("/api/v3/query_influxql", methods=["GET", "POST"])
async def query_influxql(request: Request) -> Response:
    try:
        if request.method == "POST":
            import orjson

            raw = await read_body(request, 1 << 24)
            try:
                doc = orjson.loads(raw) if raw else {}
            except orjson.JSONDecodeError as err:
                raise BadRequest(f"the request body is not valid JSON: {err}") from None
            values = {**request.query_params, **{k: v for k, v in doc.items() if k != "params"}}
            if "params" in doc:
                values["params"] = orjson.dumps(doc["params"]).decode()
        else:
            values = dict(request.query_params)
        if not values.get("db"):
            raise BadRequest("missing database: give the db parameter")
        fmt = choose_format(values.get("format"), request.headers.get("accept", ""))
        return await _influxql(request, values, fmt, "v3")
    except EdgeError as err:
        return error_response(err, "v3")
