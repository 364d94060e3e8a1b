"""``python -m edge_gateway``: the HTTP server."""

from __future__ import annotations

import sys

import uvicorn

from edge_common.logs import setup_logging
from edge_common.settings import Settings
from edge_gateway.app import create_app


def main() -> int:
    settings = Settings()
    setup_logging(settings.log_level, "gateway")
    app = create_app(settings)
    uvicorn.run(
        app,
        host=settings.http_host,
        port=settings.http_port,
        log_level="warning",
        access_log=False,
        timeout_graceful_shutdown=10,
        server_header=False,
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
