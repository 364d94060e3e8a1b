"""Reading request bodies: size limit (413) before and after gzip decoding."""

from __future__ import annotations

import zlib

from fastapi import Request

from edge_common.errors import BadRequest, PayloadTooLarge

__all__ = ["read_body"]


def _too_large(limit: int) -> PayloadTooLarge:
    return PayloadTooLarge(
        f"the request body exceeds the limit of {limit} bytes (--max-http-request-size)"
    )


async def read_body(request: Request, limit: int) -> bytes:
    declared = request.headers.get("content-length")
    if declared is not None and declared.isdigit() and int(declared) > limit:
        raise _too_large(limit)
    parts: list[bytes] = []
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            raise _too_large(limit)
        parts.append(chunk)
    body = b"".join(parts)
    if request.headers.get("content-encoding", "").lower() == "gzip":
        d = zlib.decompressobj(wbits=16 + zlib.MAX_WBITS)
        try:
            body = d.decompress(body, limit + 1)
        except zlib.error as err:
            raise BadRequest(f"the gzip request body could not be decoded: {err}") from None
        if len(body) > limit or d.unconsumed_tail:
            raise _too_large(limit)
    return body
