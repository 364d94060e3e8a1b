"""``/api/v3/query_sql``: SQL over HTTP, streamed in the format asked for."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import orjson
from fastapi import APIRouter, Request, Response
from fastapi.responses import StreamingResponse

from edge_common.errors import BadRequest, EdgeError, from_wire
from edge_gateway.auth import principal
from edge_gateway.body import read_body
from edge_gateway.errors import error_response, query_error_response
from edge_gateway.pool import next_piece
from edge_gateway.queries import choose_format, query_request
from edge_gateway.state import gateway

__all__ = ["router"]

router = APIRouter()


async def run_query(
    request: Request, db: Any, q: Any, fmt: Any, params: Any, language: str
) -> Response:
    try:
        if not db:
            raise BadRequest("missing database: give the db parameter")
        if not q:
            raise BadRequest("missing query: give the q parameter")
        chosen = choose_format(fmt, request.headers.get("accept", ""))
        header = query_request(principal(request), str(db), str(q), language, chosen, params)
    except EdgeError as err:
        return error_response(err, "v3")
    return await stream_query(request, header, "v3")


async def stream_query(request: Request, header: dict[str, Any], api: str) -> Response:
    """Send a query to a worker; answer its error, or its answer: whole (with its length)
    when it came in one piece, which is most answers, else streamed as it comes."""
    gw = gateway(request)
    stream = gw.query.stream(header)
    try:
        head, payloads = await stream.__anext__()
        if not head.get("ok"):
            raise from_wire(head["error"])
        if head.get("access_changed"):  # (CREATE USER, REVOKE, …: in force from now on)
            await gw.auth.tokens.refresh(force=True)
        media = head["content_type"]
        if head.get("whole"):  # the answer in the same message
            await stream.aclose()
            return Response(bytes(payloads[0]), media_type=media)
        first = await next_piece(stream)
        if first is None:  # the end already
            await stream.aclose()
            return Response(b"", media_type=media)
        second = await next_piece(stream)
        if second is None:
            await stream.aclose()
            return Response(first, media_type=media)
    except EdgeError as err:
        await stream.aclose()
        return query_error_response(err, api, header.get("format"))

    async def body() -> AsyncIterator[bytes]:
        try:
            yield first
            yield second
            while (piece := await next_piece(stream)) is not None:
                yield piece
        finally:
            await stream.aclose()

    return StreamingResponse(body(), media_type=media)


async def control_query(request: Request, header: dict[str, Any], api: str) -> Response:
    """SHOW QUERIES / KILL QUERY alone: answered by a query worker's control thread, free
    even while every worker runs a query (``running.Running.answer``)."""
    running = gateway(request).query.running
    assert running is not None
    try:
        head, payloads = await running.answer(header)
        if not head.get("ok"):
            raise from_wire(head["error"])
    except EdgeError as err:
        return query_error_response(err, api, header.get("format"))
    return Response(bytes(payloads[0]), media_type=head["content_type"])


@router.get("/api/v3/query_sql")
async def query_sql_get(
    request: Request,
    db: str | None = None,
    q: str | None = None,
    format: str | None = None,
    params: str | None = None,
) -> Response:
    return await run_query(request, db, q, format, params, "sql")


@router.post("/api/v3/query_sql")
async def query_sql_post(request: Request) -> Response:
    gw = gateway(request)
    try:
        raw = await read_body(request, gw.settings.max_http_request_size)
        try:
            doc = orjson.loads(raw) if raw else {}
        except orjson.JSONDecodeError as err:
            raise BadRequest(f"the request body is not valid JSON: {err}") from None
        if not isinstance(doc, dict):
            raise BadRequest("the request body must be a JSON object {db, q, format, params}")
    except EdgeError as err:
        return error_response(err, "v3")
    qp = request.query_params
    return await run_query(
        request,
        doc.get("db", qp.get("db")),
        doc.get("q", qp.get("q")),
        doc.get("format", qp.get("format")),
        doc.get("params"),
        "sql",
    )
