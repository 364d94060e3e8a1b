"""The routes clients call many times a second (writes, queries, ping), reached without
FastAPI's middleware, routing and dependency solving.

Profiled (py-spy, one host's hour asked 4,000 times): FastAPI's layers were half of the
gateway's time per query, more than the route's own work. Here a (method, path) lookup
finds the same route function FastAPI would call; the caller is authenticated by the same
``authenticate``; an ``EdgeError`` gets the same answer as the app's handler gives. Any
other request (another method, a trailing slash, an unknown path) goes to FastAPI
unchanged.
"""

from __future__ import annotations

import inspect
import logging
import time
from collections import Counter
from collections.abc import Awaitable, Callable
from typing import Any

from fastapi import FastAPI, Request, Response
from fastapi.responses import PlainTextResponse

from edge_common.errors import EdgeError
from edge_gateway.auth import authenticate
from edge_gateway.errors import api_of, error_response
from edge_gateway.routes import query, system, v1, write

__all__ = ["HotRoutes"]

log = logging.getLogger(__name__)

Route = Callable[..., Awaitable[Response]]
Handler = Callable[[Request], Awaitable[Response]]

_KINDS = {  # the httpd counter of each kind of request
    "/write": "writeReq",
    "/api/v2/write": "writeReq",
    "/api/v3/write_lp": "writeReq",
    "/query": "queryReq",
    "/api/v3/query_sql": "queryReq",
    "/api/v3/query_influxql": "queryReq",
    "/ping": "pingReq",
}

_ROUTES: dict[tuple[str, str], Route] = {
    ("GET", "/ping"): system.ping,
    ("HEAD", "/ping"): system.ping,
    ("POST", "/write"): write.write_v1,
    ("POST", "/api/v2/write"): write.write_v2,
    ("POST", "/api/v3/write_lp"): write.write_v3,
    ("GET", "/query"): v1.query_v1,
    ("POST", "/query"): v1.query_v1,
    ("GET", "/api/v3/query_influxql"): v1.query_influxql,
    ("POST", "/api/v3/query_influxql"): v1.query_influxql,
    ("GET", "/api/v3/query_sql"): query.query_sql_get,
    ("POST", "/api/v3/query_sql"): query.query_sql_post,
}


def _handler(route: Route) -> Handler:
    """Call ``route`` as FastAPI would: ``request`` by name, every other parameter from the
    query string (each is an optional text; the last of repeated values, as FastAPI takes)."""
    params = inspect.signature(route).parameters
    named: list[tuple[str, Any]] = []
    for name, param in params.items():
        if name == "request":
            continue
        if param.annotation not in ("str | None", "str") or param.default is param.empty:
            raise TypeError(f"{route.__name__}({name}): only optional text parameters here")
        named.append((name, param.default))
    wants_request = "request" in params

    async def handle(request: Request) -> Response:
        args: dict[str, Any] = {}
        if named:
            given = request.query_params
            args = {name: given.get(name, default) for name, default in named}
        if wants_request:
            args["request"] = request
        return await route(**args)

    return handle


class HotRoutes:
    """ASGI app: the hot routes directly, everything else through ``app``."""

    def __init__(self, app: FastAPI) -> None:
        self.app = app
        self.routes = {key: _handler(route) for key, route in _ROUTES.items()}
        self.counters: Counter[str] = app.state.counters  # edge_gateway.stats

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        # influxd's httpd statistics (edge_gateway.stats), for every request
        counters = self.counters
        kind = _KINDS.get(scope["path"])
        counters["req"] += 1
        counters["reqActive"] += 1
        if kind is not None:
            counters[kind] += 1
        started = time.monotonic_ns()
        status = 500
        try:
            status = await self._answer(scope, receive, send)
        finally:
            counters["reqActive"] -= 1
            counters["reqDurationNs"] += time.monotonic_ns() - started
            if status >= 500:
                counters["serverError"] += 1
            elif status >= 400:
                counters["clientError"] += 1

    async def _answer(self, scope: Any, receive: Any, send: Any) -> int:
        """Answer the request; return its status."""
        handle = self.routes.get((scope["method"], scope["path"]))
        if handle is None:
            status = 500

            async def sending(message: Any) -> None:
                nonlocal status
                if message["type"] == "http.response.start":
                    status = message["status"]
                await send(message)

            await self.app(scope, receive, sending)
            return status
        scope["app"] = self.app  # what FastAPI sets: routes find the gateway's state by it
        request = Request(scope, receive)
        try:
            await authenticate(request)
            response = await handle(request)
        except EdgeError as err:
            response = error_response(err, api_of(scope["path"]))
        except Exception:
            # as Starlette's ServerErrorMiddleware: a plain 500, the error to the log
            log.exception("unhandled error in %s %s", scope["method"], scope["path"])
            response = PlainTextResponse("Internal Server Error", status_code=500)
        await response(scope, receive, send)
        return response.status_code
