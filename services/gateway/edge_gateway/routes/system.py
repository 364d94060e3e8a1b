"""``/health``, ``/ping``, and the statistics: ``/metrics`` (Prometheus) and
``/debug/vars`` (influxd's, for Telegraf's ``influxdb`` input)."""

from __future__ import annotations

import asyncio

from fastapi import APIRouter, Request, Response
from fastapi.responses import JSONResponse, PlainTextResponse

from edge_common import __version__
from edge_gateway.auth import require_admin
from edge_gateway.state import gateway
from edge_gateway.stats import collect, debug_vars, prometheus

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
                "shared": status.get("shared"),  # with the query workers (tmpfs)
            },
        }
    )


@router.api_route("/ping", methods=["GET", "HEAD"])
async def ping() -> Response:
    return Response(status_code=204, headers=_PING_HEADERS)


@router.get("/metrics")
async def metrics(request: Request) -> Response:
    """The admin token's, unless ``--disable-authz metrics`` opens it (as InfluxDB 3)."""
    require_admin(request)
    text = prometheus(await collect(gateway(request)))
    return PlainTextResponse(text, media_type="text/plain; version=0.0.4")


@router.get("/debug/vars")
async def vars_(request: Request) -> Response:
    require_admin(request)
    return JSONResponse(debug_vars(await collect(gateway(request))))
