"""``/health`` and ``/ping``."""

from __future__ import annotations

import asyncio

from fastapi import APIRouter, Request, Response
from fastapi.responses import JSONResponse

from edge_common import __version__
from edge_gateway.state import gateway

__all__ = ["router"]

router = APIRouter()

_PING_HEADERS = {"X-Influxdb-Version": f"edge-{__version__}", "X-Influxdb-Build": "Edge"}


@router.get("/health")
async def health(request: Request) -> Response:
    gw = gateway(request)
    ingest, query, persister = await asyncio.gather(
        gw.ingest.ping_all(), gw.query.ping_all(), gw.persister.ping_all()
    )
    processes = {
        **{f"ingest-{i}": r is not None for i, r in enumerate(ingest)},
        **{f"query-{i}": r is not None for i, r in enumerate(query)},
        "persister": persister[0] is not None,
    }
    missing = sorted(name for name, ok in processes.items() if not ok)
    if missing:
        return JSONResponse(
            {
                "status": "fail",
                "missing": missing,
                "message": f"not answering: {', '.join(missing)}",
            },
            status_code=503,
        )
    status = persister[0] or {}
    return JSONResponse(
        {
            "status": "pass",
            "version": __version__,
            "processes": processes,
            "persist_events": status.get("persist_events"),
            "buffer": {
                "tables": status.get("tables"),
                "rows": status.get("rows"),
                "bytes": status.get("buffered_bytes"),
            },
        }
    )


@router.api_route("/ping", methods=["GET", "HEAD"])
async def ping() -> Response:
    return Response(status_code=204, headers=_PING_HEADERS)
