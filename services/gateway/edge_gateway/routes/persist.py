"""``POST /api/v3/flush``: persist everything buffered, answer when it is durable."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse

from edge_common.errors import from_wire
from edge_gateway.auth import require_admin
from edge_gateway.state import gateway

__all__ = ["router"]

router = APIRouter()

_FLUSH_TIMEOUT_S = 600.0


@router.post("/api/v3/flush")
async def flush(request: Request) -> JSONResponse:
    require_admin(request)
    reply, _ = await gateway(request).persister.request({"op": "flush"}, timeout_s=_FLUSH_TIMEOUT_S)
    if not reply.get("ok", True):
        raise from_wire(reply["error"])
    files = reply["files"]
    return JSONResponse(
        {
            "snapshot_seq": reply["snapshot_seq"],
            "files": len(files),
            "rows": sum(f["row_count"] for f in files),
            "bytes": sum(f["size_bytes"] for f in files),
        }
    )
