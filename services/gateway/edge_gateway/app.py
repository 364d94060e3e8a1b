"""The ASGI application: routes, the lifespan that opens worker pools, error handlers."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import Depends, FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse

from edge_common import __version__
from edge_common.errors import EdgeError
from edge_common.settings import Settings
from edge_common.wire import Endpoints
from edge_gateway.auth import Authenticator, FailureLimiter, TokenCache, authenticate
from edge_gateway.continuous import ContinuousQuerier
from edge_gateway.errors import api_of, error_response
from edge_gateway.flight.service import FlightService
from edge_gateway.inline import InlineQueries
from edge_gateway.pool import WorkerPool
from edge_gateway.routes import configure, persist, query, system, v1, write
from edge_gateway.running import Running
from edge_gateway.state import Gateway
from edge_gateway.stats import new_counters

__all__ = ["create_app"]


def start_flight(
    settings: Settings,
    endpoints: Endpoints,
    gw: Gateway,
    loop: asyncio.AbstractEventLoop,
    timeout_s: float,
) -> list[FlightService]:
    """The Flight service on its unix socket (reached through the HTTP port) and, when
    asked for, on ``--flight-bind``."""
    endpoints.prepare()
    sock = endpoints.flight_socket
    sock.unlink(missing_ok=True)
    servers = [FlightService(f"grpc+unix://{sock}", gw, loop, timeout_s)]
    if settings.flight_bind:
        host, _, port = settings.flight_bind.rpartition(":")
        location = f"grpc+tcp://{host.strip('[]')}:{port}"
        servers.append(FlightService(location, gw, loop, timeout_s))
    return servers


def create_app(settings: Settings) -> FastAPI:
    endpoints = Endpoints.for_data_dir(settings.data_dir)
    counters = new_counters()  # httpd statistics: counted by HotRoutes, kept on the Gateway

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        timeout = settings.request_timeout_ms / 1000
        ingest_eps = [endpoints.ingest(i) for i in range(settings.ingest_workers)]
        query_eps = [endpoints.query(i) for i in range(settings.query_workers)]
        persister = WorkerPool([endpoints.persister], timeout, "persister")
        running = Running()  # SHOW QUERIES, KILL QUERY: the queries workers run
        controls = [endpoints.query_control(i) for i in range(settings.query_workers)]
        running.control = WorkerPool(controls, timeout, "query worker's control thread")
        gw = Gateway(
            settings,
            WorkerPool(ingest_eps, timeout, "ingest worker"),
            WorkerPool(query_eps, timeout, "query worker", running),
            persister,
            Authenticator(
                settings,
                TokenCache(persister),
                FailureLimiter(settings.auth_max_failures, settings.auth_failure_window_s),
            ),
            counters,
            InlineQueries(settings, persister, running),
        )
        app.state.gateway = gw
        flights = start_flight(settings, endpoints, gw, asyncio.get_running_loop(), timeout)
        querier = asyncio.create_task(ContinuousQuerier(persister, gw.query).run())
        try:
            yield
        finally:
            querier.cancel()
            loop = asyncio.get_running_loop()
            for server in flights:  # shutdown waits for calls, which need this loop: not here
                await loop.run_in_executor(None, server.shutdown)
            for pool in (gw.ingest, gw.query, gw.persister, running.control):
                pool.close()
            if gw.inline is not None:
                gw.inline.close()

    # one place decides who may call anything: every route, including ones added later
    app = FastAPI(
        title="Edge",
        version=__version__,
        lifespan=lifespan,
        docs_url=None,
        redoc_url=None,
        openapi_url=None,
        dependencies=[Depends(authenticate)],
    )
    app.state.counters = counters

    @app.exception_handler(EdgeError)
    async def _edge_error(request: Request, exc: EdgeError) -> JSONResponse:
        return error_response(exc, api_of(request.url.path))

    @app.exception_handler(RequestValidationError)
    async def _invalid(request: Request, exc: RequestValidationError) -> JSONResponse:
        problems = "; ".join(f"{'.'.join(map(str, e['loc']))}: {e['msg']}" for e in exc.errors())
        return JSONResponse({"error": f"invalid request: {problems}"}, status_code=400)

    app.include_router(write.router)
    app.include_router(query.router)
    app.include_router(system.router)
    app.include_router(configure.router)
    app.include_router(persist.router)
    app.include_router(v1.router)
    return app
