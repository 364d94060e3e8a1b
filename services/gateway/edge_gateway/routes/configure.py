"""``/api/v3/configure/token``: named tokens, managed with the admin token only.

A new token is generated here and returned once; only its SHA-512 hash is stored.
"""

from __future__ import annotations

import time
from typing import Any

import orjson
from fastapi import APIRouter, Request, Response
from fastapi.responses import JSONResponse

from edge_common.auth import TokenRecord, hash_token, new_token, parse_permission
from edge_common.errors import BadRequest, from_wire
from edge_gateway.auth import require_admin
from edge_gateway.body import read_body
from edge_gateway.state import gateway

__all__ = ["router"]

router = APIRouter()

_PATH = "/api/v3/configure/token"


def _public(record: TokenRecord) -> dict[str, Any]:
    return {
        "name": record.name,
        "permissions": [str(p) for p in record.permissions],
        "created_ns": record.created_ns,
        "expires_ns": record.expires_ns,
    }


async def _call(request: Request, header: dict[str, Any]) -> dict[str, Any]:
    reply, _ = await gateway(request).persister.request(header)
    if not reply.get("ok", True):
        raise from_wire(reply["error"])
    return reply


@router.post(_PATH)
async def create_token(request: Request) -> Response:
    require_admin(request)
    raw = await read_body(request, 65536)
    try:
        doc = orjson.loads(raw)
    except orjson.JSONDecodeError as err:
        raise BadRequest(f"the request body is not valid JSON: {err}") from None
    if not isinstance(doc, dict) or not isinstance(doc.get("name"), str):
        raise BadRequest(
            'expected {"name": …, "permissions": ["db:<db or *>:<read|write>"], '
            '"expiry_secs": optional}'
        )
    perms = doc.get("permissions") or []
    if not isinstance(perms, list) or not perms:
        raise BadRequest("a named token needs at least one permission, e.g. db:mydb:read")
    expiry = doc.get("expiry_secs")
    if expiry is not None and (not isinstance(expiry, int) or expiry <= 0):
        raise BadRequest("expiry_secs must be a positive whole number of seconds")
    now = time.time_ns()
    token = new_token()
    record = TokenRecord(
        doc["name"],
        hash_token(token),
        [parse_permission(str(p)) for p in perms],
        now,
        None if expiry is None else now + expiry * 1_000_000_000,
    )
    await _call(request, {"op": "token_create", "token": record.to_json()})
    await gateway(request).auth.tokens.refresh(force=True)
    return JSONResponse({**_public(record), "token": token}, status_code=201)


@router.get(_PATH)
async def list_tokens(request: Request) -> Response:
    require_admin(request)
    reply = await _call(request, {"op": "tokens"})
    return JSONResponse([_public(TokenRecord.from_json(t)) for t in reply["tokens"]])


@router.delete(_PATH)
async def delete_token(request: Request, name: str | None = None) -> Response:
    require_admin(request)
    if not name:
        raise BadRequest("give the name of the token to delete: ?name=")
    await _call(request, {"op": "token_delete", "name": name})
    await gateway(request).auth.tokens.refresh(force=True)
    return Response(status_code=204)
