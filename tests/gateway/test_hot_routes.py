"""The hot routes (edge_gateway.hot) are the app's own routes, reached another way (the
e2e tests, test_auth's table of every route among them, go through them on a real server)."""

from __future__ import annotations

import asyncio
from typing import Any

from edge_common.settings import Settings
from edge_gateway.app import create_app
from edge_gateway.hot import _ROUTES, HotRoutes
from tests.routes import api_routes


def test_each_hot_route_is_the_function_fastapi_calls() -> None:
    app = create_app(Settings())
    endpoints = {(m, r.path): r.endpoint for r in api_routes(list(app.routes)) for m in r.methods}
    for key, route in _ROUTES.items():
        assert endpoints.get(key) is route, f"{key} is not routed to {route.__name__} by FastAPI"


def _call(app: Any, method: str, path: str) -> tuple[list[dict[str, Any]], list[str]]:
    """Send one request through ``app``; what it sent back, and which app answered."""
    seen: list[str] = []
    sent: list[dict[str, Any]] = []

    async def inner(scope: Any, receive: Any, send: Any) -> None:
        seen.append(scope["path"])
        await send({"type": "http.response.start", "status": 299, "headers": []})
        await send({"type": "http.response.body", "body": b""})

    async def receive() -> dict[str, Any]:
        return {"type": "http.request", "body": b"", "more_body": False}

    async def send(message: dict[str, Any]) -> None:
        sent.append(message)

    hot = HotRoutes(app)
    hot.app = inner  # type: ignore[assignment]
    scope = {"type": "http", "method": method, "path": path, "query_string": b"", "headers": []}
    asyncio.run(hot(scope, receive, send))
    return sent, seen


def test_other_requests_go_to_fastapi() -> None:
    app = create_app(Settings())
    for method, path in [("PUT", "/query"), ("GET", "/query/"), ("GET", "/health")]:
        sent, seen = _call(app, method, path)
        assert seen == [path] and sent[0]["status"] == 299
