"""What the routes share: settings and the worker pools (built by the app's lifespan)."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field

from fastapi import Request

from edge_common.settings import Settings
from edge_gateway.auth import Authenticator
from edge_gateway.inline import InlineQueries
from edge_gateway.pool import WorkerPool
from edge_gateway.stats import new_counters

__all__ = ["Gateway", "gateway"]


@dataclass
class Gateway:
    settings: Settings
    ingest: WorkerPool
    query: WorkerPool
    persister: WorkerPool
    auth: Authenticator
    counters: Counter[str] = field(default_factory=new_counters)  # edge_gateway.stats, httpd
    inline: InlineQueries | None = None  # small SELECTs answered here (edge_gateway.inline)


def gateway(request: Request) -> Gateway:
    gw: Gateway = request.app.state.gateway
    return gw
