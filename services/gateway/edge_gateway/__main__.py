"""``python -m edge_gateway``: the HTTP server."""

from __future__ import annotations

import sys

import uvicorn

from edge_common.logs import setup_logging
from edge_common.memory import keep_freed_memory
from edge_common.settings import Settings
from edge_common.wire import Endpoints
from edge_gateway.app import create_app
from edge_gateway.flight.front import front_protocol
from edge_gateway.hot import HotRoutes


def main() -> int:
    settings = Settings()
    setup_logging(settings.log_level, "gateway")
    keep_freed_memory()  # edge_common.memory: arrays reuse pages
    app = HotRoutes(create_app(settings))  # writes and queries skip FastAPI's layers
    config = uvicorn.Config(
        app,
        host=settings.http_host,
        port=settings.http_port,
        # every connection is looked at once: gRPC goes to the Flight service, the rest here
        http="auto"
        if settings.http_only
        else front_protocol(Endpoints.for_data_dir(settings.data_dir).flight_socket),
        log_level="warning",
        access_log=False,
        timeout_graceful_shutdown=10,
        server_header=False,
    )
    uvicorn.Server(config).run()
    return 0


if __name__ == "__main__":
    sys.exit(main())
