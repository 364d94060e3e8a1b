"""Clients for a pool of workers over ZeroMQ: one DEALER per worker, requests sent to the
worker with the fewest outstanding, answers matched to requests by id.

A worker that dies takes its outstanding requests with it: a socket monitor sees the
connection drop and fails them at once with 503 (not acknowledged); the supervisor's restart
re-binds the same address, to which the DEALER reconnects by itself.
"""

from __future__ import annotations

import asyncio
import itertools
import time
from collections.abc import AsyncGenerator
from typing import Any

import zmq
import zmq.asyncio
from zmq.utils.monitor import parse_monitor_message

from edge_common.errors import Unavailable
from edge_common.wire import pack, unpack
from edge_gateway.running import Running

__all__ = ["WorkerPool"]

# request ids: counted from the clock, so that a restarted gateway never reuses an id a
# worker may still remember (a cancelled request waiting in its queue, edge_query.cancel)
_ids = itertools.count(time.time_ns() // 1000)


class _Link:
    def __init__(self, ctx: zmq.asyncio.Context, endpoint: str, index: int) -> None:
        self.endpoint = endpoint
        self.index = index  # the worker's number
        self.sock = ctx.socket(zmq.DEALER)
        self.sock.setsockopt(zmq.LINGER, 0)
        self.monitor = self.sock.get_monitor_socket(zmq.EVENT_DISCONNECTED)
        self.sock.connect(endpoint)
        self.outstanding = 0
        self.waiting: dict[int, asyncio.Queue[tuple[dict[str, Any], list[Any]]]] = {}
        self.tasks: list[asyncio.Task[None]] = []

    async def watch_forever(self) -> None:
        """When the worker's connection drops, fail what it was handling."""
        while True:
            event = parse_monitor_message(await self.monitor.recv_multipart())
            if event["event"] == zmq.EVENT_DISCONNECTED:
                for q in self.waiting.values():
                    q.put_nowait(({"lost": True}, []))

    async def read_forever(self) -> None:
        while True:
            frames = await self.sock.recv_multipart(copy=False)
            header, payloads = unpack(frames)
            q = self.waiting.get(header.get("id", -1))
            if q is not None:
                q.put_nowait((header, payloads))


class WorkerPool:
    def __init__(
        self,
        ctx: zmq.asyncio.Context,
        endpoints: list[str],
        timeout_s: float,
        name: str,
        running: Running | None = None,
    ) -> None:
        self.links = [_Link(ctx, e, i) for i, e in enumerate(endpoints)]
        self.timeout_s = timeout_s
        self.name = name
        self.running = running  # the query pool's: the queries it is running

    def start(self) -> None:
        loop = asyncio.get_running_loop()
        for link in self.links:
            link.tasks = [
                loop.create_task(link.read_forever()),
                loop.create_task(link.watch_forever()),
            ]

    def close(self) -> None:
        for link in self.links:
            for task in link.tasks:
                task.cancel()
            link.sock.disable_monitor()
            link.monitor.close(0)
            link.sock.close(0)

    def _pick(self) -> _Link:
        return min(self.links, key=lambda link: link.outstanding)

    async def request(
        self,
        header: dict[str, Any],
        *payloads: bytes,
        link: _Link | None = None,
        timeout_s: float | None = None,
    ) -> tuple[dict[str, Any], list[Any]]:
        """Send one request and wait for its single answer."""
        async for reply in self.stream(header, *payloads, link=link, timeout_s=timeout_s):
            return reply
        raise Unavailable(f"no answer from the {self.name}")

    async def stream(
        self,
        header: dict[str, Any],
        *payloads: bytes,
        link: _Link | None = None,
        timeout_s: float | None = None,
    ) -> AsyncGenerator[tuple[dict[str, Any], list[Any]], None]:
        """Send one request and yield every message of its answer until the caller stops."""
        link = link or self._pick()
        rid = next(_ids)
        q: asyncio.Queue[tuple[dict[str, Any], list[Any]]] = asyncio.Queue()
        link.waiting[rid] = q
        link.outstanding += 1
        qid = None
        if self.running is not None:
            qid, header = self.running.begin(header, link.index, rid)
        try:
            await link.sock.send_multipart(pack({**header, "id": rid}, *payloads), copy=False)
            while True:
                try:  # (asyncio.timeout: wait_for made a task per message)
                    async with asyncio.timeout(timeout_s or self.timeout_s):
                        reply, frames = await q.get()
                except TimeoutError:
                    if self.running is not None:  # no one will read its answer: stop it
                        self.running.cancel(qid)
                    raise Unavailable(
                        f"the {self.name} did not answer within "
                        f"{timeout_s or self.timeout_s:.0f} s; the write or query may be retried"
                    ) from None
                if reply.get("lost"):
                    raise Unavailable(
                        f"the {self.name} stopped before answering; the request was not "
                        "acknowledged and may be retried"
                    )
                yield reply, frames
        finally:
            link.outstanding -= 1
            link.waiting.pop(rid, None)
            if self.running is not None:
                self.running.end(qid)

    async def ping_all(self, timeout_s: float = 2.0) -> list[dict[str, Any] | None]:
        """Each worker's answer to a ping (its status), or ``None`` when it did not answer."""

        async def one(link: _Link) -> dict[str, Any] | None:
            try:
                reply, _ = await self.request({"op": "ping"}, link=link, timeout_s=timeout_s)
            except Unavailable:
                return None
            return reply

        return list(await asyncio.gather(*(one(link) for link in self.links)))
