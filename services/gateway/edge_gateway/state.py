"""What the routes share: settings and the worker pools (built by the app's lifespan)."""

from __future__ import annotations

from dataclasses import dataclass

from fastapi import Request

from edge_common.settings import Settings
from edge_gateway.auth import Authenticator
from edge_gateway.pool import WorkerPool

__all__ = ["Gateway", "gateway"]


@dataclass
class Gateway:
    settings: Settings
    ingest: WorkerPool
    query: WorkerPool
    persister: WorkerPool
    auth: Authenticator


def gateway(request: Request) -> Gateway:
    gw: Gateway = request.app.state.gateway
    return gw
